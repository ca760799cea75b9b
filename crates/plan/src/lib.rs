//! Treatment planning for the trial's therapy: lesion allocation, tumour zoning of the bulky
//! index lesion, seed inverse planning, cryoprobe placement (through `cryoseed-cryo`) and the
//! combined evaluation of a patient's plan against the protocol.
//!
//! Everything here is pure computation on values: no files, clock or environment. Randomized
//! searches take an explicit seed, so the same inputs, protocol and seed give the same plan.

mod error;
pub mod seeds;

pub use error::PlanError;
pub use seeds::{
    FixedSeed, NeedleObstacle, SeedOar, SeedPlan, SeedPlanConfig, SeedPlanOutcome, SeedPlanRequest, SeedSettings,
    SeedStructures, plan_seeds, post_implant, replan_remaining,
};
