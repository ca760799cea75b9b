//! Decay of a permanent implant.

use cryoseed_core::{Cm, Days, GyPerHour, Months, U};
use cryoseed_dose::{builtin_model, decay, tg43};

/// The acceptance: 6711 total dose per U at (1 cm, 90°) = 1984.7 cGy ± 0.1 %.
#[test]
fn total_dose_per_u_at_reference_point_for_6711() {
    let model = builtin_model("6711").unwrap();
    let rate = tg43::dose_rate_line_cgy_per_h(&model, U(1.0), Cm(1.0), std::f64::consts::FRAC_PI_2);
    let total_cgy = decay::total_dose(GyPerHour(rate / 100.0), model.half_life()).0 * 100.0;
    assert!((total_cgy - 1984.7).abs() <= 0.001 * 1984.7, "{total_cgy}");
    // The report's factor 1.4427 = 1/ln 2 (to 5 digits).
    let report_factor: f64 = "1.4427".parse().unwrap();
    assert!((decay::mean_life_hours(Days(59.4)) / (59.4 * 24.0) - report_factor).abs() < 1e-4);
}

#[test]
fn dose_between_two_times() {
    let d0 = GyPerHour(0.1);
    let t_half = Days(59.4);
    let total = decay::total_dose(d0, t_half).0;
    let check = |from: f64, to: f64, expected_fraction: f64| {
        let got = decay::dose_between(d0, t_half, Days(from), Days(to)).unwrap().0;
        assert!((got / total - expected_fraction).abs() < 1e-12, "{from}..{to}: {}", got / total);
    };
    check(0.0, f64::INFINITY, 1.0);
    check(0.0, 59.4, 0.5); // one half-life delivers half
    check(59.4, 118.8, 0.25);
    check(0.0, 0.0, 0.0);
    // Dose by 6 months (182.625 d): 1 − 2^(−182.625/59.4).
    let six = Months(6.0).to_days().0;
    check(0.0, six, 1.0 - 2f64.powf(-six / 59.4));
    // Rate halves every half-life.
    assert!((decay::dose_rate_at(d0, t_half, Days(118.8)).0 - 0.025).abs() < 1e-15);
}

#[test]
fn bad_times_name_the_parameter() {
    let d0 = GyPerHour(0.1);
    let err = |from: f64, to: f64, t_half: f64| {
        decay::dose_between(d0, Days(t_half), Days(from), Days(to)).unwrap_err().to_string()
    };
    assert_eq!(err(10.0, 5.0, 59.4), "to: must be >= from (10 days), got 5");
    assert_eq!(err(-1.0, 5.0, 59.4), "from: must be >= 0 days, got -1");
    assert_eq!(err(0.0, 5.0, 0.0), "half_life: must be > 0 days, got 0");
    assert!(err(0.0, f64::NAN, 59.4).starts_with("to:"));
}
