//! The analysis report as PDF (issue 11): the same content as the HTML report on A4 pages, the
//! protocol, software version, snapshot hash and page number on every page, byte-identical for
//! the same snapshot; read back by pypdf (an independent implementation) under
//! `CRYOSEED_TEST_PYTHON=1`.

use super::trial::trial;
use cryoseed_report::{AnalysisReport, analysis_html, analysis_report};
use serde_json::Value;

/// Page count from the page objects (`/Type /Page ` with the space: not the `/Pages` tree).
fn page_count(pdf: &[u8]) -> usize {
    String::from_utf8_lossy(pdf).matches("/Type /Page ").count()
}

fn report() -> AnalysisReport {
    analysis_report(&trial().input(), "9.9.9")
}

#[test]
fn analysis_pdf_is_deterministic_and_shows_its_provenance_on_every_page() {
    let r = report();
    assert_eq!(r.pdf, report().pdf, "same snapshot, same bytes");
    assert_eq!(r.html, analysis_html(&trial().input(), "9.9.9").0, "the HTML is the report's HTML");
    let text = String::from_utf8_lossy(&r.pdf);
    let pages = page_count(&r.pdf);
    assert!(pages > 3, "{pages} pages");
    // The running head and foot on every page: each page object is followed by its content.
    let hash = &r.summary.snapshot_sha256;
    let per_page: Vec<&str> = text.split("/Type /Page ").skip(1).collect();
    assert_eq!(per_page.len(), pages);
    for (i, content) in per_page.iter().enumerate() {
        for needle in [
            format!("(data snapshot SHA-256 {hash}) Tj"),
            "(cryoseed 9.9.9) Tj".to_owned(),
            // The em dash is WinAnsi code 227 (octal).
            format!("(Analysis report \\227 protocol {}) Tj", r.summary.protocol),
            format!("(page {} of {pages}) Tj", i + 1),
        ] {
            assert!(content.contains(&needle), "page {}: {needle}", i + 1);
        }
    }
    // Every figure of the HTML is painted, each clipped to its own box.
    let figures = r.html.matches("<svg").count();
    assert!(figures >= 8, "{figures} figures");
    assert_eq!(text.matches("W n\n").count(), figures);
    // No date and no random identifier: the /ID comes from the content.
    assert!(!text.contains("/CreationDate") && !text.contains("/ModDate"));
}

#[test]
#[allow(clippy::print_stderr)] // the skip notice
fn pypdf_reads_every_page_with_the_provenance_and_the_reports_numbers() {
    if std::env::var("CRYOSEED_TEST_PYTHON").as_deref() != Ok("1") {
        eprintln!("skipped: set CRYOSEED_TEST_PYTHON=1 (needs python3 with pypdf)");
        return;
    }
    let r = report();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("analysis.pdf");
    std::fs::write(&path, &r.pdf).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/read_pdf.py");
    let out = std::process::Command::new("python3").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pages = v["pages"].as_array().unwrap();
    assert_eq!(pages.len(), page_count(&r.pdf));
    assert!(pages.len() > 1);
    assert_eq!(v["producer"], "cryoseed 9.9.9");
    assert!(v["title"].as_str().unwrap().starts_with("Analysis report — "), "the title keeps its em dash");
    let mut all = String::new();
    for (i, p) in pages.iter().enumerate() {
        // A4 in points.
        assert!(
            (p["width"].as_f64().unwrap() - 595.276).abs() < 0.01
                && (p["height"].as_f64().unwrap() - 841.89).abs() < 0.01
        );
        let t = p["text"].as_str().unwrap();
        assert!(t.contains(&r.summary.snapshot_sha256), "page {}: hash", i + 1);
        assert!(t.contains("cryoseed 9.9.9"), "page {}: software version", i + 1);
        assert!(t.contains(&r.summary.protocol), "page {}: protocol", i + 1);
        assert!(t.contains(&format!("page {} of {}", i + 1, pages.len())), "page {}: number", i + 1);
        all.push_str(t);
        all.push(' ');
    }
    // Cells may wrap: compare with whitespace collapsed.
    let all = all.split_whitespace().collect::<Vec<_>>().join(" ");
    // The primary endpoint per arm as the HTML prints it: lesions, estimate and CI.
    for lcr in &r.summary.lcr {
        for (arm, controlled, n, patients, ci) in &lcr.arms {
            let counts = format!("{controlled}/{n} lesions ({patients} patients)");
            assert!(all.contains(&counts), "{arm}: {counts}");
            if *n > 0 {
                let estimate = format!("{:.1} %", 100.0 * *controlled as f64 / *n as f64);
                assert!(all.contains(&estimate), "{arm}: {estimate}");
                assert!(r.html.contains(&estimate));
            }
            if let Some([lo, hi]) = ci {
                let ci = format!("{:.1} % to {:.1} %", 100.0 * lo, 100.0 * hi);
                assert!(all.contains(&ci), "{arm}: {ci}");
            }
        }
    }
    // Section headings and figure titles (text inside the vector figures) are there too.
    for needle in [
        "Participant flow (CONSORT)",
        "Primary endpoint: local control rate at 6 months",
        "Reader concordance",
        "Number at risk",
        "post-implant D90 (Gy)",
        "Contents",
    ] {
        assert!(all.contains(needle), "{needle}");
    }
}
