//! Planning every randomized patient with the real planner (`plan_patient`) on the phantom its
//! lesions were measured on, in parallel. Each patient's plan depends only on its own phantom,
//! arm and seed, and results are collected in randomization order, so thread scheduling cannot
//! change them.

use super::synth::{Population, phantom_config, phantom_seed};
use crate::output::Progress;
use anyhow::Context;
use cryoseed_anatomy::Case;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, LesionId, Modality};
use cryoseed_plan::{AllocationDecision, ArmPlan, PlanRequest, PlannerSettings, plan_patient};
use rayon::prelude::*;
use serde_json::json;
use sha2::{Digest as _, Sha256};

/// What the plan gives one target lesion.
#[derive(Clone, Debug)]
pub struct LesionPlan {
    /// The lesion.
    pub lesion_id: LesionId,
    /// What it receives.
    pub decision: AllocationDecision,
    /// The rule that decided, in one line.
    pub reason: String,
    /// Planned D90 of its seed target, Gy.
    pub seed_d90_gy: Option<f64>,
    /// Seed prescription, Gy.
    pub prescription_gy: Option<f64>,
    /// Seeds and needles.
    pub seeds: Option<(u32, u32)>,
    /// Share of the cryo target covered by lethal ice, %.
    pub lethal_coverage_percent: Option<f64>,
    /// Whether that coverage meets the planner's goal.
    pub coverage_met: Option<bool>,
    /// Probes.
    pub probes: Option<u32>,
    /// The lesion's plan document (stored in the trial database).
    pub document: String,
}

impl LesionPlan {
    /// The modalities the lesion receives.
    pub fn modalities(&self) -> Vec<Modality> {
        match self.decision {
            AllocationDecision::Seeds => vec![Modality::Seeds],
            AllocationDecision::Cryo => vec![Modality::Cryo],
            AllocationDecision::Zoned => vec![Modality::Cryo, Modality::Seeds],
        }
    }
}

/// One patient's plan, reduced to what the trial records need.
#[derive(Clone, Debug)]
pub struct PatientPlanSummary {
    /// SHA-256 of the whole plan record (compact JSON).
    pub plan_sha256: String,
    /// Per target lesion, in allocation order.
    pub lesions: Vec<LesionPlan>,
    /// Whether every constraint of the plan holds.
    pub all_pass: bool,
    /// The planner's record (`plan.json`, pretty JSON), as `cryoseed plan` writes it.
    pub plan_json: String,
    /// The plan report (`report.html`: allocation, DVHs, slices, verdicts), as `cryoseed plan`
    /// writes it.
    pub report_html: String,
    /// The plan's review bundle (`review.json` of `cryoseed plan`) for the plan-review screen.
    pub review: String,
}

/// Annealing moves of the first seed-optimization round in the demo (the planner's default is
/// 10 000; later rounds use a quarter). On the default 90-patient demo (3 mm phantoms) this and
/// the dose engine's kernel cache cut the run from 267 s to 167 s of CPU time, and 27 instead of
/// 30 plans meet every protocol constraint (BENCHMARKS.md, "demo"). Every verdict still comes
/// from the dose engine on the voxels.
pub const DEMO_ANNEALING_MOVES: usize = 3_000;

/// Planner settings of the demo: the planner's defaults with [`DEMO_ANNEALING_MOVES`] (recorded
/// in every plan document); the grid is the phantom's (`--spacing-mm`).
pub fn settings() -> PlannerSettings {
    let mut settings = PlannerSettings::default();
    settings.seed_search.iterations_per_round = DEMO_ANNEALING_MOVES;
    settings
}

/// How the demo cuts the review bundle's slices: every 6 mm (every other slice of the 3 mm
/// grid) within 15 mm of the targets, so that 90 patients' bundles keep the trial database small
/// (BENCHMARKS.md, "demo").
pub const DEMO_REVIEW: cryoseed_report::ReviewSettings =
    cryoseed_report::ReviewSettings { step_mm: 6.0, margin_mm: 15.0 };

/// Plans one randomized patient.
fn plan_one(
    population: &Population,
    k: usize,
    seed: u64,
    spacing_mm: f64,
    protocol: &Protocol,
) -> anyhow::Result<PatientPlanSummary> {
    let r = &population.randomized[k];
    let candidate = &population.candidates[r.candidate];
    let scenario = candidate.scenario.context("a randomized patient has measured lesions")?;
    let phantom = cryoseed_sim::phantom(scenario, &phantom_config(spacing_mm), phantom_seed(seed, r.candidate))?;
    let case = Case::new(candidate.record.patient_id.clone(), *phantom.grid(), phantom.structures().to_vec())?;
    let arm = match r.arm {
        Arm::Experimental => ArmPlan::Experimental,
        Arm::Control => ArmPlan::Control(r.control),
    };
    let request = PlanRequest {
        case: &case,
        arm,
        overrides: Vec::new(),
        protocol,
        settings: settings(),
        seed: phantom_seed(seed, r.candidate),
    };
    let plan = plan_patient(&request).with_context(|| format!("cannot plan {}", candidate.record.patient_id))?;
    let record = &plan.record;
    let whole = serde_json::to_string(record)?;
    let plan_sha256: String = Sha256::digest(whole.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let min_coverage = request.settings.evaluation.min_cryo_coverage_percent;
    let mut lesions = Vec::new();
    for allocation in &record.allocations {
        let id = &allocation.lesion_id;
        let evaluation = record.evaluation.lesions.iter().find(|l| &l.lesion_id == id);
        let seed_plan = record.seed_plans.iter().find(|p| &p.lesion_id == id);
        let cryo_plan = record.cryo_plans.iter().find(|p| &p.lesion_id == id);
        let verdicts: Vec<_> = record.evaluation.verdicts.iter().filter(|v| v.scope == id.as_str()).collect();
        let seed_target = evaluation.and_then(|e| e.seed_target);
        let coverage = evaluation.and_then(|e| e.lethal_coverage_percent);
        let document = json!({
            "format": "cryoseed-lesion-plan",
            "version": 1,
            "software_version": record.software_version,
            "protocol": record.protocol,
            "patient_plan_sha256": plan_sha256,
            "case_sha256": record.inputs.case_sha256,
            "grid_spacing_mm": record.inputs.grid_spacing_mm,
            "arm": record.inputs.arm,
            "seed": record.inputs.seed,
            "access": record.access.iter().find(|(l, _)| l == id).map(|(_, a)| a),
            "allocation": allocation,
            "zoning": if allocation.decision == AllocationDecision::Zoned { json!(record.zoning) } else { json!(null) },
            "seed_plan": seed_plan,
            "cryo_plan": cryo_plan,
            "evaluation": evaluation,
            "verdicts": verdicts,
        });
        lesions.push(LesionPlan {
            lesion_id: id.clone(),
            decision: allocation.decision,
            reason: allocation.reason.clone(),
            seed_d90_gy: seed_target.map(|s| (s.d90.0 * 10.0).round() / 10.0),
            prescription_gy: seed_target.map(|s| s.prescription.0),
            seeds: seed_plan.map(|p| (p.plan.planned_seed_count() as u32, p.plan.needles.len() as u32)),
            lethal_coverage_percent: coverage.map(|c| (c * 10.0).round() / 10.0),
            coverage_met: coverage.map(|c| c >= min_coverage - 1e-9),
            probes: cryo_plan.map(|p| p.plan.probes.len() as u32),
            document: serde_json::to_string(&document)?,
        });
    }
    let review = cryoseed_report::plan_review(&case, &plan, protocol, &plan_sha256, &DEMO_REVIEW);
    let mut plan_json = serde_json::to_string_pretty(record)?;
    plan_json.push('\n');
    Ok(PatientPlanSummary {
        review: serde_json::to_string(&review)?,
        plan_sha256,
        lesions,
        all_pass: record.evaluation.all_pass,
        plan_json,
        report_html: cryoseed_report::plan_report(&case, &plan, protocol),
    })
}

/// Plans every randomized patient (rayon across patients), in randomization order.
pub fn plan_all(
    population: &Population,
    seed: u64,
    spacing_mm: f64,
    protocol: &Protocol,
) -> anyhow::Result<Vec<PatientPlanSummary>> {
    let total = population.randomized.len();
    let bar = Progress::new("demo", format!("planning (real planner, {spacing_mm} mm grid)"), total);
    let plans = (0..total)
        .into_par_iter()
        .map(|k| {
            let plan = plan_one(population, k, seed, spacing_mm, protocol)?;
            let id = &population.candidates[population.randomized[k].candidate].record.patient_id;
            bar.step(id.as_str());
            Ok(plan)
        })
        .collect();
    bar.finish();
    plans
}
