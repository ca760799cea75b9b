//! Connection, migrations and the serialized, audited write transaction.

use crate::audit::AuditEntry;
use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::model::Role;
use sha2::{Digest as _, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, AssertSqlSafe, Connection as _, Row as _, Transaction};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

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
    Migration { version: 3, name: "site_country", sql: include_str!("../migrations/0003_site_country.sql") },
    Migration { version: 4, name: "patient_indexes", sql: include_str!("../migrations/0004_patient_indexes.sql") },
    Migration { version: 5, name: "plan_reviews", sql: include_str!("../migrations/0005_plan_reviews.sql") },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 5;

/// Trial records in SQLite or PostgreSQL.
///
/// Cheap to clone (a pool handle). Every write is all or nothing together with its audit
/// entries; writes are serialized on the audit chain's head (SQLite: `BEGIN IMMEDIATE`, one
/// writer; PostgreSQL: `SELECT … FOR UPDATE` on the head row), so the chain is linear and the
/// randomization slots are handed out strictly in order.
///
/// **Group commit.** A durable commit costs one flush of the log to disk (a few milliseconds
/// here), which would cap audited writes at a few hundred per second. So the writes that arrive
/// while one is being made share one database transaction: each runs in its own savepoint (a
/// refused write rolls back to it and leaves the others intact), in arrival order, and the
/// group commits once; every writer's call returns only after that commit, so an acknowledged
/// write is on disk, and a failed commit fails every write of the group. The first writer of a
/// group hands the commit to a spawned task (it is not cancelled with its caller).
///
/// **Round trips.** Writes are serialized, so each statement's round trip to the server adds to
/// every write's latency (PostgreSQL; SQLite is in-process). The group therefore keeps in memory
/// what only its own writes can change while it holds the chain head: the head itself (read
/// once per group) and the audit entries of its finished writes, which are inserted together
/// (a few multi-row `INSERT`s) just before the head moves and the group commits, in the same
/// transaction. A write's savepoint is not released (releasing costs a round trip and frees
/// nothing the commit would not); a refused write rolls back to its own, the newest one. The
/// next id of each store-numbered table and the actors' roles are read once and then kept
/// across groups while nobody else writes: every change of a user or of a numbered row through
/// a `Store` is audited and so moves the chain head, and a group that opens on a head other
/// than the one this store last committed empties both caches. A failed group, a refused or
/// failed write and (roles) any audited change of a user empty them too. (A role edited by hand
/// in SQL, bypassing the store and its audit trail, is seen after the next write by another
/// store, a refused write, or a restart.)
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// The open group (in-process writer queue: writers wait on a fair async lock, not on
    /// SQLite's busy-retry loop; other processes still meet `BEGIN IMMEDIATE` and the busy timeout).
    group: Arc<Mutex<Group>>,
    /// Writers waiting for the group lock (the committer lets them join before committing).
    queued: Arc<AtomicUsize>,
    /// Where transactions read their instant.
    clock: Clock,
}

/// The transaction shared by a group of writes.
#[derive(Debug, Default)]
pub(crate) struct Group {
    /// The open transaction, if a group is open.
    tx: Option<Transaction<'static, Any>>,
    /// The chain head after the group's writes so far.
    seq: i64,
    hash: String,
    /// A write left without committing (its caller failed or was cancelled): roll back to its
    /// savepoint before anything else.
    savepoint_open: bool,
    /// Writes done in this group.
    writes: usize,
    /// The audit entries of the group's finished writes, in chain order, not yet inserted.
    audit: Vec<AuditEntry>,
    /// The next id of each store-numbered table once read, and the roles of the actors seen:
    /// valid while the database's chain head is `committed_seq` (see `write`).
    next_ids: HashMap<&'static str, i64>,
    roles: HashMap<String, Role>,
    /// The chain head's sequence number after this store's last commit (`None` after a failure).
    committed_seq: Option<i64>,
    /// Whether a committer task is on its way for this group.
    committer: bool,
    /// Callers waiting for the group's commit.
    waiters: Vec<oneshot::Sender<std::result::Result<(), String>>>,
}

impl Group {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.tx.as_deref_mut().expect("a group is open")
    }

    /// Rolls back a write that was left without committing.
    async fn discard_open_write(&mut self) -> Result<()> {
        if self.savepoint_open {
            // A failed write may have met rows its caches did not expect (a row inserted by
            // hand): read them again.
            self.next_ids.clear();
            self.roles.clear();
            sqlx::query("ROLLBACK TO SAVEPOINT cryoseed_write").execute(self.conn()).await?;
            sqlx::query("RELEASE SAVEPOINT cryoseed_write").execute(self.conn()).await?;
            self.savepoint_open = false;
        }
        Ok(())
    }
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
        Ok(Store {
            pool,
            backend,
            group: Arc::new(Mutex::new(Group::default())),
            queued: Arc::new(AtomicUsize::new(0)),
            clock: Clock::System,
        })
    }

    /// The same store reading its instants from `clock` (a simulated trial sets a
    /// [`crate::SimulatedClock`] so that its audit trail is reproducible).
    pub fn with_clock(self, clock: Clock) -> Store {
        Store { clock, ..self }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// SQLite: copies every committed page from the write-ahead log into the database file and
    /// empties the log (`PRAGMA wal_checkpoint(TRUNCATE)`), so that the file alone holds the
    /// whole database; refused while another connection reads. PostgreSQL: nothing to do.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            let _guard = self.idle_group().await;
            let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
            if row.try_get::<i64, _>(0)? != 0 {
                return Err(StoreError::Migration {
                    version: 0,
                    reason: "checkpoint: another connection is using the database".into(),
                });
            }
        }
        Ok(())
    }

    /// SQLite: writes a compact, self-contained copy of the whole database to `path`, a file
    /// that must not exist yet (`VACUUM INTO`). The copy is built row by row in key order, so the
    /// same content always gives the same bytes, whatever the history of the write-ahead log and
    /// its checkpoints (which leaves traces such as the header's change counter in the live
    /// file). Writers wait while it runs. PostgreSQL: refused (use `pg_dump`).
    pub async fn compact_copy(&self, path: &std::path::Path) -> Result<()> {
        let refuse = |reason: String| StoreError::Invalid { entity: "database_copy", field: "path".into(), reason };
        if self.backend != Backend::Sqlite {
            return Err(refuse("a compact copy is made of SQLite databases only; use pg_dump for PostgreSQL".into()));
        }
        if path.exists() {
            return Err(refuse(format!("{} already exists; a copy never overwrites a file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| refuse(format!("{} is not valid UTF-8", path.display())))?;
        let _guard = self.idle_group().await;
        sqlx::query("VACUUM INTO $1").bind(target).execute(&self.pool).await?;
        Ok(())
    }

    /// Holds off writers once no write group is open (one that is open is about to commit).
    async fn idle_group(&self) -> tokio::sync::MutexGuard<'_, Group> {
        loop {
            let group = self.group.lock().await;
            if group.tx.is_none() {
                return group;
            }
            drop(group);
            tokio::task::yield_now().await;
        }
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
        let _guard = self.idle_group().await;
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
                .bind(self.clock.now())
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

    /// Starts an audited write by `actor`: joins the open group (or opens one, taking the chain
    /// head) inside a savepoint of its own.
    pub(crate) async fn write(&self, actor: &str) -> Result<WriteTx<'_>> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let mut group = Arc::clone(&self.group).lock_owned().await;
        self.queued.fetch_sub(1, Ordering::SeqCst);
        if group.tx.is_some() {
            if let Err(e) = group.discard_open_write().await {
                abandon(&mut group, &e.to_string());
                return Err(e);
            }
        } else {
            let mut tx = self.begin_raw().await?;
            let head_sql = match self.backend {
                Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
                Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            };
            let head = sqlx::query(head_sql).fetch_optional(&mut *tx).await?.ok_or_else(|| StoreError::Migration {
                version: 0,
                reason: "the database is not initialised; run `cryoseed db init`".into(),
            })?;
            group.seq = head.try_get::<i64, _>("seq")?;
            group.hash = head.try_get::<String, _>("hash")?;
            if group.committed_seq != Some(group.seq) {
                // Someone else has written since this store's last commit: roles and ids may
                // have changed.
                group.roles.clear();
                group.next_ids.clear();
            }
            group.tx = Some(tx);
        }
        if let Err(e) = sqlx::query("SAVEPOINT cryoseed_write").execute(group.conn()).await {
            abandon(&mut group, &e.to_string());
            return Err(e.into());
        }
        group.savepoint_open = true;
        let (seq, hash) = (group.seq, group.hash.clone());
        let cached_role = group.roles.get(actor).copied();
        let next_ids = group.next_ids.clone();
        // From here on, a failure drops the write, which rolls back to its savepoint.
        let mut write = WriteTx {
            tx: GroupConn(Some(group)),
            store: self,
            seq,
            hash,
            at: self.clock.now(),
            actor: actor.to_owned(),
            role: None,
            entries: Vec::new(),
            next_ids,
        };
        write.role = if actor == SYSTEM_ACTOR {
            Some(Role::Admin)
        } else if cached_role.is_some() {
            cached_role
        } else {
            let role = sqlx::query("SELECT role FROM users WHERE user_id = $1")
                .bind(actor)
                .fetch_optional(&mut *write.tx)
                .await?
                .map(|r| r.try_get::<String, _>("role"))
                .transpose()?
                .and_then(|r| Role::parse(&r));
            // Read before this write changed anything, from the group's view of the database.
            if let Some(role) = role {
                write.group().roles.insert(actor.to_owned(), role);
            }
            role
        };
        Ok(write)
    }
}

/// Gives up the open group after a failure that leaves its transaction unusable: every waiting
/// writer is told, and the transaction is rolled back (dropped).
fn abandon(group: &mut Group, reason: &str) {
    group.tx = None;
    group.savepoint_open = false;
    group.writes = 0;
    group.committer = false;
    group.audit.clear();
    group.next_ids.clear();
    // The roles may have been read from writes that are now rolled back.
    group.roles.clear();
    group.committed_seq = None;
    for w in group.waiters.drain(..) {
        let _ = w.send(Err(reason.to_owned()));
    }
}

/// Commits the group: waits while writers are queued for the lock (they join the group), then
/// moves the chain head and commits, and tells every writer of the group.
async fn commit_group(group: Arc<Mutex<Group>>, queued: Arc<AtomicUsize>) {
    for _ in 0..64 {
        if queued.load(Ordering::SeqCst) == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    let mut g = group.lock().await;
    let outcome: Result<()> = async {
        g.discard_open_write().await?;
        let entries = std::mem::take(&mut g.audit);
        insert_audit_entries(g.conn(), &entries).await?;
        let (seq, hash) = (g.seq, g.hash.clone());
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash)
            .execute(g.conn())
            .await?;
        g.tx.take().expect("a group is open").commit().await?;
        Ok(())
    }
    .await;
    match outcome {
        Ok(()) => {
            g.writes = 0;
            g.committer = false;
            g.committed_seq = Some(g.seq);
            for w in g.waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
        }
        Err(e) => abandon(&mut g, &e.to_string()),
    }
}

/// Audit entries per `INSERT` (12 parameters each: within SQLite's and PostgreSQL's limits).
const AUDIT_ROWS_PER_INSERT: usize = 256;

/// Inserts audit entries with as few statements as the parameter limits allow.
async fn insert_audit_entries(conn: &mut sqlx::AnyConnection, entries: &[AuditEntry]) -> Result<()> {
    for chunk in entries.chunks(AUDIT_ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash) VALUES ",
        );
        for row in 0..chunk.len() {
            let p = row * 12;
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for column in 1..=12 {
                let sep = if column == 1 { "" } else { ", " };
                write!(sql, "{sep}${}", p + column).expect("writing to a String");
            }
            sql.push(')');
        }
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(e.seq)
                .bind(e.at.clone())
                .bind(e.actor.clone())
                .bind(e.action.clone())
                .bind(e.entity.clone())
                .bind(e.entity_id.clone())
                .bind(e.field.clone())
                .bind(e.old_value.clone())
                .bind(e.new_value.clone())
                .bind(e.reason.clone())
                .bind(e.prev_hash.clone())
                .bind(e.hash.clone());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
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

/// The connection of a write: the group's transaction, held under the group lock.
pub(crate) struct GroupConn(Option<OwnedMutexGuard<Group>>);

impl Deref for GroupConn {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        self.0.as_ref().and_then(|g| g.tx.as_deref()).expect("a write holds an open group")
    }
}

impl DerefMut for GroupConn {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        self.0.as_mut().expect("a write holds the group").conn()
    }
}

/// One audited write: the changes and their audit entries commit together (with the other
/// writes of its group, see [`Store`]), or not at all.
pub(crate) struct WriteTx<'s> {
    pub(crate) tx: GroupConn,
    store: &'s Store,
    seq: i64,
    hash: String,
    at: String,
    actor: String,
    role: Option<Role>,
    /// This write's audit entries, handed to the group when it commits.
    entries: Vec<AuditEntry>,
    /// The group's next ids as this write moved them, handed to the group when it commits.
    next_ids: HashMap<&'static str, i64>,
}

impl Drop for WriteTx<'_> {
    /// A write dropped without [`WriteTx::commit`] (refused, failed or cancelled) stays open in
    /// its savepoint; make sure someone rolls it back and ends the group.
    fn drop(&mut self) {
        if let Some(mut group) = self.tx.0.take()
            && !group.committer
        {
            group.committer = true;
            drop(group);
            tokio::spawn(commit_group(Arc::clone(&self.store.group), Arc::clone(&self.store.queued)));
        }
    }
}

impl WriteTx<'_> {
    fn group(&mut self) -> &mut Group {
        self.tx.0.as_mut().expect("a write holds the group")
    }

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
        self.seq = entry.seq;
        self.hash = entry.hash.clone();
        // Inserted with the group's other entries just before it commits (see `Store`).
        self.entries.push(entry);
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

    /// Next id of a table whose ids the store assigns (safe: writes are serialized). Read once,
    /// then counted in memory (see [`Store`]).
    pub(crate) async fn next_id(&mut self, table: &'static str, column: &'static str) -> Result<i64> {
        let id = match self.next_ids.get(table) {
            Some(&id) => id,
            None => sqlx::query(AssertSqlSafe(format!("SELECT COALESCE(MAX({column}), 0) + 1 AS n FROM {table}")))
                .fetch_one(&mut *self.tx)
                .await?
                .try_get::<i64, _>("n")?,
        };
        self.next_ids.insert(table, id + 1);
        Ok(id)
    }

    /// Notes an id given by the caller (an import) in a table numbered by [`WriteTx::next_id`].
    pub(crate) fn claim_id(&mut self, table: &'static str, id: i64) {
        if let Some(next) = self.next_ids.get_mut(table) {
            *next = (*next).max(id + 1);
        }
    }

    /// Makes the write part of its group and waits until the group is committed (module docs
    /// of [`Store`]).
    pub(crate) async fn commit(mut self) -> Result<()> {
        let mut group = self.tx.0.take().expect("a write holds the group");
        // The savepoint stays (nested under the next write's); nothing rolls back to it now.
        group.savepoint_open = false;
        group.seq = self.seq;
        group.hash = std::mem::take(&mut self.hash);
        if self.entries.iter().any(|e| e.entity == "user") {
            group.roles.clear();
        }
        group.audit.append(&mut self.entries);
        group.next_ids = std::mem::take(&mut self.next_ids);
        group.writes += 1;
        let (done, acknowledged) = oneshot::channel();
        group.waiters.push(done);
        let lead = !group.committer;
        group.committer = true;
        drop(group);
        if lead {
            tokio::spawn(commit_group(Arc::clone(&self.store.group), Arc::clone(&self.store.queued)));
        }
        match acknowledged.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(StoreError::NotCommitted(reason)),
            Err(_) => Err(StoreError::NotCommitted("the committer stopped".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The group's in-memory state (chain head, next ids, pending audit entries, roles) against
    //! failures inside a group, on SQLite and, when `CRYOSEED_TEST_POSTGRES_URL` is set, on
    //! PostgreSQL.

    use super::{ConnectOptions, Store};
    use crate::StoreError;
    use crate::model::{Deviation, Role, Site, User};
    use crate::records::insert_deviation;
    use cryoseed_core::protocol::Protocol;
    use cryoseed_sim::{CohortConfig, cohort};
    use sqlx::{AssertSqlSafe, Connection as _};
    use std::future::Future;

    /// Where a test's store lives, and its screened patient.
    struct Fixture {
        url: String,
        options: ConnectOptions,
        patient: String,
    }

    /// Runs `body` on a current-thread runtime (so that the order in which writers queue is the
    /// order in which they are spawned) against a store with one site, one investigator
    /// (`inv`) and one screened patient.
    fn on_each_engine<F, Fut>(test: &str, body: F)
    where
        F: Fn(Store, Fixture) -> Fut,
        Fut: Future<Output = ()>,
    {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let sqlite = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let mut engines = vec![(sqlite, None)];
        match std::env::var("CRYOSEED_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => engines.push((url, Some(format!("u_{test}_{}", std::process::id())))),
            _ => {}
        }
        for (url, schema) in engines {
            rt.block_on(async {
                if let Some(schema) = &schema {
                    drop_schema(&url, schema).await;
                }
                let options = ConnectOptions { max_connections: 2, schema: schema.clone() };
                let store = Store::connect_with(&url, &options).await.unwrap();
                store.init().await.unwrap();
                store.bootstrap_admin("admin", "Admin").await.unwrap();
                let site =
                    Site { site_id: "SITE-01".into(), name: "Centre 1".into(), control_modality: None, country: None };
                store.add_site("admin", &site).await.unwrap();
                let inv = User { user_id: "inv".into(), name: "Inv".into(), role: Role::Investigator, site_id: None };
                store.add_user("admin", &inv).await.unwrap();
                let record = cohort(&CohortConfig { patients: 1, sites: 1, mix: Vec::new() }, 5).remove(0);
                store.record_screening("inv", &record, "2026-01-05", &Protocol::shipped()).await.unwrap();
                let fixture = Fixture { url: url.clone(), options, patient: record.patient_id.to_string() };
                body(store.clone(), fixture).await;
                store.close().await;
                if let Some(schema) = &schema {
                    drop_schema(&url, schema).await;
                }
            });
        }
    }

    async fn drop_schema(url: &str, schema: &str) {
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        sqlx::query(AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    fn deviation(patient_id: &str, description: &str) -> Deviation {
        Deviation {
            deviation_id: 0,
            patient_id: patient_id.into(),
            occurred_on: "2026-02-01".into(),
            category: "visit_window".into(),
            description: description.into(),
            major: false,
        }
    }

    /// Writer 1 finishes; writer 2, in the same group, inserts a row, audits it and then fails;
    /// writer 3 joins the same group after it. Writer 2's row, id and audit entry are gone, and
    /// writer 3's entry chains onto writer 1's.
    #[test]
    fn a_write_failing_mid_group_leaves_head_ids_and_audit_intact() {
        on_each_engine("midgroup", |store, Fixture { patient, .. }| async move {
            let before = store.verify_audit().await.unwrap();
            let mut first = store.write("inv").await.unwrap();
            let id1 = insert_deviation(&mut first, &deviation(&patient, "first")).await.unwrap();
            // Writers 2 and 3 queue for the group while writer 1 holds it.
            let (s2, p2) = (store.clone(), patient.clone());
            let second = tokio::spawn(async move {
                let mut w = s2.write("inv").await?;
                assert_eq!(w.group().writes, 1, "writer 2 joins writer 1's group");
                insert_deviation(&mut w, &deviation(&p2, "second, rolled back")).await?;
                // A statement error after the insert (PostgreSQL: the transaction is aborted
                // until the write's savepoint is rolled back to).
                let duplicate = sqlx::query("INSERT INTO deviations (deviation_id, patient_id, occurred_on, category, description, major, version) SELECT deviation_id, patient_id, occurred_on, category, description, major, version FROM deviations WHERE deviation_id = 1")
                    .execute(&mut *w.tx)
                    .await;
                assert!(duplicate.is_err(), "a duplicate id is refused by the database");
                Err::<i64, StoreError>(StoreError::NotCommitted("writer 2 fails after its insert".into()))
            });
            let (s3, p3) = (store.clone(), patient.clone());
            let third = tokio::spawn(async move {
                let mut w = s3.write("inv").await?;
                assert_eq!(w.group().writes, 1, "writer 3 joins the same group");
                let id = insert_deviation(&mut w, &deviation(&p3, "third")).await?;
                w.commit().await?;
                Ok::<i64, StoreError>(id)
            });
            for _ in 0..8 {
                tokio::task::yield_now().await;
            }
            assert_eq!(store.queued.load(std::sync::atomic::Ordering::SeqCst), 2, "writers 2 and 3 are queued");
            first.commit().await.unwrap();
            assert!(second.await.unwrap().is_err());
            let id3 = third.await.unwrap().unwrap();
            assert_eq!((id1, id3), (1, 2), "writer 3 reuses the id writer 2 gave back");
            let stored: Vec<(i64, String)> =
                store.deviations().await.unwrap().into_iter().map(|d| (d.deviation_id, d.description)).collect();
            assert_eq!(stored, vec![(1, "first".to_owned()), (2, "third".to_owned())]);
            let report = store.verify_audit().await.unwrap();
            assert!(report.is_intact(), "{report:?}");
            assert_eq!(report.entries, before.entries + 2);
            let log = store.audit_log(None, before.entries, 10).await.unwrap();
            assert_eq!(log.len(), 2);
            assert_eq!((log[0].entity_id.as_str(), log[1].entity_id.as_str()), ("1", "2"));
            assert_eq!(log[1].prev_hash, log[0].hash, "writer 3's entry chains onto writer 1's");
            assert_eq!(log[0].prev_hash, before.head_hash);
            // The next group starts from the committed head and ids.
            store.record_deviation("inv", &deviation(&patient, "fourth")).await.unwrap();
            assert_eq!(store.deviations().await.unwrap().last().unwrap().deviation_id, 3);
            assert!(store.verify_audit().await.unwrap().is_intact());
        });
    }

    /// A write with more audit entries than one multi-row insert holds.
    #[test]
    fn a_write_with_many_audit_entries_commits_them_all_in_order() {
        on_each_engine("many", |store, _| async move {
            let before = store.verify_audit().await.unwrap().entries;
            let mut w = store.write("admin").await.unwrap();
            for i in 0..600 {
                w.audit("view", "patient", &format!("P{i}"), None, None, None, Some("bulk")).await.unwrap();
            }
            w.commit().await.unwrap();
            let report = store.verify_audit().await.unwrap();
            assert!(report.is_intact(), "{report:?}");
            assert_eq!(report.entries, before + 600);
            let log = store.audit_log(None, before, 1000).await.unwrap();
            assert_eq!(log.first().unwrap().entity_id, "P0");
            assert_eq!(log.last().unwrap().entity_id, "P599");
        });
    }

    /// The roles kept across groups are dropped as soon as another writer has moved the chain
    /// head: a role changed by another process (here: raw SQL, then another store's write)
    /// takes effect on this store's next write.
    #[test]
    fn cached_roles_are_dropped_when_another_writer_moved_the_head() {
        on_each_engine("roles", |store, Fixture { url, options, patient }| async move {
            store.record_deviation("inv", &deviation(&patient, "as investigator")).await.unwrap();
            let mut other = store.pool.acquire().await.unwrap();
            sqlx::query("UPDATE users SET role = 'reader' WHERE user_id = 'inv'").execute(&mut *other).await.unwrap();
            drop(other);
            // A second store (another process) writes: the head moves.
            let elsewhere = Store::connect_with(&url, &options).await.unwrap();
            elsewhere
                .add_site(
                    "admin",
                    &Site { site_id: "SITE-02".into(), name: "Centre 2".into(), control_modality: None, country: None },
                )
                .await
                .unwrap();
            elsewhere.close().await;
            let err = store.record_deviation("inv", &deviation(&patient, "as reader")).await.unwrap_err();
            assert!(matches!(err, StoreError::Forbidden { ref role, .. } if role == "reader"), "{err}");
        });
    }
}
