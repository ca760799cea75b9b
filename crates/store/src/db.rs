//! Connection, migrations and the serialized, audited write transaction.

use crate::audit::AuditEntry;
use crate::clock::now_utc;
use crate::error::{Result, StoreError};
use crate::model::Role;
use sha2::{Digest as _, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, AssertSqlSafe, Connection as _, Row as _, Transaction};
use std::sync::Arc;
use std::time::Duration;

/// The database engine behind a [`Store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded, one file, WAL journal).
    Sqlite,
    /// PostgreSQL (multi-site).
    Postgres,
}

impl Backend {
    /// The backend a URL names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url(url.to_owned()))
        }
    }
}

/// Connection settings beyond the URL.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Pool size.
    pub max_connections: u32,
    /// PostgreSQL only: a schema to work in (created if missing), e.g. one per test or per trial.
    pub schema: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions { max_connections: 8, schema: None }
    }
}

/// One embedded migration.
struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// The schema's versioned migrations (portable SQL, run unchanged on both engines).
const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "trial_records", sql: include_str!("../migrations/0001_trial_records.sql") },
    Migration { version: 2, name: "auth", sql: include_str!("../migrations/0002_auth.sql") },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 2;

/// Trial records in SQLite or PostgreSQL.
///
/// Cheap to clone (a pool handle). Every write is one transaction that also appends its audit
/// entries; writes are serialized on the audit chain's head (SQLite: `BEGIN IMMEDIATE`, one
/// writer; PostgreSQL: `SELECT … FOR UPDATE` on the head row), so the chain is linear and the
/// randomization slots are handed out strictly in order.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// In-process writer queue for SQLite, so that writers wait on a fair async lock instead of
    /// SQLite's busy-retry loop (other processes still meet `BEGIN IMMEDIATE` and the busy timeout).
    writer: Arc<tokio::sync::Mutex<()>>,
}

fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Url(format!("schema {name:?}: letters, digits and _ only")));
    }
    Ok(format!("\"{name}\""))
}

impl Store {
    /// Connects to `url` (`sqlite://trial.db?mode=rwc`, `postgres://user@host/db`) with default options.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, &ConnectOptions::default()).await
    }

    /// Connects with explicit options. SQLite: the file is switched to WAL and a 30 s busy
    /// timeout is set on every connection; `sqlite::memory:` is refused (each pooled connection
    /// would be a different database).
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let mut pool_options = AnyPoolOptions::new().max_connections(options.max_connections.max(1));
        match backend {
            Backend::Sqlite => {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Err(StoreError::Url(format!(
                        "{url}: in-memory SQLite is one database per connection; use a file"
                    )));
                }
                // Switch to WAL once, on a single connection, before the pool opens others
                // (the switch needs an exclusive lock that the busy timeout does not wait for).
                let mut conn = sqlx::AnyConnection::connect(url).await?;
                sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await?;
                conn.close().await?;
                pool_options = pool_options.after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
                        Ok(())
                    })
                });
            }
            Backend::Postgres => {
                if let Some(schema) = &options.schema {
                    let quoted = quote_ident(schema)?;
                    let mut conn = sqlx::AnyConnection::connect(url).await?;
                    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {quoted}")))
                        .execute(&mut conn)
                        .await?;
                    conn.close().await?;
                    let set = Arc::new(format!("SET search_path TO {quoted}"));
                    pool_options = pool_options.after_connect(move |conn, _| {
                        let set = Arc::clone(&set);
                        Box::pin(async move {
                            sqlx::query(AssertSqlSafe(set.as_str().to_owned())).execute(&mut *conn).await?;
                            Ok(())
                        })
                    });
                }
            }
        }
        let pool = pool_options.acquire_timeout(Duration::from_secs(60)).connect(url).await?;
        Ok(Store { pool, backend, writer: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The applied schema version (0 for an empty database).
    pub async fn schema_version(&self) -> Result<i64> {
        if !self.has_migrations_table().await? {
            return Ok(0);
        }
        let row =
            sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations").fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("v")?)
    }

    async fn has_migrations_table(&self) -> Result<bool> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            }
        };
        let row = sqlx::query(sql).fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Creates the schema in an empty database; refuses a database that already has one.
    pub async fn init(&self) -> Result<Vec<i64>> {
        if self.schema_version().await? > 0 {
            return Err(StoreError::Migration {
                version: self.schema_version().await?,
                reason: "the database is already initialised; use `db migrate` to upgrade it".into(),
            });
        }
        self.migrate().await
    }

    /// Applies every embedded migration not yet applied, each in its own transaction, and
    /// checks that the applied ones are byte-identical (SHA-256) to the embedded ones. Returns
    /// the versions applied now.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let _guard = self.writer.lock().await;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )
        .execute(&self.pool)
        .await?;
        let applied: Vec<(i64, String)> = sqlx::query("SELECT version, sha256 FROM schema_migrations ORDER BY version")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>("version")?, r.try_get::<String, _>("sha256")?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let mut done = Vec::new();
        for m in MIGRATIONS {
            let sha = hex(&Sha256::digest(m.sql.as_bytes()));
            if let Some((_, stored)) = applied.iter().find(|(v, _)| *v == m.version) {
                if *stored != sha {
                    return Err(StoreError::Migration {
                        version: m.version,
                        reason: format!("applied with SHA-256 {stored}, this build embeds {sha}"),
                    });
                }
                continue;
            }
            let mut tx = self.begin_raw().await?;
            for statement in split_statements(m.sql) {
                sqlx::query(AssertSqlSafe(statement.to_owned())).execute(&mut *tx).await.map_err(|e| {
                    StoreError::Migration { version: m.version, reason: format!("{e} in: {statement}") }
                })?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, name, sha256, applied_at) VALUES ($1, $2, $3, $4)")
                .bind(m.version)
                .bind(m.name)
                .bind(sha)
                .bind(now_utc())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            done.push(m.version);
        }
        if let Some((newest, _)) = applied.last()
            && *newest > SCHEMA_VERSION
        {
            return Err(StoreError::Migration {
                version: *newest,
                reason: format!("the database is newer than this build (schema {SCHEMA_VERSION})"),
            });
        }
        Ok(done)
    }

    async fn begin_raw(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Starts an audited write by `actor`: takes the writer lock and the chain head.
    pub(crate) async fn write(&self, actor: &str) -> Result<WriteTx<'_>> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.writer.lock().await),
            Backend::Postgres => None,
        };
        let mut tx = self.begin_raw().await?;
        let head_sql = match self.backend {
            Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
            Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        };
        let head = sqlx::query(head_sql).fetch_optional(&mut *tx).await?.ok_or_else(|| StoreError::Migration {
            version: 0,
            reason: "the database is not initialised; run `cryoseed db init`".into(),
        })?;
        let seq = head.try_get::<i64, _>("seq")?;
        let hash = head.try_get::<String, _>("hash")?;
        let role = if actor == SYSTEM_ACTOR {
            Some(Role::Admin)
        } else {
            sqlx::query("SELECT role FROM users WHERE user_id = $1")
                .bind(actor)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>("role"))
                .transpose()?
                .and_then(|r| Role::parse(&r))
        };
        Ok(WriteTx { tx, _guard: guard, seq, hash, at: now_utc(), actor: actor.to_owned(), role })
    }
}

/// The actor of changes made by the store itself (initialisation, the first administrator).
pub const SYSTEM_ACTOR: &str = "system";

fn split_statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| s.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with("--")))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One audited write transaction: the changes and their audit entries commit together.
pub(crate) struct WriteTx<'s> {
    pub(crate) tx: Transaction<'static, Any>,
    _guard: Option<tokio::sync::MutexGuard<'s, ()>>,
    seq: i64,
    hash: String,
    at: String,
    actor: String,
    role: Option<Role>,
}

impl WriteTx<'_> {
    /// Refuses the action unless the actor has one of `roles`.
    pub(crate) fn require(&self, roles: &[Role], action: &str) -> Result<()> {
        match self.role {
            Some(role) if roles.contains(&role) || role == Role::Admin && self.actor == SYSTEM_ACTOR => Ok(()),
            role => Err(StoreError::Forbidden {
                user: self.actor.clone(),
                role: role.map_or_else(|| "unknown user".to_owned(), |r| r.as_str().to_owned()),
                action: action.to_owned(),
            }),
        }
    }

    /// The UTC instant of this transaction.
    pub(crate) fn at(&self) -> &str {
        &self.at
    }

    /// The acting user.
    pub(crate) fn actor(&self) -> &str {
        &self.actor
    }

    /// Appends one audit entry (hash-chained to the previous one).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn audit(
        &mut self,
        action: &str,
        entity: &str,
        entity_id: &str,
        field: Option<&str>,
        old_value: Option<String>,
        new_value: Option<String>,
        reason: Option<&str>,
    ) -> Result<()> {
        let mut entry = AuditEntry {
            seq: self.seq + 1,
            at: self.at.clone(),
            actor: self.actor.clone(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_owned(),
            field: field.map(str::to_owned),
            old_value,
            new_value,
            reason: reason.map(str::to_owned),
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(entry.seq)
        .bind(&entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.entity)
        .bind(&entry.entity_id)
        .bind(&entry.field)
        .bind(&entry.old_value)
        .bind(&entry.new_value)
        .bind(&entry.reason)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *self.tx)
        .await?;
        self.seq = entry.seq;
        self.hash = entry.hash;
        Ok(())
    }

    /// Audits a field change when the value changed.
    pub(crate) async fn audit_change(
        &mut self,
        entity: &str,
        entity_id: &str,
        field: &str,
        old: Option<String>,
        new: Option<String>,
        reason: Option<&str>,
    ) -> Result<()> {
        if old != new {
            self.audit("update", entity, entity_id, Some(field), old, new, reason).await?;
        }
        Ok(())
    }

    /// Next id of a table whose ids the store assigns (safe: writes are serialized).
    pub(crate) async fn next_id(&mut self, table: &'static str, column: &'static str) -> Result<i64> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT COALESCE(MAX({column}), 0) + 1 AS n FROM {table}")))
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Moves the chain head and commits everything.
    pub(crate) async fn commit(mut self) -> Result<()> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.seq)
            .bind(&self.hash)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
