//! Integration tests for cryoseed-imaging: NIfTI against nibabel-written fixtures, and case
//! directories round-tripped and broken on purpose.

mod case_dir;
mod dicom;
mod dicom_export;
mod dicom_props;
mod dicom_python;
mod nifti;

use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}
