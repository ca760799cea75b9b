//! Trial records on SQLite (embedded default: one file, WAL) or PostgreSQL (multi-site), chosen
//! by URL, with versioned migrations, a hash-chained append-only audit trail and concealed,
//! atomic randomization.
//!
//! - [`Store`]: connect (`sqlite://trial.db?mode=rwc`, `postgres://user@host/db`), `init` /
//!   `migrate`, then one async method per eCRF action, each taking the acting user's id. Roles
//!   ([`model::Role`]) are checked per action.
//! - Every write is **one transaction** that changes the records and appends their audit entries
//!   ([`audit`]), so a crash leaves either both or neither. Writes are serialized on the audit
//!   chain's head (SQLite `BEGIN IMMEDIATE` plus an in-process queue; PostgreSQL
//!   `SELECT … FOR UPDATE` on the head row): the chain is linear, and a randomization reads and
//!   takes the next free slot of its stratum with no other writer in between (distinct, gap-free
//!   sequence numbers).
//! - Lost updates: **optimistic versioning**. Mutable rows carry a `version`; an update names the
//!   version it read and is refused with [`StoreError::Conflict`] when another writer changed the
//!   row in between.
//! - Locked patients: every write that touches a patient's data is refused while the patient is
//!   locked ([`StoreError::Locked`]).
//! - Sign-in (schema 2, for the web service): Argon2id PHC strings made by the server, sessions
//!   stored as the SHA-256 of their token with a CSRF token and an expiry, per-user language;
//!   sign-in events and reads of unblinded data are audited ([`Store::record_view`]).
//! - Portability: the `sqlx` `Any` driver with one portable SQL subset (TEXT, BIGINT, DOUBLE
//!   PRECISION; `$n` placeholders; dates as `YYYY-MM-DD` text, instants as ISO-8601 UTC text);
//!   the same test suite runs on both engines. The one engine-specific spelling: long lists
//!   (adverse events) are read as one JSON array built by the database (`json_group_array` /
//!   `json_agg`), since the driver's cost per row, not the bytes, dominated reads under load.
//!
//! ```no_run
//! # async fn demo() -> Result<(), cryoseed_store::StoreError> {
//! use cryoseed_store::Store;
//! let store = Store::connect("sqlite://trial.db?mode=rwc").await?;
//! store.init().await?;
//! store.bootstrap_admin("admin", "Trial administrator").await?;
//! let report = store.verify_audit().await?;
//! assert!(report.is_intact());
//! # Ok(()) }
//! ```

pub mod audit;
mod auth;
mod clock;
mod db;
mod endpoints;
mod error;
pub mod export;
pub mod model;
mod randomization;
mod records;

pub use audit::{AuditEntry, AuditReport, BrokenEntry};
pub use auth::{LOCALES, SessionRecord};
pub use clock::{Clock, SimulatedClock};
pub use db::{Backend, ConnectOptions, SCHEMA_VERSION, SYSTEM_ACTOR, Store};
pub use endpoints::PendingAdjudication;
pub use error::{Result, StoreError};
pub use randomization::ListSummary;
pub use records::PatientStatus;
