//! The one error type of this crate.

/// Why a plan could not be made. Every variant names the lesion, structure or input at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A structure the plan needs is missing from the case.
    #[error("structure {name:?}: {message}")]
    Structure {
        /// The structure's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A lesion cannot be planned as asked.
    #[error("lesion {lesion}: {message}")]
    Lesion {
        /// The lesion id.
        lesion: String,
        /// What is wrong.
        message: String,
    },
    /// An input value is out of range or inconsistent.
    #[error("{field}: {message}")]
    Input {
        /// The input field at fault.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}
