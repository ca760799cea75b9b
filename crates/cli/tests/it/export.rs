//! `cryoseed export --dicom-out`: a phantom, its implant dose and an extra mask as DICOM RT.

use super::{cryoseed, stderr, stdout};
use cryoseed_imaging::dicom::{read_rtdose, read_structure_set};

#[test]
fn export_writes_rt_objects_that_read_back_and_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let o = cryoseed(&["phantom", "--scenario", "bone-met", "--out", &p("case"), "--spacing", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let loaded = cryoseed_imaging::read_case(&dir.path().join("case")).unwrap();
    let (gtv, _) = loaded.case.lesions().next().unwrap();
    let c = {
        let v: Vec<[usize; 3]> = gtv.mask.voxels().collect();
        loaded.case.grid().voxel_centre(v[v.len() / 2]).0
    };
    std::fs::write(
        p("seeds.csv"),
        format!(
            "x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model\n{},{},{},0,0,1,0.5,6711\n{},{},{},,,,0.45,6711\n",
            c[0],
            c[1],
            c[2],
            c[0] + 5.0,
            c[1],
            c[2]
        ),
    )
    .unwrap();
    let o = cryoseed(&["dose", "--case", &p("case"), "--seeds", &p("seeds.csv"), "--out", &p("dose")]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::create_dir(p("extra")).unwrap();
    cryoseed_imaging::nifti::write_mask(&dir.path().join("extra/PTV_L1.nii.gz"), &gtv.mask).unwrap();
    let export = |out: &str| {
        cryoseed(&[
            "export",
            "--case",
            &p("case"),
            "--seeds",
            &p("seeds.csv"),
            "--sk-date",
            "2026-11-28",
            "--dose",
            &p("dose/dose.nii.gz"),
            "--structure-masks",
            &p("extra"),
            "--dicom-out",
            &p(out),
        ])
    };
    let o = export("dicom");
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("RTPLAN (2 seeds)") && text.contains("RTDOSE"), "{text}");
    assert!(text.contains("PTV_L1") && text.contains("PTV"), "{text}");
    assert!(text.contains("note: the case has no CT"), "{text}");

    let rois = read_structure_set(&dir.path().join("dicom/rtstruct.dcm"), loaded.case.grid()).unwrap();
    for s in loaded.case.structures() {
        let r = rois.iter().find(|r| r.name == s.name).unwrap();
        assert_eq!(r.mask.as_slice(), s.mask.as_slice(), "{}", s.name);
    }
    assert_eq!(rois.last().unwrap().interpreted_type.as_deref(), Some("PTV"));
    let dose = cryoseed_imaging::nifti::read_field_f32(&dir.path().join("dose/dose.nii.gz")).unwrap();
    let back = read_rtdose(&dir.path().join("dicom/rtdose.dcm")).unwrap();
    let max = dose.as_slice().iter().copied().fold(0f32, f32::max);
    let worst = dose.as_slice().iter().zip(back.dose.as_slice()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-6 * max, "{worst} of {max}");

    // Same inputs, same bytes.
    let o = export("again");
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["rtstruct.dcm", "rtplan.dcm", "rtdose.dcm"] {
        let a = std::fs::read(dir.path().join("dicom").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("again").join(f)).unwrap();
        assert!(a == b, "{f} differs");
    }
}

#[test]
fn export_refuses_incomplete_or_clashing_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    let o = cryoseed(&["phantom", "--scenario", "bone-met", "--out", &p("case"), "--spacing", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::write(p("seeds.csv"), "x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model\n0,0,0,,,,0.5,6711\n").unwrap();
    let fail = |args: &[&str], want: &str| {
        let o = cryoseed(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    };
    fail(&["export", "--case", &p("case"), "--dose", &p("d.nii.gz"), "--dicom-out", &p("o1")], "--dose: needs --seeds");
    fail(
        &["export", "--case", &p("case"), "--seeds", &p("seeds.csv"), "--dicom-out", &p("o2")],
        "--sk-date: required with --seeds",
    );
    fail(
        &[
            "export",
            "--case",
            &p("case"),
            "--seeds",
            &p("seeds.csv"),
            "--sk-date",
            "28.11.2026",
            "--dicom-out",
            &p("o3"),
        ],
        "--sk-date: \"28.11.2026\" is not a date",
    );
    std::fs::write(p("bad.csv"), "x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model\n0,0,0,,,,-1,6711\n").unwrap();
    fail(
        &["export", "--case", &p("case"), "--seeds", &p("bad.csv"), "--sk-date", "2026-11-28", "--dicom-out", &p("o4")],
        "bad.csv line 2: sk_u",
    );
    std::fs::create_dir(p("full")).unwrap();
    std::fs::write(dir.path().join("full/x"), "x").unwrap();
    fail(&["export", "--case", &p("case"), "--dicom-out", &p("full")], "already exists and is not empty");
    for d in ["o1", "o2", "o3", "o4"] {
        assert!(!dir.path().join(d).exists(), "{d}: nothing written on error");
    }
}
