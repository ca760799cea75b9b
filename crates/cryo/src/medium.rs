//! Thermal properties of a freezing medium, and the enthalpy and Kirchhoff functions of the
//! phase-change model.

use crate::CryoError;
use cryoseed_core::protocol::{CryoParameters, TissueProperties};
use cryoseed_core::{Celsius, Organ};
use cryoseed_volume::{Field, Grid, Mask};

/// Volumetric heat capacity of blood, J/(m³·K): density 1050 kg/m³ × specific heat
/// 3617 J/(kg·K), IT'IS Foundation tissue property database v4.1 ("Blood"). Multiplies the
/// protocol's perfusion rate (1/s) in the Pennes term.
pub const BLOOD_HEAT_CAPACITY_J_PER_M3_K: f64 = 1050.0 * 3617.0;

/// Thermal properties of one homogeneous medium, SI units.
///
/// Phase change follows the enthalpy method with a mushy interval `[solidus, liquidus]` over
/// which the latent heat is released uniformly and the conductivity and the liquid fraction vary
/// linearly. Perfusion (Pennes' term) is scaled by the liquid fraction, so it is off in frozen
/// tissue. Metabolic heat is the value that keeps unfrozen tissue at the baseline temperature
/// when arterial blood is at that temperature, `q_m = ω·C_b·(T_body − T_a) = 0`, so it does not
/// appear explicitly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Medium {
    /// Conductivity above the liquidus, W/(m·K).
    pub conductivity_unfrozen_w_per_m_k: f64,
    /// Conductivity below the solidus, W/(m·K).
    pub conductivity_frozen_w_per_m_k: f64,
    /// Volumetric heat capacity above the liquidus, J/(m³·K).
    pub heat_capacity_unfrozen_j_per_m3_k: f64,
    /// Volumetric heat capacity below the solidus, J/(m³·K).
    pub heat_capacity_frozen_j_per_m3_k: f64,
    /// Volumetric latent heat, J/m³.
    pub latent_heat_j_per_m3: f64,
    /// Lower end of the phase-change interval.
    pub solidus: Celsius,
    /// Upper end of the phase-change interval.
    pub liquidus: Celsius,
    /// Blood perfusion rate of unfrozen medium, 1/s (0 for a phantom).
    pub perfusion_per_s: f64,
    /// Volumetric heat capacity of blood, J/(m³·K).
    pub blood_heat_capacity_j_per_m3_k: f64,
}

impl Medium {
    /// The medium of the protocol's tissue properties (`Protocol::cryo.tissue_for(organ)`), with
    /// blood at [`BLOOD_HEAT_CAPACITY_J_PER_M3_K`].
    pub fn from_tissue(tissue: &TissueProperties) -> Result<Medium, CryoError> {
        Medium {
            conductivity_unfrozen_w_per_m_k: tissue.conductivity_unfrozen_w_per_m_k,
            conductivity_frozen_w_per_m_k: tissue.conductivity_frozen_w_per_m_k,
            heat_capacity_unfrozen_j_per_m3_k: tissue.heat_capacity_unfrozen_mj_per_m3_k * 1e6,
            heat_capacity_frozen_j_per_m3_k: tissue.heat_capacity_frozen_mj_per_m3_k * 1e6,
            latent_heat_j_per_m3: tissue.latent_heat_mj_per_m3 * 1e6,
            solidus: tissue.phase_change_lower_c,
            liquidus: tissue.phase_change_upper_c,
            perfusion_per_s: tissue.perfusion_per_s,
            blood_heat_capacity_j_per_m3_k: BLOOD_HEAT_CAPACITY_J_PER_M3_K,
        }
        .validated()
    }

    /// Checks that every property is finite and physical.
    pub fn validated(self) -> Result<Medium, CryoError> {
        let positive = [
            ("conductivity_unfrozen_w_per_m_k", self.conductivity_unfrozen_w_per_m_k),
            ("conductivity_frozen_w_per_m_k", self.conductivity_frozen_w_per_m_k),
            ("heat_capacity_unfrozen_j_per_m3_k", self.heat_capacity_unfrozen_j_per_m3_k),
            ("heat_capacity_frozen_j_per_m3_k", self.heat_capacity_frozen_j_per_m3_k),
            ("blood_heat_capacity_j_per_m3_k", self.blood_heat_capacity_j_per_m3_k),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(CryoError::Medium { field, message: format!("must be > 0, got {v}") });
            }
        }
        for (field, v) in
            [("latent_heat_j_per_m3", self.latent_heat_j_per_m3), ("perfusion_per_s", self.perfusion_per_s)]
        {
            if !(v.is_finite() && v >= 0.0) {
                return Err(CryoError::Medium { field, message: format!("must be >= 0, got {v}") });
            }
        }
        if !(self.solidus.is_finite() && self.liquidus.is_finite() && self.solidus.0 < self.liquidus.0) {
            return Err(CryoError::Medium {
                field: "solidus",
                message: format!("must be below the liquidus, got {} and {}", self.solidus, self.liquidus),
            });
        }
        Ok(self)
    }

    fn mushy_heat_capacity(&self) -> f64 {
        0.5 * (self.heat_capacity_frozen_j_per_m3_k + self.heat_capacity_unfrozen_j_per_m3_k)
            + self.latent_heat_j_per_m3 / (self.liquidus.0 - self.solidus.0)
    }

    /// Volumetric enthalpy H(T), J/m³, zero at the solidus: `C_f·(T − T_s)` below the solidus,
    /// `C_m·(T − T_s)` in the mushy interval with `C_m = (C_f + C_u)/2 + L/(T_l − T_s)`, and
    /// `H(T_l) + C_u·(T − T_l)` above (enthalpy method, Voller & Cross 1981, with a linear mushy
    /// zone).
    pub fn enthalpy(&self, t: f64) -> f64 {
        let (ts, tl) = (self.solidus.0, self.liquidus.0);
        if t <= ts {
            self.heat_capacity_frozen_j_per_m3_k * (t - ts)
        } else if t < tl {
            self.mushy_heat_capacity() * (t - ts)
        } else {
            self.mushy_heat_capacity() * (tl - ts) + self.heat_capacity_unfrozen_j_per_m3_k * (t - tl)
        }
    }

    /// Temperature of enthalpy `h` (the inverse of [`Medium::enthalpy`]), °C.
    pub fn temperature(&self, h: f64) -> f64 {
        let (ts, tl) = (self.solidus.0, self.liquidus.0);
        let cm = self.mushy_heat_capacity();
        if h <= 0.0 {
            ts + h / self.heat_capacity_frozen_j_per_m3_k
        } else if h < cm * (tl - ts) {
            ts + h / cm
        } else {
            tl + (h - cm * (tl - ts)) / self.heat_capacity_unfrozen_j_per_m3_k
        }
    }

    /// Liquid fraction at temperature `t`: 0 below the solidus, 1 above the liquidus, linear in
    /// between.
    pub fn liquid_fraction(&self, t: f64) -> f64 {
        ((t - self.solidus.0) / (self.liquidus.0 - self.solidus.0)).clamp(0.0, 1.0)
    }

    /// Conductivity at temperature `t`, W/(m·K), interpolated by the liquid fraction.
    pub fn conductivity(&self, t: f64) -> f64 {
        let kf = self.conductivity_frozen_w_per_m_k;
        kf + self.liquid_fraction(t) * (self.conductivity_unfrozen_w_per_m_k - kf)
    }

    /// Kirchhoff potential Φ(T) = ∫_{T_s}^{T} k(θ) dθ, W/m. With it the conductive flux between
    /// two voxels is `(Φ_n − Φ_c)/h` (Kirchhoff transformation, Carslaw & Jaeger §1.9), exact for
    /// steady 1-D conduction with a temperature-dependent conductivity, and needing no averaging
    /// of k across the ice front.
    pub fn kirchhoff(&self, t: f64) -> f64 {
        let (ts, tl) = (self.solidus.0, self.liquidus.0);
        let (kf, ku) = (self.conductivity_frozen_w_per_m_k, self.conductivity_unfrozen_w_per_m_k);
        if t <= ts {
            kf * (t - ts)
        } else if t < tl {
            let d = t - ts;
            kf * d + (ku - kf) * d * d / (2.0 * (tl - ts))
        } else {
            let at_liquidus = 0.5 * (kf + ku) * (tl - ts);
            at_liquidus + ku * (t - tl)
        }
    }

    /// The piecewise-linear constants of [`Medium::enthalpy`], [`Medium::temperature`] and
    /// [`Medium::kirchhoff`], precomputed for the solver's inner loop.
    pub(crate) fn tables(&self) -> PhaseTables {
        let (ts, tl) = (self.solidus.0, self.liquidus.0);
        let (kf, ku) = (self.conductivity_frozen_w_per_m_k, self.conductivity_unfrozen_w_per_m_k);
        let cm = self.mushy_heat_capacity();
        PhaseTables {
            ts,
            tl,
            inv_cf: 1.0 / self.heat_capacity_frozen_j_per_m3_k,
            inv_cm: 1.0 / cm,
            inv_cu: 1.0 / self.heat_capacity_unfrozen_j_per_m3_k,
            h_liquidus: cm * (tl - ts),
            kf,
            ku,
            half_dk_per_dt: (ku - kf) / (2.0 * (tl - ts)),
            inv_range: 1.0 / (tl - ts),
        }
    }

    /// The largest thermal diffusivity dΦ/dH = k(T)/C_eff(T) over all temperatures, m²/s: the
    /// quantity that bounds the explicit time step.
    pub fn max_diffusivity(&self) -> f64 {
        let kmax = self.conductivity_frozen_w_per_m_k.max(self.conductivity_unfrozen_w_per_m_k);
        (self.conductivity_frozen_w_per_m_k / self.heat_capacity_frozen_j_per_m3_k)
            .max(self.conductivity_unfrozen_w_per_m_k / self.heat_capacity_unfrozen_j_per_m3_k)
            .max(kmax / self.mushy_heat_capacity())
    }

    /// The largest dΦ/dH at or above the solidus (mushy or unfrozen medium), m²/s: what bounds
    /// the coarse step of a multirate step.
    pub fn max_diffusivity_above_solidus(&self) -> f64 {
        let kmax = self.conductivity_frozen_w_per_m_k.max(self.conductivity_unfrozen_w_per_m_k);
        (self.conductivity_unfrozen_w_per_m_k / self.heat_capacity_unfrozen_j_per_m3_k)
            .max(kmax / self.mushy_heat_capacity())
    }

    /// The smallest dH/dT at or above the solidus, J/(m³·K).
    pub fn min_heat_capacity_above_solidus(&self) -> f64 {
        self.heat_capacity_unfrozen_j_per_m3_k.min(self.mushy_heat_capacity())
    }

    /// The smallest effective heat capacity dH/dT, J/(m³·K).
    pub fn min_heat_capacity(&self) -> f64 {
        self.heat_capacity_frozen_j_per_m3_k.min(self.heat_capacity_unfrozen_j_per_m3_k).min(self.mushy_heat_capacity())
    }
}

/// Precomputed constants of the phase-change functions (see [`Medium::tables`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PhaseTables {
    ts: f64,
    tl: f64,
    inv_cf: f64,
    inv_cm: f64,
    inv_cu: f64,
    h_liquidus: f64,
    kf: f64,
    ku: f64,
    half_dk_per_dt: f64,
    inv_range: f64,
}

impl PhaseTables {
    /// Same as [`Medium::temperature`]. The function is continuous and piecewise linear in `h`,
    /// so it is the sum of its three pieces, each clamped to its interval: no branch, and
    /// `min`/`max` that vectorise.
    #[inline(always)]
    pub(crate) fn temperature(&self, h: f64) -> f64 {
        let frozen = lower(h, 0.0);
        let mushy = upper(lower(h, self.h_liquidus), 0.0);
        let unfrozen = upper(h - self.h_liquidus, 0.0);
        self.ts + frozen * self.inv_cf + mushy * self.inv_cm + unfrozen * self.inv_cu
    }

    /// Same as [`Medium::kirchhoff`], written like [`PhaseTables::temperature`] as the sum of its
    /// clamped pieces (Φ is continuous: linear, quadratic, linear).
    #[inline(always)]
    pub(crate) fn kirchhoff(&self, t: f64) -> f64 {
        let d = t - self.ts;
        let frozen = lower(d, 0.0);
        let mushy = upper(lower(d, self.tl - self.ts), 0.0);
        let unfrozen = upper(t - self.tl, 0.0);
        self.kf * frozen + mushy * (self.kf + self.half_dk_per_dt * mushy) + self.ku * unfrozen
    }

    /// Same as [`Medium::liquid_fraction`].
    #[inline(always)]
    pub(crate) fn liquid_fraction(&self, t: f64) -> f64 {
        upper(lower((t - self.ts) * self.inv_range, 1.0), 0.0)
    }
}

/// The smaller of `a` and `b` (`b` if either is NaN), a single `minsd`.
#[inline(always)]
fn lower(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The larger of `a` and `b` (`b` if either is NaN), a single `maxsd`.
#[inline(always)]
fn upper(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// Which medium each voxel is made of: a label per voxel indexing a short list of media (e.g.
/// liver around a lesion, lung above the diaphragm), for a heterogeneous bioheat problem
/// ([`crate::solve_pennes_enthalpy_with`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TissueMap {
    labels: Field<u8>,
    media: Vec<Medium>,
}

impl TissueMap {
    /// The largest number of media in one map.
    pub const MAX_MEDIA: usize = 256;

    /// A map from `labels` (an index into `media` per voxel). Errors: no medium, more than
    /// [`TissueMap::MAX_MEDIA`], an invalid medium, or a label without a medium.
    pub fn new(labels: Field<u8>, media: Vec<Medium>) -> Result<TissueMap, CryoError> {
        if media.is_empty() || media.len() > TissueMap::MAX_MEDIA {
            return Err(CryoError::TissueMap(format!(
                "{} media given; between 1 and {} are needed",
                media.len(),
                TissueMap::MAX_MEDIA
            )));
        }
        let media = media.into_iter().map(Medium::validated).collect::<Result<Vec<_>, _>>()?;
        if let Some((index, &label)) =
            labels.as_slice().iter().enumerate().find(|(_, l)| usize::from(**l) >= media.len())
        {
            let dims = labels.grid().dims();
            let ijk = [index % dims[0], index / dims[0] % dims[1], index / (dims[0] * dims[1])];
            return Err(CryoError::TissueMap(format!(
                "voxel {ijk:?} has label {label} but only {} media are given",
                media.len()
            )));
        }
        Ok(TissueMap { labels, media })
    }

    /// One medium everywhere on `grid`.
    pub fn homogeneous(grid: Grid, medium: Medium) -> Result<TissueMap, CryoError> {
        TissueMap::new(Field::filled(grid, 0), vec![medium])
    }

    /// Per-organ media from the protocol: `background` everywhere, then each `(organ, mask)` in
    /// order (a later mask wins where masks overlap), each organ with
    /// `protocol.tissue_for(organ)`. Organs that appear twice share one medium.
    pub fn from_organs(
        protocol: &CryoParameters,
        background: Organ,
        organs: &[(Organ, &Mask)],
    ) -> Result<TissueMap, CryoError> {
        let grid = match organs.first() {
            Some((_, mask)) => *mask.grid(),
            None => return Err(CryoError::TissueMap("no organ mask given".into())),
        };
        let mut order = vec![background];
        let mut labels = vec![0u8; grid.len()];
        for (organ, mask) in organs {
            if *mask.grid() != grid {
                return Err(CryoError::TissueMap(format!("the {organ:?} mask is on a different grid")));
            }
            let label = match order.iter().position(|o| o == organ) {
                Some(p) => p,
                None => {
                    order.push(*organ);
                    order.len() - 1
                }
            };
            let label = u8::try_from(label).map_err(|_| CryoError::TissueMap("too many organs".into()))?;
            for (l, &inside) in labels.iter_mut().zip(mask.as_slice()) {
                if inside {
                    *l = label;
                }
            }
        }
        let media =
            order.iter().map(|&o| Medium::from_tissue(&protocol.tissue_for(o))).collect::<Result<Vec<_>, _>>()?;
        TissueMap::new(Field::from_vec(grid, labels).expect("same grid"), media)
    }

    /// The label of each voxel.
    pub fn labels(&self) -> &Field<u8> {
        &self.labels
    }

    /// The media, indexed by label.
    pub fn media(&self) -> &[Medium] {
        &self.media
    }
}
