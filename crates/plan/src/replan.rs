//! Intra-operative re-planning of a whole patient: seeds already in the patient (positions found
//! on the intra-operative CT) are attributed to their lesions, and each lesion that has some is
//! re-optimized around them with the same request the plan was made with; the patient is
//! re-evaluated on the dose of the placed seeds plus the seeds still to place.
//!
//! Decisions:
//! - A placed seed belongs to the lesion of its nearest planned seed (as in post-implant
//!   dosimetry). A lesion with no placed seed keeps its plan unchanged: re-running the search
//!   without fixed seeds would give the same plan (same request, same seed).
//! - Placed seeds' orientation is unknown (imaging finds centres), so they count with the
//!   point-source (1-D) formalism; the seeds still to place lie along their needles (2-D).

use crate::PlanError;
use crate::evaluate::{Evaluation, evaluate};
use crate::patient::{
    LesionSeedTarget, PatientPlan, PlanRequest, attribute_seeds, body_mask, case_hash, insertion_direction,
    lesion_rng_seed, lesion_seed_request,
};
use crate::seeds::{FixedSeed, PlannedSeed, SeedPlan, replan_remaining};
use cryoseed_core::{LesionId, PatientId, PatientPoint};
use cryoseed_dose::{DoseGridConfig, Implant, Seed, SeedOrientation, dose_grid};
use cryoseed_volume::Field;
use serde::Serialize;

/// What happened to one seeded lesion's plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplanStatus {
    /// Seeds were found in it; the remaining ones were re-optimized around them.
    Replanned,
    /// No placed seed belongs to it; its plan is unchanged.
    Unchanged,
}

/// The re-plan of one seeded lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionReplan {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Replanned or unchanged.
    pub status: ReplanStatus,
    /// Placed seeds attributed to it.
    pub seeds_placed: usize,
    /// Seeds the original plan placed in it.
    pub seeds_planned_originally: usize,
    /// Seeds still to place.
    pub seeds_remaining: usize,
    /// The new plan: the placed seeds first (fixed, no needle), then the seeds still to place by
    /// needle and depth, with the predicted metrics and verdict.
    pub plan: SeedPlan,
}

/// Intra-operative re-plan of a patient (`replan.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatientReplan {
    /// Always `cryoseed-replan`.
    pub format: &'static str,
    /// Layout version.
    pub format_version: u32,
    /// Software version.
    pub software_version: &'static str,
    /// The plan's patient.
    pub patient_id: PatientId,
    /// SHA-256 of the case.
    pub case_sha256: String,
    /// Placed seeds given.
    pub seeds_placed: usize,
    /// Seeds still to place, all lesions.
    pub seeds_remaining: usize,
    /// Per seeded lesion.
    pub lesions: Vec<LesionReplan>,
    /// The patient's evaluation on the dose of the placed seeds and the seeds still to place,
    /// with the planned ice.
    pub evaluation: Evaluation,
}

impl PatientReplan {
    /// The seeds still to place, all lesions, in lesion order.
    pub fn remaining_seeds(&self) -> impl Iterator<Item = (&LesionId, &PlannedSeed)> {
        self.lesions
            .iter()
            .flat_map(|l| l.plan.seeds.iter().filter(|s| s.needle.is_some()).map(move |s| (&l.lesion_id, s)))
    }
}

/// Re-plans the seeds still to place around the `placed` ones (module docs). `request` must be
/// the request `plan` was made from (the CLI re-derives the plan and checks it against its file).
/// Returns the re-plan and the patient's dose (Gy, case grid) of placed plus remaining seeds.
pub fn replan_patient(
    request: &PlanRequest<'_>,
    plan: &PatientPlan,
    placed: &[PatientPoint],
) -> Result<(PatientReplan, Field<f32>), PlanError> {
    let case = request.case;
    let protocol = request.protocol;
    if plan.record.seed_plans.is_empty() {
        return Err(PlanError::Input { field: "plan", message: "the plan places no seeds".into() });
    }
    let grid = *case.grid();
    let groups = attribute_seeds(case, plan, placed)?;
    let body = body_mask(case)?;

    let mut lesions = Vec::new();
    for (sp, found) in plan.record.seed_plans.iter().zip(&groups) {
        let originally = sp.plan.planned_seed_count();
        if found.is_empty() {
            lesions.push(LesionReplan {
                lesion_id: sp.lesion_id.clone(),
                status: ReplanStatus::Unchanged,
                seeds_placed: 0,
                seeds_planned_originally: originally,
                seeds_remaining: originally,
                plan: sp.plan.clone(),
            });
            continue;
        }
        let lesion = plan.seeded_lesion(case, &sp.lesion_id);
        let access = plan.record.access.iter().find(|(id, _)| *id == sp.lesion_id).map(|(_, a)| a);
        let seed_request = lesion_seed_request(
            LesionSeedTarget {
                case,
                gtv: lesion.gtv,
                region: lesion.target,
                dont_care: lesion.dont_care.as_ref(),
                body,
                insertion: insertion_direction(access),
            },
            protocol,
            request.settings.seed_search,
            lesion_rng_seed(request.seed, lesion.index),
        )?;
        let fixed: Vec<FixedSeed> =
            found.iter().map(|p| FixedSeed { centre_in_patient: *p, axis_in_patient: None }).collect();
        let outcome = replan_remaining(&seed_request, &fixed)?;
        lesions.push(LesionReplan {
            lesion_id: sp.lesion_id.clone(),
            status: ReplanStatus::Replanned,
            seeds_placed: found.len(),
            seeds_planned_originally: originally,
            seeds_remaining: outcome.plan.planned_seed_count(),
            plan: outcome.plan,
        });
    }

    // The patient's dose: every lesion's plan, placed seeds included.
    let seeds: Vec<Seed> = lesions
        .iter()
        .flat_map(|l| {
            l.plan.seeds.iter().map(|s| Seed {
                centre_in_patient: s.centre_in_patient,
                orientation: s.axis_in_patient.map_or(SeedOrientation::Unknown, SeedOrientation::Axis),
                air_kerma_strength: l.plan.settings.air_kerma_strength,
                model: l.plan.settings.model_id.clone(),
            })
        })
        .collect();
    let implant = Implant::new(&seeds, &[]).map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })?;
    let dose = dose_grid(&implant, &grid, &DoseGridConfig::default())
        .map_err(|e| PlanError::Input { field: "dose", message: e.to_string() })?;
    let evaluation = evaluate(case, &plan.lesion_inputs(case), &dose, protocol, &request.settings.evaluation)?;
    let seeds_remaining = lesions.iter().map(|l| l.seeds_remaining).sum();
    Ok((
        PatientReplan {
            format: "cryoseed-replan",
            format_version: 1,
            software_version: cryoseed_core::SOFTWARE_VERSION,
            patient_id: case.patient_id().clone(),
            case_sha256: case_hash(case),
            seeds_placed: placed.len(),
            seeds_remaining,
            lesions,
            evaluation,
        },
        dose,
    ))
}
