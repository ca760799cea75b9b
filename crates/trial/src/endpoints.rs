//! Endpoint derivation (PROTOCOL.md, "Response and endpoints"): from each patient's trial record
//! and the accepted (post-adjudication) `response` verdicts to analysis rows — one per patient,
//! one per patient per time-to-event endpoint, one per treated lesion for local control at
//! 6 months, one per patient per tumour-burden time point.
//!
//! Times are whole days from randomization ([`Days`]); local-control times count from completion
//! of protocol therapy, as the LCR window does. Every row carries the reason for its value, so a
//! statistician can see why a patient was censored or a lesion was not evaluable.
//!
//! Conventions decided here (each stated where it is applied):
//! - An *adequate assessment* is a follow-up time point with an evaluable verdict: for RECIST a
//!   time-point response other than NE, for a treated lesion a local status other than "not
//!   evaluated".
//! - Death counts as an event of LPFS and PFS whenever it is recorded inside the endpoint's
//!   follow-up, also after missed assessments (no "two missed visits" rule).
//! - Follow-up horizons (`endpoints.lpfs_follow_up_months`, `os_follow_up_months`) censor
//!   administratively at the horizon; PFS and time to systemic progression have none.

use crate::error::{Result, TrialError};
use crate::randomization::Stratum;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::protocol::ResponseRules;
use cryoseed_core::{Arm, Days, Ecog, Gy, LesionId, Modality, Months, PatientId, Percent, SiteId};
use cryoseed_response::{BurdenAtMonth, Date, LocalControl, LocalStatus, OverallResponse, ReaderAssessment};

/// Post-treatment quality data of one treated lesion, for technical success.
#[derive(Clone, Debug, PartialEq)]
pub struct TechnicalQa {
    /// Date of the post-procedure QA (post-implant CT, ablation-zone scan).
    pub assessed_on: Date,
    /// Post-implant D90 of the seed target (seeds only).
    pub seed_d90: Option<Gy>,
    /// The prescription dose of the seed target (seeds only).
    pub seed_prescription: Option<Gy>,
    /// Whether the lethal isotherm covered the planned cryo zone (cryo only).
    pub lethal_isotherm_covered: Option<bool>,
}

/// A target lesion that received protocol therapy.
#[derive(Clone, Debug, PartialEq)]
pub struct TreatedLesion {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
    /// The modalities given (both for a zoned bulky lesion).
    pub modalities: Vec<Modality>,
    /// Procedure date.
    pub treated_on: Date,
    /// Post-procedure QA, when recorded.
    pub qa: Option<TechnicalQa>,
}

/// One randomized patient's trial record (what the eCRF holds).
#[derive(Clone, Debug, PartialEq)]
pub struct PatientRecord {
    /// The patient.
    pub patient_id: PatientId,
    /// The enrolling centre.
    pub site_id: SiteId,
    /// The allocated arm.
    pub arm: Arm,
    /// The randomization stratum.
    pub stratum: Stratum,
    /// ECOG at randomization.
    pub ecog: Ecog,
    /// Date of randomization (time zero).
    pub randomized_on: Date,
    /// Completion of protocol therapy (last procedure); `None` if never completed.
    pub therapy_completed_on: Option<Date>,
    /// Date of death.
    pub death_on: Option<Date>,
    /// Last date the patient was known alive (or the death date).
    pub last_contact_on: Date,
    /// Withdrawal of consent or loss to follow-up.
    pub withdrawn_on: Option<Date>,
    /// Treated target lesions.
    pub treated_lesions: Vec<TreatedLesion>,
    /// Dates of re-interventions for progression of a treated lesion.
    pub reinterventions: Vec<Date>,
}

/// The accepted verdicts of one treated lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct LesionVerdict {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
    /// Date of first evidence of local tumour progression.
    pub ltp_on: Option<Date>,
    /// Dates of adequate local assessments (status other than "not evaluated"), ascending.
    pub assessed_on: Vec<Date>,
    /// Local control at the LCR time point, as `response::local_control` decided it.
    pub local_control: LocalControl,
}

/// The accepted response verdicts of one patient, reduced to what the endpoints need.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseVerdicts {
    /// RECIST time-point responses (date, final response), ascending.
    pub time_points: Vec<(Date, OverallResponse)>,
    /// Best confirmed response and its date (used when the protocol requires confirmation).
    pub best_confirmed: Option<(Date, OverallResponse)>,
    /// Date of RECIST progression.
    pub recist_progression_on: Option<Date>,
    /// Date of the first systemic failure (new lesion or progression of untreated disease).
    pub systemic_progression_on: Option<Date>,
    /// Each treated lesion.
    pub lesions: Vec<LesionVerdict>,
    /// Tumour burden at each protocol time point (`endpoints.tumour_burden_months`).
    pub burden: Vec<BurdenAtMonth>,
}

impl ResponseVerdicts {
    /// Takes the verdicts of the accepted reader (`PatientAssessment::accepted`).
    pub fn from_accepted(reader: &ReaderAssessment) -> ResponseVerdicts {
        let recist = &reader.recist;
        let lesions = reader
            .local
            .iter()
            .map(|l| {
                let local_control = reader
                    .local_control
                    .iter()
                    .find(|v| v.lesion_id == l.lesion_id)
                    .map_or(LocalControl::NotEvaluable, |v| v.status.clone());
                LesionVerdict {
                    lesion_id: l.lesion_id.clone(),
                    is_bulky_index: l.is_bulky_index,
                    ltp_on: l.progression.as_ref().map(|p| p.date),
                    assessed_on: l
                        .time_points
                        .iter()
                        .filter(|t| t.status != LocalStatus::NotEvaluated)
                        .map(|t| t.date)
                        .collect(),
                    local_control,
                }
            })
            .collect();
        ResponseVerdicts {
            time_points: recist.time_points.iter().map(|t| (t.date, t.response)).collect(),
            best_confirmed: recist
                .best_confirmed
                .time_point
                .as_ref()
                .map(|(_, d)| (*d, recist.best_confirmed.response)),
            recist_progression_on: recist.progression.as_ref().map(|p| p.date),
            systemic_progression_on: reader.failures.first_systemic().map(|e| e.date),
            lesions,
            burden: reader.burden.at_protocol_months.clone(),
        }
    }
}

/// Time-to-event endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    /// Local progression-free survival of the bulky index lesion (primary).
    Lpfs,
    /// Progression-free survival (RECIST PD or death).
    Pfs,
    /// Time to systemic progression (death censored).
    Ttsp,
    /// Time to systemic progression with death as a competing event (sensitivity).
    TtspCompeting,
    /// Overall survival.
    Os,
}

impl Endpoint {
    /// Short code used in datasets (`LPFS`, `PFS`, `TTSP`, `TTSP_CR`, `OS`).
    pub fn code(self) -> &'static str {
        match self {
            Endpoint::Lpfs => "LPFS",
            Endpoint::Pfs => "PFS",
            Endpoint::Ttsp => "TTSP",
            Endpoint::TtspCompeting => "TTSP_CR",
            Endpoint::Os => "OS",
        }
    }
}

/// Status of a time-to-event row (stats' coding: 0 censored, 1 event, 2 competing event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventStatus {
    /// Censored.
    Censored,
    /// The endpoint's event.
    Event,
    /// A competing event (death, in competing-risk codings).
    Competing,
}

impl EventStatus {
    /// 0 censored, 1 event, 2 competing.
    pub fn code(self) -> u8 {
        match self {
            EventStatus::Censored => 0,
            EventStatus::Event => 1,
            EventStatus::Competing => 2,
        }
    }
}

/// One patient × one time-to-event endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeToEventRow {
    /// The patient.
    pub patient_id: PatientId,
    /// The arm.
    pub arm: Arm,
    /// The randomization stratum.
    pub stratum: Stratum,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Days from randomization to the event or censoring.
    pub time: Days,
    /// Date of the event or censoring.
    pub date: Date,
    /// Event, censored or competing.
    pub status: EventStatus,
    /// Which event, or why censored.
    pub reason: String,
}

/// Local control at 6 months of one treated lesion under one coding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LcrOutcome {
    /// Free of LTP at the assessment.
    Controlled,
    /// LTP before or in the window.
    Failure,
    /// Excluded from the analysis (primary coding only).
    NotEvaluable,
}

/// One treated lesion for local control at 6 months (clustered within its patient).
#[derive(Clone, Debug, PartialEq)]
pub struct LesionRow {
    /// The patient (cluster).
    pub patient_id: PatientId,
    /// The arm.
    pub arm: Arm,
    /// The randomization stratum.
    pub stratum: Stratum,
    /// The lesion.
    pub lesion_id: LesionId,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
    /// The modalities given.
    pub modalities: Vec<Modality>,
    /// Nominal date of the 6-month assessment (completion + `lcr_assessment_months`).
    pub nominal_date: Date,
    /// Window of the assessment (± `lcr_window_days`).
    pub window: (Date, Date),
    /// Primary coding: evaluable lesions only.
    pub primary: LcrOutcome,
    /// Sensitivity coding 1: a not-evaluable lesion counts as a failure.
    pub non_evaluable_as_failure: LcrOutcome,
    /// Sensitivity coding 2: time from completion of therapy to LTP, death competing.
    pub competing_time: Days,
    /// Status of the competing-risk coding.
    pub competing_status: EventStatus,
    /// Technical success of the lesion's procedure.
    pub technical_success: TechnicalSuccess,
    /// Why the lesion has these outcomes.
    pub reason: String,
}

/// Technical success of one lesion's procedure (PROTOCOL.md: plan achieved within 7 days).
#[derive(Clone, Debug, PartialEq)]
pub enum TechnicalSuccess {
    /// Every applicable criterion met within the window.
    Achieved,
    /// A criterion failed (named).
    NotAchieved(String),
    /// Not assessable (named what is missing).
    NotAssessed(String),
}

/// One row per patient.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientRow {
    /// The patient.
    pub patient_id: PatientId,
    /// The centre.
    pub site_id: SiteId,
    /// The arm.
    pub arm: Arm,
    /// The stratum.
    pub stratum: Stratum,
    /// ECOG at randomization.
    pub ecog: Ecog,
    /// Randomization date.
    pub randomized_on: Date,
    /// Completion of protocol therapy.
    pub therapy_completed_on: Option<Date>,
    /// Death.
    pub death_on: Option<Date>,
    /// Last contact.
    pub last_contact_on: Date,
    /// Withdrawal or loss to follow-up.
    pub withdrawn_on: Option<Date>,
    /// Number of treated lesions.
    pub treated_lesions: usize,
    /// Objective response (CR or PR) within `endpoints.orr_window_months` of randomization,
    /// before any progression.
    pub objective_response: bool,
    /// The response that decided it (date, category), if any.
    pub best_response_in_window: Option<(Date, OverallResponse)>,
    /// Whether every treated lesion's procedure was a technical success.
    pub technical_success: bool,
    /// Re-intervention within `endpoints.reintervention_window_months` of randomization.
    pub reintervention: bool,
}

/// Tumour burden of one patient at one protocol time point (PROTOCOL.md: % change in SLD and
/// bulky-lesion volume at 3 and 6 months), as the accepted reader's `response` burden gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct BurdenRow {
    /// The patient.
    pub patient_id: PatientId,
    /// The arm.
    pub arm: Arm,
    /// Months after the start of therapy.
    pub months: Months,
    /// The assessment used (label, date), if one fell in the window.
    pub time_point: Option<(String, Date)>,
    /// % change in the sum of diameters from baseline.
    pub sum_change: Option<Percent>,
    /// % change in bulky-lesion volume from baseline.
    pub bulky_volume_change: Option<Percent>,
    /// Which assessment was used and why, or why none.
    pub reason: String,
}

/// The analysis datasets of a trial.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalysisDatasets {
    /// One row per patient.
    pub patients: Vec<PatientRow>,
    /// One row per patient per time-to-event endpoint.
    pub time_to_event: Vec<TimeToEventRow>,
    /// One row per treated lesion.
    pub lesions: Vec<LesionRow>,
    /// One row per patient per tumour-burden time point.
    pub burden: Vec<BurdenRow>,
}

fn months_days(m: Months) -> i32 {
    m.to_days().value().round() as i32
}

fn invalid(patient_id: &PatientId, field: impl Into<String>, reason: String) -> TrialError {
    TrialError::InvalidRecord { patient_id: patient_id.clone(), field: field.into(), reason }
}

/// Refuses impossible dates and verdicts that do not match the record.
fn check_record(p: &PatientRecord, v: &ResponseVerdicts) -> Result<()> {
    let id = &p.patient_id;
    let not_before_randomization = |field: &str, date: Option<Date>| match date {
        Some(d) if d < p.randomized_on => {
            Err(invalid(id, field, format!("{d} is before randomization on {}", p.randomized_on)))
        }
        _ => Ok(()),
    };
    not_before_randomization("therapy_completed_on", p.therapy_completed_on)?;
    not_before_randomization("death_on", p.death_on)?;
    not_before_randomization("last_contact_on", Some(p.last_contact_on))?;
    not_before_randomization("withdrawn_on", p.withdrawn_on)?;
    if let Some(death) = p.death_on {
        if p.last_contact_on > death {
            return Err(invalid(id, "last_contact_on", format!("{} is after death on {death}", p.last_contact_on)));
        }
        let late = v
            .time_points
            .iter()
            .map(|t| t.0)
            .chain(v.lesions.iter().flat_map(|l| l.assessed_on.iter().copied()))
            .find(|&d| d > death);
        if let Some(d) = late {
            return Err(invalid(id, "assessments", format!("an assessment on {d} is after death on {death}")));
        }
    }
    let verdict_dates = v
        .time_points
        .iter()
        .map(|t| ("time_points", t.0))
        .chain(v.lesions.iter().flat_map(|l| l.assessed_on.iter().map(|&d| ("lesions.assessed_on", d))))
        .chain(v.lesions.iter().filter_map(|l| l.ltp_on.map(|d| ("lesions.ltp_on", d))))
        .chain(v.recist_progression_on.map(|d| ("recist_progression_on", d)))
        .chain(v.systemic_progression_on.map(|d| ("systemic_progression_on", d)));
    for (field, date) in verdict_dates {
        not_before_randomization(field, Some(date))?;
        // Whoever was scanned was in contact; a later scan than the last contact is a data error.
        if date > p.last_contact_on && p.death_on.is_none() {
            return Err(invalid(
                id,
                "last_contact_on",
                format!("{} is before the assessment on {date} ({field})", p.last_contact_on),
            ));
        }
    }
    for (i, l) in p.treated_lesions.iter().enumerate() {
        not_before_randomization(&format!("treated_lesions[{i}].treated_on"), Some(l.treated_on))?;
    }
    for l in &v.lesions {
        if !p.treated_lesions.iter().any(|t| t.lesion_id == l.lesion_id) {
            return Err(invalid(
                id,
                "lesions",
                format!("a verdict for lesion {} which is not among the patient's treated lesions", l.lesion_id),
            ));
        }
    }
    if p.treated_lesions.iter().filter(|l| l.is_bulky_index).count() > 1 {
        return Err(invalid(id, "treated_lesions", "more than one bulky index lesion".into()));
    }
    Ok(())
}

struct Ctx<'a> {
    p: &'a PatientRecord,
}

impl Ctx<'_> {
    fn row(&self, endpoint: Endpoint, date: Date, status: EventStatus, reason: String) -> TimeToEventRow {
        TimeToEventRow {
            patient_id: self.p.patient_id.clone(),
            arm: self.p.arm,
            stratum: self.p.stratum.clone(),
            endpoint,
            time: date.days_since(self.p.randomized_on),
            date,
            status,
            reason,
        }
    }

    /// Why follow-up ended without the event, for censoring reasons.
    fn follow_up_note(&self) -> String {
        match (self.p.death_on, self.p.withdrawn_on) {
            (Some(d), _) => format!(" (died on {d})"),
            (None, Some(w)) => format!(" (withdrawn or lost to follow-up on {w})"),
            (None, None) => String::new(),
        }
    }

    /// A "first of (event, death) else censored at the last adequate assessment" endpoint, with an
    /// optional administrative horizon. `event` is (date, description).
    fn event_or_death(
        &self,
        endpoint: Endpoint,
        event: Option<(Date, String)>,
        last_adequate: Option<Date>,
        death_is_event: bool,
        horizon: Option<Date>,
    ) -> TimeToEventRow {
        let within = |d: Date| horizon.is_none_or(|h| d <= h);
        let death = self.p.death_on.filter(|&d| death_is_event && within(d));
        let event = event.filter(|(d, _)| within(*d));
        let first = match (event, death) {
            (Some((e, _)), Some(d)) if d < e => Some((d, format!("death on {d}"))),
            (Some(e), _) => Some(e),
            (None, Some(d)) => Some((d, format!("death on {d}"))),
            (None, None) => None,
        };
        if let Some((date, what)) = first {
            return self.row(endpoint, date, EventStatus::Event, what);
        }
        // Censoring: at the last adequate assessment, or at the horizon when follow-up ran past it.
        match (last_adequate, horizon) {
            (Some(last), Some(h)) if last >= h => {
                self.row(endpoint, h, EventStatus::Censored, format!("censored at the follow-up horizon {h}"))
            }
            (Some(last), _) => self.row(
                endpoint,
                last,
                EventStatus::Censored,
                format!("censored at the last adequate assessment on {last}{}", self.follow_up_note()),
            ),
            (None, _) => self.row(
                endpoint,
                self.p.randomized_on,
                EventStatus::Censored,
                format!("censored at randomization: no adequate assessment{}", self.follow_up_note()),
            ),
        }
    }
}

fn last(dates: impl Iterator<Item = Date>) -> Option<Date> {
    dates.max()
}

/// Derives the analysis datasets of one patient. Errors name the patient and the field.
pub fn derive_patient(p: &PatientRecord, v: &ResponseVerdicts, protocol: &Protocol) -> Result<AnalysisDatasets> {
    check_record(p, v)?;
    let windows = &protocol.endpoints;
    let rules: &ResponseRules = &protocol.response;
    let ctx = Ctx { p };
    let t0 = p.randomized_on;
    let mut out = AnalysisDatasets::default();

    // LPFS: randomization → LTP of the bulky lesion or death; censored at the bulky lesion's last
    // adequate assessment; follow-up `lpfs_follow_up_months` (PROTOCOL.md "LPFS").
    let bulky = v.lesions.iter().find(|l| l.is_bulky_index);
    let lpfs_horizon = t0.plus_days(months_days(windows.lpfs_follow_up_months));
    out.time_to_event.push(ctx.event_or_death(
        Endpoint::Lpfs,
        bulky.and_then(|b| b.ltp_on.map(|d| (d, format!("LTP of bulky lesion {} on {d}", b.lesion_id)))),
        bulky.and_then(|b| last(b.assessed_on.iter().copied())),
        true,
        Some(lpfs_horizon),
    ));

    // PFS: RECIST PD or death; censored at the last adequate RECIST assessment.
    let last_recist = last(v.time_points.iter().filter(|t| t.1 != OverallResponse::Ne).map(|t| t.0));
    out.time_to_event.push(ctx.event_or_death(
        Endpoint::Pfs,
        v.recist_progression_on.map(|d| (d, format!("RECIST progression on {d}"))),
        last_recist,
        true,
        None,
    ));

    // Time to systemic progression: death censored (at the last adequate assessment) …
    let systemic = v.systemic_progression_on.map(|d| (d, format!("systemic progression on {d}")));
    out.time_to_event.push(ctx.event_or_death(Endpoint::Ttsp, systemic.clone(), last_recist, false, None));
    // … and, as sensitivity, death without systemic progression as a competing event.
    let mut competing = ctx.event_or_death(Endpoint::TtspCompeting, systemic.clone(), last_recist, false, None);
    if let Some(death) = p.death_on
        && competing.status == EventStatus::Censored
        && systemic.is_none_or(|(d, _)| death < d)
    {
        competing = ctx.row(
            Endpoint::TtspCompeting,
            death,
            EventStatus::Competing,
            format!("death on {death} without systemic progression"),
        );
    }
    out.time_to_event.push(competing);

    // OS: death; censored at last contact; follow-up `os_follow_up_months`.
    let os_horizon = t0.plus_days(months_days(windows.os_follow_up_months));
    out.time_to_event.push(match p.death_on {
        Some(d) if d <= os_horizon => ctx.row(Endpoint::Os, d, EventStatus::Event, format!("death on {d}")),
        _ if p.last_contact_on >= os_horizon => ctx.row(
            Endpoint::Os,
            os_horizon,
            EventStatus::Censored,
            format!("censored at the follow-up horizon {os_horizon}"),
        ),
        _ => ctx.row(
            Endpoint::Os,
            p.last_contact_on,
            EventStatus::Censored,
            format!("censored at last contact on {}{}", p.last_contact_on, ctx.follow_up_note()),
        ),
    });

    // Lesions: LCR at 6 months in three codings, and technical success.
    let nominal_offset = months_days(rules.lcr_assessment_months);
    let half_window = rules.lcr_window_days.value().floor() as i32;
    for lesion in &p.treated_lesions {
        let verdict = v.lesions.iter().find(|l| l.lesion_id == lesion.lesion_id);
        let completion = p.therapy_completed_on.unwrap_or(lesion.treated_on);
        let nominal = completion.plus_days(nominal_offset);
        let window = (nominal.plus_days(-half_window), nominal.plus_days(half_window));
        let status = verdict.map_or(LocalControl::NotEvaluable, |l| l.local_control.clone());
        let (primary, reason) = match &status {
            LocalControl::Controlled { time_point } => {
                (LcrOutcome::Controlled, format!("free of LTP at {} on {}", time_point.0, time_point.1))
            }
            LocalControl::Failure { date } => (LcrOutcome::Failure, format!("LTP on {date}")),
            LocalControl::NotEvaluable => (LcrOutcome::NotEvaluable, not_evaluable_reason(p, verdict, window)),
        };
        let non_evaluable_as_failure = if primary == LcrOutcome::NotEvaluable { LcrOutcome::Failure } else { primary };
        // Competing-risk coding: time from completion to LTP (event), death before LTP
        // (competing), else censored at the lesion's last adequate assessment.
        let ltp = verdict.and_then(|l| l.ltp_on);
        let last_local = verdict.and_then(|l| last(l.assessed_on.iter().copied()));
        let (date, competing_status) = match (ltp, p.death_on) {
            (Some(l), Some(d)) if d < l => (d, EventStatus::Competing),
            (Some(l), _) => (l, EventStatus::Event),
            (None, Some(d)) => (d, EventStatus::Competing),
            (None, None) => (last_local.unwrap_or(completion).max(completion), EventStatus::Censored),
        };
        out.lesions.push(LesionRow {
            patient_id: p.patient_id.clone(),
            arm: p.arm,
            stratum: p.stratum.clone(),
            lesion_id: lesion.lesion_id.clone(),
            is_bulky_index: lesion.is_bulky_index,
            modalities: lesion.modalities.clone(),
            nominal_date: nominal,
            window,
            primary,
            non_evaluable_as_failure,
            competing_time: date.days_since(completion),
            competing_status,
            technical_success: technical_success(lesion, windows.technical_success_window_days),
            reason,
        });
    }

    out.burden = v
        .burden
        .iter()
        .map(|b| BurdenRow {
            patient_id: p.patient_id.clone(),
            arm: p.arm,
            months: b.months,
            time_point: b.time_point.clone(),
            sum_change: b.sum_change,
            bulky_volume_change: b.bulky_volume_change,
            reason: b.reason.clone(),
        })
        .collect();

    // ORR: CR or PR within the window from randomization, before any progression.
    let orr_end = t0.plus_days(months_days(windows.orr_window_months));
    let before_pd = |d: Date| v.recist_progression_on.is_none_or(|pd| d < pd);
    let responses: Vec<(Date, OverallResponse)> =
        if rules.require_confirmation { v.best_confirmed.into_iter().collect() } else { v.time_points.clone() };
    let best_response_in_window = responses
        .into_iter()
        .filter(|&(d, r)| d <= orr_end && before_pd(d) && matches!(r, OverallResponse::Cr | OverallResponse::Pr))
        .min_by_key(|&(d, r)| (r, d));
    let reintervention_end = t0.plus_days(months_days(windows.reintervention_window_months));
    out.patients.push(PatientRow {
        patient_id: p.patient_id.clone(),
        site_id: p.site_id.clone(),
        arm: p.arm,
        stratum: p.stratum.clone(),
        ecog: p.ecog,
        randomized_on: p.randomized_on,
        therapy_completed_on: p.therapy_completed_on,
        death_on: p.death_on,
        last_contact_on: p.last_contact_on,
        withdrawn_on: p.withdrawn_on,
        treated_lesions: p.treated_lesions.len(),
        objective_response: best_response_in_window.is_some(),
        best_response_in_window,
        technical_success: !out.lesions.is_empty()
            && out.lesions.iter().all(|l| l.technical_success == TechnicalSuccess::Achieved),
        reintervention: p.reinterventions.iter().any(|&d| d >= t0 && d <= reintervention_end),
    });
    Ok(out)
}

/// Why a lesion without LTP has no assessment in the window.
fn not_evaluable_reason(p: &PatientRecord, verdict: Option<&LesionVerdict>, window: (Date, Date)) -> String {
    let (start, end) = window;
    match (p.death_on, p.withdrawn_on) {
        (Some(d), _) if d < start => format!("not evaluable: died on {d}, before the window {start}..{end}"),
        (_, Some(w)) if w < start => {
            format!("not evaluable: withdrawn or lost to follow-up on {w}, before the window {start}..{end}")
        }
        _ if p.last_contact_on < start => {
            format!(
                "not evaluable: follow-up (last contact {}) has not reached the window {start}..{end}",
                p.last_contact_on
            )
        }
        _ => {
            let outside: Vec<String> = verdict
                .map(|l| l.assessed_on.iter().filter(|&&d| d < start || d > end).map(Date::to_string).collect())
                .unwrap_or_default();
            if outside.is_empty() {
                format!("not evaluable: no adequate assessment in the window {start}..{end}")
            } else {
                format!("not evaluable: assessments outside the window {start}..{end} only ({})", outside.join(", "))
            }
        }
    }
}

/// Technical success (PROTOCOL.md: plan achieved within 7 days: post-implant D90 ≥ prescription
/// for seeds, lethal isotherm covered the planned zone for cryo).
fn technical_success(lesion: &TreatedLesion, window: Days) -> TechnicalSuccess {
    let Some(qa) = &lesion.qa else { return TechnicalSuccess::NotAssessed("no post-procedure QA recorded".into()) };
    let delay = qa.assessed_on.days_since(lesion.treated_on).value();
    if delay < 0.0 {
        return TechnicalSuccess::NotAssessed(format!("QA on {} is before the procedure", qa.assessed_on));
    }
    if delay > window.value() {
        return TechnicalSuccess::NotAchieved(format!(
            "QA on {} is {delay} days after the procedure (window {} days)",
            qa.assessed_on,
            window.value()
        ));
    }
    if lesion.modalities.is_empty() {
        return TechnicalSuccess::NotAssessed("no modality recorded".into());
    }
    for modality in &lesion.modalities {
        match modality {
            Modality::Seeds => match (qa.seed_d90, qa.seed_prescription) {
                (Some(d90), Some(rx)) if d90.value() < rx.value() => {
                    return TechnicalSuccess::NotAchieved(format!(
                        "post-implant D90 {} Gy < prescription {} Gy",
                        d90.value(),
                        rx.value()
                    ));
                }
                (Some(_), Some(_)) => {}
                _ => return TechnicalSuccess::NotAssessed("post-implant D90 or prescription missing".into()),
            },
            Modality::Cryo => match qa.lethal_isotherm_covered {
                Some(true) => {}
                Some(false) => {
                    return TechnicalSuccess::NotAchieved("lethal isotherm did not cover the planned zone".into());
                }
                None => return TechnicalSuccess::NotAssessed("lethal isotherm coverage missing".into()),
            },
        }
    }
    TechnicalSuccess::Achieved
}

/// Derives the analysis datasets of a trial: patients in the given order; stops at the first
/// inconsistent record (the error names patient and field), so nothing half-derived is returned.
pub fn derive(records: &[(PatientRecord, ResponseVerdicts)], protocol: &Protocol) -> Result<AnalysisDatasets> {
    let mut out = AnalysisDatasets::default();
    let mut seen = std::collections::BTreeSet::new();
    for (p, v) in records {
        if !seen.insert(&p.patient_id) {
            return Err(invalid(&p.patient_id, "patient_id", "appears twice".into()));
        }
        let d = derive_patient(p, v, protocol)?;
        out.patients.extend(d.patients);
        out.time_to_event.extend(d.time_to_event);
        out.lesions.extend(d.lesions);
        out.burden.extend(d.burden);
    }
    Ok(out)
}
