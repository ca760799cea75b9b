//! The statistician's dashboard and exports on both backends (issue 10): the dashboard's numbers
//! are the analysis report's (`analysis.json` as `cryoseed report` writes it for the same
//! database), the downloads hold the files `cryoseed export --db` writes, every view and download
//! is audited, and bad export options are 422s naming the field.

use crate::common::{Client, Engine};
use crate::on_both;
use axum::http::StatusCode;
use cryoseed_core::protocol::Protocol;
use cryoseed_report::{TrialInput, bundle};
use cryoseed_server::statistics::SOFTWARE_VERSION;
use cryoseed_server::zip::unzip;
use serde_json::{Value, json};

on_both!(dashboard_numbers_are_the_reports_and_exports_are_audited);

async fn actions(store: &cryoseed_store::Store, action: &str) -> usize {
    store.audit_log(None, 0, 100_000).await.unwrap().iter().filter(|e| e.action == action).count()
}

async fn dashboard_numbers_are_the_reports_and_exports_are_audited(engine: &Engine) {
    let (store, _) = engine.demo().await;
    let app = crate::common::router(&store);
    let stat = Client::login(&app, "stat1").await;

    // What `cryoseed report` and `cryoseed export --db` compute from this database.
    let protocol = Protocol::shipped();
    let doc = store.snapshot().await.unwrap();
    let (datasets, assessments) = store.analysis(&protocol).await.unwrap();
    let input = TrialInput { doc: &doc, datasets: &datasets, assessments: &assessments, protocol: &protocol };
    let (report, summary) = bundle::report_files(&input, SOFTWARE_VERSION);
    let names: Vec<&str> = report.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["analysis.html", "analysis.pdf", "analysis.json"]);
    let analysis_json: Value = serde_json::from_slice(&report[2].1).unwrap();

    // The dashboard's numbers are the report's, every one of them; the view is audited.
    let views = actions(&store, "view").await;
    let r = stat.get("/api/statistics").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = r.json();
    assert_eq!(d["analysis"], analysis_json);
    assert_eq!(actions(&store, "view").await, views + 1, "the dashboard's read is audited");
    let randomized: usize = summary.randomized.iter().map(|(_, n)| n).sum();
    assert_eq!(d["consort"]["randomized"], randomized);
    assert_eq!(d["consort"]["screened"], summary.screened);
    let arms: u64 = d["consort"]["arms"].as_array().unwrap().iter().map(|a| a["allocated"].as_u64().unwrap()).sum();
    assert_eq!(arms as usize, randomized);
    // Enrolment by site: the last month's cumulative counts are every randomization, by site.
    let months = d["enrolment"]["months"].as_array().unwrap();
    let last = &months.last().unwrap()["randomized_cumulative"];
    for site in ["SITE-01", "SITE-02"] {
        let expected = doc
            .allocations
            .iter()
            .filter(|a| doc.patients.iter().any(|p| p.patient_id == a.patient_id && p.site_id == site))
            .count();
        assert_eq!(last[site], expected, "{site}");
    }
    let screened: u64 =
        months.iter().flat_map(|m| m["screened"].as_object().unwrap().values()).map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(screened as usize, doc.patients.len());

    // The screen: enrolment chart, CONSORT diagram, a Kaplan–Meier figure per endpoint with data,
    // the endpoint tables, in the user's language, the read audited.
    let page = stat.get("/statistics").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.text.matches("<svg").count(),
        2 + summary.time_to_event.iter().filter(|t| !t.arms.is_empty()).count()
    );
    assert!(page.text.contains(&format!("Randomized (n = {randomized})")), "the CONSORT diagram's counts");
    for t in &summary.time_to_event {
        for a in &t.arms {
            assert!(page.text.contains(&format!("(n={}, events={})", a.n, a.events)), "{} {}", t.endpoint, a.arm);
        }
    }
    assert_eq!(actions(&store, "view").await, views + 2);
    assert_eq!(stat.get("/").await.headers["location"], "/statistics", "the statistician's first screen");

    // Exports: the same files as the command line, zipped; each download audited.
    let exports = actions(&store, "export").await;
    let expected = [
        ("sdtm", bundle::sdtm_files(&input).unwrap()),
        ("adam", bundle::adam_files(&input).unwrap()),
        ("ipd", bundle::ipd_files(&input, 20261207)),
        ("report", report.clone()),
    ];
    for (i, (dataset, files)) in expected.iter().enumerate() {
        let body = if *dataset == "ipd" { json!({"ipd_seed": "20261207"}) } else { json!({}) };
        let (status, headers, bytes) = download(&stat, dataset, &body).await;
        assert_eq!(status, StatusCode::OK, "{dataset}: {}", String::from_utf8_lossy(&bytes));
        assert_eq!(headers["content-type"], "application/zip");
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with(&format!("attachment; filename=\"cryoseed-{dataset}-")), "{disposition}");
        let unzipped = unzip(&bytes).unwrap();
        assert_eq!(&unzipped, files, "{dataset}: the files of the command line");
        assert_eq!(actions(&store, "export").await, exports + i + 1, "{dataset} downloads are audited");
    }
    let log = store.audit_log(Some("sdtm"), 0, 10).await.unwrap();
    assert!(log[0].new_value.as_deref().unwrap().contains("dm.xpt"), "the entry names the files");

    // Bad options: 422 naming the field; an unknown export is not found; nothing audited.
    let exports = actions(&store, "export").await;
    for body in [json!({}), json!({"ipd_seed": ""}), json!({"ipd_seed": "12x"}), json!({"ipd_seed": -1})] {
        let r = stat.post("/api/exports/ipd", body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.text);
        assert!(r.json()["error"]["fields"]["ipd_seed"].is_string(), "{}", r.text);
    }
    assert_eq!(stat.post("/api/exports/ipd", json!({"seed": 1})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stat.post("/api/exports/everything", json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(actions(&store, "export").await, exports, "nothing audited for refused downloads");
    assert!(store.verify_audit().await.unwrap().is_intact());
}

/// A download, read as bytes (the test client reads bodies as text).
async fn download(client: &Client, dataset: &str, body: &Value) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use tower::ServiceExt as _;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri(format!("/api/exports/{dataset}"))
        .header("cookie", client.cookie.clone().unwrap())
        .header("x-csrf-token", client.csrf.clone().unwrap())
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = client.app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024 * 1024).await.unwrap().to_vec();
    (status, headers, bytes)
}

/// Python's `zipfile` (an independent reader) opens our archives: every CRC checks and every
/// file comes back byte for byte. Skipped without `python3` unless `CRYOSEED_TEST_PYTHON=1`.
#[test]
#[allow(clippy::print_stderr, reason = "the skip message")]
fn python_zipfile_reads_our_archives() {
    use std::process::Command;
    let files: Vec<(String, Vec<u8>)> = vec![
        ("dm.csv".into(), b"STUDYID,USUBJID\nCRYOSEED,CRYOSEED-SIM-0001\n".repeat(50)),
        ("empty.txt".into(), Vec::new()),
        ("binary.xpt".into(), (0..=255u8).cycle().take(70_000).collect()),
    ];
    let archive = cryoseed_server::zip::zip(&files).unwrap();
    assert_eq!(cryoseed_server::zip::zip(&files).unwrap(), archive, "deterministic");
    assert_eq!(unzip(&archive).unwrap(), files);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, &archive).unwrap();
    let script = "import sys, zipfile, json\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                  print(json.dumps([[i.filename, z.read(i).hex(), i.date_time[0]] for i in z.infolist()]))";
    let out = match Command::new("python3").args(["-c", script]).arg(&path).output() {
        Ok(o) => o,
        Err(e) if std::env::var_os("CRYOSEED_TEST_PYTHON").is_none_or(|v| v != "1") => {
            eprintln!("skipped: python_zipfile_reads_our_archives: python3 not runnable: {e}");
            return;
        }
        Err(e) => panic!("CRYOSEED_TEST_PYTHON=1 but python3 is not runnable: {e}"),
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read: Vec<(String, String, u32)> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read.len(), files.len());
    for ((name, hex, year), (expected_name, bytes)) in read.iter().zip(&files) {
        assert_eq!((name, *year), (expected_name, 1980));
        let expected: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert!(*hex == expected, "{name} differs");
    }
}
