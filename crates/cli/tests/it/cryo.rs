//! `cryoseed cryo simulate` as a user meets it: outputs, and errors naming file and field.

use crate::{cryoseed, stderr, stdout};
use std::path::Path;

fn write_probes(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

const ONE_PROBE: &str = r#"{
  "format": "cryoseed-probes",
  "version": 1,
  "probes": [{ "class": "2.4mm-argon", "tip_mm": [10.0, -20.0, 35.0], "direction": [0, 0, 1] }]
}"#;

#[test]
fn simulate_writes_min_temperature_isotherm_masks_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let probes = write_probes(dir.path(), "probes.json", ONE_PROBE);
    let out = dir.path().join("ice");
    let run = cryoseed(&[
        "cryo",
        "simulate",
        "--probes",
        &probes,
        "--tissue",
        "liver",
        "--spacing-mm",
        "2",
        "--margin-mm",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("10-8-10 in liver"), "{}", stdout(&run));
    for file in ["min_temperature_c.nii.gz", "iso_0c.nii.gz", "iso_minus20c.nii.gz", "iso_minus40c.nii.gz"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("isotherms.json")).unwrap()).unwrap();
    assert_eq!(doc["format"], "cryoseed-cryo-simulation");
    assert_eq!(doc["tissue"], "liver");
    assert_eq!(doc["freeze_thaw"]["name"], "10-8-10");
    assert_eq!(doc["min_temperature_c"], -150.0);
    assert_eq!(doc["probe_axis"], serde_json::json!([0.0, 0.0, 1.0]));
    let iso = doc["isotherms"].as_array().unwrap();
    let temperatures: Vec<f64> = iso.iter().map(|i| i["temperature_c"].as_f64().unwrap()).collect();
    assert_eq!(temperatures, [0.0, -20.0, -40.0]);
    let volumes: Vec<f64> = iso.iter().map(|i| i["volume_ml"].as_f64().unwrap()).collect();
    assert!(volumes[0] > volumes[1] && volumes[1] > volumes[2] && volumes[2] > 0.0, "{volumes:?}");
    // A single 2.4 mm probe with a 40 mm active segment makes an ice ball longer than it is wide,
    // about 3 cm across after 10-8-10 (probes.csv rows 1-3 give 31 mm in lung).
    let along = iso[0]["extent_along_axis_mm"].as_f64().unwrap();
    let across = iso[0]["extent_across_axis_mm"].as_f64().unwrap();
    assert!(along > across && (25.0..45.0).contains(&across), "along {along} across {across}");
    // The minimum-temperature image reads back on the same grid, with the probe at -150 °C.
    let image = cryoseed_imaging::nifti::read_image(&out.join("min_temperature_c.nii.gz")).unwrap();
    let dims = doc["grid"]["dims"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect::<Vec<_>>();
    assert_eq!(image.grid.dims().to_vec(), dims);
    assert_eq!(image.values.iter().copied().fold(f64::INFINITY, f64::min), -150.0);

    // The same command again refuses the now non-empty directory.
    let again =
        cryoseed(&["cryo", "simulate", "--probes", &probes, "--spacing-mm", "2", "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("is not empty"), "{}", stderr(&again));
}

#[test]
fn bad_probe_files_name_the_file_and_field_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    let out_arg = out.to_str().unwrap().to_owned();
    let check = |name: &str, body: &str, extra: &[&str], want: &str| {
        let probes = write_probes(dir.path(), name, body);
        let mut args = vec!["cryo", "simulate", "--probes", probes.as_str(), "--out", out_arg.as_str()];
        args.extend_from_slice(extra);
        let run = cryoseed(&args);
        assert_eq!(run.status.code(), Some(1), "{name}: {}", stderr(&run));
        assert!(stderr(&run).contains(want), "{name}: {}", stderr(&run));
        assert!(!stderr(&run).contains("panicked"), "{name}");
        assert!(!out.exists(), "{name}: nothing may be written");
    };
    check(
        "unknown.json",
        &ONE_PROBE.replace("2.4mm-argon", "ice-cube"),
        &[],
        "unknown.json: probes[0].class: unknown probe class `ice-cube` (known: 2.4mm-argon, 17g-sphere, 17g-rod)",
    );
    check(
        "overlap.json",
        r#"{"format":"cryoseed-probes","version":1,"probes":[
            {"class":"2.4mm-argon","tip_mm":[0,0,0],"direction":[0,0,1]},
            {"class":"17g-rod","tip_mm":[1,0,0],"direction":[0,0,1]}]}"#,
        &[],
        "overlap.json: probes 0 and 1 overlap",
    );
    check(
        "outside.json",
        r#"{"format":"cryoseed-probes","version":1,
            "grid":{"dims":[20,20,20],"spacing_mm":[1,1,1],"origin_mm":[0,0,0]},
            "probes":[{"class":"2.4mm-argon","tip_mm":[10,10,15],"direction":[0,0,1]}]}"#,
        &[],
        "outside.json: probe 0 (2.4mm-argon): active end at [10.0, 10.0, -25.0] mm is outside the grid",
    );
    check("typo.json", &ONE_PROBE.replace("tip_mm", "tip"), &[], "typo.json: probes[0].tip: unknown field `tip`");
    check("format.json", &ONE_PROBE.replace("cryoseed-probes", "other"), &[], "format.json: format: expected");
    check(
        "direction.json",
        &ONE_PROBE.replace("[0, 0, 1]", "[0, 0, 0]"),
        &[],
        "direction [0.0, 0.0, 0.0] has no length",
    );
    check("lung-only.json", ONE_PROBE, &["--freeze-thaw", "3-7-10", "--tissue", "liver"], "`3-7-10` is for lung only");
    check("unknown-seq.json", ONE_PROBE, &["--freeze-thaw", "5-5-5"], "no sequence `5-5-5` in the protocol");
    check(
        "both-grids.json",
        r#"{"format":"cryoseed-probes","version":1,
            "grid":{"dims":[60,60,60],"spacing_mm":[1,1,1],"origin_mm":[0,0,0]},
            "probes":[{"class":"2.4mm-argon","tip_mm":[30,30,50],"direction":[0,0,1]}]}"#,
        &["--spacing-mm", "2"],
        "--spacing-mm: the probe file gives its own grid",
    );
    check("empty.json", r#"{"format":"cryoseed-probes","version":1,"probes":[]}"#, &[], "probes: the list is empty");
    let usage = cryoseed(&["cryo", "simulate", "--probes", "x.json", "--out", &out_arg, "--tissue", "brain"]);
    assert_eq!(usage.status.code(), Some(2));
}

/// A liver phantom at 2 mm (its well-separated metastasis is GTV_L1).
fn liver_case(dir: &Path) -> String {
    let case = dir.join("case");
    let run = cryoseed(&[
        "phantom",
        "--scenario",
        "liver-small-separated",
        "--out",
        case.to_str().unwrap(),
        "--spacing",
        "2",
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    case.to_str().unwrap().to_owned()
}

#[test]
fn plan_covers_a_liver_metastasis_and_its_probes_feed_back_into_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let case = liver_case(dir.path());
    let out = dir.path().join("plan");
    // Verification on a 2 mm grid keeps the test short (the default is 1 mm).
    let run = cryoseed(&[
        "cryo",
        "plan",
        "--case",
        &case,
        "--target",
        "GTV_L1",
        "--verify-spacing-mm",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.contains("meets every constraint") && text.contains("physics: lethal coverage"), "{text}");
    for file in [
        "probes.json",
        "coverage.json",
        "surrogate_iso_0c.nii.gz",
        "surrogate_iso_minus20c.nii.gz",
        "physics_min_temperature_c.nii.gz",
        "physics_iso_minus20c.nii.gz",
    ] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("coverage.json")).unwrap()).unwrap();
    assert_eq!(doc["format"], "cryoseed-cryo-plan");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["feasible"], true);
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["margin_mm"], 5.0);
    assert!(doc["plan"]["surrogate"]["coverage"].as_f64().unwrap() >= 0.95);
    let oars = doc["plan"]["physics"]["oars"].as_array().unwrap();
    assert!(oars.iter().any(|o| o["name"] == "Bowel"), "{oars:?}");
    assert!(oars.iter().all(|o| o["required_mm"] == 5.0));
    // The probes file is the layout `cryo simulate --probes` reads.
    let sim = dir.path().join("sim");
    let run = cryoseed(&[
        "cryo",
        "simulate",
        "--probes",
        out.join("probes.json").to_str().unwrap(),
        "--tissue",
        "liver",
        "--spacing-mm",
        "3",
        "--margin-mm",
        "25",
        "--out",
        sim.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    // Same inputs, same bytes (without the verification, which is the slow part).
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for o in [&a, &b] {
        let run = cryoseed(&[
            "cryo",
            "plan",
            "--case",
            &case,
            "--target",
            "GTV_L1",
            "--no-verify",
            "--out",
            o.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    for file in ["probes.json", "coverage.json", "surrogate_iso_minus20c.nii.gz"] {
        assert_eq!(std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap(), "{file}");
    }
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("coverage.json")).unwrap()).unwrap();
    assert_eq!(doc["verified"], false);
    assert!(doc["plan"]["physics"].is_null());
}

#[test]
fn plan_errors_name_the_flag_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let case = liver_case(dir.path());
    let out = dir.path().join("plan");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--target", "GTV_L9"], "--target: no structure `GTV_L9`"),
        (&["--target", "GTV_L1", "--class", "nope"], "--class: unknown probe class `nope`"),
        (&["--target", "GTV_L1", "--coverage", "1.5"], "--coverage: must be in (0, 1]"),
        (&["--target", "GTV_L1", "--direction", "0,0"], "--direction: expected three numbers"),
        (&["--target", "GTV_L1", "--class", "17g-rod"], "no calibration for class `17g-rod`"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["cryo", "plan", "--case", &case, "--out", o, "--no-verify"];
        args.extend_from_slice(extra);
        let run = cryoseed(&args);
        assert!(!run.status.success(), "{extra:?} succeeded");
        assert!(stderr(&run).contains(message), "{extra:?}: {}", stderr(&run));
        assert!(!out.exists(), "{extra:?} left {o}");
    }
    let help = cryoseed(&["cryo", "plan", "--help"]);
    let text = stdout(&help);
    for flag in
        ["--case", "--target", "--margin-mm", "--lethal-c", "--coverage", "--no-verify", "--confine-to", "--entry"]
    {
        assert!(text.contains(flag), "--help lacks {flag}");
    }
}
