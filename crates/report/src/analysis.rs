//! The trial's analysis report: every endpoint of PROTOCOL.md by arm with its method, estimate,
//! confidence interval and test; safety tables; dosimetry–outcome; zonal response of the bulky
//! lesions; patterns of failure; reader concordance; the CONSORT diagram.
//!
//! [`analysis`] computes the numbers once into an [`AnalysisSummary`] (also written as
//! `analysis.json`, so that a test can hold them to the `stats` CLI's numbers on the exported
//! analysis datasets) and [`analysis_html`] renders the self-contained HTML; [`analysis_report`]
//! renders it as HTML and as PDF (A4, the provenance in every page's header and footer). Every section ends
//! with the protocol version and hash, the software version and the data snapshot's SHA-256, so a
//! printed page or a screenshot of one section still says what produced it. Nothing depends on
//! the clock or on map order: the same snapshot gives the same bytes.
//!
//! Methods (PROTOCOL.md, "Analysis"): local control at 6 months per lesion, difference between
//! arms by GEE (identity link, the protocol's working correlation, lesions clustered in
//! patients) with robust CI and Wald test; Kaplan–Meier with Greenwood variance and the
//! protocol's CI transform, Brookmeyer–Crowley median CIs, landmark rates, log-rank stratified by
//! the randomization strata, Cox hazard ratio (protocol's ties, unstratified); binary endpoints
//! with Clopper–Pearson per arm, Newcombe difference and Fisher's exact test; Aalen–Johansen
//! cumulative incidence with Gray's test for competing risks.

use crate::html::{Block, Document, Mark, Section};
use crate::pdf::RunningHead;
use crate::svg::{Figure, Svg, num as svg_num, ticks};
use crate::trial_input::TrialInput;
use crate::trial_plots::{
    Consort, ConsortArm, ForestRow, KmGroup, SpiderLine, SwimmerLane, WaterfallBar, cif_svg, consort_svg, forest_svg,
    km_svg, spider_svg, swimmer_svg, waterfall_svg,
};
use cryoseed_core::protocol::GeeCorrelation;
use cryoseed_core::{Arm, Modality, Months};
use cryoseed_response::{Acceptance, FailureSite, OverallResponse, reader_agreement};
use cryoseed_stats as st;
use cryoseed_trial::endpoints::{Endpoint, EventStatus, LcrOutcome, PatientRow, TechnicalSuccess, TimeToEventRow};
use serde::Serialize;
use std::collections::BTreeMap;

/// The arms in the order the `stats` CLI sorts group labels (as text).
const ARMS: [Arm; 2] = [Arm::Control, Arm::Experimental];

/// One arm's local control: (arm, controlled, lesions analysed, patients, Clopper–Pearson CI).
pub type LcrArm = (String, u64, u64, usize, Option<[f64; 2]>);

/// One arm's cumulative incidence at a time: (arm, CIF, CI).
pub type CifAt = (String, Option<f64>, [Option<f64>; 2]);

type CifFits = Vec<(String, st::CumulativeIncidence)>;

/// One arm's Kaplan–Meier summary (times in days).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KmArm {
    /// `control` or `experimental`.
    pub arm: String,
    /// Patients.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Median (days), if reached.
    pub median: Option<f64>,
    /// Brookmeyer–Crowley CI of the median.
    pub median_ci: [Option<f64>; 2],
    /// Landmark survival at the protocol's months: (months, days, S, CI).
    pub landmarks: Vec<(f64, f64, f64, [Option<f64>; 2])>,
}

/// One time-to-event endpoint by arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeToEventSummary {
    /// `LPFS`, `PFS`, `TTSP`, `OS`.
    pub endpoint: String,
    /// Per arm.
    pub arms: Vec<KmArm>,
    /// Stratified log-rank χ² and p (None when not computable, with the reason in `notes`).
    pub logrank_chi2: Option<f64>,
    /// p-value.
    pub logrank_p: Option<f64>,
    /// Cox hazard ratio experimental vs control, CI and Wald p.
    pub cox_hr: Option<f64>,
    /// CI of the hazard ratio.
    pub cox_hr_ci: Option<[f64; 2]>,
    /// Wald p of the arm coefficient.
    pub cox_p: Option<f64>,
    /// Hazard ratio experimental vs control within subgroups (all patients, each centre, each
    /// ECOG score): exploratory, for the forest plot.
    pub subgroups: Vec<SubgroupHr>,
    /// Why something is missing, warnings of the fits.
    pub notes: Vec<String>,
}

/// The Cox hazard ratio experimental vs control within one subgroup (unstratified, the protocol's
/// ties); `None` with the reason when not estimable (too few patients or no events in an arm).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubgroupHr {
    /// `all patients`, `centre C01`, `ECOG 0`, …
    pub subgroup: String,
    /// Patients in the subgroup.
    pub patients: usize,
    /// Events in the subgroup.
    pub events: usize,
    /// Hazard ratio.
    pub hr: Option<f64>,
    /// Its CI at the protocol's level.
    pub hr_ci: Option<[f64; 2]>,
    /// Why the hazard ratio is missing.
    pub note: Option<String>,
}

/// A Cox fit of the arm alone: (HR, CI, Wald p, warnings), or why it is not estimable.
fn cox_arm(rows: &[&TimeToEventRow], input: &TrialInput<'_>) -> Result<(f64, [f64; 2], f64, Vec<String>), String> {
    let a = &input.protocol.analysis;
    let d = st::SurvivalData::new(
        rows.iter().map(|r| r.time.value()).collect(),
        rows.iter().map(|r| r.status == EventStatus::Event).collect(),
    )
    .map_err(|e| format!("no survival data: {e}"))?;
    let x = st::Covariates::new(vec![(
        "experimental".into(),
        rows.iter().map(|r| if r.arm == Arm::Experimental { 1.0 } else { 0.0 }).collect(),
    )]);
    let config = st::CoxConfig { ties: a.cox_ties, level: a.ci_level, ..st::CoxConfig::default() };
    let fit = x
        .and_then(|x| st::fit_cox(&d, &x, None, None, false, &config))
        .map_err(|e| format!("Cox model not estimable: {e}"))?;
    let c = &fit.coefficients[0];
    if c.is_infinite {
        return Err("Cox: the arm coefficient is infinite (no events in one arm)".into());
    }
    let warnings = fit.warnings.iter().map(|w| format!("Cox: {w}")).collect();
    Ok((c.hr, [c.hr_ci.0, c.hr_ci.1], c.p_value, warnings))
}

/// Hazard ratios in all patients, per centre and per ECOG score.
fn subgroup_hrs(rows: &[&TimeToEventRow], input: &TrialInput<'_>) -> Vec<SubgroupHr> {
    let patients: BTreeMap<&str, &PatientRow> =
        input.datasets.patients.iter().map(|r| (r.patient_id.as_str(), r)).collect();
    let centre = |r: &TimeToEventRow| patients.get(r.patient_id.as_str()).map(|p| format!("centre {}", p.site_id));
    let ecog = |r: &TimeToEventRow| patients.get(r.patient_id.as_str()).map(|p| format!("ECOG {}", p.ecog.score()));
    let mut groups: Vec<(String, Vec<&TimeToEventRow>)> = vec![("all patients".into(), rows.to_vec())];
    for key in [&centre as &dyn Fn(&TimeToEventRow) -> Option<String>, &ecog] {
        let mut by: BTreeMap<String, Vec<&TimeToEventRow>> = BTreeMap::new();
        for r in rows {
            if let Some(k) = key(r) {
                by.entry(k).or_default().push(r);
            }
        }
        groups.extend(by);
    }
    groups
        .into_iter()
        .map(|(subgroup, sub)| {
            let events = sub.iter().filter(|r| r.status == EventStatus::Event).count();
            let (hr, hr_ci, note) = match cox_arm(&sub, input) {
                Ok((hr, ci, _, _)) => (Some(hr), Some(ci), None),
                Err(e) => (None, None, Some(e)),
            };
            SubgroupHr { subgroup, patients: sub.len(), events, hr, hr_ci, note }
        })
        .collect()
}

/// A binary endpoint by arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinarySummary {
    /// Name (`ORR`, `technical success`, …).
    pub endpoint: String,
    /// Per arm: (arm, successes, trials, Clopper–Pearson CI).
    pub arms: Vec<(String, u64, u64, Option<[f64; 2]>)>,
    /// Newcombe CI of control − experimental (the `stats binom` order: groups sorted as text).
    pub newcombe_ci: Option<[f64; 2]>,
    /// Fisher's exact test, two-sided.
    pub fisher_p: Option<f64>,
}

/// Local control at 6 months under one coding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LcrSummary {
    /// `primary (evaluable lesions)` or `not evaluable = failure`.
    pub coding: String,
    /// Per arm: (arm, controlled, lesions analysed, patients, Clopper–Pearson CI ignoring
    /// clustering).
    pub arms: Vec<LcrArm>,
    /// GEE difference experimental − control (identity link), robust CI, Wald p.
    pub gee_difference: Option<f64>,
    /// Its CI.
    pub gee_ci: Option<[f64; 2]>,
    /// Its p.
    pub gee_p: Option<f64>,
    /// Working correlation.
    pub gee_working_correlation: Option<f64>,
    /// Why missing.
    pub notes: Vec<String>,
}

/// Dosimetry–outcome: logistic regression of local control on seed D90.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DoseResponse {
    /// Lesions with a post-implant D90 and an evaluable local-control outcome.
    pub n: usize,
    /// Intercept and slope per Gy (log-odds), with Wald CIs and p.
    pub coefficients: Vec<(String, f64, [f64; 2], f64)>,
    /// Odds ratio per 10 Gy and its CI.
    pub odds_ratio_per_10gy: Option<(f64, [f64; 2])>,
    /// Why missing, separation warnings.
    pub notes: Vec<String>,
}

/// Reader concordance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Concordance {
    /// Patients with two readers.
    pub patients: usize,
    /// Kappa of time-point responses (pairs, kappa).
    pub time_point_kappa: (usize, Option<f64>),
    /// Kappa of best overall responses.
    pub best_response_kappa: (usize, Option<f64>),
    /// Kappa of LTP yes/no per treated lesion.
    pub ltp_kappa: (usize, Option<f64>),
    /// Share of time points with a discordance trigger.
    pub disagreement_index: Option<f64>,
    /// Share of patients adjudicated.
    pub adjudication_rate: Option<f64>,
}

/// Every number the report shows, for machines (`analysis.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AnalysisSummary {
    /// Always `cryoseed-analysis`.
    pub format: &'static str,
    /// Version of this layout.
    pub version: u32,
    /// Software version.
    pub software_version: String,
    /// Protocol name and version.
    pub protocol: String,
    /// Protocol SHA-256.
    pub protocol_sha256: String,
    /// Data snapshot SHA-256.
    pub snapshot_sha256: String,
    /// Latest date in the data.
    pub data_cut: Option<String>,
    /// Confidence level.
    pub ci_level: f64,
    /// Screened, randomized per arm.
    pub screened: usize,
    /// Randomized per arm.
    pub randomized: Vec<(String, usize)>,
    /// LCR at 6 months in the primary and the sensitivity codings.
    pub lcr: Vec<LcrSummary>,
    /// Cumulative incidence of LTP at 6 months, death competing: per arm (arm, CIF, CI) and Gray p.
    pub ltp_cif_6m: (Vec<CifAt>, Option<f64>),
    /// Time-to-event endpoints.
    pub time_to_event: Vec<TimeToEventSummary>,
    /// Binary endpoints (ORR, technical success, re-intervention).
    pub binary: Vec<BinarySummary>,
    /// Dosimetry–outcome.
    pub dose_response: DoseResponse,
    /// Reader concordance.
    pub concordance: Concordance,
}

fn label(arm: Arm) -> String {
    arm.to_string()
}

fn opt_pair(a: Option<f64>, b: Option<f64>) -> [Option<f64>; 2] {
    [a, b]
}

fn days_of(m: Months) -> f64 {
    m.to_days().value()
}

fn km_summary(input: &TrialInput<'_>, endpoint: Endpoint) -> (TimeToEventSummary, Vec<(String, st::KaplanMeier)>) {
    let rows: Vec<_> = input.datasets.time_to_event.iter().filter(|r| r.endpoint == endpoint).collect();
    let a = &input.protocol.analysis;
    let level = a.ci_level;
    let mut notes = Vec::new();
    let mut arms = Vec::new();
    let mut fits = Vec::new();
    for arm in ARMS {
        let sub: Vec<_> = rows.iter().filter(|r| r.arm == arm).collect();
        let data = st::SurvivalData::new(
            sub.iter().map(|r| r.time.value()).collect(),
            sub.iter().map(|r| r.status == EventStatus::Event).collect(),
        );
        match data.and_then(|d| st::kaplan_meier(&d, a.km_ci_transform, level)) {
            Ok(km) => {
                let median = km.median();
                let marks: Vec<f64> = a.landmark_months.iter().map(|m| days_of(*m)).collect();
                let landmarks = km
                    .landmarks(&marks)
                    .into_iter()
                    .zip(&a.landmark_months)
                    .map(|(e, m)| (m.value(), e.time, e.survival, opt_pair(e.ci_lower, e.ci_upper)))
                    .collect();
                arms.push(KmArm {
                    arm: label(arm),
                    n: km.n,
                    events: km.events,
                    median: median.time,
                    median_ci: opt_pair(median.ci_lower, median.ci_upper),
                    landmarks,
                });
                fits.push((label(arm), km));
            }
            Err(e) => notes.push(format!("{}: Kaplan–Meier not estimable: {e}", label(arm))),
        }
    }
    let data = st::SurvivalData::new(
        rows.iter().map(|r| r.time.value()).collect(),
        rows.iter().map(|r| r.status == EventStatus::Event).collect(),
    );
    let groups: Vec<String> = rows.iter().map(|r| label(r.arm)).collect();
    let strata: Vec<String> = rows.iter().map(|r| r.stratum.to_string()).collect();
    let (mut chi2, mut p, mut hr, mut hr_ci, mut cox_p) = (None, None, None, None, None);
    match &data {
        Ok(d) => {
            match st::logrank_test(d, &groups, Some(&strata), st::LogRankWeight::LogRank) {
                Ok(t) => {
                    chi2 = Some(t.chi2);
                    p = Some(t.p_value);
                }
                Err(e) => notes.push(format!("stratified log-rank not computable: {e}")),
            }
            match cox_arm(&rows, input) {
                Ok((h, ci, pv, warnings)) => {
                    hr = Some(h);
                    hr_ci = Some(ci);
                    cox_p = Some(pv);
                    notes.extend(warnings);
                }
                Err(e) => notes.push(e),
            }
        }
        Err(e) => notes.push(format!("no survival data: {e}")),
    }
    (
        TimeToEventSummary {
            endpoint: endpoint.code().into(),
            arms,
            logrank_chi2: chi2,
            logrank_p: p,
            cox_hr: hr,
            cox_hr_ci: hr_ci,
            cox_p,
            subgroups: subgroup_hrs(&rows, input),
            notes,
        },
        fits,
    )
}

fn binary_summary(name: &str, outcomes: &[(Arm, bool)], level: f64) -> BinarySummary {
    let mut arms = Vec::new();
    let mut counts = Vec::new();
    for arm in ARMS {
        let n = outcomes.iter().filter(|(a, _)| *a == arm).count() as u64;
        let x = outcomes.iter().filter(|(a, y)| *a == arm && *y).count() as u64;
        let ci = st::clopper_pearson(x, n, level).ok().map(|i| [i.lower, i.upper]);
        arms.push((label(arm), x, n, ci));
        counts.push((x, n));
    }
    let [(x1, n1), (x2, n2)] = [counts[0], counts[1]];
    let newcombe = st::newcombe_difference(x1, n1, x2, n2, level).ok().map(|i| [i.lower, i.upper]);
    let fisher = (n1 > 0 && n2 > 0).then(|| st::fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).p_two_sided);
    BinarySummary { endpoint: name.into(), arms, newcombe_ci: newcombe, fisher_p: fisher }
}

fn lcr_summary(
    input: &TrialInput<'_>,
    coding: &str,
    outcome: impl Fn(&cryoseed_trial::endpoints::LesionRow) -> LcrOutcome,
) -> LcrSummary {
    let a = &input.protocol.analysis;
    let rows: Vec<_> = input.datasets.lesions.iter().filter(|l| outcome(l) != LcrOutcome::NotEvaluable).collect();
    let mut arms = Vec::new();
    for arm in ARMS {
        let sub: Vec<_> = rows.iter().filter(|l| l.arm == arm).collect();
        let n = sub.len() as u64;
        let x = sub.iter().filter(|l| outcome(l) == LcrOutcome::Controlled).count() as u64;
        let mut patients: Vec<&str> = sub.iter().map(|l| l.patient_id.as_str()).collect();
        patients.sort_unstable();
        patients.dedup();
        let ci = st::clopper_pearson(x, n, a.ci_level).ok().map(|i| [i.lower, i.upper]);
        arms.push((label(arm), x, n, patients.len(), ci));
    }
    let y: Vec<f64> = rows.iter().map(|l| if outcome(l) == LcrOutcome::Controlled { 1.0 } else { 0.0 }).collect();
    let cluster: Vec<String> = rows.iter().map(|l| l.patient_id.to_string()).collect();
    let x = st::Covariates::new(vec![(
        "experimental".into(),
        rows.iter().map(|l| if l.arm == Arm::Experimental { 1.0 } else { 0.0 }).collect(),
    )]);
    let mut notes = Vec::new();
    let (mut diff, mut ci, mut p, mut rho) = (None, None, None, None);
    match x.and_then(|x| st::fit_gee(&y, &x, &cluster, st::GeeLink::Identity, a.gee_working_correlation, a.ci_level)) {
        Ok(fit) => {
            if let Some(c) = fit.coefficients.iter().find(|c| c.name == "experimental") {
                diff = Some(c.coef);
                ci = Some([c.ci.0, c.ci.1]);
                p = Some(c.p_value);
            }
            rho = (a.gee_working_correlation == GeeCorrelation::Exchangeable).then_some(fit.working_correlation);
            if !fit.converged {
                notes.push("GEE did not converge".into());
            }
        }
        Err(e) => notes.push(format!("GEE not estimable: {e}")),
    }
    LcrSummary {
        coding: coding.into(),
        arms,
        gee_difference: diff,
        gee_ci: ci,
        gee_p: p,
        gee_working_correlation: rho,
        notes,
    }
}

fn ltp_cif(input: &TrialInput<'_>) -> ((Vec<CifAt>, Option<f64>), CifFits) {
    let level = input.protocol.analysis.ci_level;
    let six = days_of(input.protocol.response.lcr_assessment_months);
    let rows = &input.datasets.lesions;
    let mut out = Vec::new();
    let mut fits = Vec::new();
    for arm in ARMS {
        let sub: Vec<_> = rows.iter().filter(|l| l.arm == arm).collect();
        let data = st::CompetingRisksData::new(
            sub.iter().map(|l| l.competing_time.value()).collect(),
            sub.iter().map(|l| u32::from(l.competing_status.code())).collect(),
        );
        match data.and_then(|d| st::aalen_johansen(&d, 1, level)) {
            Ok(cif) => {
                let at = cif.at(six).map_or((Some(0.0), [None, None]), |r| (Some(r.cif), [r.ci_lower, r.ci_upper]));
                out.push((label(arm), at.0, at.1));
                fits.push((label(arm), cif));
            }
            Err(_) => out.push((label(arm), None, [None, None])),
        }
    }
    let all = st::CompetingRisksData::new(
        rows.iter().map(|l| l.competing_time.value()).collect(),
        rows.iter().map(|l| u32::from(l.competing_status.code())).collect(),
    );
    let groups: Vec<String> = rows.iter().map(|l| label(l.arm)).collect();
    let gray = all.and_then(|d| st::gray_test(&d, &groups, None, 1, 0.0)).ok().map(|g| g.p_value);
    ((out, gray), fits)
}

fn seed_d90(input: &TrialInput<'_>, patient_id: &str, lesion_id: &str) -> Option<f64> {
    input
        .doc
        .procedures
        .iter()
        .filter(|p| p.patient_id == patient_id && p.lesion_id == lesion_id && !p.is_reintervention)
        .filter(|p| p.modality == Modality::Seeds)
        .filter_map(|p| p.qa.as_ref().and_then(|q| q.seed_d90_gy))
        .next_back()
}

fn dose_response(input: &TrialInput<'_>) -> (DoseResponse, Vec<(f64, f64)>) {
    let pts: Vec<(f64, f64)> = input
        .datasets
        .lesions
        .iter()
        .filter(|l| l.primary != LcrOutcome::NotEvaluable)
        .filter_map(|l| {
            seed_d90(input, l.patient_id.as_str(), l.lesion_id.as_str())
                .map(|d| (d, if l.primary == LcrOutcome::Controlled { 1.0 } else { 0.0 }))
        })
        .collect();
    let mut notes = Vec::new();
    let mut coefficients = Vec::new();
    let mut or10 = None;
    let y: Vec<f64> = pts.iter().map(|p| p.1).collect();
    let x = st::Covariates::new(vec![("d90_gy".into(), pts.iter().map(|p| p.0).collect())]);
    match x.and_then(|x| st::fit_logistic(&y, &x, input.protocol.analysis.ci_level)) {
        Ok(fit) => {
            for c in &fit.coefficients {
                coefficients.push((c.name.clone(), c.coef, [c.ci.0, c.ci.1], c.p_value));
            }
            if let Some(c) = fit.coefficients.iter().find(|c| c.name == "d90_gy") {
                or10 = Some(((10.0 * c.coef).exp(), [(10.0 * c.ci.0).exp(), (10.0 * c.ci.1).exp()]));
            }
            if fit.is_separated {
                notes.push("complete or quasi-complete separation: the slope is not finite".into());
            }
            notes.extend(fit.warnings.iter().cloned());
        }
        Err(e) => notes.push(format!("logistic regression not estimable: {e}")),
    }
    (DoseResponse { n: pts.len(), coefficients, odds_ratio_per_10gy: or10, notes }, pts)
}

/// Computes every number of the report.
pub fn analysis(input: &TrialInput<'_>, software_version: &str) -> AnalysisSummary {
    analysis_parts(input, software_version).0
}

/// What the report draws, for other front ends (the web service's statistician dashboard draws
/// the same estimates in the user's language).
#[derive(Debug)]
pub struct TrialFigures {
    /// Per time-to-event endpoint (code), each arm's Kaplan–Meier estimate (arm label, fit).
    pub km: Vec<(String, Vec<(String, st::KaplanMeier)>)>,
    /// The CONSORT counts (arm columns: experimental, then control).
    pub consort: Consort,
}

/// Every number of the report ([`analysis`]) and the estimates behind its figures, computed once.
pub fn analysis_with_figures(input: &TrialInput<'_>, software_version: &str) -> (AnalysisSummary, TrialFigures) {
    let (summary, figures) = analysis_parts(input, software_version);
    (summary, TrialFigures { km: figures.km, consort: consort(input) })
}

struct Figures {
    km: Vec<(String, Vec<(String, st::KaplanMeier)>)>,
    cif: Vec<(String, st::CumulativeIncidence)>,
    dose_points: Vec<(f64, f64)>,
}

fn analysis_parts(input: &TrialInput<'_>, software_version: &str) -> (AnalysisSummary, Figures) {
    let p = input.protocol;
    let level = p.analysis.ci_level;
    let d = input.datasets;
    let mut tte = Vec::new();
    let mut km = Vec::new();
    for e in [Endpoint::Lpfs, Endpoint::Pfs, Endpoint::Ttsp, Endpoint::Os] {
        let (s, fits) = km_summary(input, e);
        km.push((s.endpoint.clone(), fits));
        tte.push(s);
    }
    let orr: Vec<(Arm, bool)> = d.patients.iter().map(|r| (r.arm, r.objective_response)).collect();
    let tech: Vec<(Arm, bool)> = d
        .lesions
        .iter()
        .filter(|l| !matches!(l.technical_success, TechnicalSuccess::NotAssessed(_)))
        .map(|l| (l.arm, l.technical_success == TechnicalSuccess::Achieved))
        .collect();
    let reint: Vec<(Arm, bool)> = d.patients.iter().map(|r| (r.arm, r.reintervention)).collect();
    let (cif6, cif) = ltp_cif(input);
    let (dose, dose_points) = dose_response(input);
    let agreement = reader_agreement(input.assessments, p);
    let summary = AnalysisSummary {
        format: "cryoseed-analysis",
        version: 1,
        software_version: software_version.into(),
        protocol: format!("{} {}", p.protocol.name, p.protocol.version),
        protocol_sha256: p.hash().to_string(),
        snapshot_sha256: input.snapshot_sha256(),
        data_cut: input.data_cut().map(|d| d.to_string()),
        ci_level: level,
        screened: input.doc.screenings.iter().map(|s| &s.patient_id).collect::<std::collections::BTreeSet<_>>().len(),
        randomized: ARMS.iter().map(|&a| (label(a), d.patients.iter().filter(|r| r.arm == a).count())).collect(),
        lcr: vec![
            lcr_summary(input, "primary (evaluable lesions)", |l| l.primary),
            lcr_summary(input, "sensitivity: not evaluable = failure", |l| l.non_evaluable_as_failure),
        ],
        ltp_cif_6m: cif6,
        time_to_event: tte,
        binary: vec![
            binary_summary("ORR (CR or PR)", &orr, level),
            binary_summary("technical success (per lesion)", &tech, level),
            binary_summary("re-intervention", &reint, level),
        ],
        dose_response: dose,
        concordance: Concordance {
            patients: agreement.patients,
            time_point_kappa: (agreement.time_point_response.pairs, agreement.time_point_response.kappa),
            best_response_kappa: (agreement.best_response.pairs, agreement.best_response.kappa),
            ltp_kappa: (agreement.local_progression.pairs, agreement.local_progression.kappa),
            disagreement_index: agreement.disagreement_index,
            adjudication_rate: agreement.adjudication_rate,
        },
    };
    (summary, Figures { km, cif, dose_points })
}

/// One spider line per patient with an accepted reader: % change of the target sum from baseline
/// at each assessed time point, in days from randomization, starting at (0, 0).
fn spider_lines(input: &TrialInput<'_>) -> Vec<SpiderLine> {
    input
        .datasets
        .patients
        .iter()
        .filter_map(|r| {
            let a = input.assessments.iter().find(|a| a.patient_id == r.patient_id)?.accepted()?;
            let mut points = vec![(0.0, 0.0)];
            points.extend(a.recist.time_points.iter().filter_map(|t| {
                let change = t.target.as_ref()?.change_from_baseline?;
                Some((t.date.days_since(r.randomized_on).value(), change.value()))
            }));
            (points.len() > 1).then_some(SpiderLine { group: usize::from(r.arm == Arm::Experimental), points })
        })
        .collect()
}

/// One swimmer lane per randomized patient (control first, then experimental; longest first).
fn swimmer_lanes(input: &TrialInput<'_>) -> Vec<SwimmerLane> {
    let d = input.datasets;
    let event_time = |patient: &str, endpoint: Endpoint| {
        d.time_to_event
            .iter()
            .find(|t| t.patient_id.as_str() == patient && t.endpoint == endpoint)
            .map(|t| (t.time.value(), t.status == EventStatus::Event))
    };
    let mut lanes: Vec<SwimmerLane> = d
        .patients
        .iter()
        .filter_map(|r| {
            let id = r.patient_id.as_str();
            let (length, died) = event_time(id, Endpoint::Os)?;
            let mut events = Vec::new();
            if let Some(done) = r.therapy_completed_on {
                events.push((done.days_since(r.randomized_on).value(), "therapy completed".to_owned()));
            }
            let response =
                input.assessments.iter().find(|a| a.patient_id == r.patient_id).and_then(|a| a.accepted()).and_then(
                    |a| {
                        a.recist
                            .time_points
                            .iter()
                            .find(|t| matches!(t.response, OverallResponse::Cr | OverallResponse::Pr))
                    },
                );
            if let Some(t) = response {
                events.push((t.date.days_since(r.randomized_on).value(), "response (CR/PR)".to_owned()));
            }
            for (endpoint, kind) in [(Endpoint::Lpfs, "local progression"), (Endpoint::Ttsp, "systemic progression")] {
                if let Some((t, true)) = event_time(id, endpoint) {
                    events.push((t, kind.to_owned()));
                }
            }
            if died {
                events.push((length, "death".to_owned()));
            }
            Some(SwimmerLane {
                label: r.patient_id.to_string(),
                length,
                group: usize::from(r.arm == Arm::Experimental),
                events,
                ongoing: !died && r.withdrawn_on.is_none(),
            })
        })
        .collect();
    lanes.sort_by(|a, b| a.group.cmp(&b.group).then(b.length.total_cmp(&a.length)).then(a.label.cmp(&b.label)));
    lanes
}

fn f3(x: f64) -> String {
    format!("{x:.3}")
}

fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

fn opt(x: Option<f64>, f: fn(f64) -> String) -> String {
    x.map_or_else(|| "–".to_owned(), f)
}

fn ci_text(ci: Option<[f64; 2]>, f: fn(f64) -> String) -> String {
    ci.map_or_else(|| "–".to_owned(), |[a, b]| format!("{} to {}", f(a), f(b)))
}

fn pval(p: Option<f64>) -> String {
    match p {
        None => "–".into(),
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

fn days_months(d: Option<f64>) -> String {
    d.map_or_else(|| "not reached".to_owned(), |d| format!("{} d ({:.1} mo)", d, d / (365.25 / 12.0)))
}

/// The dose–response picture: each lesion's outcome (jittered deterministically by index) against
/// D90 with the fitted logistic curve.
fn dose_svg(points: &[(f64, f64)], coefficients: &[(String, f64, [f64; 2], f64)]) -> Figure {
    let (w, h, left, top, pw, ph) = (560.0, 320.0, 60.0, 30.0, 460.0, 230.0);
    let mut svg = Svg::new(w, h);
    let lo = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (0.0, 200.0) };
    let pad = (hi - lo) * 0.05;
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| left + pw * (v - lo) / (hi - lo);
    let y = |v: f64| top + ph * (1.0 - v);
    svg.rect(left, top, pw, ph, "none", Some("#888"));
    for t in ticks(lo, hi, 6) {
        svg.line(x(t), top + ph, x(t), top + ph + 4.0, "#000", 1.0, None);
        svg.text(x(t), top + ph + 16.0, &svg_num(t), 10.0, "middle", "#000");
    }
    for t in [0.0, 0.25, 0.5, 0.75, 1.0] {
        svg.line(left - 4.0, y(t), left, y(t), "#000", 1.0, None);
        svg.text(left - 6.0, y(t) + 3.0, &format!("{t:.2}"), 10.0, "end", "#000");
    }
    svg.text(left + pw / 2.0, h - 8.0, "post-implant D90 (Gy)", 12.0, "middle", "#000");
    svg.vertical_text(14.0, top + ph / 2.0, "local control at 6 months", 12.0);
    for (i, (d, o)) in points.iter().enumerate() {
        let jitter = ((i * 7919) % 11) as f64 / 11.0 * 0.06 - 0.03;
        svg.circle(x(*d), y(*o + (if *o > 0.5 { -0.03 } else { 0.03 }) + jitter), 3.0, "#1f77b4", "#1f77b4");
    }
    let b0 = coefficients.iter().find(|c| c.0 != "d90_gy").map(|c| c.1);
    let b1 = coefficients.iter().find(|c| c.0 == "d90_gy").map(|c| c.1);
    if let (Some(b0), Some(b1)) = (b0, b1)
        && b0.is_finite()
        && b1.is_finite()
    {
        let curve: Vec<(f64, f64)> = (0..=60)
            .map(|k| {
                let v = lo + (hi - lo) * f64::from(k) / 60.0;
                (x(v), y(1.0 / (1.0 + (-(b0 + b1 * v)).exp())))
            })
            .collect();
        svg.polyline(&curve, "#d62728", 2.0, None);
    }
    svg.finish("Local control at 6 months against seed D90 (logistic fit)")
}

fn consort(input: &TrialInput<'_>) -> Consort {
    let doc = input.doc;
    let mut excluded: BTreeMap<String, usize> = BTreeMap::new();
    let mut screened = std::collections::BTreeSet::new();
    for s in &doc.screenings {
        screened.insert(s.patient_id.clone());
    }
    for id in &screened {
        if input.allocation(id).is_some() {
            continue;
        }
        let s = doc.screenings.iter().rev().find(|s| &s.patient_id == id).expect("screened");
        let reason = match s.status.as_str() {
            "ineligible" => {
                let failed: Vec<String> = s
                    .criteria
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| c.get("verdict").and_then(|v| v.as_str()) == Some("not_met"))
                    .filter_map(|c| c.get("id").and_then(|v| v.as_str()).map(str::to_owned))
                    .collect();
                format!("not eligible: {}", failed.first().cloned().unwrap_or_else(|| "criteria".into()))
            }
            "pending" => "eligibility pending".into(),
            _ => "eligible, not randomized".into(),
        };
        *excluded.entry(reason).or_default() += 1;
    }
    let arms = [Arm::Experimental, Arm::Control]
        .into_iter()
        .map(|arm| {
            let pts: Vec<_> = input.datasets.patients.iter().filter(|r| r.arm == arm).collect();
            let analysed = input
                .datasets
                .lesions
                .iter()
                .filter(|l| l.arm == arm && l.primary != LcrOutcome::NotEvaluable)
                .map(|l| l.patient_id.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            ConsortArm {
                label: crate::cdisc::arm_code(arm).1.into(),
                allocated: pts.len(),
                treated: pts.iter().filter(|r| r.treated_lesions > 0).count(),
                lost: pts.iter().filter(|r| r.withdrawn_on.is_some() && r.death_on.is_none()).count(),
                discontinued: pts.iter().filter(|r| r.death_on.is_some()).count(),
                analysed,
            }
        })
        .collect();
    Consort {
        screened: screened.len(),
        excluded: excluded.into_iter().collect(),
        randomized: input.datasets.patients.len(),
        arms,
    }
}

fn safety_sections(input: &TrialInput<'_>) -> Vec<Block> {
    let doc = input.doc;
    // Safety population: randomized patients who received any protocol therapy, by arm; the
    // denominators of every percentage below. Events of untreated patients are not counted.
    let safety: BTreeMap<&str, Arm> = input
        .datasets
        .patients
        .iter()
        .filter(|r| input.first_treatment(r.patient_id.as_str()).is_some())
        .map(|r| (r.patient_id.as_str(), r.arm))
        .collect();
    let arm_of = |id: &str| safety.get(id).copied();
    let n_arm = |arm: Arm| safety.values().filter(|a| **a == arm).count();
    let randomized = |arm: Arm| input.datasets.patients.iter().filter(|r| r.arm == arm).count();
    let share =
        |k: usize, n: usize| if n == 0 { "–".to_owned() } else { format!("{k} ({})", pct(k as f64 / n as f64)) };
    // Worst grade per patient per term.
    let mut worst: BTreeMap<(String, String, String), u8> = BTreeMap::new();
    for a in &doc.adverse_events {
        let Some(arm) = arm_of(&a.form.patient_id) else { continue };
        let key = (a.soc.clone(), a.form.term.clone(), format!("{}|{}", label(arm), a.form.patient_id));
        let g = worst.entry(key).or_default();
        *g = (*g).max(a.form.grade);
    }
    let mut table: BTreeMap<(String, String), [[usize; 5]; 2]> = BTreeMap::new();
    for ((soc, term, who), g) in &worst {
        let arm = usize::from(who.starts_with("experimental"));
        table.entry((soc.clone(), term.clone())).or_default()[arm][usize::from(*g) - 1] += 1;
    }
    // Columns per arm: any grade n (%), G1…G5 counts, G≥3 n (%). `table` is indexed
    // [control, experimental]; ARMS gives the printed order.
    let index = |arm: Arm| usize::from(arm == Arm::Experimental);
    let headers: Vec<String> = ["system organ class", "CTCAE term"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(ARMS.iter().flat_map(|a| {
            let n = n_arm(*a);
            std::iter::once(format!("{} any grade, n (%) of {n}", label(*a)))
                .chain((1..=5).map(move |g| format!("{} G{g}", label(*a))))
                .chain(std::iter::once(format!("{} G≥3, n (%) of {n}", label(*a))))
        }))
        .collect();
    let rows: Vec<(Vec<String>, Mark)> = table
        .iter()
        .map(|((soc, term), counts)| {
            let mut cells = vec![soc.clone(), term.clone()];
            for arm in ARMS {
                let c = &counts[index(arm)];
                let n = n_arm(arm);
                cells.push(share(c.iter().sum(), n));
                cells.extend(c.iter().map(ToString::to_string));
                cells.push(share(c[2..].iter().sum(), n));
            }
            let mark = if counts.iter().any(|c| c[2..].iter().sum::<usize>() > 0) { Mark::Warn } else { Mark::Plain };
            (cells, mark)
        })
        .collect();
    let mut blocks = vec![
        Block::Paragraph(format!(
            "Safety population: randomized patients who received any protocol therapy, analysed by arm \
             (experimental {} of {} randomized, control {} of {}); percentages are of these denominators. \
             Each CTCAE v5.0 term counts a patient once, at the worst grade.",
            n_arm(Arm::Experimental),
            randomized(Arm::Experimental),
            n_arm(Arm::Control),
            randomized(Arm::Control)
        )),
        Block::Table { caption: Some("Adverse events by term, grade and arm".into()), headers, rows },
    ];
    // Patients with any grade ≥ 3 and any serious event per arm.
    let summary_rows = ARMS
        .iter()
        .map(|&arm| {
            let pts = |f: &dyn Fn(&cryoseed_store::model::AdverseEventRecord) -> bool| {
                doc.adverse_events
                    .iter()
                    .filter(|a| arm_of(&a.form.patient_id) == Some(arm) && f(a))
                    .map(|a| a.form.patient_id.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
            };
            let n = n_arm(arm);
            let frac = |k: usize| share(k, n);
            (
                vec![
                    label(arm),
                    n.to_string(),
                    frac(pts(&|_| true)),
                    frac(pts(&|a| a.form.grade >= 3)),
                    frac(pts(&|a| !a.form.serious.is_empty())),
                    frac(pts(&|a| a.form.grade == 5)),
                ],
                Mark::Plain,
            )
        })
        .collect();
    blocks.push(Block::Table {
        caption: Some("Patients with at least one event".into()),
        headers: ["arm", "safety population", "any AE", "grade ≥ 3", "serious", "grade 5"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        rows: summary_rows,
    });
    let mut serious: Vec<(Vec<String>, Mark)> = doc
        .adverse_events
        .iter()
        .filter(|a| !a.form.serious.is_empty() || a.form.grade >= 3)
        .filter_map(|a| {
            let arm = arm_of(&a.form.patient_id)?;
            let criteria: Vec<String> =
                a.form.serious.iter().map(|s| crate::analysis::serious_name(*s).to_owned()).collect();
            Some((
                vec![
                    label(arm),
                    input.usubjid(&a.form.patient_id),
                    a.form.term.clone(),
                    a.form.grade.to_string(),
                    if criteria.is_empty() { "no".into() } else { criteria.join(", ") },
                    input.study_day(&a.form.patient_id, &a.form.onset).map_or_else(String::new, |d| d.to_string()),
                ],
                if a.form.serious.is_empty() { Mark::Plain } else { Mark::Fail },
            ))
        })
        .collect();
    serious.sort_by(|a, b| a.0.cmp(&b.0));
    blocks.push(Block::Table {
        caption: Some("Grade ≥ 3 and serious events".into()),
        headers: ["arm", "USUBJID", "term", "grade", "serious (criteria)", "study day of onset"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        rows: serious,
    });
    blocks
}

pub(crate) fn serious_name(s: cryoseed_trial::ctcae::SeriousCriterion) -> &'static str {
    use cryoseed_trial::ctcae::SeriousCriterion as S;
    match s {
        S::Death => "death",
        S::LifeThreatening => "life-threatening",
        S::Hospitalization => "hospitalization",
        S::Disability => "disability",
        S::CongenitalAnomaly => "congenital anomaly",
        S::ImportantMedicalEvent => "important medical event",
    }
}

fn zonal_and_failures(input: &TrialInput<'_>) -> Vec<Block> {
    let mut rows = Vec::new();
    let mut failure_counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for pa in input.assessments {
        let Some(arm) = input.allocation(pa.patient_id.as_str()).map(|a| a.arm) else { continue };
        let Some(r) = pa.accepted() else { continue };
        if let Some(last) =
            r.burden.series.iter().rev().find(|b| b.core_volume_change.is_some() || b.margin_volume_change.is_some())
        {
            let p = |x: Option<cryoseed_core::Percent>| {
                x.map_or_else(|| "–".to_owned(), |v| format!("{:+.1} %", v.value()))
            };
            rows.push((
                vec![
                    label(arm),
                    input.usubjid(pa.patient_id.as_str()),
                    last.label.clone(),
                    p(last.bulky_volume_change),
                    p(last.core_volume_change),
                    p(last.margin_volume_change),
                    last.non_enhancing.map_or_else(|| "–".to_owned(), |v| format!("{:.0} %", v.value())),
                ],
                Mark::Plain,
            ));
        }
        // First failure of each kind per patient (local: by zone for the bulky lesion).
        let mut kinds = std::collections::BTreeSet::new();
        for e in &r.failures.events {
            let kind = match &e.site {
                FailureSite::TreatedLesion { is_bulky_index: true, zone, .. } => {
                    format!(
                        "local, bulky lesion ({})",
                        zone.map_or_else(|| "zone unknown".to_owned(), |z| z.to_string())
                    )
                }
                FailureSite::TreatedLesion { .. } => "local, other treated lesion".to_owned(),
                other => other.kind().to_owned(),
            };
            kinds.insert(kind);
        }
        for k in kinds {
            *failure_counts.entry((k, label(arm))).or_default() += 1;
        }
    }
    let mut kinds: Vec<String> = failure_counts.keys().map(|(k, _)| k.clone()).collect();
    kinds.dedup();
    let failure_rows = kinds
        .iter()
        .map(|k| {
            let mut cells = vec![k.clone()];
            for arm in ARMS {
                cells.push(failure_counts.get(&(k.clone(), label(arm))).copied().unwrap_or(0).to_string());
            }
            (cells, Mark::Plain)
        })
        .collect();
    vec![
        Block::Paragraph("Zonal response of each bulky index lesion at its last assessment with zonal volumes (accepted reader): % change from baseline of the whole lesion, the cryoablated core and the seed-treated margin, and the non-enhancing share.".into()),
        Block::Table {
            caption: Some("Zonal response of bulky lesions".into()),
            headers: ["arm", "USUBJID", "time point", "bulky volume", "core volume", "margin volume", "non-enhancing"].iter().map(|s| (*s).to_owned()).collect(),
            rows,
        },
        Block::Table {
            caption: Some("Patterns of failure: patients with each kind of failure (accepted reader)".into()),
            headers: std::iter::once("failure".to_owned()).chain(ARMS.iter().map(|a| label(*a))).collect(),
            rows: failure_rows,
        },
    ]
}

/// The report as a document (rendered as HTML and as PDF) and its numbers. `software_version`
/// is printed on every section.
fn analysis_document(input: &TrialInput<'_>, software_version: &str) -> (Document, AnalysisSummary) {
    let (s, figs) = analysis_parts(input, software_version);
    let p = input.protocol;
    let level_pct = format!("{:.0} %", 100.0 * s.ci_level);
    let provenance = vec![
        ("protocol".to_owned(), s.protocol.clone()),
        ("protocol SHA-256".to_owned(), s.protocol_sha256.clone()),
        ("software".to_owned(), format!("cryoseed {}", s.software_version)),
        ("data snapshot SHA-256".to_owned(), s.snapshot_sha256.clone()),
        ("data cut".to_owned(), s.data_cut.clone().unwrap_or_else(|| "no data".into())),
    ];
    let mut sections = Vec::new();

    // CONSORT.
    sections.push(Section {
        heading: "Participant flow (CONSORT)".into(),
        blocks: vec![
            Block::Figures(vec![consort_svg(&consort(input))]),
            Block::Definitions(
                std::iter::once(("screened".to_owned(), s.screened.to_string()))
                    .chain(s.randomized.iter().map(|(a, n)| (format!("randomized, {a}"), n.to_string())))
                    .collect(),
            ),
        ],
    });

    // LCR.
    let mut lcr_rows = Vec::new();
    for l in &s.lcr {
        for (arm, x, n, pts, ci) in &l.arms {
            lcr_rows.push((
                vec![
                    l.coding.clone(),
                    arm.clone(),
                    format!("{x}/{n} lesions ({pts} patients)"),
                    if *n > 0 { pct(*x as f64 / *n as f64) } else { "–".into() },
                    ci_text(*ci, pct),
                    String::new(),
                ],
                Mark::Plain,
            ));
        }
        lcr_rows.push((
            vec![
                l.coding.clone(),
                "difference (experimental − control)".into(),
                format!(
                    "GEE, identity link, {:?} working correlation{}",
                    p.analysis.gee_working_correlation,
                    l.gee_working_correlation.map_or_else(String::new, |r| format!(" (ρ = {r:.3})"))
                ),
                opt(l.gee_difference, pct),
                ci_text(l.gee_ci, pct),
                format!(
                    "Wald p = {}{}",
                    pval(l.gee_p),
                    if l.notes.is_empty() { String::new() } else { format!("; {}", l.notes.join("; ")) }
                ),
            ],
            Mark::Pass,
        ));
    }
    let (cif_arms, gray_p) = &s.ltp_cif_6m;
    for (arm, c, ci) in cif_arms {
        lcr_rows.push((
            vec![
                "sensitivity: cumulative incidence of LTP at 6 months, death competing".into(),
                arm.clone(),
                "Aalen–Johansen".into(),
                opt(*c, pct),
                match ci {
                    [Some(a), Some(b)] => format!("{} to {}", pct(*a), pct(*b)),
                    _ => "–".into(),
                },
                format!("Gray's test p = {}", pval(*gray_p)),
            ],
            Mark::Plain,
        ));
    }
    let cif_groups: Vec<(String, &st::CumulativeIncidence)> = figs.cif.iter().map(|(a, c)| (a.clone(), c)).collect();
    sections.push(Section {
        heading: "Primary endpoint: local control rate at 6 months (per lesion)".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "Treated target lesions free of local tumour progression at the {}-month assessment (window ±{} days after completion of protocol therapy); lesions clustered within patients. Proportions per arm with {level_pct} Clopper–Pearson intervals (ignoring clustering); the difference between arms by GEE with robust (sandwich) {level_pct} CI and Wald test.",
                p.response.lcr_assessment_months.value(),
                p.response.lcr_window_days.value()
            )),
            Block::Table {
                caption: Some("Local control at 6 months".into()),
                headers: ["coding", "arm / contrast", "n / method", "estimate", format!("{level_pct} CI").as_str(), "test"].iter().map(|s| (*s).to_owned()).collect(),
                rows: lcr_rows,
            },
            Block::Figures(if cif_groups.is_empty() { vec![] } else { vec![cif_svg(&cif_groups, "days from completion of therapy", "Cumulative incidence of local tumour progression (death competing)")] }),
        ],
    });

    // Time to event.
    for (t, (_, fits)) in s.time_to_event.iter().zip(&figs.km) {
        let name = match t.endpoint.as_str() {
            "LPFS" => "Primary endpoint: local progression-free survival of the bulky index lesion (LPFS)",
            "PFS" => "Progression-free survival (RECIST PD or death)",
            "TTSP" => "Time to systemic progression (death censored)",
            _ => "Overall survival",
        };
        let mut rows: Vec<(Vec<String>, Mark)> = t
            .arms
            .iter()
            .map(|a| {
                let lm: Vec<String> = a
                    .landmarks
                    .iter()
                    .map(|(m, _, sv, ci)| match ci {
                        [Some(l), Some(u)] => format!("{m} mo: {} ({} to {})", pct(*sv), pct(*l), pct(*u)),
                        _ => format!("{m} mo: {}", pct(*sv)),
                    })
                    .collect();
                (
                    vec![
                        a.arm.clone(),
                        a.n.to_string(),
                        a.events.to_string(),
                        days_months(a.median),
                        format!(
                            "{} to {}",
                            a.median_ci[0].map_or("–".into(), |v| v.to_string()),
                            a.median_ci[1].map_or("NR".into(), |v| v.to_string())
                        ),
                        lm.join("; "),
                    ],
                    Mark::Plain,
                )
            })
            .collect();
        rows.push((
            vec![
                "experimental vs control".into(),
                String::new(),
                String::new(),
                format!(
                    "Cox HR {} ({level_pct} CI {}), Wald p = {}",
                    opt(t.cox_hr, f3),
                    ci_text(t.cox_hr_ci, f3),
                    pval(t.cox_p)
                ),
                String::new(),
                format!("stratified log-rank χ² = {}, p = {}", opt(t.logrank_chi2, f3), pval(t.logrank_p)),
            ],
            Mark::Pass,
        ));
        let groups: Vec<KmGroup<'_>> = fits.iter().map(|(a, km)| KmGroup { label: a.clone(), km }).collect();
        let mut blocks = vec![
            Block::Paragraph(format!(
                "Kaplan–Meier with Greenwood variance and {:?} {level_pct} CI; median with Brookmeyer–Crowley CI; landmark rates at {} months; log-rank stratified by the randomization strata; Cox proportional hazards ({:?} ties, unstratified). Times in days from randomization.",
                p.analysis.km_ci_transform,
                p.analysis.landmark_months.iter().map(|m| m.value().to_string()).collect::<Vec<_>>().join(" and "),
                p.analysis.cox_ties
            )),
            Block::Table {
                caption: Some(t.endpoint.clone()),
                headers: [
                    "arm",
                    "n",
                    "events",
                    "median",
                    format!("{level_pct} CI of median (days)").as_str(),
                    "landmarks",
                ]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
                rows,
            },
        ];
        if !groups.is_empty() {
            blocks.push(Block::Figures(vec![km_svg(&groups, "days from randomization", "probability", &t.endpoint)]));
        }
        let forest: Vec<ForestRow> = t
            .subgroups
            .iter()
            .filter_map(|g| {
                let (hr, [lo, hi]) = (g.hr?, g.hr_ci?);
                Some(ForestRow {
                    label: format!("{} ({} pts, {} ev)", g.subgroup, g.patients, g.events),
                    estimate: hr,
                    lower: lo,
                    upper: hi,
                    text: Some(format!("{} ({} to {})", f3(hr), f3(lo), f3(hi))),
                })
            })
            .collect();
        if !forest.is_empty() {
            blocks.push(Block::Paragraph(format!(
                "Subgroups (exploratory): Cox hazard ratio experimental vs control within all patients, each centre and each ECOG score, unstratified, {level_pct} CI; below 1 favours the experimental arm.{}",
                {
                    let missing: Vec<String> = t
                        .subgroups
                        .iter()
                        .filter_map(|g| g.note.as_ref().map(|n| format!("{} ({} pts, {} ev): {n}", g.subgroup, g.patients, g.events)))
                        .collect();
                    if missing.is_empty() { String::new() } else { format!(" Not estimable: {}.", missing.join("; ")) }
                }
            )));
            blocks.push(Block::Figures(vec![forest_svg(
                &forest,
                1.0,
                true,
                "hazard ratio (log scale)",
                &format!("{}: hazard ratio by subgroup", t.endpoint),
            )]));
        }
        if !t.notes.is_empty() {
            blocks.push(Block::Paragraph(format!("Notes: {}", t.notes.join("; "))));
        }
        sections.push(Section { heading: name.into(), blocks });
    }

    // Binary endpoints.
    let mut rows = Vec::new();
    for b in &s.binary {
        for (arm, x, n, ci) in &b.arms {
            rows.push((
                vec![
                    b.endpoint.clone(),
                    arm.clone(),
                    format!("{x}/{n}"),
                    if *n > 0 { pct(*x as f64 / *n as f64) } else { "–".into() },
                    ci_text(*ci, pct),
                    String::new(),
                ],
                Mark::Plain,
            ));
        }
        rows.push((
            vec![
                b.endpoint.clone(),
                "control − experimental".into(),
                "Newcombe".into(),
                String::new(),
                ci_text(b.newcombe_ci, pct),
                format!("Fisher's exact p = {}", pval(b.fisher_p)),
            ],
            Mark::Pass,
        ));
    }
    sections.push(Section {
        heading: "Objective response, technical success, re-intervention".into(),
        blocks: vec![
            Block::Paragraph(format!(
                "ORR: CR or PR (RECIST 1.1, accepted reader) within {} months of randomization, before progression. Technical success: post-implant D90 ≥ prescription (seeds) and lethal isotherm covering the planned zone (cryo) within {} days, per lesion with QA. Re-intervention within {} months. Clopper–Pearson {level_pct} CI per arm, Newcombe CI of the difference, Fisher's exact test.",
                p.endpoints.orr_window_months.value(),
                p.endpoints.technical_success_window_days.value(),
                p.endpoints.reintervention_window_months.value()
            )),
            Block::Table {
                caption: Some("Binary endpoints".into()),
                headers: ["endpoint", "arm / contrast", "x/n", "estimate", format!("{level_pct} CI").as_str(), "test"].iter().map(|s| (*s).to_owned()).collect(),
                rows,
            },
        ],
    });

    // Tumour burden.
    let mut burden_rows = Vec::new();
    for months in &p.endpoints.tumour_burden_months {
        for arm in ARMS {
            let v: Vec<f64> = input
                .datasets
                .burden
                .iter()
                .filter(|b| b.arm == arm && (b.months.value() - months.value()).abs() < 1e-9)
                .filter_map(|b| b.sum_change.map(|p| p.value()))
                .collect();
            let vol: Vec<f64> = input
                .datasets
                .burden
                .iter()
                .filter(|b| b.arm == arm && (b.months.value() - months.value()).abs() < 1e-9)
                .filter_map(|b| b.bulky_volume_change.map(|p| p.value()))
                .collect();
            burden_rows.push((
                vec![
                    format!("{} months", months.value()),
                    label(arm),
                    v.len().to_string(),
                    opt(median(&v), |x| format!("{x:+.1} %")),
                    vol.len().to_string(),
                    opt(median(&vol), |x| format!("{x:+.1} %")),
                ],
                Mark::Plain,
            ));
        }
    }
    let bars: Vec<WaterfallBar> = input
        .datasets
        .patients
        .iter()
        .filter_map(|r| {
            let best = input
                .datasets
                .burden
                .iter()
                .filter(|b| b.patient_id == r.patient_id)
                .filter_map(|b| b.sum_change.map(|p| p.value()))
                .min_by(f64::total_cmp)?;
            Some(WaterfallBar {
                label: r.patient_id.to_string(),
                percent_change: best,
                group: usize::from(r.arm == Arm::Experimental),
            })
        })
        .collect();
    let mut burden_blocks = vec![Block::Table {
        caption: Some("Median % change from baseline".into()),
        headers: ["time point", "arm", "n (SLD)", "sum of diameters", "n (volume)", "bulky-lesion volume"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        rows: burden_rows,
    }];
    if !bars.is_empty() {
        burden_blocks.push(Block::Figures(vec![waterfall_svg(
            &bars,
            &ARMS.map(label),
            "Best % change in the sum of target diameters",
        )]));
    }
    let spider = spider_lines(input);
    if !spider.is_empty() {
        burden_blocks.push(Block::Figures(vec![spider_svg(
            &spider,
            &ARMS.map(label),
            "days from randomization",
            "Change in the sum of target diameters over time (accepted reader)",
        )]));
    }
    sections.push(Section { heading: "Tumour burden".into(), blocks: burden_blocks });
    let lanes = swimmer_lanes(input);
    if !lanes.is_empty() {
        sections.push(Section {
            heading: "Patient courses".into(),
            blocks: vec![
                Block::Paragraph(format!(
                    "One lane per randomized patient ({} control, then {} experimental, longest follow-up first), from randomization to death or last contact; an arrow marks a patient still followed. Markers: completion of protocol therapy, first objective response (CR/PR, accepted reader), local progression of a treated lesion (LPFS event), systemic progression, death.",
                    lanes.iter().filter(|l| l.group == 0).count(),
                    lanes.iter().filter(|l| l.group == 1).count()
                )),
                Block::Figures(vec![swimmer_svg(&lanes, "days from randomization", "Swimmer plot of each patient's course")]),
            ],
        });
    }

    // Zonal response and patterns of failure.
    sections.push(Section {
        heading: "Zonal response of bulky lesions and patterns of failure".into(),
        blocks: zonal_and_failures(input),
    });

    // Dose response.
    let dr = &s.dose_response;
    let mut dr_rows: Vec<(Vec<String>, Mark)> = dr
        .coefficients
        .iter()
        .map(|(n, b, ci, p)| (vec![n.clone(), f3(*b), ci_text(Some(*ci), f3), pval(Some(*p))], Mark::Plain))
        .collect();
    if let Some((or, ci)) = dr.odds_ratio_per_10gy {
        dr_rows.push((vec!["odds ratio per 10 Gy".into(), f3(or), ci_text(Some(ci), f3), String::new()], Mark::Pass));
    }
    let mut dr_blocks = vec![
        Block::Paragraph(format!(
            "Logistic regression of local control at 6 months (evaluable lesions) on the post-implant D90 of the seed-treated lesion; n = {} lesions. Wald {level_pct} CIs.{}",
            dr.n,
            if dr.notes.is_empty() { String::new() } else { format!(" Notes: {}.", dr.notes.join("; ")) }
        )),
        Block::Table {
            caption: Some("Dosimetry–outcome".into()),
            headers: ["term", "log-odds", format!("{level_pct} CI").as_str(), "p"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            rows: dr_rows,
        },
    ];
    if !figs.dose_points.is_empty() {
        dr_blocks.push(Block::Figures(vec![dose_svg(&figs.dose_points, &dr.coefficients)]));
    }
    sections.push(Section { heading: "Dosimetry and outcome".into(), blocks: dr_blocks });

    // Safety.
    sections.push(Section { heading: "Safety (CTCAE v5.0)".into(), blocks: safety_sections(input) });

    // Reader concordance.
    let c = &s.concordance;
    let k = |(n, v): (usize, Option<f64>)| format!("{} ({} pairs)", opt(v, f3), n);
    let pending =
        input.assessments.iter().filter(|a| matches!(a.review.acceptance, Acceptance::AdjudicationPending)).count();
    sections.push(Section {
        heading: "Reader concordance".into(),
        blocks: vec![
            Block::Paragraph("Two blinded readers per time point; Cohen's kappa between them before adjudication. Adjudication when they disagree on LTP, on the time-point response, or when their target sums differ by more than the protocol's threshold.".into()),
            Block::Definitions(vec![
                ("patients read twice".into(), c.patients.to_string()),
                ("time-point response κ".into(), k(c.time_point_kappa)),
                ("best overall response κ".into(), k(c.best_response_kappa)),
                ("local tumour progression κ".into(), k(c.ltp_kappa)),
                ("disagreement index".into(), opt(c.disagreement_index, pct)),
                ("adjudication rate".into(), opt(c.adjudication_rate, pct)),
                ("adjudication pending".into(), pending.to_string()),
            ]),
        ],
    });

    for section in &mut sections {
        section.blocks.push(Block::Definitions(provenance.clone()));
    }
    let doc = Document {
        title: format!("Analysis report — {} {}", p.protocol.name, p.protocol.version),
        provenance,
        sections,
    };
    (doc, s)
}

/// The report's HTML and its numbers. `software_version` is printed on every section.
pub fn analysis_html(input: &TrialInput<'_>, software_version: &str) -> (String, AnalysisSummary) {
    let (doc, s) = analysis_document(input, software_version);
    (doc.render(), s)
}

/// The analysis report in both of its forms, from one computation.
#[derive(Debug)]
pub struct AnalysisReport {
    /// `analysis.html`: self-contained HTML.
    pub html: String,
    /// `analysis.pdf`: the same content on A4 pages, with the protocol, the software version,
    /// the data snapshot hash and the page number on every page.
    pub pdf: Vec<u8>,
    /// `analysis.json`: the numbers.
    pub summary: AnalysisSummary,
}

/// The report as HTML and PDF, and its numbers; both byte-identical for the same snapshot.
pub fn analysis_report(input: &TrialInput<'_>, software_version: &str) -> AnalysisReport {
    let (doc, summary) = analysis_document(input, software_version);
    let head = RunningHead {
        left: format!("Analysis report — protocol {}", summary.protocol),
        right: format!("cryoseed {}", summary.software_version),
        footer: format!("data snapshot SHA-256 {}", summary.snapshot_sha256),
    };
    AnalysisReport { html: doc.render(), pdf: doc.to_pdf(&head), summary }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) })
}
