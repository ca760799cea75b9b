//! What the readers recorded: a patient's lesions, time points, and each reader's observations.
//!
//! These are plain values, built by [`crate::format`] from the JSON exchange format or directly
//! by callers. They are not assumed to be consistent: [`crate::assess_patient`] checks them and
//! reports every inconsistency as a [`crate::Finding`] naming the lesion, reader and time point.

use crate::date::Date;
use cryoseed_core::{LesionId, Ml, Mm, Organ, PatientId, Percent, Zone};
use std::fmt;

/// A blinded reader or an adjudicator, e.g. `R1`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReaderId(String);

impl ReaderId {
    /// A reader code: 1–64 printable ASCII characters without spaces.
    pub fn parse(text: impl Into<String>) -> Option<ReaderId> {
        let text = text.into();
        let ok = !text.is_empty() && text.len() <= 64 && text.bytes().all(|b| b.is_ascii_graphic());
        ok.then_some(ReaderId(text))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReaderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RECIST 1.1 §4.2: the role a lesion was given at baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LesionRole {
    /// Measured at every time point; its diameter enters the sum of diameters.
    Target,
    /// Followed qualitatively (present, absent, unequivocal progression).
    NonTarget,
}

/// A lesion identified at baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesion {
    /// The lesion's code, unique within the patient.
    pub lesion_id: LesionId,
    /// Target or non-target.
    pub role: LesionRole,
    /// Organ; [`Organ::LymphNode`] makes it a node (short axis measured, RECIST 1.1 §3.1), and all
    /// nodes count as one organ for the two-per-organ rule.
    pub organ: Organ,
    /// Date of protocol local therapy (seeds and/or cryoablation) of this lesion; `None` for an
    /// untreated lesion. Treated lesions are followed for local tumour progression.
    pub treated_on: Option<Date>,
    /// The bulky index lesion (tumour burden volume, zonal response).
    pub is_bulky_index: bool,
}

impl Lesion {
    /// Whether the lesion is a lymph node (measured in short axis).
    pub fn is_node(&self) -> bool {
        self.organ == Organ::LymphNode
    }
}

/// What a reader recorded about a baseline lesion at one time point.
#[derive(Clone, Debug, PartialEq)]
pub enum LesionStatus {
    /// Measured: longest diameter (non-nodal) or short axis (node). For a non-target lesion a
    /// measurement means present (a node below the normal short axis counts as normal).
    Measured(Mm),
    /// Present but too small to measure: recorded as the protocol's default (5 mm, RECIST 1.1
    /// Appendix I).
    TooSmallToMeasure,
    /// Disappeared (0 mm); for a non-target lesion: absent.
    Disappeared,
    /// The lesion split into fragments: their diameters are added (RECIST 1.1 Appendix I).
    Split(Vec<Mm>),
    /// The lesion coalesced with another target lesion, whose diameter now covers both: this one
    /// counts 0 mm (RECIST 1.1 Appendix I).
    MergedInto(LesionId),
    /// Non-target lesion present, neither absent nor unequivocally progressing.
    Present,
    /// Non-target lesion with unequivocal progression (RECIST 1.1 §4.3.2).
    UnequivocalProgression,
    /// Not assessed, or not assessable, at this time point.
    NotEvaluated,
}

/// Findings about the treatment zone of a treated lesion (local tumour progression, PROTOCOL.md
/// "Response and endpoints").
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalFindings {
    /// Longest diameter of the treated lesion / ablation zone, the LTP growth measure. When absent,
    /// the RECIST measurement of a non-nodal target is used.
    pub ablation_zone_diameter: Option<Mm>,
    /// New nodular or eccentric enhancing tissue at the treatment-zone margin (reader flag).
    pub margin_enhancement: bool,
    /// Residual unablated tumour seen by the reader (meaningful at the first post-treatment scan).
    pub residual_tumour: bool,
    /// Biopsy-proven viable tumour at the margin.
    pub biopsy_viable_tumour: bool,
    /// Re-intervention for progression of this lesion.
    pub reintervention: bool,
    /// Where in the bulky lesion the failure is, if the reader says.
    pub failure_zone: Option<Zone>,
}

/// Volumes read on the image (bulky index lesion: whole lesion and its zones).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VolumeFindings {
    /// Whole-lesion volume.
    pub volume: Option<Ml>,
    /// Volume of the cryoablated core zone.
    pub core_volume: Option<Ml>,
    /// Volume of the seed-treated margin zone.
    pub margin_volume: Option<Ml>,
    /// Necrotic or non-enhancing share of the lesion, %.
    pub non_enhancing: Option<Percent>,
}

/// One reader's record of one baseline lesion at one time point.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// Which baseline lesion.
    pub lesion_id: LesionId,
    /// Its RECIST status and measurement.
    pub status: LesionStatus,
    /// Treatment-zone findings (treated lesions).
    pub local: LocalFindings,
    /// Volumes (bulky lesion).
    pub volumes: VolumeFindings,
}

impl Observation {
    /// An observation with only a RECIST status.
    pub fn new(lesion_id: LesionId, status: LesionStatus) -> Observation {
        Observation { lesion_id, status, local: LocalFindings::default(), volumes: VolumeFindings::default() }
    }
}

/// A lesion not present at baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLesion {
    /// The reader's code for it; the same code at a later time point is the same lesion (this is
    /// how an equivocal lesion is later confirmed).
    pub new_lesion_id: String,
    /// Organ, when given.
    pub organ: Option<Organ>,
    /// Equivocal (e.g. too small, possibly benign): not progression until confirmed
    /// (RECIST 1.1 §4.3.3).
    pub is_equivocal: bool,
}

/// One reader's read of one time point.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    /// Who read.
    pub reader: ReaderId,
    /// One entry per baseline lesion assessed.
    pub observations: Vec<Observation>,
    /// Lesions not present at baseline.
    pub new_lesions: Vec<NewLesion>,
}

/// An imaging time point (the earliest is the baseline).
#[derive(Clone, Debug, PartialEq)]
pub struct TimePoint {
    /// Label shown in reports, e.g. `baseline`, `W6`.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// Each reader's read.
    pub reads: Vec<Read>,
}

/// The adjudicator's decision: whose assessment of the patient is accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct Adjudication {
    /// Who adjudicated.
    pub adjudicator: ReaderId,
    /// The reader whose assessment is accepted.
    pub accepted_reader: ReaderId,
    /// Why (free text, kept with the verdict).
    pub reason: String,
}

/// Everything recorded for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct PatientAssessments {
    /// The patient.
    pub patient_id: PatientId,
    /// Start of protocol therapy: the reference for the minimum duration of stable disease and
    /// for the tumour-burden time points.
    pub therapy_start: Date,
    /// Baseline lesions.
    pub lesions: Vec<Lesion>,
    /// Blinded readers in order (reader 1, reader 2); one reader is allowed.
    pub readers: Vec<ReaderId>,
    /// Time points in any order (they are evaluated in date order).
    pub time_points: Vec<TimePoint>,
    /// The adjudication, when there was one.
    pub adjudication: Option<Adjudication>,
}
