//! Plan-quality indices of a seed implant, on the exact voxel DVHs of `cryoseed-volume`.
//!
//! Notation (all volumes from voxel centres, dose ≥ threshold counts): TV target volume;
//! TV_Rx target volume receiving at least the prescription Rx; V_Rx volume of the body (united
//! with the target) receiving at least Rx; TV_150 target volume receiving at least 1.5·Rx.
//!
//! | index | formula | source |
//! |---|---|---|
//! | D90, D100 | minimum dose to the hottest 90 % / 100 % of the target | AAPM TG-137 (Nath 2009); `Dvh::d_percent` |
//! | V100, V150, V200 | % of TV receiving ≥ 100 / 150 / 200 % of Rx | TG-137 |
//! | CN (van't Riet) | (TV_Rx/TV)·(TV_Rx/V_Rx) | van't Riet et al., IJROBP 37:731, 1997 |
//! | CI (Nakamura) | V_Rx/TV (prescription isodose volume over target volume; 1 ideal, > 1 spill) | Nakamura et al., IJROBP 2001 (gamma-knife conformity index PIV/TV) |
//! | EI (external index) | (V_Rx − TV_Rx)/TV, in % | Saw et al.; Nakamura et al. |
//! | HI (homogeneity index) | (TV_Rx − TV_150)/TV_Rx | Saw et al. (brachytherapy dose nonuniformity) |
//! | COIN | c1·c2, c1 = TV_Rx/TV, c2 = TV_Rx/V_Rx (no OAR factor) | Baltas et al., IJROBP 40:515, 1998 |
//! | OAR D0.1cc, D1cc, D2cc | minimum dose to the hottest 0.1 / 1 / 2 cm³ (`None` if the organ is smaller) | GEC-ESTRO (Pötter 2006) |
//! | OAR Dmax, Dmean | highest voxel dose; mean voxel dose | — |
//!
//! With these definitions CN and COIN coincide (both are c1·c2; COIN's OAR factor is not
//! applied); both are reported because protocols name either. Indices whose denominator is zero
//! (e.g. HI when no target voxel reaches Rx) are `None`.

use crate::DoseError;
use cryoseed_core::{Gy, Ml, Percent};
use cryoseed_volume::{Dvh, Field, Mask};

/// Indices of one target under a prescription.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TargetMetrics {
    /// Prescription used.
    pub prescription: Gy,
    /// Target volume TV.
    pub volume: Ml,
    /// D90.
    pub d90: Gy,
    /// D100 (minimum target dose).
    pub d100: Gy,
    /// V100, % of TV.
    pub v100: Percent,
    /// V150, % of TV.
    pub v150: Percent,
    /// V200, % of TV.
    pub v200: Percent,
    /// TV_Rx.
    pub target_volume_at_rx: Ml,
    /// V_Rx (body ∪ target).
    pub body_volume_at_rx: Ml,
    /// van't Riet conformation number (TV_Rx/TV)·(TV_Rx/V_Rx).
    pub conformation_number: Option<f64>,
    /// Nakamura conformity index V_Rx/TV.
    pub conformity_index: f64,
    /// External index (V_Rx − TV_Rx)/TV, %.
    pub external_index: Percent,
    /// Homogeneity index (TV_Rx − TV_150)/TV_Rx.
    pub homogeneity_index: Option<f64>,
    /// COIN c1·c2 (Baltas 1998, without the OAR factor).
    pub coin: Option<f64>,
}

/// Indices of one organ at risk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OarMetrics {
    /// Organ volume.
    pub volume: Ml,
    /// D0.1cc (`None` if the organ is smaller than 0.1 cm³).
    pub d0_1cc: Option<Gy>,
    /// D1cc.
    pub d1cc: Option<Gy>,
    /// D2cc.
    pub d2cc: Option<Gy>,
    /// Maximum voxel dose.
    pub dmax: Gy,
    /// Mean dose.
    pub dmean: Gy,
}

/// V_Rx: volume of `region` (the whole grid if `None`) receiving at least `threshold`.
pub fn volume_at_least(dose: &Field<f32>, region: Option<&Mask>, threshold: Gy) -> Result<Ml, DoseError> {
    let t = threshold.0;
    let count = match region {
        None => dose.as_slice().iter().filter(|&&d| f64::from(d) >= t).count(),
        Some(mask) => {
            if !mask.grid().same_geometry(dose.grid()) {
                return Err(cryoseed_volume::GridError::GridMismatch.into());
            }
            dose.as_slice().iter().zip(mask.as_slice()).filter(|&(&d, &inside)| inside && f64::from(d) >= t).count()
        }
    };
    Ok(Ml(count as f64 * dose.grid().voxel_volume().0))
}

/// Target indices from the target's DVH, the prescription and V_Rx (see
/// [`volume_at_least`] on the body united with the target).
pub fn target_metrics(target: &Dvh, prescription: Gy, body_volume_at_rx: Ml) -> Result<TargetMetrics, DoseError> {
    if !(prescription.0.is_finite() && prescription.0 > 0.0) {
        return Err(DoseError::parameter("prescription", format!("must be > 0 Gy, got {}", prescription.0)));
    }
    let tv = target.volume().0;
    let tv_rx = target.v_dose(prescription).0;
    let tv_150 = target.v_dose(Gy(1.5 * prescription.0)).0;
    let v_rx = body_volume_at_rx.0.max(tv_rx);
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    let c1 = tv_rx / tv;
    let c2 = ratio(tv_rx, v_rx);
    Ok(TargetMetrics {
        prescription,
        volume: Ml(tv),
        d90: target.d_percent(Percent(90.0)),
        d100: target.d_percent(Percent(100.0)),
        v100: target.v_percent_of(prescription, Percent(100.0)),
        v150: target.v_percent_of(prescription, Percent(150.0)),
        v200: target.v_percent_of(prescription, Percent(200.0)),
        target_volume_at_rx: Ml(tv_rx),
        body_volume_at_rx: Ml(v_rx),
        conformation_number: c2.map(|c2| c1 * c2),
        conformity_index: v_rx / tv,
        external_index: Percent(100.0 * (v_rx - tv_rx) / tv),
        homogeneity_index: ratio(tv_rx - tv_150, tv_rx),
        coin: c2.map(|c2| c1 * c2),
    })
}

/// OAR indices from the organ's DVH.
pub fn oar_metrics(oar: &Dvh) -> OarMetrics {
    OarMetrics {
        volume: oar.volume(),
        d0_1cc: oar.d_volume(Ml(0.1)),
        d1cc: oar.d_volume(Ml(1.0)),
        d2cc: oar.d_volume(Ml(2.0)),
        dmax: oar.max(),
        dmean: oar.mean(),
    }
}
