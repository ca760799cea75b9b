//! The case directory: `case.json` plus `masks/*.nii.gz`.
//!
//! `case.json` is an explicit, versioned exchange format (`format`, `version`): its types live
//! here, apart from the domain types, so the domain can change without silently changing files.

use crate::{ImagingError, nifti};
use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::{LesionId, Mm, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_volume::{Field, Grid};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Value of the `format` key.
pub const CASE_FORMAT: &str = "cryoseed-case";
/// Version of the case format this build writes and reads.
pub const CASE_FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    format: String,
    version: u32,
    patient_id: PatientId,
    /// Free text saying where the anatomy came from (phantom scenario and seed, DICOM series).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    grid: GridFile,
    structures: Vec<StructureFile>,
    /// CT in HU (NIfTI, float32) on the case grid, relative to the case directory; optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ct: Option<String>,
    /// DICOM Frame of Reference UID of the CT the case came from (set by the DICOM import; the
    /// DICOM export reuses it so that exported RT objects register with the original CT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frame_of_reference_uid: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GridFile {
    dims: [usize; 3],
    spacing_mm: [f64; 3],
    origin_mm: [f64; 3],
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StructureFile {
    name: String,
    role: StructureRole,
    organ: Organ,
    /// Mask path relative to the case directory.
    mask: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lesion: Option<LesionFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LesionFile {
    lesion_id: LesionId,
    is_target: bool,
    is_bulky_index: bool,
}

/// A case read from disk, with the free-text source it declared.
#[derive(Debug, Clone)]
pub struct LoadedCase {
    /// The validated case.
    pub case: Case,
    /// Where the anatomy came from, as recorded by whoever wrote the directory.
    pub source: Option<String>,
    /// The CT image (HU) declared by the optional `ct` key; load it with [`read_ct`].
    pub ct_path: Option<PathBuf>,
    /// The DICOM Frame of Reference UID of the CT the case was imported from, if any.
    pub frame_of_reference_uid: Option<String>,
}

/// File name of the CT image in a case directory written by [`write_case_with_ct`].
pub const CT_FILE: &str = "ct.nii.gz";

/// Writes `case` to a new directory `dir` (which must not exist or be empty).
///
/// Files are written into a hidden sibling folder first and renamed into place at the end, so an
/// error leaves no half-written case behind.
pub fn write_case(dir: &Path, case: &Case, source: Option<&str>) -> Result<(), ImagingError> {
    write_case_with_ct(dir, case, source, None)
}

/// [`write_case`] plus, when given, the CT in HU as [`CT_FILE`] (key `ct` in `case.json`); the
/// CT must be on the case grid.
pub fn write_case_with_ct(
    dir: &Path,
    case: &Case,
    source: Option<&str>,
    ct: Option<&Field<f32>>,
) -> Result<(), ImagingError> {
    write_case_impl(dir, case, source, ct, None)
}

/// [`write_case_with_ct`] for a case imported from DICOM: also records the CT's Frame of
/// Reference UID (key `frame_of_reference_uid`), which the DICOM export reuses.
pub fn write_case_from_dicom(
    dir: &Path,
    case: &Case,
    source: Option<&str>,
    ct: &Field<f32>,
    frame_of_reference_uid: &str,
) -> Result<(), ImagingError> {
    write_case_impl(dir, case, source, Some(ct), Some(frame_of_reference_uid))
}

fn write_case_impl(
    dir: &Path,
    case: &Case,
    source: Option<&str>,
    ct: Option<&Field<f32>>,
    frame_of_reference_uid: Option<&str>,
) -> Result<(), ImagingError> {
    if let Some(ct) = ct
        && !ct.grid().same_geometry(case.grid())
    {
        return Err(ImagingError::Case {
            path: dir.join(CT_FILE),
            message: "the CT grid differs from the case grid".into(),
        });
    }
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| ImagingError::io(dir, e))?;
        if entries.next().is_some() {
            return Err(ImagingError::AlreadyExists { path: dir.to_owned() });
        }
    }
    let staging = staging_dir(dir);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ImagingError::io(&staging, e))?;
    }
    let result = write_into(&staging, case, source, ct, frame_of_reference_uid).and_then(|()| {
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| ImagingError::io(dir, e))?;
        }
        std::fs::rename(&staging, dir).map_err(|e| ImagingError::io(dir, e))
    });
    if result.is_err() {
        // Best effort: the error being reported matters more than a failure to clean up.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn staging_dir(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "case".into());
    dir.with_file_name(format!(".{name}.partial"))
}

fn write_into(
    staging: &Path,
    case: &Case,
    source: Option<&str>,
    ct: Option<&Field<f32>>,
    frame_of_reference_uid: Option<&str>,
) -> Result<(), ImagingError> {
    let masks = staging.join("masks");
    std::fs::create_dir_all(&masks).map_err(|e| ImagingError::io(&masks, e))?;
    let grid = case.grid();
    let mut structures = Vec::with_capacity(case.structures().len());
    for (n, s) in case.structures().iter().enumerate() {
        // The index keeps file names unique even when two names sanitize alike.
        let file = format!("masks/{:02}_{}.nii.gz", n + 1, file_safe(&s.name));
        nifti::write_mask(&staging.join(&file), &s.mask)?;
        structures.push(StructureFile {
            name: s.name.clone(),
            role: s.role,
            organ: s.organ,
            mask: file,
            lesion: s.lesion.as_ref().map(|l| LesionFile {
                lesion_id: l.lesion_id.clone(),
                is_target: l.is_target,
                is_bulky_index: l.is_bulky_index,
            }),
        });
    }
    let file = CaseFile {
        format: CASE_FORMAT.into(),
        version: CASE_FORMAT_VERSION,
        patient_id: case.patient_id().clone(),
        source: source.map(str::to_owned),
        grid: GridFile { dims: grid.dims(), spacing_mm: grid.spacing_mm(), origin_mm: grid.origin().0 },
        structures,
        ct: ct.map(|_| CT_FILE.to_owned()),
        frame_of_reference_uid: frame_of_reference_uid.map(str::to_owned),
    };
    if let Some(ct) = ct {
        nifti::write_field_f32(&staging.join(CT_FILE), ct)?;
    }
    let path = staging.join("case.json");
    let mut text = serde_json::to_string_pretty(&file).expect("case file serializes");
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| ImagingError::io(&path, e))
}

/// NIfTI headers hold geometry as `f32` (about 7 significant digits): a mask matches the case
/// grid when dims agree and positions agree to 1e-3 mm, far below any voxel size.
fn matches_at_f32_precision(a: &Grid, b: &Grid) -> bool {
    let close = |x: [f64; 3], y: [f64; 3]| x.iter().zip(&y).all(|(p, q)| (p - q).abs() <= 1e-3);
    a.dims() == b.dims() && close(a.spacing_mm(), b.spacing_mm()) && close(a.origin().0, b.origin().0)
}

fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect()
}

/// Reads and validates a case directory.
pub fn read_case(dir: &Path) -> Result<LoadedCase, ImagingError> {
    let path = dir.join("case.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ImagingError::io(&path, e))?;
    let json_error = |key: String, message: String| ImagingError::CaseJson { path: path.clone(), key, message };
    let mut de = serde_json::Deserializer::from_str(&text);
    let file: CaseFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let is_syntax =
            matches!(inner.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof);
        let key = match (is_syntax, key.as_str()) {
            (true, _) => format!("line {} column {}", inner.line(), inner.column()),
            (false, ".") => "top level".to_owned(),
            (false, _) => key,
        };
        json_error(key, inner.to_string())
    })?;
    if file.format != CASE_FORMAT {
        return Err(json_error("format".into(), format!("must be {CASE_FORMAT:?}, got {:?}", file.format)));
    }
    if file.version != CASE_FORMAT_VERSION {
        return Err(json_error(
            "version".into(),
            format!("this cryoseed reads case format version {CASE_FORMAT_VERSION}, got {}", file.version),
        ));
    }
    let grid = Grid::new(file.grid.dims, file.grid.spacing_mm.map(Mm), PatientPoint(file.grid.origin_mm))
        .map_err(|e| json_error("grid".into(), e.to_string()))?;
    let inside = |p: &Path| !p.is_absolute() && !p.components().any(|c| matches!(c, std::path::Component::ParentDir));
    let ct_path = match &file.ct {
        None => None,
        Some(ct) if !inside(Path::new(ct)) => {
            return Err(json_error("ct".into(), "must be a path inside the case directory".into()));
        }
        Some(ct) => {
            let p = dir.join(ct);
            if !p.is_file() {
                return Err(json_error("ct".into(), format!("{} does not exist", p.display())));
            }
            Some(p)
        }
    };
    let mut structures = Vec::with_capacity(file.structures.len());
    for (n, s) in file.structures.into_iter().enumerate() {
        let relative = Path::new(&s.mask);
        if !inside(relative) {
            return Err(json_error(format!("structures[{n}].mask"), "must be a path inside the case directory".into()));
        }
        let mask_path = dir.join(relative);
        let mask = nifti::read_mask(&mask_path)?;
        if !matches_at_f32_precision(mask.grid(), &grid) {
            return Err(ImagingError::Case {
                path: mask_path,
                message: format!(
                    "mask grid (dims {:?}, spacing {:?} mm, origin {:?} mm) differs from case.json grid (dims {:?}, spacing {:?} mm, origin {:?} mm)",
                    mask.grid().dims(),
                    mask.grid().spacing_mm(),
                    mask.grid().origin().0,
                    grid.dims(),
                    grid.spacing_mm(),
                    grid.origin().0
                ),
            });
        }
        // NIfTI stores geometry as f32: keep the case.json grid (f64) as the one truth.
        let mask = cryoseed_volume::Mask::from_vec(grid, mask.as_slice().to_vec()).expect("same voxel count");
        structures.push(Structure {
            name: s.name,
            role: s.role,
            organ: s.organ,
            lesion: s.lesion.map(|l| LesionInfo {
                lesion_id: l.lesion_id,
                is_target: l.is_target,
                is_bulky_index: l.is_bulky_index,
            }),
            mask,
        });
    }
    let case = Case::new(file.patient_id, grid, structures)
        .map_err(|e| ImagingError::Case { path: path.clone(), message: e.to_string() })?;
    Ok(LoadedCase { case, source: file.source, ct_path, frame_of_reference_uid: file.frame_of_reference_uid })
}

/// Reads the case's CT (HU) if `case.json` declares one, checked against the case grid.
pub fn read_ct(loaded: &LoadedCase) -> Result<Option<Field<f32>>, ImagingError> {
    let Some(path) = &loaded.ct_path else { return Ok(None) };
    let image = nifti::read_image(path)?;
    let grid = loaded.case.grid();
    if !matches_at_f32_precision(&image.grid, grid) {
        return Err(ImagingError::Case {
            path: path.clone(),
            message: format!(
                "CT grid (dims {:?}, spacing {:?} mm, origin {:?} mm) differs from the case grid",
                image.grid.dims(),
                image.grid.spacing_mm(),
                image.grid.origin().0
            ),
        });
    }
    let values = image.values.into_iter().map(|v| v as f32).collect();
    Ok(Some(Field::from_vec(*grid, values).expect("same voxel count")))
}
