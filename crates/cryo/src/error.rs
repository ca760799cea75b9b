//! The crate's one error type.

use cryoseed_core::{Minutes, Mm};

/// Why a catalogue, a probe set or a simulation request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CryoError {
    /// A required column is missing from a probe catalogue CSV.
    #[error("probe catalogue: missing column `{column}`")]
    CatalogueColumn {
        /// The missing column.
        column: &'static str,
    },
    /// A row of a probe catalogue CSV is invalid.
    #[error("probe catalogue line {line}, column `{column}`: {message}")]
    CatalogueRow {
        /// 1-based line number in the CSV (the header is line 1).
        line: u64,
        /// Column concerned.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// The CSV itself could not be read (quoting, encoding).
    #[error("probe catalogue: {0}")]
    CatalogueCsv(String),
    /// A probe names a class that the catalogue does not have.
    #[error("unknown probe class `{name}` (known: {known})")]
    UnknownProbeClass {
        /// The requested class.
        name: String,
        /// The classes of the catalogue, comma-separated.
        known: String,
    },
    /// A probe is invalid on its own (zero direction, outside the grid, not on any voxel).
    #[error("probe {index} ({class}): {message}")]
    Probe {
        /// 0-based position in the probe list.
        index: usize,
        /// Its class.
        class: String,
        /// What is wrong.
        message: String,
    },
    /// Two probes' active segments are closer than the sum of their radii.
    #[error(
        "probes {first} and {second} overlap: their active segments are {distance} apart, less than {min_distance}"
    )]
    OverlappingProbes {
        /// 0-based index of the first probe.
        first: usize,
        /// 0-based index of the second probe.
        second: usize,
        /// Closest distance between the two active segments (axes).
        distance: Mm,
        /// Sum of the two probe radii.
        min_distance: Mm,
    },
    /// A thermal medium has non-physical properties.
    #[error("medium: {field}: {message}")]
    Medium {
        /// Property concerned.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The freeze–thaw sequence is unusable (empty, negative durations).
    #[error("freeze-thaw sequence: {0}")]
    Sequence(String),
    /// A requested snapshot time is outside the sequence.
    #[error("snapshot at {time} is outside the sequence (0 to {total})")]
    SnapshotTime {
        /// Requested time.
        time: Minutes,
        /// Total duration of the sequence.
        total: Minutes,
    },
    /// A tissue map is unusable (a label without a medium, masks on different grids).
    #[error("tissue map: {0}")]
    TissueMap(String),
    /// Solver options are unusable (a time step that is not positive).
    #[error("solver options: {field}: {message}")]
    Options {
        /// Option concerned.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No cold source: nothing would freeze.
    #[error("no cold source: give at least one probe (or cold voxel)")]
    NoSource,
    /// A surrogate calibration is invalid or missing.
    #[error("surrogate: {0}")]
    Surrogate(String),
    /// A placement request is invalid (empty target, masks on another grid, bad parameter).
    #[error("placement: {field}: {message}")]
    Placement {
        /// The request field concerned.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}
