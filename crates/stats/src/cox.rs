//! Cox proportional hazards regression: Efron or Breslow ties, strata, Newton–Raphson with
//! step-halving, model-based and robust (sandwich, clustered) variance, Wald / likelihood-ratio /
//! score tests, hazard ratios, Harrell's concordance, scaled Schoenfeld residuals and the
//! proportional-hazards test.
//!
//! Conventions (checked against lifelines 0.30 `CoxPHFitter` and statsmodels 0.15 `PHReg`):
//! - covariates are centred internally (β is unchanged, the arithmetic is stabler);
//! - the robust variance is the Lin & Wei (1989) sandwich I⁻¹ (Σ_c Uc Ucᵀ) I⁻¹ of Breslow-form
//!   score residuals summed within clusters, without a small-sample factor (R `coxph(robust =
//!   TRUE)` and statsmodels; R's Efron fits use Efron-weighted residuals instead, which differ in
//!   the fourth digit on heavily tied data);
//! - concordance is Harrell's C as R `concordance()` and lifelines compute it: a pair is
//!   comparable when the earlier time is an event (an event and a censoring at the same time are
//!   comparable, two events at the same time are not); ties in the linear predictor count ½;
//!   with strata, only pairs within a stratum are compared (R).

use crate::data::{SurvivalData, group_codes};
use crate::dist::{chi2_sf, normal_two_sided_p, z_for_level};
use crate::error::{Result, StatsError, check_level};
use crate::linalg::{Matrix, dot, quad_form};
use cryoseed_core::protocol::CoxTies;

/// Named numeric covariates, one value per observation for each (row-major storage).
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    names: Vec<String>,
    n: usize,
    /// Row-major n × p.
    values: Vec<f64>,
}

impl Covariates {
    /// Builds covariates from named columns; every value must be finite.
    pub fn new(columns: Vec<(String, Vec<f64>)>) -> Result<Self> {
        let n = columns.first().map_or(0, |c| c.1.len());
        let p = columns.len();
        let mut values = vec![0.0; n * p];
        let mut names = Vec::with_capacity(p);
        for (j, (name, col)) in columns.into_iter().enumerate() {
            if col.len() != n {
                return Err(StatsError::LengthMismatch { what: "covariate column", expected: n, found: col.len() });
            }
            for (i, &v) in col.iter().enumerate() {
                if !v.is_finite() {
                    return Err(crate::data::invalid(i, &name, format!("not a finite number: {v}")));
                }
                values[i * p + j] = v;
            }
            names.push(name);
        }
        Ok(Covariates { names, n, values })
    }

    /// Covariate names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Number of covariates.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// Row i.
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.width();
        &self.values[i * p..(i + 1) * p]
    }
}

/// Settings of a Cox fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxConfig {
    /// Tie handling.
    pub ties: CoxTies,
    /// Confidence level of hazard-ratio intervals.
    pub level: f64,
    /// Newton–Raphson iteration limit.
    pub max_iter: usize,
}

impl Default for CoxConfig {
    fn default() -> Self {
        CoxConfig { ties: CoxTies::Efron, level: 0.95, max_iter: 60 }
    }
}

/// One model term of a fitted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxCoefficient {
    /// Covariate name.
    pub name: String,
    /// β̂.
    pub coef: f64,
    /// Standard error (robust if the fit is robust).
    pub se: f64,
    /// Model-based standard error from the inverse information.
    pub se_model: f64,
    /// Wald z = β̂ / se.
    pub z: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
    /// Hazard ratio exp(β̂).
    pub hr: f64,
    /// Hazard-ratio interval exp(β̂ ± z se).
    pub hr_ci: (f64, f64),
    /// Whether β̂ appears to diverge (monotone likelihood, e.g. a covariate that separates events
    /// from non-events): the Newton step is still not negligible after the log-likelihood has
    /// converged (R `coxph`'s "coefficient may be infinite" check).
    pub is_infinite: bool,
}

/// A global test of β = 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiSquareTest {
    /// Statistic.
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value.
    pub p_value: f64,
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxFit {
    /// Terms, in covariate order.
    pub coefficients: Vec<CoxCoefficient>,
    /// Variance matrix of β̂ used for inference (robust if clustered/robust).
    pub variance: Matrix,
    /// Model-based variance I(β̂)⁻¹ (scales the Schoenfeld residuals).
    pub model_variance: Matrix,
    /// Tie handling of the fit.
    pub ties: CoxTies,
    /// Maximised log partial likelihood.
    pub log_likelihood: f64,
    /// Log partial likelihood at β = 0.
    pub null_log_likelihood: f64,
    /// Likelihood-ratio test 2 (ℓ(β̂) − ℓ(0)).
    pub lr_test: ChiSquareTest,
    /// Wald test β̂ᵀ V⁻¹ β̂.
    pub wald_test: ChiSquareTest,
    /// Score (log-rank-type) test U(0)ᵀ I(0)⁻¹ U(0).
    pub score_test: ChiSquareTest,
    /// Harrell's concordance of the linear predictor.
    pub concordance: f64,
    /// Observations.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Newton–Raphson iterations used.
    pub iterations: usize,
    /// Whether the iteration converged.
    pub converged: bool,
    /// Whether the variance is the robust sandwich.
    pub robust: bool,
    /// Plain-language warnings (non-convergence, infinite coefficients).
    pub warnings: Vec<String>,
}

/// The data of a fit arranged for the likelihood passes: sorted by stratum, then by decreasing
/// time; covariates centred and stored row-major in that order.
struct Prepared {
    p: usize,
    /// Centred covariates, row-major, sorted order.
    x: Vec<f64>,
    time: Vec<f64>,
    event: Vec<bool>,
    /// Original index of each sorted row.
    original: Vec<usize>,
    /// Start of each stratum in the sorted order (plus the end).
    strata_bounds: Vec<usize>,
}

impl Prepared {
    fn new(data: &SurvivalData, x: &Covariates, strata: &[usize]) -> Prepared {
        let n = data.len();
        let p = x.width();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| strata[a].cmp(&strata[b]).then(data.time()[b].total_cmp(&data.time()[a])));
        let mut means = vec![0.0; p];
        for i in 0..n {
            for (m, v) in means.iter_mut().zip(x.row(i)) {
                *m += v / n as f64;
            }
        }
        let mut xs = Vec::with_capacity(n * p);
        for &i in &order {
            xs.extend(x.row(i).iter().zip(&means).map(|(v, m)| v - m));
        }
        let mut strata_bounds = vec![0];
        for k in 1..n {
            if strata[order[k]] != strata[order[k - 1]] {
                strata_bounds.push(k);
            }
        }
        strata_bounds.push(n);
        Prepared {
            p,
            x: xs,
            time: order.iter().map(|&i| data.time()[i]).collect(),
            event: order.iter().map(|&i| data.event()[i]).collect(),
            original: order,
            strata_bounds,
        }
    }

    fn row(&self, k: usize) -> &[f64] {
        &self.x[k * self.p..(k + 1) * self.p]
    }

    /// Ranges of sorted rows sharing one time within one stratum, in the sorted (decreasing time)
    /// order.
    fn tie_groups(&self) -> Vec<(usize, usize)> {
        let mut groups = Vec::new();
        for w in self.strata_bounds.windows(2) {
            let (start, end) = (w[0], w[1]);
            let mut a = start;
            while a < end {
                let mut b = a + 1;
                while b < end && self.time[b] == self.time[a] {
                    b += 1;
                }
                groups.push((a, b));
                a = b;
            }
        }
        groups
    }
}

/// Log partial likelihood, score and information at β (Cox 1972; Breslow 1974; Efron 1977):
/// ℓ = Σ_tⱼ [Σ_{i∈Dⱼ} ηᵢ − Σ_{l=0}^{dⱼ−1} log(S0ⱼ − f_l A0ⱼ)], f_l = l / dⱼ for Efron and 0 for
/// Breslow, S0 the risk-set sum of exp(η) and A0 its sum over the dⱼ tied events.
fn likelihood(prep: &Prepared, groups: &[(usize, usize)], beta: &[f64], ties: CoxTies) -> (f64, Vec<f64>, Matrix) {
    let p = prep.p;
    let mut ll = 0.0;
    let mut grad = vec![0.0; p];
    let mut info = Matrix::zeros(p);
    let mut s1 = vec![0.0; p];
    let mut s2 = vec![0.0; p * p];
    let mut a1 = vec![0.0; p];
    let mut a2 = vec![0.0; p * p];
    let mut xbar = vec![0.0; p];
    let mut s0 = 0.0;
    let mut current_stratum_end = usize::MAX;
    for &(a, b) in groups {
        // Reset the risk-set sums at the start of each stratum.
        if current_stratum_end == usize::MAX || a >= current_stratum_end {
            current_stratum_end = *prep.strata_bounds.iter().find(|&&e| e > a).unwrap_or(&prep.time.len());
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
            s2.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut a0 = 0.0;
        a1.iter_mut().for_each(|v| *v = 0.0);
        a2.iter_mut().for_each(|v| *v = 0.0);
        let mut d = 0usize;
        for k in a..b {
            let x = prep.row(k);
            let eta = dot(x, beta);
            let r = eta.exp();
            s0 += r;
            let is_event = prep.event[k];
            if is_event {
                d += 1;
                a0 += r;
                ll += eta;
                for j in 0..p {
                    grad[j] += x[j];
                }
            }
            for j in 0..p {
                let rxj = r * x[j];
                s1[j] += rxj;
                if is_event {
                    a1[j] += rxj;
                }
                let row = &mut s2[j * p..(j + 1) * p];
                for (m, v) in row.iter_mut().enumerate() {
                    *v += rxj * x[m];
                }
                if is_event {
                    let arow = &mut a2[j * p..(j + 1) * p];
                    for (m, v) in arow.iter_mut().enumerate() {
                        *v += rxj * x[m];
                    }
                }
            }
        }
        if d == 0 {
            continue;
        }
        let df = d as f64;
        let fractions: Box<dyn Iterator<Item = f64>> = match ties {
            CoxTies::Efron if d > 1 => Box::new((0..d).map(move |l| l as f64 / df)),
            _ => Box::new(std::iter::once(0.0)),
        };
        let weight = if matches!(ties, CoxTies::Efron) && d > 1 { 1.0 } else { df };
        for f in fractions {
            let den = s0 - f * a0;
            ll -= weight * den.ln();
            for j in 0..p {
                xbar[j] = (s1[j] - f * a1[j]) / den;
                grad[j] -= weight * xbar[j];
            }
            for j in 0..p {
                for m in 0..p {
                    let second = (s2[j * p + m] - f * a2[j * p + m]) / den;
                    info.data[j * p + m] += weight * (second - xbar[j] * xbar[m]);
                }
            }
        }
    }
    (ll, grad, info)
}

/// Breslow-form score residuals (Lin & Wei 1989) at β, in original row order:
/// Lᵢ = δᵢ (xᵢ − x̄(tᵢ)) − rᵢ Σ_{tⱼ ≤ tᵢ} dⱼ (xᵢ − x̄(tⱼ)) / S0(tⱼ), within the subject's stratum.
fn score_residuals(prep: &Prepared, groups: &[(usize, usize)], beta: &[f64]) -> Vec<Vec<f64>> {
    let p = prep.p;
    let n = prep.time.len();
    let r: Vec<f64> = (0..n).map(|k| dot(prep.row(k), beta).exp()).collect();
    // Per tie group: S0 and x̄ of the risk set, and the number of events.
    let mut s0_of = vec![0.0; groups.len()];
    let mut xbar_of = vec![vec![0.0; p]; groups.len()];
    let mut d_of = vec![0usize; groups.len()];
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut stratum_end = usize::MAX;
    for (g, &(a, b)) in groups.iter().enumerate() {
        if stratum_end == usize::MAX || a >= stratum_end {
            stratum_end = *prep.strata_bounds.iter().find(|&&e| e > a).unwrap_or(&n);
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
        }
        for k in a..b {
            s0 += r[k];
            for j in 0..p {
                s1[j] += r[k] * prep.row(k)[j];
            }
            if prep.event[k] {
                d_of[g] += 1;
            }
        }
        s0_of[g] = s0;
        for j in 0..p {
            xbar_of[g][j] = s1[j] / s0;
        }
    }
    // Walk each stratum forward in time (backwards through the groups), accumulating the
    // cumulative hazard H0 = Σ d / S0 and H1 = Σ d x̄ / S0.
    let mut out = vec![vec![0.0; p]; n];
    let mut h0 = 0.0;
    let mut h1 = vec![0.0; p];
    let mut stratum_start = usize::MAX;
    for (g, &(a, b)) in groups.iter().enumerate().rev() {
        let start = *prep.strata_bounds.iter().rev().find(|&&s| s <= a).unwrap_or(&0);
        if start != stratum_start {
            stratum_start = start;
            h0 = 0.0;
            h1.iter_mut().for_each(|v| *v = 0.0);
        }
        if d_of[g] > 0 {
            let w = d_of[g] as f64 / s0_of[g];
            h0 += w;
            for j in 0..p {
                h1[j] += w * xbar_of[g][j];
            }
        }
        for k in a..b {
            let x = prep.row(k);
            let res = &mut out[prep.original[k]];
            for j in 0..p {
                let event_part = if prep.event[k] { x[j] - xbar_of[g][j] } else { 0.0 };
                res[j] = event_part - r[k] * (x[j] * h0 - h1[j]);
            }
        }
    }
    out
}

fn codes(labels: Option<&[String]>, n: usize, what: &'static str) -> Result<Option<Vec<usize>>> {
    match labels {
        None => Ok(None),
        Some(l) if l.len() != n => Err(StatsError::LengthMismatch { what, expected: n, found: l.len() }),
        Some(l) => Ok(Some(group_codes(l).1)),
    }
}

/// Fits a Cox proportional hazards model by maximising the partial likelihood with
/// Newton–Raphson and step-halving (the step is halved while the log-likelihood decreases).
///
/// `strata` gives each stratum its own baseline hazard; `cluster` (or `robust` alone, each
/// subject its own cluster) switches inference to the sandwich variance.
pub fn fit_cox(
    data: &SurvivalData,
    x: &Covariates,
    strata: Option<&[String]>,
    cluster: Option<&[String]>,
    robust: bool,
    config: &CoxConfig,
) -> Result<CoxFit> {
    check_level(config.level)?;
    let n = data.len();
    if x.len() != n {
        return Err(StatsError::LengthMismatch { what: "covariates", expected: n, found: x.len() });
    }
    if x.width() == 0 {
        return Err(StatsError::InvalidParameter {
            name: "covariates",
            problem: "at least one covariate is needed".into(),
        });
    }
    if data.events() == 0 {
        return Err(StatsError::NotEstimable("Cox model: no events, the partial likelihood is flat".into()));
    }
    let strata_codes = codes(strata, n, "strata")?.unwrap_or_else(|| vec![0; n]);
    let cluster_codes = codes(cluster, n, "cluster")?;
    let p = x.width();
    let prep = Prepared::new(data, x, &strata_codes);
    let groups = prep.tie_groups();

    for j in 0..p {
        let constant = (1..n).all(|k| prep.row(k)[j] == prep.row(0)[j]);
        if constant {
            return Err(StatsError::Singular(format!("covariate {} is constant", x.names()[j])));
        }
    }

    let mut beta = vec![0.0; p];
    let (ll0, u0, i0) = likelihood(&prep, &groups, &beta, config.ties);
    let score_chi2 = match i0.solve_spd(&u0) {
        Some(s) => dot(&u0, &s),
        None => {
            return Err(StatsError::Singular(format!(
                "information at β = 0 is singular: covariates {} are collinear",
                x.names().join(", ")
            )));
        }
    };
    let (mut ll, mut grad, mut info) = (ll0, u0, i0);
    let mut converged = false;
    let mut iterations = 0;
    let mut last_step = vec![0.0; p];
    while iterations < config.max_iter {
        iterations += 1;
        let Some(step) = info.solve_spd(&grad) else { break };
        last_step.clone_from(&step);
        let mut factor = 1.0;
        let mut accepted = None;
        for _ in 0..30 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + factor * s).collect();
            let (ll_t, g_t, i_t) = likelihood(&prep, &groups, &trial, config.ties);
            if ll_t.is_finite() && ll_t >= ll - 1e-12 * ll.abs() {
                accepted = Some((trial, ll_t, g_t, i_t));
                break;
            }
            factor *= 0.5;
        }
        let Some((trial, ll_t, g_t, i_t)) = accepted else {
            converged = true; // No ascent direction improves the likelihood: at the maximum.
            break;
        };
        let change = (ll_t - ll).abs();
        let max_step = step.iter().map(|s| (s * factor).abs()).fold(0.0, f64::max);
        beta = trial;
        ll = ll_t;
        grad = g_t;
        info = i_t;
        if max_step < 1e-10 || change < 1e-13 * ll.abs().max(1.0) {
            converged = true;
            break;
        }
    }
    let final_step = info.solve_spd(&grad).unwrap_or(last_step);
    let mut warnings = Vec::new();
    if !converged {
        warnings.push(format!("Newton–Raphson did not converge in {} iterations", config.max_iter));
    }
    let inv = info.inverse_spd();
    let model_var = inv.clone().unwrap_or_else(|| {
        warnings.push("information matrix at the estimate is singular: standard errors are undefined".into());
        Matrix { n: p, data: vec![f64::NAN; p * p] }
    });
    let is_robust = robust || cluster_codes.is_some();
    let variance = if is_robust && inv.is_some() {
        let resid = score_residuals(&prep, &groups, &beta);
        let clusters = cluster_codes.unwrap_or_else(|| (0..n).collect());
        let n_clusters = clusters.iter().copied().max().unwrap_or(0) + 1;
        let mut sums = vec![vec![0.0; p]; n_clusters];
        for i in 0..n {
            for j in 0..p {
                sums[clusters[i]][j] += resid[i][j];
            }
        }
        let mut meat = Matrix::zeros(p);
        for s in &sums {
            meat.add_outer(s, 1.0);
        }
        model_var.mul(&meat).mul(&model_var)
    } else {
        model_var.clone()
    };
    let z = z_for_level(config.level);
    let coefficients: Vec<CoxCoefficient> = (0..p)
        .map(|j| {
            let se = variance.at(j, j).sqrt();
            let is_infinite = final_step[j].abs() > 1e-6 * beta[j].abs().max(1.0);
            if is_infinite {
                warnings.push(format!(
                    "coefficient of {} may be infinite (monotone likelihood: the covariate separates events from non-events)",
                    x.names()[j]
                ));
            }
            CoxCoefficient {
                name: x.names()[j].clone(),
                coef: beta[j],
                se,
                se_model: model_var.at(j, j).sqrt(),
                z: beta[j] / se,
                p_value: normal_two_sided_p(beta[j] / se),
                hr: beta[j].exp(),
                hr_ci: ((beta[j] - z * se).exp(), (beta[j] + z * se).exp()),
                is_infinite,
            }
        })
        .collect();
    let lr = 2.0 * (ll - ll0);
    let wald = variance.inverse_spd().map_or(f64::NAN, |vi| quad_form(&vi, &beta));
    let eta: Vec<f64> = (0..n).map(|i| dot(x.row(i), &beta)).collect();
    let concordance = harrell_c(data, &eta, Some(&strata_codes));
    let df = p;
    Ok(CoxFit {
        coefficients,
        variance,
        model_variance: model_var,
        ties: config.ties,
        log_likelihood: ll,
        null_log_likelihood: ll0,
        lr_test: ChiSquareTest { chi2: lr, df, p_value: chi2_sf(lr, df as f64) },
        wald_test: ChiSquareTest { chi2: wald, df, p_value: chi2_sf(wald, df as f64) },
        score_test: ChiSquareTest { chi2: score_chi2, df, p_value: chi2_sf(score_chi2, df as f64) },
        concordance,
        n,
        events: data.events(),
        iterations,
        converged,
        robust: is_robust,
        warnings,
    })
}

/// Harrell's concordance index of a risk score (higher score = earlier event expected), in
/// O(n log n) with a Fenwick tree over score ranks. A pair (i, j) is comparable when tᵢ < tⱼ and
/// i had the event, or tᵢ = tⱼ with i an event and j censored; concordant when scoreᵢ > scoreⱼ;
/// score ties count ½. With `strata`, only pairs in the same stratum are compared.
pub fn harrell_c(data: &SurvivalData, score: &[f64], strata: Option<&[usize]>) -> f64 {
    let n = data.len();
    let zeros = vec![0usize; n];
    let strata = strata.unwrap_or(&zeros);
    // Ranks of the scores (equal scores share a rank).
    let mut sorted: Vec<f64> = score.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    let rank: Vec<usize> = score.iter().map(|s| sorted.partition_point(|v| v < s)).collect();
    let m = sorted.len();
    let (mut concordant, mut tied, mut comparable) = (0.0, 0.0, 0.0);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| strata[a].cmp(&strata[b]).then(data.time()[b].total_cmp(&data.time()[a])));
    let mut tree = Fenwick::new(m);
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && strata[order[end]] == strata[order[start]] {
            end += 1;
        }
        tree.clear();
        let mut a = start;
        while a < end {
            let t = data.time()[order[a]];
            let mut b = a;
            while b < end && data.time()[order[b]] == t {
                b += 1;
            }
            for &i in &order[a..b] {
                if !data.event()[i] {
                    tree.add(rank[i]);
                }
            }
            for &i in &order[a..b] {
                if data.event()[i] {
                    let total = tree.total();
                    let below = tree.prefix(rank[i]);
                    let equal = tree.prefix(rank[i] + 1) - below;
                    comparable += total as f64;
                    concordant += below as f64;
                    tied += equal as f64;
                }
            }
            for &i in &order[a..b] {
                if data.event()[i] {
                    tree.add(rank[i]);
                }
            }
            a = b;
        }
        start = end;
    }
    if comparable == 0.0 { f64::NAN } else { (concordant + 0.5 * tied) / comparable }
}

/// Fenwick (binary indexed) tree of counts.
struct Fenwick {
    counts: Vec<u64>,
    total: u64,
}

impl Fenwick {
    fn new(m: usize) -> Self {
        Fenwick { counts: vec![0; m + 1], total: 0 }
    }
    fn clear(&mut self) {
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.total = 0;
    }
    fn add(&mut self, rank: usize) {
        let mut i = rank + 1;
        while i < self.counts.len() {
            self.counts[i] += 1;
            i += i & i.wrapping_neg();
        }
        self.total += 1;
    }
    /// Count of entries with rank < `rank`.
    fn prefix(&self, rank: usize) -> u64 {
        let mut i = rank;
        let mut s = 0;
        while i > 0 {
            s += self.counts[i];
            i -= i & i.wrapping_neg();
        }
        s
    }
    fn total(&self) -> u64 {
        self.total
    }
}

/// Time scale g(t) on which the proportional-hazards test looks for a trend in β(t).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhTransform {
    /// g(t) = t.
    Identity,
    /// g(t) = log t.
    Log,
    /// g(t) = 1 − Ŝ(t), Ŝ the Kaplan–Meier estimate of all the data (R `cox.zph`'s default
    /// scale).
    Km,
    /// g(t) = rank of t among the event times (ties share their average rank).
    Rank,
}

/// Scaled Schoenfeld residuals of one event: r*ₖ = β̂ + d V̂ rₖ (Grambsch & Therneau 1994).
#[derive(Debug, Clone, PartialEq)]
pub struct SchoenfeldResidual {
    /// Event time.
    pub time: f64,
    /// Index of the observation in the input order.
    pub observation: usize,
    /// Scaled residual per covariate (plotted against g(t), it traces β(t)).
    pub scaled: Vec<f64>,
}

/// Per-covariate and global proportional-hazards tests.
#[derive(Debug, Clone, PartialEq)]
pub struct PhTest {
    /// Time scale used.
    pub transform: PhTransform,
    /// Per covariate: name and its 1-degree-of-freedom test.
    pub terms: Vec<(String, ChiSquareTest)>,
    /// Global test over all covariates.
    pub global: ChiSquareTest,
    /// The scaled Schoenfeld residuals, one per event.
    pub residuals: Vec<SchoenfeldResidual>,
}

/// Schoenfeld (1982) residuals at β: for an event at t with d tied events,
/// rᵢ = xᵢ − x̄(t), x̄ the risk-set mean (for Efron, averaged over the d fractions l/d, as
/// lifelines and R). Returned in sorted order with their sorted row index.
fn schoenfeld_raw(prep: &Prepared, groups: &[(usize, usize)], beta: &[f64], ties: CoxTies) -> Vec<(usize, Vec<f64>)> {
    let p = prep.p;
    let mut out = Vec::new();
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut stratum_end = usize::MAX;
    for &(a, b) in groups {
        if stratum_end == usize::MAX || a >= stratum_end {
            stratum_end = *prep.strata_bounds.iter().find(|&&e| e > a).unwrap_or(&prep.time.len());
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
        }
        let (mut a0, mut a1, mut d) = (0.0, vec![0.0; p], 0usize);
        for k in a..b {
            let x = prep.row(k);
            let r = dot(x, beta).exp();
            s0 += r;
            for j in 0..p {
                s1[j] += r * x[j];
            }
            if prep.event[k] {
                d += 1;
                a0 += r;
                for j in 0..p {
                    a1[j] += r * x[j];
                }
            }
        }
        if d == 0 {
            continue;
        }
        let mut mean = vec![0.0; p];
        let fractions: Vec<f64> = match ties {
            CoxTies::Efron => (0..d).map(|l| l as f64 / d as f64).collect(),
            CoxTies::Breslow => vec![0.0],
        };
        for f in &fractions {
            let den = s0 - f * a0;
            for j in 0..p {
                mean[j] += (s1[j] - f * a1[j]) / den / fractions.len() as f64;
            }
        }
        for k in a..b {
            if prep.event[k] {
                out.push((k, prep.row(k).iter().zip(&mean).map(|(x, m)| x - m).collect()));
            }
        }
    }
    out
}

/// The Grambsch & Therneau (1994) test of proportional hazards in the form lifelines and R
/// `survival` before 3.0 compute it: with gₖ the transformed event times and r*ₖ the scaled
/// Schoenfeld residuals, covariate j has Tⱼ = (Σₖ (gₖ − ḡ) r*ₖⱼ)² / (d V̂ⱼⱼ Σₖ (gₖ − ḡ)²) and the
/// global test T = uᵀ V̂⁻¹ u / (d Σₖ (gₖ − ḡ)²), u = Σₖ (gₖ − ḡ) r*ₖ; χ² with 1 and p degrees of
/// freedom. V̂ is the model-based variance of `fit`, which must come from the same `data`, `x`
/// and `strata`.
pub fn proportional_hazards_test(
    data: &SurvivalData,
    x: &Covariates,
    strata: Option<&[String]>,
    fit: &CoxFit,
    transform: PhTransform,
) -> Result<PhTest> {
    let n = data.len();
    if x.len() != n {
        return Err(StatsError::LengthMismatch { what: "covariates", expected: n, found: x.len() });
    }
    let p = x.width();
    if fit.coefficients.len() != p {
        return Err(StatsError::InvalidParameter {
            name: "fit",
            problem: "fitted to a different set of covariates".into(),
        });
    }
    let strata_codes = codes(strata, n, "strata")?.unwrap_or_else(|| vec![0; n]);
    let prep = Prepared::new(data, x, &strata_codes);
    let groups = prep.tie_groups();
    let beta: Vec<f64> = fit.coefficients.iter().map(|c| c.coef).collect();
    let raw = schoenfeld_raw(&prep, &groups, &beta, fit.ties);
    let d = raw.len();
    if d < 2 {
        return Err(StatsError::NotEstimable("proportional-hazards test: fewer than two events".into()));
    }
    let v = &fit.model_variance;
    let times: Vec<f64> = raw.iter().map(|(k, _)| prep.time[*k]).collect();
    let g: Vec<f64> = match transform {
        PhTransform::Identity => times.clone(),
        PhTransform::Log => {
            if let Some(t) = times.iter().find(|&&t| t <= 0.0) {
                return Err(StatsError::InvalidParameter {
                    name: "transform",
                    problem: format!("log of event time {t}"),
                });
            }
            times.iter().map(|t| t.ln()).collect()
        }
        PhTransform::Km => {
            let km = crate::km::kaplan_meier(data, cryoseed_core::protocol::KmCiTransform::Plain, 0.95)?;
            times.iter().map(|&t| 1.0 - km.survival_at(t).survival).collect()
        }
        PhTransform::Rank => {
            let mut sorted = times.clone();
            sorted.sort_by(f64::total_cmp);
            times
                .iter()
                .map(|t| {
                    let lo = sorted.partition_point(|v| v < t);
                    let hi = sorted.partition_point(|v| v <= t);
                    (lo + hi + 1) as f64 / 2.0
                })
                .collect()
        }
    };
    let gbar = g.iter().sum::<f64>() / d as f64;
    let ss: f64 = g.iter().map(|x| (x - gbar) * (x - gbar)).sum();
    let df = d as f64;
    let residuals: Vec<SchoenfeldResidual> = raw
        .iter()
        .map(|(k, r)| {
            let vr = v.mul_vec(r);
            SchoenfeldResidual {
                time: prep.time[*k],
                observation: prep.original[*k],
                scaled: (0..p).map(|j| beta[j] + df * vr[j]).collect(),
            }
        })
        .collect();
    let mut u = vec![0.0; p];
    for (res, gk) in residuals.iter().zip(&g) {
        for j in 0..p {
            u[j] += (gk - gbar) * (res.scaled[j] - beta[j]);
        }
    }
    let terms = (0..p)
        .map(|j| {
            let chi2 = u[j] * u[j] / (df * v.at(j, j) * ss);
            (x.names()[j].clone(), ChiSquareTest { chi2, df: 1, p_value: chi2_sf(chi2, 1.0) })
        })
        .collect();
    let vinv = v.inverse_spd().ok_or_else(|| StatsError::Singular("model variance is singular".into()))?;
    let global = quad_form(&vinv, &u) / (df * ss);
    Ok(PhTest {
        transform,
        terms,
        global: ChiSquareTest { chi2: global, df: p, p_value: chi2_sf(global, p as f64) },
        residuals,
    })
}
