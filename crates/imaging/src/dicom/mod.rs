//! DICOM import: a CT series and its RT Structure Set → a [`Case`] plus the CT in HU.
//!
//! [`import_dicom_dir`] scans a folder recursively, reads every DICOM Part 10 file (files without
//! the `DICM` marker are skipped with a note), picks the CT series (several need
//! [`DicomImportOptions::series_uid`]), stacks it into an axis-aligned LPS [`Grid`]
//! (see [`ct`] for the geometry rules; oblique, tilted, uneven or gapped series are refused with
//! the tag and positions at fault), then rasterizes the ROIs of the structure set that references
//! the series (see [`rtstruct`] for the filling rule) and names them through a [`RoiMap`].
//!
//! Compressed transfer syntaxes are not decoded (decompress first). Files without the Part 10
//! header are read when they start with a bare little-endian data set (group 0008 first, as
//! some older tools write); other files are skipped with a note.
//!
//! The other direction is [`export`]: RTSTRUCT, RTPLAN (permanent brachytherapy), RTDOSE and a
//! CT series with one frame of reference and deterministic UIDs; [`read_rtdose`] and
//! [`read_structure_set`] read RT Dose and RT Structure Set files on their own (no CT needed).
//!
//! ```no_run
//! use cryoseed_imaging::dicom::{DicomImportOptions, import_dicom_dir};
//! # fn main() -> Result<(), cryoseed_imaging::ImagingError> {
//! let imported = import_dicom_dir(std::path::Path::new("export/CT"), &DicomImportOptions::default())?;
//! for w in &imported.warnings {
//!     eprintln!("warning: {w}");
//! }
//! cryoseed_imaging::write_case_with_ct(
//!     std::path::Path::new("cases/P1"),
//!     &imported.case,
//!     Some("DICOM"),
//!     Some(&imported.ct),
//! )?;
//! # Ok(()) }
//! ```

mod attr;
pub mod contour;
pub mod ct;
pub mod encode;
pub mod export;
mod prescan;
pub mod roi_map;
pub mod rtdose;
pub mod rtstruct;

pub use export::{
    BrachyPlan, DicomExport, ExportFile, ExportRoi, ExportSummary, PlanSeed, RoiType, SourceModel, build_dicom,
    export_dicom,
};
pub use roi_map::{RoiAction, RoiMap, RoiRule, glob_match, lesion_id_from_name};
pub use rtdose::{RtDose, read_rtdose};
pub use rtstruct::{StructureSetRoi, rasterize_planar_contours, read_structure_set};

use crate::ImagingError;
use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::{Organ, PatientId, StructureRole};
use cryoseed_volume::{Field, Grid};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const ENHANCED_CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2.1";
const RT_STRUCTURE_SET_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.3";

/// Choices for [`import_dicom_dir`].
#[derive(Clone, Debug, Default)]
pub struct DicomImportOptions {
    /// The CT series to import when the folder holds several.
    pub series_uid: Option<String>,
    /// Patient code for the case; default: the CT's Patient ID (0010,0020).
    pub patient_id: Option<PatientId>,
    /// ROI name mapping.
    pub roi_map: RoiMap,
}

/// What was imported about one ROI.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedRoi {
    /// ROI name as in the structure set.
    pub name: String,
    /// Role given.
    pub role: StructureRole,
    /// Organ given.
    pub organ: Organ,
    /// Voxels inside.
    pub voxels: usize,
}

/// The result of a DICOM import.
#[derive(Debug)]
pub struct DicomImport {
    /// The case (structures rasterized onto the CT grid).
    pub case: Case,
    /// CT in Hounsfield units on the case grid.
    pub ct: Field<f32>,
    /// Series Instance UID of the CT.
    pub series_uid: String,
    /// Frame of Reference UID of the CT.
    pub frame_of_reference_uid: String,
    /// The structure set used, if any.
    pub rtstruct: Option<PathBuf>,
    /// Imported ROIs, in structure-set order.
    pub rois: Vec<ImportedRoi>,
    /// Things the user must look at (unmapped ROIs, inferred organs, empty ROIs).
    pub warnings: Vec<String>,
    /// Informational notes (skipped files, other series).
    pub notes: Vec<String>,
}

enum Found {
    Ct(Box<ct::CtSlice>),
    RtStruct(Box<rtstruct::RtStruct>),
    Other { path: PathBuf, what: String },
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImagingError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImagingError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ImagingError::io(dir, e))?;
        paths.push(entry.path());
    }
    paths.sort();
    for p in paths {
        if p.is_dir() {
            list_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// How a file starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// DICOM Part 10: 128-byte preamble and `DICM`.
    Part10,
    /// A bare data set (no preamble, no file meta group) starting with a group 0008 element,
    /// in implicit (`false`) or explicit (`true`) VR little endian — as some older tools and
    /// several of pydicom's test files write.
    Bare { explicit: bool },
    /// Anything else.
    NotDicom,
}

fn file_layout(path: &Path) -> Result<Layout, ImagingError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| ImagingError::io(path, e))?;
    let mut head = Vec::with_capacity(132);
    f.by_ref().take(132).read_to_end(&mut head).map_err(|e| ImagingError::io(path, e))?;
    if head.len() == 132 && &head[128..] == b"DICM" {
        return Ok(Layout::Part10);
    }
    if head.len() >= 8 && head[0..2] == [0x08, 0x00] {
        let explicit = head[4].is_ascii_uppercase() && head[5].is_ascii_uppercase();
        return Ok(Layout::Bare { explicit });
    }
    Ok(Layout::NotDicom)
}

/// Opens a DICOM file: Part 10, or a bare little-endian data set (its file meta group is then
/// made from its SOP Class and Instance UIDs). Errors name the file (and the tag, where one is
/// at fault).
pub(crate) fn open_dicom(path: &Path) -> Result<dicom_object::DefaultDicomObject, ImagingError> {
    let not_readable = |e: &dyn std::fmt::Display| ImagingError::Dicom {
        path: path.to_owned(),
        message: format!("not readable as DICOM: {e}"),
    };
    let structure_fault = |fault: prescan::Fault| ImagingError::DicomTag {
        path: path.to_owned(),
        tag: fault.tag,
        message: fault.message,
    };
    match file_layout(path)? {
        Layout::Part10 => {
            let bytes = std::fs::read(path).map_err(|e| ImagingError::io(path, e))?;
            prescan::check_part10(&bytes).map_err(structure_fault)?;
            dicom_object::OpenFileOptions::new()
                .read_preamble(dicom_object::file::ReadPreamble::Always)
                .from_reader(bytes.as_slice())
                .map_err(|e| not_readable(&e))
        }
        Layout::NotDicom => Err(ImagingError::Dicom {
            path: path.to_owned(),
            message: "not a DICOM file (no DICM marker at byte 128, no data set at byte 0)".into(),
        }),
        Layout::Bare { explicit } => {
            use dicom_transfer_syntax_registry::entries::{EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN};
            let ts = if explicit { EXPLICIT_VR_LITTLE_ENDIAN.erased() } else { IMPLICIT_VR_LITTLE_ENDIAN.erased() };
            let bytes = std::fs::read(path).map_err(|e| ImagingError::io(path, e))?;
            let encoding = if explicit { prescan::Encoding::ExplicitLittle } else { prescan::Encoding::ImplicitLittle };
            prescan::check_bare(&bytes, encoding).map_err(structure_fault)?;
            let obj = dicom_object::InMemDicomObject::read_dataset_with_ts(bytes.as_slice(), &ts)
                .map_err(|e| not_readable(&e))?;
            let class = attr::req_str(&obj, attr::SOP_CLASS_UID, path)?;
            let instance = attr::req_str(&obj, attr::SOP_INSTANCE_UID, path)?;
            let meta = dicom_object::FileMetaTableBuilder::new()
                .media_storage_sop_class_uid(class)
                .media_storage_sop_instance_uid(instance)
                .transfer_syntax(ts.uid());
            obj.with_meta(meta).map_err(|e| not_readable(&e))
        }
    }
}

/// Transfer syntaxes whose data sets the RT readers decode (native, uncompressed).
const NATIVE_TRANSFER_SYNTAXES: [(&str, &str); 3] = [
    ("1.2.840.10008.1.2", "Implicit VR Little Endian"),
    ("1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
    ("1.2.840.10008.1.2.2", "Explicit VR Big Endian"),
];

/// Refuses encapsulated (compressed) and deflated transfer syntaxes, naming the tag.
pub(crate) fn check_native_transfer_syntax(
    path: &Path,
    obj: &dicom_object::DefaultDicomObject,
) -> Result<(), ImagingError> {
    let ts = obj.meta().transfer_syntax().trim_end_matches('\0');
    if NATIVE_TRANSFER_SYNTAXES.iter().any(|(uid, _)| *uid == ts) {
        return Ok(());
    }
    Err(attr::tag_error(
        path,
        attr::TRANSFER_SYNTAX_UID,
        format!(
            "{ts} (compressed or deflated) is not supported; supported: {} (decompress first, e.g. `gdcmconv --raw`)",
            NATIVE_TRANSFER_SYNTAXES.iter().map(|(u, n)| format!("{n} {u}")).collect::<Vec<_>>().join(", ")
        ),
    ))
}

fn read_one(path: &Path) -> Result<Found, ImagingError> {
    let obj = open_dicom(path)?;
    let sop_class = attr::opt_str(&obj, attr::SOP_CLASS_UID, path)?
        .unwrap_or_else(|| obj.meta().media_storage_sop_class_uid().to_owned());
    let modality = attr::opt_str(&obj, attr::MODALITY, path)?.unwrap_or_default();
    match sop_class.as_str() {
        CT_IMAGE_STORAGE => Ok(Found::Ct(Box::new(ct::read_ct_slice(path, &obj)?))),
        RT_STRUCTURE_SET_STORAGE => Ok(Found::RtStruct(Box::new(rtstruct::read_rtstruct(path, &obj)?))),
        ENHANCED_CT_IMAGE_STORAGE => {
            Ok(Found::Other { path: path.to_owned(), what: "Enhanced CT (multi-frame), not supported".into() })
        }
        other => Ok(Found::Other { path: path.to_owned(), what: format!("modality {modality:?}, SOP class {other}") }),
    }
}

/// Imports the CT series and RT Structure Set found in `dir` (recursively).
pub fn import_dicom_dir(dir: &Path, options: &DicomImportOptions) -> Result<DicomImport, ImagingError> {
    let mut files = Vec::new();
    list_files(dir, &mut files)?;
    let mut notes = Vec::new();
    let mut warnings = Vec::new();
    let mut series: BTreeMap<String, Vec<ct::CtSlice>> = BTreeMap::new();
    let mut structure_sets = Vec::new();
    for path in &files {
        if file_layout(path)? == Layout::NotDicom {
            notes.push(format!("skipped {}: not a DICOM file (no DICM marker, no data set at byte 0)", path.display()));
            continue;
        }
        match read_one(path)? {
            Found::Ct(slice) => {
                series.entry(slice.series_uid.clone()).or_default().push(*slice);
            }
            Found::RtStruct(s) => structure_sets.push(*s),
            Found::Other { path, what } => notes.push(format!("skipped {}: {what}", path.display())),
        }
    }
    let describe = |series: &BTreeMap<String, Vec<ct::CtSlice>>| {
        series.iter().map(|(uid, s)| format!("{uid} ({} slices)", s.len())).collect::<Vec<_>>().join(", ")
    };
    let chosen = match (&options.series_uid, series.len()) {
        (_, 0) => {
            return Err(ImagingError::Dicom {
                path: dir.to_owned(),
                message: format!("no CT Image Storage files found among {} files", files.len()),
            });
        }
        (Some(uid), _) => match series.remove(uid) {
            Some(s) => s,
            None => {
                return Err(ImagingError::Dicom {
                    path: dir.to_owned(),
                    message: format!("no CT series with Series Instance UID {uid}; found: {}", describe(&series)),
                });
            }
        },
        (None, 1) => series.pop_first().expect("one series").1,
        (None, _) => {
            return Err(ImagingError::Dicom {
                path: dir.to_owned(),
                message: format!(
                    "{} CT series found, choose one with --series UID: {}",
                    series.len(),
                    describe(&series)
                ),
            });
        }
    };
    for (uid, s) in &series {
        notes.push(format!("other CT series not imported: {uid} ({} slices)", s.len()));
    }
    let mut patient_ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    for slice in &chosen {
        if let Some(id) = &slice.patient_id {
            patient_ids.entry(id.clone()).or_insert_with(|| slice.path.clone());
        }
    }
    let volume = ct::assemble(chosen)?;
    let grid = *volume.hu.grid();

    let patient_id = match &options.patient_id {
        Some(id) => id.clone(),
        None => {
            if patient_ids.len() > 1 {
                return Err(ImagingError::Dicom {
                    path: dir.to_owned(),
                    message: format!(
                        "CT slices carry several Patient IDs (0010,0020): {}; give --patient-id",
                        patient_ids.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            let (raw, path) = patient_ids.into_iter().next().ok_or_else(|| ImagingError::Dicom {
                path: dir.to_owned(),
                message: "the CT has no Patient ID (0010,0020); give --patient-id".into(),
            })?;
            PatientId::parse(&raw)
                .map_err(|e| attr::tag_error(&path, attr::PATIENT_ID, format!("{e}; give --patient-id")))?
        }
    };

    // The structure set for this series: the one that references it (or the only one).
    let referencing: Vec<usize> = structure_sets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.referenced_series.contains(&volume.series_uid))
        .map(|(n, _)| n)
        .collect();
    let rt_index = match (referencing.len(), structure_sets.len()) {
        (1, _) => Some(referencing[0]),
        (0, 0) => None,
        (0, 1) if structure_sets[0].referenced_series.is_empty() => {
            warnings.push(format!(
                "{} does not list its referenced series (3006,0014); assumed to belong to the CT because it shares its frame of reference",
                structure_sets[0].path.display()
            ));
            Some(0)
        }
        (0, _) => {
            return Err(ImagingError::Dicom {
                path: structure_sets[0].path.clone(),
                message: format!(
                    "no RT Structure Set references CT series {} in RTReferencedSeriesSequence (3006,0014) > (0020,000E) SeriesInstanceUID; found references to {}",
                    volume.series_uid,
                    structure_sets
                        .iter()
                        .flat_map(|s| s.referenced_series.iter().cloned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        (_, _) => {
            return Err(ImagingError::Dicom {
                path: dir.to_owned(),
                message: format!(
                    "several RT Structure Sets reference series {}: {}; keep one in the folder",
                    volume.series_uid,
                    referencing
                        .iter()
                        .map(|&n| structure_sets[n].path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    };
    for (n, s) in structure_sets.iter().enumerate() {
        if Some(n) != rt_index {
            notes.push(format!("skipped {}: RT Structure Set for another series", s.path.display()));
        }
    }

    let mut structures = Vec::new();
    let mut rois = Vec::new();
    let mut rt_path = None;
    if let Some(n) = rt_index {
        let rt = &structure_sets[n];
        rt_path = Some(rt.path.clone());
        check_frame_of_reference(rt, &volume.frame_of_reference_uid)?;
        if rt.frames_of_reference.is_empty() && rt.rois.iter().all(|r| r.frame_of_reference_uid.is_none()) {
            warnings.push(format!(
                "{} declares no frame of reference ((0020,0052) in (3006,0010), (3006,0024)); assumed to be the CT's",
                rt.path.display()
            ));
        }
        let (mut mapped, open_organ) = map_rois(rt, &grid, &volume.slice_z, &options.roi_map, &mut warnings)?;
        infer_gtv_organs(&mut mapped, &open_organ, &mut warnings);
        structures = mapped;
        for s in &structures {
            rois.push(ImportedRoi { name: s.name.clone(), role: s.role, organ: s.organ, voxels: s.mask.count() });
        }
        if structures.iter().any(|s| s.role == StructureRole::Gtv) && options.roi_map.bulky_index.is_none() {
            warnings.push("no bulky index lesion designated; set bulky_index in the ROI map file".into());
        }
    } else {
        warnings.push("no RT Structure Set found: the case holds the CT only".into());
    }
    let case = Case::new(patient_id, grid, structures).map_err(|e| ImagingError::Dicom {
        path: rt_path.clone().unwrap_or_else(|| dir.to_owned()),
        message: e.to_string(),
    })?;
    Ok(DicomImport {
        case,
        ct: volume.hu,
        series_uid: volume.series_uid,
        frame_of_reference_uid: volume.frame_of_reference_uid,
        rtstruct: rt_path,
        rois,
        warnings,
        notes,
    })
}

fn check_frame_of_reference(rt: &rtstruct::RtStruct, ct_for: &str) -> Result<(), ImagingError> {
    if let Some(bad) = rt.frames_of_reference.iter().find(|u| *u != ct_for) {
        return Err(attr::tag_error(
            &rt.path,
            attr::FRAME_OF_REFERENCE_UID,
            format!(
                "structure set is in frame of reference {bad}, the CT in {ct_for}: contours cannot be placed on this CT"
            ),
        ));
    }
    for roi in &rt.rois {
        if let Some(uid) = &roi.frame_of_reference_uid
            && uid != ct_for
        {
            return Err(attr::tag_error(
                &rt.path,
                attr::FRAME_OF_REFERENCE_UID,
                format!(
                    "ROI {:?} references frame of reference {uid} in (3006,0024), the CT is in {ct_for}: contours cannot be placed on this CT",
                    roi.name
                ),
            ));
        }
    }
    Ok(())
}

fn map_rois(
    rt: &rtstruct::RtStruct,
    grid: &Grid,
    slice_z: &[f64],
    map: &RoiMap,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Structure>, Vec<usize>), ImagingError> {
    let mut structures = Vec::new();
    let mut open_organ = Vec::new();
    for roi in &rt.rois {
        let Some(rule) = map.rule_for(&roi.name) else {
            warnings.push(format!("ROI {:?}: no mapping rule matches; not imported (add a [[roi]] rule)", roi.name));
            continue;
        };
        let RoiAction::Assign { role, organ, lesion_id } = &rule.action else {
            continue;
        };
        if roi.contours.is_empty() {
            warnings.push(format!("ROI {:?}: has no contours; not imported", roi.name));
            continue;
        }
        let raster = rtstruct::rasterize(roi, grid, slice_z, &rt.path)?;
        for note in raster.notes {
            warnings.push(format!("ROI {:?}: {note}", roi.name));
        }
        if raster.mask.is_empty() {
            warnings.push(format!("ROI {:?}: no voxel centre inside its contours; not imported", roi.name));
            continue;
        }
        let lesion = if *role == StructureRole::Gtv {
            let id = match lesion_id {
                Some(id) => id.clone(),
                None => lesion_id_from_name(&roi.name).map_err(|e| ImagingError::Dicom {
                    path: rt.path.clone(),
                    message: format!(
                        "ROI {:?}: cannot derive a lesion id ({e}); set lesion_id in the ROI map",
                        roi.name
                    ),
                })?,
            };
            Some(LesionInfo {
                is_target: map.targets.as_ref().is_none_or(|t| t.contains(&id)),
                is_bulky_index: map.bulky_index.as_ref() == Some(&id),
                lesion_id: id,
            })
        } else {
            None
        };
        // A GTV without an organ gets a placeholder that `infer_gtv_organs` replaces.
        if organ.is_none() {
            open_organ.push(structures.len());
        }
        let organ = organ.unwrap_or(Organ::SoftTissue);
        structures.push(Structure { name: roi.name.clone(), role: *role, organ, lesion, mask: raster.mask });
    }
    Ok((structures, open_organ))
}

/// GTVs mapped without an organ get the organ-role structure holding most of their voxels, or
/// soft tissue when none holds any; each inference is reported as a warning.
fn infer_gtv_organs(structures: &mut [Structure], open_organ: &[usize], warnings: &mut Vec<String>) {
    for &gi in open_organ {
        let gtv = &structures[gi];
        let best = structures
            .iter()
            .filter(|s| s.role == StructureRole::Organ)
            .map(|s| (s.mask.intersection(&gtv.mask).map(|m| m.count()).unwrap_or(0), s.organ, s.name.clone()))
            .filter(|(n, _, _)| *n > 0)
            .max_by_key(|(n, _, _)| *n);
        let total = gtv.mask.count();
        let (organ, why) = match best {
            Some((n, organ, name)) => (organ, format!("{n} of its {total} voxels lie in {name:?}")),
            None => (Organ::SoftTissue, "it overlaps no organ structure".to_owned()),
        };
        warnings.push(format!(
            "ROI {:?}: organ not given by the ROI map; set to {} because {why} (add organ = \"…\" to a [[roi]] rule to decide)",
            gtv.name,
            serde_json::to_value(organ).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        ));
        structures[gi].organ = organ;
    }
}
