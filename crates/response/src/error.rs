//! The crate's error: a document that cannot be read at all.

/// Why an assessments document could not be read. Problems inside a readable document are
/// [`crate::Finding`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// Not JSON, or JSON of the wrong shape; `path` is the JSON path of the offending value.
    #[error("{path}: {message}")]
    Json {
        /// JSON path, e.g. `patients[0].time_points[2].date`.
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
    /// Another format or an unsupported version.
    #[error("format: expected \"cryoseed-assessments\" version {supported}, got {format:?} version {version}")]
    UnsupportedFormat {
        /// The `format` field.
        format: String,
        /// The `version` field.
        version: u32,
        /// The version this build reads.
        supported: u32,
    },
}
