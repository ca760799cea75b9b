//! The trial-level outputs as named files in memory: what `cryoseed report` and `cryoseed export
//! --db` write into folders and the web service's statistician puts into zip archives, built here
//! once so that both give the same bytes.

use crate::analysis::{AnalysisSummary, analysis_report};
use crate::dataset::{Table, dictionary, dictionary_csv, dictionary_json};
use crate::trial_input::TrialInput;
use crate::xpt::XptError;
use crate::{cdisc, ipd};

/// Files by name, in the order they are listed.
pub type Files = Vec<(String, Vec<u8>)>;

/// `analysis.html` (self-contained), `analysis.pdf` (the same on A4 pages) and `analysis.json`
/// (every number of the report).
pub fn report_files(input: &TrialInput<'_>, software_version: &str) -> (Files, AnalysisSummary) {
    let report = analysis_report(input, software_version);
    let json = serde_json::to_string_pretty(&report.summary).expect("the summary serializes") + "\n";
    (
        vec![
            ("analysis.html".into(), report.html.into_bytes()),
            ("analysis.pdf".into(), report.pdf),
            ("analysis.json".into(), json.into_bytes()),
        ],
        report.summary,
    )
}

/// Each table as `name.csv` (lower case) and, with `xpt_timestamp`, `name.xpt`, then
/// `define.csv` and `define.json` (the data dictionary).
fn table_files(tables: &[Table], xpt_timestamp: Option<&str>, standard: &str) -> Result<Files, XptError> {
    let dict = dictionary(tables);
    let mut files: Files = Vec::new();
    for t in tables {
        let base = t.name.to_lowercase();
        files.push((format!("{base}.csv"), t.to_csv().into_bytes()));
        if let Some(stamp) = xpt_timestamp {
            let bytes =
                t.xpt_bytes(stamp).map_err(|e| XptError { location: format!("{base}.xpt: {}", e.location), ..e })?;
            files.push((format!("{base}.xpt"), bytes));
        }
    }
    files.push(("define.csv".into(), dictionary_csv(&dict).into_bytes()));
    files.push(("define.json".into(), dictionary_json(&dict, standard).into_bytes()));
    Ok(files)
}

/// SDTM domains as CSV and XPT with the dictionary.
pub fn sdtm_files(input: &TrialInput<'_>) -> Result<Files, XptError> {
    table_files(&cdisc::sdtm(input), Some(&input.xpt_timestamp()), "CDISC SDTM (SDTMIG v3.4)")
}

/// ADaM datasets as CSV and XPT with the dictionary.
pub fn adam_files(input: &TrialInput<'_>) -> Result<Files, XptError> {
    table_files(&cdisc::adam(input), Some(&input.xpt_timestamp()), "CDISC ADaM (ADaMIG v1.3)")
}

/// De-identified IPD as CSV with the dictionary (no XPT: its header time would be a date); the
/// participant codes come from `seed`.
pub fn ipd_files(input: &TrialInput<'_>, seed: u64) -> Files {
    table_files(
        &ipd::ipd(input, seed),
        None,
        "de-identified IPD (HIPAA Safe Harbor: no identifiers, days from randomization, ages over 89 as 90+, no free text)",
    )
    .expect("no XPT, no XPT error")
}
