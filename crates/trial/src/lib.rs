//! The trial's rules as pure functions of entered data and the protocol.
//!
//! - [`eligibility`]: every inclusion and exclusion criterion for one screening record, each with
//!   the verdict, the rule and the evidence.
//! - [`randomization`]: the concealed allocation list (stratified permuted blocks with random block
//!   sizes) or Pocock–Simon minimization, both from a recorded seed; allocation strictly in order
//!   per stratum; emergency unblinding with a reason.
//! - [`ctcae`]: the embedded CTCAE v5.0 catalogue (837 terms) and validation of adverse events.
//! - [`endpoints`]: analysis rows (per patient, per time-to-event endpoint, per treated lesion)
//!   from trial records and the accepted `response` verdicts.
//!
//! Errors are one [`TrialError`]; nothing here reads files, clocks or the environment.
//!
//! The key design decisions: a criterion whose data is missing is *undecided*, not failed — a
//! screening form is filled over days, and "cannot be decided yet: INR is missing" is what a site
//! needs to see; and concealment is a type boundary — the allocation list is a separate value that
//! is never `Serialize`, while a site only ever receives the one `Allocation` it asked for.
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
pub mod endpoints;
mod error;
pub mod randomization;

pub use error::TrialError;
