//! The one error type of this crate.

use cryoseed_volume::GridError;

/// Why a seed model, a seed, a time or a dose grid was refused. Every variant names the table and
/// line, the seed index, or the parameter at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DoseError {
    /// A seed-model table (meta, g_L, F or φ_an CSV) is malformed. `line` is 1-based and counts
    /// the header as line 1.
    #[error("{table} line {line}: {message}")]
    Table {
        /// Which table: `meta`, `gL`, `F` or `phi_an`.
        table: &'static str,
        /// 1-based line in the CSV text (the header is line 1); 0 when the problem concerns the
        /// whole table.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No seed model of that name.
    #[error("unknown seed model {name:?} (known: {known})")]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The built-in model ids, comma-separated.
        known: String,
    },
    /// A seed is invalid. `index` is 0-based in the seed list.
    #[error("seed {index}: {field}: {message}")]
    Seed {
        /// 0-based index of the seed.
        index: usize,
        /// The field at fault (`position`, `direction`, `sk_u`, `model`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Two seeds share a position.
    #[error("seeds {first} and {second} are at the same position ({distance_mm:.4} mm apart)")]
    DuplicateSeed {
        /// 0-based index of the first seed.
        first: usize,
        /// 0-based index of the second seed.
        second: usize,
        /// Their distance.
        distance_mm: f64,
    },
    /// A parameter (time, radius, prescription, configuration) is out of its domain.
    #[error("{parameter}: {message}")]
    Parameter {
        /// The parameter's name.
        parameter: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The dose grid would need more memory than allowed.
    #[error("dose grid of {voxels} voxels exceeds the limit of {limit} voxels ({limit_mib} MiB of f32)")]
    GridTooLarge {
        /// Voxels asked for.
        voxels: usize,
        /// The configured limit.
        limit: usize,
        /// The limit in MiB.
        limit_mib: usize,
    },
    /// A grid, mask or field problem from `cryoseed-volume`.
    #[error(transparent)]
    Grid(#[from] GridError),
}

impl DoseError {
    pub(crate) fn table(table: &'static str, line: usize, message: impl Into<String>) -> DoseError {
        DoseError::Table { table, line, message: message.into() }
    }

    pub(crate) fn parameter(parameter: &'static str, message: impl Into<String>) -> DoseError {
        DoseError::Parameter { parameter, message: message.into() }
    }
}
