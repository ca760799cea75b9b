//! Records, audit trail, locks, versioning, bad input, export/import and endpoints.

use crate::common::{ADJ, ADMIN, DM, Engine, INV, R1, R2, STAT, protocol, screen_eligible, setup, site_ids};
use crate::on_both;
use cryoseed_core::Modality;
use cryoseed_store::export::TrialDocument;
use cryoseed_store::model::{
    Adjudication, AdverseEventForm, AdverseEventRecord, Assessment, DataQuery, Deviation, FollowUp, Lesion, LesionRole,
    Plan, PlanReview, Procedure, ProcedureQa, Screening, Signature, Site,
};
use cryoseed_store::{Store, StoreError};
use cryoseed_trial::TrialError;
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty};
use serde_json::json;
use sqlx::Row as _;

on_both!(
    migrations_are_versioned,
    audit_chain_detects_tampering,
    bad_input_is_refused_naming_the_field,
    locked_data_is_refused,
    concurrent_updates_never_lose_a_write,
    export_import_round_trip,
    endpoints_from_stored_records,
    queries_and_signatures,
    per_patient_reads_match_the_whole_tables,
    compact_copy_depends_on_the_content_only
);

fn ae(patient: &str, term: &str, grade: u8, onset: &str) -> AdverseEventForm {
    AdverseEventForm {
        patient_id: patient.into(),
        term: term.into(),
        grade,
        specification: None,
        attributions: vec![Attribution { cause: Cause::Cryoablation, certainty: Certainty::Probable }],
        serious: Vec::new(),
        onset: onset.into(),
        resolution: None,
        meddra_version: "28.0".into(),
    }
}

async fn raw(engine: &Engine, sql: &str) {
    let mut conn = engine.raw().await;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
}

async fn row_counts(engine: &Engine) -> Vec<i64> {
    let mut conn = engine.raw().await;
    let mut out = Vec::new();
    for table in
        ["patients", "lesions", "adverse_events", "assessments", "procedures", "plans", "plan_reviews", "audit_log"]
    {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        out.push(row.try_get::<i64, _>("n").unwrap());
    }
    out
}

async fn migrations_are_versioned(engine: &Engine) {
    let store = engine.fresh(2).await;
    assert_eq!(store.schema_version().await.unwrap(), cryoseed_store::SCHEMA_VERSION);
    let err = store.init().await.unwrap_err();
    assert!(err.to_string().contains("already initialised"), "{err}");
    assert!(store.migrate().await.unwrap().is_empty(), "nothing left to apply");
    // A changed migration is detected.
    raw(engine, "UPDATE schema_migrations SET sha256 = 'x' WHERE version = 1").await;
    let err = store.migrate().await.unwrap_err();
    assert!(matches!(err, StoreError::Migration { version: 1, .. }), "{err}");
}

async fn audit_chain_detects_tampering(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 2, true).await;
    let ids = screen_eligible(&store, 3, 2, 1).await;
    store.record_adverse_event(INV, &ae(&ids[0], "Pain", 2, "2026-01-20")).await.unwrap();
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    let n = report.entries;
    assert!(n > 10);
    let log = store.audit_log(None, 0, 1000).await.unwrap();
    assert_eq!(log.len() as i64, n);
    assert!(log.iter().all(|e| e.at.ends_with('Z') && e.at.len() == 27), "UTC instants");
    // Edit one value of entry 7 directly in SQL.
    raw(engine, "UPDATE audit_log SET new_value = REPLACE(new_value, 'Centre', 'Center') WHERE seq = 3").await;
    let report = store.verify_audit().await.unwrap();
    let broken = report.first_broken.expect("edit detected");
    assert_eq!(broken.seq, 3, "{}", broken.reason);
    raw(engine, "UPDATE audit_log SET new_value = REPLACE(new_value, 'Center', 'Centre') WHERE seq = 3").await;
    assert!(store.verify_audit().await.unwrap().is_intact());
    // Re-hashing an edited entry does not help: the next entry's prev_hash no longer matches.
    raw(engine, "UPDATE audit_log SET actor = 'mallory', hash = 'f00' WHERE seq = 5").await;
    assert_eq!(store.verify_audit().await.unwrap().first_broken.unwrap().seq, 5);
    raw(engine, &format!("UPDATE audit_log SET actor = '{}', hash = '{}' WHERE seq = 5", log[4].actor, log[4].hash))
        .await;
    assert!(store.verify_audit().await.unwrap().is_intact());
    // Deleting an entry in the middle, or the last one, is detected.
    raw(engine, &format!("DELETE FROM audit_log WHERE seq = {n}")).await;
    let broken = store.verify_audit().await.unwrap().first_broken.expect("cut tail detected");
    assert_eq!(broken.seq, n, "{}", broken.reason);
    raw(engine, "DELETE FROM audit_log WHERE seq = 2").await;
    assert_eq!(store.verify_audit().await.unwrap().first_broken.unwrap().seq, 2);
}

async fn bad_input_is_refused_naming_the_field(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 2, true).await;
    let ids = screen_eligible(&store, 2, 2, 2).await;
    let before = row_counts(engine).await;
    // Unknown CTCAE term.
    let err = store.record_adverse_event(INV, &ae(&ids[0], "Headache of doom", 2, "2026-01-20")).await.unwrap_err();
    assert!(matches!(err, StoreError::Trial(TrialError::InvalidAdverseEvent { field: "term", .. })), "{err}");
    // A grade the term does not define.
    let err = store.record_adverse_event(INV, &ae(&ids[0], "Pain", 5, "2026-01-20")).await.unwrap_err();
    assert!(err.to_string().contains("grade"), "{err}");
    // Impossible dates.
    let err = store.record_adverse_event(INV, &ae(&ids[0], "Pain", 2, "2026-02-30")).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "onset"), "{err}");
    let mut resolved_before = ae(&ids[0], "Pain", 2, "2026-02-10");
    resolved_before.resolution = Some("2026-02-01".into());
    let err = store.record_adverse_event(INV, &resolved_before).await.unwrap_err();
    assert!(err.to_string().contains("resolution"), "{err}");
    // A lesion measured for a patient who does not have it.
    let read = |observations| Assessment {
        patient_id: ids[0].clone(),
        reader: R1.into(),
        label: "baseline".into(),
        assessed_on: "2026-01-04".into(),
        observations,
    };
    let err = store
        .record_assessment(R1, &read(json!({"lesions": [{"lesion_id": "T9", "diameter_mm": 40}]})))
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "observations.lesions[0].lesion_id"), "{err}");
    // A value of the wrong type.
    let lesion = store.lesions().await.unwrap().into_iter().find(|l| l.patient_id == ids[0]).unwrap();
    let err = store
        .record_assessment(R1, &read(json!({"lesions": [{"lesion_id": lesion.lesion_id, "diameter_mm": "large"}]})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("diameter_mm"), "{err}");
    // A procedure on a lesion the patient does not have; a plan that is not JSON.
    let proc = Procedure {
        procedure_id: 0,
        patient_id: ids[0].clone(),
        lesion_id: "T9".into(),
        modality: Modality::Cryo,
        performed_on: "2026-01-12".into(),
        is_reintervention: false,
        seeds_implanted: None,
        details: json!({}),
        notes: None,
        qa: None,
    };
    let err = store.record_procedure(INV, &proc).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "lesion_id"), "{err}");
    let plan = Plan {
        plan_id: 0,
        patient_id: ids[0].clone(),
        lesion_id: lesion.lesion_id.clone(),
        document: "{oops".into(),
        sha256: String::new(),
    };
    assert!(matches!(store.record_plan(INV, &plan).await, Err(StoreError::Invalid { .. })));
    // Several plans at once: all or none (the second names a lesion the patient lacks).
    let plans_before = store.plans().await.unwrap().len();
    let good = Plan { document: r#"{"format":"x"}"#.into(), ..plan.clone() };
    let bad = Plan { lesion_id: "T9".into(), ..good.clone() };
    let err = store.record_plans(INV, &[good.clone(), bad], None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "lesion_id"), "{err}");
    assert_eq!(store.plans().await.unwrap().len(), plans_before, "nothing stored");
    let err = store.record_plans(INV, &[good.clone(), plan.clone()], None).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "[1].document"), "{err}");
    // A review bundle that is not JSON, or names no plan SHA-256, takes the plans down with it.
    let review = PlanReview {
        review_id: 0,
        patient_id: ids[0].clone(),
        plan_sha256: "ab".repeat(32),
        document: "{oops".into(),
        sha256: String::new(),
    };
    let err = store.record_plans(INV, std::slice::from_ref(&good), Some(&review)).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "document"), "{err}");
    let review = PlanReview { document: "{}".into(), plan_sha256: "plan.json".into(), ..review };
    let err = store.record_plans(INV, &[good], Some(&review)).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "plan_sha256"), "{err}");
    assert_eq!(store.plans().await.unwrap().len(), plans_before, "nothing stored");
    // A wrong type in an imported document is named by its path.
    let err = TrialDocument::parse(
        r#"{"format":"cryoseed-trial","version":1,"sites":[{"site_id":"S","name":3,"control_modality":null}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("sites[0].name"), "{err}");
    // A country that is not an ISO 3166-1 alpha-3 code.
    let site = Site {
        site_id: "SITE-09".into(),
        name: "Centre 9".into(),
        control_modality: None,
        country: Some("China".into()),
    };
    let err = store.add_site(ADMIN, &site).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "country"), "{err}");
    // Nothing was written by any refused call.
    assert_eq!(row_counts(engine).await, before);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

async fn locked_data_is_refused(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 1, true).await;
    let ids = screen_eligible(&store, 1, 1, 3).await;
    assert!(matches!(store.lock(INV, &ids[0], "x").await, Err(StoreError::Forbidden { .. })));
    store.lock(DM, &ids[0], "database lock for interim analysis").await.unwrap();
    let err = store.record_adverse_event(INV, &ae(&ids[0], "Pain", 1, "2026-01-20")).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    let v = store.patient(&ids[0]).await.unwrap().version;
    let err = store.update_follow_up(INV, &ids[0], &FollowUp::default(), v, "x").await.unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(store.unlock(DM, &ids[0], "").await.is_err(), "unlock needs a reason");
    store.unlock(DM, &ids[0], "query 12 answered").await.unwrap();
    store.record_adverse_event(INV, &ae(&ids[0], "Pain", 1, "2026-01-20")).await.unwrap();
    let log = store.audit_log(Some(&ids[0]), 0, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"lock") && actions.contains(&"unlock"), "{actions:?}");
}

/// Optimistic versioning: of two writers that read the same version, the second is refused.
async fn concurrent_updates_never_lose_a_write(engine: &Engine) {
    let store = engine.fresh(4).await;
    setup(&store, 1, true).await;
    let ids = screen_eligible(&store, 1, 1, 4).await;
    let v = store.patient(&ids[0]).await.unwrap().version;
    let a = FollowUp { last_contact_on: Some("2026-03-01".into()), ..FollowUp::default() };
    let b = FollowUp {
        death_on: Some("2026-03-05".into()),
        last_contact_on: Some("2026-03-05".into()),
        ..FollowUp::default()
    };
    let (sa, sb, id) = (store.clone(), store.clone(), ids[0].clone());
    let id2 = id.clone();
    let ta = tokio::spawn(async move { sa.update_follow_up(INV, &id, &a, v, "visit").await });
    let tb = tokio::spawn(async move { sb.update_follow_up(DM, &id2, &b, v, "death report").await });
    let (ra, rb) = (ta.await.unwrap(), tb.await.unwrap());
    assert!(ra.is_ok() != rb.is_ok(), "exactly one wins: {ra:?} {rb:?}");
    let loser = match (ra, rb) {
        (Err(e), _) | (_, Err(e)) => e,
        _ => unreachable!(),
    };
    assert!(
        matches!(loser, StoreError::Conflict { expected, found, .. } if expected == v && found == v + 1),
        "{loser}"
    );
    // The loser reloads and retries on the new version; both changes are kept, each audited.
    let p = store.patient(&ids[0]).await.unwrap();
    let merged =
        FollowUp { death_on: Some("2026-03-05".into()), last_contact_on: Some("2026-03-05".into()), ..p.follow_up };
    store.update_follow_up(DM, &ids[0], &merged, p.version, "death report").await.unwrap();
    let p = store.patient(&ids[0]).await.unwrap();
    assert_eq!(p.version, v + 2);
    assert_eq!(p.follow_up.death_on.as_deref(), Some("2026-03-05"));
    let updates =
        store.audit_log(Some(&ids[0]), 0, 100).await.unwrap().into_iter().filter(|e| e.action == "update").count();
    assert!(updates >= 2);
    // Bad dates name the field.
    let bad = FollowUp { withdrawn_on: Some("2026-13-01".into()), ..FollowUp::default() };
    let err = store.update_follow_up(INV, &ids[0], &bad, p.version, "x").await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "withdrawn_on"), "{err}");
}

/// Builds a small complete trial: 6 randomized patients with procedures, reads, adjudication,
/// follow-up, adverse events, a deviation, a plan.
async fn small_trial(store: &Store) -> Vec<String> {
    setup(store, 2, true).await;
    let ids = screen_eligible(store, 6, 2, 21).await;
    let p = protocol();
    store.generate_list(STAT, &p, &site_ids(2), 20, 5).await.unwrap();
    let lesions = store.lesions().await.unwrap();
    for (i, id) in ids.iter().enumerate() {
        store.randomize(INV, id, "2026-01-10", &p).await.unwrap();
        let bulky = lesions.iter().find(|l| &l.patient_id == id && l.is_bulky_index).unwrap();
        let targets: Vec<&Lesion> =
            lesions.iter().filter(|l| &l.patient_id == id && l.role == LesionRole::Target).collect();
        store
            .record_plan(
                INV,
                &Plan {
                    plan_id: 0,
                    patient_id: id.clone(),
                    lesion_id: bulky.lesion_id.clone(),
                    document: json!({"zones": ["core", "margin"], "seeds": 42}).to_string(),
                    sha256: String::new(),
                },
            )
            .await
            .unwrap();
        store
            .record_plan_review(
                INV,
                &PlanReview {
                    review_id: 0,
                    patient_id: id.clone(),
                    plan_sha256: format!("{i:064x}"),
                    document: json!({"format": "cryoseed-plan-review", "planes": []}).to_string(),
                    sha256: String::new(),
                },
            )
            .await
            .unwrap();
        for modality in [Modality::Cryo, Modality::Seeds] {
            store
                .record_procedure(
                    INV,
                    &Procedure {
                        procedure_id: 0,
                        patient_id: id.clone(),
                        lesion_id: bulky.lesion_id.clone(),
                        modality,
                        performed_on: "2026-01-12".into(),
                        is_reintervention: false,
                        seeds_implanted: (modality == Modality::Seeds).then_some(42),
                        details: json!({"probes": 3, "freeze_protocol": "10-5-10"}),
                        notes: Some("uneventful".into()),
                        qa: Some(ProcedureQa {
                            assessed_on: "2026-01-13".into(),
                            seed_d90_gy: (modality == Modality::Seeds).then_some(150.0),
                            seed_prescription_gy: (modality == Modality::Seeds).then_some(140.0),
                            lethal_isotherm_covered: (modality == Modality::Cryo).then_some(true),
                        }),
                    },
                )
                .await
                .unwrap();
        }
        // Two readers, three time points; the bulky lesion shrinks (or, for odd patients, grows).
        for (label, date, factor) in
            [("baseline", "2026-01-05", 1.0), ("M3", "2026-04-10", 0.6), ("M6", "2026-07-12", 0.5)]
        {
            for reader in [R1, R2] {
                let f: f64 = if i % 2 == 1 && label != "baseline" { 1.0 / factor } else { factor };
                let obs: Vec<serde_json::Value> = targets
                    .iter()
                    .map(|l| json!({"lesion_id": l.lesion_id, "diameter_mm": (60.0 * f).round()}))
                    .collect();
                store
                    .record_assessment(
                        reader,
                        &Assessment {
                            patient_id: id.clone(),
                            reader: reader.into(),
                            label: label.into(),
                            assessed_on: date.into(),
                            observations: json!({"lesions": obs}),
                        },
                    )
                    .await
                    .unwrap();
            }
        }
        let v = store.patient(id).await.unwrap().version;
        let follow = FollowUp {
            therapy_completed_on: Some("2026-01-12".into()),
            last_contact_on: Some("2026-08-01".into()),
            ..FollowUp::default()
        };
        store.update_follow_up(INV, id, &follow, v, "visit M7").await.unwrap();
        store.record_adverse_event(INV, &ae(id, "Pain", 2, "2026-01-13")).await.unwrap();
    }
    store
        .record_adjudication(
            ADJ,
            &Adjudication {
                patient_id: ids[0].clone(),
                adjudicator: ADJ.into(),
                accepted_reader: R2.into(),
                reason: "concordant; R2 preferred".into(),
            },
        )
        .await
        .unwrap();
    store
        .record_deviation(
            INV,
            &Deviation {
                deviation_id: 0,
                patient_id: ids[1].clone(),
                occurred_on: "2026-04-20".into(),
                category: "visit_window".into(),
                description: "M3 scan 10 days late".into(),
                major: false,
            },
        )
        .await
        .unwrap();
    store.lock(DM, &ids[5], "complete").await.unwrap();
    ids
}

async fn export_import_round_trip(engine: &Engine) {
    let store = engine.fresh(4).await;
    small_trial(&store).await;
    let doc = store.export_trial(DM).await.unwrap();
    assert_eq!(doc.allocations.len(), 6);
    assert_eq!(doc.plan_reviews.len(), 6);
    assert_eq!(
        store.plan_review(&doc.plan_reviews[2].patient_id, &format!("{:064x}", 2)).await.unwrap().as_ref(),
        Some(&doc.plan_reviews[2])
    );
    let text = doc.to_json();
    assert!(!text.contains("randomization_slots") && !text.contains("block_size"), "the list is never exported");
    assert!(store.audit_log(None, 0, 100_000).await.unwrap().iter().any(|e| e.action == "export"));
    // Import into a second database (another file / schema).
    let second = match engine {
        Engine::Sqlite(_) => Engine::sqlite(),
        Engine::Postgres { url, schema } => Engine::Postgres { url: url.clone(), schema: format!("{schema}_b") },
    };
    let other = second.fresh(4).await;
    other.bootstrap_admin(ADMIN, "Admin").await.unwrap();
    other.import_trial(ADMIN, &TrialDocument::parse(&text).unwrap()).await.unwrap();
    let again = other.export_trial(ADMIN).await.unwrap();
    for (line, (a, b)) in again.to_json().lines().zip(text.lines()).enumerate() {
        assert_eq!(a, b, "export → import → export differs at line {}", line + 1);
    }
    assert_eq!(again.to_json(), text, "export → import → export is identical");
    assert!(other.verify_audit().await.unwrap().is_intact());
    // A second import is refused and writes nothing.
    let before = other.verify_audit().await.unwrap().entries;
    assert!(other.import_trial(ADMIN, &doc).await.is_err());
    assert_eq!(other.verify_audit().await.unwrap().entries, before);
    // A document with one bad record imports nothing.
    let third = match engine {
        Engine::Sqlite(_) => Engine::sqlite(),
        Engine::Postgres { url, schema } => Engine::Postgres { url: url.clone(), schema: format!("{schema}_c") },
    };
    let empty = third.fresh(2).await;
    empty.bootstrap_admin(ADMIN, "Admin").await.unwrap();
    let mut bad = doc.clone();
    bad.adverse_events[3].form.term = "Not a CTCAE term".into();
    assert!(empty.import_trial(ADMIN, &bad).await.is_err());
    assert!(empty.sites().await.unwrap().is_empty(), "nothing partially imported");
    other.close().await;
    empty.close().await;
    second.cleanup().await;
    third.cleanup().await;
}

async fn endpoints_from_stored_records(engine: &Engine) {
    let store = engine.fresh(4).await;
    let ids = small_trial(&store).await;
    let data = store.analysis_datasets(&protocol()).await.unwrap();
    assert_eq!(data.patients.len(), 6);
    // Five time-to-event endpoints per patient (LPFS, PFS, TTSP, TTSP_CR, OS).
    assert_eq!(data.time_to_event.len(), 30);
    for row in &data.patients {
        assert_eq!(row.treated_lesions, 1);
        assert!(row.technical_success, "{}: D90 150 ≥ 140 Gy and isotherm covered", row.patient_id);
    }
    // Patients 0, 2, 4 shrink 50% (PR); 1, 3, 5 grow (PD at M3).
    let by_id = |i: usize| data.patients.iter().find(|r| r.patient_id.as_str() == ids[i]).unwrap();
    assert!(by_id(0).objective_response && by_id(2).objective_response);
    assert!(!by_id(1).objective_response);
    let pfs =
        data.time_to_event.iter().find(|r| r.patient_id.as_str() == ids[1] && r.endpoint.code() == "PFS").unwrap();
    assert_eq!(pfs.date.to_string(), "2026-04-10", "{pfs:?}");
}

/// The keyed per-patient reads (used by the web service's patient screens) return exactly the
/// patient's rows of the whole-table reads, in the same order; an unknown patient has none.
async fn per_patient_reads_match_the_whole_tables(engine: &Engine) {
    let store = engine.fresh(4).await;
    let ids = small_trial(&store).await;
    store.record_adverse_event(INV, &ae(&ids[0], "Fatigue", 1, "2026-03-01")).await.unwrap();
    store.raise_query(DM, &ids[1], "adverse_event 1 grade", "Grade 1?").await.unwrap();
    store.sign(INV, &ids[2], "complete").await.unwrap();
    macro_rules! same {
        ($all:ident, $one:ident, $key:expr) => {{
            let all = store.$all().await.unwrap();
            let mut seen = 0;
            for id in ids.iter().map(String::as_str).chain(["SIM-9999"]) {
                let expected: Vec<_> = all.iter().filter(|r| $key(r) == id).cloned().collect();
                assert_eq!(store.$one(id).await.unwrap(), expected, "{} of {id}", stringify!($one));
                seen += expected.len();
            }
            assert_eq!(seen, all.len(), "{}: every row belongs to one of the patients", stringify!($all));
            assert!(seen > 0, "{}: the trial has some", stringify!($all));
        }};
    }
    same!(screenings, patient_screenings, |r: &Screening| r.patient_id.clone());
    same!(lesions, patient_lesions, |r: &Lesion| r.patient_id.clone());
    same!(plans, patient_plans, |r: &Plan| r.patient_id.clone());
    same!(procedures, patient_procedures, |r: &Procedure| r.patient_id.clone());
    same!(assessments, patient_assessments, |r: &Assessment| r.patient_id.clone());
    same!(adjudications, patient_adjudications, |r: &Adjudication| r.patient_id.clone());
    same!(adverse_events, patient_adverse_events, |r: &AdverseEventRecord| r.form.patient_id.clone());
    same!(deviations, patient_deviations, |r: &Deviation| r.patient_id.clone());
    same!(queries, patient_queries, |r: &DataQuery| r.patient_id.clone());
    same!(signatures, patient_signatures, |r: &Signature| r.patient_id.clone());
}

async fn queries_and_signatures(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 1, true).await;
    let ids = screen_eligible(&store, 1, 1, 8).await;
    let q = store.raise_query(DM, &ids[0], "adverse_event 1 grade", "Grade 3 or 2?").await.unwrap();
    assert!(store.close_query(DM, q).await.is_err(), "an open query cannot be closed before an answer");
    store.answer_query(INV, q, "Grade 2, see source").await.unwrap();
    store.close_query(DM, q).await.unwrap();
    let sig = store.sign(INV, &ids[0], "I confirm the CRF is complete and accurate").await.unwrap();
    assert_eq!(sig.signed_by, INV);
    assert!(matches!(store.sign(R1, &ids[0], "x").await, Err(StoreError::Forbidden { .. })));
    let log = store.audit_log(Some(&ids[0]), 0, 100).await.unwrap();
    assert!(log.iter().any(|e| e.action == "sign"));
    assert_eq!(store.queries().await.unwrap()[0].status, cryoseed_store::model::QueryStatus::Closed);
}

/// `Store::compact_copy` (what `cryoseed demo` ships as trial.db): two databases with the same
/// content but different checkpoint histories give byte-identical copies; the copy opens as a
/// trial database whose audit chain verifies; an existing file is never overwritten. PostgreSQL
/// refuses (pg_dump is its tool).
async fn compact_copy_depends_on_the_content_only(engine: &Engine) {
    use cryoseed_store::{Clock, SimulatedClock};
    let day = cryoseed_response::Date::from_ymd(2026, 1, 5).unwrap();
    let out = tempfile::tempdir().unwrap();
    let copy = |n: usize| out.path().join(format!("copy{n}.db"));
    let Engine::Sqlite(_) = engine else {
        let store = engine.fresh(2).await;
        let err = store.compact_copy(&copy(0)).await.unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        assert!(!copy(0).exists());
        return;
    };
    let other = Engine::sqlite();
    for (n, e) in [engine, &other].into_iter().enumerate() {
        let store = e.connect(2).await.with_clock(Clock::Simulated(SimulatedClock::starting_on(day)));
        store.init().await.unwrap();
        if n == 1 {
            // A checkpoint in the middle: the live files now differ in their history.
            store.checkpoint().await.unwrap();
        }
        small_trial(&store).await;
        store.compact_copy(&copy(n)).await.unwrap();
        let err = store.compact_copy(&copy(n)).await.unwrap_err();
        assert!(err.to_string().contains("never overwrites"), "{err}");
        store.close().await;
    }
    let (a, b) = (std::fs::read(copy(0)).unwrap(), std::fs::read(copy(1)).unwrap());
    assert!(a == b, "same content, same bytes");
    let reopened = Store::connect(&format!("sqlite://{}", copy(0).display())).await.unwrap();
    assert!(reopened.verify_audit().await.unwrap().is_intact());
    assert_eq!(reopened.schema_version().await.unwrap(), cryoseed_store::SCHEMA_VERSION);
}
