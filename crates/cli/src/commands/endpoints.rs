//! `cryoseed endpoints`: the analysis datasets of the stored trial as CSV files.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::print;
use anyhow::Context;
use cryoseed_core::protocol::Protocol;
use cryoseed_trial::endpoints::{AnalysisDatasets, LcrOutcome, TechnicalSuccess};
use std::path::{Path, PathBuf};

/// Arguments of `cryoseed endpoints`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: String,
    /// Output directory (created); writes patients.csv, time_to_event.csv, lesions.csv, burden.csv.
    #[arg(long)]
    pub out: PathBuf,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn lcr(o: LcrOutcome) -> &'static str {
    match o {
        LcrOutcome::Controlled => "controlled",
        LcrOutcome::Failure => "failure",
        LcrOutcome::NotEvaluable => "not_evaluable",
    }
}

fn technical(t: &TechnicalSuccess) -> (&'static str, &str) {
    match t {
        TechnicalSuccess::Achieved => ("achieved", ""),
        TechnicalSuccess::NotAchieved(why) => ("not_achieved", why),
        TechnicalSuccess::NotAssessed(why) => ("not_assessed", why),
    }
}

/// The four CSV files, as (name, text).
pub fn csv_files(d: &AnalysisDatasets) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut files = Vec::new();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "patient_id",
        "site_id",
        "arm",
        "stratum",
        "ecog",
        "randomized_on",
        "therapy_completed_on",
        "death_on",
        "last_contact_on",
        "withdrawn_on",
        "treated_lesions",
        "objective_response",
        "best_response_in_window",
        "best_response_on",
        "technical_success",
        "reintervention",
    ])?;
    for r in &d.patients {
        w.write_record([
            r.patient_id.to_string(),
            r.site_id.to_string(),
            r.arm.to_string(),
            r.stratum.to_string(),
            r.ecog.score().to_string(),
            r.randomized_on.to_string(),
            opt(r.therapy_completed_on),
            opt(r.death_on),
            r.last_contact_on.to_string(),
            opt(r.withdrawn_on),
            r.treated_lesions.to_string(),
            u8::from(r.objective_response).to_string(),
            opt(r.best_response_in_window.map(|(_, resp)| resp.code())),
            opt(r.best_response_in_window.map(|(date, _)| date)),
            u8::from(r.technical_success).to_string(),
            u8::from(r.reintervention).to_string(),
        ])?;
    }
    files.push(("patients.csv", String::from_utf8(w.into_inner()?)?));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["patient_id", "arm", "stratum", "endpoint", "time_days", "date", "status", "reason"])?;
    for r in &d.time_to_event {
        w.write_record([
            r.patient_id.to_string(),
            r.arm.to_string(),
            r.stratum.to_string(),
            r.endpoint.code().to_owned(),
            r.time.value().to_string(),
            r.date.to_string(),
            r.status.code().to_string(),
            r.reason.clone(),
        ])?;
    }
    files.push(("time_to_event.csv", String::from_utf8(w.into_inner()?)?));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "patient_id",
        "arm",
        "stratum",
        "lesion_id",
        "is_bulky_index",
        "modalities",
        "nominal_date",
        "window_start",
        "window_end",
        "primary",
        "non_evaluable_as_failure",
        "competing_time_days",
        "competing_status",
        "technical_success",
        "technical_success_reason",
        "reason",
    ])?;
    for r in &d.lesions {
        let (ts, ts_why) = technical(&r.technical_success);
        w.write_record([
            r.patient_id.to_string(),
            r.arm.to_string(),
            r.stratum.to_string(),
            r.lesion_id.to_string(),
            u8::from(r.is_bulky_index).to_string(),
            r.modalities.iter().map(ToString::to_string).collect::<Vec<_>>().join("+"),
            r.nominal_date.to_string(),
            r.window.0.to_string(),
            r.window.1.to_string(),
            lcr(r.primary).to_owned(),
            lcr(r.non_evaluable_as_failure).to_owned(),
            r.competing_time.value().to_string(),
            r.competing_status.code().to_string(),
            ts.to_owned(),
            ts_why.to_owned(),
            r.reason.clone(),
        ])?;
    }
    files.push(("lesions.csv", String::from_utf8(w.into_inner()?)?));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "patient_id",
        "arm",
        "months",
        "time_point",
        "date",
        "sum_change_percent",
        "bulky_volume_change_percent",
        "reason",
    ])?;
    for r in &d.burden {
        w.write_record([
            r.patient_id.to_string(),
            r.arm.to_string(),
            r.months.value().to_string(),
            opt(r.time_point.as_ref().map(|(label, _)| label.clone())),
            opt(r.time_point.as_ref().map(|(_, date)| *date)),
            opt(r.sum_change.map(|p| p.value())),
            opt(r.bulky_volume_change.map(|p| p.value())),
            r.reason.clone(),
        ])?;
    }
    files.push(("burden.csv", String::from_utf8(w.into_inner()?)?));
    Ok(files)
}

/// Writes every file next to its final name, then renames them all (no half-written dataset).
fn write_all(dir: &Path, files: &[(&'static str, String)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut staged = Vec::new();
    for (name, text) in files {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        staged.push((tmp, dir.join(name)));
    }
    for (tmp, path) in staged {
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Runs `cryoseed endpoints`.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    block_on(async {
        let store = open_store(&args.db).await?;
        let data = store.analysis_datasets(protocol).await?;
        write_all(&args.out, &csv_files(&data)?)?;
        print(&format!(
            "{} patients, {} time-to-event rows, {} treated lesions, {} burden rows written to {}\n",
            data.patients.len(),
            data.time_to_event.len(),
            data.lesions.len(),
            data.burden.len(),
            args.out.display()
        ))
    })
}
