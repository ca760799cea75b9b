//! Runs each acceptance test body on SQLite (a temp file) and on PostgreSQL (its own schema in
//! `CRYOSEED_TEST_POSTGRES_URL`; skipped with a message when the variable is unset).

use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Modality, SiteId};
use cryoseed_sim::{CohortConfig, cohort};
use cryoseed_store::model::{Role, Site, User};
use cryoseed_store::{ConnectOptions, Store};
use std::future::Future;

/// The environment variable naming the PostgreSQL test server.
pub const PG_VAR: &str = "CRYOSEED_TEST_POSTGRES_URL";

/// One engine to run on.
pub enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Engine {
    pub fn sqlite() -> Engine {
        Engine::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    /// `None` (and a message) when the variable is unset.
    pub fn postgres(test: &str) -> Option<Engine> {
        match std::env::var(PG_VAR) {
            Ok(url) if !url.is_empty() => {
                Some(Engine::Postgres { url, schema: format!("t_{test}_{}", std::process::id()) })
            }
            _ => {
                eprintln!("{test} on PostgreSQL skipped: set {PG_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test)");
                None
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            Engine::Sqlite(dir) => format!("sqlite://{}?mode=rwc", dir.path().join("trial.db").display()),
            Engine::Postgres { url, .. } => url.clone(),
        }
    }

    pub fn options(&self, max_connections: u32) -> ConnectOptions {
        ConnectOptions {
            max_connections,
            schema: match self {
                Engine::Sqlite(_) => None,
                Engine::Postgres { schema, .. } => Some(schema.clone()),
            },
        }
    }

    pub async fn connect(&self, max_connections: u32) -> Store {
        Store::connect_with(&self.url(), &self.options(max_connections)).await.expect("connect")
    }

    /// Drops a leftover schema of the same name, then connects and initialises.
    pub async fn fresh(&self, max_connections: u32) -> Store {
        if let Engine::Postgres { url, schema } = self {
            drop_schema(url, schema).await;
        }
        let store = self.connect(max_connections).await;
        store.init().await.expect("init");
        store
    }

    /// A raw connection behind the store's back (to tamper, or to count rows).
    pub async fn raw(&self) -> sqlx::AnyConnection {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.url()).await.expect("raw connection");
        if let Engine::Postgres { schema, .. } = self {
            sqlx::query(sqlx::AssertSqlSafe(format!("SET search_path TO \"{schema}\"")))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn
    }

    pub async fn cleanup(&self) {
        if let Engine::Postgres { url, schema } = self {
            drop_schema(url, schema).await;
        }
    }
}

async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect to PostgreSQL");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
        .execute(&mut conn)
        .await
        .expect("drop schema");
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime")
}

/// Runs `body` with a fresh, initialised store on `engine`.
pub fn run_on<F, Fut>(engine: Engine, body: F)
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = Engine>,
{
    let rt = runtime();
    rt.block_on(async move {
        let engine = body(engine).await;
        engine.cleanup().await;
    });
}

/// Generates `sqlite` and `postgres` tests for an `async fn(&Engine)` body.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    $crate::common::run_on($crate::common::Engine::sqlite(), |e| async move {
                        super::$name(&e).await;
                        e
                    });
                }
                #[test]
                fn postgres() {
                    if let Some(engine) = $crate::common::Engine::postgres(stringify!($name)) {
                        $crate::common::run_on(engine, |e| async move {
                            super::$name(&e).await;
                            e
                        });
                    }
                }
            }
        )*
    };
}

pub const ADMIN: &str = "admin";
pub const INV: &str = "inv1";
pub const STAT: &str = "stat1";
pub const DM: &str = "dm1";
pub const R1: &str = "reader1";
pub const R2: &str = "reader2";
pub const ADJ: &str = "adj1";

pub fn protocol() -> Protocol {
    Protocol::shipped()
}

/// Sites SITE-01..n (control modality declared unless `declare` is false), the users.
pub async fn setup(store: &Store, sites: usize, declare: bool) {
    store.bootstrap_admin(ADMIN, "Admin").await.unwrap();
    for i in 1..=sites {
        let site = Site {
            site_id: format!("SITE-{i:02}"),
            name: format!("Centre {i}"),
            control_modality: declare.then_some(if i % 2 == 1 { Modality::Cryo } else { Modality::Seeds }),
            country: Some("CHN".into()),
        };
        store.add_site(ADMIN, &site).await.unwrap();
    }
    for (id, role) in [
        (INV, Role::Investigator),
        (STAT, Role::Statistician),
        (DM, Role::DataManager),
        (R1, Role::Reader),
        (R2, Role::Reader),
        (ADJ, Role::Adjudicator),
    ] {
        store.add_user(ADMIN, &User { user_id: id.into(), name: id.into(), role, site_id: None }).await.unwrap();
    }
}

pub fn site_ids(n: usize) -> Vec<SiteId> {
    (1..=n).map(|i| SiteId::parse(format!("SITE-{i:02}")).unwrap()).collect()
}

/// Screens `n` eligible synthetic patients (all eligible) and returns their ids.
pub async fn screen_eligible(store: &Store, n: usize, sites: usize, seed: u64) -> Vec<String> {
    let records = cohort(&CohortConfig { patients: n, sites, mix: Vec::new() }, seed);
    let p = protocol();
    let mut ids = Vec::new();
    for r in &records {
        let s = store.record_screening(INV, r, "2026-01-05", &p).await.unwrap();
        assert_eq!(s.status, "eligible", "{}: {:?}", r.patient_id, s.criteria);
        ids.push(r.patient_id.to_string());
    }
    ids
}
