//! `cryoseed response`: verdicts with reasons, the versioned JSON document, findings, and errors
//! naming the file and the JSON path.

use super::{cryoseed, stderr, stdout};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../response/examples/assessments.json");

#[test]
fn prints_every_verdict_with_its_reasons() {
    let out = cryoseed(&["response", "--input", EXAMPLE]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for expected in [
        "Response assessment: 2 patients (protocol cryoseed-phase2 1.1.0",
        "review: adjudicated by A1: reader R1's assessment accepted",
        "discordant W26 (2026-07-13): LTP disagreement (T1: reader 1 LTP, reader 2 no LTP)",
        "reader R1 — ACCEPTED",
        "target: SD (RECIST 1.1 §4.3.1): sum 90 mm is 28.6 % below baseline 126 mm",
        "overall: RECIST 1.1 Table 1: target SD, non-target non-CR/non-PD, no new lesions → SD",
        "T1 (treated 2026-01-12, bulky index): LTP at W26 (2026-07-13): new nodular/eccentric enhancing tissue",
        "T1: failure: LTP at W26 (2026-07-13), before the 6-month window closed (2026-08-13)",
        "3 months: sum of diameters -23.0 %, bulky volume -29.2 %",
        "zonal response of the bulky lesion: W6: core -6.8 %, margin +1.1 %, non-enhancing 55 %",
        "PD back-dated (RECIST 1.1 §4.3.5): equivocal new lesion NL1 seen here was confirmed",
        "progression (RECIST): W14 (2026-05-11)",
        "W14 (2026-05-11) new lesion NL1 (liver): new lesion, equivocal at W14 and confirmed at W22",
        "Reader agreement (1 patient read by two readers)",
        "disagreement index (share of jointly read time points with a discordance trigger): 0.333",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn json_document_is_versioned_and_deterministic() {
    let a = cryoseed(&["response", "--input", EXAMPLE, "--json"]);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = cryoseed(&["response", "--input", EXAMPLE, "--json"]);
    assert_eq!(a.stdout, b.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    assert_eq!(doc["format"], "cryoseed-response");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["protocol_version"], "1.1.0");
    assert_eq!(doc["protocol_sha256"], cryoseed_core::protocol::Protocol::shipped().hash().to_string());
    assert_eq!(doc["input_sha256"].as_str().unwrap().len(), 64);
    let p1 = &doc["patients"][0];
    assert_eq!(p1["acceptance"], "adjudicated");
    assert_eq!(p1["accepted_reader"], "R1");
    assert_eq!(p1["discordances"][0]["triggers"][0]["trigger"], "ltp_disagreement");
    let r1 = &p1["readers"][0];
    assert_eq!(r1["accepted"], true);
    assert_eq!(r1["time_points"][2]["target"]["sum_mm"], 90.0);
    assert_eq!(r1["best_overall_response"]["response"], "SD");
    assert_eq!(r1["local"][0]["progression"]["zone"], "margin");
    assert_eq!(r1["local_control"][1]["status"], "controlled");
    let p2 = &doc["patients"][1];
    assert_eq!(p2["readers"][0]["time_points"][1]["as_read"], "SD");
    assert_eq!(p2["readers"][0]["time_points"][1]["response"], "PD");
}

#[test]
fn findings_are_printed_and_the_rest_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    let text = std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace("{\"lesion_id\": \"T2\", \"diameter_mm\": 29}", "{\"lesion_id\": \"T2\", \"diameter_mm\": -29}")
        .replace("{\"lesion_id\": \"T3\", \"diameter_mm\": 24}", "{\"lesion_id\": \"T9\", \"diameter_mm\": 24}");
    std::fs::write(&file, text).unwrap();
    let out = cryoseed(&["response", "--input", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("error: reader R1, time point W6 (2026-03-16), lesion T2: diameter -29 mm is negative"),
        "{text}"
    );
    assert!(
        text.contains(
            "error: reader R1, time point W22 (2026-07-06), lesion T9: this lesion was never seen at baseline"
        )
    );
    assert!(text.contains("W6 (2026-03-16): NE"), "{text}");
}

#[test]
fn unreadable_input_names_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    let text =
        std::fs::read_to_string(EXAMPLE).unwrap().replace("\"date\": \"2026-04-20\"", "\"date\": \"20.04.2026\"");
    std::fs::write(&file, text).unwrap();
    let out = cryoseed(&["response", "--input", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("invalid assessments"), "{err}");
    assert!(err.contains("broken.json"), "{err}");
    assert!(err.contains("patients[0].time_points[2].date: expected a date YYYY-MM-DD, got \"20.04.2026\""), "{err}");
    let missing = cryoseed(&["response", "--input", "/nonexistent/a.json"]);
    assert_eq!(missing.status.code(), Some(1));
    let usage = cryoseed(&["response"]);
    assert_eq!(usage.status.code(), Some(2));
    let help = cryoseed(&["response", "--help"]);
    assert!(stdout(&help).contains("--input <FILE>") && stdout(&help).contains("--json"));
}
