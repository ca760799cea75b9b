//! Precomputed per-model lookup kernels: the TG-43U1 dose rate relative to S_K·Λ, times r²,
//! tabulated in polar coordinates (r, θ) around the seed and read back by bilinear
//! interpolation (then divided by r²).
//!
//! θ is tabulated every 0.25° from 0° to 90° (the dose is symmetric about the transverse plane,
//! F(r, θ) = F(r, 180° − θ)); r on a stack of uniform levels, finest near the source:
//!
//! | level | r spacing | covers r < |
//! |---|---|---|
//! | 0 | 0.01 mm | 5 mm |
//! | 1 | 0.5 mm | 40 mm |
//! | 2 | 2.5 mm | 200 mm |
//! | 3 | 5 mm | 1000 mm |
//!
//! and a point beyond 1 m is evaluated directly. Polar nodes are chosen so that every kink of
//! the piecewise-linear published tables (radii that are multiples of 0.05 cm up to 0.5 cm, of
//! 0.05 cm up to 4 cm and of 0.25 cm up to 20 cm; angles that are multiples of 5°) falls on a
//! kernel node: inside a kernel cell g_L is linear and F bilinear, and the geometry factor times
//! r² is nearly constant away from the source, so the tables are small (the levels used for
//! r ≥ 5 mm hold 110 000 values, which stay in the processor cache) and the interpolation
//! error is small. The error against the direct formalism is measured in `tests/it/grid.rs`.
//!
//! The polar angle is computed with a polynomial arctangent (error < 1e-5 rad, tested), which is
//! what keeps a lookup cheap enough for millions of voxels per seed.

use crate::SeedModel;
use crate::tg43::{
    Formalism, NEAR_SOURCE_DISTANCE, near_source_evaluation_point, relative_dose_rate_cyl, relative_dose_rate_raw,
};
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Angular step of every level, degrees.
const THETA_STEP_DEG: f64 = 0.25;
/// Angular nodes 0°, 0.25°, …, 90°, plus one pad so that θ = 90° reads a full cell.
const N_THETA: usize = 362;
/// The levels (r spacing mm, extent mm) of every kernel.
const LEVELS: [(f64, f64); 4] = [(0.01, 5.0), (0.5, 40.0), (2.5, 200.0), (5.0, 1000.0)];

/// Kernels tabulated so far in this process, most recent last (at most [`CACHED_KERNELS`]).
static TABULATED: Mutex<Vec<DoseKernel>> = Mutex::new(Vec::new());
/// Kernels kept by [`DoseKernel::new`]: a few seed models × two formalisms.
const CACHED_KERNELS: usize = 8;

/// One level: `n_r × N_THETA` nodes, `data[ir·N_THETA + iθ]`.
#[derive(Clone, Debug)]
struct Level {
    inv_h: f32,
    extent: f32,
    data: Vec<f32>,
}

/// A lookup kernel for one seed model and formalism (module docs).
#[derive(Clone, Debug)]
pub struct DoseKernel {
    model: SeedModel,
    formalism: Formalism,
    /// Shared between the copies the process-wide cache hands out (read-only).
    levels: Arc<Vec<Level>>,
    /// Points nearer than this (mm) to the centre may be in the near-source region.
    near_source_reach_mm: f32,
}

impl DoseKernel {
    /// The kernel of `model` for `formalism`: tabulated once per process ([`DoseKernel::tabulate`])
    /// and then shared, since tabulating costs about 300 000 evaluations of the formalism and a
    /// planner asks for the same kernel on every dose grid (a whole-trial `cryoseed demo` spent
    /// 14 % of its time re-tabulating). The copies share the read-only tables.
    pub fn new(model: &SeedModel, formalism: Formalism) -> DoseKernel {
        let cache = |cache: &[DoseKernel]| -> Option<DoseKernel> {
            cache.iter().find(|k| k.formalism == formalism && k.model == *model).cloned()
        };
        if let Some(k) = cache(&TABULATED.lock().unwrap_or_else(|e| e.into_inner())) {
            return k;
        }
        let kernel = DoseKernel::tabulate(model, formalism);
        let mut tabulated = TABULATED.lock().unwrap_or_else(|e| e.into_inner());
        if cache(&tabulated).is_none() {
            if tabulated.len() >= CACHED_KERNELS {
                tabulated.remove(0);
            }
            tabulated.push(kernel.clone());
        }
        kernel
    }

    /// Tabulates the kernel of `model` for `formalism` (about 300 000 direct evaluations, done in
    /// parallel), without the process-wide cache of [`DoseKernel::new`].
    pub fn tabulate(model: &SeedModel, formalism: Formalism) -> DoseKernel {
        let levels = LEVELS
            .iter()
            .map(|&(h, extent)| {
                let n_r = (extent / h).round() as usize + 2;
                let mut data = vec![0f32; n_r * N_THETA];
                data.par_chunks_mut(N_THETA).enumerate().for_each(|(ir, row)| {
                    let r_cm = ir as f64 * h / 10.0;
                    for (it, v) in row.iter_mut().enumerate() {
                        let theta = (it as f64 * THETA_STEP_DEG).min(90.0).to_radians();
                        let (s, c) = theta.sin_cos();
                        // The formalism itself, also inside the near-source region, so that cells
                        // straddling its boundary interpolate a smooth function; lookups move
                        // points in that region to its boundary first, as the direct form does.
                        // Only on the active line itself (never looked up) is it infinite.
                        let raw = relative_dose_rate_raw(model, formalism, r_cm * s, r_cm * c);
                        let value = if raw.is_finite() && raw < 1e6 {
                            raw
                        } else {
                            relative_dose_rate_cyl(model, formalism, r_cm * s, r_cm * c)
                        };
                        let r_mm = ir as f64 * h;
                        *v = (value * r_mm * r_mm) as f32;
                    }
                });
                Level { inv_h: (1.0 / h) as f32, extent: extent as f32, data }
            })
            .collect::<Vec<_>>();
        let reach_cm = match formalism {
            Formalism::Line => model.active_length().0 / 2.0 + NEAR_SOURCE_DISTANCE.0,
            Formalism::Point => NEAR_SOURCE_DISTANCE.0,
        };
        DoseKernel {
            model: model.clone(),
            formalism,
            levels: Arc::new(levels),
            near_source_reach_mm: (reach_cm * 10.0) as f32,
        }
    }

    /// The model this kernel tabulates.
    pub fn model(&self) -> &SeedModel {
        &self.model
    }

    /// The formalism this kernel tabulates.
    pub fn formalism(&self) -> Formalism {
        self.formalism
    }

    /// Dose rate relative to S_K·Λ at (ρ, |z|) mm from the seed centre (ρ ≥ 0 off the axis,
    /// z along it), with the near-source rule of [`crate::tg43`].
    #[inline]
    pub fn lookup(&self, rho_mm: f32, z_abs_mm: f32) -> f32 {
        let r = (rho_mm * rho_mm + z_abs_mm * z_abs_mm).sqrt();
        self.lookup_with_r(rho_mm, z_abs_mm, r)
    }

    /// [`DoseKernel::lookup`] with r = √(ρ² + z²) already known.
    #[inline]
    pub(crate) fn lookup_with_r(&self, rho_mm: f32, z_abs_mm: f32, r: f32) -> f32 {
        if r < self.near_source_reach_mm {
            let (rho, z) = near_source_evaluation_point(
                &self.model,
                self.formalism,
                f64::from(rho_mm) / 10.0,
                f64::from(z_abs_mm) / 10.0,
            );
            let (rho, z) = ((rho * 10.0) as f32, (z * 10.0) as f32);
            return self.lookup_polar((rho * rho + z * z).sqrt(), polar_angle(rho, z));
        }
        self.lookup_polar(r, polar_angle(rho_mm, z_abs_mm))
    }

    /// [`DoseKernel::lookup`] for the grid loops: (ρ, |z|) and r² = ρ² + z² in mm, one division.
    #[inline]
    pub(crate) fn lookup_cyl(&self, rho_mm: f32, z_abs_mm: f32, r2: f32) -> f32 {
        let r = r2.sqrt();
        if r < self.near_source_reach_mm {
            return self.lookup_with_r(rho_mm, z_abs_mm, r);
        }
        let (lo, hi) = if rho_mm <= z_abs_mm { (rho_mm, z_abs_mm) } else { (z_abs_mm, rho_mm) };
        // hi ≥ r/√2 > 0 here; one reciprocal gives both lo/hi and 1/r².
        let q = 1.0 / (hi * r2);
        let a = atan_unit(lo * r2 * q);
        let theta = if rho_mm <= z_abs_mm { a } else { std::f32::consts::FRAC_PI_2 - a };
        self.lookup_polar_scaled(r, theta) * (hi * q)
    }

    /// Dose rate relative to S_K·Λ at distance `r_mm` (outside the near-source region, so at
    /// least 0.5 mm) and polar angle `theta_rad` in 0…π/2.
    #[inline]
    fn lookup_polar(&self, r_mm: f32, theta_rad: f32) -> f32 {
        self.lookup_polar_scaled(r_mm, theta_rad) / (r_mm * r_mm)
    }

    /// The dose rate relative to S_K·Λ times r² (mm²): interpolated inside the tables, direct
    /// beyond them.
    #[inline]
    fn lookup_polar_scaled(&self, r_mm: f32, theta_rad: f32) -> f32 {
        let y = theta_rad * (180.0 / std::f32::consts::PI / THETA_STEP_DEG as f32);
        let it = (y as usize).min(N_THETA - 2);
        let fy = y - it as f32;
        for level in self.levels.iter() {
            if r_mm < level.extent {
                let x = r_mm * level.inv_h;
                let ir = x as usize;
                let fx = x - ir as f32;
                let d = &level.data;
                let base = ir * N_THETA + it;
                let a = d[base] + fy * (d[base + 1] - d[base]);
                let b = d[base + N_THETA] + fy * (d[base + N_THETA + 1] - d[base + N_THETA]);
                return a + fx * (b - a);
            }
        }
        let (s, c) = f64::from(theta_rad).sin_cos();
        let r_cm = f64::from(r_mm) / 10.0;
        (relative_dose_rate_cyl(&self.model, self.formalism, r_cm * s, r_cm * c) * f64::from(r_mm).powi(2)) as f32
    }
}

/// atan(t) for t in [0, 1], minimax polynomial (|error| < 1e-5 rad).
#[inline]
fn atan_unit(t: f32) -> f32 {
    let t2 = t * t;
    t * (0.999_977_26
        + t2 * (-0.332_623_47 + t2 * (0.193_543_46 + t2 * (-0.116_432_87 + t2 * (0.052_653_32 + t2 * -0.011_721_2)))))
}

/// θ = atan2(ρ, z) for ρ, z ≥ 0, by a minimax polynomial (|error| < 1e-5 rad).
#[inline]
pub fn polar_angle(rho: f32, z: f32) -> f32 {
    let (lo, hi) = if rho <= z { (rho, z) } else { (z, rho) };
    if hi == 0.0 {
        return std::f32::consts::FRAC_PI_2;
    }
    let a = atan_unit(lo / hi);
    if rho <= z { a } else { std::f32::consts::FRAC_PI_2 - a }
}
