//! DICOM RT export: a case's structures (plus zones, targets, isotherms), its CT, a permanent
//! seed implant and its dose, as one consistent set of DICOM objects.
//!
//! [`build_dicom`] makes the objects in memory and [`export_dicom`] writes them into a new folder
//! (staged in a hidden sibling folder and renamed, so a failure leaves nothing behind):
//!
//! | file | object | content |
//! |---|---|---|
//! | `ct/slice_NNNN.dcm` | CT Image Storage | the case's CT (HU as signed 16-bit), only when the case has one |
//! | `rtstruct.dcm` | RT Structure Set | every structure and extra ROI as CLOSED_PLANAR contours per slice ([`super::contour`]) |
//! | `rtplan.dcm` | RT Plan (brachy) | technique PERMANENT, the source models with their S_K, one channel per seed |
//! | `rtdose.dcm` | RT Dose | the dose grid in Gy, 32-bit unsigned with DoseGridScaling, referencing the plan |
//!
//! **UIDs.** All objects share one Study Instance UID and one Frame of Reference UID: the CT's
//! own when given ([`DicomExport::frame_of_reference_uid`], e.g. a case imported from DICOM),
//! otherwise a derived one. Every UID is `2.25.<u128>` derived from a SHA-256 digest of the
//! exported content (see [`super::encode::UidSource`]), so the same inputs give byte-identical
//! files and different content never shares a UID.
//!
//! **Without a CT.** When the case has no CT, no image series is written; the structure set then
//! references only the frame of reference (its RT Referenced Study Sequence is Type 3 and left
//! out). pydicom and dicompyler-core read such a set (the DVH needs only RTSTRUCT + RTDOSE);
//! viewers that need an image to draw on (3D Slicer, most TPS) show the contours only over a CT
//! in the same frame of reference — export the case with its CT for them.
//!
//! **Plan conventions.** A permanent implant has no dwell times: each seed is a channel with two
//! control points at the seed centre (cumulative time weight 0 then 1), Source Movement Type
//! FIXED, and Channel Total Time = the mean life T½ / ln 2 in seconds, the time over which the
//! initial air-kerma rate delivers the whole implant's kerma; Total Reference Air Kerma is then
//! Σ S_K · T½/ln 2 (µGy at 1 m). Sources are grouped by (model, S_K). Brachy Treatment Technique
//! is PERMANENT (an enumerated value of (300A,0200)) and Brachy Treatment Type LDR.

use super::contour::slice_contours;
use super::encode::{UidSource, ds, empty, format_ds, format_ds_multi, is, seq, text, us};
use crate::ImagingError;
use cryoseed_anatomy::Case;
use cryoseed_core::{Days, Mm, PatientPoint, StructureRole, U};
use cryoseed_volume::{Field, Grid, Mask};
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use std::path::{Path, PathBuf};

/// CT Image Storage.
pub const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
/// RT Dose Storage.
pub const RT_DOSE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.2";
/// RT Structure Set Storage.
pub const RT_STRUCTURE_SET_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.3";
/// RT Plan Storage.
pub const RT_PLAN_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.481.5";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";
/// Study Root study reference class conventionally used in RT Referenced Study Sequence.
const STUDY_COMPONENT_CLASS: &str = "1.2.840.10008.3.1.2.3.1";
/// Largest stored dose value: 4·10⁹ leaves headroom under 2³² − 1 for the rounding of the scaling.
const DOSE_MAX_STORED: f64 = 4.0e9;

/// RT ROI Interpreted Type (3006,00A4) of an exported ROI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoiType {
    /// EXTERNAL: the body outline.
    External,
    /// GTV: gross tumour volume.
    Gtv,
    /// CTV: clinical target volume.
    Ctv,
    /// PTV: planning target volume.
    Ptv,
    /// ORGAN: an organ (at risk or not) or a vessel.
    Organ,
    /// AVOIDANCE: a region to keep dose or ice out of (safety margins).
    Avoidance,
    /// CONTROL: a region used to control the plan (zones, isotherms).
    Control,
}

impl RoiType {
    /// The DICOM defined term.
    pub fn as_dicom(self) -> &'static str {
        match self {
            RoiType::External => "EXTERNAL",
            RoiType::Gtv => "GTV",
            RoiType::Ctv => "CTV",
            RoiType::Ptv => "PTV",
            RoiType::Organ => "ORGAN",
            RoiType::Avoidance => "AVOIDANCE",
            RoiType::Control => "CONTROL",
        }
    }

    /// The type of a case structure: GTV for GTVs, EXTERNAL for the body, ORGAN otherwise (OARs,
    /// vessels and organs are all ORGAN in DICOM RT).
    pub fn from_role(role: StructureRole) -> RoiType {
        match role {
            StructureRole::Gtv => RoiType::Gtv,
            StructureRole::Body => RoiType::External,
            StructureRole::Oar | StructureRole::Vessel | StructureRole::Organ => RoiType::Organ,
        }
    }

    /// The type suggested by a TG-263-style name: `GTV*`, `CTV*`, `PTV*`/`ITV*`, `External`/`Body`,
    /// `PRV*`/`Avoid*`/`Margin*`; anything else (zones, isotherms, cryo-ablation volumes) is
    /// CONTROL. Case-insensitive.
    pub fn from_name(name: &str) -> RoiType {
        let n = name.to_ascii_lowercase();
        let starts = |p: &str| n.starts_with(p);
        if starts("gtv") {
            RoiType::Gtv
        } else if starts("ctv") {
            RoiType::Ctv
        } else if starts("ptv") || starts("itv") {
            RoiType::Ptv
        } else if n == "external" || n == "body" {
            RoiType::External
        } else if starts("prv") || starts("avoid") || starts("margin") {
            RoiType::Avoidance
        } else {
            RoiType::Control
        }
    }

    fn colour(self, n: usize) -> [u8; 3] {
        // Fixed colours by type; organs cycle through a palette so neighbours differ.
        const ORGANS: [[u8; 3]; 8] = [
            [255, 255, 0],
            [0, 128, 255],
            [255, 128, 0],
            [128, 0, 255],
            [0, 200, 200],
            [200, 120, 80],
            [150, 150, 150],
            [255, 105, 180],
        ];
        match self {
            RoiType::External => [0, 200, 0],
            RoiType::Gtv => [255, 0, 0],
            RoiType::Ctv => [255, 80, 80],
            RoiType::Ptv => [255, 0, 255],
            RoiType::Organ => ORGANS[n % ORGANS.len()],
            RoiType::Avoidance => [255, 200, 0],
            RoiType::Control => [0, 255, 255],
        }
    }
}

/// A mask to export as an ROI besides the case's structures (zones, targets, isotherms).
#[derive(Clone, Debug)]
pub struct ExportRoi {
    /// ROI Name (3006,0026), at most 64 characters.
    pub name: String,
    /// RT ROI Interpreted Type.
    pub roi_type: RoiType,
    /// The voxels, on any axis-aligned grid (usually the case grid).
    pub mask: Mask,
}

/// A seed source model as the plan declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceModel {
    /// Model id (`6711`), Source Model ID (300A,021B).
    pub id: String,
    /// Model name (`Oncura/GE 6711`), Source Description (300A,021C).
    pub name: String,
    /// Isotope, Source Isotope Name (300A,0226), e.g. `I-125`.
    pub isotope: String,
    /// Source Isotope Half Life (300A,0228).
    pub half_life: Days,
    /// Active length (Active Source Length (300A,021A)), if known.
    pub active_length: Option<Mm>,
}

/// One seed of the implant.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSeed {
    /// Seed centre (LPS, mm): the control points' 3D position.
    pub centre_in_patient: PatientPoint,
    /// Unit long axis, when known (Control Point Orientation (300A,02D8)).
    pub axis_in_patient: Option<[f64; 3]>,
    /// Air-kerma strength at the reference date (= Reference Air Kerma Rate, µGy m² h⁻¹).
    pub air_kerma_strength: U,
    /// Index into [`BrachyPlan::models`].
    pub model: usize,
}

/// A permanent seed implant to export as an RT Plan.
#[derive(Clone, Debug, PartialEq)]
pub struct BrachyPlan {
    /// RT Plan Label (300A,0002), 1 to 16 characters.
    pub label: String,
    /// Source models the seeds use.
    pub models: Vec<SourceModel>,
    /// The seeds, in channel order.
    pub seeds: Vec<PlanSeed>,
    /// Date S_K refers to, `YYYYMMDD` (Source Strength Reference Date (300A,022C)).
    pub strength_reference_date: String,
    /// Time S_K refers to, `HHMMSS` (Source Strength Reference Time (300A,022E)).
    pub strength_reference_time: String,
}

/// Everything one export contains.
#[derive(Clone, Copy, Debug)]
pub struct DicomExport<'a> {
    /// The case: patient id, grid and structures (each becomes an ROI, typed by role).
    pub case: &'a Case,
    /// The CT in HU on the case grid; written as a CT series when present.
    pub ct: Option<&'a Field<f32>>,
    /// Frame of Reference UID to use (the CT's, when the case came from DICOM); derived if `None`.
    pub frame_of_reference_uid: Option<&'a str>,
    /// More ROIs after the case's structures.
    pub extra_rois: &'a [ExportRoi],
    /// The implant (RT Plan); required with a dose.
    pub plan: Option<&'a BrachyPlan>,
    /// Dose in Gy on any axis-aligned grid (RT Dose).
    pub dose: Option<&'a Field<f32>>,
}

/// One file of an export, in memory.
#[derive(Clone, Debug)]
pub struct ExportFile {
    /// Path relative to the export folder (`rtstruct.dcm`, `ct/slice_0001.dcm`).
    pub path: PathBuf,
    /// The DICOM Part 10 bytes.
    pub bytes: Vec<u8>,
}

/// What an export made.
#[derive(Clone, Debug)]
pub struct ExportSummary {
    /// The files, CT slices first.
    pub files: Vec<ExportFile>,
    /// Study Instance UID shared by all objects.
    pub study_uid: String,
    /// Frame of Reference UID shared by all objects.
    pub frame_of_reference_uid: String,
    /// ROIs written (name, interpreted type, contour count).
    pub rois: Vec<(String, RoiType, usize)>,
    /// Stored dose = value × DoseGridScaling (Gy), when a dose was written.
    pub dose_grid_scaling: Option<f64>,
}

fn export_error(what: &str, message: impl Into<String>) -> ImagingError {
    ImagingError::Export { what: what.to_owned(), message: message.into() }
}

fn ds_of(v: f64, what: &str) -> Result<String, ImagingError> {
    format_ds(v).ok_or_else(|| export_error(what, format!("value {v} is not finite")))
}

fn ds_multi(values: &[f64], what: &str) -> Result<String, ImagingError> {
    format_ds_multi(values).ok_or_else(|| export_error(what, format!("values {values:?} are not all finite")))
}

/// Axis-aligned grids only: row direction +x, column direction +y.
const IDENTITY_ORIENTATION: &str = "1\\0\\0\\0\\1\\0";

struct RoiContours {
    name: String,
    roi_type: RoiType,
    /// Per contour: the slice index (for the CT reference) and the formatted Contour Data.
    contours: Vec<(usize, usize, String)>,
}

fn contours_of(name: &str, mask: &Mask) -> Result<Vec<(usize, usize, String)>, ImagingError> {
    let grid = mask.grid();
    let [nx, ny, _] = grid.dims();
    let [sx, sy, sz] = grid.spacing_mm();
    let o = grid.origin().0;
    let mut out = Vec::new();
    let Some(bbox) = mask.bounding_box() else {
        return Ok(out);
    };
    let [i0, j0, k0] = bbox.first();
    let [i1, j1, k1] = bbox.last();
    let (wx, wy) = (i1 - i0 + 1, j1 - j0 + 1);
    let mut plane = vec![false; wx * wy];
    let data = mask.as_slice();
    for k in k0..=k1 {
        for j in 0..wy {
            let row = (j0 + j) * nx + k * nx * ny + i0;
            plane[j * wx..(j + 1) * wx].copy_from_slice(&data[row..row + wx]);
        }
        let z = ds_of(o[2] + k as f64 * sz, name)?;
        for c in slice_contours(&plane, wx, wy) {
            let mut s = String::with_capacity(c.len() * 30);
            for (n, p) in c.iter().enumerate() {
                if n > 0 {
                    s.push('\\');
                }
                s.push_str(&ds_of(o[0] + (i0 as f64 + p[0]) * sx, name)?);
                s.push('\\');
                s.push_str(&ds_of(o[1] + (j0 as f64 + p[1]) * sy, name)?);
                s.push('\\');
                s.push_str(&z);
            }
            out.push((k, c.len(), s));
        }
    }
    Ok(out)
}

fn check_grid_matches(what: &str, grid: &Grid, case_grid: &Grid) -> Result<(), ImagingError> {
    if !grid.same_geometry(case_grid) {
        return Err(export_error(what, "is not on the case grid (same dims, spacing and origin needed)"));
    }
    Ok(())
}

fn check_text(what: &str, value: &str, max: usize) -> Result<(), ImagingError> {
    if value.is_empty() || value.chars().count() > max || value.contains('\\') || value.chars().any(char::is_control) {
        return Err(export_error(
            what,
            format!("{value:?} must be 1 to {max} characters without backslashes or control characters"),
        ));
    }
    Ok(())
}

fn check_date(what: &str, v: &str) -> Result<(), ImagingError> {
    let ok = v.len() == 8
        && v.bytes().all(|b| b.is_ascii_digit())
        && (1..=12).contains(&v[4..6].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&v[6..8].parse::<u32>().unwrap_or(0));
    if !ok {
        return Err(export_error(what, format!("{v:?} is not a date YYYYMMDD")));
    }
    Ok(())
}

fn check_time(what: &str, v: &str) -> Result<(), ImagingError> {
    let ok = v.len() == 6
        && v.bytes().all(|b| b.is_ascii_digit())
        && v[0..2].parse::<u32>().unwrap_or(99) < 24
        && v[2..4].parse::<u32>().unwrap_or(99) < 60
        && v[4..6].parse::<u32>().unwrap_or(99) < 60;
    if !ok {
        return Err(export_error(what, format!("{v:?} is not a time HHMMSS")));
    }
    Ok(())
}

/// Dose as stored integers and the DS scaling: stored × scaling = Gy.
fn quantize_dose(dose: &Field<f32>) -> Result<(Vec<u32>, String, f64), ImagingError> {
    let mut max = 0.0f64;
    for (n, &d) in dose.as_slice().iter().enumerate() {
        if !(d.is_finite() && d >= 0.0) {
            let ijk = dose.grid().ijk(n);
            return Err(export_error("dose", format!("voxel {ijk:?} is {d} Gy; dose must be finite and >= 0")));
        }
        max = max.max(f64::from(d));
    }
    // The stored value is computed with the scaling as written (parsed back), so readers that
    // multiply by the DS text get the dose to within half a stored step.
    let scaling_text = ds_of(if max > 0.0 { max / DOSE_MAX_STORED } else { 1.0 }, "DoseGridScaling")?;
    let scaling: f64 = scaling_text.parse().expect("formatted DS parses");
    let stored =
        dose.as_slice().iter().map(|&d| (f64::from(d) / scaling).round().min(f64::from(u32::MAX)) as u32).collect();
    Ok((stored, scaling_text, scaling))
}

fn plane_elements(grid: &Grid) -> Result<Vec<DataElement<InMemDicomObject>>, ImagingError> {
    let [nx, ny, _] = grid.dims();
    let [sx, sy, _] = grid.spacing_mm();
    if nx > usize::from(u16::MAX) || ny > usize::from(u16::MAX) {
        return Err(export_error("grid", format!("{nx}×{ny} voxels per slice exceeds 65535 rows or columns")));
    }
    Ok(vec![
        text(tags::IMAGE_ORIENTATION_PATIENT, VR::DS, IDENTITY_ORIENTATION),
        // Pixel Spacing is row spacing (between rows, along y) first, then column spacing.
        ds(tags::PIXEL_SPACING, ds_multi(&[sy, sx], "PixelSpacing")?),
        us(tags::ROWS, ny as u16),
        us(tags::COLUMNS, nx as u16),
        us(tags::SAMPLES_PER_PIXEL, 1),
        text(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
    ])
}

/// Builds every object of `export` in memory (see the module docs for the layout).
pub fn build_dicom(export: &DicomExport<'_>) -> Result<ExportSummary, ImagingError> {
    let case = export.case;
    let grid = case.grid();
    if let Some(ct) = export.ct {
        check_grid_matches("CT", ct.grid(), grid)?;
    }
    if export.dose.is_some() && export.plan.is_none() {
        return Err(export_error(
            "dose",
            "an RT Dose sums a plan (DoseSummationType PLAN references the RT Plan): give the seeds too",
        ));
    }
    if let Some(uid) = export.frame_of_reference_uid
        && (uid.is_empty()
            || uid.len() > 64
            || !uid.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            || uid.starts_with('.')
            || uid.ends_with('.'))
    {
        return Err(export_error("frame of reference UID", format!("{uid:?} is not a valid UID")));
    }

    // 1. Content, without UIDs.
    let mut rois = Vec::new();
    for s in case.structures() {
        check_text(&format!("ROI name {:?}", s.name), &s.name, 64)?;
        rois.push(RoiContours {
            name: s.name.clone(),
            roi_type: RoiType::from_role(s.role),
            contours: contours_of(&s.name, &s.mask)?,
        });
    }
    for r in export.extra_rois {
        check_text(&format!("ROI name {:?}", r.name), &r.name, 64)?;
        if rois.iter().any(|x| x.name == r.name) {
            return Err(export_error(&format!("ROI name {:?}", r.name), "used twice; ROI names must be unique"));
        }
        rois.push(RoiContours { name: r.name.clone(), roi_type: r.roi_type, contours: contours_of(&r.name, &r.mask)? });
    }
    let ct_pixels: Option<Vec<u16>> = match export.ct {
        None => None,
        Some(ct) => {
            let mut px = Vec::with_capacity(ct.as_slice().len());
            for (n, &hu) in ct.as_slice().iter().enumerate() {
                if !hu.is_finite() {
                    return Err(export_error("CT", format!("voxel {:?} is {hu} HU", ct.grid().ijk(n))));
                }
                px.push((hu.round().clamp(-32768.0, 32767.0) as i16) as u16);
            }
            Some(px)
        }
    };
    let dose = match export.dose {
        Some(d) => Some(quantize_dose(d)?),
        None => None,
    };
    if let Some(plan) = export.plan {
        check_plan(plan)?;
    }

    // 2. One digest of it all, then every UID.
    let mut src = UidSource::new("cryoseed-dicom-export-v1");
    src.update(case.patient_id().to_string().as_bytes());
    src.update(format!("{grid:?}").as_bytes());
    src.update(export.frame_of_reference_uid.unwrap_or("").as_bytes());
    for r in &rois {
        src.update(r.name.as_bytes());
        src.update(r.roi_type.as_dicom().as_bytes());
        for (k, _, c) in &r.contours {
            src.update(&k.to_le_bytes());
            src.update(c.as_bytes());
        }
    }
    if let Some(px) = &ct_pixels {
        let bytes: Vec<u8> = px.iter().flat_map(|v| v.to_le_bytes()).collect();
        src.update(&bytes);
    }
    if let (Some((stored, scaling, _)), Some(d)) = (&dose, export.dose) {
        src.update(format!("{:?}", d.grid()).as_bytes());
        src.update(scaling.as_bytes());
        let bytes: Vec<u8> = stored.iter().flat_map(|v| v.to_le_bytes()).collect();
        src.update(&bytes);
    }
    if let Some(plan) = export.plan {
        src.update(format!("{plan:?}").as_bytes());
    }
    let study_uid = src.uid("study");
    let for_uid = export.frame_of_reference_uid.map_or_else(|| src.uid("frame-of-reference"), str::to_owned);
    let ctx =
        Context { patient_id: case.patient_id().to_string(), study_uid: study_uid.clone(), for_uid: for_uid.clone() };

    let mut files = Vec::new();
    // CT series.
    let mut ct_refs: Vec<String> = Vec::new();
    let ct_series_uid = src.uid("series/ct");
    if let Some(px) = &ct_pixels {
        let [nx, ny, nz] = grid.dims();
        let o = grid.origin().0;
        let sz = grid.spacing_mm()[2];
        for k in 0..nz {
            let sop = src.uid(&format!("sop/ct/{k}"));
            let mut e = ctx.header(CT_IMAGE_STORAGE, &sop, "CT", &ct_series_uid, 1, (k + 1) as i64, true);
            e.extend(plane_elements(grid)?);
            e.extend([
                ds(tags::IMAGE_POSITION_PATIENT, ds_multi(&[o[0], o[1], o[2] + k as f64 * sz], "CT position")?),
                ds(tags::SLICE_THICKNESS, ds_of(sz, "SliceThickness")?),
                text(tags::IMAGE_TYPE, VR::CS, "DERIVED\\SECONDARY\\AXIAL"),
                us(tags::BITS_ALLOCATED, 16),
                us(tags::BITS_STORED, 16),
                us(tags::HIGH_BIT, 15),
                us(tags::PIXEL_REPRESENTATION, 1),
                text(tags::RESCALE_INTERCEPT, VR::DS, "0"),
                text(tags::RESCALE_SLOPE, VR::DS, "1"),
                text(tags::RESCALE_TYPE, VR::LO, "HU"),
                empty(tags::KVP, VR::DS),
                empty(tags::ACQUISITION_NUMBER, VR::IS),
                text(tags::PATIENT_POSITION, VR::CS, "HFS"),
                DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OW,
                    PrimitiveValue::U16(px[k * nx * ny..(k + 1) * nx * ny].iter().copied().collect()),
                ),
            ]);
            files.push(ExportFile {
                path: PathBuf::from(format!("ct/slice_{:04}.dcm", k + 1)),
                bytes: save(e, CT_IMAGE_STORAGE, &sop)?,
            });
            ct_refs.push(sop);
        }
    }

    // RT Structure Set.
    let rs_uid = src.uid("sop/rtstruct");
    let mut roi_summary = Vec::new();
    {
        let mut e = ctx.header(RT_STRUCTURE_SET_STORAGE, &rs_uid, "RTSTRUCT", &src.uid("series/rtstruct"), 2, 1, false);
        let mut rfor = vec![text(tags::FRAME_OF_REFERENCE_UID, VR::UI, &for_uid)];
        if !ct_refs.is_empty() {
            let images = ct_refs.iter().map(|u| image_ref(u)).collect();
            let series = InMemDicomObject::from_element_iter([
                text(tags::SERIES_INSTANCE_UID, VR::UI, &ct_series_uid),
                seq(tags::CONTOUR_IMAGE_SEQUENCE, images),
            ]);
            let study = InMemDicomObject::from_element_iter([
                text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, STUDY_COMPONENT_CLASS),
                text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, &study_uid),
                seq(tags::RT_REFERENCED_SERIES_SEQUENCE, vec![series]),
            ]);
            rfor.push(seq(tags::RT_REFERENCED_STUDY_SEQUENCE, vec![study]));
        }
        let mut ss_rois = Vec::new();
        let mut roi_contours = Vec::new();
        let mut observations = Vec::new();
        for (n, r) in rois.iter().enumerate() {
            let number = (n + 1) as i64;
            ss_rois.push(InMemDicomObject::from_element_iter([
                is(tags::ROI_NUMBER, number),
                text(tags::REFERENCED_FRAME_OF_REFERENCE_UID, VR::UI, &for_uid),
                text(tags::ROI_NAME, VR::LO, &r.name),
                empty(tags::ROI_GENERATION_ALGORITHM, VR::CS),
            ]));
            let colour = r.roi_type.colour(n);
            let mut rc = vec![
                text(tags::ROI_DISPLAY_COLOR, VR::IS, &format!("{}\\{}\\{}", colour[0], colour[1], colour[2])),
                is(tags::REFERENCED_ROI_NUMBER, number),
            ];
            if !r.contours.is_empty() {
                let items = r
                    .contours
                    .iter()
                    .enumerate()
                    .map(|(m, (k, npts, data))| {
                        let mut c = vec![
                            is(tags::CONTOUR_NUMBER, (m + 1) as i64),
                            text(tags::CONTOUR_GEOMETRIC_TYPE, VR::CS, "CLOSED_PLANAR"),
                            is(tags::NUMBER_OF_CONTOUR_POINTS, *npts as i64),
                            text(tags::CONTOUR_DATA, VR::DS, data),
                        ];
                        if let Some(u) = ct_refs.get(*k) {
                            c.push(seq(tags::CONTOUR_IMAGE_SEQUENCE, vec![image_ref(u)]));
                        }
                        InMemDicomObject::from_element_iter(c)
                    })
                    .collect();
                rc.push(seq(tags::CONTOUR_SEQUENCE, items));
            }
            roi_contours.push(InMemDicomObject::from_element_iter(rc));
            observations.push(InMemDicomObject::from_element_iter([
                is(tags::OBSERVATION_NUMBER, number),
                is(tags::REFERENCED_ROI_NUMBER, number),
                text(tags::RTROI_INTERPRETED_TYPE, VR::CS, r.roi_type.as_dicom()),
                empty(tags::ROI_INTERPRETER, VR::PN),
            ]));
            roi_summary.push((r.name.clone(), r.roi_type, r.contours.len()));
        }
        e.extend([
            text(tags::STRUCTURE_SET_LABEL, VR::SH, "cryoseed"),
            empty(tags::STRUCTURE_SET_DATE, VR::DA),
            empty(tags::STRUCTURE_SET_TIME, VR::TM),
            seq(tags::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE, vec![InMemDicomObject::from_element_iter(rfor)]),
            seq(tags::STRUCTURE_SET_ROI_SEQUENCE, ss_rois),
            seq(tags::ROI_CONTOUR_SEQUENCE, roi_contours),
            seq(tags::RTROI_OBSERVATIONS_SEQUENCE, observations),
            text(tags::APPROVAL_STATUS, VR::CS, "UNAPPROVED"),
        ]);
        files.push(ExportFile {
            path: PathBuf::from("rtstruct.dcm"),
            bytes: save(e, RT_STRUCTURE_SET_STORAGE, &rs_uid)?,
        });
    }

    // RT Plan.
    let rp_uid = src.uid("sop/rtplan");
    if let Some(plan) = export.plan {
        let mut e = ctx.header(RT_PLAN_STORAGE, &rp_uid, "RTPLAN", &src.uid("series/rtplan"), 3, 1, true);
        e.extend(plan_elements(plan, &rs_uid)?);
        files.push(ExportFile { path: PathBuf::from("rtplan.dcm"), bytes: save(e, RT_PLAN_STORAGE, &rp_uid)? });
    }

    // RT Dose.
    let mut dose_grid_scaling = None;
    if let (Some(field), Some((stored, scaling_text, scaling))) = (export.dose, dose) {
        dose_grid_scaling = Some(scaling);
        let dg = field.grid();
        let [_, _, nz] = dg.dims();
        let o = dg.origin().0;
        let sz = dg.spacing_mm()[2];
        let offsets: Vec<f64> = (0..nz).map(|k| k as f64 * sz).collect();
        let rd_uid = src.uid("sop/rtdose");
        let mut e = ctx.header(RT_DOSE_STORAGE, &rd_uid, "RTDOSE", &src.uid("series/rtdose"), 4, 1, true);
        e.extend(plane_elements(dg)?);
        let plan_ref = InMemDicomObject::from_element_iter([
            text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, RT_PLAN_STORAGE),
            text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, &rp_uid),
        ]);
        let bytes: Vec<u8> = stored.iter().flat_map(|v| v.to_le_bytes()).collect();
        e.extend([
            ds(tags::IMAGE_POSITION_PATIENT, ds_multi(&o, "RT Dose position")?),
            empty(tags::SLICE_THICKNESS, VR::DS),
            is(tags::NUMBER_OF_FRAMES, nz as i64),
            DataElement::new(
                tags::FRAME_INCREMENT_POINTER,
                VR::AT,
                PrimitiveValue::Tags(vec![tags::GRID_FRAME_OFFSET_VECTOR].into()),
            ),
            us(tags::BITS_ALLOCATED, 32),
            us(tags::BITS_STORED, 32),
            us(tags::HIGH_BIT, 31),
            us(tags::PIXEL_REPRESENTATION, 0),
            text(tags::DOSE_UNITS, VR::CS, "GY"),
            text(tags::DOSE_TYPE, VR::CS, "PHYSICAL"),
            text(tags::DOSE_COMMENT, VR::LO, "total permanent-implant dose, TG-43U1"),
            text(tags::DOSE_SUMMATION_TYPE, VR::CS, "PLAN"),
            seq(tags::REFERENCED_RT_PLAN_SEQUENCE, vec![plan_ref]),
            ds(tags::GRID_FRAME_OFFSET_VECTOR, ds_multi(&offsets, "GridFrameOffsetVector")?),
            ds(tags::DOSE_GRID_SCALING, scaling_text),
            DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::U8(bytes.into())),
        ]);
        files.push(ExportFile { path: PathBuf::from("rtdose.dcm"), bytes: save(e, RT_DOSE_STORAGE, &rd_uid)? });
    }
    Ok(ExportSummary { files, study_uid, frame_of_reference_uid: for_uid, rois: roi_summary, dose_grid_scaling })
}

fn image_ref(sop: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE),
        text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, sop),
    ])
}

fn check_plan(plan: &BrachyPlan) -> Result<(), ImagingError> {
    check_text("RT Plan label", &plan.label, 16)?;
    check_date("S_K reference date", &plan.strength_reference_date)?;
    check_time("S_K reference time", &plan.strength_reference_time)?;
    if plan.seeds.is_empty() {
        return Err(export_error("seeds", "the plan has no seeds"));
    }
    for (n, m) in plan.models.iter().enumerate() {
        let what = format!("source model {} ({:?})", n + 1, m.id);
        check_text(&what, &m.id, 16)?;
        check_text(&what, &m.name, 64)?;
        check_text(&what, &m.isotope, 64)?;
        if !(m.half_life.0.is_finite() && m.half_life.0 > 0.0) {
            return Err(export_error(&what, format!("half-life {} days must be > 0", m.half_life.0)));
        }
    }
    for (n, s) in plan.seeds.iter().enumerate() {
        let what = format!("seed {}", n + 1);
        if s.model >= plan.models.len() {
            return Err(export_error(
                &what,
                format!("model index {} but the plan has {} models", s.model, plan.models.len()),
            ));
        }
        if !(s.air_kerma_strength.0.is_finite() && s.air_kerma_strength.0 > 0.0) {
            return Err(export_error(&what, format!("S_K {} U must be > 0", s.air_kerma_strength.0)));
        }
        if s.centre_in_patient.0.iter().any(|c| !c.is_finite()) {
            return Err(export_error(&what, format!("position {:?} mm is not finite", s.centre_in_patient.0)));
        }
    }
    Ok(())
}

fn plan_elements(plan: &BrachyPlan, rs_uid: &str) -> Result<Vec<DataElement<InMemDicomObject>>, ImagingError> {
    // Sources: one per (model, S_K) in order of first use.
    let mut sources: Vec<(usize, String)> = Vec::new();
    let mut source_of_seed = Vec::with_capacity(plan.seeds.len());
    for s in &plan.seeds {
        let sk = ds_of(s.air_kerma_strength.0, "ReferenceAirKermaRate")?;
        let key = (s.model, sk);
        let n = match sources.iter().position(|x| *x == key) {
            Some(n) => n,
            None => {
                sources.push(key);
                sources.len() - 1
            }
        };
        source_of_seed.push(n);
    }
    let mut source_items = Vec::new();
    for (n, (model, sk)) in sources.iter().enumerate() {
        let m = &plan.models[*model];
        let mut e = vec![
            is(tags::SOURCE_NUMBER, (n + 1) as i64),
            text(tags::SOURCE_TYPE, VR::CS, "CYLINDER"),
            text(tags::SOURCE_MODEL_ID, VR::SH, &m.id),
            text(tags::SOURCE_DESCRIPTION, VR::LO, &m.name),
            text(tags::SOURCE_ISOTOPE_NAME, VR::LO, &m.isotope),
            ds(tags::SOURCE_ISOTOPE_HALF_LIFE, ds_of(m.half_life.0, "SourceIsotopeHalfLife")?),
            text(tags::SOURCE_STRENGTH_UNITS, VR::CS, "AIR_KERMA_RATE"),
            ds(tags::REFERENCE_AIR_KERMA_RATE, sk.clone()),
            ds(tags::SOURCE_STRENGTH, sk.clone()),
            text(tags::SOURCE_STRENGTH_REFERENCE_DATE, VR::DA, &plan.strength_reference_date),
            text(tags::SOURCE_STRENGTH_REFERENCE_TIME, VR::TM, &plan.strength_reference_time),
        ];
        if let Some(l) = m.active_length {
            e.push(ds(tags::ACTIVE_SOURCE_LENGTH, ds_of(l.0, "ActiveSourceLength")?));
        }
        source_items.push(InMemDicomObject::from_element_iter(e));
    }
    let mut channels = Vec::new();
    let mut total_kerma = 0.0;
    for (n, s) in plan.seeds.iter().enumerate() {
        let m = &plan.models[s.model];
        let mean_life_s = m.half_life.0 * 86_400.0 / std::f64::consts::LN_2;
        total_kerma += s.air_kerma_strength.0 * mean_life_s / 3600.0;
        let position = ds_multi(&s.centre_in_patient.0, &format!("seed {} position", n + 1))?;
        let cp = |index: i64, weight: &str| {
            let mut e = vec![
                is(tags::CONTROL_POINT_INDEX, index),
                text(tags::CONTROL_POINT_RELATIVE_POSITION, VR::DS, "0"),
                ds(tags::CONTROL_POINT3_D_POSITION, position.clone()),
                text(tags::CUMULATIVE_TIME_WEIGHT, VR::DS, weight),
            ];
            if let Some(a) = s.axis_in_patient {
                e.push(DataElement::new(
                    tags::CONTROL_POINT_ORIENTATION,
                    VR::FL,
                    PrimitiveValue::F32(a.iter().map(|&c| c as f32).collect()),
                ));
            }
            InMemDicomObject::from_element_iter(e)
        };
        channels.push(InMemDicomObject::from_element_iter([
            is(tags::CHANNEL_NUMBER, (n + 1) as i64),
            empty(tags::CHANNEL_LENGTH, VR::DS),
            ds(tags::CHANNEL_TOTAL_TIME, ds_of(mean_life_s, "ChannelTotalTime")?),
            text(tags::SOURCE_MOVEMENT_TYPE, VR::CS, "FIXED"),
            empty(tags::TRANSFER_TUBE_NUMBER, VR::IS),
            is(tags::REFERENCED_SOURCE_NUMBER, (source_of_seed[n] + 1) as i64),
            is(tags::NUMBER_OF_CONTROL_POINTS, 2),
            text(tags::FINAL_CUMULATIVE_TIME_WEIGHT, VR::DS, "1"),
            seq(tags::BRACHY_CONTROL_POINT_SEQUENCE, vec![cp(0, "0"), cp(1, "1")]),
        ]));
    }
    let setup = InMemDicomObject::from_element_iter([
        text(tags::APPLICATION_SETUP_TYPE, VR::CS, "INTERSTITIAL"),
        is(tags::APPLICATION_SETUP_NUMBER, 1),
        text(tags::APPLICATION_SETUP_NAME, VR::LO, "permanent seed implant"),
        ds(tags::TOTAL_REFERENCE_AIR_KERMA, ds_of(total_kerma, "TotalReferenceAirKerma")?),
        seq(tags::CHANNEL_SEQUENCE, channels),
    ]);
    let fraction_group = InMemDicomObject::from_element_iter([
        is(tags::FRACTION_GROUP_NUMBER, 1),
        is(tags::NUMBER_OF_FRACTIONS_PLANNED, 1),
        is(tags::NUMBER_OF_BEAMS, 0),
        is(tags::NUMBER_OF_BRACHY_APPLICATION_SETUPS, 1),
        seq(
            tags::REFERENCED_BRACHY_APPLICATION_SETUP_SEQUENCE,
            vec![InMemDicomObject::from_element_iter([is(tags::REFERENCED_BRACHY_APPLICATION_SETUP_NUMBER, 1)])],
        ),
    ]);
    let ss_ref = InMemDicomObject::from_element_iter([
        text(tags::REFERENCED_SOP_CLASS_UID, VR::UI, RT_STRUCTURE_SET_STORAGE),
        text(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, rs_uid),
    ]);
    let machine =
        InMemDicomObject::from_element_iter([text(tags::TREATMENT_MACHINE_NAME, VR::SH, "MANUAL SEED LOADING")]);
    Ok(vec![
        text(tags::RT_PLAN_LABEL, VR::SH, &plan.label),
        empty(tags::RT_PLAN_DATE, VR::DA),
        empty(tags::RT_PLAN_TIME, VR::TM),
        text(tags::RT_PLAN_GEOMETRY, VR::CS, "PATIENT"),
        seq(tags::REFERENCED_STRUCTURE_SET_SEQUENCE, vec![ss_ref]),
        text(tags::BRACHY_TREATMENT_TECHNIQUE, VR::CS, "PERMANENT"),
        text(tags::BRACHY_TREATMENT_TYPE, VR::CS, "LDR"),
        seq(tags::TREATMENT_MACHINE_SEQUENCE, vec![machine]),
        seq(tags::SOURCE_SEQUENCE, source_items),
        seq(tags::APPLICATION_SETUP_SEQUENCE, vec![setup]),
        seq(tags::FRACTION_GROUP_SEQUENCE, vec![fraction_group]),
        text(tags::APPROVAL_STATUS, VR::CS, "UNAPPROVED"),
    ])
}

struct Context {
    patient_id: String,
    study_uid: String,
    for_uid: String,
}

impl Context {
    /// SOP Common, Patient, General Study, (RT) Series, General Equipment and, with `with_for`,
    /// Frame of Reference module attributes.
    #[allow(clippy::too_many_arguments)]
    fn header(
        &self,
        class: &str,
        sop: &str,
        modality: &str,
        series_uid: &str,
        series_number: i64,
        instance_number: i64,
        with_for: bool,
    ) -> Vec<DataElement<InMemDicomObject>> {
        let mut e = vec![
            text(tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 192"),
            text(tags::SOP_CLASS_UID, VR::UI, class),
            text(tags::SOP_INSTANCE_UID, VR::UI, sop),
            empty(tags::STUDY_DATE, VR::DA),
            empty(tags::STUDY_TIME, VR::TM),
            empty(tags::ACCESSION_NUMBER, VR::SH),
            text(tags::MODALITY, VR::CS, modality),
            text(tags::MANUFACTURER, VR::LO, "cryoseed"),
            empty(tags::REFERRING_PHYSICIAN_NAME, VR::PN),
            text(tags::SERIES_DESCRIPTION, VR::LO, &format!("cryoseed {modality}")),
            empty(tags::OPERATORS_NAME, VR::PN),
            text(tags::PATIENT_NAME, VR::PN, &self.patient_id),
            text(tags::PATIENT_ID, VR::LO, &self.patient_id),
            empty(tags::PATIENT_BIRTH_DATE, VR::DA),
            empty(tags::PATIENT_SEX, VR::CS),
            text(tags::SOFTWARE_VERSIONS, VR::LO, cryoseed_core::SOFTWARE_VERSION),
            text(tags::STUDY_INSTANCE_UID, VR::UI, &self.study_uid),
            text(tags::SERIES_INSTANCE_UID, VR::UI, series_uid),
            empty(tags::STUDY_ID, VR::SH),
            is(tags::SERIES_NUMBER, series_number),
            is(tags::INSTANCE_NUMBER, instance_number),
        ];
        if with_for {
            e.push(text(tags::FRAME_OF_REFERENCE_UID, VR::UI, &self.for_uid));
            e.push(empty(tags::POSITION_REFERENCE_INDICATOR, VR::LO));
        }
        e
    }
}

fn save(elements: Vec<DataElement<InMemDicomObject>>, class: &str, sop: &str) -> Result<Vec<u8>, ImagingError> {
    let obj = InMemDicomObject::from_element_iter(elements);
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(sop)
        .transfer_syntax(EXPLICIT_VR_LE);
    let file = obj.with_meta(meta).map_err(|e| export_error(&format!("SOP {sop}"), format!("file meta: {e}")))?;
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).map_err(|e| export_error(&format!("SOP {sop}"), format!("encoding: {e}")))?;
    Ok(bytes)
}

/// Builds the export and writes it into `dir`, which must not exist or be empty; the files are
/// staged in a hidden sibling folder and renamed into place at the end.
pub fn export_dicom(dir: &Path, export: &DicomExport<'_>) -> Result<ExportSummary, ImagingError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| ImagingError::io(dir, e))?;
        if entries.next().is_some() {
            return Err(ImagingError::AlreadyExists { path: dir.to_owned() });
        }
    }
    let summary = build_dicom(export)?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dicom".into());
    let staging = dir.with_file_name(format!(".{name}.partial"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| ImagingError::io(&staging, e))?;
    }
    let result = (|| -> Result<(), ImagingError> {
        for f in &summary.files {
            let path = staging.join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| ImagingError::io(parent, e))?;
            }
            std::fs::write(&path, &f.bytes).map_err(|e| ImagingError::io(&path, e))?;
        }
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| ImagingError::io(dir, e))?;
        }
        std::fs::rename(&staging, dir).map_err(|e| ImagingError::io(dir, e))
    })();
    if result.is_err() {
        // Best effort: the error being reported matters more than a failure to clean up.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result.map(|()| summary)
}
