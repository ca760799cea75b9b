//! `cryoseed audit verify|log`: check the hash chain, read the trail.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::{json, print};
use anyhow::bail;

/// `cryoseed audit …`
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the audit trail; report the first broken entry (exit status 1).
    Verify {
        /// Database URL.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
    /// Print audit entries in order (tab-separated, or JSON with --json).
    Log {
        /// Database URL.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// Only entries about this entity id (a patient id, a site id…).
        #[arg(long)]
        entity_id: Option<String>,
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many entries.
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs an `audit` subcommand.
pub fn run(command: &AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { db } => block_on(async {
            let store = open_store(db).await?;
            let report = store.verify_audit().await?;
            match &report.first_broken {
                None => print(&format!("audit trail intact: {} entries, head {}\n", report.entries, report.head_hash)),
                Some(broken) => bail!(
                    "audit trail broken at entry {}: {} ({} entries verified before it)",
                    broken.seq,
                    broken.reason,
                    broken.seq - 1
                ),
            }
        }),
        AuditCommand::Log { db, entity_id, after, limit, json: as_json } => block_on(async {
            let store = open_store(db).await?;
            let entries = store.audit_log(entity_id.as_deref(), *after, *limit).await?;
            if *as_json {
                return json(&entries);
            }
            let mut text = String::from("seq\tat\tactor\taction\tentity\tentity_id\tfield\told\tnew\treason\n");
            for e in &entries {
                let cell = |v: &Option<String>| v.as_deref().unwrap_or("").replace(['\t', '\n'], " ");
                text.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    e.seq,
                    e.at,
                    e.actor,
                    e.action,
                    e.entity,
                    e.entity_id,
                    cell(&e.field),
                    cell(&e.old_value),
                    cell(&e.new_value),
                    cell(&e.reason)
                ));
            }
            print(&text)
        }),
    }
}
