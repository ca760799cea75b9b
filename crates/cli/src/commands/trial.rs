//! `cryoseed trial export|import`: a whole trial as one `cryoseed-trial` JSON document.
//!
//! A subcommand of `trial` (not a top-level `import`/`export`) because `cryoseed import` already
//! imports DICOM series.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::print;
use anyhow::{Context, bail};
use cryoseed_store::export::TrialDocument;
use std::io::Write as _;
use std::path::PathBuf;

/// `cryoseed trial …`
#[derive(Debug, clap::Subcommand)]
pub enum TrialCommand {
    /// Export every record and allocation (never the concealed list) as JSON; the export is
    /// audited. Never overwrites an existing file.
    Export {
        /// Database URL.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The exporting user (statistician, data manager or admin).
        #[arg(long = "as", value_name = "USER")]
        actor: String,
        /// Output JSON file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a trial JSON document into a new database (after `db init`), all or nothing.
    Import {
        /// Database URL.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// The importing administrator.
        #[arg(long = "as", value_name = "USER")]
        actor: String,
        /// The `cryoseed-trial` JSON file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
    },
}

/// Runs a `trial` subcommand.
pub fn run(command: &TrialCommand) -> anyhow::Result<()> {
    match command {
        TrialCommand::Export { db, actor, out } => block_on(async {
            if out.exists() {
                bail!("{} exists already; choose another --out", out.display());
            }
            let store = open_store(db).await?;
            let doc = store.export_trial(actor).await?;
            let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut tmp =
                tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write in {}", dir.display()))?;
            tmp.write_all(doc.to_json().as_bytes())?;
            tmp.persist_noclobber(out).with_context(|| format!("cannot write {}", out.display()))?;
            print(&format!(
                "exported {} patients, {} allocations, {} adverse events to {}\n",
                doc.patients.len(),
                doc.allocations.len(),
                doc.adverse_events.len(),
                out.display()
            ))
        }),
        TrialCommand::Import { db, actor, input } => block_on(async {
            let text = std::fs::read_to_string(input).with_context(|| format!("cannot read {}", input.display()))?;
            let doc = TrialDocument::parse(&text).with_context(|| format!("{}", input.display()))?;
            let store = open_store(db).await?;
            store
                .import_trial(actor, &doc)
                .await
                .with_context(|| format!("{}: nothing was imported", input.display()))?;
            print(&format!("imported {} patients from {} into {db}\n", doc.patients.len(), input.display()))
        }),
    }
}
