//! The response engine as a reviewer meets it: every cell of the RECIST 1.1 tables, the best
//! overall response rules, the worked situations of the paper, local tumour progression, reader
//! review, tumour burden, bad input as findings, the exchange format, and properties.

mod bad_input;
mod best;
mod burden;
mod dsl;
mod format;
mod ltp;
mod properties;
mod review;
mod tables;
mod target;

use cryoseed_core::protocol::Protocol;
use cryoseed_response::{PatientAssessment, PatientAssessments, assess_patient};

pub fn assess(patient: &PatientAssessments) -> PatientAssessment {
    assess_patient(patient, &Protocol::shipped())
}

/// Reader 1's final time-point responses, space-separated (`PR PR PD`).
pub fn responses(assessment: &PatientAssessment) -> String {
    assessment.readers[0].recist.time_points.iter().map(|t| t.response.code()).collect::<Vec<_>>().join(" ")
}
