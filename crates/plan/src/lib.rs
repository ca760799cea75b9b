//! Treatment planning for the trial's therapy: lesion allocation, tumour zoning of the bulky
//! index lesion, seed inverse planning, cryoprobe placement (through `cryoseed-cryo`) and the
//! combined evaluation of a patient's plan against the protocol.
//!
//! - [`access`]: straight percutaneous paths from the skin to a lesion that keep clear of
//!   organs at risk, vessels and bone (the allocation's "a probe path exists").
//! - [`allocation`]: each target lesion → seeds, cryo or (bulky index lesion, experimental arm)
//!   zoned, with the rule that decided and the measured values; control arms give every target
//!   the centre's single modality; investigator overrides are inputs with a reason and are
//!   marked as deviations.
//! - [`zoning`]: core, margin (seed target) and high-risk sub-volumes of the bulky lesion.
//! - [`seeds`]: seed inverse planning (needle tracks, dose influence, seeded optimizer),
//!   post-implant dosimetry and intra-operative re-planning.
//! - [`evaluate`](mod@evaluate): zonal coverage, seed-target indices, OAR doses and ice-edge distances, with a
//!   verdict per protocol constraint saying by how much a failed one is missed.
//!
//! - [`patient`]: the whole plan of one patient and its versioned record (`plan.json`), and
//!   post-implant dosimetry of the whole patient.
//! - [`replan`]: intra-operative re-planning of the whole patient around the seeds already placed.
//!
//! Everything here is pure computation on values: no files, clock or environment. Randomized
//! searches take an explicit seed, so the same inputs, protocol and seed give the same plan.

pub mod access;
pub mod allocation;
mod error;
pub mod evaluate;
pub mod patient;
pub mod replan;
pub mod seeds;
pub mod zoning;

pub use access::{Access, AccessMap, AccessPath, AccessSettings, NoAccess};
pub use allocation::{
    Allocation, AllocationDecision, AllocationRule, ArmPlan, CriterionCheck, Override, allocate, cryo_criteria,
};
pub use error::PlanError;
pub use evaluate::{
    Evaluation, EvaluationSettings, IceDistance, LesionEvaluation, LesionIce, LesionInput, OarDose, SeedTargetIndices,
    Verdict, cryo_target, evaluate, seed_target,
};
pub use patient::{
    LesionCryoPlan, LesionPostImplant, LesionSeedPlan, PLAN_FORMAT_VERSION, PatientPlan, PatientPostImplant,
    PlanInputs, PlanRecord, PlanRequest, PlannerSettings, ProtocolRef, StructureRecord, case_hash, plan_patient,
    post_implant_patient,
};
pub use replan::{LesionReplan, PatientReplan, ReplanStatus, replan_patient};
pub use seeds::{
    FixedSeed, NeedleObstacle, SeedOar, SeedPlan, SeedPlanConfig, SeedPlanOutcome, SeedPlanRequest, SeedPlanVerdict,
    SeedSettings, SeedStructures, plan_seeds, post_implant, replan_remaining,
};
pub use zoning::{Zones, ZoningSummary, ice_confinement, zone};
