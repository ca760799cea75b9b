//! Competing risks: the Aalen–Johansen cumulative incidence function with its variance, and
//! Gray's K-sample test.
//!
//! Status coding: 0 = censored, k ≥ 1 = failure from cause k (the trial uses 1 = local
//! progression, 2 = death without it).

use crate::data::{Grouping, invalid, k_sample_grouping, order_by_time};
use crate::dist::{chi2_sf, z_for_level};
use crate::error::{Result, StatsError, check_level};
use crate::linalg::{Matrix, quad_form};

/// Validated competing-risks observations.
#[derive(Debug, Clone, PartialEq)]
pub struct CompetingRisksData {
    time: Vec<f64>,
    status: Vec<u32>,
}

impl CompetingRisksData {
    /// Validates times (finite, ≥ 0) and pairs them with a status (0 censored, k ≥ 1 cause k).
    pub fn new(time: Vec<f64>, status: Vec<u32>) -> Result<Self> {
        if status.len() != time.len() {
            return Err(StatsError::LengthMismatch { what: "status", expected: time.len(), found: status.len() });
        }
        for (i, &t) in time.iter().enumerate() {
            if !t.is_finite() || t < 0.0 {
                return Err(invalid(i, "time", format!("must be a finite time ≥ 0, got {t}")));
            }
        }
        Ok(CompetingRisksData { time, status })
    }

    /// Times.
    pub fn time(&self) -> &[f64] {
        &self.time
    }

    /// Status codes.
    pub fn status(&self) -> &[u32] {
        &self.status
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

/// One row of a cumulative incidence table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CifRow {
    /// Distinct observed time.
    pub time: f64,
    /// At risk just before `time`.
    pub n_risk: usize,
    /// Failures from the cause of interest at `time`.
    pub n_event: usize,
    /// Failures from other causes at `time`.
    pub n_competing: usize,
    /// Censorings at `time`.
    pub n_censor: usize,
    /// F̂ₖ(time).
    pub cif: f64,
    /// Delta-method (Greenwood-type) variance of F̂ₖ(time); `None` once everybody at risk has
    /// failed at one time (the Greenwood term is undefined).
    pub variance: Option<f64>,
    /// Lower bound (log(−log) transform).
    pub ci_lower: Option<f64>,
    /// Upper bound.
    pub ci_upper: Option<f64>,
}

/// Cumulative incidence of one cause.
#[derive(Debug, Clone, PartialEq)]
pub struct CumulativeIncidence {
    /// Cause of interest.
    pub cause: u32,
    /// Confidence level.
    pub level: f64,
    /// One row per distinct time.
    pub table: Vec<CifRow>,
}

impl CumulativeIncidence {
    /// F̂ₖ(t): the last row at or before t (0 before the first time).
    pub fn at(&self, t: f64) -> Option<&CifRow> {
        self.table.iter().rev().find(|r| r.time <= t)
    }
}

/// Aalen–Johansen estimate of the cumulative incidence of `cause`,
/// F̂ₖ(t) = Σ_{tⱼ ≤ t} Ŝ(tⱼ₋₁) dₖⱼ / nⱼ (Ŝ the all-cause Kaplan–Meier), with the delta-method
/// variance (Collett 2015, §12.2.2; SAS LIFETEST; lifelines `AalenJohansenFitter`)
/// Var F̂ₖ(t) = Σ_{tⱼ ≤ t} {[F̂ₖ(t) − F̂ₖ(tⱼ)]² dⱼ / (nⱼ (nⱼ − dⱼ)) + Ŝ(tⱼ₋₁)² dₖⱼ (nⱼ − dₖⱼ) / nⱼ³
///   − 2 [F̂ₖ(t) − F̂ₖ(tⱼ)] Ŝ(tⱼ₋₁) dₖⱼ / nⱼ²}
/// and log(−log) intervals. Unlike lifelines, tied times are used as they are (no jitter).
pub fn aalen_johansen(data: &CompetingRisksData, cause: u32, level: f64) -> Result<CumulativeIncidence> {
    check_level(level)?;
    if cause == 0 {
        return Err(StatsError::InvalidParameter {
            name: "cause",
            problem: "0 means censored; causes are 1, 2, …".into(),
        });
    }
    if data.is_empty() {
        return Err(StatsError::NotEstimable("cumulative incidence: no observations".into()));
    }
    let z = z_for_level(level);
    let order = order_by_time(data.time());
    let mut table = Vec::new();
    let mut n_risk = data.len();
    let mut s_prev = 1.0;
    let mut f = 0.0;
    // Running coefficients of Var(F(t)) as a polynomial in F(t): Σ a (F − b)² and Σ a (F − b).
    let (mut q2, mut q1, mut q0) = (0.0, 0.0, 0.0);
    let (mut l1, mut l0) = (0.0, 0.0);
    let mut second = 0.0;
    let mut i = 0;
    while i < order.len() {
        let t = data.time()[order[i]];
        let (mut dk, mut dother, mut c) = (0usize, 0usize, 0usize);
        while i < order.len() && data.time()[order[i]] == t {
            match data.status()[order[i]] {
                0 => c += 1,
                s if s == cause => dk += 1,
                _ => dother += 1,
            }
            i += 1;
        }
        let n = n_risk as f64;
        let d = (dk + dother) as f64;
        let dkf = dk as f64;
        f += s_prev * dkf / n;
        let a = if d > 0.0 { d / (n * (n - d)) } else { 0.0 };
        let a = if d > 0.0 && n == d { f64::INFINITY } else { a };
        if a != 0.0 {
            q2 += a;
            q1 -= 2.0 * a * f;
            q0 += a * f * f;
        }
        second += s_prev * s_prev * dkf * (n - dkf) / (n * n * n);
        let b = s_prev * dkf / (n * n);
        l1 += b;
        l0 -= b * f;
        let variance = q0 + q1 * f + q2 * f * f + second - 2.0 * (l0 + l1 * f);
        let variance = if variance.is_finite() { Some(variance.max(0.0)) } else { None };
        let (ci_lower, ci_upper) = match variance {
            Some(v) if f > 0.0 && f < 1.0 => {
                let g = (-f.ln()).ln();
                let se = v.sqrt() / (f * f.ln().abs());
                let x = (-(g + z * se).exp()).exp();
                let y = (-(g - z * se).exp()).exp();
                (Some(x.min(y)), Some(x.max(y)))
            }
            _ => (None, None),
        };
        table.push(CifRow {
            time: t,
            n_risk,
            n_event: dk,
            n_competing: dother,
            n_censor: c,
            cif: f,
            variance,
            ci_lower,
            ci_upper,
        });
        s_prev *= 1.0 - d / n;
        n_risk -= dk + dother + c;
    }
    Ok(CumulativeIncidence { cause, level, table })
}

/// Result of Gray's test.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayTest {
    /// χ² statistic sᵀ V⁻¹ s.
    pub chi2: f64,
    /// Degrees of freedom: groups − 1.
    pub df: usize,
    /// Upper-tail p-value.
    pub p_value: f64,
    /// Group labels in sorted order.
    pub groups: Vec<String>,
}

/// Gray's (1988) test that the cumulative incidence of `cause` is equal across groups,
/// optionally stratified, with weight (1 − F̂(t−))^ρ (ρ = 0, the default of R `cmprsk::cuminc`,
/// weights all times equally).
///
/// Score for group g: Σ_t w(t) [d₁g(t) − d₁(t) Rg(t) / R(t)] with the subdistribution risk sets
/// Rg(t) = ng(t) (1 − F̂g(t−)) / Ŝg(t−); the variance is Gray's martingale-based estimator
/// (Gray 1988, §2), accumulated over cause-of-interest and competing failures.
pub fn gray_test(
    data: &CompetingRisksData,
    group: &[String],
    strata: Option<&[String]>,
    cause: u32,
    rho: f64,
) -> Result<GrayTest> {
    let n = data.len();
    let Grouping { levels, codes, strata_codes, n_strata } = k_sample_grouping(n, group, strata, "Gray's test")?;
    let k = levels.len();
    let m = k - 1;
    let mut score = vec![0.0; m];
    let mut var = Matrix::zeros(m);
    for stratum in 0..n_strata {
        let rows: Vec<usize> = (0..n).filter(|&i| strata_codes[i] == stratum).collect();
        let (s, v) = gray_stratum(data, &codes, &rows, k, cause, rho);
        for i in 0..m {
            score[i] += s[i];
            for j in 0..m {
                *var.at_mut(i, j) += v.at(i, j);
            }
        }
    }
    let inv = var.inverse_spd().ok_or_else(|| {
        StatsError::NotEstimable("Gray's test: singular variance (no failures from the cause of interest?)".into())
    })?;
    let chi2 = quad_form(&inv, &score);
    Ok(GrayTest { chi2, df: m, p_value: chi2_sf(chi2, m as f64), groups: levels })
}

/// Score and variance of Gray's test within one stratum.
fn gray_stratum(
    data: &CompetingRisksData,
    codes: &[usize],
    rows: &[usize],
    k: usize,
    cause: u32,
    rho: f64,
) -> (Vec<f64>, Matrix) {
    let m = k - 1;
    let times: Vec<f64> = rows.iter().map(|&i| data.time()[i]).collect();
    let order: Vec<usize> = order_by_time(&times).into_iter().map(|j| rows[j]).collect();
    let mut at_risk = vec![0usize; k];
    for &i in &order {
        at_risk[codes[i]] += 1;
    }
    // Per group: all-cause KM and CIF, left limits (…_before) and right values.
    let mut surv_before = vec![1.0; k];
    let mut surv = vec![1.0; k];
    let mut cif_before = vec![0.0; k];
    let mut cif = vec![0.0; k];
    let mut pooled_before = 0.0; // pooled subdistribution CIF, left limit
    let mut score = vec![0.0; m];
    // Accumulators: c (k × k, the integrated weights), and the variance pieces.
    let mut c = vec![vec![0.0; k]; k];
    let mut v_diag = vec![0.0; k];
    let mut v_cross = vec![vec![0.0; k]; m];
    let mut v = Matrix::zeros(m);
    let mut pos = 0;
    while pos < order.len() {
        let t = data.time()[order[pos]];
        let mut failures = vec![[0usize; 2]; k]; // [cause of interest, other causes]
        let mut leaving = vec![0usize; k];
        while pos < order.len() && data.time()[order[pos]] == t {
            let i = order[pos];
            let g = codes[i];
            match data.status()[i] {
                0 => {}
                s if s == cause => failures[g][0] += 1,
                _ => failures[g][1] += 1,
            }
            leaving[g] += 1;
            pos += 1;
        }
        let d1: usize = failures.iter().map(|f| f[0]).sum();
        let d2: usize = failures.iter().map(|f| f[1]).sum();
        if d1 + d2 > 0 {
            // h = Σ n_g / S_g(t−) and R = Σ n_g (1 − F_g(t−)) / S_g(t−).
            let (mut h_sum, mut r_sum) = (0.0, 0.0);
            for g in 0..k {
                if at_risk[g] == 0 {
                    continue;
                }
                let ng = at_risk[g] as f64;
                let dg = (failures[g][0] + failures[g][1]) as f64;
                surv[g] = surv_before[g] * (ng - dg) / ng;
                cif[g] = cif_before[g] + surv_before[g] * failures[g][0] as f64 / ng;
                h_sum += ng / surv_before[g];
                r_sum += ng * (1.0 - cif_before[g]) / surv_before[g];
            }
            let d1f = d1 as f64;
            let pooled = pooled_before + d1f / h_sum;
            let w = (1.0 - pooled_before).powf(rho);
            // a: the weight matrix of the score's martingale representation at this time.
            let mut a = vec![vec![0.0; k]; k];
            for i in 0..k {
                if at_risk[i] == 0 {
                    continue;
                }
                let hi = at_risk[i] as f64 / surv_before[i];
                for j in 0..k {
                    if at_risk[j] == 0 {
                        continue;
                    }
                    let hj = at_risk[j] as f64 / surv_before[j];
                    a[i][j] = if i == j { w * hi * (1.0 - hi / h_sum) } else { -w * hi * hj / h_sum };
                    c[i][j] += a[i][j] * d1f / (h_sum * (1.0 - pooled_before));
                }
            }
            for g in 0..m {
                if at_risk[g] > 0 {
                    let ng = at_risk[g] as f64;
                    score[g] +=
                        w * (failures[g][0] as f64 - d1f * ng * (1.0 - cif_before[g]) / (surv_before[g] * r_sum));
                }
            }
            if d1 > 0 {
                for l in 0..k {
                    if at_risk[l] == 0 {
                        continue;
                    }
                    let nl = at_risk[l] as f64;
                    let t4 = if surv[l] > 0.0 { 1.0 - (1.0 - pooled) / surv[l] } else { 1.0 };
                    // Tie correction for several simultaneous failures.
                    let t5 = if d1 > 1 { 1.0 - (d1f - 1.0) / (h_sum * surv_before[l] - 1.0) } else { 1.0 };
                    let t3 = t5 * surv_before[l] * d1f / (h_sum * nl);
                    v_diag[l] += t4 * t4 * t3;
                    for i in 0..m {
                        let e_i = a[i][l] - t4 * c[i][l];
                        v_cross[i][l] += e_i * t4 * t3;
                        for j in 0..=i {
                            let e_j = a[j][l] - t4 * c[j][l];
                            *v.at_mut(i, j) += e_i * e_j * t3;
                        }
                    }
                }
            }
            if d2 > 0 {
                for l in 0..k {
                    let d2l = failures[l][1];
                    if surv[l] <= 0.0 || d2l == 0 {
                        continue;
                    }
                    let nl = at_risk[l] as f64;
                    let t4 = (1.0 - pooled) / surv[l];
                    let t5 = if d2l > 1 { 1.0 - (d2l as f64 - 1.0) / (nl - 1.0) } else { 1.0 };
                    let t3 = t5 * surv_before[l] * surv_before[l] * d2l as f64 / (nl * nl);
                    v_diag[l] += t4 * t4 * t3;
                    for i in 0..m {
                        let e_i = t4 * c[i][l];
                        v_cross[i][l] -= e_i * t4 * t3;
                        for j in 0..=i {
                            *v.at_mut(i, j) += e_i * t4 * c[j][l] * t3;
                        }
                    }
                }
            }
            pooled_before = pooled;
            surv_before.clone_from(&surv);
            cif_before.clone_from(&cif);
        }
        for g in 0..k {
            at_risk[g] -= leaving[g];
        }
    }
    for i in 0..m {
        for j in 0..=i {
            let mut extra = 0.0;
            for l in 0..k {
                extra += c[i][l] * c[j][l] * v_diag[l] + c[i][l] * v_cross[j][l] + c[j][l] * v_cross[i][l];
            }
            *v.at_mut(i, j) += extra;
            let value = v.at(i, j);
            *v.at_mut(j, i) = value;
        }
    }
    (score, v)
}
