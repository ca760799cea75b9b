//! The append-only, hash-chained audit trail.
//!
//! Entry n stores `hash_n = SHA-256(canonical(entry_n) ‖ …)` where the canonical form is the
//! compact JSON array `[seq, at, actor, action, entity, entity_id, field, old_value, new_value,
//! reason, prev_hash]` (nulls as `null`) and `prev_hash` is `hash_{n-1}` (64 zeros for the first
//! entry). Editing any stored field, deleting or inserting an entry, or cutting the tail (the
//! head row keeps the last sequence number and hash) breaks the chain at that entry.

use crate::db::Store;
use crate::error::Result;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// 1-based position in the chain.
    pub seq: i64,
    /// UTC instant, ISO-8601.
    pub at: String,
    /// The user who made the change.
    pub actor: String,
    /// `create`, `update`, `randomize`, `unblind`, `sign`, `lock`, `unlock`, `export`, `import`, …
    pub action: String,
    /// Table-level entity (`patient`, `adverse_event`, …).
    pub entity: String,
    /// The entity's id.
    pub entity_id: String,
    /// The field changed (`None` for a whole-record creation or a state transition).
    pub field: Option<String>,
    /// The value before.
    pub old_value: Option<String>,
    /// The value after (for a creation, the record as canonical JSON).
    pub new_value: Option<String>,
    /// Why (mandatory for updates of entered data, unlocks and unblindings).
    pub reason: Option<String>,
    /// The hash of the previous entry.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl AuditEntry {
    /// SHA-256 (hex) of the canonical form.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            self.at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.field,
            self.old_value,
            self.new_value,
            self.reason,
            self.prev_hash,
        ]);
        crate::db::hex(&Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Where and why the chain is broken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenEntry {
    /// The first entry that does not verify (for a cut tail: the head's sequence number).
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// The result of [`Store::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: i64,
    /// The hash of the last entry (the chain head).
    pub head_hash: String,
    /// The first broken entry, if any.
    pub first_broken: Option<BrokenEntry>,
}

impl AuditReport {
    /// Whether the whole chain verifies.
    pub fn is_intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

fn entry_of(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        field: row.try_get("field")?,
        old_value: row.try_get("old_value")?,
        new_value: row.try_get("new_value")?,
        reason: row.try_get("reason")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

const SELECT_ENTRIES: &str = "SELECT seq, at, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash FROM audit_log";

impl Store {
    /// Checks the whole chain: consecutive sequence numbers from 1, each `prev_hash` equal to the
    /// previous entry's hash, each hash recomputed from the stored fields, and the head row equal
    /// to the last entry. Reports the first broken entry. Reads in pages of 5 000 entries.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let mut expected_seq = 1i64;
        let mut prev = GENESIS_HASH.to_owned();
        let mut broken = None;
        'pages: loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, entity, entity_id, field, old_value, new_value, reason, prev_hash, hash \
                 FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000",
            )
            .bind(expected_seq)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let e = entry_of(row)?;
                let reason = if e.seq != expected_seq {
                    Some(format!("sequence number {} where {expected_seq} was expected (entry missing)", e.seq))
                } else if e.prev_hash != prev {
                    Some(format!("prev_hash {} does not match the hash of entry {}", e.prev_hash, expected_seq - 1))
                } else if e.compute_hash() != e.hash {
                    Some("stored hash does not match the entry's content (the entry was edited)".to_owned())
                } else {
                    None
                };
                if let Some(reason) = reason {
                    broken = Some(BrokenEntry { seq: expected_seq, reason });
                    break 'pages;
                }
                prev = e.hash;
                expected_seq += 1;
            }
        }
        let entries = expected_seq - 1;
        if broken.is_none() {
            let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(&self.pool).await?;
            let (head_seq, head_hash): (i64, String) = (head.try_get("seq")?, head.try_get("hash")?);
            if head_seq != entries || head_hash != prev {
                broken = Some(BrokenEntry {
                    seq: head_seq.min(entries + 1),
                    reason: format!(
                        "the chain head says {head_seq} entries ending in {head_hash}, the log has {entries} ending in {prev} (entries removed or head edited)"
                    ),
                });
            }
        }
        Ok(AuditReport { entries, head_hash: prev, first_broken: broken })
    }

    /// Audit entries in order, optionally for one entity id (e.g. a patient), from `after_seq`.
    pub async fn audit_log(&self, entity_id: Option<&str>, after_seq: i64, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = match entity_id {
            Some(id) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{SELECT_ENTRIES} WHERE seq > $1 AND entity_id = $2 ORDER BY seq LIMIT $3"
                )))
                .bind(after_seq)
                .bind(id.to_owned())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_ENTRIES} WHERE seq > $1 ORDER BY seq LIMIT $2")))
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(entry_of).collect()
    }
}
