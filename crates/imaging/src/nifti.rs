//! NIfTI-1 single-file images (`.nii` and `.nii.gz`) for masks and scalar fields.
//!
//! Only what cryoseed exchanges is supported, and everything else is refused with the header
//! field that is the reason: 3-D images (a 4-D image with one volume is accepted), integer and
//! floating-point voxel types, little- or big-endian headers, and axis-aligned affines (any sign
//! per axis, no rotation or shear).
//!
//! **Coordinates.** NIfTI world coordinates are RAS (x to the patient's right… left, y anterior),
//! cryoseed's patient frame is DICOM LPS. Writing stores `sform` and `qform` (both code 1,
//! scanner-based) mapping voxel `(i, j, k)` to RAS `(-(ox + i·sx), -(oy + j·sy), oz + k·sz)`, which
//! is how dcm2niix and 3D Slicer write a DICOM-derived image. Reading uses `sform` when its code
//! is non-zero, otherwise `qform`, otherwise refuses the file (a method-1 image has no position).
//! An axis whose step is negative in LPS is flipped so that the grid keeps positive spacing.
//!
//! Reference: NIfTI-1 Data Format, `nifti1.h` (NIfTI DFWG, 2004).

use crate::ImagingError;
use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{Field, Grid, Mask};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use std::io::{Read, Write};
use std::path::Path;

const HEADER_LEN: usize = 348;
/// Voxel data starts after the header and the 4-byte extension flag.
const VOX_OFFSET: usize = 352;

/// NIfTI-1 `datatype` codes that cryoseed reads (`nifti1.h`, `NIFTI_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DataType {
    U8,
    I16,
    I32,
    F32,
    F64,
    I8,
    U16,
    U32,
}

impl DataType {
    fn from_code(code: i16) -> Option<DataType> {
        Some(match code {
            2 => DataType::U8,
            4 => DataType::I16,
            8 => DataType::I32,
            16 => DataType::F32,
            64 => DataType::F64,
            256 => DataType::I8,
            512 => DataType::U16,
            768 => DataType::U32,
            _ => return None,
        })
    }

    fn code(self) -> i16 {
        match self {
            DataType::U8 => 2,
            DataType::I16 => 4,
            DataType::I32 => 8,
            DataType::F32 => 16,
            DataType::F64 => 64,
            DataType::I8 => 256,
            DataType::U16 => 512,
            DataType::U32 => 768,
        }
    }

    fn bytes(self) -> usize {
        match self {
            DataType::U8 | DataType::I8 => 1,
            DataType::I16 | DataType::U16 => 2,
            DataType::I32 | DataType::U32 | DataType::F32 => 4,
            DataType::F64 => 8,
        }
    }
}

/// A decoded NIfTI image: its grid in the LPS patient frame and its voxel values as `f64`,
/// x-fastest, after the header's scaling (`scl_slope`, `scl_inter`).
#[derive(Clone, Debug)]
pub struct NiftiImage {
    /// The grid in cryoseed's convention (positive spacing, LPS).
    pub grid: Grid,
    /// Voxel values, x-fastest, scaled.
    pub values: Vec<f64>,
}

/// Writes a binary mask as an unsigned 8-bit image (1 inside, 0 outside).
pub fn write_mask(path: &Path, mask: &Mask) -> Result<(), ImagingError> {
    let bytes: Vec<u8> = mask.as_slice().iter().map(|&b| u8::from(b)).collect();
    write_image(path, mask.grid(), DataType::U8, &bytes)
}

/// Writes a scalar field as a 32-bit float image (the unit is the caller's: say it in the file
/// name or the accompanying JSON).
pub fn write_field_f32(path: &Path, field: &Field<f32>) -> Result<(), ImagingError> {
    let mut bytes = Vec::with_capacity(field.as_slice().len() * 4);
    for v in field.as_slice() {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    write_image(path, field.grid(), DataType::F32, &bytes)
}

/// Reads a scalar image as a `Field<f32>` (a float32 image, such as a dose grid in Gy written by
/// [`write_field_f32`], round-trips exactly).
pub fn read_field_f32(path: &Path) -> Result<Field<f32>, ImagingError> {
    let image = read_image(path)?;
    let values = image.values.into_iter().map(|v| v as f32).collect();
    Field::from_vec(image.grid, values).map_err(|e| ImagingError::nifti(path, "dim", e.to_string()))
}

/// Reads a mask: every non-zero voxel is inside.
pub fn read_mask(path: &Path) -> Result<Mask, ImagingError> {
    let image = read_image(path)?;
    let data = image.values.iter().map(|&v| v != 0.0).collect();
    Mask::from_vec(image.grid, data).map_err(|e| ImagingError::nifti(path, "dim", e.to_string()))
}

/// Reads any supported image as `f64` values on its grid.
pub fn read_image(path: &Path) -> Result<NiftiImage, ImagingError> {
    let raw = std::fs::read(path).map_err(|e| ImagingError::io(path, e))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| ImagingError::nifti(path, "gzip stream", e.to_string()))?;
        out
    } else {
        raw
    };
    decode(&bytes).map_err(|(field, message)| ImagingError::nifti(path, field, message))
}

fn write_image(path: &Path, grid: &Grid, datatype: DataType, data: &[u8]) -> Result<(), ImagingError> {
    let mut bytes = encode_header(grid, datatype);
    bytes.extend_from_slice(data);
    let is_gz = path.extension().is_some_and(|e| e == "gz");
    let file = std::fs::File::create(path).map_err(|e| ImagingError::io(path, e))?;
    let mut out = std::io::BufWriter::new(file);
    if is_gz {
        // Level 6 is gzip's default: masks are mostly zeros, so this is fast and small.
        let mut gz = GzEncoder::new(&mut out, Compression::new(6));
        gz.write_all(&bytes).map_err(|e| ImagingError::io(path, e))?;
        gz.finish().map_err(|e| ImagingError::io(path, e))?;
    } else {
        out.write_all(&bytes).map_err(|e| ImagingError::io(path, e))?;
    }
    out.flush().map_err(|e| ImagingError::io(path, e))
}

/// Little-endian header writer (the layout of `struct nifti_1_header`).
fn encode_header(grid: &Grid, datatype: DataType) -> Vec<u8> {
    let mut h = vec![0u8; VOX_OFFSET];
    let put_i16 = |h: &mut [u8], at: usize, v: i16| h[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put_i32 = |h: &mut [u8], at: usize, v: i32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut [u8], at: usize, v: f32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let [nx, ny, nz] = grid.dims();
    let [sx, sy, sz] = grid.spacing_mm();
    let [ox, oy, oz] = grid.origin().0;

    put_i32(&mut h, 0, HEADER_LEN as i32); // sizeof_hdr
    h[38] = b'r'; // regular: historical, set by every writer
    // dim[0..8]
    let dims = [3, nx as i16, ny as i16, nz as i16, 1, 1, 1, 1];
    for (n, d) in dims.iter().enumerate() {
        put_i16(&mut h, 40 + 2 * n, *d);
    }
    put_i16(&mut h, 70, datatype.code());
    put_i16(&mut h, 72, (datatype.bytes() * 8) as i16); // bitpix
    // pixdim[0] = qfac = 1; pixdim[1..3] = spacing.
    let pixdim = [1.0, sx as f32, sy as f32, sz as f32, 0.0, 0.0, 0.0, 0.0];
    for (n, p) in pixdim.iter().enumerate() {
        put_f32(&mut h, 76 + 4 * n, *p);
    }
    put_f32(&mut h, 108, VOX_OFFSET as f32); // vox_offset
    put_f32(&mut h, 112, 1.0); // scl_slope
    put_f32(&mut h, 116, 0.0); // scl_inter
    h[123] = 2 | 8; // xyzt_units: NIFTI_UNITS_MM | NIFTI_UNITS_SEC
    let descrip = b"cryoseed";
    h[148..148 + descrip.len()].copy_from_slice(descrip);
    put_i16(&mut h, 252, 1); // qform_code: scanner
    put_i16(&mut h, 254, 1); // sform_code: scanner
    // LPS→RAS flips x and y: a rotation of pi about z, quaternion (0, 0, 0, 1), so b = c = 0, d = 1.
    put_f32(&mut h, 256, 0.0); // quatern_b
    put_f32(&mut h, 260, 0.0); // quatern_c
    put_f32(&mut h, 264, 1.0); // quatern_d
    put_f32(&mut h, 268, -ox as f32); // qoffset_x
    put_f32(&mut h, 272, -oy as f32); // qoffset_y
    put_f32(&mut h, 276, oz as f32); // qoffset_z
    let srow = [[-sx, 0.0, 0.0, -ox], [0.0, -sy, 0.0, -oy], [0.0, 0.0, sz, oz]];
    for (r, row) in srow.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            put_f32(&mut h, 280 + 16 * r + 4 * c, *v as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

type DecodeError = (&'static str, String);

struct Reader<'a> {
    bytes: &'a [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn i16(&self, at: usize) -> i16 {
        let b = [self.bytes[at], self.bytes[at + 1]];
        if self.big_endian { i16::from_be_bytes(b) } else { i16::from_le_bytes(b) }
    }
    fn f32(&self, at: usize) -> f32 {
        let b: [u8; 4] = self.bytes[at..at + 4].try_into().expect("4 bytes");
        if self.big_endian { f32::from_be_bytes(b) } else { f32::from_le_bytes(b) }
    }
}

fn decode(bytes: &[u8]) -> Result<NiftiImage, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(("sizeof_hdr", format!("file has {} bytes, a NIfTI-1 header needs 348", bytes.len())));
    }
    let size_le = i32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let size_be = i32::from_be_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let big_endian = match (size_le, size_be) {
        (348, _) => false,
        (_, 348) => true,
        _ => return Err(("sizeof_hdr", format!("must be 348, got {size_le} (not a NIfTI-1 file)"))),
    };
    let r = Reader { bytes, big_endian };
    let magic = &bytes[344..348];
    if magic != b"n+1\0" {
        return Err((
            "magic",
            format!("must be \"n+1\" (single-file NIfTI-1), got {:?}", String::from_utf8_lossy(magic)),
        ));
    }
    let ndim = r.i16(40);
    let dim: Vec<i16> = (1..8).map(|n| r.i16(40 + 2 * n)).collect();
    if !(1..=7).contains(&ndim) {
        return Err(("dim[0]", format!("must be 1-7, got {ndim}")));
    }
    let extra_volumes: i64 = dim[3..ndim as usize].iter().map(|&d| i64::from(d.max(1))).product();
    if extra_volumes != 1 {
        return Err((
            "dim",
            format!("must describe one 3-D volume, got dim[0]={ndim} dims={:?}", &dim[..ndim as usize]),
        ));
    }
    let mut dims = [1usize; 3];
    for (a, d) in dims.iter_mut().enumerate().take(ndim.min(3) as usize) {
        if dim[a] < 1 {
            return Err(("dim", format!("dim[{}] must be >= 1, got {}", a + 1, dim[a])));
        }
        *d = dim[a] as usize;
    }
    let datatype_code = r.i16(70);
    let datatype = DataType::from_code(datatype_code)
        .ok_or(("datatype", format!("unsupported NIfTI datatype code {datatype_code}")))?;
    let bitpix = r.i16(72);
    if bitpix as usize != datatype.bytes() * 8 {
        return Err(("bitpix", format!("{bitpix} does not match datatype {datatype_code}")));
    }
    let vox_offset = r.f32(108);
    if vox_offset.is_nan() || vox_offset < HEADER_LEN as f32 || vox_offset.fract() != 0.0 {
        return Err(("vox_offset", format!("must be a whole number >= 348, got {vox_offset}")));
    }
    let vox_offset = vox_offset as usize;
    let (affine, spacing_field) = affine(&r)?;
    let units = bytes[123] & 0x07;
    let to_mm = match units {
        0 | 2 => 1.0, // unknown is taken as mm, as every DICOM converter writes mm
        1 => 1000.0,
        3 => 0.001,
        _ => return Err(("xyzt_units", format!("unknown spatial unit code {units}"))),
    };

    // Map the affine to an axis-aligned LPS grid: each voxel axis must move along exactly one
    // patient axis, and that axis must be the same index (no permutation).
    let mut spacing = [0.0f64; 3];
    let mut origin = [0.0f64; 3];
    let mut flip = [false; 3];
    for a in 0..3 {
        for b in 0..3 {
            if a != b && affine[b][a].abs() > 1e-4 * affine[a][a].abs().max(1e-6) {
                return Err((
                    spacing_field,
                    "affine is rotated or sheared; only axis-aligned images are supported".into(),
                ));
            }
        }
        // RAS→LPS negates x and y.
        let sign = if a < 2 { -1.0 } else { 1.0 };
        let step = sign * affine[a][a] * to_mm;
        let start = sign * affine[a][3] * to_mm;
        if step == 0.0 || !step.is_finite() {
            return Err((spacing_field, format!("voxel step along axis {a} must be non-zero, got {step}")));
        }
        flip[a] = step < 0.0;
        spacing[a] = step.abs();
        origin[a] = if flip[a] { start + step * (dims[a] - 1) as f64 } else { start };
    }
    let grid = Grid::new(dims, spacing.map(Mm), PatientPoint(origin)).map_err(|e| ("dim", e.to_string()))?;

    let n = grid.len();
    let need = vox_offset + n * datatype.bytes();
    if bytes.len() < need {
        return Err(("vox_offset", format!("voxel data is truncated: need {need} bytes, file has {}", bytes.len())));
    }
    let data = &bytes[vox_offset..need];
    let slope = r.f32(112);
    let inter = r.f32(116);
    let (slope, inter) =
        if slope == 0.0 || !slope.is_finite() { (1.0, 0.0) } else { (f64::from(slope), f64::from(inter)) };
    let mut values = vec![0.0f64; n];
    for (src, value) in values.iter_mut().enumerate() {
        let at = src * datatype.bytes();
        let raw = read_value(data, at, datatype, big_endian);
        *value = raw * slope + inter;
    }
    if flip.iter().any(|&f| f) {
        values = flip_axes(&values, dims, flip);
    }
    Ok(NiftiImage { grid, values })
}

/// The 3×4 voxel→world (RAS) matrix from `sform` or `qform`, and the header field it came from.
fn affine(r: &Reader<'_>) -> Result<([[f64; 4]; 3], &'static str), DecodeError> {
    let sform_code = r.i16(254);
    let qform_code = r.i16(252);
    if sform_code > 0 {
        let mut m = [[0.0; 4]; 3];
        for (row, m_row) in m.iter_mut().enumerate() {
            for (col, v) in m_row.iter_mut().enumerate() {
                *v = f64::from(r.f32(280 + 16 * row + 4 * col));
            }
        }
        return Ok((m, "srow_x/srow_y/srow_z"));
    }
    if qform_code > 0 {
        let (b, c, d) = (f64::from(r.f32(256)), f64::from(r.f32(260)), f64::from(r.f32(264)));
        let a = (1.0 - (b * b + c * c + d * d)).max(0.0).sqrt();
        let qfac = if r.f32(76) < 0.0 { -1.0 } else { 1.0 };
        let pix = [f64::from(r.f32(80)), f64::from(r.f32(84)), f64::from(r.f32(88)) * qfac];
        // nifti1.h, "Method 2": rotation matrix from the quaternion (a, b, c, d).
        let rot = [
            [a * a + b * b - c * c - d * d, 2.0 * (b * c - a * d), 2.0 * (b * d + a * c)],
            [2.0 * (b * c + a * d), a * a + c * c - b * b - d * d, 2.0 * (c * d - a * b)],
            [2.0 * (b * d - a * c), 2.0 * (c * d + a * b), a * a + d * d - c * c - b * b],
        ];
        let offset = [f64::from(r.f32(268)), f64::from(r.f32(272)), f64::from(r.f32(276))];
        let mut m = [[0.0; 4]; 3];
        for row in 0..3 {
            for col in 0..3 {
                m[row][col] = rot[row][col] * pix[col];
            }
            m[row][3] = offset[row];
        }
        return Ok((m, "quatern_b/quatern_c/quatern_d"));
    }
    Err(("sform_code/qform_code", "both are 0: the image has no patient position".into()))
}

fn read_value(data: &[u8], at: usize, datatype: DataType, big_endian: bool) -> f64 {
    macro_rules! num {
        ($t:ty, $n:literal) => {{
            let b: [u8; $n] = data[at..at + $n].try_into().expect("sized");
            f64::from(if big_endian { <$t>::from_be_bytes(b) } else { <$t>::from_le_bytes(b) })
        }};
    }
    match datatype {
        DataType::U8 => f64::from(data[at]),
        DataType::I8 => f64::from(data[at] as i8),
        DataType::I16 => num!(i16, 2),
        DataType::U16 => num!(u16, 2),
        DataType::I32 => num!(i32, 4),
        DataType::U32 => num!(u32, 4),
        DataType::F32 => num!(f32, 4),
        DataType::F64 => {
            let b: [u8; 8] = data[at..at + 8].try_into().expect("sized");
            if big_endian { f64::from_be_bytes(b) } else { f64::from_le_bytes(b) }
        }
    }
}

fn flip_axes(values: &[f64], [nx, ny, nz]: [usize; 3], flip: [bool; 3]) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    for k in 0..nz {
        let sk = if flip[2] { nz - 1 - k } else { k };
        for j in 0..ny {
            let sj = if flip[1] { ny - 1 - j } else { j };
            for i in 0..nx {
                let si = if flip[0] { nx - 1 - i } else { i };
                out[i + nx * (j + ny * k)] = values[si + nx * (sj + ny * sk)];
            }
        }
    }
    out
}
