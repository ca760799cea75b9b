//! Crash safety: a child process writes records in a loop and prints each acknowledged write; it
//! is SIGKILLed at seeded random moments. Afterwards every acknowledged write is present, no
//! partial record exists, and the audit chain verifies.

use crate::common::{Engine, INV, protocol, setup};
use crate::on_both;
use cryoseed_core::PatientId;
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::model::AdverseEventForm;
use cryoseed_store::{ConnectOptions, Store};
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty};
use rand::{RngExt as _, SeedableRng as _};
use sqlx::Row as _;
use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::Duration;

const URL_VAR: &str = "CRYOSEED_CRASH_CHILD_URL";
const SCHEMA_VAR: &str = "CRYOSEED_CRASH_CHILD_SCHEMA";
const ROUND_VAR: &str = "CRYOSEED_CRASH_CHILD_ROUND";

on_both!(killed_writer_loses_no_acknowledged_write);

/// The child: runs only when the parent sets the variables (ignored otherwise).
#[test]
#[ignore = "child process of killed_writer_loses_no_acknowledged_write"]
fn crash_writer_child() {
    let (Ok(url), Ok(round)) = (std::env::var(URL_VAR), std::env::var(ROUND_VAR)) else { return };
    let schema = std::env::var(SCHEMA_VAR).ok().filter(|s| !s.is_empty());
    crate::common::runtime().block_on(async move {
        let store = Store::connect_with(&url, &ConnectOptions { max_connections: 2, schema }).await.unwrap();
        let p = protocol();
        let mut records = cohort(&CohortConfig { patients: 500, sites: 2, mix: Vec::new() }, round.parse().unwrap());
        for (i, record) in records.iter_mut().enumerate() {
            record.patient_id = PatientId::parse(format!("R{round}-{i:04}")).unwrap();
            store.record_screening(INV, record, "2026-01-05", &p).await.unwrap();
            println!("ACK patient {}", record.patient_id);
            let form = AdverseEventForm {
                patient_id: record.patient_id.to_string(),
                term: "Pain".into(),
                grade: 1,
                specification: None,
                attributions: vec![Attribution { cause: Cause::Disease, certainty: Certainty::Possible }],
                serious: Vec::new(),
                onset: "2026-01-06".into(),
                resolution: None,
                meddra_version: "28.0".into(),
            };
            let id = store.record_adverse_event(INV, &form).await.unwrap();
            println!("ACK ae {id}");
        }
    });
}

async fn killed_writer_loses_no_acknowledged_write(engine: &Engine) {
    let store = engine.fresh(2).await;
    setup(&store, 2, true).await;
    store.close().await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2026);
    let mut acked: Vec<String> = Vec::new();
    let schema = match engine {
        Engine::Postgres { schema, .. } => schema.clone(),
        Engine::Sqlite(_) => String::new(),
    };
    for round in 1..=6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash::crash_writer_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .env(URL_VAR, engine.url())
            .env(SCHEMA_VAR, &schema)
            .env(ROUND_VAR, round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| l.strip_prefix("ACK ").map(str::to_owned))
                .collect::<Vec<_>>()
        });
        // Let it start (connect, open the file) and write for a random while.
        let delay = rng.random_range(300..1200);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        acked.extend(lines);
    }
    assert!(acked.len() > 20, "the child wrote something before being killed: {}", acked.len());
    let store = engine.connect(2).await;
    let patients: Vec<String> = store.patients().await.unwrap().into_iter().map(|p| p.patient_id).collect();
    let aes: Vec<i64> = store.adverse_events().await.unwrap().into_iter().map(|a| a.ae_id).collect();
    for ack in &acked {
        match ack.split_once(' ') {
            Some(("patient", id)) => assert!(patients.iter().any(|p| p == id), "acknowledged patient {id} lost"),
            Some(("ae", id)) => assert!(aes.contains(&id.parse().unwrap()), "acknowledged adverse event {id} lost"),
            _ => panic!("unexpected line {ack}"),
        }
    }
    // No partial record: every patient has its screening and lesions and creation entries; every
    // adverse event its audit entry.
    let mut conn = engine.raw().await;
    for (sql, what) in [
        (
            "SELECT COUNT(*) AS n FROM patients p WHERE NOT EXISTS (SELECT 1 FROM screenings s WHERE s.patient_id = p.patient_id)",
            "patient without screening",
        ),
        (
            "SELECT COUNT(*) AS n FROM patients p WHERE NOT EXISTS (SELECT 1 FROM lesions l WHERE l.patient_id = p.patient_id)",
            "patient without lesions",
        ),
        (
            "SELECT COUNT(*) AS n FROM patients p WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'patient' AND a.entity_id = p.patient_id)",
            "patient without audit entry",
        ),
        (
            "SELECT COUNT(*) AS n FROM adverse_events e WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.entity = 'adverse_event' AND a.entity_id = CAST(e.ae_id AS TEXT))",
            "adverse event without audit entry",
        ),
    ] {
        let n: i64 = sqlx::query(sql).fetch_one(&mut conn).await.unwrap().try_get("n").unwrap();
        assert_eq!(n, 0, "{what}");
    }
    let report = store.verify_audit().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    eprintln!(
        "crash test: {} acknowledged writes over 6 kills, {} audit entries, chain intact",
        acked.len(),
        report.entries
    );
}
