//! Power: Schoenfeld's formula for the log-rank test, and a seeded, parallel simulation of the
//! trial's design with its two primary endpoints — lesion-level local control clustered within
//! patients, and local progression-free survival (LPFS).
//!
//! Simulation model, per simulated trial:
//! - each arm has `patients_per_arm` patients, each with a number of treated target lesions drawn
//!   uniformly from `min_lesions..=max_lesions`;
//! - local control: each patient draws a control probability from a Beta distribution with mean
//!   the arm's local control rate and intra-cluster correlation ρ (beta-binomial:
//!   a + b = (1 − ρ)/ρ), and each lesion is controlled with that probability, so the lesion
//!   outcomes of one patient have correlation ρ; analysed with a logit GEE (working correlation
//!   from the protocol) and a one-sided Wald test;
//! - LPFS: exponential times (control median from the protocol, experimental hazard × HR),
//!   uniform accrual over `accrual`, analysis `min_follow_up` after the last patient (so
//!   follow-up runs from `min_follow_up` to `accrual + min_follow_up`); one-sided log-rank test;
//! - the two primary endpoints are tested at one-sided α with the protocol's multiplicity rule.
//!
//! Trial t uses `ChaCha8Rng::seed_from_u64(seed + t)`, so the result does not depend on the
//! number of threads.

use crate::cox::Covariates;
use crate::data::SurvivalData;
use crate::dist::{normal_cdf, normal_quantile};
use crate::error::{Result, StatsError};
use crate::glm::{GeeLink, fit_gee};
use crate::logrank::{LogRankWeight, logrank_test};
use cryoseed_core::Months;
use cryoseed_core::protocol::{GeeCorrelation, Multiplicity, Protocol};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Events needed by a one-sided log-rank test at level α with power 1 − β to detect hazard
/// ratio `hr`, with a fraction `allocation` randomized to the experimental arm (Schoenfeld
/// 1983, eq. 1): D = (z₁₋α + z₁₋β)² / (π (1 − π) (log HR)²).
pub fn schoenfeld_events(hr: f64, alpha_one_sided: f64, power: f64, allocation: f64) -> Result<f64> {
    check_hr_alpha(hr, alpha_one_sided)?;
    check_unit("power", power)?;
    check_unit("allocation", allocation)?;
    let z = normal_quantile(1.0 - alpha_one_sided) + normal_quantile(power);
    Ok(z * z / (allocation * (1.0 - allocation) * hr.ln().powi(2)))
}

/// Power of the one-sided log-rank test with `events` events (Schoenfeld 1983, inverted):
/// Φ(√(D π (1 − π)) |log HR| − z₁₋α).
pub fn schoenfeld_power(events: f64, hr: f64, alpha_one_sided: f64, allocation: f64) -> Result<f64> {
    check_hr_alpha(hr, alpha_one_sided)?;
    check_unit("allocation", allocation)?;
    if events.is_nan() || events < 0.0 {
        return Err(StatsError::InvalidParameter { name: "events", problem: format!("must be ≥ 0, got {events}") });
    }
    Ok(normal_cdf(
        (events * allocation * (1.0 - allocation)).sqrt() * hr.ln().abs() - normal_quantile(1.0 - alpha_one_sided),
    ))
}

/// Probability that a patient's event is observed by the analysis, for exponential event times
/// with rate λ, uniform accrual over A and analysis F after the last entry (Collett 2015,
/// §10.2): 1 − (e^(−λF) − e^(−λ(A+F))) / (λ A).
pub fn probability_of_event(hazard_per_month: f64, accrual: Months, min_follow_up: Months) -> f64 {
    let (a, f, l) = (accrual.value(), min_follow_up.value(), hazard_per_month);
    if a <= 0.0 {
        return 1.0 - (-l * f).exp();
    }
    1.0 - ((-l * f).exp() - (-l * (a + f)).exp()) / (l * a)
}

fn check_unit(name: &'static str, v: f64) -> Result<()> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter { name, problem: format!("must be in (0, 1), got {v}") })
    }
}

fn check_hr_alpha(hr: f64, alpha: f64) -> Result<()> {
    if !(hr > 0.0 && hr.is_finite() && hr != 1.0) {
        return Err(StatsError::InvalidParameter {
            name: "hazard_ratio",
            problem: format!("must be positive and ≠ 1, got {hr}"),
        });
    }
    check_unit("alpha", alpha)
}

/// The design of the trial as simulated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialDesign {
    /// Patients randomized to each arm.
    pub patients_per_arm: u32,
    /// Fewest treated target lesions per patient.
    pub min_lesions: u32,
    /// Most treated target lesions per patient.
    pub max_lesions: u32,
    /// Local control rate, control arm.
    pub lcr_control: f64,
    /// Local control rate, experimental arm.
    pub lcr_experimental: f64,
    /// Intra-patient correlation of lesion outcomes.
    pub icc: f64,
    /// Median LPFS, control arm.
    pub lpfs_control_median: Months,
    /// LPFS hazard ratio experimental / control.
    pub lpfs_hazard_ratio: f64,
    /// Accrual period.
    pub accrual: Months,
    /// Follow-up after the last randomization.
    pub min_follow_up: Months,
    /// One-sided significance level per primary endpoint.
    pub alpha_one_sided: f64,
    /// Multiplicity rule across the two primary endpoints.
    pub multiplicity: Multiplicity,
    /// Working correlation of the local-control GEE.
    pub gee_correlation: GeeCorrelation,
}

impl TrialDesign {
    /// The design of the protocol's `[power]` and `[analysis]` sections.
    pub fn from_protocol(protocol: &Protocol) -> TrialDesign {
        let p = &protocol.power;
        let a = &protocol.analysis;
        TrialDesign {
            patients_per_arm: p.patients_per_arm,
            min_lesions: p.min_lesions_per_patient,
            max_lesions: p.max_lesions_per_patient,
            lcr_control: p.lcr_control,
            lcr_experimental: p.lcr_experimental,
            icc: p.intra_patient_correlation,
            lpfs_control_median: p.lpfs_control_median_months,
            lpfs_hazard_ratio: p.lpfs_hazard_ratio,
            accrual: p.accrual_months,
            min_follow_up: p.min_follow_up_months,
            alpha_one_sided: a.alpha_one_sided,
            multiplicity: a.multiplicity,
            gee_correlation: a.gee_working_correlation,
        }
    }

    fn validate(&self) -> Result<()> {
        if self.patients_per_arm < 2 {
            return Err(StatsError::InvalidParameter {
                name: "patients_per_arm",
                problem: format!("need at least 2, got {}", self.patients_per_arm),
            });
        }
        if self.min_lesions == 0 || self.min_lesions > self.max_lesions {
            return Err(StatsError::InvalidParameter {
                name: "lesions_per_patient",
                problem: format!("need 1 ≤ min ≤ max, got {}..{}", self.min_lesions, self.max_lesions),
            });
        }
        check_unit("lcr_control", self.lcr_control)?;
        check_unit("lcr_experimental", self.lcr_experimental)?;
        if !(self.icc >= 0.0 && self.icc < 1.0) {
            return Err(StatsError::InvalidParameter {
                name: "icc",
                problem: format!("must be in [0, 1), got {}", self.icc),
            });
        }
        if self.lpfs_control_median.value().is_nan() || self.lpfs_control_median.value() <= 0.0 {
            return Err(StatsError::InvalidParameter {
                name: "lpfs_control_median",
                problem: format!("must be > 0, got {}", self.lpfs_control_median),
            });
        }
        if !(self.lpfs_hazard_ratio > 0.0 && self.lpfs_hazard_ratio.is_finite()) {
            return Err(StatsError::InvalidParameter {
                name: "lpfs_hazard_ratio",
                problem: format!("must be > 0, got {}", self.lpfs_hazard_ratio),
            });
        }
        if !(self.accrual.value() >= 0.0 && self.min_follow_up.value() > 0.0) {
            return Err(StatsError::InvalidParameter {
                name: "accrual/min_follow_up",
                problem: format!("need accrual ≥ 0 and follow-up > 0, got {} and {}", self.accrual, self.min_follow_up),
            });
        }
        check_unit("alpha", self.alpha_one_sided)
    }
}

/// Outcome of one simulated trial.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TrialOutcome {
    lc_p: f64,
    lpfs_p: f64,
    lesions: usize,
    lpfs_events: usize,
}

/// Result of a power simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerSimulation {
    /// Simulated trials.
    pub trials: usize,
    /// Seed of the first trial.
    pub seed: u64,
    /// Fraction of trials rejecting for local control at one-sided α (unadjusted).
    pub local_control_power: f64,
    /// Fraction of trials rejecting for LPFS at one-sided α (unadjusted).
    pub lpfs_power: f64,
    /// Local control rejections after the multiplicity adjustment.
    pub local_control_power_adjusted: f64,
    /// LPFS rejections after the multiplicity adjustment.
    pub lpfs_power_adjusted: f64,
    /// Trials rejecting both primary endpoints (adjusted).
    pub both_power_adjusted: f64,
    /// Trials rejecting at least one primary endpoint (adjusted).
    pub any_power_adjusted: f64,
    /// Monte Carlo standard error of a power near 0.5, √(0.25 / trials) (an upper bound).
    pub monte_carlo_se: f64,
    /// Mean number of lesions per trial.
    pub mean_lesions: f64,
    /// Mean number of LPFS events per trial.
    pub mean_lpfs_events: f64,
    /// Trials where the local-control GEE could not be fitted (counted as not rejecting).
    pub failed_local_control_fits: usize,
    /// Expected LPFS events from the design (Collett's formula) and Schoenfeld power for them.
    pub schoenfeld_expected_events: f64,
    /// Schoenfeld's power for the expected events.
    pub schoenfeld_power: f64,
}

/// Standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Gamma(shape, 1) draw (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1/shape)).
fn gamma(rng: &mut ChaCha8Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = 1.0 - rng.random::<f64>();
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = 1.0 - rng.random::<f64>();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Beta(a, b) draw from two gamma draws.
fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

/// One-sided p-value of a z statistic oriented so that positive z favours the experimental arm.
fn one_sided_p(z: f64) -> f64 {
    if z.is_nan() { 1.0 } else { 1.0 - normal_cdf(z) }
}

fn simulate_trial(design: &TrialDesign, seed: u64) -> TrialOutcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = design.patients_per_arm as usize;
    // Local control.
    let mut y = Vec::new();
    let mut arm_col = Vec::new();
    let mut cluster = Vec::new();
    for arm in 0..2 {
        let rate = if arm == 1 { design.lcr_experimental } else { design.lcr_control };
        for patient in 0..n {
            let lesions = rng.random_range(design.min_lesions..=design.max_lesions);
            let p = if design.icc > 0.0 {
                let total = (1.0 - design.icc) / design.icc;
                beta(&mut rng, rate * total, (1.0 - rate) * total)
            } else {
                rate
            };
            for _ in 0..lesions {
                y.push(if rng.random::<f64>() < p { 1.0 } else { 0.0 });
                arm_col.push(arm as f64);
                cluster.push(format!("{arm}-{patient}"));
            }
        }
    }
    let lesions = y.len();
    let lc_p = Covariates::new(vec![("arm".to_owned(), arm_col)])
        .ok()
        .and_then(|x| fit_gee(&y, &x, &cluster, GeeLink::Logit, design.gee_correlation, 0.95).ok())
        .map_or(f64::NAN, |fit| one_sided_p(fit.coefficients[1].z));
    // LPFS.
    let rate_control = std::f64::consts::LN_2 / design.lpfs_control_median.value();
    let mut time = Vec::with_capacity(2 * n);
    let mut event = Vec::with_capacity(2 * n);
    let mut group = Vec::with_capacity(2 * n);
    for arm in 0..2 {
        let rate = if arm == 1 { rate_control * design.lpfs_hazard_ratio } else { rate_control };
        for _ in 0..n {
            let entry = rng.random::<f64>() * design.accrual.value();
            let follow = design.accrual.value() + design.min_follow_up.value() - entry;
            let u: f64 = 1.0 - rng.random::<f64>();
            let t = -u.ln() / rate;
            time.push(t.min(follow));
            event.push(t <= follow);
            group.push(if arm == 1 { "experimental".to_owned() } else { "control".to_owned() });
        }
    }
    let lpfs_events = event.iter().filter(|&&e| e).count();
    let lpfs_p = SurvivalData::new(time, event)
        .ok()
        .and_then(|data| logrank_test(&data, &group, None, LogRankWeight::LogRank).ok())
        .map_or(1.0, |test| {
            // Groups are sorted: "control" then "experimental"; fewer observed than expected
            // events in the experimental arm favours it.
            let exp = &test.groups[1];
            let sign = if (exp.observed as f64) < exp.expected { 1.0 } else { -1.0 };
            one_sided_p(sign * test.chi2.sqrt())
        });
    TrialOutcome { lc_p, lpfs_p, lesions, lpfs_events }
}

/// Rejections of the two primary endpoints after the multiplicity rule (Holm 1979 step-down,
/// Bonferroni, or none), at family-wise one-sided level α.
fn adjusted_rejections(p1: f64, p2: f64, alpha: f64, rule: Multiplicity) -> (bool, bool) {
    match rule {
        Multiplicity::None => (p1 <= alpha, p2 <= alpha),
        Multiplicity::Bonferroni => (p1 <= alpha / 2.0, p2 <= alpha / 2.0),
        Multiplicity::Holm => {
            let (small, large) = if p1 <= p2 { (p1, p2) } else { (p2, p1) };
            let first = small <= alpha / 2.0;
            let second = first && large <= alpha;
            if p1 <= p2 { (first, second) } else { (second, first) }
        }
    }
}

/// Simulates `trials` trials of `design` in parallel and reports the power of each primary
/// endpoint, unadjusted and after the multiplicity rule.
pub fn simulate_power(design: &TrialDesign, trials: usize, seed: u64) -> Result<PowerSimulation> {
    design.validate()?;
    if trials == 0 {
        return Err(StatsError::InvalidParameter { name: "trials", problem: "must be ≥ 1".into() });
    }
    let outcomes: Vec<TrialOutcome> =
        (0..trials).into_par_iter().map(|t| simulate_trial(design, seed.wrapping_add(t as u64))).collect();
    let alpha = design.alpha_one_sided;
    let nt = trials as f64;
    let mut counts = [0usize; 6];
    let mut failed = 0;
    for o in &outcomes {
        if o.lc_p.is_nan() {
            failed += 1;
        }
        let lc = if o.lc_p.is_nan() { 1.0 } else { o.lc_p };
        let (a, b) = adjusted_rejections(lc, o.lpfs_p, alpha, design.multiplicity);
        counts[0] += usize::from(lc <= alpha);
        counts[1] += usize::from(o.lpfs_p <= alpha);
        counts[2] += usize::from(a);
        counts[3] += usize::from(b);
        counts[4] += usize::from(a && b);
        counts[5] += usize::from(a || b);
    }
    let rate_control = std::f64::consts::LN_2 / design.lpfs_control_median.value();
    let n = design.patients_per_arm as f64;
    let expected_events = n * probability_of_event(rate_control, design.accrual, design.min_follow_up)
        + n * probability_of_event(rate_control * design.lpfs_hazard_ratio, design.accrual, design.min_follow_up);
    let schoenfeld = if design.lpfs_hazard_ratio == 1.0 {
        alpha
    } else {
        schoenfeld_power(expected_events, design.lpfs_hazard_ratio, alpha, 0.5)?
    };
    Ok(PowerSimulation {
        trials,
        seed,
        local_control_power: counts[0] as f64 / nt,
        lpfs_power: counts[1] as f64 / nt,
        local_control_power_adjusted: counts[2] as f64 / nt,
        lpfs_power_adjusted: counts[3] as f64 / nt,
        both_power_adjusted: counts[4] as f64 / nt,
        any_power_adjusted: counts[5] as f64 / nt,
        monte_carlo_se: (0.25 / nt).sqrt(),
        mean_lesions: outcomes.iter().map(|o| o.lesions as f64).sum::<f64>() / nt,
        mean_lpfs_events: outcomes.iter().map(|o| o.lpfs_events as f64).sum::<f64>() / nt,
        failed_local_control_fits: failed,
        schoenfeld_expected_events: expected_events,
        schoenfeld_power: schoenfeld,
    })
}
