//! Logistic regression and GEE against statsmodels 0.15 (`Logit`, `GEE` with ctol 1e-12; profile
//! intervals by brentq on statsmodels GLM refits with offsets). Tolerance 1e-6 relative.

use crate::{check, fixture, floats, strings};
use cryoseed_core::protocol::GeeCorrelation;
use cryoseed_stats::{Covariates, GeeLink, cluster_bootstrap, fit_gee, fit_logistic};
use serde_json::Value;

const TOL: f64 = 1e-6;

/// The fixture's design without its constant column (the crate adds the intercept).
fn covariates(case: &Value) -> Covariates {
    let names = strings(&case["names"]);
    let rows = case["x"].as_array().unwrap();
    Covariates::new(
        names
            .iter()
            .enumerate()
            .skip(1)
            .map(|(j, n)| (n.clone(), rows.iter().map(|r| r[j].as_f64().unwrap()).collect()))
            .collect(),
    )
    .unwrap()
}

#[test]
fn logistic_regression_matches_statsmodels() {
    let f = fixture("glm.json");
    for case in f["logistic"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let fit = fit_logistic(&floats(&case["y"]), &covariates(case), 0.95).unwrap();
        assert!(!fit.is_separated && fit.warnings.is_empty(), "{label}: {:?}", fit.warnings);
        check(&format!("{label} loglik"), Some(fit.log_likelihood), &case["log_likelihood"], TOL);
        check(&format!("{label} null loglik"), Some(fit.null_log_likelihood), &case["null_log_likelihood"], TOL);
        for (j, c) in fit.coefficients.iter().enumerate() {
            let at = format!("{label} {}", c.name);
            check(&format!("{at} coef"), Some(c.coef), &case["coef"][j], TOL);
            check(&format!("{at} se"), Some(c.se), &case["se"][j], TOL);
            check(&format!("{at} z"), Some(c.z), &case["z"][j], TOL);
            check(&format!("{at} p"), Some(c.p_value), &case["p_value"][j], TOL);
            check(&format!("{at} wald lower"), Some(c.ci.0), &case["wald_ci"][j][0], TOL);
            check(&format!("{at} wald upper"), Some(c.ci.1), &case["wald_ci"][j][1], TOL);
            let (lo, hi) = c.profile_ci.unwrap();
            check(&format!("{at} profile lower"), lo, &case["profile_ci"][j][0], TOL);
            check(&format!("{at} profile upper"), hi, &case["profile_ci"][j][1], TOL);
        }
    }
}

#[test]
fn gee_matches_statsmodels() {
    let f = fixture("glm.json");
    for case in f["gee"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let link = if case["link"] == "logit" { GeeLink::Logit } else { GeeLink::Identity };
        let corr = if case["correlation"] == "exchangeable" {
            GeeCorrelation::Exchangeable
        } else {
            GeeCorrelation::Independence
        };
        let fit =
            fit_gee(&floats(&case["y"]), &covariates(case), &strings(&case["cluster"]), link, corr, 0.95).unwrap();
        assert!(fit.converged, "{label}");
        check(&format!("{label} alpha"), Some(fit.working_correlation), &case["working_correlation"], TOL);
        for (j, c) in fit.coefficients.iter().enumerate() {
            let at = format!("{label} {}", c.name);
            check(&format!("{at} coef"), Some(c.coef), &case["coef"][j], TOL);
            check(&format!("{at} robust se"), Some(c.se), &case["se"][j], TOL);
            check(&format!("{at} z"), Some(c.z), &case["z"][j], TOL);
            check(&format!("{at} p"), Some(c.p_value), &case["p_value"][j], TOL);
            check(&format!("{at} lower"), Some(c.ci.0), &case["ci"][j][0], TOL);
            check(&format!("{at} upper"), Some(c.ci.1), &case["ci"][j][1], TOL);
        }
    }
}

#[test]
fn separation_in_logistic_regression_is_reported() {
    let y = vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let x = Covariates::new(vec![("dose".into(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])]).unwrap();
    let fit = fit_logistic(&y, &x, 0.95).unwrap();
    assert!(fit.is_separated, "{fit:?}");
    assert!(fit.warnings[0].contains("dose"), "{:?}", fit.warnings);
    let bad =
        fit_logistic(&[0.0, 2.0], &Covariates::new(vec![("d".into(), vec![1.0, 2.0])]).unwrap(), 0.95).unwrap_err();
    assert!(bad.to_string().contains("observation 1") && bad.to_string().contains("0 or 1"), "{bad}");
}

#[test]
fn clusters_of_size_one_make_exchangeable_gee_equal_independence() {
    let f = fixture("glm.json");
    let case = &f["logistic"][1]; // sim_lesions local_control ~ arm + d90, one row per lesion
    let y = floats(&case["y"]);
    let x = covariates(case);
    let singletons: Vec<String> = (0..y.len()).map(|i| i.to_string()).collect();
    let ex = fit_gee(&y, &x, &singletons, GeeLink::Logit, GeeCorrelation::Exchangeable, 0.95).unwrap();
    let ind = fit_gee(&y, &x, &singletons, GeeLink::Logit, GeeCorrelation::Independence, 0.95).unwrap();
    assert_eq!(ex.working_correlation, 0.0);
    let ml = fit_logistic(&y, &x, 0.95).unwrap();
    for ((a, b), c) in ex.coefficients.iter().zip(&ind.coefficients).zip(&ml.coefficients) {
        assert!((a.coef - b.coef).abs() < 1e-10 && (a.coef - c.coef).abs() < 1e-8, "{a:?} {b:?} {c:?}");
        assert!((a.se - b.se).abs() < 1e-10);
    }
}

#[test]
fn cluster_bootstrap_is_seeded_and_close_to_the_robust_se() {
    let f = fixture("glm.json");
    let case = &f["gee"][0]; // local_control ~ arm, logit, independence
    let y = floats(&case["y"]);
    let x = covariates(case);
    let cluster = strings(&case["cluster"]);
    let stat = |rows: &[usize], ids: &[usize]| {
        let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
        let xx = Covariates::new(vec![("arm".into(), rows.iter().map(|&i| x.row(i)[0]).collect())]).ok()?;
        let cl: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        let fit = fit_gee(&yy, &xx, &cl, GeeLink::Logit, GeeCorrelation::Independence, 0.95).ok()?;
        Some(vec![fit.coefficients[1].coef])
    };
    let a = cluster_bootstrap(&cluster, 400, 20261128, 0.95, stat).unwrap();
    let b = cluster_bootstrap(&cluster, 400, 20261128, 0.95, stat).unwrap();
    assert_eq!(a, b, "same seed, same result");
    // The bootstrap SE estimates the same quantity as the robust SE (0.2686); with 400
    // replicates its Monte Carlo relative error is about 1/sqrt(2·400) = 3.5 %, so 15 % is > 4 SD.
    let robust = case["se"][1].as_f64().unwrap();
    assert!((a.std_err[0] / robust - 1.0).abs() < 0.15, "bootstrap {} vs robust {robust}", a.std_err[0]);
    let coef = case["coef"][1].as_f64().unwrap();
    assert!(a.percentile_ci[0].0 < coef && coef < a.percentile_ci[0].1);
}
