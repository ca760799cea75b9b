//! A small synthetic trial for `cryoseed serve --demo`, written through the store's API (so
//! every record is validated and audited): two sites, one user of every role (two
//! investigators, two readers), a concealed list, a seeded cohort screened and the eligible
//! patients randomized, lesions, a plan and procedures, two readers' reads (one patient
//! discordant, waiting in the adjudication queue) and an adverse event.

use crate::auth::hash_password;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Modality, SiteId};
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::model::{AdverseEventForm, Assessment, FollowUp, Plan, Procedure, Role, Site, User};
use cryoseed_store::{Store, StoreError};
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty};
use serde_json::json;
use std::fmt;

/// A demo user and the password they were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    /// Login id.
    pub user_id: String,
    /// Role.
    pub role: Role,
    /// Site, if site-bound.
    pub site_id: Option<String>,
    /// Password (printed at start-up; the database has only its Argon2id hash).
    pub password: String,
}

/// What the demo wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Demo {
    /// The users, in role order.
    pub users: Vec<DemoUser>,
    /// Patients screened.
    pub screened: usize,
    /// Patients randomized.
    pub randomized: Vec<String>,
}

/// Why the demo could not be written.
#[derive(Debug)]
pub enum DemoError {
    /// The store refused a record (the demo's own data are wrong) or failed.
    Store(StoreError),
    /// Password hashing or the random number generator failed.
    Secret(String),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Store(e) => write!(f, "demo data: {e}"),
            DemoError::Secret(e) => write!(f, "demo passwords: {e}"),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<StoreError> for DemoError {
    fn from(e: StoreError) -> Self {
        DemoError::Store(e)
    }
}

/// A random 16-character password (letters and digits without look-alikes).
pub fn random_password() -> Result<String, DemoError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| DemoError::Secret(e.to_string()))?;
    // 256 % 56 != 0: reject-free mapping has a small bias (< 1 bit over 16 characters), fine
    // for demo passwords.
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

const USERS: &[(&str, &str, Role, Option<&str>)] = &[
    ("admin", "Demo administrator", Role::Admin, None),
    ("inv1", "Dr Li Wei (site 1)", Role::Investigator, Some("SITE-01")),
    ("inv2", "Dr Zhang Min (site 2)", Role::Investigator, Some("SITE-02")),
    ("stat1", "Trial statistician", Role::Statistician, None),
    ("dm1", "Data manager", Role::DataManager, None),
    ("reader1", "Blinded reader 1", Role::Reader, None),
    ("reader2", "Blinded reader 2", Role::Reader, None),
    ("adj1", "Adjudicator", Role::Adjudicator, None),
];

/// Writes the demo trial into an initialised, empty database. `password` gives each user's
/// password (random at start-up; fixed in tests).
pub async fn populate(
    store: &Store,
    protocol: &Protocol,
    seed: u64,
    mut password: impl FnMut(&str) -> Result<String, DemoError>,
) -> Result<Demo, DemoError> {
    store.bootstrap_admin("admin", USERS[0].1).await?;
    for (id, name, modality) in
        [("SITE-01", "Centre 1 (Beijing)", Modality::Cryo), ("SITE-02", "Centre 2 (Shanghai)", Modality::Seeds)]
    {
        store
            .add_site(
                "admin",
                &Site {
                    site_id: id.into(),
                    name: name.into(),
                    control_modality: Some(modality),
                    country: Some("CHN".into()),
                },
            )
            .await?;
    }
    let mut users = Vec::new();
    for (id, name, role, site) in USERS {
        if *id != "admin" {
            let user =
                User { user_id: (*id).into(), name: (*name).into(), role: *role, site_id: site.map(str::to_owned) };
            store.add_user("admin", &user).await?;
        }
        let pw = password(id)?;
        let phc = hash_password(&pw).map_err(|e| DemoError::Secret(e.message))?;
        store.set_password_hash("admin", id, &phc).await?;
        users.push(DemoUser { user_id: (*id).into(), role: *role, site_id: site.map(str::to_owned), password: pw });
    }
    let sites: Vec<SiteId> = ["SITE-01", "SITE-02"].iter().map(|s| SiteId::parse(*s).expect("valid site id")).collect();
    store.generate_list("stat1", protocol, &sites, 24, seed).await?;

    let records = cohort(&CohortConfig { patients: 10, sites: 2, mix: CohortConfig::default_mix() }, seed);
    let investigator = |site: &str| if site == "SITE-01" { "inv1" } else { "inv2" };
    let mut randomized = Vec::new();
    for record in &records {
        let inv = investigator(record.site_id.as_str());
        let screening = store.record_screening(inv, record, "2026-01-05", protocol).await?;
        if screening.status == "eligible" {
            let allocation = store.randomize(inv, record.patient_id.as_str(), "2026-01-08", protocol).await?;
            randomized.push((record.clone(), allocation.arm));
        }
    }

    // Treatment, reads and an adverse event for the first two randomized patients.
    for (i, (record, arm)) in randomized.iter().take(2).enumerate() {
        let pid = record.patient_id.as_str();
        let inv = investigator(record.site_id.as_str());
        let control = if record.site_id.as_str() == "SITE-01" { Modality::Cryo } else { Modality::Seeds };
        for lesion in record.lesions.iter().filter(|l| l.is_target) {
            let modality = match arm {
                Arm::Control => control,
                Arm::Experimental if lesion.is_bulky_index => Modality::Seeds,
                Arm::Experimental => Modality::Cryo,
            };
            let lid = lesion.lesion_id.as_str();
            let document = json!({"format": "cryoseed-demo-plan", "lesion_id": lid, "modality": modality,
                                  "prescription_gy": if modality == Modality::Seeds { 120.0 } else { 0.0 }});
            store
                .record_plan(
                    inv,
                    &Plan {
                        plan_id: 0,
                        patient_id: pid.into(),
                        lesion_id: lid.into(),
                        document: document.to_string(),
                        sha256: String::new(),
                    },
                )
                .await?;
            let details = match modality {
                Modality::Seeds => json!({"needles": 8, "activity_u_per_seed": 0.6}),
                Modality::Cryo => json!({"probes": 3, "freeze_thaw_cycles": 2}),
            };
            store
                .record_procedure(
                    inv,
                    &Procedure {
                        procedure_id: 0,
                        patient_id: pid.into(),
                        lesion_id: lid.into(),
                        modality,
                        performed_on: "2026-01-15".into(),
                        is_reintervention: false,
                        seeds_implanted: (modality == Modality::Seeds).then_some(40),
                        details,
                        notes: None,
                        qa: None,
                    },
                )
                .await?;
        }
        for (label, date, factor) in [("baseline", "2026-01-06", 1.0), ("M3", "2026-04-10", 0.7)] {
            for reader in ["reader1", "reader2"] {
                // Patient 2's second reader sees growth at M3: a discordant pair.
                let f = if i == 1 && reader == "reader2" && label == "M3" { 1.4 } else { factor };
                let lesions: Vec<serde_json::Value> = record
                    .lesions
                    .iter()
                    .filter(|l| l.is_target)
                    .map(|l| {
                        let d = l.longest_diameter.map_or(30.0, |d| d.value());
                        json!({"lesion_id": l.lesion_id.as_str(), "status": "measured", "diameter_mm": (d * f).round()})
                    })
                    .collect();
                store
                    .record_assessment(
                        reader,
                        &Assessment {
                            patient_id: pid.into(),
                            reader: reader.into(),
                            label: label.into(),
                            assessed_on: date.into(),
                            observations: json!({"lesions": lesions, "new_lesions": []}),
                        },
                    )
                    .await?;
            }
        }
        // Seen after the M3 scan: every read lies within follow-up, as the analysis requires.
        let patient = store.patient(pid).await?;
        let follow_up = FollowUp {
            therapy_completed_on: Some("2026-01-15".into()),
            last_contact_on: Some("2026-04-20".into()),
            ..patient.follow_up.clone()
        };
        store.update_follow_up(inv, pid, &follow_up, patient.version, "follow-up visit after the M3 scan").await?;
        if i == 0 {
            store
                .record_adverse_event(
                    inv,
                    &AdverseEventForm {
                        patient_id: pid.into(),
                        term: "Nausea".into(),
                        grade: 2,
                        specification: None,
                        attributions: vec![Attribution { cause: Cause::Disease, certainty: Certainty::Possible }],
                        serious: Vec::new(),
                        onset: "2026-01-20".into(),
                        resolution: Some("2026-01-25".into()),
                        meddra_version: "28.0".into(),
                    },
                )
                .await?;
        }
    }
    Ok(Demo {
        users,
        screened: records.len(),
        randomized: randomized.iter().map(|(r, _)| r.patient_id.to_string()).collect(),
    })
}
