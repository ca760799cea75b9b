//! RT Dose reading: a dose grid back into a [`Field<f32>`] on an axis-aligned LPS [`Grid`].
//!
//! Stored values are read from the raw Pixel Data bytes (dicom-rs does not convert 32-bit
//! pixels, CRATES.md §2): 16 or 32 bits allocated, unsigned or signed, in the file's byte order, then
//! multiplied by Dose Grid Scaling (3004,000E). Frame positions come from Grid Frame Offset
//! Vector (3004,000C), relative to Image Position (Patient) when its first value is 0 and
//! absolute z otherwise (PS3.3 C.8.8.3.2); frames must be evenly spaced (within 1 %) and are
//! reordered to ascending z. Only the identity orientation (rows along +x, columns along +y) is
//! read; anything else is refused with the tag named.

use super::attr::{self, tag_error};
use crate::ImagingError;
use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{Field, Grid};
use dicom_core::value::{PrimitiveValue, Value};
use dicom_object::InMemDicomObject;
use std::path::Path;

/// A dose grid read from an RT Dose file.
#[derive(Clone, Debug)]
pub struct RtDose {
    /// Dose per voxel, in [`RtDose::units`].
    pub dose: Field<f32>,
    /// Dose Units (3004,0002): `GY` or `RELATIVE`.
    pub units: String,
    /// Dose Type (3004,0004), e.g. `PHYSICAL`.
    pub dose_type: Option<String>,
    /// Dose Summation Type (3004,000A), e.g. `PLAN`.
    pub summation_type: Option<String>,
    /// Frame of Reference UID (0020,0052).
    pub frame_of_reference_uid: Option<String>,
    /// SOP Instance UID of the RT Plan referenced in (300C,0002), if any.
    pub referenced_plan_uid: Option<String>,
}

/// Reads the RT Dose file at `path` (a Part 10 file, or a bare implicit-VR data set).
pub fn read_rtdose(path: &Path) -> Result<RtDose, ImagingError> {
    let obj = super::open_dicom(path)?;
    super::check_native_transfer_syntax(path, &obj)?;
    let modality = attr::opt_str(&obj, attr::MODALITY, path)?;
    if modality.as_deref() != Some("RTDOSE") {
        return Err(tag_error(path, attr::MODALITY, format!("{modality:?}, expected \"RTDOSE\"")));
    }
    let big_endian = obj.meta().transfer_syntax() == "1.2.840.10008.1.2.2";
    rtdose_from_object(path, &obj, big_endian)
}

pub(crate) fn rtdose_from_object(
    path: &Path,
    obj: &InMemDicomObject,
    big_endian: bool,
) -> Result<RtDose, ImagingError> {
    let units = attr::req_str(obj, attr::DOSE_UNITS, path)?;
    let iop = attr::req_f64s(obj, attr::IMAGE_ORIENTATION_PATIENT, path, 6)?;
    if iop.iter().zip([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).any(|(a, b)| (a - b).abs() > 1e-4) {
        return Err(tag_error(
            path,
            attr::IMAGE_ORIENTATION_PATIENT,
            format!("{iop:?}; only dose grids with rows along +x and columns along +y (1\\0\\0\\0\\1\\0) are read"),
        ));
    }
    let ipp = attr::req_f64s(obj, attr::IMAGE_POSITION_PATIENT, path, 3)?;
    let ps = attr::req_f64s(obj, attr::PIXEL_SPACING, path, 2)?;
    if ps.iter().any(|&s| s <= 0.0) {
        return Err(tag_error(path, attr::PIXEL_SPACING, format!("must be positive, got {ps:?}")));
    }
    let rows = attr::req_u32(obj, attr::ROWS, path)? as usize;
    let cols = attr::req_u32(obj, attr::COLUMNS, path)? as usize;
    if rows == 0 || cols == 0 {
        return Err(tag_error(path, attr::ROWS, format!("image is {rows}×{cols} pixels")));
    }
    let frames = match attr::opt_f64(obj, attr::NUMBER_OF_FRAMES, path)? {
        None => 1,
        Some(f) if f >= 1.0 && f.fract() == 0.0 && f <= 1e5 => f as usize,
        Some(f) => return Err(tag_error(path, attr::NUMBER_OF_FRAMES, format!("{f} is not a frame count"))),
    };
    let offsets = match attr::opt_f64s(obj, attr::GRID_FRAME_OFFSET_VECTOR, path)? {
        Some(v) => v,
        None if frames == 1 => vec![0.0],
        None => return Err(tag_error(path, attr::GRID_FRAME_OFFSET_VECTOR, "missing for a multi-frame dose")),
    };
    if offsets.len() != frames {
        return Err(tag_error(
            path,
            attr::GRID_FRAME_OFFSET_VECTOR,
            format!("{} values for NumberOfFrames {frames}", offsets.len()),
        ));
    }
    let z: Vec<f64> = if offsets[0] == 0.0 { offsets.iter().map(|o| ipp[2] + o).collect() } else { offsets.clone() };
    let ascending = frames < 2 || z[1] > z[0];
    let dz = if frames < 2 {
        // A single plane: give it the in-plane spacing as thickness (a slab around the plane).
        ps[0].min(ps[1])
    } else {
        let gaps: Vec<f64> = z.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let (min, max) = gaps.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &g| (a.min(g), b.max(g)));
        let monotonic = z.windows(2).all(|w| (w[1] > w[0]) == ascending && w[1] != w[0]);
        if !monotonic || min <= 0.0 || (max - min) / min >= super::ct::SLICE_SPACING_TOLERANCE {
            return Err(tag_error(
                path,
                attr::GRID_FRAME_OFFSET_VECTOR,
                format!(
                    "frames must be evenly spaced along z (within {} %): gaps from {min:.4} to {max:.4} mm",
                    super::ct::SLICE_SPACING_TOLERANCE * 100.0
                ),
            ));
        }
        (z[frames - 1] - z[0]).abs() / (frames - 1) as f64
    };
    let bits = attr::req_u32(obj, attr::BITS_ALLOCATED, path)?;
    let representation = attr::opt_f64(obj, attr::PIXEL_REPRESENTATION, path)?.unwrap_or(0.0);
    let signed = match representation {
        0.0 => false,
        1.0 => true,
        v => return Err(tag_error(path, attr::PIXEL_REPRESENTATION, format!("{v}; must be 0 or 1"))),
    };
    let scaling = attr::opt_f64(obj, attr::DOSE_GRID_SCALING, path)?.unwrap_or(1.0);
    let per_frame = rows * cols;
    let n = per_frame.checked_mul(frames).ok_or_else(|| tag_error(path, attr::NUMBER_OF_FRAMES, "grid too large"))?;
    let raw = raw_pixel_bytes(path, obj, big_endian)?;
    let width = match bits {
        16 => 2,
        32 => 4,
        other => return Err(tag_error(path, attr::BITS_ALLOCATED, format!("{other}; RT Dose must be 16 or 32 bits"))),
    };
    if raw.len() < n * width {
        return Err(tag_error(
            path,
            attr::PIXEL_DATA,
            format!("holds {} bytes, Rows × Columns × NumberOfFrames × {width} = {}", raw.len(), n * width),
        ));
    }
    let value = |b: &[u8]| -> f64 {
        let w = [b[0], b[1]];
        let d = [b[0], b[1], b[2 % b.len()], b[3 % b.len()]];
        match (width, signed, big_endian) {
            (2, false, false) => f64::from(u16::from_le_bytes(w)),
            (2, false, true) => f64::from(u16::from_be_bytes(w)),
            (2, true, false) => f64::from(i16::from_le_bytes(w)),
            (2, true, true) => f64::from(i16::from_be_bytes(w)),
            (_, false, false) => f64::from(u32::from_le_bytes(d)),
            (_, false, true) => f64::from(u32::from_be_bytes(d)),
            (_, true, false) => f64::from(i32::from_le_bytes(d)),
            (_, true, true) => f64::from(i32::from_be_bytes(d)),
        }
    };
    let grid = Grid::new(
        [cols, rows, frames],
        [Mm(ps[1]), Mm(ps[0]), Mm(dz)],
        PatientPoint([ipp[0], ipp[1], if ascending { z[0] } else { z[frames - 1] }]),
    )
    .map_err(|e| tag_error(path, attr::IMAGE_POSITION_PATIENT, format!("dose grid: {e}")))?;
    let mut data = vec![0f32; n];
    for f in 0..frames {
        let k = if ascending { f } else { frames - 1 - f };
        for (p, chunk) in raw[f * per_frame * width..(f + 1) * per_frame * width].chunks_exact(width).enumerate() {
            data[k * per_frame + p] = (value(chunk) * scaling) as f32;
        }
    }
    let referenced_plan_uid = attr::items(obj, attr::REFERENCED_RT_PLAN_SEQUENCE, path)?
        .first()
        .map(|item| attr::opt_str(item, attr::REFERENCED_SOP_INSTANCE_UID, path))
        .transpose()?
        .flatten();
    Ok(RtDose {
        dose: Field::from_vec(grid, data).expect("one value per voxel"),
        units,
        dose_type: attr::opt_str(obj, attr::DOSE_TYPE, path)?,
        summation_type: attr::opt_str(obj, attr::DOSE_SUMMATION_TYPE, path)?,
        frame_of_reference_uid: attr::opt_str(obj, attr::FRAME_OF_REFERENCE_UID, path)?,
        referenced_plan_uid,
    })
}

/// Pixel Data as bytes in the file's byte order, whatever primitive type the parser chose.
fn raw_pixel_bytes(path: &Path, obj: &InMemDicomObject, big_endian: bool) -> Result<Vec<u8>, ImagingError> {
    macro_rules! bytes {
        ($v:expr) => {
            if big_endian {
                $v.iter().flat_map(|x| x.to_be_bytes()).collect()
            } else {
                $v.iter().flat_map(|x| x.to_le_bytes()).collect()
            }
        };
    }
    let e = obj
        .element_opt(attr::PIXEL_DATA.0)
        .ok()
        .flatten()
        .ok_or_else(|| tag_error(path, attr::PIXEL_DATA, "missing"))?;
    Ok(match e.value() {
        Value::PixelSequence(_) => {
            return Err(tag_error(path, attr::PIXEL_DATA, "encapsulated (compressed) pixel data is not supported"));
        }
        Value::Primitive(PrimitiveValue::U8(v)) => v.to_vec(),
        Value::Primitive(PrimitiveValue::U16(v)) => bytes!(v),
        Value::Primitive(PrimitiveValue::I16(v)) => bytes!(v),
        Value::Primitive(PrimitiveValue::U32(v)) => bytes!(v),
        Value::Primitive(PrimitiveValue::I32(v)) => bytes!(v),
        _ => return Err(tag_error(path, attr::PIXEL_DATA, "unexpected value representation")),
    })
}
