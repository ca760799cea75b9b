//! `cryoseed import`: a DICOM CT series and RT Structure Set → a case directory.

use crate::output;
use anyhow::{Context, bail};
use cryoseed_core::PatientId;
use cryoseed_imaging::dicom::{DicomImportOptions, RoiMap, import_dicom_dir};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `cryoseed import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder holding the CT series and its RT Structure Set (searched recursively; files that
    /// are not DICOM are skipped with a note).
    #[arg(long, value_name = "DIR")]
    dicom: PathBuf,
    /// Output case directory (must not exist, or be empty): case.json, masks/, ct.nii.gz.
    #[arg(long, value_name = "CASE_DIR")]
    out: PathBuf,
    /// ROI mapping file (TOML: [[roi]] name/role/organ/lesion_id/skip, targets, bulky_index);
    /// its rules come before the built-in TG-263 rules (GTV*, External, SpinalCord, Bowel*, …).
    #[arg(long, value_name = "FILE")]
    roi_map: Option<PathBuf>,
    /// Series Instance UID of the CT to import, needed when the folder holds several CT series.
    #[arg(long, value_name = "UID")]
    series: Option<String>,
    /// Patient code for the case (default: the CT's Patient ID, which must then be a valid code).
    #[arg(long, value_name = "ID")]
    patient_id: Option<String>,
}

/// Imports and writes the case; prints what was imported, then warnings and notes.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let roi_map = match &args.roi_map {
        None => RoiMap::tg263_defaults(),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read ROI map {}", path.display()))?;
            RoiMap::from_toml(&text, path)?
        }
    };
    let patient_id = match &args.patient_id {
        None => None,
        Some(id) => Some(PatientId::parse(id).map_err(|e| anyhow::anyhow!("--patient-id: {e}"))?),
    };
    if !args.dicom.is_dir() {
        bail!("--dicom: {} is not a folder", args.dicom.display());
    }
    let options = DicomImportOptions { series_uid: args.series.clone(), patient_id, roi_map };
    let imported = import_dicom_dir(&args.dicom, &options)
        .with_context(|| format!("cannot import DICOM from {}", args.dicom.display()))?;
    let source = format!(
        "DICOM import by cryoseed {}: CT series {}, frame of reference {}{}",
        cryoseed_core::SOFTWARE_VERSION,
        imported.series_uid,
        imported.frame_of_reference_uid,
        match &imported.rtstruct {
            Some(p) => format!(", structure set {}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()),
            None => String::new(),
        }
    );
    cryoseed_imaging::write_case_from_dicom(
        &args.out,
        &imported.case,
        Some(&source),
        &imported.ct,
        &imported.frame_of_reference_uid,
    )
    .context("cannot write the case directory")?;
    let grid = imported.case.grid();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "wrote {} to {}: CT series {} ({:?} voxels at {:?} mm), {} structures",
        imported.case.patient_id(),
        args.out.display(),
        imported.series_uid,
        grid.dims(),
        grid.spacing_mm(),
        imported.rois.len()
    );
    for roi in &imported.rois {
        let _ = writeln!(
            s,
            "  {:<24} {:<7} {:<14} {:>9} voxels",
            roi.name,
            snake(&roi.role),
            snake(&roi.organ),
            roi.voxels
        );
    }
    for w in &imported.warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    for n in &imported.notes {
        let _ = writeln!(s, "note: {n}");
    }
    output::print(&s)
}

/// The serde (snake_case) name of a role or organ, as written in case.json.
fn snake(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}
