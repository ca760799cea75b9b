//! Power: Schoenfeld's formula by hand, the event probability against numerical integration,
//! and the simulation against what it must reproduce (type I error under the null, Schoenfeld's
//! approximation for LPFS, determinism for a seed).

use cryoseed_core::Months;
use cryoseed_core::protocol::{Multiplicity, Protocol};
use cryoseed_stats::{TrialDesign, probability_of_event, schoenfeld_events, schoenfeld_power, simulate_power};

#[test]
fn schoenfeld_formula_by_hand() {
    // HR 0.5, one-sided α 0.025, power 0.8, 1:1: (1.959964 + 0.841621)² / (0.25 · ln(2)²) = 65.35
    // (the textbook "66 events"; Schoenfeld 1983; Collett 2015, §10.2).
    let d = schoenfeld_events(0.5, 0.025, 0.8, 0.5).unwrap();
    let by_hand =
        (1.959_963_984_540_054_f64 + 0.841_621_233_572_914_1).powi(2) / (0.25 * std::f64::consts::LN_2.powi(2));
    assert!((d - by_hand).abs() < 1e-9 * by_hand, "{d} vs {by_hand}");
    assert!((d - 65.35).abs() < 0.01);
    let p = schoenfeld_power(d, 0.5, 0.025, 0.5).unwrap();
    assert!((p - 0.8).abs() < 1e-9, "{p}");
    assert!(schoenfeld_events(1.0, 0.025, 0.8, 0.5).is_err());
    assert!(schoenfeld_events(0.5, 1.2, 0.8, 0.5).is_err());
}

#[test]
fn event_probability_matches_numerical_integration() {
    let (rate, a, f) = (std::f64::consts::LN_2 / 9.0, 24.0, 12.0);
    // Midpoint rule over the entry time (uniform on [0, A]); 100 000 points, error ~1e-10.
    let k = 100_000;
    let numeric: f64 = (0..k)
        .map(|i| {
            let entry = (i as f64 + 0.5) * a / k as f64;
            1.0 - (-rate * (a + f - entry)).exp()
        })
        .sum::<f64>()
        / k as f64;
    let exact = probability_of_event(rate, Months(a), Months(f));
    assert!((numeric - exact).abs() < 1e-8, "{numeric} vs {exact}");
}

fn design() -> TrialDesign {
    TrialDesign::from_protocol(&Protocol::shipped())
}

#[test]
fn the_null_design_rejects_at_about_alpha() {
    let mut null = design();
    null.lcr_experimental = null.lcr_control;
    null.lpfs_hazard_ratio = 1.0;
    null.multiplicity = Multiplicity::None;
    let sim = simulate_power(&null, 2000, 7).unwrap();
    // α = 0.10 one-sided; binomial SE with 2000 trials = √(0.1 · 0.9 / 2000) = 0.0067. The GEE
    // Wald test with 90 clusters is slightly liberal, so allow ±0.035 (about 5 SE).
    assert!((sim.local_control_power - 0.10).abs() < 0.035, "{sim:?}");
    assert!((sim.lpfs_power - 0.10).abs() < 0.035, "{sim:?}");
    assert_eq!(sim.failed_local_control_fits, 0);
}

#[test]
fn simulated_lpfs_power_agrees_with_schoenfeld() {
    let sim = simulate_power(&design(), 2000, 11).unwrap();
    // Schoenfeld's approximation is accurate to a few percentage points at ~60 events; the Monte
    // Carlo SE is ≤ 0.011; allow 0.05.
    assert!((sim.lpfs_power - sim.schoenfeld_power).abs() < 0.05, "{sim:?}");
    assert!((sim.mean_lpfs_events - sim.schoenfeld_expected_events).abs() < 1.0, "{sim:?}");
    // 2–5 lesions per patient, uniform: 3.5 × 90 = 315 lesions on average.
    assert!((sim.mean_lesions - 315.0).abs() < 2.0, "{sim:?}");
    // Holm can only lose power relative to unadjusted testing.
    assert!(sim.local_control_power_adjusted <= sim.local_control_power);
    assert!(sim.lpfs_power_adjusted <= sim.lpfs_power);
}

#[test]
fn correlation_within_patients_costs_power_and_seeds_reproduce() {
    let mut independent = design();
    independent.icc = 0.0;
    let mut correlated = design();
    correlated.icc = 0.5;
    let a = simulate_power(&independent, 800, 3).unwrap();
    let b = simulate_power(&correlated, 800, 3).unwrap();
    assert!(a.local_control_power > b.local_control_power + 0.05, "{a:?} {b:?}");
    assert_eq!(simulate_power(&correlated, 800, 3).unwrap(), b);
    let mut bad = design();
    bad.icc = 1.0;
    assert!(simulate_power(&bad, 10, 1).unwrap_err().to_string().contains("icc"));
}
