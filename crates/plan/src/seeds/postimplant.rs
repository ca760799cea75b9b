//! Post-implant dosimetry: the dose of the seeds found on post-implant CT, with the 1-D
//! (point-source) formalism of TG-43U1 Eq. 11 because their orientation is not measured, compared
//! with the plan, and the protocol's technical-success verdict (post-implant D90 ≥ prescription,
//! PROTOCOL.md "Response and endpoints").

use super::evaluate::{SeedPlanEvaluation, evaluate_seed_dose};
use super::region::PlanningRegion;
use super::{PlannedSeed, SeedOar, SeedPlan, SeedStructures, implant_of};
use crate::PlanError;
use cryoseed_core::{Gy, PatientPoint};
use cryoseed_dose::{DoseGridConfig, SeedModel, dose_grid};
use cryoseed_volume::Field;
use serde::Serialize;

/// A metric planned and found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricDelta {
    /// Planned value.
    pub planned: f64,
    /// Post-implant value.
    pub actual: f64,
    /// Post-implant minus planned.
    pub delta: f64,
}

impl MetricDelta {
    fn new(planned: f64, actual: f64) -> MetricDelta {
        MetricDelta { planned, actual, delta: actual - planned }
    }
}

/// One OAR's limited metric, planned and found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OarDelta {
    /// Structure name.
    pub name: String,
    /// The limit, e.g. `D2cc <= 100.0 Gy`.
    pub limit: Option<String>,
    /// Planned value and post-implant value, Gy.
    pub value: Option<MetricDelta>,
    /// Whether the post-implant value respects the limit.
    pub passed: bool,
}

/// The protocol's technical-success criterion for the seed part of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TechnicalSuccess {
    /// The rule applied.
    pub rule: String,
    /// Whether it holds.
    pub achieved: bool,
    /// Post-implant D90.
    pub d90: Gy,
    /// The prescription.
    pub prescription: Gy,
    /// D90 minus prescription (negative: short by that much).
    pub margin: Gy,
}

/// Post-implant dosimetry compared with the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostImplantReport {
    /// Seeds the plan places (fixed seeds included).
    pub seeds_planned: usize,
    /// Seeds found on post-implant imaging.
    pub seeds_found: usize,
    /// The post-implant evaluation (1-D formalism).
    pub actual: SeedPlanEvaluation,
    /// ΔD90, Gy.
    pub d90: MetricDelta,
    /// ΔV100, % of the target.
    pub v100: MetricDelta,
    /// ΔV150, %.
    pub v150: MetricDelta,
    /// ΔV200, %.
    pub v200: MetricDelta,
    /// Per OAR.
    pub oars: Vec<OarDelta>,
    /// The verdict.
    pub technical_success: TechnicalSuccess,
}

/// Post-implant dosimetry of `actual_seeds` (seed centres found on CT) against `plan`, on the
/// same structures the plan was made for. Returns the report and the dose (Gy) on the planning
/// region (the target's box grown by 30 mm).
pub fn post_implant(
    plan: &SeedPlan,
    actual_seeds: &[PatientPoint],
    structures: &SeedStructures<'_>,
    model: &SeedModel,
) -> Result<(PostImplantReport, Field<f32>), PlanError> {
    if actual_seeds.is_empty() {
        return Err(PlanError::Input { field: "seeds", message: "no seed positions given".to_owned() });
    }
    if model.id() != plan.settings.model_id {
        return Err(PlanError::Input {
            field: "model",
            message: format!("plan uses seed model {}, got {}", plan.settings.model_id, model.id()),
        });
    }
    super::region::check_structures(structures)?;
    let region = PlanningRegion::new(structures, &plan.settings, &plan.config)?;
    let seeds: Vec<PlannedSeed> = actual_seeds
        .iter()
        .map(|&p| PlannedSeed { centre_in_patient: p, axis_in_patient: None, needle: None, depth: None })
        .collect();
    let implant = implant_of(&seeds, model, plan.settings.air_kerma_strength)?;
    let dose = dose_grid(&implant, &region.grid, &DoseGridConfig::default())
        .map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })?;
    let cropped = SeedStructures {
        target: &region.target,
        dont_care: Some(&region.dont_care),
        body: &region.body,
        oars: structures
            .oars
            .iter()
            .zip(&region.oars)
            .map(|(o, m)| SeedOar { name: o.name.clone(), class: o.class, mask: m, limit: o.limit })
            .collect(),
        needle_obstacles: Vec::new(),
    };
    let actual = evaluate_seed_dose(&dose, &cropped, &plan.settings)?;
    let planned = &plan.evaluation;
    let oars = planned
        .oars
        .iter()
        .zip(&actual.oars)
        .map(|(p, a)| OarDelta {
            name: a.name.clone(),
            limit: a.limit.clone(),
            value: p.value.zip(a.value).map(|(p, a)| MetricDelta::new(p.0, a.0)),
            passed: a.passed,
        })
        .collect();
    let rx = plan.settings.prescription;
    let technical_success = TechnicalSuccess {
        rule: format!("post-implant D90 >= prescription ({:.1} Gy)", rx.0),
        achieved: actual.target.d90.0 >= rx.0,
        d90: actual.target.d90,
        prescription: rx,
        margin: Gy(actual.target.d90.0 - rx.0),
    };
    let report = PostImplantReport {
        seeds_planned: plan.seeds.len(),
        seeds_found: actual_seeds.len(),
        d90: MetricDelta::new(planned.target.d90.0, actual.target.d90.0),
        v100: MetricDelta::new(planned.target.v100.0, actual.target.v100.0),
        v150: MetricDelta::new(planned.target.v150.0, actual.target.v150.0),
        v200: MetricDelta::new(planned.target.v200.0, actual.target.v200.0),
        oars,
        technical_success,
        actual,
    };
    Ok((report, dose))
}
