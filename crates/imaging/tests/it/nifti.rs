//! NIfTI-1 reader and writer, checked against nibabel 5.4 (fixtures made by
//! `tests/fixtures/make_fixtures.py`; expected grids and voxel values computed by nibabel).

use crate::fixture;
use cryoseed_core::{Mm, PatientPoint};
use cryoseed_imaging::nifti;
use cryoseed_volume::{Field, Grid, Mask};

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap()
}

fn as_f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn reads_nibabel_images_in_the_lps_frame() {
    let expected = expected();
    for name in ["field_lps_like.nii.gz", "mask_ras.nii.gz", "qform_only.nii"] {
        let want = &expected["images"][name];
        let image = nifti::read_image(&fixture(name)).unwrap();
        let dims: Vec<usize> = want["dims"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        assert_eq!(image.grid.dims().to_vec(), dims, "{name}: dims");
        // nibabel stores the affine as f32: 1e-4 mm covers its rounding.
        for (got, want) in image.grid.spacing_mm().iter().zip(as_f64s(&want["spacing_mm"])) {
            assert!((got - want).abs() < 1e-4, "{name}: spacing {got} vs {want}");
        }
        for (got, want) in image.grid.origin().0.iter().zip(as_f64s(&want["origin_mm"])) {
            assert!((got - want).abs() < 1e-4, "{name}: origin {got} vs {want}");
        }
        for probe in want["probes"].as_array().unwrap() {
            let lps = as_f64s(&probe["lps_mm"]);
            let ijk = image.grid.nearest_voxel(PatientPoint([lps[0], lps[1], lps[2]])).unwrap();
            let got = image.values[image.grid.index(ijk)];
            let want = probe["value"].as_f64().unwrap();
            assert!((got - want).abs() < 1e-6, "{name}: value at {lps:?}: {got} vs {want}");
        }
    }
}

#[test]
fn refuses_a_rotated_image_naming_the_affine() {
    let err = nifti::read_image(&fixture("rotated.nii.gz")).unwrap_err().to_string();
    assert!(err.contains("rotated.nii.gz: NIfTI field srow_x/srow_y/srow_z: affine is rotated"), "{err}");
}

#[test]
fn writes_the_same_geometry_header_as_nibabel() {
    // The fixture field_lps_like was written by nibabel for exactly this grid; cryoseed's writer
    // must produce the same orientation fields so that other tools place the image identically.
    let grid = Grid::new([7, 5, 4], [Mm(0.8), Mm(0.8), Mm(2.5)], PatientPoint([-120.4, -95.2, -40.0])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.nii");
    nifti::write_field_f32(&ours, &Field::filled(grid, 0.0f32)).unwrap();
    let ours = std::fs::read(ours).unwrap();
    let theirs = gunzip(&std::fs::read(fixture("field_lps_like.nii.gz")).unwrap());
    let f32_at = |b: &[u8], at: usize| f32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let i16_at = |b: &[u8], at: usize| i16::from_le_bytes(b[at..at + 2].try_into().unwrap());
    for (field, at) in [("dim[1..4]", 42), ("qform_code", 252), ("sform_code", 254)] {
        for n in 0..if at == 42 { 3 } else { 1 } {
            assert_eq!(i16_at(&ours, at + 2 * n), i16_at(&theirs, at + 2 * n), "{field}");
        }
    }
    // pixdim[0..4], quatern_b..qoffset_z, srow_x..srow_z.
    let floats = (76..92).step_by(4).chain((256..280).step_by(4)).chain((280..328).step_by(4));
    for at in floats {
        let (a, b) = (f32_at(&ours, at), f32_at(&theirs, at));
        assert!((a - b).abs() < 1e-5, "header float at byte {at}: ours {a}, nibabel {b}");
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2_read(bytes).read_to_end(&mut out).unwrap();
    out
}

fn flate2_read(bytes: &[u8]) -> impl std::io::Read + '_ {
    flate2::read::GzDecoder::new(bytes)
}

#[test]
fn mask_round_trips_through_gzip_and_plain_files() {
    let grid = Grid::new([9, 7, 5], [Mm(1.1), Mm(0.9), Mm(2.0)], PatientPoint([-3.3, 12.7, -100.0])).unwrap();
    let mask = Mask::from_fn(grid, |p| p.x().0 * p.x().0 + (p.y().0 - 15.0).powi(2) < 12.0);
    assert!(!mask.is_empty());
    let dir = tempfile::tempdir().unwrap();
    for name in ["m.nii.gz", "m.nii"] {
        let path = dir.path().join(name);
        nifti::write_mask(&path, &mask).unwrap();
        let back = nifti::read_mask(&path).unwrap();
        assert_eq!(back.as_slice(), mask.as_slice(), "{name}");
        assert_eq!(back.grid().dims(), grid.dims());
    }
}

#[test]
fn bad_files_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::new([4, 4, 4], [Mm(1.0); 3], PatientPoint([0.0; 3])).unwrap();
    let good = dir.path().join("good.nii");
    nifti::write_mask(&good, &Mask::empty(grid)).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    check(dir.path(), "short.nii", &bytes[..100], "NIfTI field sizeof_hdr: file has 100 bytes");
    check(dir.path(), "truncated.nii", &bytes[..360], "NIfTI field vox_offset: voxel data is truncated");
    let mut magic = bytes.clone();
    magic[344..348].copy_from_slice(b"ni1\0");
    check(dir.path(), "magic.nii", &magic, "NIfTI field magic: must be \"n+1\"");
    let mut dtype = bytes.clone();
    dtype[70..72].copy_from_slice(&1536i16.to_le_bytes());
    check(dir.path(), "dtype.nii", &dtype, "NIfTI field datatype: unsupported NIfTI datatype code 1536");
    let mut four_d = bytes.clone();
    four_d[40..42].copy_from_slice(&4i16.to_le_bytes());
    four_d[48..50].copy_from_slice(&3i16.to_le_bytes());
    check(dir.path(), "4d.nii", &four_d, "NIfTI field dim: must describe one 3-D volume");
    check(dir.path(), "gz.nii.gz", &[0x1f, 0x8b, 1, 2, 3], "NIfTI field gzip stream");
}

fn check(dir: &std::path::Path, name: &str, bytes: &[u8], expected: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = nifti::read_mask(&path).unwrap_err().to_string();
    assert!(err.contains(name) && err.contains(expected), "{name}: got {err:?}, want {expected:?}");
}
