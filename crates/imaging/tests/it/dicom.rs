//! DICOM import against pydicom-written fixtures (`tests/fixtures/dicom/make_fixtures.py`, which
//! also computes the expected HU and masks independently: vectorised even–odd point-in-polygon in
//! numpy, plus the analytic sphere/annulus the polygons approximate).

use crate::fixture;
use cryoseed_core::{LesionId, Organ, StructureRole};
use cryoseed_imaging::ImagingError;
use cryoseed_imaging::dicom::{DicomImportOptions, RoiMap, glob_match, import_dicom_dir, lesion_id_from_name};
use cryoseed_volume::Mask;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture("dicom/expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn indices(v: &Value) -> BTreeSet<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn mask_indices(m: &Mask) -> BTreeSet<usize> {
    m.as_slice().iter().enumerate().filter(|(_, b)| **b).map(|(n, _)| n).collect()
}

fn dice(a: &BTreeSet<usize>, b: &BTreeSet<usize>) -> f64 {
    2.0 * a.intersection(b).count() as f64 / (a.len() + b.len()) as f64
}

fn import(dir: &str) -> Result<cryoseed_imaging::dicom::DicomImport, ImagingError> {
    import_dicom_dir(&fixture(&format!("dicom/{dir}")), &DicomImportOptions::default())
}

fn error_text(dir: &str, options: &DicomImportOptions) -> String {
    import_dicom_dir(&fixture(&format!("dicom/{dir}")), options).unwrap_err().to_string()
}

#[test]
fn ct_grid_and_hu_match_the_generator() {
    let exp = expected();
    let got = import("hfs").unwrap();
    let grid = got.ct.grid();
    let as_f64s = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>();
    assert_eq!(
        grid.dims().to_vec(),
        exp["dims"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect::<Vec<_>>()
    );
    // Geometry: DS strings written with ≤ 16 characters are exact for these values; 1e-9 mm.
    for (a, b) in grid.spacing_mm().iter().zip(as_f64s(&exp["spacing_mm"])) {
        assert!((a - b).abs() < 1e-9, "spacing {a} vs {b}");
    }
    for (a, b) in grid.origin().0.iter().zip(as_f64s(&exp["origin_mm"])) {
        assert!((a - b).abs() < 1e-9, "origin {a} vs {b}");
    }
    // HU: integers stored with slope 1 → exact in f32.
    let hu = as_f64s(&exp["hu"]);
    assert_eq!(got.ct.as_slice().len(), hu.len());
    let wrong = got.ct.as_slice().iter().zip(&hu).filter(|(a, b)| f64::from(**a) != **b).count();
    assert_eq!(wrong, 0, "voxels with wrong HU");
    assert_eq!(got.series_uid, exp["series_uid"].as_str().unwrap());
    assert_eq!(got.frame_of_reference_uid, exp["frame_of_reference_uid"].as_str().unwrap());
    assert_eq!(got.case.patient_id().as_str(), "DCM-0001");
}

#[test]
fn feet_first_signed_series_gives_the_same_volume() {
    // Same LPS voxels written with x reversed (IOP −1,0,0,0,1,0), signed pixels, slope 0.5.
    let hfs = import("hfs").unwrap();
    let ffs = import("ffs").unwrap();
    assert!(ffs.ct.grid().same_geometry(hfs.ct.grid()));
    assert_eq!(ffs.ct.as_slice(), hfs.ct.as_slice());
}

#[test]
fn rois_match_independent_even_odd_fill() {
    let exp = expected();
    let got = import("hfs").unwrap();
    // ROI → (role, organ) by the default TG-263 rules; Couch_Top is unmapped.
    let roles = [
        ("External", StructureRole::Body, Organ::Body),
        ("GTV_L1", StructureRole::Gtv, Organ::Liver),
        ("Liver", StructureRole::Organ, Organ::Liver),
        ("Bowel_Small", StructureRole::Oar, Organ::Bowel),
        ("SpinalCord", StructureRole::Oar, Organ::SpinalCord),
    ];
    assert_eq!(got.case.structures().len(), roles.len());
    for (name, role, organ) in roles {
        let s = got.case.structures().iter().find(|s| s.name == name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!((s.role, s.organ), (role, organ), "{name}");
        let want = indices(&exp["rois"][name]["indices"]);
        let have = mask_indices(&s.mask);
        // Same voxel-centre even–odd rule in both implementations: exact agreement required.
        assert_eq!(have, want, "{name}: rasterization differs from the numpy crossing-number fill");
        if let Some(analytic) = exp["rois"][name].get("analytic_indices") {
            // Polygon vs the analytic shape it approximates: issue 6 asks Dice ≥ 0.98.
            let d = dice(&have, &indices(analytic));
            assert!(d >= 0.98, "{name}: Dice {d} against the analytic shape");
        }
    }
    let gtv = got.case.structures().iter().find(|s| s.name == "GTV_L1").unwrap();
    let lesion = gtv.lesion.as_ref().unwrap();
    assert_eq!(lesion.lesion_id, LesionId::parse("L1").unwrap());
    assert!(lesion.is_target && !lesion.is_bulky_index);
    let warnings = got.warnings.join("\n");
    assert!(warnings.contains("\"Couch_Top\": no mapping rule matches"), "{warnings}");
    assert!(warnings.contains("\"GTV_L1\": organ not given by the ROI map; set to liver"), "{warnings}");
    assert!(warnings.contains("no bulky index lesion designated"), "{warnings}");
    let notes = got.notes.join("\n");
    assert!(notes.contains("README.txt: not a DICOM file"), "{notes}");
}

#[test]
fn roi_map_file_assigns_organs_lesions_and_skips() {
    let text = r#"
targets = ["M1"]
bulky_index = "M1"
[[roi]]
name = "GTV_L1"
role = "gtv"
organ = "liver"
lesion_id = "M1"
[[roi]]
name = "couch*"
skip = true
"#;
    let map = RoiMap::from_toml(text, Path::new("map.toml")).unwrap();
    let options = DicomImportOptions { roi_map: map, ..Default::default() };
    let got = import_dicom_dir(&fixture("dicom/hfs"), &options).unwrap();
    let gtv = got.case.structures().iter().find(|s| s.name == "GTV_L1").unwrap();
    let lesion = gtv.lesion.as_ref().unwrap();
    assert_eq!(lesion.lesion_id.as_str(), "M1");
    assert!(lesion.is_target && lesion.is_bulky_index);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn bad_roi_map_files_name_the_rule() {
    let check = |text: &str, want: &str| {
        let err = RoiMap::from_toml(text, Path::new("map.toml")).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    };
    check("[[roi]]\nname = \"X\"\nrole = \"oar\"\n", "roi[0] (\"X\"): needs organ");
    check("[[roi]]\nname = \"X\"\n", "roi[0] (\"X\"): needs role");
    check("[[roi]]\nname = \"X\"\nrole = \"oar\"\norgan = \"liver\"\nlesion_id = \"L1\"\n", "lesion_id is only for");
    check("[[roi]]\nname = \"X\"\nrole = \"tumour\"\n", "map.toml: line 3");
}

#[test]
fn names_and_patterns() {
    for (pattern, name, want) in [
        ("GTV*", "gtv_l2", true),
        ("Bowel*", "Bowel_Large", true),
        ("Kidney_*", "Kidney_L", true),
        ("Kidney_*", "Kidneys", false),
        ("Lung_?", "Lung_R", true),
        ("A_Aorta*", "A_Aorta", true),
        ("External", "External_2", false),
    ] {
        assert_eq!(glob_match(pattern, name), want, "{pattern} vs {name}");
    }
    for (name, want) in [("GTV_L1", "L1"), ("GTV2", "L2"), ("GTV", "L1"), ("gtv-Liver3", "Liver3")] {
        assert_eq!(lesion_id_from_name(name).unwrap().as_str(), want, "{name}");
    }
    assert!(lesion_id_from_name("GTV_a/b").is_err());
}

#[test]
fn bad_series_are_refused_with_tag_and_positions() {
    let default = DicomImportOptions::default();
    let oblique = error_text("oblique", &default);
    assert!(oblique.contains("(0020,0037) ImageOrientationPatient") && oblique.contains("oblique"), "{oblique}");
    let missing = error_text("missing_slice", &default);
    // slice 5 (z = -1.5) missing: gap 6 mm between z = -4.5 and z = 1.5
    assert!(missing.contains("gap of 6.000 mm between slices at z = -4.5 mm and z = 1.5 mm"), "{missing}");
    let mismatch = error_text("for_mismatch", &default);
    assert!(mismatch.contains("(0020,0052) FrameOfReferenceUID") && mismatch.contains("rtstruct.dcm"), "{mismatch}");
    let two = error_text("two_series", &default);
    assert!(two.contains("2 CT series found, choose one with --series UID"), "{two}");
    let exp = expected();
    let b = exp["series_b_uid"].as_str().unwrap();
    let chosen = import_dicom_dir(
        &fixture("dicom/two_series"),
        &DicomImportOptions { series_uid: Some(b.into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(chosen.series_uid, b);
    assert_eq!(chosen.ct.grid().dims(), [32, 32, 4]);
    assert!(chosen.notes.iter().any(|n| n.contains("other CT series not imported")));
    let unknown =
        error_text("two_series", &DicomImportOptions { series_uid: Some("1.2.3".into()), ..Default::default() });
    assert!(unknown.contains("no CT series with Series Instance UID 1.2.3"), "{unknown}");
}

#[test]
fn truncated_and_garbage_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("dicom/hfs");
    let one = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "dcm"))
        .unwrap();
    let bytes = std::fs::read(&one).unwrap();
    // Every truncation point in the header and some in the pixel data: an error, never a panic.
    for cut in (132..bytes.len()).step_by(37) {
        let path = dir.path().join("cut.dcm");
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let result = import_dicom_dir(dir.path(), &DicomImportOptions::default());
        let err = result.expect_err("a truncated file cannot import");
        assert!(err.to_string().contains("cut.dcm") || err.to_string().contains("single slice"), "{err}");
    }
}

#[test]
fn imported_case_and_ct_round_trip_through_a_case_directory() {
    let got = import("hfs").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case");
    cryoseed_imaging::write_case_with_ct(&out, &got.case, Some("DICOM"), Some(&got.ct)).unwrap();
    let text = std::fs::read_to_string(out.join("case.json")).unwrap();
    assert!(text.contains("\"ct\": \"ct.nii.gz\""), "{text}");
    let loaded = cryoseed_imaging::read_case(&out).unwrap();
    assert_eq!(loaded.case, got.case);
    let ct = cryoseed_imaging::read_ct(&loaded).unwrap().unwrap();
    // float32 NIfTI: HU integers are exact.
    assert_eq!(ct.as_slice(), got.ct.as_slice());
    // A case written without CT declares none.
    let plain = dir.path().join("plain");
    cryoseed_imaging::write_case(&plain, &got.case, None).unwrap();
    assert!(cryoseed_imaging::read_case(&plain).unwrap().ct_path.is_none());
}

#[test]
fn contours_between_slices_go_to_the_nearest_slice_or_are_refused() {
    let exp = expected();
    // 1.2 mm off 3 mm slices: nearest slice, same voxels as on-slice contours, and a warning.
    let got = import("between_slices").unwrap();
    let cord = got.case.structures().iter().find(|s| s.name == "SpinalCord").unwrap();
    assert_eq!(mask_indices(&cord.mask), indices(&exp["rois"]["SpinalCord"]["indices"]));
    let warnings = got.warnings.join("\n");
    assert!(warnings.contains("12 contours lie between CT slices") && warnings.contains("1.20 mm"), "{warnings}");
    // 1.6 mm off: the top contour is more than half a slice beyond the last CT slice.
    let outside = error_text("outside", &DicomImportOptions::default());
    assert!(
        outside.contains("(3006,0050) ContourData")
            && outside.contains("z = 18.1 mm is 1.60 mm from the nearest CT slice (z = 16.5 mm)"),
        "{outside}"
    );
    let wrong = error_text("wrong_series", &DicomImportOptions::default());
    assert!(wrong.contains("no RT Structure Set references CT series") && wrong.contains("(3006,0014)"), "{wrong}");
}

#[test]
fn nested_folders_are_scanned_and_a_ct_alone_imports() {
    // CT slices in one sub-folder, the structure set two levels down in another.
    let dir = tempfile::tempdir().unwrap();
    let (ct_dir, rs_dir) = (dir.path().join("CT"), dir.path().join("RS/export"));
    std::fs::create_dir_all(&ct_dir).unwrap();
    std::fs::create_dir_all(&rs_dir).unwrap();
    for entry in std::fs::read_dir(fixture("dicom/hfs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let target = if name == "rtstruct.dcm" { rs_dir.join(name) } else { ct_dir.join(name) };
        std::fs::copy(&path, target).unwrap();
    }
    let nested = import_dicom_dir(dir.path(), &DicomImportOptions::default()).unwrap();
    let flat = import("hfs").unwrap();
    assert_eq!(nested.case, flat.case);
    assert_eq!(nested.rtstruct.unwrap().file_name().unwrap(), "rtstruct.dcm");
    // No structure set: the case carries the CT only, and says so.
    let ct_only = import("ffs").unwrap();
    assert!(ct_only.case.structures().is_empty());
    assert!(ct_only.warnings.iter().any(|w| w.contains("no RT Structure Set found")), "{:?}", ct_only.warnings);
}

#[test]
fn truncated_structure_sets_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(fixture("dicom/hfs")).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() != "rtstruct.dcm" {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let bytes = std::fs::read(fixture("dicom/hfs/rtstruct.dcm")).unwrap();
    let step = (bytes.len() - 132) / 40;
    for cut in (132..bytes.len()).step_by(step) {
        std::fs::write(dir.path().join("rtstruct.dcm"), &bytes[..cut]).unwrap();
        // Every cut point tested falls inside an element or item, so each must be refused.
        match import_dicom_dir(dir.path(), &DicomImportOptions::default()) {
            Err(e) => assert!(e.to_string().contains("rtstruct.dcm"), "cut at {cut}: {e}"),
            Ok(got) => panic!("cut at {cut}: imported {} ROIs from a truncated file", got.rois.len()),
        }
    }
}

/// The fuzzing finding kept in `fuzz/regressions/` (see its README): a 2 kB bare data set whose
/// element declares a value far past the end of the file. dicom-rs alone reserved the declared
/// length (about 2 GB) before failing; the structural pre-check refuses it first, naming the tag.
#[test]
fn a_declared_length_past_the_end_of_the_file_is_refused_before_reading() {
    // The fuzzing findings (fuzz/regressions/README.md): each cost about 1–2 GB of memory before
    // the pre-check; now each is an error naming the file and the tag at fault.
    for (finding, expected) in [
        ("oom-bare-dataset-declared-length.dcm", "bytes of the file remain"),
        ("oom-item-outside-sequence.dcm", "outside the sequence or item it belongs to"),
        ("oom-binary-value-out-of-step.dcm", "not a whole number of 4-byte values"),
        ("oom-implicit-group-length-of-fffe.dcm", "not a whole number of 4-byte values"),
        ("oom-meta-group-length.dcm", "bytes of the file remain"),
    ] {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(finding);
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&source, dir.path().join("finding.dcm")).unwrap();
        let err = import_dicom_dir(dir.path(), &DicomImportOptions::default()).unwrap_err();
        let ImagingError::DicomTag { path, tag, message } = &err else {
            panic!("{finding}: expected a tag error, got {err}")
        };
        assert!(path.ends_with("finding.dcm"), "{finding}: {err}");
        assert!(tag.starts_with('('), "{finding}: {err}");
        assert!(message.contains(expected), "{finding}: {err}");
    }

    // The same lie inside a Part 10 file: a CT slice whose Pixel Data declares 2 GB more.
    let pixel_data = [0xE0, 0x7F, 0x10, 0x00, b'O', b'W'];
    let (mut bytes, at) = std::fs::read_dir(fixture("dicom/hfs"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .find_map(|b| b.windows(6).rposition(|w| w == pixel_data).map(|at| (b, at)))
        .expect("a CT slice with explicit VR pixel data");
    bytes[at + 8..at + 12].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("slice.dcm"), &bytes).unwrap();
    let err = import_dicom_dir(dir.path(), &DicomImportOptions::default()).unwrap_err();
    assert!(err.to_string().contains("(7FE0,0010) PixelData"), "{err}");
    assert!(err.to_string().contains("2147483648 bytes"), "{err}");
}
