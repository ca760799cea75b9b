//! `cryoseed import --dicom`: against the imaging crate's pydicom fixtures.

use crate::{cryoseed, stderr, stdout};
use std::path::PathBuf;

fn dicom_fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../imaging/tests/fixtures/dicom")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn import_writes_a_readable_case_with_ct_and_reports_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("case");
    let o = cryoseed(&["import", "--dicom", &dicom_fixture("hfs"), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("wrote DCM-0001"), "{text}");
    assert!(text.contains("GTV_L1") && text.contains("gtv") && text.contains("267 voxels"), "{text}");
    assert!(text.contains("warning: ROI \"Couch_Top\": no mapping rule matches"), "{text}");
    assert!(text.contains("note: skipped") && text.contains("README.txt"), "{text}");
    let loaded = cryoseed_imaging::read_case(&out).unwrap();
    assert_eq!(loaded.case.structures().len(), 5);
    assert!(cryoseed_imaging::read_ct(&loaded).unwrap().is_some());
    // The CT's frame of reference is kept, so an export registers with the original CT.
    assert!(loaded.frame_of_reference_uid.as_deref().is_some_and(|u| u.starts_with("1.2.")), "{loaded:?}");
    let dicom = dir.path().join("dicom");
    let e = cryoseed(&["export", "--case", out.to_str().unwrap(), "--dicom-out", dicom.to_str().unwrap()]);
    assert!(e.status.success(), "{}", stderr(&e));
    assert!(stdout(&e).contains(loaded.frame_of_reference_uid.as_deref().unwrap()), "{}", stdout(&e));
    assert!(stdout(&e).contains("CT series"), "{}", stdout(&e));
    // The exported package imports again: same structures on the same grid.
    let again = dir.path().join("again");
    let i = cryoseed(&["import", "--dicom", dicom.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert!(i.status.success(), "{}", stderr(&i));
    let back = cryoseed_imaging::read_case(&again).unwrap();
    for s in back.case.structures() {
        let orig = loaded.case.structure(&s.name).unwrap();
        assert_eq!(s.mask.as_slice(), orig.mask.as_slice(), "{}", s.name);
    }
    // The imported case feeds the other commands.
    let f = cryoseed(&["features", "--case", out.to_str().unwrap()]);
    assert!(f.status.success(), "{}", stderr(&f));
}

#[test]
fn import_options_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.toml");
    std::fs::write(&map, "bulky_index = \"L1\"\n[[roi]]\nname = \"Couch*\"\nskip = true\n").unwrap();
    let out = dir.path().join("case");
    let o = cryoseed(&[
        "import",
        "--dicom",
        &dicom_fixture("hfs"),
        "--out",
        out.to_str().unwrap(),
        "--roi-map",
        map.to_str().unwrap(),
        "--patient-id",
        "SITE1-007",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("Couch_Top"), "{}", stdout(&o));
    assert_eq!(cryoseed_imaging::read_case(&out).unwrap().case.patient_id().as_str(), "SITE1-007");

    let two =
        cryoseed(&["import", "--dicom", &dicom_fixture("two_series"), "--out", dir.path().join("x").to_str().unwrap()]);
    assert_eq!(two.status.code(), Some(1));
    assert!(stderr(&two).contains("choose one with --series UID"), "{}", stderr(&two));
    assert!(!dir.path().join("x").exists(), "nothing written on error");

    let bad = cryoseed(&["import", "--dicom", &dicom_fixture("hfs"), "--out", "y", "--patient-id", "a/b"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("--patient-id"), "{}", stderr(&bad));

    let usage = cryoseed(&["import", "--out", "z"]);
    assert_eq!(usage.status.code(), Some(2));
}
