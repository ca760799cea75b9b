//! The records the store keeps, as plain serde values (also the `cryoseed-trial` export format).
//!
//! Dates are `YYYY-MM-DD` text, checked by the store on write (the error names the field).

use cryoseed_core::{Arm, Modality, Organ};
use cryoseed_trial::ctcae::{Attribution, SeriousCriterion};
use serde::{Deserialize, Serialize};

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sets up sites and users; imports a trial.
    Admin,
    /// Enters screening, lesions, procedures, plans, follow-up, adverse events, deviations;
    /// randomizes; requests emergency unblinding; signs; answers queries.
    Investigator,
    /// Generates the concealed allocation list; exports.
    Statistician,
    /// Raises and closes queries, locks and unlocks, exports; corrects entered data.
    DataManager,
    /// Blinded imaging reader: records assessments.
    Reader,
    /// Adjudicates discordant reads.
    Adjudicator,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Investigator => "investigator",
            Role::Statistician => "statistician",
            Role::DataManager => "data_manager",
            Role::Reader => "reader",
            Role::Adjudicator => "adjudicator",
        }
    }

    /// Parses a stored name.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Investigator, Role::Statistician, Role::DataManager, Role::Reader, Role::Adjudicator]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// A centre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Site id (`SITE-01`).
    pub site_id: String,
    /// Name.
    pub name: String,
    /// The centre's declared control-arm local therapy; required before its first randomization.
    pub control_modality: Option<Modality>,
    /// The centre's country, ISO 3166-1 alpha-3 (`CHN`); SDTM DM.COUNTRY of its patients.
    /// Absent in trial documents exported before it was recorded.
    #[serde(default)]
    pub country: Option<String>,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login id.
    pub user_id: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The user's centre, if site-bound.
    pub site_id: Option<String>,
}

/// Follow-up status of a patient (what the time-to-event endpoints need).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// Completion of protocol therapy.
    pub therapy_completed_on: Option<String>,
    /// Death.
    pub death_on: Option<String>,
    /// Last date known alive.
    pub last_contact_on: Option<String>,
    /// Withdrawal of consent or loss to follow-up.
    pub withdrawn_on: Option<String>,
}

/// A patient (pseudonymous study id only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patient {
    /// Study id.
    pub patient_id: String,
    /// Enrolling centre.
    pub site_id: String,
    /// Date of the screening that registered the patient.
    pub enrolled_on: String,
    /// Follow-up.
    pub follow_up: FollowUp,
    /// Whether the data manager has locked the patient's data.
    pub locked: bool,
    /// Optimistic-concurrency version (pass it back to update).
    pub version: i64,
}

/// A stored screening and its eligibility result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    /// The patient.
    pub patient_id: String,
    /// Date of screening.
    pub screened_on: String,
    /// ECOG at screening (the stratification value).
    pub ecog: Option<u8>,
    /// `eligible`, `ineligible` or `pending`.
    pub status: String,
    /// Each criterion: `{id, kind, verdict, rule, evidence}`.
    pub criteria: serde_json::Value,
    /// SHA-256 of the protocol the criteria were evaluated with.
    pub protocol_sha256: String,
}

/// RECIST role of a lesion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LesionRole {
    /// Target lesion.
    Target,
    /// Non-target lesion.
    NonTarget,
}

/// A lesion of a patient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesion {
    /// The patient.
    pub patient_id: String,
    /// Lesion code (`T1`).
    pub lesion_id: String,
    /// RECIST role.
    pub role: LesionRole,
    /// Organ.
    pub organ: Organ,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
}

/// An allocation as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredAllocation {
    /// The patient.
    pub patient_id: String,
    /// The stratum, as text (`SITE-01/ECOG-group-1`).
    pub stratum: String,
    /// The stratum's centre (when stratified by centre).
    pub stratum_site_id: Option<String>,
    /// 0-based index of the protocol's ECOG group.
    pub ecog_group: u32,
    /// 1-based sequence number in the stratum.
    pub sequence_number: u32,
    /// The arm.
    pub arm: Arm,
    /// Date of randomization.
    pub randomized_on: String,
    /// Who randomized.
    pub randomized_by: String,
}

/// An emergency unblinding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unblinding {
    /// The patient.
    pub patient_id: String,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// Date.
    pub unblinded_on: String,
}

/// A treatment plan document (from the planner) with its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Store-assigned id (ignored on input).
    #[serde(default)]
    pub plan_id: i64,
    /// The patient.
    pub patient_id: String,
    /// The lesion planned.
    pub lesion_id: String,
    /// The plan as JSON text (stored byte for byte).
    pub document: String,
    /// SHA-256 of `document` (computed by the store).
    #[serde(default)]
    pub sha256: String,
}

/// The plan-review bundle of one uploaded plan (`review.json` of `cryoseed plan`: DVH curves and
/// slice vectors), kept beside the plan's lesion documents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanReview {
    /// Store-assigned id (ignored on input).
    #[serde(default)]
    pub review_id: i64,
    /// The patient.
    pub patient_id: String,
    /// SHA-256 of the plan.json the bundle belongs to (the lesion documents'
    /// `patient_plan_sha256`).
    pub plan_sha256: String,
    /// The bundle as JSON text (stored byte for byte).
    pub document: String,
    /// SHA-256 of `document` (computed by the store).
    #[serde(default)]
    pub sha256: String,
}

/// Post-procedure QA of one lesion's treatment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureQa {
    /// Date of the QA scan.
    pub assessed_on: String,
    /// Post-implant D90, Gy (seeds).
    pub seed_d90_gy: Option<f64>,
    /// Prescription dose, Gy (seeds).
    pub seed_prescription_gy: Option<f64>,
    /// Whether the lethal isotherm covered the planned zone (cryo).
    pub lethal_isotherm_covered: Option<bool>,
}

/// A procedure on one lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// Store-assigned id (ignored on input).
    #[serde(default)]
    pub procedure_id: i64,
    /// The patient.
    pub patient_id: String,
    /// The lesion.
    pub lesion_id: String,
    /// Seeds or cryoablation.
    pub modality: Modality,
    /// Date.
    pub performed_on: String,
    /// A re-intervention for progression of a treated lesion (not protocol therapy).
    #[serde(default)]
    pub is_reintervention: bool,
    /// Number of seeds implanted (seeds).
    pub seeds_implanted: Option<u32>,
    /// Seed positions, probes, freeze protocol… as a JSON object.
    pub details: serde_json::Value,
    /// Technical notes.
    pub notes: Option<String>,
    /// Post-procedure QA.
    pub qa: Option<ProcedureQa>,
}

/// One reader's read of one time point, in the `cryoseed-assessments` read layout
/// (`{"lesions": […], "new_lesions": […]}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    /// The patient.
    pub patient_id: String,
    /// The reader (the user who recorded it).
    pub reader: String,
    /// Time-point label (`baseline`, `M3`, …).
    pub label: String,
    /// Date of the scan.
    pub assessed_on: String,
    /// The observations.
    pub observations: serde_json::Value,
}

/// The adjudication of a patient's discordant reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjudication {
    /// The patient.
    pub patient_id: String,
    /// The adjudicator.
    pub adjudicator: String,
    /// The reader whose assessment is accepted.
    pub accepted_reader: String,
    /// Why.
    pub reason: String,
}

/// An adverse event as entered (validated against CTCAE v5.0 by the store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventForm {
    /// The patient.
    pub patient_id: String,
    /// CTCAE term.
    pub term: String,
    /// Grade 1–5.
    pub grade: u8,
    /// For "Other, specify" terms.
    pub specification: Option<String>,
    /// Attributions.
    pub attributions: Vec<Attribution>,
    /// Seriousness criteria.
    #[serde(default)]
    pub serious: Vec<SeriousCriterion>,
    /// Onset date.
    pub onset: String,
    /// Resolution date.
    pub resolution: Option<String>,
    /// MedDRA version used.
    pub meddra_version: String,
}

/// A stored adverse event: the form plus the coding the store added.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventRecord {
    /// Store-assigned id.
    pub ae_id: i64,
    /// The form as entered.
    #[serde(flatten)]
    pub form: AdverseEventForm,
    /// MedDRA code of the term.
    pub meddra_code: String,
    /// System organ class.
    pub soc: String,
    /// CTCAE version.
    pub ctcae_version: String,
}

/// A protocol deviation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// Store-assigned id (ignored on input).
    #[serde(default)]
    pub deviation_id: i64,
    /// The patient.
    pub patient_id: String,
    /// Date.
    pub occurred_on: String,
    /// Category (`eligibility`, `treatment`, `visit_window`, …).
    pub category: String,
    /// What happened.
    pub description: String,
    /// Major deviation.
    pub major: bool,
}

/// Status of a data-clarification query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// Raised, waiting for the site.
    Open,
    /// The site answered.
    Answered,
    /// The data manager closed it.
    Closed,
}

impl QueryStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            QueryStatus::Open => "open",
            QueryStatus::Answered => "answered",
            QueryStatus::Closed => "closed",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<QueryStatus> {
        [QueryStatus::Open, QueryStatus::Answered, QueryStatus::Closed].into_iter().find(|s| s.as_str() == text)
    }
}

/// A data-clarification query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataQuery {
    /// Store-assigned id.
    pub query_id: i64,
    /// The patient.
    pub patient_id: String,
    /// The field queried (`adverse_event 3 grade`).
    pub field: String,
    /// The question.
    pub question: String,
    /// Who raised it.
    pub raised_by: String,
    /// The site's answer.
    pub answer: Option<String>,
    /// Status.
    pub status: QueryStatus,
}

/// An electronic signature of a patient's record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Store-assigned id.
    pub signature_id: i64,
    /// The patient.
    pub patient_id: String,
    /// The signer.
    pub signed_by: String,
    /// What the signature means (`I confirm the CRF is complete and accurate`).
    pub meaning: String,
    /// UTC instant.
    pub signed_at: String,
}
