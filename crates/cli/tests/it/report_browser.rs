//! The demo's analysis report opens in Chromium without errors: `cryoseed demo` on a small
//! seeded trial, then `crates/server/tests/browser/report.js` (Playwright with Debian's Chromium)
//! opens `report/analysis.html` from disk, fails on any JavaScript or console error, on any
//! request (the report is self-contained) and on a figure that is not drawn, and saves a
//! screenshot of each section to `$CARGO_TARGET_DIR/report-artifacts` (else
//! `target/report-artifacts`).
//!
//! Runs only with `CRYOSEED_TEST_BROWSER=1` (it needs `chromium` and `npm ci` in
//! `crates/server/tests/browser`).
#![allow(clippy::print_stderr, reason = "says when the test was skipped and what the browser saw")]

use crate::{cryoseed, stderr};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    target.join("report-artifacts")
}

#[test]
fn demo_report_opens_in_chromium_and_every_section_is_drawn() {
    if std::env::var("CRYOSEED_TEST_BROWSER").as_deref() != Ok("1") {
        eprintln!(
            "report browser check skipped: set CRYOSEED_TEST_BROWSER=1 (needs /usr/bin/chromium and `npm ci` in crates/server/tests/browser)"
        );
        return;
    }
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/browser");
    assert!(
        harness.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in {} first (CRYOSEED_TEST_BROWSER=1 is set)",
        harness.display()
    );
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("demo");
    let o = cryoseed(&["demo", "--patients", "12", "--seed", "3", "--spacing-mm", "4", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    let shots = artifacts_dir();
    if shots.exists() {
        std::fs::remove_dir_all(&shots).unwrap();
    }
    let output = std::process::Command::new("node")
        .arg(harness.join("report.js"))
        .arg(out.join("report/analysis.html"))
        .arg(&shots)
        .current_dir(&harness)
        .output()
        .expect("run node (is Node.js installed?)");
    eprintln!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the report check failed ({})", output.status);

    let index: Value = serde_json::from_str(&std::fs::read_to_string(shots.join("index.json")).unwrap()).unwrap();
    let sections = index["sections"].as_array().unwrap();
    let headings: Vec<&str> = sections.iter().filter_map(|s| s["heading"].as_str()).collect();
    for expected in
        ["CONSORT", "LPFS", "Overall survival", "Safety", "Tumour burden", "Patient courses", "Reader concordance"]
    {
        assert!(headings.iter().any(|h| h.contains(expected)), "no section on {expected}: {headings:?}");
    }
    let figures: usize = sections.iter().map(|s| s["figures"].as_array().map_or(0, Vec::len)).sum();
    assert!(figures >= 10, "only {figures} figures drawn");
    for s in sections {
        let file = shots.join(s["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 2_000, "{} is not a screenshot", file.display());
    }
}
