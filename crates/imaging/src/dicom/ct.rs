//! CT Image Storage slices → one axis-aligned HU volume in the LPS patient frame.
//!
//! Geometry comes from Image Position (Patient) (IPP), Image Orientation (Patient) (IOP) and
//! Pixel Spacing only (PS3.3 C.7.6.2.1.1): pixel `(r, c)` of a slice lies at
//! `IPP + c·Δc·row + r·Δr·col`, with `Δc = PixelSpacing[1]`, `Δr = PixelSpacing[0]`. Slices are
//! ordered by `IPP · n` with `n = row × col`; Slice Location and Slice Thickness are not trusted.

use super::attr::{self, tag_error};
use crate::ImagingError;
use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{Field, Grid};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_object::DefaultDicomObject;
use std::path::{Path, PathBuf};

/// Largest direction-cosine deviation from an axis that still counts as axis-aligned
/// (1e-4 ≈ 0.8° of tilt would give cos 0.9999; we allow |cos| ≥ 1 − 1e-4, i.e. < 0.81°).
const AXIS_TOLERANCE: f64 = 1e-4;
/// Relative spread of slice gaps accepted as "evenly spaced" (issue 6: < 1 %).
pub const SLICE_SPACING_TOLERANCE: f64 = 0.01;
/// In-plane IPP drift between slices (mm) accepted before calling the series sheared.
const IN_PLANE_DRIFT_MM: f64 = 0.01;

const UNCOMPRESSED: [(&str, &str); 2] =
    [("1.2.840.10008.1.2", "Implicit VR Little Endian"), ("1.2.840.10008.1.2.1", "Explicit VR Little Endian")];

/// One decoded CT slice.
#[derive(Clone, Debug)]
pub(crate) struct CtSlice {
    pub path: PathBuf,
    pub patient_id: Option<String>,
    pub series_uid: String,
    pub frame_of_reference_uid: String,
    pub ipp: [f64; 3],
    pub iop: [f64; 6],
    /// `[row spacing Δr, column spacing Δc]` in mm (Pixel Spacing order).
    pub pixel_spacing: [f64; 2],
    pub rows: usize,
    pub cols: usize,
    /// HU after Rescale Slope/Intercept, row-major (`r * cols + c`).
    pub hu: Vec<f32>,
}

/// Reads geometry and pixels of a CT slice. Only uncompressed little-endian transfer syntaxes,
/// one sample per pixel and 16 (or 8) bits allocated are supported.
pub(crate) fn read_ct_slice(path: &Path, obj: &DefaultDicomObject) -> Result<CtSlice, ImagingError> {
    let ts = obj.meta().transfer_syntax();
    if !UNCOMPRESSED.iter().any(|(uid, _)| *uid == ts) {
        return Err(tag_error(
            path,
            attr::TRANSFER_SYNTAX_UID,
            format!(
                "{ts} is not supported for CT pixel data; supported: {} (decompress first, e.g. `gdcmconv --raw`)",
                UNCOMPRESSED.iter().map(|(u, n)| format!("{n} {u}")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let series_uid = attr::req_str(obj, attr::SERIES_INSTANCE_UID, path)?;
    let frame_of_reference_uid = attr::req_str(obj, attr::FRAME_OF_REFERENCE_UID, path)?;
    let ipp = attr::req_f64s(obj, attr::IMAGE_POSITION_PATIENT, path, 3)?;
    let iop = attr::req_f64s(obj, attr::IMAGE_ORIENTATION_PATIENT, path, 6)?;
    let ps = attr::req_f64s(obj, attr::PIXEL_SPACING, path, 2)?;
    if ps.iter().any(|&s| s <= 0.0) {
        return Err(tag_error(path, attr::PIXEL_SPACING, format!("must be positive, got {ps:?}")));
    }
    let rows = attr::req_u32(obj, attr::ROWS, path)? as usize;
    let cols = attr::req_u32(obj, attr::COLUMNS, path)? as usize;
    if rows == 0 || cols == 0 {
        return Err(tag_error(path, attr::ROWS, format!("image is {rows}×{cols} pixels")));
    }
    if let Some(frames) = attr::opt_f64(obj, attr::NUMBER_OF_FRAMES, path)?
        && frames != 1.0
    {
        return Err(tag_error(path, attr::NUMBER_OF_FRAMES, format!("{frames} frames; only single-frame CT is read")));
    }
    let spp = attr::req_u32(obj, attr::SAMPLES_PER_PIXEL, path)?;
    if spp != 1 {
        return Err(tag_error(path, attr::SAMPLES_PER_PIXEL, format!("{spp}; CT must be 1 (greyscale)")));
    }
    let bits = attr::req_u32(obj, attr::BITS_ALLOCATED, path)?;
    let stored = attr::req_u32(obj, attr::BITS_STORED, path)?;
    if stored == 0 || stored > bits {
        return Err(tag_error(path, attr::BITS_STORED, format!("{stored} with BitsAllocated {bits}")));
    }
    let signed = match attr::req_u32(obj, attr::PIXEL_REPRESENTATION, path)? {
        0 => false,
        1 => true,
        other => return Err(tag_error(path, attr::PIXEL_REPRESENTATION, format!("{other}; must be 0 or 1"))),
    };
    let slope = attr::opt_f64(obj, attr::RESCALE_SLOPE, path)?.unwrap_or(1.0);
    let intercept = attr::opt_f64(obj, attr::RESCALE_INTERCEPT, path)?.unwrap_or(0.0);
    let raw = stored_values(path, obj, bits, rows * cols)?;
    // Keep the BitsStored low bits; sign-extend them for signed pixels (PS3.5 §8.1.1).
    let shift = 32 - stored;
    let hu = raw
        .into_iter()
        .map(|v| {
            let v = if signed { ((v << shift) as i32) >> shift } else { ((v << shift) >> shift) as i32 };
            (f64::from(v) * slope + intercept) as f32
        })
        .collect();
    Ok(CtSlice {
        path: path.to_owned(),
        patient_id: attr::opt_str(obj, attr::PATIENT_ID, path)?,
        series_uid,
        frame_of_reference_uid,
        ipp: [ipp[0], ipp[1], ipp[2]],
        iop: [iop[0], iop[1], iop[2], iop[3], iop[4], iop[5]],
        pixel_spacing: [ps[0], ps[1]],
        rows,
        cols,
        hu,
    })
}

/// The first `n` stored pixel values as raw bit patterns (not yet masked or sign-extended).
fn stored_values(path: &Path, obj: &DefaultDicomObject, bits: u32, n: usize) -> Result<Vec<u32>, ImagingError> {
    let e = obj
        .element_opt(attr::PIXEL_DATA.0)
        .ok()
        .flatten()
        .ok_or_else(|| tag_error(path, attr::PIXEL_DATA, "missing"))?;
    let short = |got: usize| tag_error(path, attr::PIXEL_DATA, format!("holds {got} pixels, Rows × Columns = {n}"));
    let values: Vec<u32> = match (e.value(), bits) {
        (Value::PixelSequence(_), _) => {
            return Err(tag_error(path, attr::PIXEL_DATA, "encapsulated (compressed) pixel data is not supported"));
        }
        (Value::Primitive(PrimitiveValue::U16(v)), 16) => v.iter().map(|&x| u32::from(x)).collect(),
        (Value::Primitive(PrimitiveValue::I16(v)), 16) => v.iter().map(|&x| u32::from(x as u16)).collect(),
        (Value::Primitive(PrimitiveValue::U8(v)), 16) => {
            v.chunks_exact(2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]]))).collect()
        }
        (Value::Primitive(PrimitiveValue::U8(v)), 8) => v.iter().map(|&x| u32::from(x)).collect(),
        (_, 8 | 16) => return Err(tag_error(path, attr::PIXEL_DATA, "unexpected value representation")),
        (_, other) => {
            return Err(tag_error(path, attr::BITS_ALLOCATED, format!("{other}; CT pixels must be 8 or 16 bits")));
        }
    };
    if values.len() < n {
        return Err(short(values.len()));
    }
    Ok(values.into_iter().take(n).collect())
}

/// An in-plane image axis mapped onto an LPS axis.
#[derive(Clone, Copy, Debug)]
struct AxisMap {
    /// LPS axis (0 = x, 1 = y).
    lps: usize,
    /// +1 if the image index grows with the LPS coordinate.
    sign: f64,
}

fn axis_of(cosines: [f64; 3]) -> Option<AxisMap> {
    let norm = cosines.iter().map(|c| c * c).sum::<f64>().sqrt();
    let (lps, big) = cosines.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    if (norm - 1.0).abs() > 1e-3 || big.abs() < 1.0 - AXIS_TOLERANCE {
        return None;
    }
    Some(AxisMap { lps, sign: big.signum() })
}

/// The assembled CT.
#[derive(Clone, Debug)]
pub(crate) struct CtVolume {
    pub hu: Field<f32>,
    pub series_uid: String,
    pub frame_of_reference_uid: String,
    /// Actual z (mm) of each grid slice, ascending (may differ from the grid by < 1 % of a gap).
    pub slice_z: Vec<f64>,
}

/// Sorts, checks and stacks one series' slices into the axis-aligned LPS grid.
pub(crate) fn assemble(mut slices: Vec<CtSlice>) -> Result<CtVolume, ImagingError> {
    let first = slices
        .first()
        .cloned()
        .ok_or_else(|| ImagingError::Dicom { path: PathBuf::new(), message: "no CT slices".into() })?;
    let iop = first.iop;
    let row = axis_of([iop[0], iop[1], iop[2]]);
    let col = axis_of([iop[3], iop[4], iop[5]]);
    let (row, col) = match (row, col) {
        (Some(r), Some(c)) if r.lps != 2 && c.lps != 2 && r.lps != c.lps => (r, c),
        (Some(_), Some(_)) => {
            return Err(tag_error(
                &first.path,
                attr::IMAGE_ORIENTATION_PATIENT,
                format!("{iop:?} is a sagittal or coronal series; only axial CT series are imported"),
            ));
        }
        _ => {
            return Err(tag_error(
                &first.path,
                attr::IMAGE_ORIENTATION_PATIENT,
                format!(
                    "{iop:?} is oblique (gantry tilt or rotated acquisition); only axis-aligned axial series are imported — reconstruct without tilt or resample first"
                ),
            ));
        }
    };
    for s in &slices[1..] {
        if s.iop.iter().zip(&iop).any(|(a, b)| (a - b).abs() > AXIS_TOLERANCE) {
            return Err(tag_error(
                &s.path,
                attr::IMAGE_ORIENTATION_PATIENT,
                format!("{:?} differs from {:?} in {}", s.iop, iop, first.path.display()),
            ));
        }
        if (s.rows, s.cols) != (first.rows, first.cols) {
            return Err(tag_error(
                &s.path,
                attr::ROWS,
                format!("{}×{} pixels, {} has {}×{}", s.rows, s.cols, first.path.display(), first.rows, first.cols),
            ));
        }
        if s.pixel_spacing.iter().zip(&first.pixel_spacing).any(|(a, b)| (a - b).abs() > 1e-4) {
            return Err(tag_error(
                &s.path,
                attr::PIXEL_SPACING,
                format!("{:?} differs from {:?} in {}", s.pixel_spacing, first.pixel_spacing, first.path.display()),
            ));
        }
        if s.frame_of_reference_uid != first.frame_of_reference_uid {
            return Err(tag_error(
                &s.path,
                attr::FRAME_OF_REFERENCE_UID,
                format!(
                    "{} differs from {} in {}",
                    s.frame_of_reference_uid,
                    first.frame_of_reference_uid,
                    first.path.display()
                ),
            ));
        }
    }
    // Axial: the slice normal is ±z, so IPP·n orders slices like z does; sort by z ascending.
    slices.sort_by(|a, b| a.ipp[2].total_cmp(&b.ipp[2]));
    if slices.len() < 2 {
        return Err(ImagingError::Dicom {
            path: first.path.clone(),
            message: "series has a single slice; a volume needs at least 2".into(),
        });
    }
    for w in slices.windows(2) {
        let drift = ((w[1].ipp[0] - w[0].ipp[0]).powi(2) + (w[1].ipp[1] - w[0].ipp[1]).powi(2)).sqrt();
        if drift > IN_PLANE_DRIFT_MM {
            return Err(tag_error(
                &w[1].path,
                attr::IMAGE_POSITION_PATIENT,
                format!(
                    "moves in-plane by {drift:.3} mm from the slice at z = {} mm ({}): gantry tilt or sheared series, not supported",
                    w[0].ipp[2],
                    w[0].path.display()
                ),
            ));
        }
        if w[1].ipp[2] - w[0].ipp[2] < 1e-3 {
            return Err(tag_error(
                &w[1].path,
                attr::IMAGE_POSITION_PATIENT,
                format!("same slice position z = {} mm as {}: duplicate slice", w[1].ipp[2], w[0].path.display()),
            ));
        }
    }
    let gaps: Vec<f64> = slices.windows(2).map(|w| w[1].ipp[2] - w[0].ipp[2]).collect();
    let min_gap = gaps.iter().copied().fold(f64::INFINITY, f64::min);
    let (widest, max_gap) =
        gaps.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("at least one gap");
    if (max_gap - min_gap) / min_gap >= SLICE_SPACING_TOLERANCE {
        return Err(ImagingError::Dicom {
            path: slices[widest + 1].path.clone(),
            message: format!(
                "uneven or missing slice: gap of {max_gap:.3} mm between slices at z = {} mm and z = {} mm, while the smallest gap is {min_gap:.3} mm (spacing must vary by < {}%; cryoseed does not resample)",
                slices[widest].ipp[2],
                slices[widest + 1].ipp[2],
                SLICE_SPACING_TOLERANCE * 100.0
            ),
        });
    }
    let nz = slices.len();
    let z0 = slices[0].ipp[2];
    let dz = (slices[nz - 1].ipp[2] - z0) / (nz - 1) as f64;
    // In-plane: image axis → LPS axis, with the count and spacing of each.
    let (rows, cols) = (first.rows, first.cols);
    let mut dims = [0usize, 0, nz];
    let mut spacing = [0.0f64, 0.0, dz];
    let mut origin = [0.0f64, 0.0, z0];
    for (map, n, step) in [(row, cols, first.pixel_spacing[1]), (col, rows, first.pixel_spacing[0])] {
        dims[map.lps] = n;
        spacing[map.lps] = step;
        let start = first.ipp[map.lps];
        origin[map.lps] = if map.sign > 0.0 { start } else { start - (n - 1) as f64 * step };
    }
    let grid = Grid::new(dims, spacing.map(Mm), PatientPoint(origin))
        .map_err(|e| ImagingError::Dicom { path: first.path.clone(), message: format!("CT grid: {e}") })?;
    let mut data = vec![0f32; grid.len()];
    let index = |m: AxisMap, n: usize, t: usize| if m.sign > 0.0 { t } else { n - 1 - t };
    for (k, s) in slices.iter().enumerate() {
        for r in 0..rows {
            for c in 0..cols {
                let mut ijk = [0usize, 0, k];
                ijk[row.lps] = index(row, cols, c);
                ijk[col.lps] = index(col, rows, r);
                data[grid.index(ijk)] = s.hu[r * cols + c];
            }
        }
    }
    let slice_z = slices.iter().map(|s| s.ipp[2]).collect();
    Ok(CtVolume {
        hu: Field::from_vec(grid, data).expect("one value per voxel"),
        series_uid: first.series_uid,
        frame_of_reference_uid: first.frame_of_reference_uid,
        slice_z,
    })
}
