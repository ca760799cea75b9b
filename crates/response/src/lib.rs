//! Response assessment for the cryoseed trial: RECIST 1.1, local tumour progression, two blinded
//! readers with adjudication, tumour burden, zonal response and patterns of failure.
//!
//! The trial's primary endpoints are read from these verdicts, so each one carries the rule that
//! decided it and the numbers behind it, as text a reviewer can check.
//!
//! # Stages
//!
//! [`PatientAssessments`] (what the readers recorded; from JSON via [`format::parse_assessments`])
//! → checking (`clean`: every inconsistency becomes a [`Finding`] naming reader, time point and
//! lesion; the rest is still evaluated) → per reader: [`RecistSeries`] (time-point responses,
//! best overall response with and without confirmation, first progression), [`LtpAssessment`]s
//! (residual tumour, local progression with its date of first evidence), [`TumourBurden`] (sum of
//! diameters and bulky volume, zonal volumes) and [`PatternsOfFailure`] → [`Review`]
//! (discordance triggers, the accepted reader) → [`PatientAssessment`]. Across patients,
//! [`reader_agreement`] gives Cohen's kappa and the disagreement index.
//!
//! # Key design decisions
//!
//! - **Findings, not failures.** Bad input (a lesion never seen at baseline, a duplicated code, a
//!   negative diameter, dates out of order) is set aside with a finding; the assessment goes on.
//!   Only a structurally unreadable JSON document is an error ([`ResponseError`]).
//! - **Order independence.** Lesions are sorted by code and time points by date before anything
//!   is summed, so no verdict (and no floating-point sum) depends on input order.
//! - **Thresholds are data.** RECIST's published numbers live in the protocol's
//!   `[response.recist]` table next to the trial's own rules (`[response]`), so every reason can
//!   quote the numbers it applied and the protocol hash identifies them.
//!
//! # Example
//!
//! ```
//! use cryoseed_core::protocol::Protocol;
//! use cryoseed_response::{assess_patient, format::parse_assessments, OverallResponse};
//!
//! let json = r#"{
//!   "format": "cryoseed-assessments", "version": 1,
//!   "patients": [{
//!     "patient_id": "P001", "therapy_start": "2026-01-10", "readers": ["R1"],
//!     "lesions": [{"lesion_id": "T1", "role": "target", "organ": "liver"}],
//!     "time_points": [
//!       {"label": "baseline", "date": "2026-01-05",
//!        "reads": [{"reader": "R1", "lesions": [{"lesion_id": "T1", "diameter_mm": 50}]}]},
//!       {"label": "W8", "date": "2026-03-07",
//!        "reads": [{"reader": "R1", "lesions": [{"lesion_id": "T1", "diameter_mm": 30}]}]}
//!     ]
//!   }]
//! }"#;
//! let protocol = Protocol::shipped();
//! let (patients, findings) = parse_assessments(json).unwrap();
//! assert!(findings.iter().all(Vec::is_empty));
//! let assessment = assess_patient(&patients[0], &protocol);
//! let reader = assessment.accepted().unwrap();
//! assert_eq!(reader.recist.time_points[0].response, OverallResponse::Pr);
//! assert_eq!(reader.recist.best(&protocol.response).response, OverallResponse::Pr);
//! ```

mod burden;
mod clean;
pub mod date;
mod error;
mod findings;
pub mod format;
mod ltp;
mod model;
mod recist;
mod review;

pub use burden::{BurdenAtMonth, BurdenPoint, FailureEvent, FailureSite, PatternsOfFailure, TumourBurden};
pub use date::Date;
pub use error::ResponseError;
pub use findings::{Finding, Severity};
pub use ltp::{
    LocalControl, LocalControlVerdict, LocalProgression, LocalStatus, LocalTimePoint, LtpAssessment, ResidualTumour,
    local_control,
};
pub use model::{
    Adjudication, Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, PatientAssessments, Read,
    ReaderId, TimePoint, VolumeFindings,
};
pub use recist::{
    BestResponse, NewLesionAssessment, NewLesionStatus, NonTargetAssessment, NonTargetResponse, OverallResponse,
    Progression, RecistSeries, TargetAssessment, TargetLesionValue, TargetResponse, TimePointResponse,
    best_overall_response, overall_response, target_response,
};
pub use review::{
    Acceptance, Agreement, Discordance, Review, Trigger, binary_agreement, discordances, response_agreement,
    weighted_kappa,
};

use cryoseed_core::PatientId;
use cryoseed_core::protocol::Protocol;
use findings::Findings;

/// One reader's verdicts for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderAssessment {
    /// The reader.
    pub reader: ReaderId,
    /// Whether this is the accepted assessment of the patient.
    pub is_accepted: bool,
    /// RECIST 1.1.
    pub recist: RecistSeries,
    /// Local tumour progression of every treated lesion, in lesion order.
    pub local: Vec<LtpAssessment>,
    /// Local control of every treated lesion at the LCR time point (6 months after completion
    /// of protocol therapy, the last `treated_on` date), in lesion order.
    pub local_control: Vec<LocalControlVerdict>,
    /// Tumour burden and zonal volumes.
    pub burden: TumourBurden,
    /// Patterns of failure.
    pub failures: PatternsOfFailure,
}

/// Every verdict for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientAssessment {
    /// The patient.
    pub patient_id: PatientId,
    /// Each reader's verdicts, in reader order.
    pub readers: Vec<ReaderAssessment>,
    /// Discordance and the accepted assessment.
    pub review: Review,
    /// Problems in the recorded data.
    pub findings: Vec<Finding>,
}

impl PatientAssessment {
    /// The accepted reader's verdicts (none while adjudication is pending).
    pub fn accepted(&self) -> Option<&ReaderAssessment> {
        self.readers.iter().find(|r| r.is_accepted)
    }
}

/// Assesses one patient: checks the record, evaluates every reader, and decides the accepted
/// assessment. Never fails: problems come back as [`PatientAssessment::findings`].
pub fn assess_patient(input: &PatientAssessments, protocol: &Protocol) -> PatientAssessment {
    let mut findings = Findings::default();
    let record = clean::check(input, protocol, &mut findings);
    let rules = &protocol.response;
    let mut readers: Vec<ReaderAssessment> = (0..record.readers.len())
        .map(|r| {
            let recist = recist::evaluate_reader(&record, r, rules);
            let local = ltp::evaluate_reader(&record, r, rules);
            let completion = record.lesions.iter().filter_map(|l| l.treated_on).max();
            let local_control = completion.map_or_else(Vec::new, |c| local_control(&local, c, rules));
            let burden = burden::evaluate_reader(&record, r, &recist, protocol);
            let failures = burden::patterns_of_failure(&record, r, &recist, &local, protocol);
            ReaderAssessment {
                reader: record.readers[r].clone(),
                is_accepted: false,
                recist,
                local,
                local_control,
                burden,
                failures,
            }
        })
        .collect();
    let found = match readers.as_slice() {
        [a, b, ..] => discordances((&a.recist, &a.local), (&b.recist, &b.local), &rules.adjudication),
        _ => Vec::new(),
    };
    let (review, problem) = review::review(&record.readers, found, input.adjudication.as_ref());
    if let Some(problem) = problem {
        let severity = if review.accepted_reader.is_some() { Severity::Warning } else { Severity::Error };
        findings.push(severity, input.adjudication.as_ref().map(|a| &a.adjudicator), None, None, problem);
    }
    if matches!(review.acceptance, Acceptance::AdjudicationPending) && !review.discordances.is_empty() {
        findings.push(Severity::Warning, None, None, None, review.summary.clone());
    }
    if let Some(index) = review.accepted_reader {
        readers[index].is_accepted = true;
    }
    PatientAssessment { patient_id: input.patient_id.clone(), readers, review, findings: findings.0 }
}

/// Reader agreement across patients.
#[derive(Clone, Debug, PartialEq)]
pub struct ReaderAgreement {
    /// Patients read by two readers.
    pub patients: usize,
    /// Time-point responses of time points both readers read.
    pub time_point_response: Agreement,
    /// Best overall response (the protocol's choice of confirmation).
    pub best_response: Agreement,
    /// Local tumour progression (yes/no) of treated lesions, at the end of follow-up.
    pub local_progression: Agreement,
    /// Disagreement index: share of time points read by both readers at which a protocol
    /// discordance trigger fired.
    pub disagreement_index: Option<f64>,
    /// Share of two-reader patients that needed adjudication.
    pub adjudication_rate: Option<f64>,
}

/// Cohen's kappa and the disagreement index over every two-reader patient.
pub fn reader_agreement(assessments: &[PatientAssessment], protocol: &Protocol) -> ReaderAgreement {
    let mut time_points = Vec::new();
    let mut best = Vec::new();
    let mut local = Vec::new();
    let mut patients = 0;
    let mut adjudicated = 0;
    let mut both_read = 0;
    let mut discordant = 0;
    for assessment in assessments {
        let [a, b, ..] = assessment.readers.as_slice() else { continue };
        patients += 1;
        if !assessment.review.discordances.is_empty() {
            adjudicated += 1;
        }
        for ta in &a.recist.time_points {
            if let Some(tb) = b.recist.time_points.iter().find(|t| t.date == ta.date) {
                time_points.push((ta.response, tb.response));
                both_read += 1;
                if assessment.review.discordances.iter().any(|d| d.date == ta.date) {
                    discordant += 1;
                }
            }
        }
        best.push((a.recist.best(&protocol.response).response, b.recist.best(&protocol.response).response));
        for la in &a.local {
            if let Some(lb) = b.local.iter().find(|l| l.lesion_id == la.lesion_id) {
                local.push((la.progression.is_some(), lb.progression.is_some()));
            }
        }
    }
    ReaderAgreement {
        patients,
        time_point_response: response_agreement(&time_points),
        best_response: response_agreement(&best),
        local_progression: binary_agreement(&local),
        disagreement_index: (both_read > 0).then(|| discordant as f64 / both_read as f64),
        adjudication_rate: (patients > 0).then(|| adjudicated as f64 / patients as f64),
    }
}
