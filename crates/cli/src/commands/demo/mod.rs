//! `cryoseed demo`: the whole trial on synthetic patients.
//!
//! A seeded synthetic trial at three centres: candidates are screened against every eligibility
//! criterion of the protocol (their lesions measured on seeded phantoms, [`synth`]), the
//! eligible ones randomized from the concealed list, every randomized patient planned with the
//! real planner ([`planning`]), each course simulated (`cryoseed_sim::simulate_course`:
//! procedures, follow-up imaging read by two blinded readers, adjudication, adverse events,
//! deaths), everything entered into a SQLite trial database through the store's eCRF API under
//! a simulated clock ([`records`]), and the analysis datasets derived from it and written as
//! CSV. The same seed gives byte-identical files.

mod planning;
mod records;
mod synth;

use crate::output;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Organ};
use cryoseed_sim::{CourseConfig, CourseLesion, CoursePatient, PlannedTreatment, simulate_course};
use cryoseed_trial::eligibility::{Status, Verdict};
use cryoseed_trial::endpoints::{AnalysisDatasets, Endpoint, EventStatus, LcrOutcome};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `cryoseed demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory (created; refused if it exists and is not empty, unless --force).
    #[arg(long, default_value = "cryoseed-demo")]
    pub out: PathBuf,
    /// Replace the output directory of an earlier demo run (one holding demo.json).
    #[arg(long)]
    pub force: bool,
    /// Number of patients to randomize (enough candidates are screened to reach it).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=2_000))]
    pub patients: u32,
    /// Seed of the whole synthetic trial (same seed, same files).
    #[arg(long, default_value_t = 20261128)]
    pub seed: u64,
    /// Voxel spacing of the patients' phantoms and plans, mm (coarser is faster).
    #[arg(long, default_value_t = 3.0, value_parser = spacing)]
    pub spacing_mm: f64,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn spacing(text: &str) -> Result<f64, String> {
    let v: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if (1.0..=4.0).contains(&v) { Ok(v) } else { Err(format!("{v} mm: between 1 and 4 mm")) }
}

#[derive(Serialize, Default)]
struct SiteCounts {
    screened: u32,
    eligible: u32,
    ineligible: u32,
    pending: u32,
}

impl SiteCounts {
    fn add(&mut self, status: Status) {
        self.screened += 1;
        match status {
            Status::Eligible => self.eligible += 1,
            Status::Ineligible => self.ineligible += 1,
            Status::Pending => self.pending += 1,
        }
    }
}

#[derive(Serialize)]
struct DemoDoc {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    seed: u64,
    phantom_spacing_mm: f64,
    screening: SiteCounts,
    by_site: BTreeMap<String, SiteCounts>,
    /// Criterion id → number of patients failing it.
    ineligibility_reasons: BTreeMap<String, u32>,
    /// Missing datum → number of pending patients waiting for it.
    pending_on: BTreeMap<String, u32>,
    randomization: RandomizationSummary,
    planning: PlanningSummary,
    records: records::WriteCounts,
    follow_up: FollowUpSummary,
    endpoints: EndpointSummary,
    audit: AuditSummary,
    /// Accrual start, last randomization and data cutoff.
    calendar: [String; 3],
    /// Files written, relative to the output directory.
    files: Vec<String>,
}

/// Arm counts after randomizing the eligible patients (what the statistician sees; sites see only
/// their own patients' arms).
#[derive(Serialize)]
struct RandomizationSummary {
    method: &'static str,
    randomized: u32,
    /// Eligible candidates screened after the accrual target was reached.
    eligible_not_randomized: u32,
    experimental: u32,
    control: u32,
    /// Stratum (`SITE/ECOG-group-N`) → [experimental, control].
    by_stratum: BTreeMap<String, [u32; 2]>,
}

#[derive(Serialize, Default)]
struct PlanningSummary {
    patients: u32,
    /// Target lesions by what they receive (`seeds`, `cryo`, `zoned`).
    lesions_by_decision: BTreeMap<String, u32>,
    /// Patients whose plan meets every protocol constraint.
    plans_meeting_every_constraint: u32,
    seeds_implanted: u32,
    cryoprobes: u32,
}

#[derive(Serialize, Default)]
struct FollowUpSummary {
    imaging_time_points: u32,
    deaths: u32,
    lost_to_follow_up: u32,
    adverse_events_by_grade: BTreeMap<u8, u32>,
    serious_adverse_events: u32,
}

#[derive(Serialize, Default)]
struct EndpointSummary {
    /// Arm → [controlled, failures, not evaluable] treated lesions at 6 months (primary coding).
    local_control_6m: BTreeMap<String, [u32; 3]>,
    /// Endpoint code → arm → [events, censored].
    time_to_event: BTreeMap<String, BTreeMap<String, [u32; 2]>>,
}

#[derive(Serialize)]
struct AuditSummary {
    entries: i64,
    intact: bool,
    head_hash: String,
}

fn progress(line: &str) {
    output::note("demo", line);
}

/// The course simulator's input for randomized patient `k`.
fn course_patient(population: &synth::Population, plans: &[planning::PatientPlanSummary], k: usize) -> CoursePatient {
    let r = &population.randomized[k];
    let candidate = &population.candidates[r.candidate];
    let lesions = candidate
        .record
        .lesions
        .iter()
        .map(|l| {
            let plan = plans[k].lesions.iter().find(|p| p.lesion_id == l.lesion_id);
            let nodal = l.organ == Organ::LymphNode;
            let baseline = if nodal { l.short_axis } else { l.longest_diameter };
            CourseLesion {
                lesion_id: l.lesion_id.clone(),
                organ: l.organ,
                is_target: l.is_target,
                is_bulky_index: l.is_bulky_index,
                baseline_mm: baseline.map_or(10.0, |d| d.0),
                baseline_volume_ml: l.volume.map_or(0.0, |v| v.0),
                treatment: plan.map(|p| PlannedTreatment {
                    modalities: p.modalities(),
                    planned_seed_d90_gy: p.seed_d90_gy,
                    prescription_gy: p.prescription_gy,
                    planned_coverage_met: p.coverage_met,
                }),
            }
        })
        .collect();
    CoursePatient {
        patient_id: candidate.record.patient_id.to_string(),
        arm: r.arm,
        ecog: candidate.record.ecog.map_or(0, |e| e.score()),
        lesions,
        cutoff_day: population.cutoff.day_number() - candidate.randomize_on.day_number(),
    }
}

/// Refuses a non-empty output directory unless `--force` names an earlier demo's output.
fn check_out(args: &Args) -> anyhow::Result<()> {
    if !args.force {
        return output::check_out_dir(&args.out, "--out");
    }
    if args.out.exists() && std::fs::read_dir(&args.out)?.next().is_some() && !args.out.join("demo.json").is_file() {
        anyhow::bail!(
            "--out {}: --force replaces only the output of an earlier demo (a directory holding demo.json)",
            args.out.display()
        );
    }
    Ok(())
}

/// Writes the demo's files into `dir` (a fresh staging directory).
fn fill(dir: &Path, args: &Args, protocol: &Protocol) -> anyhow::Result<DemoDoc> {
    let seed = args.seed;
    let population = synth::population(args.patients as usize, seed, args.spacing_mm, protocol)?;
    progress(&format!(
        "{} of {} candidates randomized; planning each with the real planner on a {} mm grid",
        population.randomized.len(),
        population.candidates.len(),
        args.spacing_mm
    ));
    let plans = planning::plan_all(&population, seed, args.spacing_mm, protocol)?;
    let plan_files = write_plans(&dir.join("plans"), &population, &plans, protocol)?;
    let config = CourseConfig::default();
    let courses: Vec<_> = (0..population.randomized.len())
        .map(|k| simulate_course(&course_patient(&population, &plans, k), &config, seed))
        .collect();
    progress("follow-up simulated; entering every record into the trial database");
    // The store works on a scratch file; trial.db is its compact copy (`VACUUM INTO`), whose
    // bytes depend on the content only, not on when the write-ahead log was checkpointed.
    let db_path = dir.join("trial.db");
    let work_path = dir.join("trial.work.db");
    let url = format!("sqlite://{}?mode=rwc", work_path.display());
    let (counts, data, audit) = crate::commands::block_on(async {
        let (store, counts) = records::write_trial(&url, &population, &plans, &courses, seed, protocol).await?;
        let data = crate::commands::analysis::load(&store, protocol).await?;
        let audit = store.verify_audit().await?;
        store.checkpoint().await?;
        store.compact_copy(&db_path).await?;
        store.close().await;
        Ok((counts, data, audit))
    })?;
    let datasets = &data.datasets;
    // SQLite removes the side files when the last connection closes, which may finish just
    // after the pool reports closed.
    for suffix in ["-wal", "-shm", ""] {
        let side = dir.join(format!("trial.work.db{suffix}"));
        for _ in 0..50 {
            if suffix.is_empty() || !side.exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    progress("endpoints derived; writing the analysis datasets");
    let endpoints_dir = dir.join("endpoints");
    std::fs::create_dir_all(&endpoints_dir)?;
    let mut files = vec!["trial.db".to_owned()];
    files.extend(plan_files);
    for (name, text) in crate::commands::endpoints::csv_files(datasets)? {
        std::fs::write(endpoints_dir.join(name), text)?;
        files.push(format!("endpoints/{name}"));
    }
    progress("writing the analysis report, the CDISC SDTM and ADaM datasets and the de-identified IPD");
    crate::commands::analysis::write_report(&dir.join("report"), &data, protocol)?;
    files.extend(crate::commands::analysis::REPORT_FILES.iter().map(|name| format!("report/{name}")));
    for (sub, names) in [
        ("sdtm", crate::commands::analysis::write_sdtm(&dir.join("sdtm"), &data, protocol)?),
        ("adam", crate::commands::analysis::write_adam(&dir.join("adam"), &data, protocol)?),
        // The demo's patients are synthetic: the IPD codes may come from the demo's own seed.
        ("ipd", crate::commands::analysis::write_ipd(&dir.join("ipd"), &data, protocol, seed)?),
    ] {
        files.extend(names.into_iter().map(|n| format!("{sub}/{n}")));
    }
    files.push("demo.json".into());
    let doc = document(args, protocol, &population, &plans, &courses, counts, datasets, audit, files);
    let mut json = serde_json::to_string_pretty(&doc)?;
    json.push('\n');
    std::fs::write(dir.join("demo.json"), json)?;
    Ok(doc)
}

/// Writes each randomized patient's plan as `cryoseed plan` would (`PATIENT/plan.json`, the
/// plan report `PATIENT/report.html` and the plan-review bundle `PATIENT/review.json`, the pair
/// the web service's plan review takes) and an index page; returns the files, relative to the
/// demo's output directory.
fn write_plans(
    dir: &Path,
    population: &synth::Population,
    plans: &[planning::PatientPlanSummary],
    protocol: &Protocol,
) -> anyhow::Result<Vec<String>> {
    use cryoseed_report::svg::escape;
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let mut rows = String::new();
    for (r, plan) in population.randomized.iter().zip(plans) {
        let candidate = &population.candidates[r.candidate];
        let id = candidate.record.patient_id.as_str();
        let patient_dir = dir.join(id);
        std::fs::create_dir_all(&patient_dir)?;
        std::fs::write(patient_dir.join("plan.json"), &plan.plan_json)?;
        std::fs::write(patient_dir.join("report.html"), &plan.report_html)?;
        std::fs::write(patient_dir.join("review.json"), &plan.review)?;
        files.extend([
            format!("plans/{id}/plan.json"),
            format!("plans/{id}/report.html"),
            format!("plans/{id}/review.json"),
        ]);
        let arm = match r.arm {
            Arm::Experimental => "experimental".to_owned(),
            Arm::Control => {
                format!("control ({})", if r.control == cryoseed_core::Modality::Seeds { "seeds" } else { "cryo" })
            }
        };
        let decisions: Vec<String> = plan
            .lesions
            .iter()
            .map(|l| format!("{}: {}", l.lesion_id, format!("{:?}", l.decision).to_lowercase()))
            .collect();
        let _ = writeln!(
            rows,
            "<tr{}><td><a href=\"{id}/report.html\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if plan.all_pass { "" } else { " class=\"fail\"" },
            escape(candidate.record.site_id.as_str()),
            escape(&arm),
            escape(&decisions.join("; ")),
            if plan.all_pass { "yes" } else { "no (see the report)" },
        );
    }
    let index = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Treatment plans</title>\n\
         <style>body{{font-family:DejaVu Sans,Arial,Helvetica,sans-serif;margin:24px;color:#111}}\
         table{{border-collapse:collapse;font-size:13px}}th,td{{border:1px solid #bbb;padding:3px 8px;text-align:left}}\
         th{{background:#eee}}tr.fail td{{background:#fde0e0}}</style>\n</head>\n<body>\n<h1>Treatment plans</h1>\n\
         <p>Every randomized patient planned with the real planner (protocol {} {}, software {}). Each report shows \
         the allocation with its reasons, DVHs, slices with structures, zones, isodose lines and isotherms, and every \
         constraint verdict.</p>\n<table>\n<tr><th>patient</th><th>site</th><th>arm</th><th>lesions</th>\
         <th>every constraint met</th></tr>\n{rows}</table>\n</body>\n</html>\n",
        escape(&protocol.protocol.name),
        escape(&protocol.protocol.version),
        cryoseed_core::SOFTWARE_VERSION,
    );
    std::fs::write(dir.join("index.html"), index)?;
    files.push("plans/index.html".to_owned());
    Ok(files)
}

#[allow(clippy::too_many_arguments)]
fn document(
    args: &Args,
    protocol: &Protocol,
    population: &synth::Population,
    plans: &[planning::PatientPlanSummary],
    courses: &[cryoseed_sim::Course],
    counts: records::WriteCounts,
    datasets: &AnalysisDatasets,
    audit: cryoseed_store::AuditReport,
    files: Vec<String>,
) -> DemoDoc {
    let mut total = SiteCounts::default();
    let mut by_site = BTreeMap::<String, SiteCounts>::new();
    let mut reasons = BTreeMap::<String, u32>::new();
    let mut pending_on = BTreeMap::<String, u32>::new();
    for candidate in &population.candidates {
        let status = candidate.assessment.status();
        total.add(status);
        by_site.entry(candidate.record.site_id.to_string()).or_default().add(status);
        for failed in candidate.assessment.failed() {
            *reasons.entry(failed.id.to_owned()).or_default() += 1;
        }
        if status == Status::Pending {
            for c in candidate.assessment.undecided() {
                if let Verdict::Undecided { missing } = &c.verdict {
                    for m in missing {
                        *pending_on.entry(m.clone()).or_default() += 1;
                    }
                }
            }
        }
    }
    let mut randomization = RandomizationSummary {
        method: match protocol.randomization.method {
            cryoseed_core::protocol::RandomizationMethod::PermutedBlocks => "stratified permuted blocks",
            cryoseed_core::protocol::RandomizationMethod::Minimization => "minimization",
        },
        randomized: population.randomized.len() as u32,
        eligible_not_randomized: population.eligible_not_randomized as u32,
        experimental: 0,
        control: 0,
        by_stratum: BTreeMap::new(),
    };
    for r in &population.randomized {
        let counts = randomization.by_stratum.entry(r.stratum.clone()).or_default();
        match r.arm {
            Arm::Experimental => {
                randomization.experimental += 1;
                counts[0] += 1;
            }
            Arm::Control => {
                randomization.control += 1;
                counts[1] += 1;
            }
        }
    }
    let mut planning = PlanningSummary { patients: plans.len() as u32, ..PlanningSummary::default() };
    for plan in plans {
        planning.plans_meeting_every_constraint += u32::from(plan.all_pass);
        for l in &plan.lesions {
            let decision = match l.decision {
                cryoseed_plan::AllocationDecision::Seeds => "seeds",
                cryoseed_plan::AllocationDecision::Cryo => "cryo",
                cryoseed_plan::AllocationDecision::Zoned => "zoned",
            };
            *planning.lesions_by_decision.entry(decision.into()).or_default() += 1;
            planning.seeds_implanted += l.seeds.map_or(0, |s| s.0);
            planning.cryoprobes += l.probes.unwrap_or(0);
        }
    }
    let mut follow_up = FollowUpSummary::default();
    for course in courses {
        follow_up.imaging_time_points += course.scans.len() as u32;
        follow_up.deaths += u32::from(course.death_day.is_some());
        follow_up.lost_to_follow_up += u32::from(course.lost_day.is_some());
        for ae in &course.adverse_events {
            *follow_up.adverse_events_by_grade.entry(ae.grade).or_default() += 1;
            follow_up.serious_adverse_events += u32::from(ae.serious);
        }
    }
    let mut endpoints = EndpointSummary::default();
    for l in &datasets.lesions {
        let slot = endpoints.local_control_6m.entry(l.arm.to_string()).or_default();
        slot[match l.primary {
            LcrOutcome::Controlled => 0,
            LcrOutcome::Failure => 1,
            LcrOutcome::NotEvaluable => 2,
        }] += 1;
    }
    for row in &datasets.time_to_event {
        if matches!(row.endpoint, Endpoint::TtspCompeting) {
            continue;
        }
        let slot = endpoints
            .time_to_event
            .entry(row.endpoint.code().to_owned())
            .or_default()
            .entry(row.arm.to_string())
            .or_default();
        slot[usize::from(row.status != EventStatus::Event)] += 1;
    }
    let last = population
        .randomized
        .last()
        .map_or(synth::accrual_start(), |r| population.candidates[r.candidate].randomize_on);
    DemoDoc {
        format: "cryoseed-demo",
        version: 2,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        seed: args.seed,
        phantom_spacing_mm: args.spacing_mm,
        screening: total,
        by_site,
        ineligibility_reasons: reasons,
        pending_on,
        randomization,
        planning,
        records: counts,
        follow_up,
        endpoints,
        audit: AuditSummary { entries: audit.entries, intact: audit.is_intact(), head_hash: audit.head_hash },
        calendar: [synth::accrual_start().to_string(), last.to_string(), population.cutoff.to_string()],
        files,
    }
}

/// Runs the demo.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    check_out(args)?;
    let mut doc = None;
    let target = if args.force && args.out.exists() {
        let name = args.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        args.out.with_file_name(format!(".{name}.replacing"))
    } else {
        args.out.clone()
    };
    if target != args.out && target.exists() {
        std::fs::remove_dir_all(&target)?;
    }
    output::write_dir_atomically(&target, "--out", |dir| {
        doc = Some(fill(dir, args, protocol)?);
        Ok(())
    })?;
    if target != args.out {
        std::fs::remove_dir_all(&args.out)?;
        std::fs::rename(&target, &args.out)?;
    }
    let doc = doc.expect("filled");
    if args.json {
        return output::json(&doc);
    }
    output::print(&summary(&doc, protocol, &args.out))
}

fn pct(part: u32, whole: u32) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * f64::from(part) / f64::from(whole) }
}

fn summary(doc: &DemoDoc, protocol: &Protocol, out: &Path) -> String {
    let mut s = String::new();
    let t = &doc.screening;
    let _ = writeln!(s, "cryoseed demo: synthetic trial, seed {}", doc.seed);
    let _ = writeln!(
        s,
        "Protocol: {} version {} (sha256 {}), software {}\n",
        protocol.protocol.name,
        doc.protocol_version,
        &doc.protocol_sha256[..12],
        doc.software_version
    );
    let _ = writeln!(s, "Screening: {} patients at {} sites", t.screened, doc.by_site.len());
    let _ = writeln!(s, "  eligible    {:>5}  ({:.1} %)", t.eligible, pct(t.eligible, t.screened));
    let _ = writeln!(s, "  ineligible  {:>5}  ({:.1} %)", t.ineligible, pct(t.ineligible, t.screened));
    let _ = writeln!(s, "  pending     {:>5}  ({:.1} %, cannot be decided yet)", t.pending, pct(t.pending, t.screened));
    if !doc.ineligibility_reasons.is_empty() {
        let _ = writeln!(s, "\nReasons for ineligibility (a patient may fail several criteria):");
        let mut reasons: Vec<_> = doc.ineligibility_reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (id, n) in reasons {
            let _ = writeln!(s, "  {id:<40} {n:>5}");
        }
    }
    if !doc.pending_on.is_empty() {
        let _ = writeln!(s, "\nPending patients are waiting for:");
        for (what, n) in &doc.pending_on {
            let _ = writeln!(s, "  {what:<40} {n:>5}");
        }
    }
    let _ = writeln!(s, "\nBy site:               screened  eligible  ineligible  pending");
    for (site, c) in &doc.by_site {
        let _ = writeln!(s, "  {site:<20} {:>8} {:>9} {:>11} {:>8}", c.screened, c.eligible, c.ineligible, c.pending);
    }
    let r = &doc.randomization;
    let _ = writeln!(
        s,
        "\nRandomization ({}, concealed list from seed {}): {} eligible patients randomized, experimental {}, control {}",
        r.method, doc.seed, r.randomized, r.experimental, r.control
    );
    let _ = writeln!(s, "  stratum                       experimental  control");
    for (stratum, [experimental, control]) in &r.by_stratum {
        let _ = writeln!(s, "  {stratum:<30} {experimental:>11} {control:>8}");
    }
    if r.eligible_not_randomized > 0 {
        let _ = writeln!(
            s,
            "  {} eligible candidates screened after the accrual target was reached",
            r.eligible_not_randomized
        );
    }
    let p = &doc.planning;
    let _ = writeln!(
        s,
        "\nPlanning: {} patients planned with the real planner on {} mm phantoms (seed annealing {} moves per round); {} plans meet every protocol constraint",
        p.patients,
        doc.phantom_spacing_mm,
        planning::DEMO_ANNEALING_MOVES,
        p.plans_meeting_every_constraint
    );
    let decisions: Vec<String> = p.lesions_by_decision.iter().map(|(d, n)| format!("{d} {n}")).collect();
    let _ = writeln!(
        s,
        "  target lesions: {}; {} seeds, {} cryoprobes",
        decisions.join(", "),
        p.seeds_implanted,
        p.cryoprobes
    );
    let c = &doc.records;
    let f = &doc.follow_up;
    let _ = writeln!(
        s,
        "\nFollow-up ({} to data cutoff {}, accrual from {}):",
        doc.calendar[1], doc.calendar[2], doc.calendar[0]
    );
    let _ = writeln!(
        s,
        "  {} procedures, {} imaging time points read by 2 blinded readers ({} reads), {} patients adjudicated",
        c.procedures, f.imaging_time_points, c.reads, c.adjudications
    );
    let grades: Vec<String> = f.adverse_events_by_grade.iter().map(|(g, n)| format!("grade {g}: {n}")).collect();
    let _ = writeln!(
        s,
        "  {} adverse events ({}; {} serious), {} deaths, {} lost to follow-up",
        c.adverse_events,
        grades.join(", "),
        f.serious_adverse_events,
        f.deaths,
        f.lost_to_follow_up
    );
    let _ = writeln!(s, "\nEndpoints (derived from the database):");
    for (arm, [controlled, failed, not_evaluable]) in &doc.endpoints.local_control_6m {
        let evaluable = controlled + failed;
        let _ = writeln!(
            s,
            "  local control at 6 months, {arm:<12} {controlled}/{evaluable} evaluable lesions ({:.1} %), {not_evaluable} not evaluable",
            pct(*controlled, evaluable)
        );
    }
    for (endpoint, arms) in &doc.endpoints.time_to_event {
        let parts: Vec<String> = arms
            .iter()
            .map(|(arm, [events, censored])| format!("{arm} {events} events / {censored} censored"))
            .collect();
        let _ = writeln!(s, "  {endpoint:<5} {}", parts.join("; "));
    }
    let a = &doc.audit;
    let _ = writeln!(
        s,
        "\nAudit trail: {} entries, hash chain {} (head {})",
        a.entries,
        if a.intact { "intact" } else { "BROKEN" },
        &a.head_hash[..a.head_hash.len().min(12)]
    );
    let _ = writeln!(s, "\nWritten to {}:", out.display());
    let per_patient = |f: &&String| f.starts_with("plans/") && f.as_str() != "plans/index.html";
    for file in doc.files.iter().filter(|f| !per_patient(f)) {
        let _ = writeln!(s, "  {file}");
    }
    let plan_files = doc.files.iter().filter(per_patient).count();
    if plan_files > 0 {
        let _ = writeln!(
            s,
            "  plans/PATIENT/plan.json, report.html and review.json for each of the {} planned patients \
             (open plans/index.html)",
            plan_files / 3
        );
    }
    let db = format!("sqlite://{}", out.join("trial.db").display());
    let _ = writeln!(s, "\nTry:\n  cryoseed audit verify --db {db}");
    let _ = writeln!(s, "  cryoseed trial export --db {db} --as data-manager --out trial.json");
    let _ = writeln!(s, "  cryoseed endpoints --db {db} --out endpoints");
    s
}
