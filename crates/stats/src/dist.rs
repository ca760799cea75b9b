//! Reference distributions, through `statrs` (checked against SciPy in the tests).

use statrs::distribution::{Beta, ChiSquared, Continuous as _, ContinuousCDF, Normal};

fn std_normal() -> Normal {
    Normal::standard()
}

/// Standard normal distribution function Φ(z).
pub fn normal_cdf(z: f64) -> f64 {
    std_normal().cdf(z)
}

/// Standard normal upper tail 1 − Φ(z), accurate far in the tail.
pub fn normal_sf(z: f64) -> f64 {
    std_normal().sf(z)
}

/// Standard normal density φ(z).
pub fn normal_pdf(z: f64) -> f64 {
    std_normal().pdf(z)
}

/// Standard normal quantile Φ⁻¹(p), p in (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    std_normal().inverse_cdf(p)
}

/// Two-sided p-value of a standard normal statistic: 2 (1 − Φ(|z|)).
pub fn normal_two_sided_p(z: f64) -> f64 {
    if z.is_nan() { f64::NAN } else { (2.0 * normal_sf(z.abs())).min(1.0) }
}

/// The z quantile of a two-sided interval at confidence `level` (1.959964 for 0.95).
pub fn z_for_level(level: f64) -> f64 {
    normal_quantile(0.5 + level / 2.0)
}

/// Upper tail P(X ≥ x) of a χ² distribution with `df` degrees of freedom.
pub fn chi2_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    ChiSquared::new(df).map(|d| d.sf(x)).unwrap_or(f64::NAN)
}

/// Quantile of a χ² distribution.
pub fn chi2_quantile(p: f64, df: f64) -> f64 {
    ChiSquared::new(df).map(|d| d.inverse_cdf(p)).unwrap_or(f64::NAN)
}

/// Quantile of a Beta(a, b) distribution (Clopper–Pearson bounds).
pub fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    Beta::new(a, b).map(|d| d.inverse_cdf(p)).unwrap_or(f64::NAN)
}
