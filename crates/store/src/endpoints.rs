//! From stored records to `trial::endpoints` analysis datasets, through `response`.
//!
//! Per randomized patient: the reads are assembled into a one-patient `cryoseed-assessments`
//! document (lesions with their first protocol-therapy date from the procedures, readers in id
//! order, time points by date, the adjudication), assessed by `response::assess_patient`, and the
//! accepted reader's verdicts feed `trial::endpoints::derive` with the follow-up, allocation and
//! procedures. A patient whose reads are still discordant and not adjudicated (or who has no
//! reads) gets no response verdicts: every time point is missing and every treated lesion "not
//! evaluable", as the endpoint rules then code it.

use crate::db::{Store, WriteTx};
use crate::error::{Result, StoreError, invalid};
use crate::model::{Adjudication, Assessment, Lesion, Patient, Procedure, StoredAllocation};
use crate::randomization::trial_allocation;
use crate::records::enum_str;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Ecog, Gy, LesionId, Modality, SiteId};
use cryoseed_response::format::parse_assessments;
use cryoseed_response::{Acceptance, Date, LocalControl, PatientAssessment, assess_patient};
use cryoseed_trial::endpoints::{
    AnalysisDatasets, LesionVerdict, PatientRecord, ResponseVerdicts, TechnicalQa, TreatedLesion, derive,
};
use serde_json::{Value, json};
use sqlx::Row as _;
use std::collections::BTreeMap;

fn lesion_json(lesion: &Lesion, treated_on: Option<Date>) -> Value {
    let mut v = json!({
        "lesion_id": lesion.lesion_id,
        "role": enum_str(&lesion.role),
        "organ": enum_str(&lesion.organ),
        "bulky_index": lesion.is_bulky_index,
    });
    if let Some(d) = treated_on {
        v["treated_on"] = json!(d.to_string());
    }
    v
}

fn read_json(reader: &str, observations: &Value) -> Value {
    let mut read = observations.clone();
    if let Value::Object(map) = &mut read {
        map.insert("reader".into(), json!(reader));
    }
    read
}

/// Checks one read before it is stored: layout, lesion ids of this patient, value types.
pub(crate) async fn check_read(tx: &mut WriteTx<'_>, a: &Assessment) -> Result<()> {
    let Value::Object(map) = &a.observations else {
        return Err(invalid(
            "assessment",
            "observations",
            "must be an object {\"lesions\": [...], \"new_lesions\": [...]}",
        ));
    };
    if let Some(key) = map.keys().find(|k| *k != "lesions" && *k != "new_lesions") {
        return Err(invalid(
            "assessment",
            format!("observations.{key}"),
            "unknown key (expected lesions, new_lesions)",
        ));
    }
    let lesions: Vec<Lesion> = sqlx::query("SELECT * FROM lesions WHERE patient_id = $1 ORDER BY lesion_id")
        .bind(a.patient_id.clone())
        .fetch_all(&mut *tx.tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Lesion {
                patient_id: a.patient_id.clone(),
                lesion_id: r.try_get("lesion_id")?,
                role: serde_json::from_value(json!(r.try_get::<String, _>("role")?))
                    .map_err(|e| invalid("lesion", "role", e.to_string()))?,
                organ: serde_json::from_value(json!(r.try_get::<String, _>("organ")?))
                    .map_err(|e| invalid("lesion", "organ", e.to_string()))?,
                is_bulky_index: r.try_get::<i64, _>("is_bulky_index")? != 0,
            })
        })
        .collect::<Result<_>>()?;
    if let Some(list) = map.get("lesions") {
        let Value::Array(items) = list else {
            return Err(invalid("assessment", "observations.lesions", "must be an array"));
        };
        for (i, item) in items.iter().enumerate() {
            let id = item.get("lesion_id").and_then(Value::as_str).ok_or_else(|| {
                invalid("assessment", format!("observations.lesions[{i}].lesion_id"), "is required (a lesion code)")
            })?;
            if !lesions.iter().any(|l| l.lesion_id == id) {
                return Err(invalid(
                    "assessment",
                    format!("observations.lesions[{i}].lesion_id"),
                    format!("patient {} has no lesion {id}", a.patient_id),
                ));
            }
        }
    }
    let doc = json!({
        "format": "cryoseed-assessments",
        "version": 1,
        "patients": [{
            "patient_id": a.patient_id,
            "therapy_start": a.assessed_on,
            "readers": [a.reader],
            "lesions": lesions.iter().map(|l| lesion_json(l, None)).collect::<Vec<_>>(),
            "time_points": [{"label": a.label, "date": a.assessed_on, "reads": [read_json(&a.reader, &a.observations)]}],
        }],
    });
    parse_assessments(&doc.to_string()).map_err(|e| {
        let text = e.to_string();
        let field = text
            .split(": ")
            .next()
            .and_then(|path| {
                path.find(".reads[0].").map(|i| format!("observations.{}", &path[i + ".reads[0].".len()..]))
            })
            .unwrap_or_else(|| "observations".to_owned());
        invalid("assessment", field, text)
    })?;
    Ok(())
}

fn date_of(entity: &'static str, id: &str, text: &str) -> Result<Date> {
    Date::parse(text).ok_or_else(|| StoreError::Corrupt { entity, id: id.to_owned(), reason: format!("date {text:?}") })
}

/// Everything the store holds about one randomized patient.
struct PatientData<'a> {
    patient: &'a Patient,
    allocation: &'a StoredAllocation,
    ecog: Option<u8>,
    lesions: Vec<&'a Lesion>,
    procedures: Vec<&'a Procedure>,
    reads: Vec<&'a Assessment>,
    adjudication: Option<&'a Adjudication>,
}

fn first_treatment(procedures: &[&Procedure], lesion_id: &str) -> Option<Date> {
    procedures
        .iter()
        .filter(|p| p.lesion_id == lesion_id && !p.is_reintervention)
        .filter_map(|p| Date::parse(&p.performed_on))
        .min()
}

/// The patient's record for endpoint derivation, without the response verdicts.
fn patient_record(d: &PatientData<'_>) -> Result<PatientRecord> {
    let id = &d.patient.patient_id;
    let allocation = trial_allocation(d.allocation)?;
    let randomized_on = date_of("allocation", id, &d.allocation.randomized_on)?;
    let opt = |text: &Option<String>| text.as_deref().map(|t| date_of("patient", id, t)).transpose();
    let f = &d.patient.follow_up;
    let ecog = d
        .ecog
        .ok_or_else(|| invalid("screening", "ecog", format!("patient {id} has no ECOG")))
        .and_then(|e| Ecog::new(e).map_err(|m| invalid("screening", "ecog", m)))?;
    let mut treated = Vec::new();
    for lesion in &d.lesions {
        let procs: Vec<&&Procedure> =
            d.procedures.iter().filter(|p| p.lesion_id == lesion.lesion_id && !p.is_reintervention).collect();
        let Some(treated_on) = first_treatment(&d.procedures, &lesion.lesion_id) else { continue };
        let mut modalities: Vec<Modality> = procs.iter().map(|p| p.modality).collect();
        modalities.sort_by_key(enum_str);
        modalities.dedup();
        // A zoned lesion has one QA per modality (post-implant CT, ablation-zone scan): merged,
        // each value from the latest procedure that recorded it, dated by the latest QA.
        let mut qa: Option<TechnicalQa> = None;
        for q in procs.iter().filter_map(|p| p.qa.as_ref()) {
            let on = date_of("procedure", id, &q.assessed_on)?;
            let merged = qa.get_or_insert(TechnicalQa {
                assessed_on: on,
                seed_d90: None,
                seed_prescription: None,
                lethal_isotherm_covered: None,
            });
            merged.assessed_on = merged.assessed_on.max(on);
            merged.seed_d90 = q.seed_d90_gy.map(Gy).or(merged.seed_d90);
            merged.seed_prescription = q.seed_prescription_gy.map(Gy).or(merged.seed_prescription);
            merged.lethal_isotherm_covered = q.lethal_isotherm_covered.or(merged.lethal_isotherm_covered);
        }
        treated.push(TreatedLesion {
            lesion_id: LesionId::parse(lesion.lesion_id.as_str())
                .map_err(|e| invalid("lesion", "lesion_id", e.to_string()))?,
            is_bulky_index: lesion.is_bulky_index,
            modalities,
            treated_on,
            qa,
        });
    }
    let mut reinterventions: Vec<Date> = d
        .procedures
        .iter()
        .filter(|p| p.is_reintervention)
        .map(|p| date_of("procedure", id, &p.performed_on))
        .collect::<Result<_>>()?;
    reinterventions.sort();
    let record = PatientRecord {
        patient_id: allocation.patient_id.clone(),
        site_id: SiteId::parse(d.patient.site_id.as_str()).map_err(|e| invalid("patient", "site_id", e.to_string()))?,
        arm: allocation.arm,
        stratum: allocation.stratum.clone(),
        ecog,
        randomized_on,
        therapy_completed_on: opt(&f.therapy_completed_on)?,
        death_on: opt(&f.death_on)?,
        // Known alive at randomization when no later contact is recorded.
        last_contact_on: opt(&f.last_contact_on)?.unwrap_or(randomized_on),
        withdrawn_on: opt(&f.withdrawn_on)?,
        treated_lesions: treated,
        reinterventions,
    };
    Ok(record)
}

/// The accepted verdicts of a patient's assessment; without one, every time point missing and
/// every treated lesion not evaluable.
fn verdicts_from(record: &PatientRecord, assessed: Option<&PatientAssessment>) -> ResponseVerdicts {
    let empty = ResponseVerdicts {
        time_points: Vec::new(),
        best_confirmed: None,
        recist_progression_on: None,
        systemic_progression_on: None,
        lesions: record
            .treated_lesions
            .iter()
            .map(|t| LesionVerdict {
                lesion_id: t.lesion_id.clone(),
                is_bulky_index: t.is_bulky_index,
                ltp_on: None,
                assessed_on: Vec::new(),
                local_control: LocalControl::NotEvaluable,
            })
            .collect(),
        burden: Vec::new(),
    };
    assessed.and_then(PatientAssessment::accepted).map_or(empty, ResponseVerdicts::from_accepted)
}

/// The response assessment of a patient's stored reads (`None` without reads).
fn assessment_of(
    d: &PatientData<'_>,
    record: &PatientRecord,
    protocol: &Protocol,
) -> Result<Option<PatientAssessment>> {
    if d.reads.is_empty() {
        return Ok(None);
    }
    let mut readers: Vec<&str> = d.reads.iter().map(|r| r.reader.as_str()).collect();
    readers.sort();
    readers.dedup();
    let mut time_points: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for r in &d.reads {
        time_points
            .entry((r.assessed_on.clone(), r.label.clone()))
            .or_default()
            .push(read_json(&r.reader, &r.observations));
    }
    let therapy_start = record.treated_lesions.iter().map(|t| t.treated_on).min().unwrap_or(record.randomized_on);
    let mut patient = json!({
        "patient_id": d.patient.patient_id,
        "therapy_start": therapy_start.to_string(),
        "readers": readers,
        "lesions": d.lesions.iter().map(|l| lesion_json(l, first_treatment(&d.procedures, &l.lesion_id))).collect::<Vec<_>>(),
        "time_points": time_points.into_iter().map(|((date, label), reads)| json!({"label": label, "date": date, "reads": reads})).collect::<Vec<_>>(),
    });
    if let Some(a) = d.adjudication {
        patient["adjudication"] =
            json!({"adjudicator": a.adjudicator, "accepted_reader": a.accepted_reader, "reason": a.reason});
    }
    let doc = json!({"format": "cryoseed-assessments", "version": 1, "patients": [patient]});
    let (inputs, _) = parse_assessments(&doc.to_string())
        .map_err(|e| invalid("assessment", "observations", format!("patient {}: {e}", d.patient.patient_id)))?;
    Ok(Some(assess_patient(&inputs[0], protocol)))
}

/// A randomized patient whose two readers disagree and who has no adjudication yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingAdjudication {
    /// The patient.
    pub patient_id: String,
    /// The patient's readers, reader 1 first.
    pub readers: Vec<String>,
    /// The discordances, in one line (time points and triggers).
    pub summary: String,
}

impl Store {
    /// The adjudicators' work list: every randomized patient whose stored reads fire a protocol
    /// discordance trigger (`[response.adjudication]`) and who has no adjudication, by patient.
    pub async fn pending_adjudications(&self, protocol: &Protocol) -> Result<Vec<PendingAdjudication>> {
        let snapshot = self.records_snapshot().await?;
        let mut pending = Vec::new();
        for data in snapshot.patients() {
            if data.adjudication.is_some() {
                continue;
            }
            let record = patient_record(&data)?;
            let Some(assessed) = assessment_of(&data, &record, protocol)? else { continue };
            if matches!(assessed.review.acceptance, Acceptance::AdjudicationPending) {
                pending.push(PendingAdjudication {
                    patient_id: data.patient.patient_id.clone(),
                    readers: assessed.readers.iter().map(|r| r.reader.as_str().to_owned()).collect(),
                    summary: assessed.review.summary.clone(),
                });
            }
        }
        Ok(pending)
    }

    /// The analysis datasets of every randomized patient (`trial::endpoints::derive`).
    pub async fn analysis_datasets(&self, protocol: &Protocol) -> Result<AnalysisDatasets> {
        Ok(self.analysis(protocol).await?.0)
    }

    /// The analysis datasets and, per randomized patient with reads, the full `response`
    /// assessment (every reader's verdicts and the review), in patient order: what the analysis
    /// report and the CDISC exports show beyond the accepted verdicts (reader concordance, each
    /// reader's measurements and responses).
    pub async fn analysis(&self, protocol: &Protocol) -> Result<(AnalysisDatasets, Vec<PatientAssessment>)> {
        let snapshot = self.records_snapshot().await?;
        let mut records = Vec::new();
        let mut assessments = Vec::new();
        for data in snapshot.patients() {
            let record = patient_record(&data)?;
            let assessed = assessment_of(&data, &record, protocol)?;
            let verdicts = verdicts_from(&record, assessed.as_ref());
            assessments.extend(assessed);
            records.push((record, verdicts));
        }
        Ok((derive(&records, protocol)?, assessments))
    }

    async fn records_snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            patients: self.patients().await?,
            allocations: self.allocations().await?,
            screenings: self.screenings().await?,
            lesions: self.lesions().await?,
            procedures: self.procedures().await?,
            reads: self.assessments().await?,
            adjudications: self.adjudications().await?,
        })
    }
}

/// Every record the endpoints are derived from.
struct Snapshot {
    patients: Vec<Patient>,
    allocations: Vec<StoredAllocation>,
    screenings: Vec<crate::model::Screening>,
    lesions: Vec<Lesion>,
    procedures: Vec<Procedure>,
    reads: Vec<Assessment>,
    adjudications: Vec<Adjudication>,
}

impl Snapshot {
    /// Each randomized patient's data, by patient id.
    fn patients(&self) -> Vec<PatientData<'_>> {
        self.patients
            .iter()
            .filter_map(|patient| {
                let id = &patient.patient_id;
                let allocation = self.allocations.iter().find(|a| &a.patient_id == id)?;
                Some(PatientData {
                    patient,
                    allocation,
                    ecog: self.screenings.iter().find(|s| &s.patient_id == id).and_then(|s| s.ecog),
                    lesions: self.lesions.iter().filter(|l| &l.patient_id == id).collect(),
                    procedures: self.procedures.iter().filter(|p| &p.patient_id == id).collect(),
                    reads: self.reads.iter().filter(|r| &r.patient_id == id).collect(),
                    adjudication: self.adjudications.iter().find(|a| &a.patient_id == id),
                })
            })
            .collect()
    }
}
