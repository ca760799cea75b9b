//! The AAPM TG-43U1 dose-rate formalism (Rivard et al., Med. Phys. 31:633, 2004).
//!
//! Both forms give the dose rate in water per unit air-kerma strength relative to Λ:
//!
//! - 2-D line source, TG-43U1 Eq. 1:
//!   Ḋ(r,θ) = S_K·Λ·[G_L(r,θ)/G_L(r0,θ0)]·g_L(r)·F(r,θ), r0 = 1 cm, θ0 = 90°;
//! - 1-D, TG-43U1 Eq. 11 (the 1-D form with the line-source geometry function, which the report
//!   recommends over the point-source G_P to avoid interpolation errors near the source):
//!   Ḋ(r) = S_K·Λ·[G_L(r,θ0)/G_L(r0,θ0)]·g_L(r)·φ_an(r), for seeds whose orientation is unknown.
//!
//! The geometry function is TG-43U1 Eq. 4: G_L(r,θ) = β/(L·r·sinθ) for θ ≠ 0 and
//! (r² − L²/4)⁻¹ on the axis, β the angle the active line subtends at the point. It is computed
//! as β = atan2(ρL, r² − L²/4) with ρ = r·sinθ, which is exact and stable down to the axis.
//!
//! # Near the source
//!
//! The formalism is singular on the active line itself. Points closer than
//! [`NEAR_SOURCE_DISTANCE`] (0.05 cm, about the capsule radius) to the active line segment are
//! evaluated at the point on the same ray from the seed centre (same θ) whose distance to the
//! segment is exactly that; for the 1-D form, r is raised to 0.05 cm. These points are inside or
//! on the seed capsule, where no tissue is, and the rule keeps the dose finite and continuous.
//! All tabulated nodes lie outside that region, so they are unaffected.

use crate::SeedModel;
use cryoseed_core::{Cm, U};

/// Reference distance r0 of TG-43U1 (1 cm).
pub const REFERENCE_DISTANCE: Cm = Cm(1.0);

/// Points nearer than this to the active line are moved out to it along their ray (module docs).
pub const NEAR_SOURCE_DISTANCE: Cm = Cm(0.05);

/// Which TG-43U1 form to evaluate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Formalism {
    /// 2-D line source, TG-43U1 Eq. 1 (orientation known).
    Line,
    /// 1-D with line-source geometry and φ_an, TG-43U1 Eq. 11 (orientation unknown).
    Point,
}

/// The line-source geometry function G_L(r,θ) in cm⁻² (TG-43U1 Eq. 4). `theta_rad` in 0…π.
pub fn geometry_function_line(r: Cm, theta_rad: f64, active_length: Cm) -> f64 {
    let (s, c) = theta_rad.sin_cos();
    geometry_function_line_cyl(r.0 * s.abs(), r.0 * c, active_length.0)
}

/// G_L at cylindrical coordinates (ρ, z) in cm around the seed axis (TG-43U1 Eq. 4).
pub(crate) fn geometry_function_line_cyl(rho: f64, z: f64, l: f64) -> f64 {
    let r2 = rho * rho + z * z;
    if l <= 0.0 {
        return 1.0 / r2;
    }
    let d = r2 - l * l / 4.0;
    if rho <= 1e-9 * r2.sqrt() {
        // On the axis: (r² − L²/4)⁻¹, the limit of β/(Lρ).
        return 1.0 / d;
    }
    (rho * l).atan2(d) / (l * rho)
}

/// G_L(r0, θ0): the normalisation of both forms.
pub(crate) fn reference_geometry(l: f64) -> f64 {
    geometry_function_line_cyl(REFERENCE_DISTANCE.0, 0.0, l)
}

/// Moves (ρ, z) (cm, ρ ≥ 0) out to [`NEAR_SOURCE_DISTANCE`] from the active segment along its
/// ray from the seed centre if it is closer (module docs). Returns the point to evaluate.
pub(crate) fn near_source_point(rho: f64, z: f64, l: f64) -> (f64, f64) {
    let d_min = NEAR_SOURCE_DISTANCE.0;
    let h = l / 2.0;
    let za = z.abs();
    let dist = if za <= h { rho } else { (rho * rho + (za - h) * (za - h)).sqrt() };
    if dist >= d_min {
        return (rho, z);
    }
    let r = (rho * rho + z * z).sqrt();
    if r == 0.0 {
        // The centre itself: take the transverse direction.
        return (d_min, 0.0);
    }
    let (s, c) = (rho / r, za / r);
    // Ray parameter t (distance from the centre) where the distance to the segment is d_min:
    // on the cylinder part ρ = t·s if that point is within |z| ≤ L/2, else on the end sphere.
    let t_cyl = if s > 0.0 { d_min / s } else { f64::INFINITY };
    let t = if t_cyl * c <= h { t_cyl } else { c * h + (d_min * d_min - h * h * s * s).max(0.0).sqrt() };
    (t * s, t * c * z.signum())
}

/// The dose rate relative to S_K·Λ at (ρ, z) cm from the seed centre along/around its axis, with
/// the near-source rule.
pub(crate) fn relative_dose_rate_cyl(model: &SeedModel, formalism: Formalism, rho: f64, z: f64) -> f64 {
    let (rho, z) = near_source_evaluation_point(model, formalism, rho.abs(), z);
    relative_dose_rate_raw(model, formalism, rho, z)
}

/// The point at which the formalism is evaluated for (ρ, z) cm (the near-source rule).
pub(crate) fn near_source_evaluation_point(model: &SeedModel, formalism: Formalism, rho: f64, z: f64) -> (f64, f64) {
    match formalism {
        Formalism::Line => near_source_point(rho, z, model.active_length().0),
        Formalism::Point => {
            let r = (rho * rho + z * z).sqrt();
            if r >= NEAR_SOURCE_DISTANCE.0 {
                (rho, z)
            } else if r == 0.0 {
                (NEAR_SOURCE_DISTANCE.0, 0.0)
            } else {
                let k = NEAR_SOURCE_DISTANCE.0 / r;
                (rho * k, z * k)
            }
        }
    }
}

/// The formalism without the near-source rule (infinite on the active line).
pub(crate) fn relative_dose_rate_raw(model: &SeedModel, formalism: Formalism, rho: f64, z: f64) -> f64 {
    let l = model.active_length().0;
    let g0 = reference_geometry(l);
    let r = (rho * rho + z * z).sqrt();
    match formalism {
        Formalism::Line => {
            let theta = rho.atan2(z);
            geometry_function_line_cyl(rho, z, l) / g0
                * model.radial_dose_function(Cm(r))
                * model.anisotropy_function(Cm(r), theta)
        }
        Formalism::Point => {
            geometry_function_line_cyl(r, 0.0, l) / g0
                * model.radial_dose_function(Cm(r))
                * model.anisotropy_factor(Cm(r))
        }
    }
}

/// Dose rate of one seed in cGy/h at (r, θ) by the 2-D line-source form, TG-43U1 Eq. 1.
/// `theta_rad` is the polar angle from the seed's long axis, 0…π.
pub fn dose_rate_line_cgy_per_h(model: &SeedModel, sk: U, r: Cm, theta_rad: f64) -> f64 {
    let (s, c) = theta_rad.sin_cos();
    sk.0 * model.dose_rate_constant_cgy_per_h_per_u()
        * relative_dose_rate_cyl(model, Formalism::Line, r.0 * s.abs(), r.0 * c)
}

/// Dose rate of one seed in cGy/h at distance r by the 1-D form, TG-43U1 Eq. 11.
pub fn dose_rate_point_cgy_per_h(model: &SeedModel, sk: U, r: Cm) -> f64 {
    sk.0 * model.dose_rate_constant_cgy_per_h_per_u() * relative_dose_rate_cyl(model, Formalism::Point, r.0, 0.0)
}

/// Dose rate in cGy/h at a point given in the seed frame (cm; seed centre at the origin, long
/// axis along +z), by either form. This is what `cryoseed tg43` evaluates.
pub fn dose_rate_at_cgy_per_h(model: &SeedModel, formalism: Formalism, sk: U, point_cm: [f64; 3]) -> f64 {
    let [x, y, z] = point_cm;
    let rho = (x * x + y * y).sqrt();
    sk.0 * model.dose_rate_constant_cgy_per_h_per_u() * relative_dose_rate_cyl(model, formalism, rho, z)
}
