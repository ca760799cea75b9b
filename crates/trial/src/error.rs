//! The one error type of the crate.

use cryoseed_core::{PatientId, SiteId};

/// Why a randomization, an adverse-event record or an endpoint derivation was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrialError {
    /// The site is not one of the sites the allocation list or minimization was set up for.
    #[error("site {site_id} is not set up for randomization (known sites: {known})")]
    UnknownSite {
        /// The site asked for.
        site_id: SiteId,
        /// The sites that are set up, comma-separated.
        known: String,
    },
    /// A stratification value is missing, so the stratum cannot be decided.
    #[error("cannot randomize {patient_id}: stratification value `{field}` is missing")]
    MissingStratification {
        /// The patient.
        patient_id: PatientId,
        /// `site_id` or `ecog`.
        field: &'static str,
    },
    /// The ECOG score falls in none of the protocol's ECOG strata.
    #[error("cannot randomize {patient_id}: ECOG {ecog} is in none of the protocol's ECOG strata")]
    EcogOutsideStrata {
        /// The patient.
        patient_id: PatientId,
        /// The score.
        ecog: u8,
    },
    /// Every slot of the stratum's allocation list is used.
    #[error("the allocation list of stratum {stratum} is exhausted after {used} allocations")]
    StratumExhausted {
        /// The stratum, as text.
        stratum: String,
        /// Allocations made in it.
        used: usize,
    },
    /// The patient already has an allocation.
    #[error("patient {patient_id} is already randomized (sequence number {sequence_number} in {stratum})")]
    AlreadyRandomized {
        /// The patient.
        patient_id: PatientId,
        /// The stratum of the existing allocation.
        stratum: String,
        /// The existing sequence number.
        sequence_number: u32,
    },
    /// The patient has no allocation.
    #[error("patient {patient_id} is not randomized")]
    NotRandomized {
        /// The patient.
        patient_id: PatientId,
    },
    /// A parameter is out of range or inconsistent.
    #[error("invalid {parameter}: {reason}")]
    InvalidParameter {
        /// The parameter (`per_stratum`, `sites`, `reason`, `grade`, …).
        parameter: String,
        /// What is wrong.
        reason: String,
    },
    /// An adverse event record was refused; `field` names the field.
    #[error("adverse event {field}: {reason}")]
    InvalidAdverseEvent {
        /// The offending field (`term`, `grade`, `specification`, `resolution_date`, …).
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A patient's trial record is inconsistent; `field` names the field.
    #[error("patient {patient_id}, {field}: {reason}")]
    InvalidRecord {
        /// The patient.
        patient_id: PatientId,
        /// The offending field.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = TrialError> = std::result::Result<T, E>;
