//! What the trial-level builders (analysis report, CDISC and IPD exports) read: one consistent
//! snapshot of the stored trial, its analysis datasets and every patient's response assessment.
//!
//! The snapshot's identity is the SHA-256 of its canonical JSON (`cryoseed-trial` document,
//! [`TrialDocument::to_json`]): the same stored data give the same hash, and every output names
//! it.

use cryoseed_core::protocol::Protocol;
use cryoseed_response::{Date, PatientAssessment};
use cryoseed_store::export::TrialDocument;
use cryoseed_store::model::{Patient, StoredAllocation};
use cryoseed_trial::endpoints::AnalysisDatasets;
use sha2::{Digest as _, Sha256};

/// The inputs of the trial-level builders.
#[derive(Clone, Copy, Debug)]
pub struct TrialInput<'a> {
    /// Every stored record (`Store::snapshot`).
    pub doc: &'a TrialDocument,
    /// The derived analysis datasets (`Store::analysis`).
    pub datasets: &'a AnalysisDatasets,
    /// Each randomized patient's response assessment, all readers (`Store::analysis`).
    pub assessments: &'a [PatientAssessment],
    /// The protocol the datasets were derived with.
    pub protocol: &'a Protocol,
}

const MONTHS: [&str; 12] = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

impl TrialInput<'_> {
    /// SHA-256 (hex) of the snapshot's canonical JSON.
    pub fn snapshot_sha256(&self) -> String {
        Sha256::digest(self.doc.to_json().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The study identifier (the protocol's name, upper case).
    pub fn study_id(&self) -> String {
        self.protocol.protocol.name.to_uppercase()
    }

    /// The latest date recorded anywhere in the snapshot (the data cut), if any.
    pub fn data_cut(&self) -> Option<Date> {
        let d = self.doc;
        let texts = d
            .patients
            .iter()
            .flat_map(|p| {
                [
                    Some(&p.enrolled_on),
                    p.follow_up.death_on.as_ref(),
                    p.follow_up.last_contact_on.as_ref(),
                    p.follow_up.withdrawn_on.as_ref(),
                    p.follow_up.therapy_completed_on.as_ref(),
                ]
            })
            .flatten()
            .chain(d.screenings.iter().map(|s| &s.screened_on))
            .chain(d.allocations.iter().map(|a| &a.randomized_on))
            .chain(d.procedures.iter().map(|p| &p.performed_on))
            .chain(d.assessments.iter().map(|a| &a.assessed_on))
            .chain(
                d.adverse_events.iter().flat_map(|a| std::iter::once(&a.form.onset).chain(a.form.resolution.as_ref())),
            );
        texts.filter_map(|t| Date::parse(t)).max()
    }

    /// The transport files' header time (`ddMMMyy:00:00:00`): the data cut, so that the files are
    /// a function of the data only (1960-01-01 for an empty trial).
    pub fn xpt_timestamp(&self) -> String {
        let cut = self.data_cut().map_or_else(|| "1960-01-01".to_owned(), |d| d.to_string());
        let (y, m, d) = (&cut[2..4], cut[5..7].parse::<usize>().unwrap_or(1), &cut[8..10]);
        format!("{d}{}{y}:00:00:00", MONTHS[m.clamp(1, 12) - 1])
    }

    /// The patient record.
    pub fn patient(&self, patient_id: &str) -> Option<&Patient> {
        self.doc.patients.iter().find(|p| p.patient_id == patient_id)
    }

    /// The allocation of a patient.
    pub fn allocation(&self, patient_id: &str) -> Option<&StoredAllocation> {
        self.doc.allocations.iter().find(|a| a.patient_id == patient_id)
    }

    /// `STUDYID-SITEID-SUBJID`.
    pub fn usubjid(&self, patient_id: &str) -> String {
        let site = self.patient(patient_id).map_or("", |p| p.site_id.as_str());
        format!("{}-{site}-{patient_id}", self.study_id())
    }

    /// Age in years at screening, as the eligibility evaluation recorded it (criterion
    /// `inclusion.age`, evidence `age N years`): the store keeps no birth date.
    pub fn age_years(&self, patient_id: &str) -> Option<f64> {
        let s = self.doc.screenings.iter().rev().find(|s| s.patient_id == patient_id)?;
        let criteria = s.criteria.as_array()?;
        let c = criteria.iter().find(|c| c.get("id").and_then(|v| v.as_str()) == Some("inclusion.age"))?;
        let evidence = c.get("evidence")?.as_str()?;
        evidence.strip_prefix("age ")?.strip_suffix(" years")?.trim().parse().ok()
    }

    /// First protocol-therapy procedure of a patient (the reference start, SDTM RFSTDTC).
    pub fn first_treatment(&self, patient_id: &str) -> Option<Date> {
        self.doc
            .procedures
            .iter()
            .filter(|p| p.patient_id == patient_id && !p.is_reintervention)
            .filter_map(|p| Date::parse(&p.performed_on))
            .min()
    }

    /// Last protocol-therapy procedure of a patient.
    pub fn last_treatment(&self, patient_id: &str) -> Option<Date> {
        self.doc
            .procedures
            .iter()
            .filter(|p| p.patient_id == patient_id && !p.is_reintervention)
            .filter_map(|p| Date::parse(&p.performed_on))
            .max()
    }

    /// The reference start of study days: first treatment, else randomization.
    pub fn reference_start(&self, patient_id: &str) -> Option<Date> {
        self.first_treatment(patient_id)
            .or_else(|| self.allocation(patient_id).and_then(|a| Date::parse(&a.randomized_on)))
    }

    /// SDTM study day of `date` (SDTMIG §4.4.4: day 1 is the reference start, no day 0).
    pub fn study_day(&self, patient_id: &str, date: &str) -> Option<f64> {
        let start = self.reference_start(patient_id)?;
        let d = Date::parse(date)?;
        let n = d.days_since(start).value();
        Some(if n >= 0.0 { n + 1.0 } else { n })
    }

    /// The patient's readers in id order (reader 1, reader 2…).
    pub fn readers_of(&self, patient_id: &str) -> Vec<String> {
        let mut r: Vec<String> =
            self.doc.assessments.iter().filter(|a| a.patient_id == patient_id).map(|a| a.reader.clone()).collect();
        r.sort();
        r.dedup();
        r
    }
}

/// SAS date: days since 1960-01-01.
pub fn sas_date(date: &str) -> Option<f64> {
    let d = Date::parse(date)?;
    Some(d.days_since(Date::parse("1960-01-01").expect("valid")).value())
}
