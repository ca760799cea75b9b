//! Log-rank and Fleming–Harrington tests against lifelines 0.30 `multivariate_logrank_test`
//! (unstratified) and statsmodels 0.15 `survdiff(strata=…)` (stratified). Tolerance 1e-6
//! relative on χ² and p.

use crate::{check, events, fixture, floats, strings};
use cryoseed_stats::{LogRankWeight, SurvivalData, logrank_test};

#[test]
fn logrank_matches_lifelines_and_statsmodels() {
    let f = fixture("logrank.json");
    for case in f["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let data = SurvivalData::new(floats(&case["time"]), events(&case["event"])).unwrap();
        let group = strings(&case["group"]);
        let strata = if case["strata"].is_null() { None } else { Some(strings(&case["strata"])) };
        let (rho, gamma) = (case["p"].as_f64().unwrap(), case["q"].as_f64().unwrap());
        let weight = if rho == 0.0 && gamma == 0.0 {
            LogRankWeight::LogRank
        } else {
            LogRankWeight::FlemingHarrington { rho, gamma }
        };
        let test = logrank_test(&data, &group, strata.as_deref(), weight).unwrap();
        check(&format!("{label} chi2"), Some(test.chi2), &case["chi2"], 1e-6);
        check(&format!("{label} p"), Some(test.p_value), &case["p_value"], 1e-6);
        assert_eq!(test.df as u64, case["df"].as_u64().unwrap(), "{label} df");
    }
}

#[test]
fn a_group_without_events_still_gives_a_test() {
    let data =
        SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![true, true, true, false, false, false]).unwrap();
    let group: Vec<String> = ["a", "a", "a", "b", "b", "b"].map(String::from).to_vec();
    let t = logrank_test(&data, &group, None, LogRankWeight::LogRank).unwrap();
    // Hand computation: at t = 1, 2, 3 group a has 3, 2, 1 of 6, 5, 4 at risk: 3/6 + 2/5 + 1/4 = 1.15.
    assert!((t.groups[0].expected - 1.15).abs() < 1e-12);
    assert_eq!(t.groups[1].observed, 0);
    assert!(t.chi2 > 0.0 && t.p_value < 0.1);
}

#[test]
fn one_group_or_no_events_is_reported() {
    let data = SurvivalData::new(vec![1.0, 2.0], vec![true, false]).unwrap();
    let one: Vec<String> = vec!["a".into(), "a".into()];
    assert!(logrank_test(&data, &one, None, LogRankWeight::LogRank).is_err());
    let none = SurvivalData::new(vec![1.0, 2.0], vec![false, false]).unwrap();
    let two: Vec<String> = vec!["a".into(), "b".into()];
    assert!(logrank_test(&none, &two, None, LogRankWeight::LogRank).is_err());
}
