//! Radioactive decay of a permanent implant.
//!
//! With mean life τ = T½ / ln 2 and initial dose rate Ḋ0:
//!
//! - dose rate at time t: Ḋ(t) = Ḋ0·e^(−t/τ);
//! - dose delivered between t1 and t2: D = Ḋ0·τ·(e^(−t1/τ) − e^(−t2/τ));
//! - total dose of a permanent implant (t1 = 0, t2 → ∞): D = Ḋ0·τ = 1.4427·T½·Ḋ0.
//!
//! For I-125 (T½ = 59.4 d) τ = 2056.8 h, so a seed giving 0.965 cGy/h at 1 cm gives a total
//! 1984.7 cGy there (TG-43U1 6711 per U).

use crate::DoseError;
use cryoseed_core::{Days, Gy, GyPerHour};

/// Mean life τ = T½/ln 2 in hours.
pub fn mean_life_hours(half_life: Days) -> f64 {
    half_life.to_hours() / std::f64::consts::LN_2
}

/// Dose rate at time `t` after implantation.
pub fn dose_rate_at(initial: GyPerHour, half_life: Days, t: Days) -> GyPerHour {
    GyPerHour(initial.0 * (-t.to_hours() / mean_life_hours(half_life)).exp())
}

/// Total dose of a permanent implant: Ḋ0·T½/ln 2 (= 1.4427·T½·Ḋ0).
pub fn total_dose(initial: GyPerHour, half_life: Days) -> Gy {
    Gy(initial.0 * mean_life_hours(half_life))
}

/// Hours by which the initial dose rate is multiplied to get the dose delivered between `from`
/// and `to` (days after implantation). `to` may be infinite (the total dose).
pub fn dose_between_factor_hours(half_life: Days, from: Days, to: Days) -> Result<f64, DoseError> {
    if !(half_life.0.is_finite() && half_life.0 > 0.0) {
        return Err(DoseError::parameter("half_life", format!("must be > 0 days, got {}", half_life.0)));
    }
    if !(from.0.is_finite() && from.0 >= 0.0) {
        return Err(DoseError::parameter("from", format!("must be >= 0 days, got {}", from.0)));
    }
    if to.0.is_nan() || to.0 < from.0 {
        return Err(DoseError::parameter("to", format!("must be >= from ({} days), got {}", from.0, to.0)));
    }
    let tau = mean_life_hours(half_life);
    let f = |t: Days| if t.0.is_infinite() { 0.0 } else { (-t.to_hours() / tau).exp() };
    Ok(tau * (f(from) - f(to)))
}

/// Dose delivered between `from` and `to` days after implantation (e.g. "dose by 6 months").
pub fn dose_between(initial: GyPerHour, half_life: Days, from: Days, to: Days) -> Result<Gy, DoseError> {
    Ok(Gy(initial.0 * dose_between_factor_hours(half_life, from, to)?))
}
