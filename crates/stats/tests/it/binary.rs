//! Proportions and 2 × 2 tables against statsmodels 0.15 (`proportion_confint`,
//! `confint_proportions_2indep(method="newcomb")`, `StratifiedTable`) and SciPy 1.17
//! (`binomtest(...).proportion_ci`, `fisher_exact`). Tolerance 1e-6 relative.

use crate::{check, fixture};
use cryoseed_stats::{
    agresti_coull, clopper_pearson, cochran_mantel_haenszel, fisher_exact, newcombe_difference, wilson,
};
use serde_json::Value;

const TOL: f64 = 1e-6;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn table(v: &Value) -> [[u64; 2]; 2] {
    [[u(&v[0][0]), u(&v[0][1])], [u(&v[1][0]), u(&v[1][1])]]
}

#[test]
fn one_proportion_intervals() {
    let f = fixture("binary.json");
    for row in f["proportions"].as_array().unwrap() {
        let (x, n, level) = (u(&row["x"]), u(&row["n"]), row["level"].as_f64().unwrap());
        let cases = [
            ("clopper_pearson", clopper_pearson(x, n, level).unwrap()),
            ("clopper_pearson_scipy", clopper_pearson(x, n, level).unwrap()),
            ("wilson", wilson(x, n, level).unwrap()),
            ("agresti_coull", agresti_coull(x, n, level).unwrap()),
        ];
        for (name, ci) in cases {
            check(&format!("{name} {x}/{n} {level} lower"), Some(ci.lower), &row[name][0], TOL);
            check(&format!("{name} {x}/{n} {level} upper"), Some(ci.upper), &row[name][1], TOL);
        }
    }
    assert!(clopper_pearson(3, 2, 0.95).is_err());
    assert!(wilson(0, 0, 0.95).is_err());
}

#[test]
fn newcombe_difference_interval() {
    let f = fixture("binary.json");
    for row in f["differences"].as_array().unwrap() {
        let ci = newcombe_difference(u(&row["x1"]), u(&row["n1"]), u(&row["x2"]), u(&row["n2"]), 0.95).unwrap();
        check(&format!("newcombe {row}"), Some(ci.lower), &row["newcombe"][0], TOL);
        check(&format!("newcombe {row}"), Some(ci.upper), &row["newcombe"][1], TOL);
    }
}

#[test]
fn fisher_exact_test() {
    let f = fixture("binary.json");
    for row in f["fisher"].as_array().unwrap() {
        let t = fisher_exact(table(&row["table"]));
        let at = format!("fisher {}", row["table"]);
        check(&format!("{at} two-sided"), Some(t.p_two_sided), &row["p_two_sided"], TOL);
        check(&format!("{at} greater"), Some(t.p_greater), &row["p_greater"], TOL);
        check(&format!("{at} less"), Some(t.p_less), &row["p_less"], TOL);
        match row["odds_ratio"].as_f64() {
            Some(_) => check(&format!("{at} OR"), Some(t.odds_ratio), &row["odds_ratio"], TOL),
            None => assert!(!t.odds_ratio.is_finite(), "{at}"),
        }
    }
}

#[test]
fn cochran_mantel_haenszel_test() {
    let f = fixture("binary.json");
    let cmh = &f["cmh"];
    let tables: Vec<[[u64; 2]; 2]> = cmh["tables"].as_array().unwrap().iter().map(table).collect();
    for test in cmh["tests"].as_array().unwrap() {
        let correction = test["correction"].as_bool().unwrap();
        let r = cochran_mantel_haenszel(&tables, correction, 0.95).unwrap();
        check(&format!("CMH chi2 correction={correction}"), Some(r.chi2), &test["chi2"], TOL);
        check(&format!("CMH p correction={correction}"), Some(r.p_value), &test["p_value"], TOL);
        check("MH odds ratio", Some(r.odds_ratio), &cmh["mh_odds_ratio"], TOL);
        check("MH OR lower", Some(r.odds_ratio_ci.lower), &cmh["mh_odds_ratio_ci"][0], TOL);
        check("MH OR upper", Some(r.odds_ratio_ci.upper), &cmh["mh_odds_ratio_ci"][1], TOL);
    }
}
