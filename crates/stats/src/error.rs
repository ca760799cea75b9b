//! The one error type of `cryoseed-stats`.

/// What can go wrong in a statistical computation. Every variant names the observation, the
/// parameter or the model term concerned, so a caller can point at the row of the input table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Two inputs that must describe the same observations have different lengths.
    #[error("{what}: expected {expected} values (one per observation), got {found}")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Number of observations.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// One observation holds an unusable value (negative time, NaN covariate, outcome not 0/1…).
    #[error("observation {index} (0-based), {field}: {problem}")]
    InvalidObservation {
        /// 0-based index of the observation in the input order.
        index: usize,
        /// Field name (`time`, `event`, a covariate name…).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A parameter is outside its domain (confidence level, quantile, horizon…).
    #[error("parameter {name}: {problem}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// There is nothing to estimate from (no observations, no events where events are needed…).
    #[error("{0}")]
    NotEstimable(String),
    /// An information matrix could not be inverted (collinear covariates, a constant column).
    #[error("singular information matrix: {0}")]
    Singular(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, StatsError>;

pub(crate) fn check_level(level: f64) -> Result<()> {
    if level.is_finite() && level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter { name: "level", problem: format!("must be in (0, 1), got {level}") })
    }
}
