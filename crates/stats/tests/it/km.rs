//! Kaplan–Meier against lifelines 0.30 (survival, log(−log) bounds, quantile times, RMST),
//! statsmodels 0.15 (Greenwood SE of S, Brookmeyer–Crowley quantile intervals) and the R
//! `survfit` formulas applied to statsmodels' SE (log and plain bounds). Tolerance 1e-6 relative
//! (the acceptance criterion; the estimator is deterministic).

use crate::{check, events, fixture, floats};
use cryoseed_core::protocol::KmCiTransform;
use cryoseed_stats::{StatsError, SurvivalData, kaplan_meier};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn transforms() -> [(KmCiTransform, &'static str); 3] {
    [(KmCiTransform::LogLog, "log_log"), (KmCiTransform::Log, "log"), (KmCiTransform::Plain, "plain")]
}

#[test]
fn kaplan_meier_matches_lifelines_and_statsmodels() {
    let f = fixture("km.json");
    for case in f["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let data = SurvivalData::new(floats(&case["time"]), events(&case["event"])).unwrap();
        for (transform, key) in transforms() {
            let km = kaplan_meier(&data, transform, 0.95).unwrap();
            assert_eq!(km.n as u64, case["n"].as_u64().unwrap());
            assert_eq!(km.events as u64, case["events"].as_u64().unwrap());
            let rows = case["table"].as_array().unwrap();
            assert_eq!(km.table.len(), rows.len(), "{label}: number of rows");
            for (got, want) in km.table.iter().zip(rows) {
                let at = format!("{label} t={}", got.time);
                check(&at, Some(got.time), &want["time"], 0.0);
                assert_eq!(got.n_risk as u64, want["n_risk"].as_u64().unwrap(), "{at} n_risk");
                assert_eq!(got.n_event as u64, want["n_event"].as_u64().unwrap(), "{at} n_event");
                assert_eq!(got.n_censor as u64, want["n_censor"].as_u64().unwrap(), "{at} n_censor");
                check(&format!("{at} S"), Some(got.survival), &want["survival"], TOL);
                check(&format!("{at} se"), got.std_err, &want["std_err"], TOL);
                check(&format!("{at} {key} lower"), got.ci_lower, &want[key][0], TOL);
                check(&format!("{at} {key} upper"), got.ci_upper, &want[key][1], TOL);
            }
            for q in case["quantiles"].as_array().unwrap() {
                let p = q["p"].as_f64().unwrap();
                let got = km.quantile(p).unwrap();
                let at = format!("{label} quantile {p}");
                check(&at, got.time, &q["time"], TOL);
                check(&format!("{at} {key} lower"), got.ci_lower, &q[key][0], TOL);
                check(&format!("{at} {key} upper"), got.ci_upper, &q[key][1], TOL);
            }
        }
        let km = kaplan_meier(&data, KmCiTransform::LogLog, 0.95).unwrap();
        for lm in case["landmarks"].as_array().unwrap() {
            let t = lm["time"].as_f64().unwrap();
            let got = km.survival_at(t);
            check(&format!("{label} S({t})"), Some(got.survival), &lm["survival"], TOL);
            check(&format!("{label} S({t}) lower"), got.ci_lower, &lm["log_log"][0], TOL);
            check(&format!("{label} S({t}) upper"), got.ci_upper, &lm["log_log"][1], TOL);
        }
        let tau = case["rmst"]["tau"].as_f64().unwrap();
        let rmst = km.rmst(tau).unwrap();
        check(&format!("{label} RMST({tau})"), Some(rmst.estimate), &case["rmst"]["rmst"], TOL);
        check(&format!("{label} RMST({tau}) se"), Some(rmst.std_err), &case["rmst"]["std_err"], TOL);
    }
}

fn km_of(time: &[f64], event: &[bool]) -> cryoseed_stats::KaplanMeier {
    kaplan_meier(&SurvivalData::new(time.to_vec(), event.to_vec()).unwrap(), KmCiTransform::LogLog, 0.95).unwrap()
}

#[test]
fn all_censored_gives_a_flat_curve_and_no_median() {
    let km = km_of(&[3.0, 5.0, 5.0, 9.0], &[false; 4]);
    assert!(km.table.iter().all(|r| r.survival == 1.0 && r.ci_lower.is_none()));
    let m = km.median();
    assert_eq!((m.time, m.ci_lower, m.ci_upper), (None, None, None));
    assert_eq!(km.rmst(9.0).unwrap().estimate, 9.0);
    assert_eq!(km.rmst(9.0).unwrap().std_err, 0.0);
}

#[test]
fn a_single_subject() {
    let km = km_of(&[4.0], &[true]);
    assert_eq!(km.table.len(), 1);
    assert_eq!(km.table[0].survival, 0.0);
    assert_eq!(km.table[0].std_err, None);
    assert_eq!(km.median().time, Some(4.0));
    let censored = km_of(&[4.0], &[false]);
    assert_eq!(censored.table[0].survival, 1.0);
    assert_eq!(censored.median().time, None);
}

#[test]
fn bad_input_names_the_observation() {
    let err = SurvivalData::new(vec![1.0, -2.0], vec![true, false]).unwrap_err();
    assert_eq!(
        err,
        StatsError::InvalidObservation { index: 1, field: "time".into(), problem: "negative time -2".into() }
    );
    assert!(matches!(
        SurvivalData::new(vec![f64::NAN], vec![true]),
        Err(StatsError::InvalidObservation { index: 0, .. })
    ));
    assert!(matches!(SurvivalData::new(vec![1.0], vec![]), Err(StatsError::LengthMismatch { .. })));
    let data = SurvivalData::new(vec![1.0], vec![true]).unwrap();
    assert!(matches!(
        kaplan_meier(&data, KmCiTransform::Log, 1.5),
        Err(StatsError::InvalidParameter { name: "level", .. })
    ));
    let empty = SurvivalData::new(vec![], vec![]).unwrap();
    assert!(kaplan_meier(&empty, KmCiTransform::Log, 0.95).is_err());
    let _unused: Value = Value::Null;
}
