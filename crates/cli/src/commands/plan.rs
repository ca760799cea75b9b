//! `cryoseed plan`: the whole treatment plan of one patient from a case directory, and
//! `cryoseed postimplant`: post-implant dosimetry against a plan, and `cryoseed replan`:
//! intra-operative re-planning around the seeds already placed.

use crate::output;
use anyhow::{Context, bail};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Modality};
use cryoseed_plan::{AllocationDecision, ArmPlan, Override, PatientPlan, PlanRequest, PlannerSettings, plan_patient};
use sha2::Digest as _;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The randomized arm, as the CLI names it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ArmArg {
    /// Lesion allocation (seeds or cryo per lesion) plus tumour zoning of the bulky lesion.
    Experimental,
    /// Control arm at a centre whose single modality is seed implantation.
    ControlSeeds,
    /// Control arm at a centre whose single modality is cryoablation.
    ControlCryo,
}

impl ArmArg {
    fn plan(self) -> ArmPlan {
        match self {
            ArmArg::Experimental => ArmPlan::Experimental,
            ArmArg::ControlSeeds => ArmPlan::Control(Modality::Seeds),
            ArmArg::ControlCryo => ArmPlan::Control(Modality::Cryo),
        }
    }
}

/// Flags of `cryoseed plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Case directory (`cryoseed phantom` or `cryoseed import` writes one).
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// The arm the patient was randomized to.
    #[arg(long, value_enum)]
    arm: ArmArg,
    /// Seed of the randomized searches (the same inputs and seed give a byte-identical plan.json).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Investigator override of one lesion's allocation, `LESION=seeds|cryo|zoned:REASON`
    /// (repeatable); recorded with its reason and counted as a protocol deviation.
    #[arg(long = "override", value_name = "LESION=TREATMENT:REASON")]
    overrides: Vec<String>,
    /// Output directory (must not exist, or be empty); written in full or not at all.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `cryoseed plan`.
pub fn run(args: &PlanArgs, protocol: &Protocol) -> anyhow::Result<()> {
    output::check_out_dir(&args.out, "--out")?;
    let overrides = args.overrides.iter().map(|o| parse_override(o)).collect::<anyhow::Result<Vec<_>>>()?;
    let loaded = cryoseed_imaging::read_case(&args.case).context("cannot read the case directory")?;
    let case = &loaded.case;
    let request = PlanRequest {
        case,
        arm: args.arm.plan(),
        overrides,
        protocol,
        settings: PlannerSettings::default(),
        seed: args.seed,
    };
    let plan = plan_patient(&request).with_context(|| format!("cannot plan {}", case.patient_id()))?;
    let report = cryoseed_report::plan_report(case, &plan, protocol);
    let plan_json = plan_json(&plan);
    let review = review_json(case, &plan, protocol, &plan_json, &cryoseed_report::ReviewSettings::default())?;
    write_plan(&args.out, &plan, &plan_json, &review, &report)?;
    output::print(&summary(&plan, &args.out))
}

/// Parses `L2=seeds:patient declines anaesthesia`.
fn parse_override(text: &str) -> anyhow::Result<Override> {
    let usage = || format!("--override {text:?}: expected LESION=seeds|cryo|zoned:REASON");
    let (lesion, rest) = text.split_once('=').with_context(usage)?;
    let (decision, reason) = rest.split_once(':').with_context(usage)?;
    let decision = match decision.trim() {
        "seeds" => AllocationDecision::Seeds,
        "cryo" => AllocationDecision::Cryo,
        "zoned" => AllocationDecision::Zoned,
        other => bail!("--override {text:?}: unknown treatment {other:?} (seeds, cryo or zoned)"),
    };
    let lesion_id = LesionId::parse(lesion.trim()).map_err(|e| anyhow::anyhow!("--override {text:?}: {e}"))?;
    if reason.trim().is_empty() {
        bail!("--override {text:?}: the reason is required");
    }
    Ok(Override { lesion_id, decision, reason: reason.trim().to_owned() })
}

/// The text of `plan.json`.
pub fn plan_json(plan: &PatientPlan) -> String {
    serde_json::to_string_pretty(&plan.record).expect("plan records serialize") + "\n"
}

/// The text of `review.json`, the plan-review bundle of the plan whose `plan.json` is
/// `plan_json` (its SHA-256 names the plan).
pub fn review_json(
    case: &cryoseed_anatomy::Case,
    plan: &PatientPlan,
    protocol: &Protocol,
    plan_json: &str,
    settings: &cryoseed_report::ReviewSettings,
) -> anyhow::Result<String> {
    let sha: String = sha2::Sha256::digest(plan_json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let review = cryoseed_report::plan_review(case, plan, protocol, &sha, settings);
    Ok(serde_json::to_string(&review)? + "\n")
}

/// The files of a plan directory.
fn write_plan(dir: &Path, plan: &PatientPlan, plan_json: &str, review: &str, report: &str) -> anyhow::Result<()> {
    output::write_dir_atomically(dir, "--out", |staging| {
        std::fs::write(staging.join("plan.json"), plan_json).context("cannot write plan.json")?;
        std::fs::write(staging.join("review.json"), review).context("cannot write review.json")?;
        std::fs::write(staging.join("report.html"), report).context("cannot write report.html")?;
        cryoseed_imaging::nifti::write_field_f32(&staging.join("dose.nii.gz"), &plan.dose)?;
        cryoseed_imaging::nifti::write_field_f32(&staging.join("min_temperature.nii.gz"), &plan.min_temperature)?;
        cryoseed_imaging::nifti::write_mask(&staging.join("ice_0c.nii.gz"), &plan.ice.edge)?;
        cryoseed_imaging::nifti::write_mask(&staging.join("ice_lethal.nii.gz"), &plan.ice.lethal)?;
        if let Some(z) = &plan.zones {
            cryoseed_imaging::nifti::write_mask(&staging.join("zone_core.nii.gz"), &z.core)?;
            cryoseed_imaging::nifti::write_mask(&staging.join("zone_margin.nii.gz"), &z.margin)?;
            cryoseed_imaging::nifti::write_mask(&staging.join("zone_high_risk.nii.gz"), &z.high_risk)?;
        }
        std::fs::write(staging.join("seeds.csv"), seeds_csv(plan)).context("cannot write seeds.csv")?;
        let all: Vec<_> = plan.record.cryo_plans.iter().flat_map(|c| c.plan.probes.iter().cloned()).collect();
        let doc = crate::commands::cryo::ProbesOut { format: "cryoseed-probes", version: 1, probes: &all };
        let mut probes = serde_json::to_string_pretty(&doc)?;
        probes.push('\n');
        std::fs::write(staging.join("probes.json"), probes).context("cannot write probes.json")
    })
}

/// Seeds in the layout `cryoseed dose --seeds` reads.
fn seeds_csv(plan: &PatientPlan) -> String {
    let mut out = String::from("x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model\n");
    for p in &plan.record.seed_plans {
        for s in &p.plan.seeds {
            let [x, y, z] = s.centre_in_patient.0;
            let [dx, dy, dz] = s.axis_in_patient.unwrap_or([0.0; 3]);
            let _ = writeln!(
                out,
                "{x:.2},{y:.2},{z:.2},{dx:.6},{dy:.6},{dz:.6},{},{}",
                p.plan.settings.air_kerma_strength.0, p.plan.settings.model_id
            );
        }
    }
    out
}

fn summary(plan: &PatientPlan, out: &Path) -> String {
    let r = &plan.record;
    let mut s = format!("Plan for {} ({:?}):\n", r.inputs.patient_id, r.inputs.arm);
    for a in &r.allocations {
        let _ = writeln!(s, "  {:<4} {}", a.lesion_id, a.reason);
    }
    let failed: Vec<_> = r.evaluation.verdicts.iter().filter(|v| !v.pass).collect();
    let _ = writeln!(
        s,
        "  {} seeds, {} probes; {} of {} constraints met",
        r.total_seeds,
        r.cryo_plans.iter().map(|c| c.plan.probes.len()).sum::<usize>(),
        r.evaluation.verdicts.len() - failed.len(),
        r.evaluation.verdicts.len()
    );
    for v in failed {
        let _ = writeln!(
            s,
            "  not met: {} {} ({:.1} {} vs {:.1}, short by {:.1})",
            v.scope,
            v.constraint,
            v.value,
            v.unit,
            v.limit,
            v.shortfall.unwrap_or(0.0)
        );
    }
    let _ = writeln!(
        s,
        "Wrote {} (plan.json, review.json, report.html, dose and ice NIfTI, seeds.csv, probes.json)",
        out.display()
    );
    s
}

/// Flags of `cryoseed postimplant`.
#[derive(Debug, clap::Args)]
pub struct PostImplantArgs {
    /// The plan (plan.json written by `cryoseed plan`).
    #[arg(long, value_name = "PLAN.json")]
    plan: PathBuf,
    /// The case directory the plan was made on (checked against the plan's case SHA-256).
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// Seed positions found on post-implant CT: CSV with columns x_mm, y_mm, z_mm (other columns,
    /// such as those of the plan's seeds.csv, are ignored).
    #[arg(long, value_name = "ACTUAL.csv")]
    seeds: PathBuf,
    /// Output directory (must not exist, or be empty); written in full or not at all.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `cryoseed postimplant`: re-derives the plan from the case and the plan's recorded
/// inputs (refusing a plan.json this software would not produce from that case), then compares
/// the found seeds with it.
pub fn run_postimplant(args: &PostImplantArgs, protocol: &Protocol) -> anyhow::Result<()> {
    output::check_out_dir(&args.out, "--out")?;
    let loaded = cryoseed_imaging::read_case(&args.case).context("cannot read the case directory")?;
    let case = &loaded.case;
    let actual = read_seed_positions(&args.seeds, "--seeds")?;
    let (inputs, plan) = rederive_plan(&args.plan, &args.case, case, protocol)?;
    let request = inputs.request(case, protocol);
    let (report, dose) = cryoseed_plan::post_implant_patient(&request, &plan, &actual)?;
    output::write_dir_atomically(&args.out, "--out", |staging| {
        let mut json = serde_json::to_string_pretty(&report)?;
        json.push('\n');
        std::fs::write(staging.join("postimplant.json"), json).context("cannot write postimplant.json")?;
        cryoseed_imaging::nifti::write_field_f32(&staging.join("dose_postimplant.nii.gz"), &dose)?;
        Ok(())
    })?;
    let mut s = format!("Post-implant dosimetry for {} ({} seeds found):\n", report.patient_id, report.seeds_found);
    for l in &report.lesions {
        let t = &l.report.technical_success;
        let _ = writeln!(
            s,
            "  {:<4} {} seeds: D90 {:.1} Gy (planned {:.1}), V100 {:.1} % (planned {:.1}); technical success: {}",
            l.lesion_id,
            l.seeds_found,
            l.report.d90.actual,
            l.report.d90.planned,
            l.report.v100.actual,
            l.report.v100.planned,
            if t.achieved { "yes".to_owned() } else { format!("no (D90 short by {:.1} Gy)", -t.margin.0) }
        );
    }
    for v in report.evaluation.verdicts.iter().filter(|v| !v.pass) {
        let _ = writeln!(s, "  not met: {} {} ({:.1} {} vs {:.1})", v.scope, v.constraint, v.value, v.unit, v.limit);
    }
    let _ = writeln!(s, "Wrote {} (postimplant.json, dose_postimplant.nii.gz)", args.out.display());
    output::print(&s)
}

/// The recorded inputs of a plan (what `cryoseed plan` was given besides the case).
pub(crate) struct RecordedInputs {
    arm: ArmPlan,
    overrides: Vec<Override>,
    seed: u64,
}

impl RecordedInputs {
    /// The plan request these inputs make on `case`.
    pub(crate) fn request<'a>(&self, case: &'a cryoseed_anatomy::Case, protocol: &'a Protocol) -> PlanRequest<'a> {
        PlanRequest {
            case,
            arm: self.arm,
            overrides: self.overrides.clone(),
            protocol,
            settings: PlannerSettings::default(),
            seed: self.seed,
        }
    }
}

/// Re-derives the plan recorded in `plan_path` from `case` and the plan's inputs, and refuses a
/// plan.json that is not exactly what this software derives (another case, another protocol, an
/// edited file or another software version): the plan's fields (dose, masks) are never read
/// from a file that could disagree with its record.
pub(crate) fn rederive_plan(
    plan_path: &Path,
    case_dir: &Path,
    case: &cryoseed_anatomy::Case,
    protocol: &Protocol,
) -> anyhow::Result<(RecordedInputs, PatientPlan)> {
    let shown = plan_path.display();
    let plan_text = std::fs::read_to_string(plan_path).with_context(|| format!("--plan {shown}: cannot read"))?;
    let recorded: serde_json::Value =
        serde_json::from_str(&plan_text).with_context(|| format!("--plan {shown}: not JSON"))?;
    let field = |path: &str| -> anyhow::Result<&serde_json::Value> {
        recorded.pointer(path).with_context(|| format!("--plan {shown}: missing {path}"))
    };
    if field("/format")? != "cryoseed-plan" {
        bail!("--plan {shown}: format is not cryoseed-plan");
    }
    if field("/protocol/sha256")?.as_str() != Some(&protocol.hash().to_string()) {
        bail!(
            "--plan {shown}: the plan was made under protocol {} (sha256 {}), not the protocol in use; pass it with --protocol",
            field("/protocol/version")?,
            field("/protocol/sha256")?
        );
    }
    let arm: ArmPlan = serde_json::from_value(field("/inputs/arm")?.clone()).context("plan.json inputs.arm")?;
    let overrides: Vec<Override> =
        serde_json::from_value(field("/inputs/overrides")?.clone()).context("plan.json inputs.overrides")?;
    let seed = field("/inputs/seed")?.as_u64().context("plan.json inputs.seed: not an integer")?;
    if field("/inputs/case_sha256")?.as_str() != Some(&cryoseed_plan::case_hash(case)) {
        bail!("--case {}: this is not the case the plan was made on (case SHA-256 differs)", case_dir.display());
    }
    let inputs = RecordedInputs { arm, overrides, seed };
    let plan = plan_patient(&inputs.request(case, protocol))
        .with_context(|| format!("cannot re-derive the plan of {}", case.patient_id()))?;
    let mut again = serde_json::to_string_pretty(&plan.record)?;
    again.push('\n');
    if again != plan_text {
        bail!(
            "--plan {shown}: the plan differs from what this software ({}) derives from the case and the plan's inputs; \
             re-plan with `cryoseed plan` first",
            cryoseed_core::SOFTWARE_VERSION
        );
    }
    Ok((inputs, plan))
}

/// Seed positions from a CSV with `x_mm`, `y_mm`, `z_mm` columns; errors name the line.
fn read_seed_positions(path: &Path, flag: &str) -> anyhow::Result<Vec<cryoseed_core::PatientPoint>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{flag} {name}: cannot read"))?;
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{name} line 1: cannot read the header"))?
        .iter()
        .map(str::to_owned)
        .collect();
    let col = |c: &str| header.iter().position(|h| h == c).with_context(|| format!("{name} line 1: no column {c}"));
    let (ix, iy, iz) = (col("x_mm")?, col("y_mm")?, col("z_mm")?);
    let mut out = Vec::new();
    for (i, row) in rdr.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{name} line {line}: malformed CSV"))?;
        let get = |k: usize, c: &str| -> anyhow::Result<f64> {
            let v = row.get(k).unwrap_or("");
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .with_context(|| format!("{name} line {line}: {c}: {v:?} is not a number"))
        };
        out.push(cryoseed_core::PatientPoint([get(ix, "x_mm")?, get(iy, "y_mm")?, get(iz, "z_mm")?]));
    }
    if out.is_empty() {
        bail!("{name}: no seed positions");
    }
    Ok(out)
}

/// Flags of `cryoseed replan`.
#[derive(Debug, clap::Args)]
pub struct ReplanArgs {
    /// The plan (plan.json written by `cryoseed plan`).
    #[arg(long, value_name = "PLAN.json")]
    plan: PathBuf,
    /// The case directory the plan was made on (checked against the plan's case SHA-256).
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// Seeds already in the patient, found on the intra-operative CT: CSV with columns x_mm, y_mm,
    /// z_mm (other columns are ignored).
    #[arg(long, value_name = "PLACED.csv")]
    placed: PathBuf,
    /// Output directory (must not exist, or be empty); written in full or not at all.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Runs `cryoseed replan`: re-derives the plan (as `postimplant` does), attributes the placed
/// seeds to their lesions and re-optimizes the seeds still to place around them.
pub fn run_replan(args: &ReplanArgs, protocol: &Protocol) -> anyhow::Result<()> {
    output::check_out_dir(&args.out, "--out")?;
    let loaded = cryoseed_imaging::read_case(&args.case).context("cannot read the case directory")?;
    let case = &loaded.case;
    let placed = read_seed_positions(&args.placed, "--placed")?;
    let (inputs, plan) = rederive_plan(&args.plan, &args.case, case, protocol)?;
    let request = inputs.request(case, protocol);
    let (replan, dose) = cryoseed_plan::replan_patient(&request, &plan, &placed)?;
    output::write_dir_atomically(&args.out, "--out", |staging| {
        let mut json = serde_json::to_string_pretty(&replan)?;
        json.push('\n');
        std::fs::write(staging.join("replan.json"), json).context("cannot write replan.json")?;
        std::fs::write(staging.join("seeds_remaining.csv"), remaining_seeds_csv(&replan))
            .context("cannot write seeds_remaining.csv")?;
        cryoseed_imaging::nifti::write_field_f32(&staging.join("dose_replan.nii.gz"), &dose)?;
        Ok(())
    })?;
    let mut s = format!(
        "Intra-operative re-plan for {} ({} seeds placed, {} still to place):\n",
        replan.patient_id, replan.seeds_placed, replan.seeds_remaining
    );
    for l in &replan.lesions {
        let t = &l.plan.evaluation.target;
        let status = match l.status {
            cryoseed_plan::ReplanStatus::Replanned => "re-planned",
            cryoseed_plan::ReplanStatus::Unchanged => "unchanged (no placed seed)",
        };
        let verdict = match &l.plan.verdict {
            cryoseed_plan::SeedPlanVerdict::MeetsGoals => "meets every goal".to_owned(),
            cryoseed_plan::SeedPlanVerdict::Infeasible { reasons } => format!("not met: {}", reasons.join("; ")),
        };
        let _ = writeln!(
            s,
            "  {:<4} {status}: {} placed, {} to place (plan had {}); predicted D90 {:.1} Gy, V100 {:.1} %; {verdict}",
            l.lesion_id, l.seeds_placed, l.seeds_remaining, l.seeds_planned_originally, t.d90.0, t.v100.0
        );
    }
    for v in replan.evaluation.verdicts.iter().filter(|v| !v.pass) {
        let _ = writeln!(s, "  not met: {} {} ({:.1} {} vs {:.1})", v.scope, v.constraint, v.value, v.unit, v.limit);
    }
    let _ = writeln!(s, "Wrote {} (replan.json, seeds_remaining.csv, dose_replan.nii.gz)", args.out.display());
    output::print(&s)
}

/// The seeds still to place, in the layout of `seeds.csv` plus the lesion and needle.
fn remaining_seeds_csv(replan: &cryoseed_plan::PatientReplan) -> String {
    let mut out = String::from("x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model,lesion,needle\n");
    for l in &replan.lesions {
        for s in l.plan.seeds.iter().filter(|s| s.needle.is_some()) {
            let [x, y, z] = s.centre_in_patient.0;
            let [dx, dy, dz] = s.axis_in_patient.unwrap_or([0.0; 3]);
            let _ = writeln!(
                out,
                "{x:.2},{y:.2},{z:.2},{dx:.6},{dy:.6},{dz:.6},{},{},{},{}",
                l.plan.settings.air_kerma_strength.0,
                l.plan.settings.model_id,
                l.lesion_id,
                s.needle.map_or(0, |n| n + 1)
            );
        }
    }
    out
}
