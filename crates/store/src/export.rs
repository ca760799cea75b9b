//! A whole trial as one JSON document (`cryoseed-trial`, version 1): export and import.
//!
//! The export holds every record and allocation, but never the concealed list (its slots, seed
//! and unused arms stay in the database). Import replays the document into a freshly initialised
//! database through the same validation as data entry, in **one** transaction: a refused record
//! (named by its JSON path) leaves the database untouched.

use crate::db::Store;
use crate::error::{Result, StoreError, invalid};
use crate::model::{
    Adjudication, AdverseEventRecord, Assessment, DataQuery, Deviation, Lesion, Patient, Plan, PlanReview, Procedure,
    Role, Screening, Signature, Site, StoredAllocation, Unblinding, User,
};
use crate::randomization::{insert_allocation, insert_unblinding};
use crate::records::{
    insert_adjudication, insert_adverse_event, insert_assessment, insert_deviation, insert_lesion, insert_patient,
    insert_plan, insert_plan_review, insert_procedure, insert_query, insert_screening, insert_signature, insert_site,
    insert_user, to_json,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// The `format` of the document.
pub const FORMAT: &str = "cryoseed-trial";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;

/// A whole trial.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialDocument {
    /// Always `cryoseed-trial`.
    pub format: String,
    /// Always 1.
    pub version: u32,
    /// Sites.
    pub sites: Vec<Site>,
    /// Users.
    pub users: Vec<User>,
    /// Patients (with follow-up and lock state).
    pub patients: Vec<Patient>,
    /// Screenings with their eligibility results.
    pub screenings: Vec<Screening>,
    /// Lesions.
    pub lesions: Vec<Lesion>,
    /// Allocations (the list itself is not exported).
    pub allocations: Vec<StoredAllocation>,
    /// Emergency unblindings.
    pub unblindings: Vec<Unblinding>,
    /// Plans.
    pub plans: Vec<Plan>,
    /// Plan-review bundles (absent from documents written before schema 3).
    #[serde(default)]
    pub plan_reviews: Vec<PlanReview>,
    /// Procedures.
    pub procedures: Vec<Procedure>,
    /// Imaging assessments.
    pub assessments: Vec<Assessment>,
    /// Adjudications.
    pub adjudications: Vec<Adjudication>,
    /// Adverse events.
    pub adverse_events: Vec<AdverseEventRecord>,
    /// Protocol deviations.
    pub deviations: Vec<Deviation>,
    /// Data-clarification queries.
    pub queries: Vec<DataQuery>,
    /// Signatures.
    pub signatures: Vec<Signature>,
}

impl TrialDocument {
    /// Parses a document; a wrong type or unknown key is named by its JSON path.
    pub fn parse(json: &str) -> Result<TrialDocument> {
        let de = &mut serde_json::Deserializer::from_str(json);
        let doc: TrialDocument = serde_path_to_error::deserialize(de)
            .map_err(|e| invalid("trial", e.path().to_string(), e.inner().to_string()))?;
        if doc.format != FORMAT || doc.version != VERSION {
            return Err(invalid(
                "trial",
                "format",
                format!("expected {FORMAT:?} version {VERSION}, got {:?} version {}", doc.format, doc.version),
            ));
        }
        Ok(doc)
    }

    /// Canonical JSON (pretty, fields in declaration order, records in id order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("trial documents serialize") + "\n"
    }
}

impl Store {
    /// Every record of the trial as one document, read without an audit entry (the read side of
    /// [`Store::export_trial`], for reports and analysis exports that must not change the data
    /// they describe). Records come in id order, so the same data give the same document.
    pub async fn snapshot(&self) -> Result<TrialDocument> {
        Ok(TrialDocument {
            format: FORMAT.into(),
            version: VERSION,
            sites: self.sites().await?,
            users: self.users().await?,
            patients: self.patients().await?,
            screenings: self.screenings().await?,
            lesions: self.lesions().await?,
            allocations: self.allocations().await?,
            unblindings: self.unblindings().await?,
            plans: self.plans().await?,
            plan_reviews: self.plan_reviews().await?,
            procedures: self.procedures().await?,
            assessments: self.assessments().await?,
            adjudications: self.adjudications().await?,
            adverse_events: self.adverse_events().await?,
            deviations: self.deviations().await?,
            queries: self.queries().await?,
            signatures: self.signatures().await?,
        })
    }

    /// Exports the trial (statistician, data manager or admin); the export is audited with the
    /// document's SHA-256. Writers wait while the export reads, so it is one consistent state.
    pub async fn export_trial(&self, actor: &str) -> Result<TrialDocument> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Statistician, Role::DataManager, Role::Admin], "export the trial")?;
        let doc = self.snapshot().await?;
        let sha = crate::db::hex(&Sha256::digest(doc.to_json().as_bytes()));
        tx.audit("export", "trial", FORMAT, None, None, Some(sha), None).await?;
        tx.commit().await?;
        Ok(doc)
    }

    /// Imports a trial document into a database that has no sites and no patients yet (admin).
    /// Users already present (the importing admin) must have the same role and are kept as they are.
    pub async fn import_trial(&self, actor: &str, doc: &TrialDocument) -> Result<()> {
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Admin], "import a trial")?;
        let existing_sites = sqlx::query("SELECT site_id FROM sites").fetch_optional(&mut *tx.tx).await?;
        if existing_sites.is_some() {
            return Err(invalid("trial", "sites", "the database already holds a trial; import into a new database"));
        }
        let present = self.users().await?;
        for site in &doc.sites {
            insert_site(&mut tx, site).await?;
        }
        for (i, user) in doc.users.iter().enumerate() {
            match present.iter().find(|u| u.user_id == user.user_id) {
                Some(p) if p.role == user.role => {}
                Some(p) => {
                    return Err(invalid(
                        "trial",
                        format!("users[{i}].role"),
                        format!("{} is {} in this database, not {}", p.user_id, p.role.as_str(), user.role.as_str()),
                    ));
                }
                None => insert_user(&mut tx, user).await?,
            }
        }
        for patient in &doc.patients {
            insert_patient(&mut tx, &Patient { locked: false, ..patient.clone() }).await?;
        }
        for s in &doc.screenings {
            insert_screening(&mut tx, s).await?;
        }
        for l in &doc.lesions {
            insert_lesion(&mut tx, l).await?;
        }
        for a in &doc.allocations {
            insert_allocation(&mut tx, a, None, "import").await?;
        }
        for u in &doc.unblindings {
            insert_unblinding(&mut tx, u).await?;
        }
        for p in &doc.plans {
            insert_plan(&mut tx, p).await?;
        }
        for r in &doc.plan_reviews {
            insert_plan_review(&mut tx, r).await?;
        }
        for p in &doc.procedures {
            insert_procedure(&mut tx, p).await?;
        }
        for a in &doc.assessments {
            insert_assessment(&mut tx, a).await?;
        }
        for a in &doc.adjudications {
            insert_adjudication(&mut tx, a).await?;
        }
        for ae in &doc.adverse_events {
            insert_adverse_event(&mut tx, &ae.form, Some(ae.ae_id)).await?;
        }
        for d in &doc.deviations {
            insert_deviation(&mut tx, d).await?;
        }
        for q in &doc.queries {
            insert_query(&mut tx, q).await?;
        }
        for s in &doc.signatures {
            insert_signature(&mut tx, s, "import").await?;
        }
        for p in doc.patients.iter().filter(|p| p.locked) {
            sqlx::query("UPDATE patients SET locked = 1 WHERE patient_id = $1")
                .bind(p.patient_id.clone())
                .execute(&mut *tx.tx)
                .await?;
            tx.audit(
                "lock",
                "patient",
                &p.patient_id,
                Some("locked"),
                Some("false".into()),
                Some("true".into()),
                Some("imported locked"),
            )
            .await?;
        }
        let sha = crate::db::hex(&Sha256::digest(doc.to_json().as_bytes()));
        tx.audit("import", "trial", FORMAT, None, None, Some(to_json(&sha)), None).await?;
        tx.commit().await.map_err(|e| match e {
            StoreError::Db(e) => StoreError::Db(e),
            other => other,
        })
    }
}
