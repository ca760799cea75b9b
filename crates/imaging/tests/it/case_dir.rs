//! Case directories: round trip, and every kind of bad input named by file and key.

use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::{LesionId, Mm, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_imaging::{nifti, read_case, write_case};
use cryoseed_volume::{Grid, Mask};
use std::path::Path;

fn small_case() -> Case {
    let grid = Grid::new([20, 16, 10], [Mm(2.0), Mm(2.0), Mm(3.0)], PatientPoint([-20.0, -16.0, 0.0])).unwrap();
    let ball = |c: [f64; 3], r: f64| Mask::from_fn(grid, move |p| (p - PatientPoint(c)).length().0 <= r);
    let structures = vec![
        Structure {
            name: "External".into(),
            role: StructureRole::Body,
            organ: Organ::Body,
            lesion: None,
            mask: Mask::from_fn(grid, |_| true),
        },
        Structure {
            name: "GTV_L1".into(),
            role: StructureRole::Gtv,
            organ: Organ::Liver,
            lesion: Some(LesionInfo {
                lesion_id: LesionId::parse("L1").unwrap(),
                is_target: true,
                is_bulky_index: false,
            }),
            mask: ball([0.0, 0.0, 12.0], 7.0),
        },
        Structure {
            name: "SpinalCord".into(),
            role: StructureRole::Oar,
            organ: Organ::SpinalCord,
            lesion: None,
            mask: ball([10.0, 8.0, 12.0], 4.0),
        },
    ];
    Case::new(PatientId::parse("TEST-1").unwrap(), grid, structures).unwrap()
}

#[test]
fn case_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case");
    let case = small_case();
    write_case(&out, &case, Some("unit test")).unwrap();
    let back = read_case(&out).unwrap();
    assert_eq!(back.case, case);
    assert_eq!(back.source.as_deref(), Some("unit test"));
    assert!(!dir.path().join(".case.partial").exists(), "staging folder removed");
    // Writing the same case twice gives byte-identical files.
    let again = dir.path().join("again");
    write_case(&again, &case, Some("unit test")).unwrap();
    for file in ["case.json", "masks/02_GTV_L1.nii.gz"] {
        assert_eq!(std::fs::read(out.join(file)).unwrap(), std::fs::read(again.join(file)).unwrap(), "{file}");
    }
}

#[test]
fn refuses_to_overwrite_a_non_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "data").unwrap();
    let err = write_case(dir.path(), &small_case(), None).unwrap_err().to_string();
    assert!(err.contains("already exists and is not empty"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("keep.txt")).unwrap(), "data");
    assert!(!dir.path().join("case.json").exists());
}

/// Writes a good case, lets `edit` damage it, and checks the error names what it should.
fn check(edit: impl FnOnce(&Path), expected: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case");
    write_case(&out, &small_case(), None).unwrap();
    edit(&out);
    let err = read_case(&out).unwrap_err().to_string();
    for part in expected {
        assert!(err.contains(part), "error {err:?} should contain {part:?}");
    }
}

fn edit_json(dir: &Path, from: &str, to: &str) {
    let path = dir.join("case.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "fixture edit {from:?} not found");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn bad_case_json_names_file_and_key() {
    check(
        |d| edit_json(d, "\"role\": \"oar\"", "\"role\": \"organ_at_risk\""),
        &["case.json: structures[2].role: unknown variant `organ_at_risk`"],
    );
    check(
        |d| edit_json(d, "\"version\": 1", "\"version\": 7"),
        &["case.json: version: this cryoseed reads case format version 1, got 7"],
    );
    check(
        |d| edit_json(d, "\"patient_id\": \"TEST-1\"", "\"patient_id\": \"TEST 1\""),
        &["case.json: patient_id: invalid patient id"],
    );
    check(
        |d| edit_json(d, "\"is_target\": true", "\"is_target\": \"yes\""),
        &["case.json: structures[1].lesion.is_target: invalid type"],
    );
    check(
        |d| edit_json(d, "\"structures\": [", "\"structures\": [[["),
        &["case.json: structures[0][0]: invalid type: sequence"],
    );
    check(|d| edit_json(d, "{", "{{"), &["case.json: line 1 column 2"]);
    check(
        |d| edit_json(d, "\"name\": \"SpinalCord\"", "\"name\": \"External\""),
        &["case.json: structure name \"External\" is used twice"],
    );
    check(
        |d| edit_json(d, "\"spacing_mm\": [\n      2.0", "\"spacing_mm\": [\n      -2.0"),
        &["case.json: grid: grid spacing"],
    );
    check(
        |d| edit_json(d, "masks/02_GTV_L1.nii.gz", "../GTV_L1.nii.gz"),
        &["case.json: structures[1].mask: must be a path inside the case directory"],
    );
}

#[test]
fn bad_masks_name_the_mask_file() {
    check(|d| std::fs::remove_file(d.join("masks/03_SpinalCord.nii.gz")).unwrap(), &["03_SpinalCord.nii.gz"]);
    check(
        |d| std::fs::write(d.join("masks/02_GTV_L1.nii.gz"), b"not an image").unwrap(),
        &["02_GTV_L1.nii.gz: NIfTI field sizeof_hdr"],
    );
    check(
        |d| {
            let other =
                Grid::new([20, 16, 11], [Mm(2.0), Mm(2.0), Mm(3.0)], PatientPoint([-20.0, -16.0, 0.0])).unwrap();
            nifti::write_mask(&d.join("masks/02_GTV_L1.nii.gz"), &Mask::empty(other)).unwrap();
        },
        &["02_GTV_L1.nii.gz: mask grid (dims [20, 16, 11]", "differs from case.json grid"],
    );
    check(
        |d| {
            let grid = Grid::new([20, 16, 10], [Mm(2.0), Mm(2.0), Mm(3.0)], PatientPoint([-20.0, -16.0, 0.0])).unwrap();
            nifti::write_mask(&d.join("masks/02_GTV_L1.nii.gz"), &Mask::empty(grid)).unwrap();
        },
        &["case.json: structure \"GTV_L1\": mask is empty"],
    );
}
