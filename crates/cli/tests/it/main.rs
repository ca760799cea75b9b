//! The `cryoseed` binary as a user meets it: exit codes, messages naming file and field, and
//! byte-identical output for the same seed.

mod cryo;
mod dose;
mod export;
mod import;
mod plan;
mod response;
mod serve;
mod stats;
mod store;
mod trial;

use std::path::Path;
use std::process::{Command, Output};

fn cryoseed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cryoseed")).args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn software_version_matches_the_package() {
    assert_eq!(cryoseed_core::SOFTWARE_VERSION, env!("CARGO_PKG_VERSION"));
}

#[test]
fn protocol_check_and_show() {
    let ok = cryoseed(&["protocol", "check"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let hash = cryoseed_core::protocol::Protocol::shipped().hash().to_string();
    assert!(stdout(&ok).contains(&hash), "{}", stdout(&ok));

    let show = cryoseed(&["protocol", "show"]);
    assert!(show.status.success());
    // What `show` prints is itself a valid protocol with the same identity.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shown.toml");
    std::fs::write(&file, stdout(&show)).unwrap();
    let again = cryoseed(&["protocol", "check", file.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains(&hash));
}

#[test]
fn a_bad_protocol_names_file_and_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let text = cryoseed_core::protocol::Protocol::default_toml()
        .replace("core_depth_mm = 10.0", "core_depth_mm = -5.0")
        .replace("max_inr = 1.5", "max_inr = -1.0");
    std::fs::write(&file, text).unwrap();
    let out = cryoseed(&["protocol", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("bad.toml: zoning.core_depth_mm: must be > 0, got -5"), "{err}");
    assert!(err.contains("bad.toml: eligibility.labs.max_inr"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The global --protocol flag reaches every command.
    let demo = cryoseed(&["demo", "--patients", "3", "--protocol", file.to_str().unwrap()]);
    assert_eq!(demo.status.code(), Some(1));
    assert!(stderr(&demo).contains("zoning.core_depth_mm"));
    let missing = cryoseed(&["protocol", "check", "/nonexistent/p.toml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/nonexistent/p.toml"));
}

#[test]
fn phantom_list_write_and_features() {
    let list = cryoseed(&["phantom", "--list"]);
    assert!(list.status.success());
    for name in ["pelvic-bulky-bowel", "paraspinal-bulky-cord", "lung-small-aorta", "liver-small-separated", "bone-met"]
    {
        assert!(stdout(&list).contains(name), "{name} missing from --list");
    }
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let case_arg = case.to_str().unwrap();
    let out = cryoseed(&["phantom", "--scenario", "liver-small-separated", "--out", case_arg, "--spacing", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(case.join("case.json").exists());

    let table = cryoseed(&["features", "--case", case_arg]);
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(stdout(&table).contains("L1"), "{}", stdout(&table));

    let json = cryoseed(&["features", "--case", case_arg, "--json"]);
    assert!(json.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["format"], "cryoseed-features");
    assert_eq!(doc["version"], 1);
    let lesions = doc["lesions"].as_array().unwrap();
    assert!(!lesions.is_empty());
    for key in [
        "longest_axial_diameter_mm",
        "short_axis_mm",
        "volume_ml",
        "organ",
        "oars",
        "nearest_large_vessel",
        "is_measurable",
        "is_bulky",
    ] {
        assert!(lesions[0].get(key).is_some(), "features JSON lacks {key}");
    }

    // Writing over a non-empty folder is refused and leaves it alone.
    let again = cryoseed(&["phantom", "--scenario", "bone-met", "--out", case_arg]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already exists and is not empty"));
}

#[test]
fn bad_flags_and_bad_cases_are_clear_errors() {
    let unknown = cryoseed(&["phantom", "--scenario", "kidney", "--out", "/tmp/never-written"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("--scenario: unknown scenario \"kidney\""), "{}", stderr(&unknown));
    assert!(!Path::new("/tmp/never-written").exists());
    let spacing = cryoseed(&["phantom", "--scenario", "bone-met", "--out", "/tmp/never-written", "--spacing", "1,2"]);
    assert_eq!(spacing.status.code(), Some(1));
    assert!(stderr(&spacing).contains("--spacing"));
    let usage = cryoseed(&["features"]);
    assert_eq!(usage.status.code(), Some(2), "usage errors exit 2");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("case.json"), "{\"format\": \"cryoseed-case\", \"version\": 1}").unwrap();
    let out = cryoseed(&["features", "--case", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("case.json: top level: missing field `patient_id`"), "{}", stderr(&out));
}

#[test]
fn demo_is_deterministic_per_seed() {
    let a = cryoseed(&["demo", "--patients", "40", "--seed", "5", "--json"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = cryoseed(&["demo", "--patients", "40", "--seed", "5", "--json"]);
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    let c = cryoseed(&["demo", "--patients", "40", "--seed", "6", "--json"]);
    assert_ne!(a.stdout, c.stdout, "another seed, another cohort");
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(doc["screening"]["screened"], 40);
    // Every eligible patient is randomized, and permuted blocks of 2 and 4 keep each stratum
    // within 2 of balance (half the largest block).
    assert_eq!(doc["randomization"]["randomized"], doc["screening"]["eligible"]);
    for (stratum, counts) in doc["randomization"]["by_stratum"].as_object().unwrap() {
        let (e, c) = (counts[0].as_i64().unwrap(), counts[1].as_i64().unwrap());
        assert!((e - c).abs() <= 2, "{stratum}: {e} vs {c}");
    }
    let text = cryoseed(&["demo", "--patients", "40", "--seed", "5"]);
    assert!(stdout(&text).contains("Screening: 40 patients"), "{}", stdout(&text));
}
