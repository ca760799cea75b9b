//! Kaplan–Meier product-limit estimator with Greenwood variance, pointwise confidence intervals,
//! quantiles with Brookmeyer–Crowley intervals, landmark survival and restricted mean survival
//! time.
//!
//! Conventions (checked against lifelines 0.30 and statsmodels 0.15 in the tests):
//! - one row per distinct event **or** censoring time; at a tie, events happen before
//!   censorings (the censored subjects are still at risk), as in R `survfit`, lifelines and
//!   statsmodels;
//! - `std_err` is the Greenwood standard error of S(t) (R `summary.survfit`, statsmodels
//!   `surv_prob_se`); none once S(t) = 0;
//! - intervals: log(−log) is the default of lifelines and of the protocol, `log` is R's
//!   `survfit` default, `plain` is R's `conf.type = "plain"` (clipped to [0, 1]);
//! - quantile: the first time with S(t) ≤ 1 − p (lifelines; R also, except that R averages with
//!   the next time when S is exactly 1 − p on an interval); its interval is Brookmeyer & Crowley
//!   (1982) as SAS `LIFETEST` and statsmodels `quantile_ci` compute it, on the scale of the chosen
//!   transform.

use crate::data::SurvivalData;
use crate::dist::z_for_level;
use crate::error::{Result, StatsError, check_level};
use cryoseed_core::protocol::KmCiTransform;

/// One row of the survival table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmRow {
    /// Distinct observed time.
    pub time: f64,
    /// Subjects at risk just before `time`.
    pub n_risk: usize,
    /// Events at `time`.
    pub n_event: usize,
    /// Censorings at `time`.
    pub n_censor: usize,
    /// Ŝ(time), product-limit estimate.
    pub survival: f64,
    /// Greenwood sum Σ d / (n (n − d)) over event times ≤ `time` (the variance of log Ŝ);
    /// infinite once Ŝ = 0.
    pub greenwood: f64,
    /// Greenwood standard error of Ŝ(time), `None` once Ŝ = 0.
    pub std_err: Option<f64>,
    /// Lower confidence bound, `None` where the transform is undefined.
    pub ci_lower: Option<f64>,
    /// Upper confidence bound, `None` where the transform is undefined.
    pub ci_upper: Option<f64>,
}

/// A fitted Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    /// Number of subjects.
    pub n: usize,
    /// Number of events.
    pub events: usize,
    /// Survival table, one row per distinct time.
    pub table: Vec<KmRow>,
    /// Confidence interval transform.
    pub transform: KmCiTransform,
    /// Confidence level of the intervals.
    pub level: f64,
}

/// A survival probability with its pointwise confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalEstimate {
    /// Time at which S is evaluated.
    pub time: f64,
    /// Ŝ(time).
    pub survival: f64,
    /// Greenwood standard error of Ŝ(time).
    pub std_err: Option<f64>,
    /// Lower bound.
    pub ci_lower: Option<f64>,
    /// Upper bound.
    pub ci_upper: Option<f64>,
}

/// A survival-time quantile and its Brookmeyer–Crowley interval. `None` means "not reached"
/// (the curve does not fall that low, or the interval is open above).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalQuantile {
    /// Probability p (0.5 for the median): the time by which a fraction p has had the event.
    pub p: f64,
    /// Estimated quantile time.
    pub time: Option<f64>,
    /// Lower bound of the interval.
    pub ci_lower: Option<f64>,
    /// Upper bound of the interval.
    pub ci_upper: Option<f64>,
}

/// Restricted mean survival time up to `tau` with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rmst {
    /// Horizon τ.
    pub tau: f64,
    /// ∫₀^τ Ŝ(t) dt.
    pub estimate: f64,
    /// Standard error (Klein & Moeschberger 2003, eq. 4.5.2).
    pub std_err: f64,
    /// Lower bound (normal approximation).
    pub ci_lower: f64,
    /// Upper bound.
    pub ci_upper: f64,
}

/// Pointwise interval of S from Ŝ and the Greenwood sum `g` = Var(log Ŝ)
/// (Kalbfleisch & Prentice 2002, §1.4; R `survfit.formula` conf.type).
pub fn survival_ci(s: f64, greenwood: f64, z: f64, transform: KmCiTransform) -> (Option<f64>, Option<f64>) {
    if s <= 0.0 || s.is_nan() || !greenwood.is_finite() {
        return (None, None);
    }
    let sd_log = greenwood.sqrt();
    match transform {
        KmCiTransform::LogLog => {
            if s >= 1.0 {
                return (None, None);
            }
            // log(−log S) has standard error sqrt(g) / |log S|.
            let v = (-s.ln()).ln();
            let se = sd_log / s.ln().abs();
            (Some((-(v + z * se).exp()).exp()), Some((-(v - z * se).exp()).exp()))
        }
        KmCiTransform::Log => (Some(s * (-z * sd_log).exp()), Some((s * (z * sd_log).exp()).min(1.0))),
        KmCiTransform::Plain => {
            let se = s * sd_log;
            (Some((s - z * se).max(0.0)), Some((s + z * se).min(1.0)))
        }
    }
}

/// Kaplan–Meier (1958) product-limit estimate Ŝ(t) = Π_{tⱼ ≤ t} (1 − dⱼ / nⱼ), with Greenwood's
/// (1926) variance Var Ŝ = Ŝ² Σ dⱼ / (nⱼ (nⱼ − dⱼ)) and pointwise intervals at `level`.
pub fn kaplan_meier(data: &SurvivalData, transform: KmCiTransform, level: f64) -> Result<KaplanMeier> {
    check_level(level)?;
    if data.is_empty() {
        return Err(StatsError::NotEstimable("Kaplan–Meier: no observations".into()));
    }
    let z = z_for_level(level);
    let order = crate::data::order_by_time(data.time());
    let (time, event) = (data.time(), data.event());
    let mut table = Vec::new();
    let mut n_risk = data.len();
    let mut s = 1.0;
    let mut greenwood = 0.0;
    let mut i = 0;
    while i < order.len() {
        let t = time[order[i]];
        let (mut d, mut c) = (0usize, 0usize);
        while i < order.len() && time[order[i]] == t {
            if event[order[i]] {
                d += 1
            } else {
                c += 1
            }
            i += 1;
        }
        if d > 0 {
            s *= 1.0 - d as f64 / n_risk as f64;
            greenwood += if d < n_risk { d as f64 / (n_risk as f64 * (n_risk - d) as f64) } else { f64::INFINITY };
        }
        let std_err = if s > 0.0 { Some(s * greenwood.sqrt()) } else { None };
        let (ci_lower, ci_upper) = survival_ci(s, greenwood, z, transform);
        table.push(KmRow {
            time: t,
            n_risk,
            n_event: d,
            n_censor: c,
            survival: s,
            greenwood,
            std_err,
            ci_lower,
            ci_upper,
        });
        n_risk -= d + c;
    }
    Ok(KaplanMeier { n: data.len(), events: data.events(), table, transform, level })
}

impl KaplanMeier {
    /// Ŝ(t) and its interval: the last table row at or before `t` (Ŝ = 1 before the first time).
    pub fn survival_at(&self, t: f64) -> SurvivalEstimate {
        match self.table.iter().rev().find(|r| r.time <= t) {
            Some(r) => SurvivalEstimate {
                time: t,
                survival: r.survival,
                std_err: r.std_err,
                ci_lower: r.ci_lower,
                ci_upper: r.ci_upper,
            },
            None => SurvivalEstimate { time: t, survival: 1.0, std_err: Some(0.0), ci_lower: None, ci_upper: None },
        }
    }

    /// Landmark estimates Ŝ(t) at each time of `times` (e.g. 6 and 12 months).
    pub fn landmarks(&self, times: &[f64]) -> Vec<SurvivalEstimate> {
        times.iter().map(|&t| self.survival_at(t)).collect()
    }

    /// Median survival time with its Brookmeyer–Crowley interval.
    pub fn median(&self) -> SurvivalQuantile {
        self.quantile(0.5).unwrap_or(SurvivalQuantile { p: 0.5, time: None, ci_lower: None, ci_upper: None })
    }

    /// The p-th quantile of the survival time: the first time with Ŝ(t) ≤ 1 − p. Its interval is
    /// Brookmeyer & Crowley (1982): the event times tⱼ where
    /// |g(Ŝ(tⱼ)) − g(1 − p)| ≤ z g′(Ŝ(tⱼ)) se(Ŝ(tⱼ)), g the interval's transform; the lower bound is
    /// the first such time, the upper bound the next event time after the last such time (open
    /// above if there is none), as SAS LIFETEST.
    pub fn quantile(&self, p: f64) -> Result<SurvivalQuantile> {
        if !(p > 0.0 && p < 1.0) {
            return Err(StatsError::InvalidParameter { name: "p", problem: format!("must be in (0, 1), got {p}") });
        }
        let target = 1.0 - p;
        let time = self.table.iter().find(|r| r.n_event > 0 && r.survival <= target + 1e-12).map(|r| r.time);
        let z = z_for_level(self.level);
        type Transform = fn(f64) -> f64;
        let (g, gprime): (Transform, Transform) = match self.transform {
            KmCiTransform::LogLog => (|x| (-x.ln()).ln(), |x| -1.0 / (x * x.ln())),
            KmCiTransform::Log => (f64::ln, |x| 1.0 / x),
            KmCiTransform::Plain => (|x| x, |_| 1.0),
        };
        let event_rows: Vec<&KmRow> = self.table.iter().filter(|r| r.n_event > 0).collect();
        let inside: Vec<usize> = event_rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let Some(se) = r.std_err else { return false };
                let stat = (g(r.survival) - g(target)) / (gprime(r.survival) * se);
                stat.abs() <= z
            })
            .map(|(k, _)| k)
            .collect();
        let (ci_lower, ci_upper) = match (inside.first(), inside.last()) {
            (Some(&first), Some(&last)) => (Some(event_rows[first].time), event_rows.get(last + 1).map(|r| r.time)),
            _ => (None, None),
        };
        Ok(SurvivalQuantile { p, time, ci_lower, ci_upper })
    }

    /// Restricted mean survival time ∫₀^τ Ŝ(t) dt with the variance
    /// Σ_{tⱼ < τ} Aⱼ² dⱼ / (nⱼ (nⱼ − dⱼ)), Aⱼ = ∫_{tⱼ}^τ Ŝ(t) dt (Klein & Moeschberger 2003,
    /// eq. 4.5.2; R `print.survfit(rmean = τ)`), and a normal interval.
    pub fn rmst(&self, tau: f64) -> Result<Rmst> {
        if !(tau.is_finite() && tau > 0.0) {
            return Err(StatsError::InvalidParameter {
                name: "tau",
                problem: format!("must be a positive time, got {tau}"),
            });
        }
        // Step function knots below tau: (start time, S on [start, next)).
        let mut knots = vec![(0.0, 1.0)];
        for r in self.table.iter().filter(|r| r.n_event > 0 && r.time < tau) {
            knots.push((r.time, r.survival));
        }
        let mut area_from = vec![0.0; knots.len() + 1];
        for k in (0..knots.len()).rev() {
            let end = knots.get(k + 1).map_or(tau, |n| n.0);
            area_from[k] = area_from[k + 1] + knots[k].1 * (end - knots[k].0);
        }
        let estimate = area_from[0];
        let mut var = 0.0;
        for (k, r) in (1..).zip(self.table.iter().filter(|r| r.n_event > 0 && r.time < tau)) {
            if r.n_event < r.n_risk {
                let a = area_from[k];
                var += a * a * r.n_event as f64 / (r.n_risk as f64 * (r.n_risk - r.n_event) as f64);
            }
        }
        let std_err = var.sqrt();
        let z = z_for_level(self.level);
        Ok(Rmst { tau, estimate, std_err, ci_lower: estimate - z * std_err, ci_upper: estimate + z * std_err })
    }
}
