//! The one error type of the crate.

use cryoseed_trial::TrialError;

/// Why a store operation was refused or failed. Every refusal names the entity and the field;
/// a refused write leaves the database as it was (each operation is one transaction).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A value was refused; `field` names it (`onset`, `observations[2].lesion_id`, …).
    #[error("{entity} {field}: {reason}")]
    Invalid {
        /// The entity being written (`adverse_event`, `assessment`, …).
        entity: &'static str,
        /// The offending field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A referenced record does not exist.
    #[error("{entity} {id} does not exist")]
    NotFound {
        /// The entity.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// A record with this id exists already.
    #[error("{entity} {id} already exists")]
    Duplicate {
        /// The entity.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// Optimistic versioning: the record changed since it was read.
    #[error("{entity} {id} was changed by someone else (version {expected} expected, {found} found); reload and retry")]
    Conflict {
        /// The entity.
        entity: &'static str,
        /// Its id.
        id: String,
        /// The version the writer read.
        expected: i64,
        /// The version now stored.
        found: i64,
    },
    /// The patient's data is locked.
    #[error("patient {patient_id} is locked: {action} refused (a data manager must unlock it with a reason)")]
    Locked {
        /// The patient.
        patient_id: String,
        /// What was attempted.
        action: String,
    },
    /// The user's role does not allow the action.
    #[error("user {user} ({role}) may not {action}")]
    Forbidden {
        /// The user id.
        user: String,
        /// The user's role, or `unknown user`.
        role: String,
        /// The action.
        action: String,
    },
    /// A trial rule refused the operation (randomization, CTCAE validation, endpoints).
    #[error(transparent)]
    Trial(#[from] TrialError),
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("database URL {0:?}: expected sqlite://PATH?mode=rwc or postgres://USER@HOST/DB")]
    Url(String),
    /// A migration could not be applied or does not match the one applied before.
    #[error("migration {version}: {reason}")]
    Migration {
        /// The schema version.
        version: i64,
        /// What is wrong.
        reason: String,
    },
    /// A stored value could not be read back (corrupted or edited outside the store).
    #[error("stored {entity} {id}: {reason}")]
    Corrupt {
        /// The entity.
        entity: &'static str,
        /// Its id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// The group commit that carried this write failed: the write is not stored (nor is any other
    /// write of the same group).
    #[error("database: the write was not committed: {0}")]
    NotCommitted(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub(crate) fn invalid(entity: &'static str, field: impl Into<String>, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid { entity, field: field.into(), reason: reason.into() }
}
