//! The trial database from the command line: init, import, stored randomization, endpoints,
//! audit verify and log, export; a tampered entry makes `audit verify` fail naming it.

use crate::{cryoseed, stderr, stdout};
use cryoseed_core::Modality;
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::Store;
use cryoseed_store::model::{Role, Site, User};

/// A source database with two sites, the users and 8 screened patients, exported through the CLI.
fn trial_json(dir: &std::path::Path) -> std::path::PathBuf {
    let url = format!("sqlite://{}?mode=rwc", dir.join("source.db").display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::connect(&url).await.unwrap();
        store.init().await.unwrap();
        store.bootstrap_admin("admin", "Admin").await.unwrap();
        for (i, m) in [(1, Modality::Cryo), (2, Modality::Seeds)] {
            let site = Site {
                site_id: format!("SITE-{i:02}"),
                name: format!("Centre {i}"),
                control_modality: Some(m),
                country: None,
            };
            store.add_site("admin", &site).await.unwrap();
        }
        for (id, role) in [("inv1", Role::Investigator), ("stat1", Role::Statistician), ("dm1", Role::DataManager)] {
            store.add_user("admin", &User { user_id: id.into(), name: id.into(), role, site_id: None }).await.unwrap();
        }
        let p = cryoseed_core::protocol::Protocol::shipped();
        for r in cohort(&CohortConfig { patients: 8, sites: 2, mix: Vec::new() }, 3) {
            store.record_screening("inv1", &r, "2026-01-05", &p).await.unwrap();
        }
        store.close().await;
    });
    let out = dir.join("trial.json");
    let o = cryoseed(&["trial", "export", "--db", &url, "--as", "dm1", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Never overwritten.
    let again = cryoseed(&["trial", "export", "--db", &url, "--as", "dm1", "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    out
}

#[test]
fn trial_database_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = trial_json(dir.path());
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("trial.db").display());
    let o = cryoseed(&["db", "init", "--db", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!("schema version {}", cryoseed_store::SCHEMA_VERSION);
    assert!(stdout(&o).contains(&expected), "{}", stdout(&o));
    let o = cryoseed(&["db", "init", "--db", &db]);
    assert_eq!(o.status.code(), Some(1), "a second init is refused");
    let o = cryoseed(&["db", "migrate", "--db", &db]);
    assert!(stdout(&o).contains("up to date"), "{}", stdout(&o));

    let o = cryoseed(&["trial", "import", "--db", &db, "--as", "admin", "--in", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("imported 8 patients"), "{}", stdout(&o));

    let o = cryoseed(&[
        "randomization",
        "generate",
        "--db",
        &db,
        "--as",
        "stat1",
        "--sites",
        "SITE-01,SITE-02",
        "--seed",
        "7",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("permuted_blocks allocation list"), "{}", stdout(&o));
    let o = cryoseed(&["randomize", "--db", &db, "--as", "inv1", "--patient", "SIM-0001", "--date", "2026-01-10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("sequence number 1"), "{}", stdout(&o));
    let o = cryoseed(&["randomize", "--db", &db, "--as", "inv1", "--patient", "SIM-0001", "--date", "2026-01-10"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already randomized"), "{}", stderr(&o));

    let out = dir.path().join("datasets");
    let o = cryoseed(&["endpoints", "--db", &db, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tte = std::fs::read_to_string(out.join("time_to_event.csv")).unwrap();
    assert!(tte.starts_with("patient_id,arm,stratum,endpoint,time_days,date,status,reason\n"));
    assert_eq!(tte.lines().count(), 1 + 5, "one randomized patient, five endpoints");
    for name in ["patients.csv", "lesions.csv", "burden.csv"] {
        assert!(out.join(name).exists(), "{name}");
    }

    let o = cryoseed(&["audit", "verify", "--db", &db]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("audit trail intact"), "{}", stdout(&o));
    let o = cryoseed(&["audit", "log", "--db", &db, "--entity-id", "SIM-0001"]);
    assert!(stdout(&o).lines().any(|l| l.contains("\trandomize\t")), "{}", stdout(&o));

    // Edit an entry behind the store's back.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4").execute(&mut conn).await.unwrap();
    });
    let o = cryoseed(&["audit", "verify", "--db", &db]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("broken at entry 4"), "{}", stderr(&o));
}

#[test]
fn a_bad_database_url_is_named() {
    let o = cryoseed(&["audit", "verify", "--db", "mysql://x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("mysql://x"), "{}", stderr(&o));
}
