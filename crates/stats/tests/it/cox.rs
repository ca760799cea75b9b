//! Cox regression against lifelines 0.30 `CoxPHFitter` (Efron, model-based SE, concordance) and
//! statsmodels 0.15 `PHReg` (Breslow, strata, robust sandwich with groups). The score test's
//! reference is Uᵀ(−H)⁻¹U from statsmodels' own gradient and Hessian at β = 0; the
//! proportional-hazards test is lifelines' `proportional_hazard_test` (identity, log and km time
//! scales; the global statistic from lifelines' scaled residuals, see make_fixtures.py). Tolerance 1e-6
//! relative everywhere (both references converge far below that; see make_fixtures.py).

use crate::{check, events, fixture, floats, strings};
use cryoseed_core::protocol::CoxTies;
use cryoseed_stats::{
    Covariates, CoxConfig, PhTransform, StatsError, SurvivalData, fit_cox, proportional_hazards_test,
};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn covariates(case: &Value) -> Covariates {
    let names = strings(&case["covariates"]);
    let rows = case["x"].as_array().unwrap();
    let columns = names
        .iter()
        .enumerate()
        .map(|(j, name)| (name.clone(), rows.iter().map(|r| r[j].as_f64().unwrap()).collect()))
        .collect();
    Covariates::new(columns).unwrap()
}

#[test]
fn cox_matches_lifelines_and_statsmodels() {
    let f = fixture("cox.json");
    for case in f["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let data = SurvivalData::new(floats(&case["time"]), events(&case["event"])).unwrap();
        let x = covariates(case);
        let ties = if case["ties"] == "efron" { CoxTies::Efron } else { CoxTies::Breslow };
        let strata = if case["strata"].is_null() { None } else { Some(strings(&case["strata"])) };
        let cluster = if case["cluster"].is_null() { None } else { Some(strings(&case["cluster"])) };
        let robust = case["robust"].as_bool().unwrap();
        let config = CoxConfig { ties, ..CoxConfig::default() };
        let fit = fit_cox(&data, &x, strata.as_deref(), cluster.as_deref(), robust, &config).unwrap();
        assert!(fit.converged && fit.warnings.is_empty(), "{label}: {:?}", fit.warnings);
        for (j, c) in fit.coefficients.iter().enumerate() {
            let at = format!("{label} {}", c.name);
            check(&format!("{at} coef"), Some(c.coef), &case["coef"][j], TOL);
            check(&format!("{at} se"), Some(c.se), &case["se"][j], TOL);
            check(&format!("{at} z"), Some(c.z), &case["z"][j], TOL);
            check(&format!("{at} p"), Some(c.p_value), &case["p_value"][j], TOL);
            check(&format!("{at} hr lower"), Some(c.hr_ci.0), &case["hr_ci"][j][0], TOL);
            check(&format!("{at} hr upper"), Some(c.hr_ci.1), &case["hr_ci"][j][1], TOL);
        }
        check(&format!("{label} loglik"), Some(fit.log_likelihood), &case["log_likelihood"], TOL);
        check(
            &format!("{label} loglik (statsmodels)"),
            Some(fit.log_likelihood),
            &case["log_likelihood_statsmodels"],
            TOL,
        );
        check(&format!("{label} LR chi2"), Some(fit.lr_test.chi2), &case["lr_test"]["chi2"], TOL);
        check(&format!("{label} LR p"), Some(fit.lr_test.p_value), &case["lr_test"]["p_value"], TOL);
        check(&format!("{label} Wald chi2"), Some(fit.wald_test.chi2), &case["wald_test"]["chi2"], TOL);
        check(&format!("{label} Wald p"), Some(fit.wald_test.p_value), &case["wald_test"]["p_value"], TOL);
        check(&format!("{label} score chi2"), Some(fit.score_test.chi2), &case["score_test"]["chi2"], TOL);
        check(&format!("{label} score p"), Some(fit.score_test.p_value), &case["score_test"]["p_value"], TOL);
        if !case["concordance"].is_null() {
            check(&format!("{label} concordance"), Some(fit.concordance), &case["concordance"], TOL);
        }
        if let Some(ph) = case.get("ph_test") {
            for (key, transform) in
                [("identity", PhTransform::Identity), ("log", PhTransform::Log), ("km", PhTransform::Km)]
            {
                let test = proportional_hazards_test(&data, &x, strata.as_deref(), &fit, transform).unwrap();
                for (j, (name, t)) in test.terms.iter().enumerate() {
                    check(&format!("{label} PH {key} {name} chi2"), Some(t.chi2), &ph[key]["chi2"][j], TOL);
                    check(&format!("{label} PH {key} {name} p"), Some(t.p_value), &ph[key]["p_value"][j], TOL);
                }
                check(&format!("{label} PH {key} global"), Some(test.global.chi2), &ph[key]["global_chi2"], TOL);
                check(
                    &format!("{label} PH {key} global p"),
                    Some(test.global.p_value),
                    &ph[key]["global_p_value"],
                    TOL,
                );
                assert_eq!(test.residuals.len(), fit.events);
            }
        }
        assert_eq!(fit.n as u64, case["n"].as_u64().unwrap());
        assert_eq!(fit.events as u64, case["events"].as_u64().unwrap());
    }
}

#[test]
fn separation_is_reported_not_a_crash() {
    // Every subject with x = 1 has the event before every subject with x = 0: β̂ = +∞.
    let time = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let event = vec![true; 8];
    let x = Covariates::new(vec![("x".into(), vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])]).unwrap();
    let fit = fit_cox(&SurvivalData::new(time, event).unwrap(), &x, None, None, false, &CoxConfig::default()).unwrap();
    assert!(fit.coefficients[0].is_infinite, "{fit:?}");
    assert!(fit.coefficients[0].coef > 5.0);
    assert!(fit.warnings.iter().any(|w| w.contains("may be infinite")), "{:?}", fit.warnings);
}

#[test]
fn degenerate_inputs_are_errors_naming_the_problem() {
    let data = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![false, false, false]).unwrap();
    let x = Covariates::new(vec![("age".into(), vec![50.0, 60.0, 70.0])]).unwrap();
    assert!(matches!(fit_cox(&data, &x, None, None, false, &CoxConfig::default()), Err(StatsError::NotEstimable(_))));
    let data = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![true, true, false]).unwrap();
    let constant = Covariates::new(vec![("sex".into(), vec![1.0, 1.0, 1.0])]).unwrap();
    let err = fit_cox(&data, &constant, None, None, false, &CoxConfig::default()).unwrap_err();
    assert!(err.to_string().contains("sex"), "{err}");
    let bad = Covariates::new(vec![("age".into(), vec![1.0, f64::NAN])]).unwrap_err();
    assert!(bad.to_string().contains("observation 1") && bad.to_string().contains("age"), "{bad}");
}

#[test]
fn clusters_of_size_one_equal_the_robust_fit() {
    let f = fixture("cox.json");
    let case = f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "rossi efron robust").unwrap();
    let data = SurvivalData::new(floats(&case["time"]), events(&case["event"])).unwrap();
    let x = covariates(case);
    let ids: Vec<String> = (0..data.len()).map(|i| i.to_string()).collect();
    let a = fit_cox(&data, &x, None, None, true, &CoxConfig::default()).unwrap();
    let b = fit_cox(&data, &x, None, Some(&ids), false, &CoxConfig::default()).unwrap();
    for (p, q) in a.coefficients.iter().zip(&b.coefficients) {
        assert!((p.se - q.se).abs() < 1e-12 * p.se);
    }
}

#[test]
fn rank_ph_test_is_invariant_to_monotone_time_changes() {
    // No package computes the tie-averaged rank scale (lifelines breaks tied ranks by row order),
    // so check its defining property: Cox fits and event ranks ignore monotone time changes.
    let f = fixture("cox.json");
    let case = f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "rossi efron").unwrap();
    let x = covariates(case);
    let time = floats(&case["time"]);
    let squared: Vec<f64> = time.iter().map(|t| t * t + 3.0).collect();
    let test = |t: Vec<f64>| {
        let data = SurvivalData::new(t, events(&case["event"])).unwrap();
        let fit = fit_cox(&data, &x, None, None, false, &CoxConfig::default()).unwrap();
        proportional_hazards_test(&data, &x, None, &fit, PhTransform::Rank).unwrap()
    };
    let (a, b) = (test(time), test(squared));
    for ((_, p), (_, q)) in a.terms.iter().zip(&b.terms) {
        assert!((p.chi2 - q.chi2).abs() < 1e-9 * p.chi2.max(1.0));
    }
    assert!((a.global.chi2 - b.global.chi2).abs() < 1e-9 * a.global.chi2);
}
