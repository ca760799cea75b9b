//! The trial's rules as pure functions of entered data and the protocol.
//!
//! Today: [`eligibility`], which evaluates every inclusion and exclusion criterion of the
//! protocol for one screening record and says, for each, the verdict, the rule and the evidence.
//! Randomization, CTCAE grading and endpoint derivation join this crate in later work.
//!
//! The key design decision: a criterion whose data is missing is *undecided*, not failed — a
//! screening form is filled over days, and "cannot be decided yet: INR is missing" is what a site
//! needs to see.
//!
//! ```
//! use cryoseed_core::protocol::Protocol;
//! use cryoseed_trial::eligibility::{assess, Status};
//! # let record = cryoseed_sim::cohort(&cryoseed_sim::CohortConfig::default(), 7).remove(0);
//! let assessment = assess(&record, &Protocol::shipped());
//! if assessment.status() == Status::Eligible {
//!     println!("{} may be randomized", record.patient_id);
//! }
//! ```

pub mod ctcae;
pub mod eligibility;
mod error;
pub mod randomization;

pub use error::TrialError;
