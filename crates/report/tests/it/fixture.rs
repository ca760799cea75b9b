//! A seeded, populated trial database built through the store's write API, for the trial-level
//! report and export tests (shared with the CLI tests by `#[path]`).
//!
//! Both arms at two centres (control modality cryo at SITE-01, seeds at SITE-02), 2–5 target
//! lesions per patient, a bulky index lesion zoned (cryo core + seed margin) in the experimental
//! arm, post-procedure QA (seed D90 around the prescription, isotherm coverage), two blinded
//! readers with measurement noise, local progression flagged by one reader only for some lesions
//! (adjudicated afterwards), new lesions, re-interventions, deaths, withdrawals, administrative
//! censoring, adverse events of every grade (serious ones, a grade 5), one screen failure, one
//! patient over 89 and one randomized patient never treated. Every draw comes from SplitMix64 on
//! the given seed: the same seed gives the same database content.

#![allow(dead_code, reason = "each test binary uses part of the fixture")]

use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Modality, SiteId};
use cryoseed_response::Date;
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::Store;
use cryoseed_store::model::{
    Adjudication, AdverseEventForm, Assessment, FollowUp, LesionRole, Procedure, ProcedureQa, Role, Site, User,
};
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty, SeriousCriterion};
use serde_json::{Value, json};

pub const ADMIN: &str = "admin";
pub const INV: &str = "inv1";
pub const STAT: &str = "stat1";
pub const R1: &str = "reader1";
pub const R2: &str = "reader2";
pub const ADJ: &str = "adj1";

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fixed generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform integer in lo..=hi.
    pub fn int(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.unit() * f64::from(hi - lo + 1)).floor() as i32
    }
}

/// A populated trial database in a temporary directory.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub protocol: Protocol,
}

fn day(d: Date, plus: i32) -> String {
    d.plus_days(plus).to_string()
}

fn ae(
    patient: &str,
    term: &str,
    grade: u8,
    onset: String,
    resolution: Option<String>,
    cause: Cause,
    serious: Vec<SeriousCriterion>,
) -> AdverseEventForm {
    AdverseEventForm {
        patient_id: patient.into(),
        term: term.into(),
        grade,
        specification: None,
        attributions: vec![Attribution {
            cause,
            certainty: if cause == Cause::Disease { Certainty::Possible } else { Certainty::Probable },
        }],
        serious,
        onset,
        resolution,
        meddra_version: "28.0".into(),
    }
}

/// Builds the trial (about 16 patients) with `seed`.
pub async fn build(seed: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("trial.db").display());
    let store = Store::connect(&url).await.expect("connect");
    store.init().await.expect("init");
    populate(&store, seed).await;
    store.close().await;
    Fixture { dir, url, protocol: Protocol::shipped() }
}

/// Fills an initialised, empty store.
pub async fn populate(store: &Store, seed: u64) {
    let protocol = Protocol::shipped();
    let mut rng = Rng::new(seed);
    store.bootstrap_admin(ADMIN, "Administrator").await.unwrap();
    for (i, modality) in [(1, Modality::Cryo), (2, Modality::Seeds)] {
        let site = Site {
            site_id: format!("SITE-{i:02}"),
            name: format!("Centre hospital {i}"),
            control_modality: Some(modality),
            country: Some("CHN".into()),
        };
        store.add_site(ADMIN, &site).await.unwrap();
    }
    for (id, name, role) in [
        (INV, "Ina Vestigator", Role::Investigator),
        (STAT, "Stan Tistician", Role::Statistician),
        ("dm1", "Dana Manager", Role::DataManager),
        (R1, "Rita Reader", Role::Reader),
        (R2, "Rob Reader", Role::Reader),
        (ADJ, "Ada Judicator", Role::Adjudicator),
    ] {
        store.add_user(ADMIN, &User { user_id: id.into(), name: name.into(), role, site_id: None }).await.unwrap();
    }
    let mut records = cohort(&CohortConfig { patients: 17, sites: 2, mix: Vec::new() }, seed);
    records[3].age_years = Some(93);
    records[16].age_years = Some(15); // a screen failure
    let screened = Date::parse("2026-01-05").unwrap();
    let mut ids = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let on = day(screened, 3 * i as i32);
        let s = store.record_screening(INV, r, &on, &protocol).await.unwrap();
        if s.status == "eligible" {
            ids.push((r.patient_id.to_string(), screened.plus_days(3 * i as i32)));
        }
    }
    let sites: Vec<SiteId> = (1..=2).map(|i| SiteId::parse(format!("SITE-{i:02}")).unwrap()).collect();
    store.generate_list(STAT, &protocol, &sites, 20, seed).await.unwrap();
    let lesions = store.lesions().await.unwrap();
    let site_of = |id: &str| records.iter().find(|r| r.patient_id.as_str() == id).unwrap().site_id.to_string();
    let n = ids.len();
    for (k, (id, screened_on)) in ids.iter().enumerate() {
        let randomized = screened_on.plus_days(4);
        let alloc = store.randomize(INV, id, &randomized.to_string(), &protocol).await.unwrap();
        let version = store.patient(id).await.unwrap().version;
        if k == n - 1 {
            // Randomized, withdrew before any procedure.
            let f = FollowUp {
                withdrawn_on: Some(day(randomized, 3)),
                last_contact_on: Some(day(randomized, 3)),
                ..FollowUp::default()
            };
            store.update_follow_up(INV, id, &f, version, "consent withdrawn").await.unwrap();
            continue;
        }
        let experimental = alloc.arm == Arm::Experimental;
        let control_modality = if site_of(id) == "SITE-01" { Modality::Cryo } else { Modality::Seeds };
        let mine: Vec<_> = lesions.iter().filter(|l| &l.patient_id == id).collect();
        let targets: Vec<_> = mine.iter().filter(|l| l.role == LesionRole::Target).collect();
        // Procedures: protocol therapy on every target lesion within the first week.
        let mut completion = randomized;
        for (j, l) in targets.iter().enumerate() {
            let modalities: Vec<Modality> = if !experimental {
                vec![control_modality]
            } else if l.is_bulky_index {
                vec![Modality::Cryo, Modality::Seeds]
            } else if j % 2 == 0 {
                vec![Modality::Cryo]
            } else {
                vec![Modality::Seeds]
            };
            let performed = randomized.plus_days(3 + j as i32);
            completion = completion.max(performed);
            for m in modalities {
                let qa = ProcedureQa {
                    assessed_on: day(performed, 1 + rng.int(0, 8)),
                    seed_d90_gy: (m == Modality::Seeds).then(|| (95.0 + rng.unit() * 60.0).round()),
                    seed_prescription_gy: (m == Modality::Seeds).then_some(120.0),
                    lethal_isotherm_covered: (m == Modality::Cryo).then(|| rng.chance(0.9)),
                };
                store
                    .record_procedure(
                        INV,
                        &Procedure {
                            procedure_id: 0,
                            patient_id: id.clone(),
                            lesion_id: l.lesion_id.clone(),
                            modality: m,
                            performed_on: performed.to_string(),
                            is_reintervention: false,
                            seeds_implanted: (m == Modality::Seeds).then(|| 20 + rng.int(0, 40) as u32),
                            details: json!({"operator_note": format!("patient {id} lesion {}", l.lesion_id)}),
                            notes: Some(format!("{id}: uneventful, Dr. Vestigator")),
                            qa: Some(qa),
                        },
                    )
                    .await
                    .unwrap();
            }
        }
        // Follow-up: death, withdrawal or administrative censoring.
        let fate = rng.unit();
        let (death, withdrawn, end) = if fate < 0.3 {
            let d = completion.plus_days(rng.int(100, 330));
            (Some(d), None, d)
        } else if fate < 0.4 {
            let w = completion.plus_days(rng.int(60, 200));
            (None, Some(w), w)
        } else {
            (None, None, completion.plus_days(380))
        };
        // Reads: baseline before randomization, then W6, M3, M6, M9, M12 after completion.
        let schedule = [("baseline", -7), ("W6", 42), ("M3", 91), ("M6", 182), ("M9", 273), ("M12", 365)];
        let ltp_p = if experimental { 0.12 } else { 0.35 };
        let responder = rng.chance(if experimental { 0.55 } else { 0.3 });
        let lesion_plan: Vec<(f64, Option<usize>)> = mine
            .iter()
            .map(|l| {
                let d0 = if l.is_bulky_index { 75.0 + rng.unit() * 25.0 } else { 15.0 + rng.unit() * 25.0 };
                let treated = l.role == LesionRole::Target;
                let ltp = (treated && rng.chance(ltp_p)).then(|| 2 + rng.int(0, 3) as usize);
                (d0.round(), ltp)
            })
            .collect();
        let new_lesion_at = rng.chance(0.25).then(|| 2 + rng.int(0, 3) as usize);
        let r2_misses_ltp = rng.chance(0.4);
        for (t, (label, offset)) in schedule.iter().enumerate() {
            let date = if t == 0 { randomized.plus_days(*offset) } else { completion.plus_days(*offset) };
            if date >= end && t > 0 {
                break;
            }
            for reader in [R1, R2] {
                let obs: Vec<Value> = mine
                    .iter()
                    .zip(&lesion_plan)
                    .map(|(l, (d0, ltp))| {
                        if l.role == LesionRole::NonTarget {
                            return json!({"lesion_id": l.lesion_id, "status": "present"});
                        }
                        let trend = if t == 0 {
                            1.0
                        } else if responder {
                            1.0 - 0.12 * t.min(4) as f64
                        } else {
                            1.0 + 0.03 * t as f64
                        };
                        let progressed = ltp.is_some_and(|at| t >= at);
                        let grow = if progressed { 1.3 } else { 1.0 };
                        let noise = 1.0 + (rng.unit() - 0.5) * 0.06;
                        let d = (d0 * trend * grow * noise).round().max(5.0);
                        let mut o = json!({"lesion_id": l.lesion_id, "diameter_mm": d});
                        if l.is_bulky_index {
                            let v = (d / d0).powi(3) * d0 * 2.6;
                            o["volume_ml"] = json!((v * 10.0).round() / 10.0);
                            if experimental {
                                o["core_volume_ml"] =
                                    json!((v * 0.55 * if t == 0 { 1.0 } else { 0.6 } * 10.0).round() / 10.0);
                                o["margin_volume_ml"] = json!((v * 0.45 * 10.0).round() / 10.0);
                            }
                        }
                        if t > 0 && progressed && !(reader == R2 && r2_misses_ltp && ltp == &Some(t)) {
                            o["margin_enhancement"] = json!(true);
                            if l.is_bulky_index && experimental {
                                o["failure_zone"] = json!("margin");
                            }
                        }
                        o
                    })
                    .collect();
                let mut read = json!({"lesions": obs});
                if new_lesion_at.is_some_and(|at| t >= at) {
                    read["new_lesions"] = json!([{"new_lesion_id": "NL1", "organ": "liver"}]);
                }
                store
                    .record_assessment(
                        reader,
                        &Assessment {
                            patient_id: id.clone(),
                            reader: reader.into(),
                            label: (*label).into(),
                            assessed_on: date.to_string(),
                            observations: read,
                        },
                    )
                    .await
                    .unwrap();
            }
        }
        // A re-intervention after local progression, sometimes.
        if let Some((j, (_, Some(at)))) = lesion_plan.iter().enumerate().find(|(_, p)| p.1.is_some())
            && rng.chance(0.5)
        {
            let (_, off) = schedule[(*at).min(5)];
            let on = completion.plus_days(off + 10);
            if on < end {
                store
                    .record_procedure(
                        INV,
                        &Procedure {
                            procedure_id: 0,
                            patient_id: id.clone(),
                            lesion_id: mine[j].lesion_id.clone(),
                            modality: Modality::Cryo,
                            performed_on: on.to_string(),
                            is_reintervention: true,
                            seeds_implanted: None,
                            details: json!({}),
                            notes: None,
                            qa: None,
                        },
                    )
                    .await
                    .unwrap();
            }
        }
        let f = FollowUp {
            therapy_completed_on: Some(completion.to_string()),
            death_on: death.map(|d| d.to_string()),
            last_contact_on: Some(end.to_string()),
            withdrawn_on: withdrawn.map(|d| d.to_string()),
        };
        store.update_follow_up(INV, id, &f, version, "follow-up visit").await.unwrap();
        // Adverse events.
        let cause = if experimental || control_modality == Modality::Cryo {
            Cause::Cryoablation
        } else {
            Cause::SeedImplantation
        };
        let first = randomized.plus_days(3);
        store
            .record_adverse_event(
                INV,
                &ae(id, "Pain", 1 + rng.int(0, 1) as u8, day(first, 1), Some(day(first, 8)), cause, vec![]),
            )
            .await
            .unwrap();
        if rng.chance(0.35) {
            let g = 2 + rng.int(0, 1) as u8;
            let serious = if g >= 3 { vec![SeriousCriterion::Hospitalization] } else { vec![] };
            store
                .record_adverse_event(
                    INV,
                    &ae(id, "Pneumothorax", g, day(first, 1), Some(day(first, 12)), cause, serious),
                )
                .await
                .unwrap();
        }
        if rng.chance(0.3) {
            store
                .record_adverse_event(
                    INV,
                    &ae(id, "Fatigue", 1 + rng.int(0, 1) as u8, day(first, 20), None, Cause::Radiation, vec![]),
                )
                .await
                .unwrap();
        }
        if let Some(d) = death
            && rng.chance(0.5)
        {
            store
                .record_adverse_event(
                    INV,
                    &ae(
                        id,
                        "Sepsis",
                        5,
                        day(d, -4),
                        Some(d.to_string()),
                        Cause::Disease,
                        vec![SeriousCriterion::Death],
                    ),
                )
                .await
                .unwrap();
        }
    }
    // Adjudicate every patient whose readers disagreed: the adjudicator accepts reader 1.
    let (_, assessments) = store.analysis(&protocol).await.unwrap();
    for a in assessments {
        if !a.review.discordances.is_empty() {
            store
                .record_adjudication(
                    ADJ,
                    &Adjudication {
                        patient_id: a.patient_id.to_string(),
                        adjudicator: ADJ.into(),
                        accepted_reader: R1.into(),
                        reason: "reader 1 saw the enhancing margin nodule".into(),
                    },
                )
                .await
                .unwrap();
        }
    }
}
