//! Log-rank and Fleming–Harrington weighted tests comparing survival between two or more groups,
//! optionally stratified.

use crate::data::{Grouping, SurvivalData, k_sample_grouping, order_by_time};
use crate::dist::chi2_sf;
use crate::error::{Result, StatsError};
use crate::linalg::{Matrix, quad_form};

/// Weight function of the weighted log-rank family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogRankWeight {
    /// w(t) = 1: the log-rank (Mantel–Haenszel) test.
    LogRank,
    /// Fleming & Harrington (1991) G(ρ, γ): w(t) = Ŝ(t−)^ρ (1 − Ŝ(t−))^γ, Ŝ the pooled
    /// Kaplan–Meier estimate (within the stratum) just before t. ρ = 1, γ = 0 is the
    /// Peto–Prentice-type test that weights early differences.
    FlemingHarrington {
        /// Exponent ρ of Ŝ(t−).
        rho: f64,
        /// Exponent γ of 1 − Ŝ(t−).
        gamma: f64,
    },
}

/// Observed and expected events of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRankGroup {
    /// Group label.
    pub group: String,
    /// Subjects.
    pub n: usize,
    /// Observed events.
    pub observed: usize,
    /// Expected events under the null (unweighted).
    pub expected: f64,
}

/// Result of a (weighted, stratified) log-rank test.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRankTest {
    /// χ² statistic Uᵀ V⁻ U.
    pub chi2: f64,
    /// Degrees of freedom: number of groups − 1.
    pub df: usize,
    /// Upper-tail χ² p-value.
    pub p_value: f64,
    /// Per-group observed and expected events, groups in sorted label order.
    pub groups: Vec<LogRankGroup>,
}

/// The K-sample weighted log-rank test (Mantel 1966; Peto & Peto 1972; Fleming & Harrington
/// 1991, §7.3): at each event time tⱼ of each stratum, Uₖ += w (dₖⱼ − nₖⱼ dⱼ / nⱼ) and
/// Vₖₗ += w² dⱼ (nⱼ − dⱼ) / (nⱼ − 1) · nₖⱼ / nⱼ (δₖₗ − nₗⱼ / nⱼ), summed over strata; the statistic is
/// Uᵀ V⁻¹ U on the first K − 1 groups, χ² with K − 1 degrees of freedom.
pub fn logrank_test(
    data: &SurvivalData,
    group: &[String],
    strata: Option<&[String]>,
    weight: LogRankWeight,
) -> Result<LogRankTest> {
    let n = data.len();
    let Grouping { levels, codes, strata_codes, n_strata } = k_sample_grouping(n, group, strata, "log-rank test")?;
    let k = levels.len();
    let mut u = vec![0.0; k];
    let mut v = Matrix::zeros(k);
    let mut expected = vec![0.0; k];
    for stratum in 0..n_strata {
        let rows: Vec<usize> = (0..n).filter(|&i| strata_codes[i] == stratum).collect();
        let times: Vec<f64> = rows.iter().map(|&i| data.time()[i]).collect();
        let order: Vec<usize> = order_by_time(&times).into_iter().map(|j| rows[j]).collect();
        let mut at_risk = vec![0usize; k];
        for &i in &order {
            at_risk[codes[i]] += 1;
        }
        let mut n_total = order.len();
        let mut s_pooled: f64 = 1.0;
        let mut pos = 0;
        while pos < order.len() {
            let t = data.time()[order[pos]];
            let mut d_g = vec![0usize; k];
            let mut removed = vec![0usize; k];
            while pos < order.len() && data.time()[order[pos]] == t {
                let i = order[pos];
                if data.event()[i] {
                    d_g[codes[i]] += 1;
                }
                removed[codes[i]] += 1;
                pos += 1;
            }
            let d: usize = d_g.iter().sum();
            if d > 0 {
                let w = match weight {
                    LogRankWeight::LogRank => 1.0,
                    LogRankWeight::FlemingHarrington { rho, gamma } => {
                        s_pooled.powf(rho) * (1.0 - s_pooled).powf(gamma)
                    }
                };
                let nt = n_total as f64;
                let df = d as f64;
                for g in 0..k {
                    let e = at_risk[g] as f64 * df / nt;
                    expected[g] += e;
                    u[g] += w * (d_g[g] as f64 - e);
                }
                if n_total > 1 {
                    let c = w * w * df * (nt - df) / (nt - 1.0);
                    for g in 0..k {
                        let pg = at_risk[g] as f64 / nt;
                        for h in 0..k {
                            let ph = at_risk[h] as f64 / nt;
                            *v.at_mut(g, h) += c * pg * (if g == h { 1.0 } else { 0.0 } - ph);
                        }
                    }
                }
                s_pooled *= 1.0 - df / nt;
            }
            for g in 0..k {
                at_risk[g] -= removed[g];
            }
            n_total -= removed.iter().sum::<usize>();
        }
    }
    let m = k - 1;
    let mut vr = Matrix::zeros(m);
    for g in 0..m {
        for h in 0..m {
            *vr.at_mut(g, h) = v.at(g, h);
        }
    }
    let inv = vr.inverse_spd().ok_or_else(|| {
        StatsError::NotEstimable(
            "log-rank test: the variance matrix is singular (no events, or a group never at risk at an event time)"
                .into(),
        )
    })?;
    let chi2 = quad_form(&inv, &u[..m]);
    let groups = (0..k)
        .map(|g| LogRankGroup {
            group: levels[g].clone(),
            n: codes.iter().filter(|&&c| c == g).count(),
            observed: (0..n).filter(|&i| codes[i] == g && data.event()[i]).count(),
            expected: expected[g],
        })
        .collect();
    Ok(LogRankTest { chi2, df: m, p_value: chi2_sf(chi2, m as f64), groups })
}
