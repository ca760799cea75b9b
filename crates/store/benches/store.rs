//! Sustained audited writes: 8 concurrent writers, each recording adverse events (one record and
//! its hash-chained audit entry per transaction), on SQLite (a WAL file, synchronous = FULL) and
//! on PostgreSQL when `CRYOSEED_TEST_POSTGRES_URL` is set.
//!
//! Run with `cargo bench -p cryoseed-store --bench store`; figures in BENCHMARKS.md.

#![allow(clippy::print_stderr, reason = "says when the PostgreSQL benchmark is skipped")]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cryoseed_core::Modality;
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::model::{AdverseEventForm, Role, Site, User};
use cryoseed_store::{ConnectOptions, Store};
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty};
use rand::{RngExt as _, SeedableRng as _};
use std::time::{Duration, Instant};

const WRITERS: usize = 8;
const TERMS: [(&str, u8); 6] =
    [("Pain", 3), ("Fatigue", 3), ("Nausea", 3), ("Fever", 3), ("Hypertension", 4), ("Pneumothorax", 4)];

/// A store with two sites, 8 investigators and 40 screened patients.
async fn prepare(url: &str, schema: Option<String>) -> (Store, Vec<String>) {
    let store = Store::connect_with(url, &ConnectOptions { max_connections: WRITERS as u32, schema }).await.unwrap();
    store.init().await.unwrap();
    store.bootstrap_admin("admin", "Admin").await.unwrap();
    for i in 1..=2 {
        let site = Site {
            site_id: format!("SITE-{i:02}"),
            name: format!("Centre {i}"),
            control_modality: Some(Modality::Cryo),
            country: None,
        };
        store.add_site("admin", &site).await.unwrap();
    }
    for w in 0..WRITERS {
        let user = User {
            user_id: format!("inv{w}"),
            name: format!("Investigator {w}"),
            role: Role::Investigator,
            site_id: None,
        };
        store.add_user("admin", &user).await.unwrap();
    }
    let p = cryoseed_core::protocol::Protocol::shipped();
    let mut ids = Vec::new();
    for r in cohort(&CohortConfig { patients: 40, sites: 2, mix: Vec::new() }, 1) {
        store.record_screening("inv0", &r, "2026-01-05", &p).await.unwrap();
        ids.push(r.patient_id.to_string());
    }
    (store, ids)
}

/// Seeded adverse-event forms.
fn forms(ids: &[String], n: usize, seed: u64) -> Vec<AdverseEventForm> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let (term, max_grade) = TERMS[rng.random_range(0..TERMS.len())];
            AdverseEventForm {
                patient_id: ids[rng.random_range(0..ids.len())].clone(),
                term: term.into(),
                grade: rng.random_range(1..=max_grade),
                specification: None,
                attributions: vec![Attribution { cause: Cause::Cryoablation, certainty: Certainty::Possible }],
                serious: Vec::new(),
                onset: format!("2026-02-{:02}", rng.random_range(1..=28)),
                resolution: None,
                meddra_version: "28.0".into(),
            }
        })
        .collect()
}

fn bench_backend(c: &mut Criterion, name: &str, url: &str, schema: Option<String>) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let (store, ids) = rt.block_on(prepare(url, schema));
    let mut group = c.benchmark_group("store");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(WRITERS as u64));
    let mut round = 0u64;
    group.bench_function(format!("audited_writes_8_writers_{name}"), |b| {
        b.iter_custom(|iters| {
            round += 1;
            let per_writer: Vec<Vec<AdverseEventForm>> =
                (0..WRITERS).map(|w| forms(&ids, iters as usize, round * 100 + w as u64)).collect();
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = per_writer
                    .into_iter()
                    .enumerate()
                    .map(|(w, forms)| {
                        let store = store.clone();
                        tokio::spawn(async move {
                            for f in &forms {
                                store.record_adverse_event(&format!("inv{w}"), f).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    let report = rt.block_on(store.verify_audit()).unwrap();
    assert!(report.is_intact(), "{report:?}");
}

fn writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    bench_backend(c, "sqlite", &url, None);
    match std::env::var("CRYOSEED_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!("bench_{}", std::process::id());
            bench_backend(c, "postgres", &url, Some(schema.clone()));
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Connection as _;
                let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            });
        }
        _ => eprintln!("audited_writes_8_writers_postgres skipped: set CRYOSEED_TEST_POSTGRES_URL"),
    }
}

criterion_group!(benches, writes);
criterion_main!(benches);
