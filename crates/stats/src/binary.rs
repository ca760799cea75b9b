//! Binary outcomes: intervals for one proportion and for a difference, Fisher's exact test and
//! the Cochran–Mantel–Haenszel test across strata.
//!
//! Conventions follow statsmodels 0.15 `proportion_confint` / `confint_proportions_2indep` and
//! SciPy 1.17 `fisher_exact` (which are R's `binom.test`, `prop.test`-free Wilson, Newcombe's
//! method 10 and `fisher.test`); the tests hold them to those packages to 1e-6 relative.

use crate::dist::{beta_quantile, chi2_sf, z_for_level};
use crate::error::{Result, StatsError, check_level};
use statrs::function::gamma::ln_gamma;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

fn check_counts(x: u64, n: u64) -> Result<()> {
    if n == 0 {
        return Err(StatsError::InvalidParameter { name: "n", problem: "no trials".into() });
    }
    if x > n {
        return Err(StatsError::InvalidParameter { name: "x", problem: format!("{x} successes out of {n} trials") });
    }
    Ok(())
}

/// Clopper & Pearson (1934) exact interval: the α/2 and 1 − α/2 quantiles of Beta(x, n − x + 1)
/// and Beta(x + 1, n − x); 0 when x = 0 and 1 when x = n.
pub fn clopper_pearson(x: u64, n: u64, level: f64) -> Result<Interval> {
    check_counts(x, n)?;
    check_level(level)?;
    let a = (1.0 - level) / 2.0;
    let (xf, nf) = (x as f64, n as f64);
    let lower = if x == 0 { 0.0 } else { beta_quantile(a, xf, nf - xf + 1.0) };
    let upper = if x == n { 1.0 } else { beta_quantile(1.0 - a, xf + 1.0, nf - xf) };
    Ok(Interval { lower, upper })
}

/// Wilson (1927) score interval: (x + z²/2) / (n + z²) ± z / (n + z²) √(x (n − x) / n + z² / 4).
pub fn wilson(x: u64, n: u64, level: f64) -> Result<Interval> {
    check_counts(x, n)?;
    check_level(level)?;
    let z = z_for_level(level);
    let (xf, nf) = (x as f64, n as f64);
    let z2 = z * z;
    let center = (xf + z2 / 2.0) / (nf + z2);
    let half = z / (nf + z2) * (xf * (nf - xf) / nf + z2 / 4.0).sqrt();
    Ok(Interval { lower: center - half, upper: center + half })
}

/// Agresti & Coull (1998) interval: the Wald interval around p̃ = (x + z²/2) / (n + z²) with
/// ñ = n + z², clipped to [0, 1] as statsmodels does.
pub fn agresti_coull(x: u64, n: u64, level: f64) -> Result<Interval> {
    check_counts(x, n)?;
    check_level(level)?;
    let z = z_for_level(level);
    let nt = n as f64 + z * z;
    let pt = (x as f64 + z * z / 2.0) / nt;
    let half = z * (pt * (1.0 - pt) / nt).sqrt();
    Ok(Interval { lower: (pt - half).max(0.0), upper: (pt + half).min(1.0) })
}

/// Newcombe (1998) hybrid score interval for p₁ − p₂ (his method 10), from the Wilson
/// intervals (l₁, u₁), (l₂, u₂): δ − √((p₁ − l₁)² + (u₂ − p₂)²), δ + √((u₁ − p₁)² + (p₂ − l₂)²).
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64, level: f64) -> Result<Interval> {
    let w1 = wilson(x1, n1, level)?;
    let w2 = wilson(x2, n2, level)?;
    let p1 = x1 as f64 / n1 as f64;
    let p2 = x2 as f64 / n2 as f64;
    let d = p1 - p2;
    Ok(Interval {
        lower: d - ((p1 - w1.lower).powi(2) + (w2.upper - p2).powi(2)).sqrt(),
        upper: d + ((w1.upper - p1).powi(2) + (p2 - w2.lower).powi(2)).sqrt(),
    })
}

/// Result of Fisher's exact test on a 2 × 2 table [[a, b], [c, d]].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FisherTest {
    /// Sample odds ratio a d / (b c) (infinite or NaN when a margin cell is zero, as SciPy).
    pub odds_ratio: f64,
    /// Two-sided p-value: the probability of tables no more likely than the observed one.
    pub p_two_sided: f64,
    /// One-sided p-value for an odds ratio greater than 1.
    pub p_greater: f64,
    /// One-sided p-value for an odds ratio less than 1.
    pub p_less: f64,
}

/// Fisher's exact test (Fisher 1935) conditioning on both margins: the count `a` is
/// hypergeometric. Two-sided p sums the tables whose probability is ≤ the observed one's times
/// 1 + 1e-7 (R `fisher.test`, SciPy ≥ 1.11).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> FisherTest {
    let [[a, b], [c, d]] = table;
    let row1 = a + b;
    let col1 = a + c;
    let n = a + b + c + d;
    let lo = col1.saturating_sub(n - row1);
    let hi = row1.min(col1);
    let ln_choose =
        |n: u64, k: u64| ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0);
    let ln_total = ln_choose(n, col1);
    let pmf = |k: u64| (ln_choose(row1, k) + ln_choose(n - row1, col1 - k) - ln_total).exp();
    let p_obs = pmf(a);
    let (mut two, mut greater, mut less) = (0.0, 0.0, 0.0);
    for k in lo..=hi {
        let pk = pmf(k);
        if pk <= p_obs * (1.0 + 1e-7) {
            two += pk;
        }
        if k >= a {
            greater += pk;
        }
        if k <= a {
            less += pk;
        }
    }
    let (num, den) = ((a * d) as f64, (b * c) as f64);
    let odds_ratio = if den == 0.0 { if num == 0.0 { f64::NAN } else { f64::INFINITY } } else { num / den };
    FisherTest { odds_ratio, p_two_sided: two.min(1.0), p_greater: greater.min(1.0), p_less: less.min(1.0) }
}

/// Result of the Cochran–Mantel–Haenszel test over K 2 × 2 tables.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CmhTest {
    /// χ² statistic (1 degree of freedom).
    pub chi2: f64,
    /// Upper-tail p-value.
    pub p_value: f64,
    /// Mantel–Haenszel pooled odds ratio Σ aₖdₖ/nₖ / Σ bₖcₖ/nₖ.
    pub odds_ratio: f64,
    /// Interval of the pooled odds ratio from the Robins–Breslow–Greenland (1986) variance of
    /// its logarithm.
    pub odds_ratio_ci: Interval,
}

/// Cochran (1954) – Mantel & Haenszel (1959) test of a common odds ratio of 1:
/// (|Σ (aₖ − E aₖ)| − c)² / Σ Var aₖ with E aₖ = r₁ₖ c₁ₖ / nₖ,
/// Var aₖ = r₁ₖ r₂ₖ c₁ₖ c₂ₖ / (nₖ² (nₖ − 1)), c = ½ with the continuity `correction`.
/// Each table is [[a, b], [c, d]]; tables with fewer than two subjects are skipped.
pub fn cochran_mantel_haenszel(tables: &[[[u64; 2]; 2]], correction: bool, level: f64) -> Result<CmhTest> {
    check_level(level)?;
    let (mut dev, mut var) = (0.0, 0.0);
    let (mut r_sum, mut s_sum) = (0.0, 0.0);
    let (mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0);
    for t in tables {
        let [[a, b], [c, d]] = t.map(|r| r.map(|v| v as f64));
        let n = a + b + c + d;
        if n < 2.0 {
            continue;
        }
        dev += a - (a + b) * (a + c) / n;
        var += (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1.0));
        let (r, s) = (a * d / n, b * c / n);
        let (p, q) = ((a + d) / n, (b + c) / n);
        r_sum += r;
        s_sum += s;
        pr += p * r;
        ps_qr += p * s + q * r;
        qs += q * s;
    }
    if var <= 0.0 {
        return Err(StatsError::NotEstimable("Cochran–Mantel–Haenszel: every stratum has a zero margin".into()));
    }
    let num = (dev.abs() - if correction { 0.5 } else { 0.0 }).max(0.0);
    let chi2 = num * num / var;
    let odds_ratio = r_sum / s_sum;
    let var_log = pr / (2.0 * r_sum * r_sum) + ps_qr / (2.0 * r_sum * s_sum) + qs / (2.0 * s_sum * s_sum);
    let z = z_for_level(level);
    let se = var_log.sqrt();
    Ok(CmhTest {
        chi2,
        p_value: chi2_sf(chi2, 1.0),
        odds_ratio,
        odds_ratio_ci: Interval { lower: (odds_ratio.ln() - z * se).exp(), upper: (odds_ratio.ln() + z * se).exp() },
    })
}
