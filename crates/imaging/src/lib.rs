//! Images and case directories in and out: the only place where cryoseed's anatomy touches files.
//!
//! A *case directory* is how a patient's anatomy travels between cryoseed commands and other
//! tools: `case.json` (patient code, grid, and each structure's role, organ and lesion data) plus
//! one NIfTI-1 mask per structure under `masks/`. [`read_case`] validates everything and names
//! the file and field of the first problem; [`write_case`] writes into a temporary sibling folder
//! and renames it into place, so a failed write leaves nothing behind. A case may also carry its
//! CT in HU (`ct.nii.gz`, optional `ct` key). [`dicom::import_dicom_dir`] builds a case from a
//! CT series and its RT Structure Set.
//!
//! ```no_run
//! # fn main() -> Result<(), cryoseed_imaging::ImagingError> {
//! let case = cryoseed_imaging::read_case(std::path::Path::new("cases/PHANTOM-1"))?;
//! println!("{} structures", case.case.structures().len());
//! # Ok(()) }
//! ```

pub mod case_dir;
pub mod dicom;
pub mod nifti;

pub use case_dir::{
    CASE_FORMAT, CASE_FORMAT_VERSION, CT_FILE, LoadedCase, read_case, read_ct, write_case, write_case_from_dicom,
    write_case_with_ct,
};

use std::path::{Path, PathBuf};

/// Why an image or a case directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ImagingError {
    /// The file system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// File or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A NIfTI header field is invalid or unsupported.
    #[error("{}: NIfTI field {field}: {message}", path.display())]
    Nifti {
        /// The image file.
        path: PathBuf,
        /// Header field (as named in `nifti1.h`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// `case.json` is not valid JSON or does not match the case format.
    #[error("{}: {key}: {message}", path.display())]
    CaseJson {
        /// The `case.json` file.
        path: PathBuf,
        /// JSON key path of the problem (`structures[2].role`), or `line L column C` for syntax.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The case's content is inconsistent (duplicate names, mask on another grid, …).
    #[error("{}: {message}", path.display())]
    Case {
        /// The file that holds the inconsistency.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A DICOM attribute is missing, malformed or unsupported.
    #[error("{}: {tag}: {message}", path.display())]
    DicomTag {
        /// The DICOM file.
        path: PathBuf,
        /// The attribute, as `(gggg,eeee) Keyword`.
        tag: String,
        /// What is wrong.
        message: String,
    },
    /// A DICOM file or series cannot be imported (geometry, references, choices).
    #[error("{}: {message}", path.display())]
    Dicom {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The ROI mapping file is invalid.
    #[error("{}: {key}: {message}", path.display())]
    RoiMap {
        /// The mapping file.
        path: PathBuf,
        /// Where in the file (`roi[2] ("PTV")`, `line 4`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// An export input is invalid (ROI name, dose value, seed, date…).
    #[error("DICOM export: {what}: {message}")]
    Export {
        /// The input concerned (`seed 3`, `ROI name "PTV"`, `dose`).
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The output folder exists and is not empty.
    #[error("{}: already exists and is not empty; choose another folder or remove it", path.display())]
    AlreadyExists {
        /// The output folder.
        path: PathBuf,
    },
}

impl ImagingError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ImagingError {
        ImagingError::Io { path: path.to_owned(), source }
    }

    pub(crate) fn nifti(path: &Path, field: &'static str, message: impl Into<String>) -> ImagingError {
        ImagingError::Nifti { path: path.to_owned(), field, message: message.into() }
    }
}
