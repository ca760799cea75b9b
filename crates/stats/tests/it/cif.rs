//! Competing risks: Aalen–Johansen CIF against lifelines 0.30 `AalenJohansenFitter` (estimate,
//! delta-method variance, log(−log) bounds; `cif.json`), and Gray's test against the cmprsk 2.2
//! algorithm (`gray.json`, see its `generated_by`). Tolerance 1e-6 relative.

use crate::{check, fixture, floats, strings};
use cryoseed_stats::{CompetingRisksData, aalen_johansen, gray_test};
use serde_json::Value;

fn status(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn aalen_johansen_matches_lifelines() {
    let f = fixture("cif.json");
    for case in f["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let data = CompetingRisksData::new(floats(&case["time"]), status(&case["status"])).unwrap();
        let cause = case["cause"].as_u64().unwrap() as u32;
        let cif = aalen_johansen(&data, cause, 0.95).unwrap();
        let rows = case["table"].as_array().unwrap();
        assert_eq!(cif.table.len(), rows.len(), "{label}");
        for (got, want) in cif.table.iter().zip(rows) {
            let at = format!("{label} t={}", got.time);
            check(&at, Some(got.time), &want["time"], 0.0);
            check(&format!("{at} cif"), Some(got.cif), &want["cif"], 1e-6);
            check(&format!("{at} variance"), got.variance, &want["variance"], 1e-6);
            check(&format!("{at} lower"), got.ci_lower, &want["ci"][0], 1e-6);
            check(&format!("{at} upper"), got.ci_upper, &want["ci"][1], 1e-6);
        }
    }
}

#[test]
fn cif_of_all_causes_adds_up_to_one_minus_km() {
    // With ties between causes and censorings: F₁ + F₂ = 1 − Ŝ at every time.
    let time = vec![1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0, 5.0, 6.0];
    let status = vec![1, 2, 1, 0, 2, 0, 1, 1, 2, 0];
    let data = CompetingRisksData::new(time.clone(), status.clone()).unwrap();
    let f1 = aalen_johansen(&data, 1, 0.95).unwrap();
    let f2 = aalen_johansen(&data, 2, 0.95).unwrap();
    let km = cryoseed_stats::kaplan_meier(
        &cryoseed_stats::SurvivalData::new(time, status.iter().map(|&s| s > 0).collect()).unwrap(),
        cryoseed_core::protocol::KmCiTransform::LogLog,
        0.95,
    )
    .unwrap();
    for ((a, b), k) in f1.table.iter().zip(&f2.table).zip(&km.table) {
        assert!((a.cif + b.cif - (1.0 - k.survival)).abs() < 1e-12, "t={}", a.time);
    }
}

#[test]
fn gray_test_matches_cmprsk() {
    let f = fixture("gray.json");
    for case in f["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let data = CompetingRisksData::new(floats(&case["time"]), status(&case["status"])).unwrap();
        let strata = strings(&case["strata"]);
        let t = gray_test(
            &data,
            &strings(&case["group"]),
            Some(&strata),
            case["cause"].as_u64().unwrap() as u32,
            case["rho"].as_f64().unwrap(),
        )
        .unwrap();
        check(&format!("{label} chi2"), Some(t.chi2), &case["chi2"], 1e-6);
        check(&format!("{label} p"), Some(t.p_value), &case["p_value"], 1e-6);
        assert_eq!(t.df as u64, case["df"].as_u64().unwrap());
    }
}

#[test]
fn bad_competing_risks_input() {
    assert!(CompetingRisksData::new(vec![1.0, -1.0], vec![1, 0]).unwrap_err().to_string().contains("observation 1"));
    let data = CompetingRisksData::new(vec![1.0], vec![1]).unwrap();
    assert!(aalen_johansen(&data, 0, 0.95).is_err());
}
