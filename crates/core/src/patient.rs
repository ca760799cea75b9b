//! What is known about a patient at screening: baseline covariates, laboratory values, the
//! exclusion checklist and the lesions the investigator declared.
//!
//! Every field that may legitimately be unknown at the time of entry is an `Option`: eligibility
//! then says "cannot be decided yet: X is missing" instead of failing.

use crate::domain::{Ecog, Organ};
use crate::ids::{LesionId, PatientId, SiteId};
use crate::units::{Ml, Mm};

/// Laboratory values at screening (PROTOCOL.md, "adequate organ function").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labs {
    /// Platelets, 10⁹/L.
    pub platelets_e9_per_l: Option<f64>,
    /// International normalized ratio (dimensionless).
    pub inr: Option<f64>,
    /// Absolute neutrophil count, 10⁹/L.
    pub anc_e9_per_l: Option<f64>,
    /// Haemoglobin, g/L.
    pub haemoglobin_g_per_l: Option<f64>,
    /// Total bilirubin as a multiple of the upper limit of normal.
    pub bilirubin_x_uln: Option<f64>,
    /// AST as a multiple of the upper limit of normal.
    pub ast_x_uln: Option<f64>,
    /// ALT as a multiple of the upper limit of normal.
    pub alt_x_uln: Option<f64>,
    /// Creatinine clearance, mL/min.
    pub creatinine_clearance_ml_per_min: Option<f64>,
}

/// The protocol's exclusion criteria, each an explicit yes/no (None = not yet answered).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// Emergent intervention needed.
    pub emergent_intervention: Option<bool>,
    /// A target lesion is not safely accessible.
    pub target_not_accessible: Option<bool>,
    /// Active uncontrolled infection.
    pub uncontrolled_infection: Option<bool>,
    /// Uncontrolled effusion or ascites.
    pub uncontrolled_effusion: Option<bool>,
    /// Severe cardiopulmonary comorbidity.
    pub severe_cardiopulmonary: Option<bool>,
    /// Prior local therapy to the bulky index lesion.
    pub prior_local_therapy_bulky: Option<bool>,
    /// Uncontrolled CNS metastases.
    pub uncontrolled_cns: Option<bool>,
    /// Excluded by investigator judgement: the free-text reason (None = not excluded, or not yet
    /// answered when `investigator_judgement_answered` is false).
    pub investigator_judgement: Option<String>,
    /// Whether the investigator-judgement question has been answered.
    pub investigator_judgement_answered: bool,
}

/// A lesion as declared at screening, with its baseline measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct DeclaredLesion {
    /// Lesion code.
    pub lesion_id: LesionId,
    /// Organ the lesion is in.
    pub organ: Organ,
    /// Whether it is a lymph node (RECIST measures nodes by short axis).
    pub is_nodal: bool,
    /// Longest axial diameter (RECIST), if measured.
    pub longest_diameter: Option<Mm>,
    /// Short axis perpendicular to the longest diameter, if measured.
    pub short_axis: Option<Mm>,
    /// Volume, if segmented.
    pub volume: Option<Ml>,
    /// Planned as a target lesion for protocol local therapy.
    pub is_target: bool,
    /// Designated the bulky index lesion.
    pub is_bulky_index: bool,
}

/// A screening record: everything eligibility is decided from.
#[derive(Clone, Debug, PartialEq)]
pub struct ScreeningRecord {
    /// Patient code.
    pub patient_id: PatientId,
    /// Centre.
    pub site_id: SiteId,
    /// Age in completed years.
    pub age_years: Option<u32>,
    /// ECOG performance status.
    pub ecog: Option<Ecog>,
    /// Histologically or cytologically confirmed solid malignancy.
    pub histology_confirmed: Option<bool>,
    /// Metastatic disease.
    pub metastatic: Option<bool>,
    /// Not amenable to curative surgery or definitive curative-intent radiotherapy.
    pub not_amenable_to_curative_therapy: Option<bool>,
    /// Total number of metastatic lesions on imaging (targets and non-targets).
    pub metastatic_lesion_count: Option<u32>,
    /// Declared lesions (at least the targets).
    pub lesions: Vec<DeclaredLesion>,
    /// Laboratory values.
    pub labs: Labs,
    /// Exclusion checklist.
    pub exclusions: Exclusions,
}
