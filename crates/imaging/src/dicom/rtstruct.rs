//! RT Structure Set reading and contour rasterization.
//!
//! **Filling rule.** All CLOSED_PLANAR contours of one ROI on one slice are combined by the
//! even–odd (crossing-number) rule: a voxel is inside when a ray from its centre towards +x
//! crosses the ROI's contour edges on that slice an odd number of times. A contour inside another
//! is therefore a hole, and separate contours are separate islands, whatever the point order.
//!
//! **Partial voxels.** A voxel belongs to the ROI exactly when its *centre* is inside (no partial
//! volume, no area threshold). Edges are half-open in y (an edge counts for rows with
//! `min(y1, y2) ≤ y < max(y1, y2)`), so a centre on a shared edge is counted once.
//!
//! **Slices.** Each contour is assigned to the nearest CT slice; a contour farther than half the
//! slice spacing from every CT slice is an error (it lies outside the CT volume), and one between
//! slices is reported with its offset.

use super::attr::{self, tag_error};
use crate::ImagingError;
use cryoseed_volume::{Grid, Mask};
use dicom_object::InMemDicomObject;
use std::path::{Path, PathBuf};

/// One contour's points in LPS mm.
#[derive(Clone, Debug)]
pub(crate) struct Contour {
    pub geometric_type: String,
    pub points: Vec<[f64; 3]>,
}

/// One ROI of a structure set.
#[derive(Clone, Debug)]
pub(crate) struct Roi {
    pub number: i64,
    pub name: String,
    pub frame_of_reference_uid: Option<String>,
    pub contours: Vec<Contour>,
}

/// The parts of an RTSTRUCT that the import uses.
#[derive(Clone, Debug)]
pub(crate) struct RtStruct {
    pub path: PathBuf,
    /// Frame of Reference UIDs listed in Referenced Frame of Reference Sequence (3006,0010).
    pub frames_of_reference: Vec<String>,
    /// Series Instance UIDs listed under RT Referenced Series Sequence (3006,0014).
    pub referenced_series: Vec<String>,
    pub rois: Vec<Roi>,
}

pub(crate) fn read_rtstruct(path: &Path, obj: &InMemDicomObject) -> Result<RtStruct, ImagingError> {
    let mut frames_of_reference = Vec::new();
    let mut referenced_series = Vec::new();
    for rf in attr::items(obj, attr::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE, path)? {
        if let Some(uid) = attr::opt_str(rf, attr::FRAME_OF_REFERENCE_UID, path)? {
            frames_of_reference.push(uid);
        }
        for study in attr::items(rf, attr::RT_REFERENCED_STUDY_SEQUENCE, path)? {
            for series in attr::items(study, attr::RT_REFERENCED_SERIES_SEQUENCE, path)? {
                if let Some(uid) = attr::opt_str(series, attr::SERIES_INSTANCE_UID, path)? {
                    referenced_series.push(uid);
                }
            }
        }
    }
    let mut rois = Vec::new();
    for (n, item) in attr::items(obj, attr::STRUCTURE_SET_ROI_SEQUENCE, path)?.iter().enumerate() {
        let number = attr::opt_f64(item, attr::ROI_NUMBER, path)?.ok_or_else(|| {
            tag_error(path, attr::ROI_NUMBER, format!("missing in StructureSetROISequence item {}", n + 1))
        })? as i64;
        let name = attr::opt_str(item, attr::ROI_NAME, path)?.unwrap_or_else(|| format!("ROI_{number}"));
        let frame_of_reference_uid = attr::opt_str(item, attr::REFERENCED_FRAME_OF_REFERENCE_UID, path)?;
        rois.push(Roi { number, name, frame_of_reference_uid, contours: Vec::new() });
    }
    for (n, item) in attr::items(obj, attr::ROI_CONTOUR_SEQUENCE, path)?.iter().enumerate() {
        let number = attr::opt_f64(item, attr::REFERENCED_ROI_NUMBER, path)?.ok_or_else(|| {
            tag_error(path, attr::REFERENCED_ROI_NUMBER, format!("missing in ROIContourSequence item {}", n + 1))
        })? as i64;
        let Some(roi) = rois.iter_mut().find(|r| r.number == number) else {
            return Err(tag_error(
                path,
                attr::REFERENCED_ROI_NUMBER,
                format!(
                    "ROIContourSequence item {} refers to ROI {number}, which StructureSetROISequence does not define",
                    n + 1
                ),
            ));
        };
        for (m, c) in attr::items(item, attr::CONTOUR_SEQUENCE, path)?.iter().enumerate() {
            let geometric_type = attr::opt_str(c, attr::CONTOUR_GEOMETRIC_TYPE, path)?.unwrap_or_default();
            let data = attr::opt_f64s(c, attr::CONTOUR_DATA, path)?.unwrap_or_default();
            if data.len() % 3 != 0 {
                return Err(tag_error(
                    path,
                    attr::CONTOUR_DATA,
                    format!("ROI {:?} contour {}: {} values, not a multiple of 3", roi.name, m + 1, data.len()),
                ));
            }
            let points = data.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
            roi.contours.push(Contour { geometric_type, points });
        }
    }
    Ok(RtStruct { path: path.to_owned(), frames_of_reference, referenced_series, rois })
}

/// A rasterized ROI and what the user should know about it.
#[derive(Debug)]
pub(crate) struct Rasterized {
    pub mask: Mask,
    pub notes: Vec<String>,
}

/// Rasterizes an ROI's CLOSED_PLANAR contours onto `grid` (see the module docs for the rules).
/// `slice_z` are the actual CT slice positions (ascending), one per grid slice.
pub(crate) fn rasterize(roi: &Roi, grid: &Grid, slice_z: &[f64], path: &Path) -> Result<Rasterized, ImagingError> {
    let [nx, ny, _] = grid.dims();
    let [sx, sy, sz] = grid.spacing_mm();
    let origin = grid.origin().0;
    let mut mask = Mask::empty(*grid);
    let mut notes = Vec::new();
    let mut skipped_types: Vec<String> = Vec::new();
    let mut off_slice = 0usize;
    let mut max_offset = 0.0f64;
    let mut crossings: Vec<f64> = Vec::new();
    for (m, contour) in roi.contours.iter().enumerate() {
        if contour.geometric_type != "CLOSED_PLANAR" {
            if !skipped_types.contains(&contour.geometric_type) {
                skipped_types.push(contour.geometric_type.clone());
            }
            continue;
        }
        let pts = &contour.points;
        if pts.len() < 3 {
            notes.push(format!("contour {} has {} points and encloses nothing; skipped", m + 1, pts.len()));
            continue;
        }
        let z = pts[0][2];
        if let Some(p) = pts.iter().find(|p| (p[2] - z).abs() > 0.01) {
            return Err(tag_error(
                path,
                attr::CONTOUR_DATA,
                format!(
                    "ROI {:?} contour {}: points at z = {z} and z = {} mm; only contours on axial planes are supported",
                    roi.name,
                    m + 1,
                    p[2]
                ),
            ));
        }
        let k = nearest(slice_z, z);
        let offset = (slice_z[k] - z).abs();
        if offset > 0.5 * sz {
            return Err(tag_error(
                path,
                attr::CONTOUR_DATA,
                format!(
                    "ROI {:?} contour {}: z = {z} mm is {offset:.2} mm from the nearest CT slice (z = {} mm), more than half the slice spacing; it lies outside the CT volume",
                    roi.name,
                    m + 1,
                    slice_z[k]
                ),
            ));
        }
        if offset > 0.01 {
            off_slice += 1;
            max_offset = max_offset.max(offset);
        }
        let plane = &mut mask.as_mut_slice()[k * nx * ny..(k + 1) * nx * ny];
        for j in 0..ny {
            let y = origin[1] + j as f64 * sy;
            crossings.clear();
            for e in 0..pts.len() {
                let (a, b) = (pts[e], pts[(e + 1) % pts.len()]);
                if (a[1] > y) != (b[1] > y) {
                    crossings.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
                }
            }
            crossings.sort_by(f64::total_cmp);
            for pair in crossings.chunks_exact(2) {
                let (xa, xb) = (pair[0], pair[1]);
                // Candidate columns, then the exact centre test xa ≤ x < xb.
                let lo = (((xa - origin[0]) / sx).floor() - 1.0).max(0.0) as usize;
                let hi = ((((xb - origin[0]) / sx).ceil() + 1.0).max(0.0) as usize).min(nx);
                for i in lo..hi {
                    let x = origin[0] + i as f64 * sx;
                    if xa <= x && x < xb {
                        let v = &mut plane[i + nx * j];
                        *v = !*v;
                    }
                }
            }
        }
    }
    if !skipped_types.is_empty() {
        notes.push(format!("contours of type {} skipped (only CLOSED_PLANAR is filled)", skipped_types.join(", ")));
    }
    if off_slice > 0 {
        notes.push(format!(
            "{off_slice} contours lie between CT slices and were put on the nearest slice (largest offset {max_offset:.2} mm)"
        ));
    }
    Ok(Rasterized { mask, notes })
}

fn nearest(sorted: &[f64], z: f64) -> usize {
    let p = sorted.partition_point(|&s| s < z);
    match p {
        0 => 0,
        p if p == sorted.len() => p - 1,
        p => {
            if (sorted[p] - z).abs() < (z - sorted[p - 1]).abs() {
                p
            } else {
                p - 1
            }
        }
    }
}

/// One ROI of a structure set rasterized onto a given grid.
#[derive(Clone, Debug)]
pub struct StructureSetRoi {
    /// ROI Number (3006,0022).
    pub number: i64,
    /// ROI Name (3006,0026).
    pub name: String,
    /// RT ROI Interpreted Type (3006,00A4) from the observations, if given.
    pub interpreted_type: Option<String>,
    /// Voxels whose centre lies inside the ROI's contours (see the module docs).
    pub mask: Mask,
    /// What the user should know (skipped contour types, contours between slices).
    pub notes: Vec<String>,
}

/// Reads the RT Structure Set at `path` and rasterizes every ROI onto `grid` (whose slices are
/// taken as the planes the contours must lie on), without a CT: for files exported by
/// [`super::export_dicom`] or a dose-grid-based check. ROIs without contours give empty masks.
pub fn read_structure_set(path: &Path, grid: &Grid) -> Result<Vec<StructureSetRoi>, ImagingError> {
    let obj = super::open_dicom(path)?;
    super::check_native_transfer_syntax(path, &obj)?;
    let modality = attr::opt_str(&obj, attr::MODALITY, path)?;
    if modality.as_deref() != Some("RTSTRUCT") {
        return Err(tag_error(path, attr::MODALITY, format!("{modality:?}, expected \"RTSTRUCT\"")));
    }
    let rt = read_rtstruct(path, &obj)?;
    let mut types = Vec::new();
    for item in attr::items(&obj, attr::RTROI_OBSERVATIONS_SEQUENCE, path)? {
        if let (Some(n), Some(t)) = (
            attr::opt_f64(item, attr::REFERENCED_ROI_NUMBER, path)?,
            attr::opt_str(item, attr::RTROI_INTERPRETED_TYPE, path)?,
        ) {
            types.push((n as i64, t));
        }
    }
    let [_, _, nz] = grid.dims();
    let (z0, dz) = (grid.origin().0[2], grid.spacing_mm()[2]);
    let slice_z: Vec<f64> = (0..nz).map(|k| z0 + k as f64 * dz).collect();
    let mut out = Vec::new();
    for roi in &rt.rois {
        let raster = rasterize(roi, grid, &slice_z, path)?;
        out.push(StructureSetRoi {
            number: roi.number,
            name: roi.name.clone(),
            interpreted_type: types.iter().find(|(n, _)| *n == roi.number).map(|(_, t)| t.clone()),
            mask: raster.mask,
            notes: raster.notes,
        });
    }
    Ok(out)
}

/// Rasterizes closed planar contours (points in LPS mm, one `Vec` per contour) onto `grid` by
/// the module's rules, as one ROI: the rasterizer [`read_structure_set`] uses, for callers that
/// have contours from elsewhere (and for fuzzing). Non-finite coordinates and contours off the
/// grid's slices are errors naming (3006,0050) ContourData.
pub fn rasterize_planar_contours(name: &str, contours: &[Vec<[f64; 3]>], grid: &Grid) -> Result<Mask, ImagingError> {
    let path = Path::new("<contours>");
    if let Some((m, _)) = contours.iter().enumerate().find(|(_, c)| c.iter().flatten().any(|v| !v.is_finite())) {
        return Err(tag_error(
            path,
            attr::CONTOUR_DATA,
            format!("ROI {name:?} contour {}: a coordinate is not finite", m + 1),
        ));
    }
    let roi = Roi {
        number: 1,
        name: name.to_owned(),
        frame_of_reference_uid: None,
        contours: contours
            .iter()
            .map(|c| Contour { geometric_type: "CLOSED_PLANAR".into(), points: c.clone() })
            .collect(),
    };
    let [_, _, nz] = grid.dims();
    let (z0, dz) = (grid.origin().0[2], grid.spacing_mm()[2]);
    let slice_z: Vec<f64> = (0..nz).map(|k| z0 + k as f64 * dz).collect();
    Ok(rasterize(&roi, grid, &slice_z, path)?.mask)
}
