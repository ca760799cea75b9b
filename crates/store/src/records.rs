//! Writing and reading the trial's records; every write is audited in its own transaction.

use crate::db::{Backend, SYSTEM_ACTOR, Store, WriteTx};
use crate::error::{Result, StoreError, invalid};
use crate::model::{
    Adjudication, AdverseEventForm, AdverseEventRecord, Assessment, DataQuery, Deviation, FollowUp, Lesion, LesionRole,
    Patient, Plan, PlanReview, Procedure, QueryStatus, Role, Screening, Signature, Site, User,
};
use cryoseed_core::patient::ScreeningRecord;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Modality, PatientId, SiteId};
use cryoseed_response::Date;
use cryoseed_trial::ctcae::{AdverseEventInput, catalogue, validate_adverse_event};
use cryoseed_trial::eligibility::{CriterionKind, Verdict, assess};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row as _};
use std::collections::BTreeMap;

/// Where a patient stands, for the patient list ([`Store::patient_statuses`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatientStatus {
    /// The screening's status, once screened.
    pub screening: Option<String>,
    /// Whether the patient has an allocation.
    pub randomized: bool,
}

/// An `adverse_events` row as [`Store::json_rows`] reads it.
#[derive(serde::Deserialize)]
struct AdverseEventRow {
    ae_id: i64,
    patient_id: String,
    term: String,
    grade: i64,
    specification: Option<String>,
    attributions: String,
    serious: String,
    onset: String,
    resolution: Option<String>,
    meddra_version: String,
    meddra_code: String,
    soc: String,
    ctcae_version: String,
}

/// Parses a `YYYY-MM-DD` date, naming the field when it is impossible.
pub(crate) fn date(entity: &'static str, field: &str, text: &str) -> Result<Date> {
    Date::parse(text.trim()).ok_or_else(|| {
        invalid(entity, field, format!("{text:?} is not a valid date (YYYY-MM-DD, a real calendar day)"))
    })
}

fn opt_date(entity: &'static str, field: &str, text: &Option<String>) -> Result<Option<Date>> {
    text.as_deref().map(|t| date(entity, field, t)).transpose()
}

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("store records serialize")
}

fn non_empty(entity: &'static str, field: &str, text: &str) -> Result<()> {
    if text.trim().is_empty() { Err(invalid(entity, field, "is required")) } else { Ok(()) }
}

pub(crate) fn modality_str(m: Modality) -> &'static str {
    match m {
        Modality::Seeds => "seeds",
        Modality::Cryo => "cryo",
    }
}

pub(crate) fn parse_modality(text: &str) -> Option<Modality> {
    match text {
        "seeds" => Some(Modality::Seeds),
        "cryo" => Some(Modality::Cryo),
        _ => None,
    }
}

fn corrupt(entity: &'static str, id: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt { entity, id: id.to_owned(), reason: reason.into() }
}

fn json_value(entity: &'static str, id: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| corrupt(entity, id, e.to_string()))
}

fn enum_from<T: serde::de::DeserializeOwned>(entity: &'static str, id: &str, text: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| corrupt(entity, id, e.to_string()))
}

pub(crate) fn enum_str<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value).expect("enums serialize") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

impl WriteTx<'_> {
    /// The patient must exist and not be locked.
    pub(crate) async fn writable_patient(&mut self, patient_id: &str, action: &str) -> Result<()> {
        let row = sqlx::query("SELECT locked FROM patients WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "patient", id: patient_id.to_owned() })?;
        if row.try_get::<i64, _>("locked")? != 0 {
            return Err(StoreError::Locked { patient_id: patient_id.to_owned(), action: action.to_owned() });
        }
        Ok(())
    }

    pub(crate) async fn lesion_exists(&mut self, patient_id: &str, lesion_id: &str) -> Result<bool> {
        Ok(sqlx::query("SELECT 1 AS one FROM lesions WHERE patient_id = $1 AND lesion_id = $2")
            .bind(patient_id.to_owned())
            .bind(lesion_id.to_owned())
            .fetch_optional(&mut *self.tx)
            .await?
            .is_some())
    }

    async fn exists(&mut self, sql: &'static str, id: &str) -> Result<bool> {
        Ok(sqlx::query(sql).bind(id.to_owned()).fetch_optional(&mut *self.tx).await?.is_some())
    }
}

/// Id parsing with the field named.
fn patient_id(entity: &'static str, text: &str) -> Result<PatientId> {
    PatientId::parse(text).map_err(|e| invalid(entity, "patient_id", e.to_string()))
}

fn site_row(row: &AnyRow) -> Result<Site> {
    let site_id: String = row.try_get("site_id")?;
    let control: Option<String> = row.try_get("control_modality")?;
    Ok(Site {
        name: row.try_get("name")?,
        country: row.try_get("country")?,
        control_modality: control
            .map(|m| parse_modality(&m).ok_or_else(|| corrupt("site", &site_id, format!("modality {m:?}"))))
            .transpose()?,
        site_id,
    })
}

fn patient_row(row: &AnyRow) -> Result<Patient> {
    Ok(Patient {
        patient_id: row.try_get("patient_id")?,
        site_id: row.try_get("site_id")?,
        enrolled_on: row.try_get("enrolled_on")?,
        follow_up: FollowUp {
            therapy_completed_on: row.try_get("therapy_completed_on")?,
            death_on: row.try_get("death_on")?,
            last_contact_on: row.try_get("last_contact_on")?,
            withdrawn_on: row.try_get("withdrawn_on")?,
        },
        locked: row.try_get::<i64, _>("locked")? != 0,
        version: row.try_get("version")?,
    })
}

const DATA_ENTRY: &[Role] = &[Role::Investigator, Role::DataManager];

impl Store {
    /// Creates the first administrator of an empty user table (actor `system`).
    pub async fn bootstrap_admin(&self, user_id: &str, name: &str) -> Result<()> {
        let mut tx = self.write(SYSTEM_ACTOR).await?;
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&mut *tx.tx).await?.try_get("n")?;
        if n > 0 {
            return Err(StoreError::Forbidden {
                user: SYSTEM_ACTOR.into(),
                role: "system".into(),
                action: "create a first administrator: users exist already".into(),
            });
        }
        insert_user(&mut tx, &User { user_id: user_id.into(), name: name.into(), role: Role::Admin, site_id: None })
            .await?;
        tx.commit().await
    }

    /// Adds a site (admin).
    pub async fn add_site(&self, actor: &str, site: &Site) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Admin], "add a site")?;
        insert_site(&mut tx, site).await?;
        tx.commit().await
    }

    /// Declares or changes a site's control-arm modality (admin), with a reason.
    pub async fn set_control_modality(
        &self,
        actor: &str,
        site_id: &str,
        modality: Modality,
        reason: &str,
    ) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Admin], "declare a site's control-arm modality")?;
        non_empty("site", "reason", reason)?;
        let row = sqlx::query("SELECT site_id, name, control_modality, country FROM sites WHERE site_id = $1")
            .bind(site_id.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "site", id: site_id.to_owned() })?;
        let old = site_row(&row)?.control_modality;
        sqlx::query("UPDATE sites SET control_modality = $1, version = version + 1 WHERE site_id = $2")
            .bind(modality_str(modality))
            .bind(site_id.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit_change(
            "site",
            site_id,
            "control_modality",
            old.map(|m| modality_str(m).to_owned()),
            Some(modality_str(modality).to_owned()),
            Some(reason),
        )
        .await?;
        tx.commit().await
    }

    /// Adds a user (admin).
    pub async fn add_user(&self, actor: &str, user: &User) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Admin], "add a user")?;
        insert_user(&mut tx, user).await?;
        tx.commit().await
    }

    /// Records a screening: registers the patient (first screening), evaluates every eligibility
    /// criterion with `protocol`, and stores the declared lesions. One transaction.
    pub async fn record_screening(
        &self,
        actor: &str,
        record: &ScreeningRecord,
        screened_on: &str,
        protocol: &Protocol,
    ) -> Result<Screening> {
        let screened = date("screening", "screened_on", screened_on)?;
        let assessment = assess(record, protocol);
        let criteria: Vec<serde_json::Value> = assessment
            .criteria
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "kind": match c.kind { CriterionKind::Inclusion => "inclusion", CriterionKind::Exclusion => "exclusion" },
                    "verdict": match &c.verdict {
                        Verdict::Met => "met".to_owned(),
                        Verdict::NotMet => "not_met".to_owned(),
                        Verdict::Undecided { missing } => format!("undecided: {} missing", missing.join(", ")),
                    },
                    "rule": c.rule,
                    "evidence": c.evidence,
                })
            })
            .collect();
        let screening = Screening {
            patient_id: record.patient_id.to_string(),
            screened_on: screened.to_string(),
            ecog: record.ecog.map(|e| e.score()),
            status: assessment.status().to_string(),
            criteria: serde_json::Value::Array(criteria),
            protocol_sha256: protocol.hash().to_string(),
        };
        let lesions: Vec<Lesion> = record
            .lesions
            .iter()
            .map(|l| Lesion {
                patient_id: record.patient_id.to_string(),
                lesion_id: l.lesion_id.to_string(),
                role: if l.is_target { LesionRole::Target } else { LesionRole::NonTarget },
                organ: l.organ,
                is_bulky_index: l.is_bulky_index,
            })
            .collect();
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a screening")?;
        let patient = Patient {
            patient_id: screening.patient_id.clone(),
            site_id: record.site_id.to_string(),
            enrolled_on: screening.screened_on.clone(),
            follow_up: FollowUp::default(),
            locked: false,
            version: 1,
        };
        if tx.exists("SELECT 1 AS one FROM patients WHERE patient_id = $1", &patient.patient_id).await? {
            tx.writable_patient(&patient.patient_id, "record a screening").await?;
        } else {
            insert_patient(&mut tx, &patient).await?;
        }
        insert_screening(&mut tx, &screening).await?;
        for lesion in &lesions {
            if !tx.lesion_exists(&lesion.patient_id, &lesion.lesion_id).await? {
                insert_lesion(&mut tx, lesion).await?;
            }
        }
        tx.commit().await?;
        Ok(screening)
    }

    /// Adds a lesion to a patient.
    pub async fn add_lesion(&self, actor: &str, lesion: &Lesion) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "add a lesion")?;
        tx.writable_patient(&lesion.patient_id, "add a lesion").await?;
        insert_lesion(&mut tx, lesion).await?;
        tx.commit().await
    }

    /// Updates a patient's follow-up with optimistic versioning: `expected_version` is the
    /// version the writer read; a concurrent change makes this a [`StoreError::Conflict`].
    /// Each changed field is one audit entry with `reason`.
    pub async fn update_follow_up(
        &self,
        actor: &str,
        patient_id: &str,
        follow_up: &FollowUp,
        expected_version: i64,
        reason: &str,
    ) -> Result<i64> {
        let fields = [
            ("therapy_completed_on", &follow_up.therapy_completed_on),
            ("death_on", &follow_up.death_on),
            ("last_contact_on", &follow_up.last_contact_on),
            ("withdrawn_on", &follow_up.withdrawn_on),
        ];
        let mut normalized = Vec::new();
        for (field, value) in fields {
            normalized.push((field, opt_date("follow_up", field, value)?.map(|d| d.to_string())));
        }
        non_empty("follow_up", "reason", reason)?;
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "update follow-up")?;
        tx.writable_patient(patient_id, "update follow-up").await?;
        let row = sqlx::query("SELECT * FROM patients WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_one(&mut *tx.tx)
            .await?;
        let old = patient_row(&row)?;
        if old.version != expected_version {
            return Err(StoreError::Conflict {
                entity: "patient",
                id: patient_id.to_owned(),
                expected: expected_version,
                found: old.version,
            });
        }
        let result = sqlx::query(
            "UPDATE patients SET therapy_completed_on = $1, death_on = $2, last_contact_on = $3, withdrawn_on = $4, \
             version = version + 1 WHERE patient_id = $5 AND version = $6",
        )
        .bind(normalized[0].1.clone())
        .bind(normalized[1].1.clone())
        .bind(normalized[2].1.clone())
        .bind(normalized[3].1.clone())
        .bind(patient_id.to_owned())
        .bind(expected_version)
        .execute(&mut *tx.tx)
        .await?;
        if result.rows_affected() != 1 {
            return Err(StoreError::Conflict {
                entity: "patient",
                id: patient_id.to_owned(),
                expected: expected_version,
                found: expected_version + 1,
            });
        }
        let olds = [
            old.follow_up.therapy_completed_on,
            old.follow_up.death_on,
            old.follow_up.last_contact_on,
            old.follow_up.withdrawn_on,
        ];
        for ((field, new), old) in normalized.into_iter().zip(olds) {
            tx.audit_change("patient", patient_id, field, old, new, Some(reason)).await?;
        }
        tx.commit().await?;
        Ok(expected_version + 1)
    }

    /// Stores a plan document (the planner's JSON) and its SHA-256; returns the plan id.
    pub async fn record_plan(&self, actor: &str, plan: &Plan) -> Result<Plan> {
        serde_json::from_str::<serde_json::Value>(&plan.document)
            .map_err(|e| invalid("plan", "document", format!("is not JSON: {e}")))?;
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a plan")?;
        let stored = insert_plan(&mut tx, plan).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Stores several plan documents (one per lesion of one patient's plan) and the plan's review
    /// bundle, if any, in one transaction: all are stored or none.
    pub async fn record_plans(
        &self,
        actor: &str,
        plans: &[Plan],
        review: Option<&PlanReview>,
    ) -> Result<(Vec<Plan>, Option<PlanReview>)> {
        for (i, plan) in plans.iter().enumerate() {
            serde_json::from_str::<serde_json::Value>(&plan.document)
                .map_err(|e| invalid("plan", format!("[{i}].document"), format!("is not JSON: {e}")))?;
        }
        if let Some(r) = review {
            check_review_json(r)?;
        }
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a plan")?;
        let mut stored = Vec::with_capacity(plans.len());
        for plan in plans {
            stored.push(insert_plan(&mut tx, plan).await?);
        }
        let review = match review {
            Some(r) => Some(insert_plan_review(&mut tx, r).await?),
            None => None,
        };
        tx.commit().await?;
        Ok((stored, review))
    }

    /// Stores the review bundle of a plan stored before (the lesion documents whose
    /// `patient_plan_sha256` is the bundle's `plan_sha256`).
    pub async fn record_plan_review(&self, actor: &str, review: &PlanReview) -> Result<PlanReview> {
        check_review_json(review)?;
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a plan review")?;
        let stored = insert_plan_review(&mut tx, review).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Records a procedure on one of the patient's lesions; returns its id.
    pub async fn record_procedure(&self, actor: &str, procedure: &Procedure) -> Result<i64> {
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a procedure")?;
        let id = insert_procedure(&mut tx, procedure).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a reader's assessment of one time point (the actor is the reader). The
    /// observations are checked: every lesion must be one of the patient's lesions, every value of
    /// the right type (`cryoseed-assessments` read layout), the date consistent with the other
    /// readers' reads of the same time point.
    pub async fn record_assessment(&self, actor: &str, assessment: &Assessment) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Reader], "record an imaging assessment")?;
        if assessment.reader != tx.actor() {
            return Err(invalid("assessment", "reader", format!("must be the recording user {}", tx.actor())));
        }
        insert_assessment(&mut tx, assessment).await?;
        tx.commit().await
    }

    /// Records the adjudication of a patient's reads (the actor is the adjudicator).
    pub async fn record_adjudication(&self, actor: &str, adjudication: &Adjudication) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Adjudicator], "adjudicate")?;
        if adjudication.adjudicator != tx.actor() {
            return Err(invalid("adjudication", "adjudicator", format!("must be the recording user {}", tx.actor())));
        }
        insert_adjudication(&mut tx, adjudication).await?;
        tx.commit().await
    }

    /// Validates an adverse event against CTCAE v5.0 and stores it; returns its id.
    pub async fn record_adverse_event(&self, actor: &str, form: &AdverseEventForm) -> Result<i64> {
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record an adverse event")?;
        let id = insert_adverse_event(&mut tx, form, None).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records a protocol deviation; returns its id.
    pub async fn record_deviation(&self, actor: &str, deviation: &Deviation) -> Result<i64> {
        let mut tx = self.write(actor).await?;
        tx.require(DATA_ENTRY, "record a protocol deviation")?;
        let id = insert_deviation(&mut tx, deviation).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Raises a data-clarification query on a patient's field (data manager); returns its id.
    pub async fn raise_query(&self, actor: &str, patient_id: &str, field: &str, question: &str) -> Result<i64> {
        non_empty("query", "field", field)?;
        non_empty("query", "question", question)?;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::DataManager], "raise a query")?;
        let query = DataQuery {
            query_id: 0,
            patient_id: patient_id.into(),
            field: field.into(),
            question: question.into(),
            raised_by: tx.actor().into(),
            answer: None,
            status: QueryStatus::Open,
        };
        let id = insert_query(&mut tx, &query).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Answers an open query (investigator).
    pub async fn answer_query(&self, actor: &str, query_id: i64, answer: &str) -> Result<()> {
        non_empty("query", "answer", answer)?;
        self.move_query(actor, query_id, QueryStatus::Open, QueryStatus::Answered, Some(answer), &[Role::Investigator])
            .await
    }

    /// Closes an answered query (data manager).
    pub async fn close_query(&self, actor: &str, query_id: i64) -> Result<()> {
        self.move_query(actor, query_id, QueryStatus::Answered, QueryStatus::Closed, None, &[Role::DataManager]).await
    }

    async fn move_query(
        &self,
        actor: &str,
        query_id: i64,
        from: QueryStatus,
        to: QueryStatus,
        answer: Option<&str>,
        roles: &[Role],
    ) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(roles, &format!("move a query to {}", to.as_str()))?;
        let row = sqlx::query("SELECT status, answer FROM queries WHERE query_id = $1")
            .bind(query_id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "query", id: query_id.to_string() })?;
        let status: String = row.try_get("status")?;
        if status != from.as_str() {
            return Err(invalid(
                "query",
                "status",
                format!("is {status}; only a {} query can become {}", from.as_str(), to.as_str()),
            ));
        }
        let old_answer: Option<String> = row.try_get("answer")?;
        let new_answer = answer.map(str::to_owned).or(old_answer.clone());
        sqlx::query("UPDATE queries SET status = $1, answer = $2, version = version + 1 WHERE query_id = $3")
            .bind(to.as_str())
            .bind(new_answer.clone())
            .bind(query_id)
            .execute(&mut *tx.tx)
            .await?;
        let id = query_id.to_string();
        tx.audit_change("query", &id, "answer", old_answer, new_answer, None).await?;
        tx.audit_change("query", &id, "status", Some(status), Some(to.as_str().into()), None).await?;
        tx.commit().await
    }

    /// Signs a patient's record (investigator): a state transition, audited.
    pub async fn sign(&self, actor: &str, patient_id: &str, meaning: &str) -> Result<Signature> {
        non_empty("signature", "meaning", meaning)?;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Investigator], "sign a patient record")?;
        let signature = Signature {
            signature_id: 0,
            patient_id: patient_id.into(),
            signed_by: tx.actor().into(),
            meaning: meaning.into(),
            signed_at: tx.at().into(),
        };
        let signature = insert_signature(&mut tx, &signature, "sign").await?;
        tx.commit().await?;
        Ok(signature)
    }

    /// Locks a patient's data (data manager): later changes are refused until unlocked.
    pub async fn lock(&self, actor: &str, patient_id: &str, reason: &str) -> Result<()> {
        self.set_lock(actor, patient_id, true, reason).await
    }

    /// Unlocks a patient's data (data manager), with a mandatory reason.
    pub async fn unlock(&self, actor: &str, patient_id: &str, reason: &str) -> Result<()> {
        self.set_lock(actor, patient_id, false, reason).await
    }

    async fn set_lock(&self, actor: &str, patient_id: &str, locked: bool, reason: &str) -> Result<()> {
        let action = if locked { "lock" } else { "unlock" };
        non_empty("patient", "reason", reason)?;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::DataManager], &format!("{action} a patient"))?;
        let row = sqlx::query("SELECT locked FROM patients WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "patient", id: patient_id.to_owned() })?;
        if (row.try_get::<i64, _>("locked")? != 0) == locked {
            return Err(invalid("patient", "locked", format!("patient {patient_id} is already {action}ed")));
        }
        sqlx::query("UPDATE patients SET locked = $1, version = version + 1 WHERE patient_id = $2")
            .bind(i64::from(locked))
            .bind(patient_id.to_owned())
            .execute(&mut *tx.tx)
            .await?;
        tx.audit(
            action,
            "patient",
            patient_id,
            Some("locked"),
            Some((!locked).to_string()),
            Some(locked.to_string()),
            Some(reason),
        )
        .await?;
        tx.commit().await
    }

    // ---- reading ----

    /// The rows of `select … order`, of every patient or of one (`WHERE patient_id = $1`).
    async fn rows(&self, select: &'static str, order: &'static str, patient_id: Option<&str>) -> Result<Vec<AnyRow>> {
        Ok(match patient_id {
            None => sqlx::query(AssertSqlSafe(format!("{select} {order}"))).fetch_all(&self.pool).await?,
            Some(id) => {
                sqlx::query(AssertSqlSafe(format!("{select} WHERE patient_id = $1 {order}")))
                    .bind(id.to_owned())
                    .fetch_all(&self.pool)
                    .await?
            }
        })
    }

    /// Every site, by id.
    pub async fn sites(&self) -> Result<Vec<Site>> {
        sqlx::query("SELECT site_id, name, control_modality, country FROM sites ORDER BY site_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(site_row)
            .collect()
    }

    /// Every user, by id.
    pub async fn users(&self) -> Result<Vec<User>> {
        sqlx::query("SELECT user_id, name, role, site_id FROM users ORDER BY user_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let user_id: String = r.try_get("user_id")?;
                let role: String = r.try_get("role")?;
                Ok(User {
                    role: Role::parse(&role).ok_or_else(|| corrupt("user", &user_id, format!("role {role:?}")))?,
                    name: r.try_get("name")?,
                    site_id: r.try_get("site_id")?,
                    user_id,
                })
            })
            .collect()
    }

    /// One patient.
    pub async fn patient(&self, patient_id: &str) -> Result<Patient> {
        let row = sqlx::query("SELECT * FROM patients WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound { entity: "patient", id: patient_id.to_owned() })?;
        patient_row(&row)
    }

    /// Every patient, by id.
    pub async fn patients(&self) -> Result<Vec<Patient>> {
        sqlx::query("SELECT * FROM patients ORDER BY patient_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(patient_row)
            .collect()
    }

    /// Every screening, by patient.
    pub async fn screenings(&self) -> Result<Vec<Screening>> {
        self.screenings_of(None).await
    }

    /// The screenings of one patient, in the same order (a keyed read).
    pub async fn patient_screenings(&self, patient_id: &str) -> Result<Vec<Screening>> {
        self.screenings_of(Some(patient_id)).await
    }

    async fn screenings_of(&self, patient_id: Option<&str>) -> Result<Vec<Screening>> {
        self.rows("SELECT * FROM screenings", "ORDER BY patient_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                let patient_id: String = r.try_get("patient_id")?;
                Ok(Screening {
                    screened_on: r.try_get("screened_on")?,
                    ecog: r.try_get::<Option<i64>, _>("ecog")?.map(|e| e as u8),
                    status: r.try_get("status")?,
                    criteria: json_value("screening", &patient_id, &r.try_get::<String, _>("criteria")?)?,
                    protocol_sha256: r.try_get("protocol_sha256")?,
                    patient_id,
                })
            })
            .collect()
    }

    /// The screening status (`eligible`, `ineligible`, `pending`) of every screened patient,
    /// and whether the patient is randomized: what the patient list shows, without reading
    /// the criteria documents or the allocations.
    pub async fn patient_statuses(&self) -> Result<BTreeMap<String, PatientStatus>> {
        #[derive(serde::Deserialize)]
        struct StatusRow {
            patient_id: String,
            status: String,
        }
        #[derive(serde::Deserialize)]
        struct AllocatedRow {
            patient_id: String,
        }
        let mut statuses = BTreeMap::new();
        for row in
            self.json_rows::<StatusRow>(&["patient_id", "status"], "screenings", "patient_id", None, None).await?
        {
            statuses.insert(row.patient_id, PatientStatus { screening: Some(row.status), randomized: false });
        }
        for row in self.json_rows::<AllocatedRow>(&["patient_id"], "allocations", "patient_id", None, None).await? {
            statuses.entry(row.patient_id).or_insert(PatientStatus { screening: None, randomized: false }).randomized =
                true;
        }
        Ok(statuses)
    }

    /// Every lesion, by patient and lesion id.
    pub async fn lesions(&self) -> Result<Vec<Lesion>> {
        self.lesions_of(None).await
    }

    /// The lesions of one patient, in the same order (a keyed read).
    pub async fn patient_lesions(&self, patient_id: &str) -> Result<Vec<Lesion>> {
        self.lesions_of(Some(patient_id)).await
    }

    async fn lesions_of(&self, patient_id: Option<&str>) -> Result<Vec<Lesion>> {
        self.rows("SELECT * FROM lesions", "ORDER BY patient_id, lesion_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                let patient_id: String = r.try_get("patient_id")?;
                Ok(Lesion {
                    lesion_id: r.try_get("lesion_id")?,
                    role: enum_from("lesion", &patient_id, &r.try_get::<String, _>("role")?)?,
                    organ: enum_from("lesion", &patient_id, &r.try_get::<String, _>("organ")?)?,
                    is_bulky_index: r.try_get::<i64, _>("is_bulky_index")? != 0,
                    patient_id,
                })
            })
            .collect()
    }

    /// Every plan, by id.
    pub async fn plans(&self) -> Result<Vec<Plan>> {
        self.plans_of(None).await
    }

    /// The plans of one patient, in the same order (a keyed read).
    pub async fn patient_plans(&self, patient_id: &str) -> Result<Vec<Plan>> {
        self.plans_of(Some(patient_id)).await
    }

    async fn plans_of(&self, patient_id: Option<&str>) -> Result<Vec<Plan>> {
        self.rows("SELECT * FROM plans", "ORDER BY plan_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                Ok(Plan {
                    plan_id: r.try_get("plan_id")?,
                    patient_id: r.try_get("patient_id")?,
                    lesion_id: r.try_get("lesion_id")?,
                    document: r.try_get("document")?,
                    sha256: r.try_get("sha256")?,
                })
            })
            .collect()
    }

    /// Every plan-review bundle, by id.
    pub async fn plan_reviews(&self) -> Result<Vec<PlanReview>> {
        self.rows("SELECT * FROM plan_reviews", "ORDER BY review_id", None).await?.iter().map(plan_review_row).collect()
    }

    /// The latest review bundle of one of a patient's plans (a keyed read), `None` when the plan
    /// came without one.
    pub async fn plan_review(&self, patient_id: &str, plan_sha256: &str) -> Result<Option<PlanReview>> {
        sqlx::query(
            "SELECT * FROM plan_reviews WHERE patient_id = $1 AND plan_sha256 = $2 ORDER BY review_id DESC LIMIT 1",
        )
        .bind(patient_id.to_owned())
        .bind(plan_sha256.to_owned())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(plan_review_row)
        .transpose()
    }

    /// The SHA-256s of the plans of a patient that have a review bundle (a keyed read that leaves
    /// the bundles themselves in the database).
    pub async fn reviewed_plans(&self, patient_id: &str) -> Result<Vec<String>> {
        sqlx::query("SELECT DISTINCT plan_sha256 FROM plan_reviews WHERE patient_id = $1 ORDER BY plan_sha256")
            .bind(patient_id.to_owned())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok(r.try_get("plan_sha256")?))
            .collect()
    }

    /// Every procedure, by id.
    pub async fn procedures(&self) -> Result<Vec<Procedure>> {
        self.procedures_of(None).await
    }

    /// The procedures of one patient, in the same order (a keyed read).
    pub async fn patient_procedures(&self, patient_id: &str) -> Result<Vec<Procedure>> {
        self.procedures_of(Some(patient_id)).await
    }

    async fn procedures_of(&self, patient_id: Option<&str>) -> Result<Vec<Procedure>> {
        self.rows("SELECT * FROM procedures", "ORDER BY procedure_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("procedure_id")?;
                let sid = id.to_string();
                let modality: String = r.try_get("modality")?;
                let qa_on: Option<String> = r.try_get("qa_assessed_on")?;
                Ok(Procedure {
                    procedure_id: id,
                    patient_id: r.try_get("patient_id")?,
                    lesion_id: r.try_get("lesion_id")?,
                    modality: parse_modality(&modality).ok_or_else(|| corrupt("procedure", &sid, "modality"))?,
                    performed_on: r.try_get("performed_on")?,
                    is_reintervention: r.try_get::<i64, _>("is_reintervention")? != 0,
                    seeds_implanted: r.try_get::<Option<i64>, _>("seeds_implanted")?.map(|n| n as u32),
                    details: json_value("procedure", &sid, &r.try_get::<String, _>("details")?)?,
                    notes: r.try_get("notes")?,
                    qa: match qa_on {
                        Some(assessed_on) => Some(crate::model::ProcedureQa {
                            assessed_on,
                            seed_d90_gy: r.try_get("qa_seed_d90_gy")?,
                            seed_prescription_gy: r.try_get("qa_seed_prescription_gy")?,
                            lethal_isotherm_covered: r
                                .try_get::<Option<i64>, _>("qa_lethal_isotherm_covered")?
                                .map(|b| b != 0),
                        }),
                        None => None,
                    },
                })
            })
            .collect()
    }

    /// Every assessment, by patient, time-point date, label and reader.
    pub async fn assessments(&self) -> Result<Vec<Assessment>> {
        self.assessments_of(None).await
    }

    /// The assessments of one patient, in the same order (a keyed read).
    pub async fn patient_assessments(&self, patient_id: &str) -> Result<Vec<Assessment>> {
        self.assessments_of(Some(patient_id)).await
    }

    async fn assessments_of(&self, patient_id: Option<&str>) -> Result<Vec<Assessment>> {
        self.rows("SELECT * FROM assessments", "ORDER BY patient_id, assessed_on, label, reader", patient_id)
            .await?
            .iter()
            .map(|r| {
                let patient_id: String = r.try_get("patient_id")?;
                Ok(Assessment {
                    reader: r.try_get("reader")?,
                    label: r.try_get("label")?,
                    assessed_on: r.try_get("assessed_on")?,
                    observations: json_value("assessment", &patient_id, &r.try_get::<String, _>("observations")?)?,
                    patient_id,
                })
            })
            .collect()
    }

    /// Every adjudication, by patient.
    pub async fn adjudications(&self) -> Result<Vec<Adjudication>> {
        self.adjudications_of(None).await
    }

    /// The adjudications of one patient, in the same order (a keyed read).
    pub async fn patient_adjudications(&self, patient_id: &str) -> Result<Vec<Adjudication>> {
        self.adjudications_of(Some(patient_id)).await
    }

    async fn adjudications_of(&self, patient_id: Option<&str>) -> Result<Vec<Adjudication>> {
        self.rows("SELECT * FROM adjudications", "ORDER BY patient_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                Ok(Adjudication {
                    patient_id: r.try_get("patient_id")?,
                    adjudicator: r.try_get("adjudicator")?,
                    accepted_reader: r.try_get("accepted_reader")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// Every adverse event, by id.
    pub async fn adverse_events(&self) -> Result<Vec<AdverseEventRecord>> {
        self.adverse_events_of(None, None).await
    }

    /// The adverse events of one patient, in the same order (a keyed read).
    pub async fn patient_adverse_events(&self, patient_id: &str) -> Result<Vec<AdverseEventRecord>> {
        self.adverse_events_of(Some(patient_id), None).await
    }

    /// One page of a patient's adverse events: the newest `limit` whose id is below `before`
    /// (from the newest when `None`), in id order, and how many events the patient has in all.
    /// The next page back starts below the first id of this one.
    pub async fn patient_adverse_events_page(
        &self,
        patient_id: &str,
        limit: u32,
        before: Option<i64>,
    ) -> Result<(Vec<AdverseEventRecord>, u64)> {
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM adverse_events WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let page = self.adverse_events_of(Some(patient_id), Some(Window { limit, before })).await?;
        Ok((page, u64::try_from(total).unwrap_or(0)))
    }

    async fn adverse_events_of(
        &self,
        patient_id: Option<&str>,
        window: Option<Window>,
    ) -> Result<Vec<AdverseEventRecord>> {
        // One row holding every event as a JSON array (see `json_rows`): a patient with
        // hundreds of events is one value to decode, not hundreds of rows.
        let rows: Vec<AdverseEventRow> = self
            .json_rows(
                &[
                    "ae_id",
                    "patient_id",
                    "term",
                    "grade",
                    "specification",
                    "attributions",
                    "serious",
                    "onset",
                    "resolution",
                    "meddra_version",
                    "meddra_code",
                    "soc",
                    "ctcae_version",
                ],
                "adverse_events",
                "ae_id",
                patient_id,
                window,
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let sid = r.ae_id.to_string();
                Ok(AdverseEventRecord {
                    ae_id: r.ae_id,
                    form: AdverseEventForm {
                        patient_id: r.patient_id,
                        term: r.term,
                        grade: u8::try_from(r.grade).map_err(|e| corrupt("adverse_event", &sid, e.to_string()))?,
                        specification: r.specification,
                        attributions: serde_json::from_str(&r.attributions)
                            .map_err(|e| corrupt("adverse_event", &sid, e.to_string()))?,
                        serious: serde_json::from_str(&r.serious)
                            .map_err(|e| corrupt("adverse_event", &sid, e.to_string()))?,
                        onset: r.onset,
                        resolution: r.resolution,
                        meddra_version: r.meddra_version,
                    },
                    meddra_code: r.meddra_code,
                    soc: r.soc,
                    ctcae_version: r.ctcae_version,
                })
            })
            .collect()
    }

    /// The rows of `table` (every patient's, or one patient's: `WHERE patient_id = $1`; with a
    /// window, only the newest `limit` by `order` below `before`) in `order`, fetched as one JSON array of objects with `columns` as keys, built by the
    /// database (SQLite `json_group_array`, PostgreSQL `json_agg`), and decoded into `T`.
    ///
    /// Why: every row of a query costs the driver far more than its bytes (the SQLite worker
    /// thread hands rows over one at a time, and the `Any` driver copies each into a generic
    /// row), so long lists read row by row dominated the service's CPU time under load.
    /// Text columns that hold JSON documents stay JSON strings here.
    async fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        columns: &[&str],
        table: &str,
        order: &str,
        patient_id: Option<&str>,
        window: Option<Window>,
    ) -> Result<Vec<T>> {
        let pairs = columns.iter().map(|c| format!("'{c}', {c}")).collect::<Vec<_>>().join(", ");
        let filter = if patient_id.is_some() { " WHERE patient_id = $1" } else { "" };
        // A window reads the newest `limit` rows below `before` (numbers, formatted, not text).
        let source = match window {
            None => format!("{table}{filter}"),
            Some(Window { limit, before }) => {
                let below = before.map(|b| format!(" AND {order} < {b}")).unwrap_or_default();
                let filter = if filter.is_empty() { " WHERE 1 = 1" } else { filter };
                format!("(SELECT * FROM {table}{filter}{below} ORDER BY {order} DESC LIMIT {limit}) AS w")
            }
        };
        let sql = match self.backend {
            Backend::Sqlite => {
                format!("SELECT json_group_array(json_object({pairs}) ORDER BY {order}) AS doc FROM {source}")
            }
            Backend::Postgres => format!(
                "SELECT COALESCE(json_agg(json_build_object({pairs}) ORDER BY {order}), '[]'::json)::text AS doc FROM {source}"
            ),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(id) = patient_id {
            query = query.bind(id.to_owned());
        }
        let doc: String = query.fetch_one(&self.pool).await?.try_get("doc")?;
        serde_json::from_str(&doc).map_err(|e| corrupt("table", table, e.to_string()))
    }

    /// Every deviation, by id.
    pub async fn deviations(&self) -> Result<Vec<Deviation>> {
        self.deviations_of(None).await
    }

    /// The deviations of one patient, in the same order (a keyed read).
    pub async fn patient_deviations(&self, patient_id: &str) -> Result<Vec<Deviation>> {
        self.deviations_of(Some(patient_id)).await
    }

    async fn deviations_of(&self, patient_id: Option<&str>) -> Result<Vec<Deviation>> {
        self.rows("SELECT * FROM deviations", "ORDER BY deviation_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                Ok(Deviation {
                    deviation_id: r.try_get("deviation_id")?,
                    patient_id: r.try_get("patient_id")?,
                    occurred_on: r.try_get("occurred_on")?,
                    category: r.try_get("category")?,
                    description: r.try_get("description")?,
                    major: r.try_get::<i64, _>("major")? != 0,
                })
            })
            .collect()
    }

    /// Every query, by id.
    pub async fn queries(&self) -> Result<Vec<DataQuery>> {
        self.queries_of(None).await
    }

    /// The queries of one patient, in the same order (a keyed read).
    pub async fn patient_queries(&self, patient_id: &str) -> Result<Vec<DataQuery>> {
        self.queries_of(Some(patient_id)).await
    }

    async fn queries_of(&self, patient_id: Option<&str>) -> Result<Vec<DataQuery>> {
        self.rows("SELECT * FROM queries", "ORDER BY query_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                let query_id: i64 = r.try_get("query_id")?;
                let status: String = r.try_get("status")?;
                Ok(DataQuery {
                    status: QueryStatus::parse(&status)
                        .ok_or_else(|| corrupt("query", &query_id.to_string(), format!("status {status:?}")))?,
                    query_id,
                    patient_id: r.try_get("patient_id")?,
                    field: r.try_get("field")?,
                    question: r.try_get("question")?,
                    raised_by: r.try_get("raised_by")?,
                    answer: r.try_get("answer")?,
                })
            })
            .collect()
    }

    /// Every signature, by id.
    pub async fn signatures(&self) -> Result<Vec<Signature>> {
        self.signatures_of(None).await
    }

    /// The signatures of one patient, in the same order (a keyed read).
    pub async fn patient_signatures(&self, patient_id: &str) -> Result<Vec<Signature>> {
        self.signatures_of(Some(patient_id)).await
    }

    async fn signatures_of(&self, patient_id: Option<&str>) -> Result<Vec<Signature>> {
        self.rows("SELECT * FROM signatures", "ORDER BY signature_id", patient_id)
            .await?
            .iter()
            .map(|r| {
                Ok(Signature {
                    signature_id: r.try_get("signature_id")?,
                    patient_id: r.try_get("patient_id")?,
                    signed_by: r.try_get("signed_by")?,
                    meaning: r.try_get("meaning")?,
                    signed_at: r.try_get("signed_at")?,
                })
            })
            .collect()
    }
}

// ---- inserts shared by the API and the import (each validates and audits) ----

pub(crate) async fn insert_site(tx: &mut WriteTx<'_>, site: &Site) -> Result<()> {
    SiteId::parse(site.site_id.as_str()).map_err(|e| invalid("site", "site_id", e.to_string()))?;
    non_empty("site", "name", &site.name)?;
    if tx.exists("SELECT 1 AS one FROM sites WHERE site_id = $1", &site.site_id).await? {
        return Err(StoreError::Duplicate { entity: "site", id: site.site_id.clone() });
    }
    if let Some(country) = &site.country
        && !(country.len() == 3 && country.bytes().all(|b| b.is_ascii_uppercase()))
    {
        return Err(invalid("site", "country", format!("{country:?}: an ISO 3166-1 alpha-3 code such as CHN")));
    }
    sqlx::query("INSERT INTO sites (site_id, name, control_modality, country, version) VALUES ($1, $2, $3, $4, 1)")
        .bind(site.site_id.clone())
        .bind(site.name.clone())
        .bind(site.control_modality.map(|m| modality_str(m).to_owned()))
        .bind(site.country.clone())
        .execute(&mut *tx.tx)
        .await?;
    tx.audit("create", "site", &site.site_id, None, None, Some(to_json(site)), None).await
}

pub(crate) async fn insert_user(tx: &mut WriteTx<'_>, user: &User) -> Result<()> {
    non_empty("user", "user_id", &user.user_id)?;
    if user.user_id == SYSTEM_ACTOR || !user.user_id.chars().all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c)) {
        return Err(invalid(
            "user",
            "user_id",
            format!("{:?}: letters, digits and . _ - @ only, not `system`", user.user_id),
        ));
    }
    non_empty("user", "name", &user.name)?;
    if let Some(site) = &user.site_id
        && !tx.exists("SELECT 1 AS one FROM sites WHERE site_id = $1", site).await?
    {
        return Err(invalid("user", "site_id", format!("site {site} does not exist")));
    }
    if tx.exists("SELECT 1 AS one FROM users WHERE user_id = $1", &user.user_id).await? {
        return Err(StoreError::Duplicate { entity: "user", id: user.user_id.clone() });
    }
    sqlx::query("INSERT INTO users (user_id, name, role, site_id, version) VALUES ($1, $2, $3, $4, 1)")
        .bind(user.user_id.clone())
        .bind(user.name.clone())
        .bind(user.role.as_str())
        .bind(user.site_id.clone())
        .execute(&mut *tx.tx)
        .await?;
    tx.audit("create", "user", &user.user_id, None, None, Some(to_json(user)), None).await
}

pub(crate) async fn insert_patient(tx: &mut WriteTx<'_>, patient: &Patient) -> Result<()> {
    patient_id("patient", &patient.patient_id)?;
    date("patient", "enrolled_on", &patient.enrolled_on)?;
    let f = &patient.follow_up;
    for (field, value) in [
        ("therapy_completed_on", &f.therapy_completed_on),
        ("death_on", &f.death_on),
        ("last_contact_on", &f.last_contact_on),
        ("withdrawn_on", &f.withdrawn_on),
    ] {
        opt_date("patient", field, value)?;
    }
    if !tx.exists("SELECT 1 AS one FROM sites WHERE site_id = $1", &patient.site_id).await? {
        return Err(invalid("patient", "site_id", format!("site {} does not exist", patient.site_id)));
    }
    if tx.exists("SELECT 1 AS one FROM patients WHERE patient_id = $1", &patient.patient_id).await? {
        return Err(StoreError::Duplicate { entity: "patient", id: patient.patient_id.clone() });
    }
    sqlx::query(
        "INSERT INTO patients (patient_id, site_id, enrolled_on, therapy_completed_on, death_on, last_contact_on, withdrawn_on, locked, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
    )
    .bind(patient.patient_id.clone())
    .bind(patient.site_id.clone())
    .bind(patient.enrolled_on.clone())
    .bind(f.therapy_completed_on.clone())
    .bind(f.death_on.clone())
    .bind(f.last_contact_on.clone())
    .bind(f.withdrawn_on.clone())
    .bind(patient.version.max(1))
    .execute(&mut *tx.tx)
    .await?;
    let mut created = patient.clone();
    created.locked = false;
    created.version = patient.version.max(1);
    tx.audit("create", "patient", &patient.patient_id, None, None, Some(to_json(&created)), None).await
}

pub(crate) async fn insert_screening(tx: &mut WriteTx<'_>, s: &Screening) -> Result<()> {
    date("screening", "screened_on", &s.screened_on)?;
    if let Some(e) = s.ecog
        && e > 5
    {
        return Err(invalid("screening", "ecog", format!("{e} is not an ECOG score (0–5)")));
    }
    if !["eligible", "ineligible", "pending"].contains(&s.status.as_str()) {
        return Err(invalid("screening", "status", format!("{:?}: eligible, ineligible or pending", s.status)));
    }
    let old = sqlx::query("SELECT status FROM screenings WHERE patient_id = $1")
        .bind(s.patient_id.clone())
        .fetch_optional(&mut *tx.tx)
        .await?;
    if old.is_some() {
        if tx.exists("SELECT 1 AS one FROM allocations WHERE patient_id = $1", &s.patient_id).await? {
            return Err(invalid(
                "screening",
                "patient_id",
                format!("patient {} is randomized; screening is closed", s.patient_id),
            ));
        }
        sqlx::query("DELETE FROM screenings WHERE patient_id = $1")
            .bind(s.patient_id.clone())
            .execute(&mut *tx.tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO screenings (patient_id, screened_on, ecog, status, criteria, protocol_sha256, version) VALUES ($1, $2, $3, $4, $5, $6, 1)",
    )
    .bind(s.patient_id.clone())
    .bind(s.screened_on.clone())
    .bind(s.ecog.map(i64::from))
    .bind(s.status.clone())
    .bind(to_json(&s.criteria))
    .bind(s.protocol_sha256.clone())
    .execute(&mut *tx.tx)
    .await?;
    let action = if old.is_some() { "rescreen" } else { "create" };
    tx.audit(action, "screening", &s.patient_id, None, None, Some(to_json(s)), None).await
}

pub(crate) async fn insert_lesion(tx: &mut WriteTx<'_>, lesion: &Lesion) -> Result<()> {
    LesionId::parse(lesion.lesion_id.as_str()).map_err(|e| invalid("lesion", "lesion_id", e.to_string()))?;
    if tx.lesion_exists(&lesion.patient_id, &lesion.lesion_id).await? {
        return Err(StoreError::Duplicate {
            entity: "lesion",
            id: format!("{}/{}", lesion.patient_id, lesion.lesion_id),
        });
    }
    sqlx::query("INSERT INTO lesions (patient_id, lesion_id, role, organ, is_bulky_index, version) VALUES ($1, $2, $3, $4, $5, 1)")
        .bind(lesion.patient_id.clone())
        .bind(lesion.lesion_id.clone())
        .bind(enum_str(&lesion.role))
        .bind(enum_str(&lesion.organ))
        .bind(i64::from(lesion.is_bulky_index))
        .execute(&mut *tx.tx)
        .await?;
    let id = format!("{}/{}", lesion.patient_id, lesion.lesion_id);
    tx.audit("create", "lesion", &id, None, None, Some(to_json(lesion)), None).await
}

async fn require_lesion(tx: &mut WriteTx<'_>, entity: &'static str, patient_id: &str, lesion_id: &str) -> Result<()> {
    if !tx.lesion_exists(patient_id, lesion_id).await? {
        return Err(invalid(entity, "lesion_id", format!("patient {patient_id} has no lesion {lesion_id}")));
    }
    Ok(())
}

fn plan_review_row(r: &AnyRow) -> Result<PlanReview> {
    Ok(PlanReview {
        review_id: r.try_get("review_id")?,
        patient_id: r.try_get("patient_id")?,
        plan_sha256: r.try_get("plan_sha256")?,
        document: r.try_get("document")?,
        sha256: r.try_get("sha256")?,
    })
}

fn check_review_json(review: &PlanReview) -> Result<()> {
    serde_json::from_str::<serde_json::Value>(&review.document)
        .map(|_| ())
        .map_err(|e| invalid("plan_review", "document", format!("is not JSON: {e}")))
}

/// Stores a review bundle (the caller has checked that it belongs to the plan it names).
pub(crate) async fn insert_plan_review(tx: &mut WriteTx<'_>, review: &PlanReview) -> Result<PlanReview> {
    tx.writable_patient(&review.patient_id, "record a plan review").await?;
    let sha256 = crate::db::hex(&Sha256::digest(review.document.as_bytes()));
    if !review.sha256.is_empty() && review.sha256 != sha256 {
        return Err(invalid(
            "plan_review",
            "sha256",
            format!("{} does not match the document ({sha256})", review.sha256),
        ));
    }
    if !is_sha256(&review.plan_sha256) {
        return Err(invalid("plan_review", "plan_sha256", format!("{:?} is not a SHA-256", review.plan_sha256)));
    }
    let id = tx.next_id("plan_reviews", "review_id").await?;
    sqlx::query(
        "INSERT INTO plan_reviews (review_id, patient_id, plan_sha256, document, sha256) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(review.patient_id.clone())
    .bind(review.plan_sha256.clone())
    .bind(review.document.clone())
    .bind(sha256.clone())
    .execute(&mut *tx.tx)
    .await?;
    let stored = PlanReview { review_id: id, sha256, ..review.clone() };
    let summary = serde_json::json!({
        "patient_id": stored.patient_id, "plan_sha256": stored.plan_sha256, "sha256": stored.sha256,
    });
    tx.audit("create", "plan_review", &id.to_string(), None, None, Some(summary.to_string()), None).await?;
    Ok(stored)
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) async fn insert_plan(tx: &mut WriteTx<'_>, plan: &Plan) -> Result<Plan> {
    tx.writable_patient(&plan.patient_id, "record a plan").await?;
    require_lesion(tx, "plan", &plan.patient_id, &plan.lesion_id).await?;
    let sha256 = crate::db::hex(&Sha256::digest(plan.document.as_bytes()));
    if !plan.sha256.is_empty() && plan.sha256 != sha256 {
        return Err(invalid("plan", "sha256", format!("{} does not match the document ({sha256})", plan.sha256)));
    }
    let id = tx.next_id("plans", "plan_id").await?;
    sqlx::query("INSERT INTO plans (plan_id, patient_id, lesion_id, document, sha256) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(plan.patient_id.clone())
        .bind(plan.lesion_id.clone())
        .bind(plan.document.clone())
        .bind(sha256.clone())
        .execute(&mut *tx.tx)
        .await?;
    let stored = Plan { plan_id: id, sha256, ..plan.clone() };
    let summary =
        serde_json::json!({"patient_id": stored.patient_id, "lesion_id": stored.lesion_id, "sha256": stored.sha256});
    tx.audit("create", "plan", &id.to_string(), None, None, Some(summary.to_string()), None).await?;
    Ok(stored)
}

pub(crate) async fn insert_procedure(tx: &mut WriteTx<'_>, p: &Procedure) -> Result<i64> {
    let performed = date("procedure", "performed_on", &p.performed_on)?;
    if !p.details.is_object() {
        return Err(invalid(
            "procedure",
            "details",
            "must be a JSON object (seed positions, probes, freeze protocol…)",
        ));
    }
    if p.seeds_implanted.is_some() && p.modality != Modality::Seeds {
        return Err(invalid("procedure", "seeds_implanted", "is only for a seed implantation"));
    }
    if let Some(qa) = &p.qa {
        let on = date("procedure", "qa.assessed_on", &qa.assessed_on)?;
        if on < performed {
            return Err(invalid("procedure", "qa.assessed_on", format!("{on} is before the procedure ({performed})")));
        }
        for (field, v) in [("qa.seed_d90_gy", qa.seed_d90_gy), ("qa.seed_prescription_gy", qa.seed_prescription_gy)] {
            if let Some(v) = v
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(invalid("procedure", field, format!("{v} is not a dose in Gy")));
            }
        }
    }
    tx.writable_patient(&p.patient_id, "record a procedure").await?;
    require_lesion(tx, "procedure", &p.patient_id, &p.lesion_id).await?;
    let id = tx.next_id("procedures", "procedure_id").await?;
    let qa = p.qa.as_ref();
    sqlx::query(
        "INSERT INTO procedures (procedure_id, patient_id, lesion_id, modality, performed_on, is_reintervention, seeds_implanted, details, notes, \
         qa_assessed_on, qa_seed_d90_gy, qa_seed_prescription_gy, qa_lethal_isotherm_covered, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1)",
    )
    // sqlx 0.9's Any driver sends a NULL DOUBLE as a float4 parameter: a cached statement
    // prepared with a NULL dose would then refuse a real one on PostgreSQL; prepare each time.
    .persistent(false)
    .bind(id)
    .bind(p.patient_id.clone())
    .bind(p.lesion_id.clone())
    .bind(modality_str(p.modality))
    .bind(performed.to_string())
    .bind(i64::from(p.is_reintervention))
    .bind(p.seeds_implanted.map(i64::from))
    .bind(to_json(&p.details))
    .bind(p.notes.clone())
    .bind(qa.map(|q| q.assessed_on.clone()))
    .bind(qa.and_then(|q| q.seed_d90_gy))
    .bind(qa.and_then(|q| q.seed_prescription_gy))
    .bind(qa.and_then(|q| q.lethal_isotherm_covered).map(i64::from))
    .execute(&mut *tx.tx)
    .await?;
    let stored = Procedure { procedure_id: id, performed_on: performed.to_string(), ..p.clone() };
    tx.audit("create", "procedure", &id.to_string(), None, None, Some(to_json(&stored)), None).await?;
    Ok(id)
}

pub(crate) async fn insert_assessment(tx: &mut WriteTx<'_>, a: &Assessment) -> Result<()> {
    let on = date("assessment", "assessed_on", &a.assessed_on)?;
    non_empty("assessment", "label", &a.label)?;
    tx.writable_patient(&a.patient_id, "record an assessment").await?;
    crate::endpoints::check_read(tx, a).await?;
    let clash = sqlx::query("SELECT reader, assessed_on FROM assessments WHERE patient_id = $1 AND label = $2")
        .bind(a.patient_id.clone())
        .bind(a.label.clone())
        .fetch_all(&mut *tx.tx)
        .await?;
    for row in clash {
        let reader: String = row.try_get("reader")?;
        let other: String = row.try_get("assessed_on")?;
        if reader == a.reader {
            return Err(StoreError::Duplicate {
                entity: "assessment",
                id: format!("{}/{}/{}", a.patient_id, a.reader, a.label),
            });
        }
        if other != on.to_string() {
            return Err(invalid(
                "assessment",
                "assessed_on",
                format!("time point {} is dated {other} by reader {reader}, not {on}", a.label),
            ));
        }
    }
    sqlx::query(
        "INSERT INTO assessments (patient_id, reader, label, assessed_on, observations, version) VALUES ($1, $2, $3, $4, $5, 1)",
    )
    .bind(a.patient_id.clone())
    .bind(a.reader.clone())
    .bind(a.label.clone())
    .bind(on.to_string())
    .bind(to_json(&a.observations))
    .execute(&mut *tx.tx)
    .await?;
    let id = format!("{}/{}/{}", a.patient_id, a.reader, a.label);
    tx.audit("create", "assessment", &id, None, None, Some(to_json(a)), None).await
}

pub(crate) async fn insert_adjudication(tx: &mut WriteTx<'_>, a: &Adjudication) -> Result<()> {
    non_empty("adjudication", "reason", &a.reason)?;
    tx.writable_patient(&a.patient_id, "record an adjudication").await?;
    let readers: Vec<String> = sqlx::query("SELECT DISTINCT reader FROM assessments WHERE patient_id = $1")
        .bind(a.patient_id.clone())
        .fetch_all(&mut *tx.tx)
        .await?
        .iter()
        .map(|r| r.try_get("reader"))
        .collect::<Result<_, _>>()?;
    if !readers.contains(&a.accepted_reader) {
        return Err(invalid(
            "adjudication",
            "accepted_reader",
            format!("{} has not read patient {} (readers: {})", a.accepted_reader, a.patient_id, readers.join(", ")),
        ));
    }
    if readers.contains(&a.adjudicator) {
        return Err(invalid("adjudication", "adjudicator", "an adjudicator cannot be one of the patient's readers"));
    }
    if tx.exists("SELECT 1 AS one FROM adjudications WHERE patient_id = $1", &a.patient_id).await? {
        return Err(StoreError::Duplicate { entity: "adjudication", id: a.patient_id.clone() });
    }
    sqlx::query("INSERT INTO adjudications (patient_id, adjudicator, accepted_reader, reason, version) VALUES ($1, $2, $3, $4, 1)")
        .bind(a.patient_id.clone())
        .bind(a.adjudicator.clone())
        .bind(a.accepted_reader.clone())
        .bind(a.reason.clone())
        .execute(&mut *tx.tx)
        .await?;
    tx.audit("create", "adjudication", &a.patient_id, None, None, Some(to_json(a)), None).await
}

pub(crate) async fn insert_adverse_event(
    tx: &mut WriteTx<'_>,
    form: &AdverseEventForm,
    id: Option<i64>,
) -> Result<i64> {
    let onset = date("adverse_event", "onset", &form.onset)?;
    let resolution = opt_date("adverse_event", "resolution", &form.resolution)?;
    let input = AdverseEventInput {
        term: form.term.clone(),
        grade: form.grade,
        specification: form.specification.clone(),
        attributions: form.attributions.clone(),
        serious: form.serious.clone(),
        onset,
        resolution,
        meddra_version: form.meddra_version.clone(),
    };
    let event = validate_adverse_event(&input, catalogue())?;
    let id = match id {
        Some(id) => {
            tx.claim_id("adverse_events", id);
            id
        }
        None => tx.next_id("adverse_events", "ae_id").await?,
    };
    let record = AdverseEventRecord {
        ae_id: id,
        form: AdverseEventForm {
            term: event.term.clone(),
            onset: onset.to_string(),
            resolution: resolution.map(|d| d.to_string()),
            ..form.clone()
        },
        meddra_code: event.meddra_code.clone(),
        soc: event.soc.clone(),
        ctcae_version: event.ctcae_version.to_owned(),
    };
    // The patient's check and the insert in one statement (one round trip, see `Store`): no row
    // is inserted unless the patient exists and is not locked.
    let inserted = sqlx::query(
        "INSERT INTO adverse_events (ae_id, patient_id, meddra_code, term, soc, grade, specification, attributions, serious, onset, resolution, \
         ctcae_version, meddra_version, version) \
         SELECT $1, patient_id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1 FROM patients WHERE patient_id = $2 AND locked = 0",
    )
    .bind(id)
    .bind(record.form.patient_id.clone())
    .bind(record.meddra_code.clone())
    .bind(record.form.term.clone())
    .bind(record.soc.clone())
    .bind(i64::from(record.form.grade))
    .bind(record.form.specification.clone())
    .bind(to_json(&record.form.attributions))
    .bind(to_json(&record.form.serious))
    .bind(record.form.onset.clone())
    .bind(record.form.resolution.clone())
    .bind(record.ctcae_version.clone())
    .bind(record.form.meddra_version.clone())
    .execute(&mut *tx.tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        // Says which: the patient is missing or locked.
        tx.writable_patient(&form.patient_id, "record an adverse event").await?;
        return Err(StoreError::NotFound { entity: "patient", id: form.patient_id.clone() });
    }
    tx.audit("create", "adverse_event", &id.to_string(), None, None, Some(to_json(&record)), None).await?;
    Ok(id)
}

pub(crate) async fn insert_deviation(tx: &mut WriteTx<'_>, d: &Deviation) -> Result<i64> {
    let on = date("deviation", "occurred_on", &d.occurred_on)?;
    non_empty("deviation", "category", &d.category)?;
    non_empty("deviation", "description", &d.description)?;
    tx.writable_patient(&d.patient_id, "record a deviation").await?;
    let id = tx.next_id("deviations", "deviation_id").await?;
    sqlx::query(
        "INSERT INTO deviations (deviation_id, patient_id, occurred_on, category, description, major, version) VALUES ($1, $2, $3, $4, $5, $6, 1)",
    )
    .bind(id)
    .bind(d.patient_id.clone())
    .bind(on.to_string())
    .bind(d.category.clone())
    .bind(d.description.clone())
    .bind(i64::from(d.major))
    .execute(&mut *tx.tx)
    .await?;
    let stored = Deviation { deviation_id: id, occurred_on: on.to_string(), ..d.clone() };
    tx.audit("create", "deviation", &id.to_string(), None, None, Some(to_json(&stored)), None).await?;
    Ok(id)
}

pub(crate) async fn insert_query(tx: &mut WriteTx<'_>, q: &DataQuery) -> Result<i64> {
    if !tx.exists("SELECT 1 AS one FROM patients WHERE patient_id = $1", &q.patient_id).await? {
        return Err(StoreError::NotFound { entity: "patient", id: q.patient_id.clone() });
    }
    let id = tx.next_id("queries", "query_id").await?;
    sqlx::query(
        "INSERT INTO queries (query_id, patient_id, field, question, raised_by, answer, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
    )
    .bind(id)
    .bind(q.patient_id.clone())
    .bind(q.field.clone())
    .bind(q.question.clone())
    .bind(q.raised_by.clone())
    .bind(q.answer.clone())
    .bind(q.status.as_str())
    .execute(&mut *tx.tx)
    .await?;
    let stored = DataQuery { query_id: id, ..q.clone() };
    tx.audit("create", "query", &id.to_string(), None, None, Some(to_json(&stored)), None).await?;
    Ok(id)
}

pub(crate) async fn insert_signature(tx: &mut WriteTx<'_>, s: &Signature, action: &str) -> Result<Signature> {
    tx.writable_patient(&s.patient_id, "sign").await?;
    if !tx.exists("SELECT 1 AS one FROM users WHERE user_id = $1", &s.signed_by).await? {
        return Err(invalid("signature", "signed_by", format!("user {} does not exist", s.signed_by)));
    }
    let id = tx.next_id("signatures", "signature_id").await?;
    sqlx::query(
        "INSERT INTO signatures (signature_id, patient_id, signed_by, meaning, signed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(s.patient_id.clone())
    .bind(s.signed_by.clone())
    .bind(s.meaning.clone())
    .bind(s.signed_at.clone())
    .execute(&mut *tx.tx)
    .await?;
    let stored = Signature { signature_id: id, ..s.clone() };
    tx.audit(action, "patient", &s.patient_id, Some("signature"), None, Some(to_json(&stored)), None).await?;
    Ok(stored)
}

/// A page of rows by a numeric key: the newest `limit` below `before` (from the newest: `None`).
#[derive(Clone, Copy, Debug)]
struct Window {
    limit: u32,
    before: Option<i64>,
}
