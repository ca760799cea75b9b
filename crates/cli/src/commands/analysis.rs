//! The trial-level outputs read from a trial database: `cryoseed report` (the analysis report)
//! and `cryoseed export --db` (CDISC SDTM / ADaM, de-identified IPD).
//!
//! Library use (e.g. from `cryoseed demo`): [`load`] a [`TrialData`] from a store, then
//! [`write_report`], [`write_sdtm`], [`write_adam`], [`write_ipd`]; each writes its directory in
//! full or not at all and returns what it wrote.

use crate::commands::{block_on, open_store};
use crate::output::{self, print};
use anyhow::Context;
use cryoseed_core::protocol::Protocol;
use cryoseed_report::{AnalysisSummary, TrialInput, bundle};
use cryoseed_response::PatientAssessment;
use cryoseed_store::Store;
use cryoseed_store::export::TrialDocument;
use cryoseed_trial::endpoints::AnalysisDatasets;
use std::path::{Path, PathBuf};

/// Everything the trial-level builders read, owned.
#[derive(Debug)]
pub struct TrialData {
    /// The stored records.
    pub doc: TrialDocument,
    /// The analysis datasets.
    pub datasets: AnalysisDatasets,
    /// Every randomized patient's response assessment.
    pub assessments: Vec<PatientAssessment>,
}

impl TrialData {
    /// The builders' view, with `protocol`.
    pub fn input<'a>(&'a self, protocol: &'a Protocol) -> TrialInput<'a> {
        TrialInput { doc: &self.doc, datasets: &self.datasets, assessments: &self.assessments, protocol }
    }
}

/// Reads the snapshot, derives the analysis datasets and the response assessments.
pub async fn load(store: &Store, protocol: &Protocol) -> anyhow::Result<TrialData> {
    let doc = store.snapshot().await.context("cannot read the trial records")?;
    let (datasets, assessments) = store.analysis(protocol).await.context("cannot derive the analysis datasets")?;
    Ok(TrialData { doc, datasets, assessments })
}

/// The software version printed in reports.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The files [`write_report`] writes, in order.
pub const REPORT_FILES: [&str; 3] = ["analysis.html", "analysis.pdf", "analysis.json"];

/// Writes `analysis.html`, `analysis.pdf` and `analysis.json` into `dir` (absent or empty).
pub fn write_report(dir: &Path, data: &TrialData, protocol: &Protocol) -> anyhow::Result<AnalysisSummary> {
    let (files, summary) = bundle::report_files(&data.input(protocol), SOFTWARE_VERSION);
    write_files(dir, "--out", &files)?;
    Ok(summary)
}

/// Writes `files` into `dir` (absent or empty), all or nothing; returns their names.
fn write_files(dir: &Path, flag: &str, files: &bundle::Files) -> anyhow::Result<Vec<String>> {
    output::write_dir_atomically(dir, flag, |staging| {
        for (name, bytes) in files {
            std::fs::write(staging.join(name), bytes).with_context(|| format!("cannot write {name}"))?;
        }
        Ok(())
    })?;
    Ok(files.iter().map(|(n, _)| n.clone()).collect())
}

/// SDTM domains as CSV and XPT with the dictionary; returns the file names.
pub fn write_sdtm(dir: &Path, data: &TrialData, protocol: &Protocol) -> anyhow::Result<Vec<String>> {
    let files = bundle::sdtm_files(&data.input(protocol)).context("--sdtm: cannot write the transport files")?;
    write_files(dir, "--sdtm", &files)
}

/// ADaM datasets as CSV and XPT with the dictionary; returns the file names.
pub fn write_adam(dir: &Path, data: &TrialData, protocol: &Protocol) -> anyhow::Result<Vec<String>> {
    let files = bundle::adam_files(&data.input(protocol)).context("--adam: cannot write the transport files")?;
    write_files(dir, "--adam", &files)
}

/// De-identified IPD as CSV with the dictionary (no XPT: its header time would be a date).
pub fn write_ipd(dir: &Path, data: &TrialData, protocol: &Protocol, seed: u64) -> anyhow::Result<Vec<String>> {
    write_files(dir, "--ipd", &bundle::ipd_files(&data.input(protocol), seed))
}

/// Flags of `cryoseed export` for the trial database.
#[derive(Debug, clap::Args)]
pub struct TrialExportArgs {
    /// Trial database URL: export the stored trial (with --sdtm, --adam, --ipd) instead of DICOM.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Output folder (absent or empty) for the CDISC SDTM domains DM, EX, PR, TU, TR, RS, AE, DS,
    /// SV, TS as CSV and SAS transport v5 (.xpt), with define.csv / define.json.
    #[arg(long, value_name = "DIR", requires = "db")]
    pub sdtm: Option<PathBuf>,
    /// Output folder for the ADaM datasets ADSL, ADTTE, ADRS, ADAE (CSV, .xpt, define).
    #[arg(long, value_name = "DIR", requires = "db")]
    pub adam: Option<PathBuf>,
    /// Output folder for de-identified individual participant data (CSV, define): no
    /// identifiers, days from randomization instead of dates, ages over 89 as 90+, no free text.
    #[arg(long, value_name = "DIR", requires_all = ["db", "ipd_seed"])]
    pub ipd: Option<PathBuf>,
    /// Seed of the random participant codes of --ipd (keep it secret: with it and the study ids
    /// the codes can be re-linked).
    #[arg(long, value_name = "S", requires = "ipd")]
    pub ipd_seed: Option<u64>,
}

/// Runs `cryoseed export --db …`.
pub fn run_export(args: &TrialExportArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let db = args.db.as_deref().context("--db is required")?;
    if args.sdtm.is_none() && args.adam.is_none() && args.ipd.is_none() {
        anyhow::bail!("--db: give at least one of --sdtm DIR, --adam DIR, --ipd DIR");
    }
    for (flag, dir) in [("--sdtm", &args.sdtm), ("--adam", &args.adam), ("--ipd", &args.ipd)] {
        if let Some(dir) = dir {
            output::check_out_dir(dir, flag)?;
        }
    }
    let data = block_on(async {
        let store = open_store(db).await?;
        load(&store, protocol).await
    })?;
    let mut lines = String::new();
    if let Some(dir) = &args.sdtm {
        let files = write_sdtm(dir, &data, protocol)?;
        lines.push_str(&format!("SDTM: {} files in {}\n", files.len(), dir.display()));
    }
    if let Some(dir) = &args.adam {
        let files = write_adam(dir, &data, protocol)?;
        lines.push_str(&format!("ADaM: {} files in {}\n", files.len(), dir.display()));
    }
    if let (Some(dir), Some(seed)) = (&args.ipd, args.ipd_seed) {
        let files = write_ipd(dir, &data, protocol, seed)?;
        lines.push_str(&format!("IPD: {} files in {}\n", files.len(), dir.display()));
    }
    lines.push_str(&format!("data snapshot SHA-256 {}\n", data.input(protocol).snapshot_sha256()));
    print(&lines)
}

/// Arguments of `cryoseed report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Trial database URL.
    #[arg(long, default_value = crate::commands::DEFAULT_DB)]
    pub db: String,
    /// Output folder (absent or empty): analysis.html (self-contained), analysis.pdf (the same
    /// report on A4 pages) and analysis.json (every number of the report).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `cryoseed report`.
pub fn run_report(args: &ReportArgs, protocol: &Protocol) -> anyhow::Result<()> {
    output::check_out_dir(&args.out, "--out")?;
    let data = block_on(async {
        let store = open_store(&args.db).await?;
        load(&store, protocol).await
    })?;
    let summary = write_report(&args.out, &data, protocol)?;
    print(&format!(
        "analysis report of {} randomized patients written to {} (analysis.html, analysis.pdf, analysis.json); data snapshot SHA-256 {}\n",
        summary.randomized.iter().map(|(_, n)| n).sum::<usize>(),
        args.out.display(),
        summary.snapshot_sha256
    ))
}
