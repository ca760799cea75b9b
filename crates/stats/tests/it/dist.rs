//! statrs distributions against SciPy 1.17 (`dist.json`). Tolerance 1e-9 relative: both libraries
//! claim near double precision for these functions; 1e-9 leaves room for different algorithms.

use crate::{check, fixture};
use cryoseed_stats::dist;

#[test]
fn distributions_agree_with_scipy() {
    let f = fixture("dist.json");
    for row in f["rows"].as_array().unwrap() {
        let x = row["x"].as_f64().unwrap();
        match row["dist"].as_str().unwrap() {
            "normal" => {
                check(&format!("Φ({x})"), Some(dist::normal_cdf(x)), &row["cdf"], 1e-9);
                check(&format!("1-Φ({x})"), Some(dist::normal_sf(x)), &row["sf"], 1e-9);
            }
            "normal_quantile" => check(&format!("Φ⁻¹({x})"), Some(dist::normal_quantile(x)), &row["value"], 1e-9),
            "chi2" => {
                let df = row["df"].as_f64().unwrap();
                check(&format!("χ²({df}) sf({x})"), Some(dist::chi2_sf(x, df)), &row["sf"], 1e-9);
            }
            "beta_quantile" => {
                let (a, b) = (row["a"].as_f64().unwrap(), row["b"].as_f64().unwrap());
                check(&format!("Beta({a},{b}) quantile {x}"), Some(dist::beta_quantile(x, a, b)), &row["value"], 1e-9);
            }
            other => panic!("unknown distribution {other}"),
        }
    }
}
