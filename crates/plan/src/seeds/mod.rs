//! Seed inverse planning: where to put I-125 seeds so that a seed target gets its prescription
//! with as few seeds and needles as possible, under the protocol's OAR and placement rules.
//!
//! The stages are data types (computed once, then optimized against many times):
//!
//! 1. [`SeedStructures`] + [`SeedSettings`] + [`TrackSource`]s → needle tracks and candidate
//!    seed positions ([`tracks`]): parallel template needles (a grid of lines `needle_spacing`
//!    apart, perpendicular to an entry plane) or free tracks fanning out from skin entry points;
//!    along each track, positions every half `seed_spacing` (both phase offsets of the protocol's
//!    10 mm spacing are tried; the optimizer keeps chosen seeds on a needle at least
//!    `seed_spacing` apart). A position is a candidate when it lies in the target, at least
//!    `min_seed_to_oar` from every critical OAR, at least `min_seed_to_skin` from the skin, and
//!    before the first needle obstacle on its track (every critical OAR except skin, plus the
//!    caller's obstacles, e.g. bone and large vessels).
//! 2. Sample points and the [`influence`] of every candidate on them (total permanent-implant
//!    dose per seed, TG-43U1 line source along the needle axis, sparse within a cut-off radius).
//! 3. The [`optimize`]r: greedy addition, then simulated annealing (add, remove, move along the
//!    needle or to a neighbour) on a penalty objective, seeded with `ChaCha8Rng`.
//! 4. The [`evaluate`] stage: the dose engine's full dose on the voxels ([`cryoseed_dose::dose_grid()`])
//!    and the protocol's goals and OAR limits, each with pass/fail and its margin; a plan that
//!    misses a goal says which and by how much ([`SeedPlanVerdict`]).
//!
//! [`postimplant`] recomputes the dose of the seeds actually found on post-implant CT with the
//! 1-D (point-source) formalism, compares it with the plan and gives the technical-success
//! verdict; [`replan_remaining`] re-optimizes the seeds still to place when some are already in.
//!
//! # Decisions
//!
//! - **Don't-care region** (the cryoablated core of a zoned lesion): no coverage objective and no
//!   hot-spot penalty there, and by default no seed in it (clinically, seeds are not placed in
//!   the ice ball: the core is debulked by cryoablation, and necrotic tissue holds seeds poorly).
//!   Needles may cross it. [`SeedPlanConfig::allow_seeds_in_dont_care`] lifts the seed ban.
//! - **Skin**: seeds must be `min_seed_to_skin` from the outside of the body and from any
//!   structure of class [`CriticalOar::Skin`]; other critical OARs need `min_seed_to_oar`.
//! - **Cut-off**: the influence structure keeps each seed's dose within
//!   [`SeedPlanConfig::influence_cutoff`] (40 mm by default; one 0.76 U 6711 seed gives about
//!   0.4 Gy total dose there, ≈ 0.35 % of a 110 Gy prescription). For large implants the sum of
//!   those tails is large (22 Gy, 20 % of a 110 Gy prescription, at the worst sample point of a
//!   280 mL margin with 160 seeds; the plan records it as `optimizer.max_far_correction`), so after each optimization round the exact dose of the chosen
//!   seeds at every sample point (no cut-off) replaces the truncated one as a fixed correction,
//!   and the next round starts from there; the final verdict always comes from the dose engine on
//!   the voxels.
//! - **Sampling**: the optimizer sees a lattice of sample points (about
//!   [`SeedPlanConfig::sample_spacing`] apart, coarser for large targets), plus every voxel of a
//!   limited OAR within [`influence::OAR_FINE_DISTANCE_MM`] of the target (an OAR limit is on a
//!   small volume — the cord's D0.1cc is 12 voxels of 2 mm — whose hot voxels a 4 mm lattice
//!   misses: the paraspinal margin's cord D0.1cc came out at 53.6 Gy for 47.5 Gy on the
//!   lattice); the verdict uses every voxel. If a goal fails on the voxels, what failed is
//!   tightened and the plan re-optimized ([`optimize`]).
//! - **Candidates just outside the target**: by default positions up to
//!   [`SeedPlanConfig::candidate_margin`] = 3 mm outside the target are candidates too (still
//!   under the OAR, skin and obstacle rules). Peripheral loading covers the target's edge with
//!   fewer hot spots inside; with candidates only inside, small whole-lesion targets (8–20 mL)
//!   and margin zones next to bowel missed V100 by 1–5 % on some phantoms.
//! - **Explained shortfalls**: when a coverage goal fails and an OAR is at ≥ 90 % of its limit,
//!   the verdict says so, with the share of the under-dosed target within
//!   `min_seed_to_oar + seed_spacing` of that OAR (more seeds cannot fix it without exceeding the
//!   limit).
//!
//! Everything here is pure and deterministic: the same request and `rng_seed` give the same plan,
//! byte for byte once serialized.

pub mod evaluate;
pub mod influence;
pub mod optimize;
pub mod postimplant;
mod region;
pub mod tracks;

pub use evaluate::{GoalCheck, OarCheck, SeedPlanEvaluation, SeedPlanVerdict, TargetDose, evaluate_seed_dose};
pub use influence::{DoseInfluence, SamplePoints};
pub use optimize::OptimizerSummary;
pub use postimplant::{MetricDelta, OarDelta, PostImplantReport, TechnicalSuccess, post_implant};
pub use tracks::{
    Candidate, CandidateSummary, DirectionRank, FreeTracks, NeedleTrack, TemplateGrid, TrackSource, choose_templates,
    rank_template_directions,
};

use crate::PlanError;
use cryoseed_core::protocol::{OarDoseLimit, SeedParameters, SeedPlanGoals};
use cryoseed_core::{CriticalOar, Gy, LesionSite, Mm, PatientPoint, U};
use cryoseed_dose::{Implant, Seed, SeedModel, SeedOrientation};
use cryoseed_volume::{Field, Mask};
use serde::Serialize;

/// The protocol's seed parameters for one target: what the plan must achieve and the placement
/// rules it must respect (PROTOCOL.md, "I-125 seeds").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedSettings {
    /// Prescription: total permanent-implant dose the goals refer to.
    pub prescription: Gy,
    /// D90 / V100 / V150 / V200 goals on the seed target.
    pub goals: SeedPlanGoals,
    /// Seed model id (TG-43 catalogue).
    pub model_id: String,
    /// Air-kerma strength of every seed.
    pub air_kerma_strength: U,
    /// Distance between template needles.
    pub needle_spacing: Mm,
    /// Minimum distance between consecutive seeds on a needle.
    pub seed_spacing: Mm,
    /// No seed closer than this to a critical OAR (other than skin).
    pub min_seed_to_oar: Mm,
    /// No seed closer than this to the skin.
    pub min_seed_to_skin: Mm,
}

impl SeedSettings {
    /// The protocol's `[seeds]` section for a lesion at `site`.
    pub fn from_protocol(seeds: &SeedParameters, site: LesionSite) -> SeedSettings {
        SeedSettings {
            prescription: seeds.prescription_gy.get(site),
            goals: seeds.plan_goals,
            model_id: seeds.model.clone(),
            air_kerma_strength: seeds.air_kerma_strength_u,
            needle_spacing: seeds.needle_spacing_mm,
            seed_spacing: seeds.seed_spacing_mm,
            min_seed_to_oar: seeds.min_seed_to_oar_mm,
            min_seed_to_skin: seeds.min_seed_to_skin_mm,
        }
    }
}

/// An organ at risk the plan must respect.
#[derive(Clone, Debug)]
pub struct SeedOar<'a> {
    /// Structure name (reported in checks and errors).
    pub name: String,
    /// Its critical-OAR class.
    pub class: CriticalOar,
    /// Its voxels, on the target's grid.
    pub mask: &'a Mask,
    /// The protocol's dose limit for this class, if any (`DXcc ≤ limit`).
    pub limit: Option<OarDoseLimit>,
}

/// A structure needles must not cross (bone, a large vessel), besides the critical OARs.
#[derive(Clone, Debug)]
pub struct NeedleObstacle<'a> {
    /// Structure name (reported when it blocks tracks).
    pub name: String,
    /// Its voxels, on the target's grid.
    pub mask: &'a Mask,
}

/// The structures of one seed target, all on one grid.
#[derive(Clone, Debug)]
pub struct SeedStructures<'a> {
    /// The seed target (PTV_margin of a zoned lesion, or a whole lesion + 5 mm).
    pub target: &'a Mask,
    /// A region with no dose objective where seeds are not placed by default (the core).
    pub dont_care: Option<&'a Mask>,
    /// The body outline (`External`).
    pub body: &'a Mask,
    /// Critical OARs: seeds keep their distance, needles do not cross them (skin excepted),
    /// limits are objectives and checks.
    pub oars: Vec<SeedOar<'a>>,
    /// Further structures needles must not cross.
    pub needle_obstacles: Vec<NeedleObstacle<'a>>,
}

/// A seed already in the patient (intra-operative re-planning) or found on post-implant CT.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct FixedSeed {
    /// Seed centre.
    pub centre_in_patient: PatientPoint,
    /// Long axis if known (needle direction), else the 1-D formalism is used.
    pub axis_in_patient: Option<[f64; 3]>,
}

/// Knobs of the search; [`Default`] gives the values the tests and benchmarks use.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SeedPlanConfig {
    /// Seed of the `ChaCha8Rng` that drives the search.
    pub rng_seed: u64,
    /// Radius within which each candidate's dose is stored (module docs).
    pub influence_cutoff: Mm,
    /// Spacing of the sample-point lattice the optimizer sees.
    pub sample_spacing: Mm,
    /// Annealing moves of the first optimization round (later rounds, which start from the
    /// previous solution, use a quarter of this).
    pub iterations_per_round: usize,
    /// Whether seeds may go in the don't-care region (module docs).
    pub allow_seeds_in_dont_care: bool,
    /// Candidates may lie up to this far outside the target (3 mm by default, module docs).
    pub candidate_margin: Mm,
}

impl Default for SeedPlanConfig {
    fn default() -> SeedPlanConfig {
        SeedPlanConfig {
            rng_seed: 1,
            influence_cutoff: Mm(40.0),
            sample_spacing: Mm(2.0),
            iterations_per_round: 10_000,
            allow_seeds_in_dont_care: false,
            candidate_margin: Mm(3.0),
        }
    }
}

/// Everything a seed plan is computed from.
#[derive(Clone, Debug)]
pub struct SeedPlanRequest<'a> {
    /// Target, don't-care region, body, OARs and obstacles.
    pub structures: SeedStructures<'a>,
    /// Prescription, goals and placement rules.
    pub settings: SeedSettings,
    /// The seed model's TG-43 data (e.g. `builtin_model(&settings.model_id)`).
    pub model: SeedModel,
    /// Where needles may go.
    pub tracks: Vec<TrackSource>,
    /// Seeds already placed: they count in the dose and are not moved.
    pub fixed_seeds: Vec<FixedSeed>,
    /// Search settings.
    pub config: SeedPlanConfig,
}

/// One needle of the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedNeedle {
    /// 1-based needle number, in track order.
    pub number: usize,
    /// Where the track comes from (template hole or free entry).
    pub track: NeedleTrack,
    /// Deepest seed position (the needle's tip goes there).
    pub deepest_seed_in_patient: PatientPoint,
    /// Insertion depth from the skin entry to the deepest seed.
    pub depth: Mm,
    /// Number of seeds this needle leaves.
    pub seed_count: usize,
}

/// One seed of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PlannedSeed {
    /// Seed centre.
    pub centre_in_patient: PatientPoint,
    /// Long axis (the needle direction); `None` for a fixed seed of unknown orientation.
    pub axis_in_patient: Option<[f64; 3]>,
    /// The needle number it is delivered with, `None` for a fixed (already placed) seed.
    pub needle: Option<usize>,
    /// Depth along the needle from its skin entry, for a planned seed.
    pub depth: Option<Mm>,
}

/// A seed plan: needles, seeds, what the search saw, the verdict on the voxels.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedPlan {
    /// Settings the plan was made with.
    pub settings: SeedSettings,
    /// Search settings.
    pub config: SeedPlanConfig,
    /// Needles that carry at least one seed.
    pub needles: Vec<PlannedNeedle>,
    /// Fixed seeds first (input order), then planned seeds by needle and depth.
    pub seeds: Vec<PlannedSeed>,
    /// Tracks and candidate positions considered.
    pub candidates: CandidateSummary,
    /// What the optimizer did.
    pub optimizer: OptimizerSummary,
    /// Dose metrics on the voxels, goal and limit checks.
    pub evaluation: SeedPlanEvaluation,
    /// Whether the plan meets every goal and limit, and if not which and by how much.
    pub verdict: SeedPlanVerdict,
}

impl SeedPlan {
    /// Number of seeds to place (fixed seeds excluded).
    pub fn planned_seed_count(&self) -> usize {
        self.seeds.iter().filter(|s| s.needle.is_some()).count()
    }

    /// The plan's seeds as dose-engine input (planned seeds along their needle axis).
    pub fn to_implant(&self, model: &SeedModel) -> Result<Implant, PlanError> {
        implant_of(&self.seeds, model, self.settings.air_kerma_strength)
    }
}

/// The outcome of [`plan_seeds`]: the plan record and its dose on the planning region.
#[derive(Clone, Debug)]
pub struct SeedPlanOutcome {
    /// The plan (serializable record).
    pub plan: SeedPlan,
    /// Total dose (Gy) on the planning region: the target's box grown by 30 mm, same voxel
    /// spacing as the case grid. Recompute on the whole case grid with
    /// [`SeedPlan::to_implant`] and [`cryoseed_dose::dose_grid()`] when needed.
    pub dose: Field<f32>,
}

/// Makes a seed plan (module docs). Errors for input that cannot be planned at all (empty
/// target, masks on different grids, a target overlapping a critical OAR, a degenerate track
/// direction); a plan that can be made but misses a goal — including when no needle track can
/// reach the target — comes back with an infeasible [`SeedPlanVerdict`].
pub fn plan_seeds(request: &SeedPlanRequest<'_>) -> Result<SeedPlanOutcome, PlanError> {
    let structures = &request.structures;
    region::check_structures(structures)?;
    check_settings(&request.settings, &request.config)?;
    let region = region::PlanningRegion::new(structures, &request.settings, &request.config)?;
    let candidates = tracks::candidates(request, &region)?;
    let influence = influence::DoseInfluence::compute(request, &region, &candidates)?;
    optimize::optimize(request, &region, &candidates, &influence)
}

/// Intra-operative re-planning: `placed` seeds are already in the patient (positions from
/// imaging, axis if known); the seeds still to place are re-optimized around them. The request's
/// own fixed seeds are replaced by `placed`.
pub fn replan_remaining(request: &SeedPlanRequest<'_>, placed: &[FixedSeed]) -> Result<SeedPlanOutcome, PlanError> {
    let mut request = request.clone();
    request.fixed_seeds = placed.to_vec();
    plan_seeds(&request)
}

fn check_settings(settings: &SeedSettings, config: &SeedPlanConfig) -> Result<(), PlanError> {
    let positive = |field: &'static str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(PlanError::Input { field, message: format!("must be > 0, got {v}") })
        }
    };
    positive("prescription", settings.prescription.0)?;
    positive("air_kerma_strength", settings.air_kerma_strength.0)?;
    positive("needle_spacing", settings.needle_spacing.0)?;
    positive("seed_spacing", settings.seed_spacing.0)?;
    positive("influence_cutoff", config.influence_cutoff.0)?;
    positive("sample_spacing", config.sample_spacing.0)?;
    for (field, v) in [
        ("min_seed_to_oar", settings.min_seed_to_oar.0),
        ("min_seed_to_skin", settings.min_seed_to_skin.0),
        ("candidate_margin", config.candidate_margin.0),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(PlanError::Input { field, message: format!("must be >= 0, got {v}") });
        }
    }
    Ok(())
}

/// Dose-engine input for a list of seeds of one model and strength.
pub(crate) fn implant_of(seeds: &[PlannedSeed], model: &SeedModel, sk: U) -> Result<Implant, PlanError> {
    let seeds: Vec<Seed> = seeds
        .iter()
        .map(|s| Seed {
            centre_in_patient: s.centre_in_patient,
            orientation: s.axis_in_patient.map_or(SeedOrientation::Unknown, SeedOrientation::Axis),
            air_kerma_strength: sk,
            model: model.id().to_owned(),
        })
        .collect();
    Implant::new(&seeds, std::slice::from_ref(model))
        .map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })
}
