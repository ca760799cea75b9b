//! The `cryoseed` binary as a user meets it: exit codes, messages naming file and field, and
//! byte-identical output for the same seed.

mod analysis;
mod cryo;
mod dose;
mod export;
mod import;
mod plan;
mod report_browser;
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

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The patient ids of an endpoints `patients.csv` (first column).
fn doc_patients(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().trim_matches('"').to_owned())
        .collect()
}

#[test]
fn demo_runs_the_trial_into_a_database_byte_for_byte_per_seed() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let demo = |name: &str, patients: &str, extra: &[&str]| {
        let target = out(name);
        let mut args =
            vec!["demo", "--patients", patients, "--seed", "5", "--spacing-mm", "4", "--out", target.as_str()];
        args.extend_from_slice(extra);
        cryoseed(&args)
    };
    let a = demo("a", "3", &[]);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = demo("b", "3", &["--json"]);
    assert!(b.status.success(), "{}", stderr(&b));

    // Every file, the SQLite database included, is the same bytes.
    let files = files_under(&dir.path().join("a"));
    assert_eq!(files, files_under(&dir.path().join("b")));
    for name in [
        "trial.db",
        "demo.json",
        "endpoints/patients.csv",
        "endpoints/time_to_event.csv",
        "endpoints/lesions.csv",
        "endpoints/burden.csv",
        "report/analysis.html",
        "report/analysis.pdf",
        "sdtm/dm.xpt",
        "adam/adtte.xpt",
        "ipd/define.csv",
    ] {
        assert!(files.contains(&std::path::PathBuf::from(name)), "{name} missing: {files:?}");
    }
    for f in &files {
        let (x, y) = (
            std::fs::read(dir.path().join("a").join(f)).unwrap(),
            std::fs::read(dir.path().join("b").join(f)).unwrap(),
        );
        assert!(x == y, "{} differs between two runs with the same seed", f.display());
    }

    // The summary keeps the screening and randomization figures and points at the files.
    let text = stdout(&a);
    for needle in [
        "Screening:",
        "Randomization (stratified permuted blocks",
        "Planning: 3 patients",
        "Audit trail:",
        "intact",
        "trial.db",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    // Progress goes to stderr: off a terminal, one line per tenth of each stage.
    let progress = stderr(&a);
    for needle in ["demo: screening at 3 centres", "demo: planning (real planner, 4 mm grid) 3/3 (100 %)", "records"] {
        assert!(progress.contains(needle), "{needle} missing from the progress lines:\n{progress}");
    }

    // Each planned patient has the planner's record and plan report, linked from an index.
    let index = std::fs::read_to_string(dir.path().join("a/plans/index.html")).unwrap();
    let patients: Vec<String> = doc_patients(&dir.path().join("a/endpoints/patients.csv"));
    assert_eq!(patients.len(), 3);
    for id in &patients {
        assert!(index.contains(&format!("href=\"{id}/report.html\"")), "{id} not linked from plans/index.html");
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(format!("a/plans/{id}/plan.json"))).unwrap())
                .unwrap();
        assert_eq!(plan["format"], "cryoseed-plan");
        assert_eq!(plan["inputs"]["patient_id"], id.as_str());
        let report = std::fs::read_to_string(dir.path().join(format!("a/plans/{id}/report.html"))).unwrap();
        assert!(report.contains(id.as_str()) && report.contains("<svg"), "{id}'s plan report lacks its pictures");
    }
    let doc: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(
        doc,
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(dir.path().join("b/demo.json")).unwrap()).unwrap()
    );
    assert_eq!(doc["randomization"]["randomized"], 3);
    assert_eq!(doc["planning"]["patients"], 3);
    assert_eq!(doc["audit"]["intact"], true);
    assert_eq!(doc["records"]["plan_reviews"], 3, "every patient's plan has its review bundle");
    for key in ["screenings", "randomizations", "plans", "procedures", "reads", "follow_up_updates"] {
        assert!(doc["records"][key].as_u64().unwrap() > 0, "no {key} written");
    }

    // The database's audit chain verifies and its endpoints derive to the demo's CSV files.
    let url = format!("sqlite://{}/trial.db", out("a"));
    let verify = cryoseed(&["audit", "verify", "--db", &url]);
    assert!(verify.status.success(), "{}{}", stdout(&verify), stderr(&verify));
    let again = cryoseed(&["endpoints", "--db", &url, "--out", &out("endpoints")]);
    assert!(again.status.success(), "{}", stderr(&again));
    for name in ["patients.csv", "time_to_event.csv", "lesions.csv", "burden.csv"] {
        let derived = std::fs::read_to_string(dir.path().join("endpoints").join(name)).unwrap();
        assert_eq!(derived, std::fs::read_to_string(dir.path().join("a/endpoints").join(name)).unwrap(), "{name}");
        if name == "patients.csv" {
            assert_eq!(derived.lines().count(), 4, "a header and 3 randomized patients");
        }
    }

    // A non-empty directory is refused; --force replaces an earlier demo's output only.
    let refused = demo("a", "1", &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("not empty"), "{}", stderr(&refused));
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other/keep.txt"), "mine").unwrap();
    let foreign = demo("other", "1", &["--force"]);
    assert_eq!(foreign.status.code(), Some(1));
    assert!(dir.path().join("other/keep.txt").exists());
    let replaced = demo("a", "1", &["--force", "--json"]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("a/demo.json")).unwrap()).unwrap();
    assert_eq!(doc["randomization"]["randomized"], 1);
}
