//! The exchange format `cryoseed-assessments`, version 1: a patient's lesions, readers, time
//! points, measurements and flags, as JSON. These serde types are the boundary; they are turned
//! into the plain [`crate::PatientAssessments`] values once, here.
//!
//! ```json
//! {
//!   "format": "cryoseed-assessments",
//!   "version": 1,
//!   "patients": [{
//!     "patient_id": "P001",
//!     "therapy_start": "2026-01-12",
//!     "readers": ["R1", "R2"],
//!     "lesions": [
//!       {"lesion_id": "T1", "role": "target", "organ": "liver", "treated_on": "2026-01-12", "bulky_index": true},
//!       {"lesion_id": "N1", "role": "non_target", "organ": "lymph_node"}
//!     ],
//!     "time_points": [
//!       {"label": "baseline", "date": "2026-01-05", "reads": [
//!         {"reader": "R1", "lesions": [
//!           {"lesion_id": "T1", "diameter_mm": 82, "volume_ml": 210, "core_volume_ml": 120, "margin_volume_ml": 90},
//!           {"lesion_id": "N1", "status": "present"}]}
//!       ]}
//!     ],
//!     "adjudication": {"adjudicator": "A1", "accepted_reader": "R2", "reason": "R1 missed the margin nodule"}
//!   }]
//! }
//! ```
//!
//! Per lesion and read, `status` is one of `measured` (with `diameter_mm`: longest diameter, or
//! short axis for a lymph node), `too_small`, `disappeared`, `split` (with `fragments_mm`),
//! `merged` (with `merged_into`), `present`, `absent`, `unequivocal_progression`,
//! `not_evaluated`; it may be left out when `diameter_mm`, `fragments_mm` or `merged_into` says
//! it. Treatment-zone flags (`ablation_zone_mm`, `margin_enhancement`, `residual_tumour`,
//! `biopsy_viable_tumour`, `reintervention`, `failure_zone`: `core` | `margin` | `high_risk`)
//! and volumes (`volume_ml`, `core_volume_ml`, `margin_volume_ml`, `non_enhancing_percent`) are
//! optional. New lesions: `{"new_lesion_id": "NL1", "organ": "liver", "equivocal": true}`.
//! Dates are `YYYY-MM-DD`. Unknown keys are errors (a misspelt flag must not be ignored).
//!
//! Required per patient: `patient_id`, `therapy_start` (start of protocol therapy: reference of
//! the minimum SD duration and the tumour-burden months), `readers` (one or two blinded readers,
//! reader 1 first), `lesions` and `time_points`; `adjudication` is optional. Per lesion: `lesion_id`,
//! `role` (`target` | `non_target`), `organ` (the cryoseed organ names: `liver`, `lung`,
//! `lymph_node` — measured in short axis —, `bone`, `soft_tissue`, `pelvis`, `kidney`, …);
//! optional `treated_on` (date of protocol local therapy: the lesion is followed for local
//! tumour progression) and `bulky_index`. Per time point: `label`, `date`, `reads` (one per
//! reader; the earliest time point is the baseline). A document may hold any number of patients;
//! reader agreement is computed over all of them.

use crate::date::Date;
use crate::error::ResponseError;
use crate::findings::{Finding, Severity};
use crate::model::{
    Adjudication, Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, PatientAssessments, Read,
    ReaderId, TimePoint, VolumeFindings,
};
use cryoseed_core::{LesionId, Ml, Mm, Organ, PatientId, Percent, Zone};
use serde::{Deserialize, Deserializer};

/// The `format` field of the document.
pub const FORMAT: &str = "cryoseed-assessments";
/// The version this build reads.
pub const VERSION: u32 = 1;

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocumentV1 {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u32,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    patients: Vec<PatientV1>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatientV1 {
    patient_id: PatientId,
    therapy_start: DateV1,
    readers: Vec<ReaderV1>,
    lesions: Vec<LesionV1>,
    time_points: Vec<TimePointV1>,
    #[serde(default)]
    adjudication: Option<AdjudicationV1>,
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum RoleV1 {
    Target,
    NonTarget,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LesionV1 {
    lesion_id: LesionId,
    role: RoleV1,
    organ: Organ,
    #[serde(default)]
    treated_on: Option<DateV1>,
    #[serde(default)]
    bulky_index: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TimePointV1 {
    label: String,
    date: DateV1,
    #[serde(default)]
    reads: Vec<ReadV1>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadV1 {
    reader: ReaderV1,
    #[serde(default)]
    lesions: Vec<ObservationV1>,
    #[serde(default)]
    new_lesions: Vec<NewLesionV1>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
enum StatusV1 {
    Measured,
    TooSmall,
    Disappeared,
    Split,
    Merged,
    Present,
    Absent,
    UnequivocalProgression,
    NotEvaluated,
}

impl StatusV1 {
    fn name(self) -> &'static str {
        match self {
            StatusV1::Measured => "measured",
            StatusV1::TooSmall => "too_small",
            StatusV1::Disappeared => "disappeared",
            StatusV1::Split => "split",
            StatusV1::Merged => "merged",
            StatusV1::Present => "present",
            StatusV1::Absent => "absent",
            StatusV1::UnequivocalProgression => "unequivocal_progression",
            StatusV1::NotEvaluated => "not_evaluated",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObservationV1 {
    lesion_id: LesionId,
    #[serde(default)]
    status: Option<StatusV1>,
    #[serde(default)]
    diameter_mm: Option<f64>,
    #[serde(default)]
    fragments_mm: Option<Vec<f64>>,
    #[serde(default)]
    merged_into: Option<LesionId>,
    #[serde(default)]
    ablation_zone_mm: Option<f64>,
    #[serde(default)]
    margin_enhancement: bool,
    #[serde(default)]
    residual_tumour: bool,
    #[serde(default)]
    biopsy_viable_tumour: bool,
    #[serde(default)]
    reintervention: bool,
    #[serde(default)]
    failure_zone: Option<Zone>,
    #[serde(default)]
    volume_ml: Option<f64>,
    #[serde(default)]
    core_volume_ml: Option<f64>,
    #[serde(default)]
    margin_volume_ml: Option<f64>,
    #[serde(default)]
    non_enhancing_percent: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLesionV1 {
    new_lesion_id: String,
    #[serde(default)]
    organ: Option<Organ>,
    #[serde(default)]
    equivocal: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjudicationV1 {
    adjudicator: ReaderV1,
    accepted_reader: ReaderV1,
    reason: String,
}

struct DateV1(Date);

impl<'de> Deserialize<'de> for DateV1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text)
            .map(DateV1)
            .ok_or_else(|| serde::de::Error::custom(format!("expected a date YYYY-MM-DD, got {text:?}")))
    }
}

struct ReaderV1(ReaderId);

impl<'de> Deserialize<'de> for ReaderV1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ReaderId::parse(text.clone()).map(ReaderV1).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid reader code {text:?}: 1-64 printable characters, no spaces"))
        })
    }
}

/// Reads a `cryoseed-assessments` version 1 document. Returns the patients and, per patient, the
/// findings of this step (a status that contradicts the numbers given with it, a duplicated
/// patient code); [`crate::assess_patient`] adds its own.
pub fn parse_assessments(json: &str) -> Result<(Vec<PatientAssessments>, Vec<Vec<Finding>>), ResponseError> {
    let json_error = |path: String, error: &serde_json::Error| ResponseError::Json {
        path: if path.is_empty() || path == "." { "(document)".to_owned() } else { path },
        message: error.to_string(),
    };
    let header: Header = serde_json::from_str(json).map_err(|e| json_error(String::new(), &e))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(ResponseError::UnsupportedFormat {
            format: header.format,
            version: header.version,
            supported: VERSION,
        });
    }
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    let document: DocumentV1 = serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        json_error(path, error.inner())
    })?;
    let mut patients = Vec::new();
    let mut all_findings = Vec::new();
    let mut seen: Vec<PatientId> = Vec::new();
    for patient in document.patients {
        let mut findings = Vec::new();
        if seen.contains(&patient.patient_id) {
            findings.push(Finding {
                severity: Severity::Warning,
                reader: None,
                time_point: None,
                lesion: None,
                message: format!(
                    "patient {} appears twice in the document; each entry is assessed",
                    patient.patient_id
                ),
            });
        }
        seen.push(patient.patient_id.clone());
        patients.push(convert_patient(patient, &mut findings));
        all_findings.push(findings);
    }
    Ok((patients, all_findings))
}

fn convert_patient(p: PatientV1, findings: &mut Vec<Finding>) -> PatientAssessments {
    let roles: Vec<(LesionId, RoleV1)> = p.lesions.iter().map(|l| (l.lesion_id.clone(), l.role)).collect();
    let lesions = p
        .lesions
        .into_iter()
        .map(|l| Lesion {
            lesion_id: l.lesion_id,
            role: match l.role {
                RoleV1::Target => LesionRole::Target,
                RoleV1::NonTarget => LesionRole::NonTarget,
            },
            organ: l.organ,
            treated_on: l.treated_on.map(|d| d.0),
            is_bulky_index: l.bulky_index,
        })
        .collect();
    let time_points = p
        .time_points
        .into_iter()
        .map(|tp| {
            let name = format!("{} ({})", tp.label, tp.date.0);
            let reads = tp
                .reads
                .into_iter()
                .map(|read| {
                    let reader = read.reader.0;
                    let observations = read
                        .lesions
                        .into_iter()
                        .map(|o| {
                            let role = roles.iter().find(|(id, _)| *id == o.lesion_id).map(|(_, r)| *r);
                            let mut problem = |message: String| {
                                findings.push(Finding {
                                    severity: Severity::Error,
                                    reader: Some(reader.clone()),
                                    time_point: Some(name.clone()),
                                    lesion: Some(o.lesion_id.to_string()),
                                    message,
                                })
                            };
                            let status = resolve_status(&o, role, &mut problem);
                            Observation {
                                lesion_id: o.lesion_id,
                                status,
                                local: LocalFindings {
                                    ablation_zone_diameter: o.ablation_zone_mm.map(Mm),
                                    margin_enhancement: o.margin_enhancement,
                                    residual_tumour: o.residual_tumour,
                                    biopsy_viable_tumour: o.biopsy_viable_tumour,
                                    reintervention: o.reintervention,
                                    failure_zone: o.failure_zone,
                                },
                                volumes: VolumeFindings {
                                    volume: o.volume_ml.map(Ml),
                                    core_volume: o.core_volume_ml.map(Ml),
                                    margin_volume: o.margin_volume_ml.map(Ml),
                                    non_enhancing: o.non_enhancing_percent.map(Percent),
                                },
                            }
                        })
                        .collect();
                    let new_lesions = read
                        .new_lesions
                        .into_iter()
                        .map(|n| NewLesion {
                            new_lesion_id: n.new_lesion_id,
                            organ: n.organ,
                            is_equivocal: n.equivocal,
                        })
                        .collect();
                    Read { reader, observations, new_lesions }
                })
                .collect();
            TimePoint { label: tp.label, date: tp.date.0, reads }
        })
        .collect();
    PatientAssessments {
        patient_id: p.patient_id,
        therapy_start: p.therapy_start.0,
        lesions,
        readers: p.readers.into_iter().map(|r| r.0).collect(),
        time_points,
        adjudication: p.adjudication.map(|a| Adjudication {
            adjudicator: a.adjudicator.0,
            accepted_reader: a.accepted_reader.0,
            reason: a.reason,
        }),
    }
}

/// The lesion status a record states, checking that the numbers given fit it.
fn resolve_status(o: &ObservationV1, role: Option<RoleV1>, problem: &mut impl FnMut(String)) -> LesionStatus {
    use StatusV1 as S;
    let status = match o.status {
        Some(status) => status,
        None if o.diameter_mm.is_some() => S::Measured,
        None if o.fragments_mm.is_some() => S::Split,
        None if o.merged_into.is_some() => S::Merged,
        None if role == Some(RoleV1::NonTarget) => {
            problem("no status given; counted as not evaluated".to_owned());
            return LesionStatus::NotEvaluated;
        }
        None => {
            problem("no status, diameter_mm, fragments_mm or merged_into given; counted as not evaluated".to_owned());
            return LesionStatus::NotEvaluated;
        }
    };
    let extra = |name: &str, given: bool| given.then(|| name.to_owned());
    let unexpected: Vec<String> = [
        extra("diameter_mm", o.diameter_mm.is_some() && status != S::Measured),
        extra("fragments_mm", o.fragments_mm.is_some() && status != S::Split),
        extra("merged_into", o.merged_into.is_some() && status != S::Merged),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !unexpected.is_empty() {
        problem(format!(
            "status {} contradicts {} given with it; counted as not evaluated",
            status.name(),
            unexpected.join(" and ")
        ));
        return LesionStatus::NotEvaluated;
    }
    match status {
        S::Measured => match o.diameter_mm {
            Some(d) => LesionStatus::Measured(Mm(d)),
            None => {
                problem("status measured without diameter_mm; counted as not evaluated".to_owned());
                LesionStatus::NotEvaluated
            }
        },
        S::Split => match &o.fragments_mm {
            Some(fragments) => LesionStatus::Split(fragments.iter().copied().map(Mm).collect()),
            None => {
                problem("status split without fragments_mm; counted as not evaluated".to_owned());
                LesionStatus::NotEvaluated
            }
        },
        S::Merged => match &o.merged_into {
            Some(other) => LesionStatus::MergedInto(other.clone()),
            None => {
                problem("status merged without merged_into; counted as not evaluated".to_owned());
                LesionStatus::NotEvaluated
            }
        },
        S::TooSmall => LesionStatus::TooSmallToMeasure,
        S::Disappeared | S::Absent => LesionStatus::Disappeared,
        S::Present => LesionStatus::Present,
        S::UnequivocalProgression => LesionStatus::UnequivocalProgression,
        S::NotEvaluated => LesionStatus::NotEvaluated,
    }
}
