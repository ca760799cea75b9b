//! Logistic regression (maximum likelihood, Wald and profile-likelihood intervals), GEE for
//! clustered binary outcomes (logit or identity link; independence or exchangeable working
//! correlation; robust sandwich variance) and the seeded cluster bootstrap.
//!
//! GEE follows statsmodels 0.15 `GEE` exactly: Liang & Zeger (1986) estimating equations,
//! binomial variance μ(1 − μ) with dispersion 1, the exchangeable correlation estimated by
//! moments with `p` degrees of freedom removed (α̂ = Σᵢ Σ_{j<k} rᵢⱼ rᵢₖ / φ̂ / (Npairs − p),
//! φ̂ = Σ r² / (N − p), r Pearson residuals), and the robust variance A⁻¹ B A⁻¹ without a
//! small-sample factor.

use crate::cox::Covariates;
use crate::dist::{chi2_quantile, normal_two_sided_p, z_for_level};
use crate::error::{Result, StatsError, check_level};
use crate::linalg::{Matrix, dot};
use cryoseed_core::protocol::GeeCorrelation;
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// One model term with Wald inference (and, for logistic regression, a profile interval).
#[derive(Debug, Clone, PartialEq)]
pub struct GlmCoefficient {
    /// Term name (`intercept` first).
    pub name: String,
    /// Estimate.
    pub coef: f64,
    /// Standard error (robust for GEE).
    pub se: f64,
    /// Wald z.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Wald interval coef ± z se.
    pub ci: (f64, f64),
    /// Profile-likelihood interval (logistic regression only); a missing bound means the
    /// likelihood never drops far enough (e.g. under separation).
    pub profile_ci: Option<(Option<f64>, Option<f64>)>,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticFit {
    /// Terms: intercept, then the covariates.
    pub coefficients: Vec<GlmCoefficient>,
    /// Maximised log-likelihood.
    pub log_likelihood: f64,
    /// Log-likelihood of the intercept-only model.
    pub null_log_likelihood: f64,
    /// Observations.
    pub n: usize,
    /// Newton iterations.
    pub iterations: usize,
    /// Whether the estimates are finite: false under complete or quasi-complete separation.
    pub is_separated: bool,
    /// Plain-language warnings.
    pub warnings: Vec<String>,
}

/// Rows with an intercept column prepended.
fn design(x: &Covariates) -> (Vec<String>, Vec<Vec<f64>>) {
    let mut names = vec!["intercept".to_owned()];
    names.extend(x.names().iter().cloned());
    let rows = (0..x.len())
        .map(|i| {
            let mut r = Vec::with_capacity(x.width() + 1);
            r.push(1.0);
            r.extend_from_slice(x.row(i));
            r
        })
        .collect();
    (names, rows)
}

fn check_binary(y: &[f64]) -> Result<()> {
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 && v != 1.0 {
            return Err(crate::data::invalid(i, "outcome", format!("must be 0 or 1, got {v}")));
        }
    }
    Ok(())
}

fn log1pexp(eta: f64) -> f64 {
    if eta > 35.0 { eta } else { eta.exp().ln_1p() }
}

/// Bernoulli log-likelihood, score and information of the logit model at β with an offset.
fn logit_pass(y: &[f64], rows: &[Vec<f64>], offset: &[f64], beta: &[f64]) -> (f64, Vec<f64>, Matrix) {
    let p = beta.len();
    let mut ll = 0.0;
    let mut grad = vec![0.0; p];
    let mut info = Matrix::zeros(p);
    for ((yi, r), o) in y.iter().zip(rows).zip(offset) {
        let eta = dot(r, beta) + o;
        ll += yi * eta - log1pexp(eta);
        let mu = 1.0 / (1.0 + (-eta).exp());
        for j in 0..p {
            grad[j] += (yi - mu) * r[j];
        }
        info.add_outer(r, mu * (1.0 - mu));
    }
    (ll, grad, info)
}

struct NewtonResult {
    beta: Vec<f64>,
    ll: f64,
    info: Matrix,
    iterations: usize,
    final_step: Vec<f64>,
}

/// Newton–Raphson with step-halving for the logit likelihood.
fn newton_logit(y: &[f64], rows: &[Vec<f64>], offset: &[f64], start: Vec<f64>) -> Result<NewtonResult> {
    let p = start.len();
    let mut beta = start;
    let (mut ll, mut grad, mut info) = logit_pass(y, rows, offset, &beta);
    let mut iterations = 0;
    while iterations < 200 {
        iterations += 1;
        let step = info.solve_spd(&grad).ok_or_else(|| {
            StatsError::Singular("the design matrix is rank deficient (collinear or constant columns)".into())
        })?;
        let mut factor = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + factor * s).collect();
            let (l, g, i) = logit_pass(y, rows, offset, &trial);
            if l.is_finite() && l >= ll - 1e-12 * ll.abs() {
                accepted = Some((trial, l, g, i));
                break;
            }
            factor *= 0.5;
        }
        let Some((trial, l, g, i)) = accepted else { break };
        let change = (l - ll).abs();
        let max_step = step.iter().map(|s| (s * factor).abs()).fold(0.0, f64::max);
        beta = trial;
        ll = l;
        grad = g;
        info = i;
        if max_step < 1e-11 || change < 1e-14 * ll.abs().max(1.0) {
            break;
        }
    }
    let final_step = info.solve_spd(&grad).unwrap_or_else(|| vec![f64::INFINITY; p]);
    Ok(NewtonResult { beta, ll, info, iterations, final_step })
}

/// Logistic regression by maximum likelihood (Newton–Raphson with step-halving), Wald intervals
/// from the inverse information and profile-likelihood intervals (Venzon & Moolgavkar 1988): the
/// values b of each βⱼ where 2 (ℓ̂ − max ℓ | βⱼ = b) = χ²₁(level), found by bisection on refits
/// with xⱼ b as offset.
pub fn fit_logistic(y: &[f64], x: &Covariates, level: f64) -> Result<LogisticFit> {
    check_level(level)?;
    if y.len() != x.len() {
        return Err(StatsError::LengthMismatch { what: "outcome", expected: x.len(), found: y.len() });
    }
    if y.is_empty() {
        return Err(StatsError::NotEstimable("logistic regression: no observations".into()));
    }
    check_binary(y)?;
    let (names, rows) = design(x);
    let p = names.len();
    let n = y.len();
    let zero = vec![0.0; n];
    let fit = newton_logit(y, &rows, &zero, vec![0.0; p])?;
    let mut warnings = Vec::new();
    let diverging: Vec<usize> =
        (0..p).filter(|&j| fit.final_step[j].abs() > 1e-6 * fit.beta[j].abs().max(1.0)).collect();
    let is_separated = !diverging.is_empty();
    if is_separated {
        warnings.push(format!(
            "separation: the estimates of {} diverge (the outcome is perfectly predicted); Wald results are not meaningful",
            diverging.iter().map(|&j| names[j].as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let cov = fit.info.inverse_spd().unwrap_or(Matrix { n: p, data: vec![f64::NAN; p * p] });
    let z = z_for_level(level);
    let ybar = y.iter().sum::<f64>() / n as f64;
    let null_ll =
        if ybar == 0.0 || ybar == 1.0 { 0.0 } else { n as f64 * (ybar * ybar.ln() + (1.0 - ybar) * (1.0 - ybar).ln()) };
    let crit = chi2_quantile(level, 1.0);
    let coefficients = (0..p)
        .map(|j| {
            let se = cov.at(j, j).sqrt();
            let coef = fit.beta[j];
            let profile =
                if is_separated { (None, None) } else { profile_bounds(y, &rows, j, &fit.beta, se, fit.ll, crit) };
            GlmCoefficient {
                name: names[j].clone(),
                coef,
                se,
                z: coef / se,
                p_value: normal_two_sided_p(coef / se),
                ci: (coef - z * se, coef + z * se),
                profile_ci: Some(profile),
            }
        })
        .collect();
    Ok(LogisticFit {
        coefficients,
        log_likelihood: fit.ll,
        null_log_likelihood: null_ll,
        n,
        iterations: fit.iterations,
        is_separated,
        warnings,
    })
}

/// Both profile-likelihood bounds of coefficient j.
fn profile_bounds(
    y: &[f64],
    rows: &[Vec<f64>],
    j: usize,
    beta_hat: &[f64],
    se: f64,
    ll_hat: f64,
    crit: f64,
) -> (Option<f64>, Option<f64>) {
    let coef = beta_hat[j];
    // Constrained fits start from the MLE of the other coefficients (warm start).
    let start: Vec<f64> = beta_hat.iter().enumerate().filter(|&(k, _)| k != j).map(|(_, v)| *v).collect();
    let reduced: Vec<Vec<f64>> =
        rows.iter().map(|r| r.iter().enumerate().filter(|&(k, _)| k != j).map(|(_, v)| *v).collect()).collect();
    let p = rows.first().map_or(0, Vec::len);
    let deficit = |b: f64| -> Option<f64> {
        let offset: Vec<f64> = rows.iter().map(|r| r[j] * b).collect();
        let ll = if p == 1 {
            let zero = vec![0.0; 0];
            logit_pass(y, &vec![vec![]; y.len()], &offset, &zero).0
        } else {
            newton_logit(y, &reduced, &offset, start.clone()).ok()?.ll
        };
        Some(2.0 * (ll_hat - ll) - crit)
    };
    let bound = |direction: f64| -> Option<f64> {
        // Step out until the deficit is positive, then bisect.
        let mut inner = coef;
        let mut width = se.max(1e-8);
        let mut outer = coef + direction * width;
        let mut tries = 0;
        while deficit(outer)? < 0.0 {
            inner = outer;
            width *= 2.0;
            outer = coef + direction * width;
            tries += 1;
            if tries > 30 {
                return None;
            }
        }
        for _ in 0..100 {
            let mid = 0.5 * (inner + outer);
            if deficit(mid)? < 0.0 {
                inner = mid
            } else {
                outer = mid
            }
            if (outer - inner).abs() <= 1e-13 * coef.abs().max(se) {
                break;
            }
        }
        Some(0.5 * (inner + outer))
    };
    (bound(-1.0), bound(1.0))
}

/// Link function of a GEE for a binary outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeeLink {
    /// log(μ / (1 − μ)): coefficients are log odds ratios.
    Logit,
    /// μ itself: coefficients are risk differences.
    Identity,
}

/// A fitted GEE.
#[derive(Debug, Clone, PartialEq)]
pub struct GeeFit {
    /// Terms: intercept, then the covariates; SEs are robust.
    pub coefficients: Vec<GlmCoefficient>,
    /// Robust (sandwich) variance matrix.
    pub robust_variance: Matrix,
    /// Estimated working correlation α (0 for independence).
    pub working_correlation: f64,
    /// Observations.
    pub n: usize,
    /// Clusters.
    pub n_clusters: usize,
    /// Largest cluster size.
    pub max_cluster_size: usize,
    /// Fisher-scoring iterations.
    pub iterations: usize,
    /// Whether the iteration converged.
    pub converged: bool,
}

fn mean_and_derivative(eta: f64, link: GeeLink) -> (f64, f64) {
    match link {
        GeeLink::Logit => {
            let mu = 1.0 / (1.0 + (-eta).exp());
            (mu, mu * (1.0 - mu))
        }
        GeeLink::Identity => (eta, 1.0),
    }
}

/// Inverse of the exchangeable working covariance A^½ R(α) A^½ of one cluster, applied as a
/// closed form: R⁻¹ = (I − α/(1 + (m − 1)α) 11ᵀ) / (1 − α).
fn exchangeable_inverse(sd: &[f64], alpha: f64) -> Vec<Vec<f64>> {
    let m = sd.len();
    let c = alpha / (1.0 + (m as f64 - 1.0) * alpha);
    (0..m)
        .map(|j| {
            (0..m)
                .map(|k| {
                    let r = (if j == k { 1.0 } else { 0.0 } - c) / (1.0 - alpha);
                    r / (sd[j] * sd[k])
                })
                .collect()
        })
        .collect()
}

/// Generalized estimating equations (Liang & Zeger 1986) for a binary outcome clustered in
/// `cluster` (lesions within patients), with the robust sandwich variance.
pub fn fit_gee(
    y: &[f64],
    x: &Covariates,
    cluster: &[String],
    link: GeeLink,
    correlation: GeeCorrelation,
    level: f64,
) -> Result<GeeFit> {
    check_level(level)?;
    let n = x.len();
    if y.len() != n {
        return Err(StatsError::LengthMismatch { what: "outcome", expected: n, found: y.len() });
    }
    if cluster.len() != n {
        return Err(StatsError::LengthMismatch { what: "cluster", expected: n, found: cluster.len() });
    }
    if n == 0 {
        return Err(StatsError::NotEstimable("GEE: no observations".into()));
    }
    check_binary(y)?;
    let (names, rows) = design(x);
    let p = names.len();
    let (levels, codes) = crate::data::group_codes(cluster);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); levels.len()];
    for (i, &c) in codes.iter().enumerate() {
        members[c].push(i);
    }
    // Start from the independence fit: ML logistic regression, or least squares for identity.
    let mut beta = match link {
        GeeLink::Logit => newton_logit(y, &rows, &vec![0.0; n], vec![0.0; p])?.beta,
        GeeLink::Identity => {
            let mut xtx = Matrix::zeros(p);
            let mut xty = vec![0.0; p];
            for (r, yi) in rows.iter().zip(y) {
                xtx.add_outer(r, 1.0);
                for j in 0..p {
                    xty[j] += r[j] * yi;
                }
            }
            xtx.solve_spd(&xty).ok_or_else(|| StatsError::Singular("the design matrix is rank deficient".into()))?
        }
    };
    let exchangeable = matches!(correlation, GeeCorrelation::Exchangeable);
    let mut alpha = 0.0;
    let mut converged = false;
    let mut iterations = 0;
    let means = |beta: &[f64]| -> Result<Vec<(f64, f64)>> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let (mu, d) = mean_and_derivative(dot(r, beta), link);
                if !(mu > 0.0 && mu < 1.0) {
                    return Err(StatsError::NotEstimable(format!(
                        "GEE: fitted probability {mu:.4} of observation {i} is outside (0, 1) (identity link)"
                    )));
                }
                Ok((mu, d))
            })
            .collect()
    };
    let moments = |beta: &[f64], alpha: f64| -> Result<(Matrix, Vec<f64>, Matrix)> {
        let md = means(beta)?;
        let mut a = Matrix::zeros(p);
        let mut u = vec![0.0; p];
        let mut b = Matrix::zeros(p);
        for idx in &members {
            let m = idx.len();
            let sd: Vec<f64> = idx.iter().map(|&i| (md[i].0 * (1.0 - md[i].0)).sqrt()).collect();
            let vinv = if alpha == 0.0 {
                (0..m).map(|j| (0..m).map(|k| if j == k { 1.0 / (sd[j] * sd[j]) } else { 0.0 }).collect()).collect()
            } else {
                exchangeable_inverse(&sd, alpha)
            };
            // D rows: dμ/dβ = d(η) x.
            let drows: Vec<Vec<f64>> = idx.iter().map(|&i| rows[i].iter().map(|v| v * md[i].1).collect()).collect();
            let resid: Vec<f64> = idx.iter().map(|&i| y[i] - md[i].0).collect();
            // W = Dᵀ V⁻¹ (p × m).
            let w: Vec<Vec<f64>> =
                (0..p).map(|j| (0..m).map(|k| (0..m).map(|l| drows[l][j] * vinv[l][k]).sum()).collect()).collect();
            let mut ui = vec![0.0; p];
            for j in 0..p {
                ui[j] = dot(&w[j], &resid);
                u[j] += ui[j];
                for q in 0..p {
                    *a.at_mut(j, q) += (0..m).map(|k| w[j][k] * drows[k][q]).sum::<f64>();
                }
            }
            b.add_outer(&ui, 1.0);
        }
        Ok((a, u, b))
    };
    let update_alpha = |beta: &[f64]| -> Result<f64> {
        let md = means(beta)?;
        let (mut ss, mut cross, mut pairs) = (0.0, 0.0, 0.0);
        for idx in &members {
            let r: Vec<f64> = idx.iter().map(|&i| (y[i] - md[i].0) / (md[i].0 * (1.0 - md[i].0)).sqrt()).collect();
            let s: f64 = r.iter().sum();
            let s2: f64 = r.iter().map(|v| v * v).sum();
            ss += s2;
            cross += (s * s - s2) / 2.0;
            let m = r.len() as f64;
            pairs += m * (m - 1.0) / 2.0;
        }
        let phi = ss / (n as f64 - p as f64);
        let denom = pairs - p as f64;
        if denom <= 0.0 {
            return Ok(0.0); // Too few within-cluster pairs to estimate a correlation.
        }
        Ok(cross / phi / denom)
    };
    while iterations < 200 {
        iterations += 1;
        if exchangeable {
            alpha = update_alpha(&beta)?;
        }
        let (a, u, _) = moments(&beta, alpha)?;
        let step = a.solve_spd(&u).ok_or_else(|| StatsError::Singular("GEE: the design is rank deficient".into()))?;
        beta.iter_mut().zip(&step).for_each(|(b, s)| *b += s);
        if step.iter().map(|s| s.abs()).fold(0.0, f64::max) < 1e-12 {
            converged = true;
            break;
        }
    }
    if exchangeable {
        alpha = update_alpha(&beta)?;
    }
    let (a, _, b) = moments(&beta, alpha)?;
    let ainv = a.inverse_spd().ok_or_else(|| StatsError::Singular("GEE: the design is rank deficient".into()))?;
    let robust = ainv.mul(&b).mul(&ainv);
    let z = z_for_level(level);
    let coefficients = (0..p)
        .map(|j| {
            let se = robust.at(j, j).sqrt();
            GlmCoefficient {
                name: names[j].clone(),
                coef: beta[j],
                se,
                z: beta[j] / se,
                p_value: normal_two_sided_p(beta[j] / se),
                ci: (beta[j] - z * se, beta[j] + z * se),
                profile_ci: None,
            }
        })
        .collect();
    Ok(GeeFit {
        coefficients,
        robust_variance: robust,
        working_correlation: alpha,
        n,
        n_clusters: members.len(),
        max_cluster_size: members.iter().map(Vec::len).max().unwrap_or(0),
        iterations,
        converged,
    })
}

/// Result of a cluster bootstrap.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapSummary {
    /// Bootstrap standard error of each statistic (SD of the replicates, n − 1 denominator).
    pub std_err: Vec<f64>,
    /// Percentile interval of each statistic (linear interpolation between order statistics,
    /// NumPy's default).
    pub percentile_ci: Vec<(f64, f64)>,
    /// Replicates that produced a value.
    pub replicates: usize,
    /// Replicates where the statistic could not be computed (e.g. a resample without events).
    pub failed: usize,
}

/// Nonparametric cluster bootstrap (Davison & Hinkley 1997, §3.8): each replicate draws whole
/// clusters with replacement, and `statistic` receives the resampled rows with a fresh cluster id
/// per drawn cluster (a cluster drawn twice counts as two clusters). Replicate b uses
/// `ChaCha8Rng::seed_from_u64(seed + b)`, so results do not depend on the thread count.
pub fn cluster_bootstrap<F>(
    cluster: &[String],
    replicates: usize,
    seed: u64,
    level: f64,
    statistic: F,
) -> Result<BootstrapSummary>
where
    F: Fn(&[usize], &[usize]) -> Option<Vec<f64>> + Sync,
{
    check_level(level)?;
    if replicates < 2 {
        return Err(StatsError::InvalidParameter {
            name: "replicates",
            problem: format!("need at least 2, got {replicates}"),
        });
    }
    let (levels, codes) = crate::data::group_codes(cluster);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); levels.len()];
    for (i, &c) in codes.iter().enumerate() {
        members[c].push(i);
    }
    let k = members.len();
    if k == 0 {
        return Err(StatsError::NotEstimable("cluster bootstrap: no clusters".into()));
    }
    let results: Vec<Option<Vec<f64>>> = (0..replicates)
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(b as u64));
            let mut rows = Vec::new();
            let mut ids = Vec::new();
            for new_id in 0..k {
                let c = rng.random_range(0..k);
                for &i in &members[c] {
                    rows.push(i);
                    ids.push(new_id);
                }
            }
            statistic(&rows, &ids)
        })
        .collect();
    let ok: Vec<Vec<f64>> = results.iter().flatten().cloned().collect();
    let failed = replicates - ok.len();
    if ok.len() < 2 {
        return Err(StatsError::NotEstimable(format!(
            "cluster bootstrap: only {} of {replicates} replicates succeeded",
            ok.len()
        )));
    }
    let m = ok[0].len();
    let a = (1.0 - level) / 2.0;
    let mut std_err = Vec::with_capacity(m);
    let mut percentile_ci = Vec::with_capacity(m);
    for j in 0..m {
        let mut v: Vec<f64> = ok.iter().map(|r| r[j]).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        std_err.push((v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() as f64 - 1.0)).sqrt());
        v.sort_by(f64::total_cmp);
        percentile_ci.push((quantile_sorted(&v, a), quantile_sorted(&v, 1.0 - a)));
    }
    Ok(BootstrapSummary { std_err, percentile_ci, replicates: ok.len(), failed })
}

/// Linear-interpolation quantile of sorted values (Hyndman & Fan type 7).
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}
