//! `cryoseed report` and `cryoseed export --db`: the report's numbers equal the `stats` CLI's on
//! the analysis datasets `cryoseed endpoints` exports; the exports are complete, deterministic and
//! never written over a non-empty folder.

use crate::{cryoseed, stderr, stdout};
use serde_json::Value;
use std::path::Path;

#[path = "../../../report/tests/it/fixture.rs"]
mod fixture;

fn build(seed: u64) -> fixture::Fixture {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(fixture::build(seed))
}

fn run_json(args: &[&str]) -> Value {
    let o = cryoseed(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

/// A derived column: name and how to compute it from (headers, row).
type Extra<'a> = (&'a str, &'a dyn Fn(&csv::StringRecord, &csv::StringRecord) -> String);

/// Copies the rows of `input` for which `keep` holds, with extra derived columns.
fn derive_csv(
    input: &Path,
    output: &Path,
    keep: impl Fn(&csv::StringRecord, &csv::StringRecord) -> bool,
    extra: &[Extra<'_>],
) {
    let mut r = csv::Reader::from_path(input).unwrap();
    let headers = r.headers().unwrap().clone();
    let mut w = csv::Writer::from_path(output).unwrap();
    let mut head: Vec<String> = headers.iter().map(str::to_owned).collect();
    head.extend(extra.iter().map(|(n, _)| (*n).to_owned()));
    w.write_record(&head).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        if keep(&headers, &row) {
            let mut cells: Vec<String> = row.iter().map(str::to_owned).collect();
            cells.extend(extra.iter().map(|(_, f)| f(&headers, &row)));
            w.write_record(&cells).unwrap();
        }
    }
    w.flush().unwrap();
}

fn cell<'a>(h: &csv::StringRecord, r: &'a csv::StringRecord, name: &str) -> &'a str {
    &r[h.iter().position(|c| c == name).unwrap()]
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64()
}

#[test]
fn report_numbers_equal_the_stats_cli_on_the_exported_analysis_datasets() {
    let fx = build(11);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let o = cryoseed(&["report", "--db", &fx.url, "--out", report.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(report.join("analysis.html")).unwrap();
    let s: Value = serde_json::from_str(&std::fs::read_to_string(report.join("analysis.json")).unwrap()).unwrap();
    assert!(html.contains(s["snapshot_sha256"].as_str().unwrap()));
    // A second run into a non-empty folder is refused; into a new one it gives the same bytes.
    let again = cryoseed(&["report", "--db", &fx.url, "--out", report.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", stdout(&again));
    let report2 = dir.path().join("report2");
    assert!(cryoseed(&["report", "--db", &fx.url, "--out", report2.to_str().unwrap()]).status.success());
    assert_eq!(std::fs::read(report2.join("analysis.html")).unwrap(), html.as_bytes());
    let pdf = std::fs::read(report.join("analysis.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.7") && pdf.ends_with(b"%%EOF\n"));
    assert_eq!(std::fs::read(report2.join("analysis.pdf")).unwrap(), pdf);

    let ep = dir.path().join("endpoints");
    let o = cryoseed(&["endpoints", "--db", &fx.url, "--out", ep.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));

    // LPFS: Kaplan–Meier per arm and the stratified log-rank test.
    let lpfs = dir.path().join("lpfs.csv");
    derive_csv(&ep.join("time_to_event.csv"), &lpfs, |h, r| cell(h, r, "endpoint") == "LPFS", &[]);
    let km = run_json(&[
        "stats",
        "km",
        "--input",
        lpfs.to_str().unwrap(),
        "--time",
        "time_days",
        "--event",
        "status",
        "--group",
        "arm",
    ]);
    let ours = s["time_to_event"].as_array().unwrap().iter().find(|e| e["endpoint"] == "LPFS").unwrap();
    for g in km["groups"].as_array().unwrap() {
        let arm = ours["arms"].as_array().unwrap().iter().find(|a| a["arm"] == g["group"]).unwrap();
        assert_eq!(arm["n"], g["n"]);
        assert_eq!(arm["events"], g["events"]);
        assert_eq!(f(&arm["median"]), f(&g["median"]), "{}", g["group"]);
        assert_eq!(arm["median_ci"], g["median_ci"], "{}", g["group"]);
    }
    let lr = run_json(&[
        "stats",
        "logrank",
        "--input",
        lpfs.to_str().unwrap(),
        "--time",
        "time_days",
        "--event",
        "status",
        "--group",
        "arm",
        "--strata",
        "stratum",
    ]);
    assert_eq!(f(&ours["logrank_p"]), f(&lr["p_value"]));
    assert_eq!(f(&ours["logrank_chi2"]), f(&lr["chi2"]));
    let cox_in = dir.path().join("lpfs_cox.csv");
    derive_csv(
        &lpfs,
        &cox_in,
        |_, _| true,
        &[("experimental", &|h, r| if cell(h, r, "arm") == "experimental" { "1".into() } else { "0".into() })],
    );
    let arm_cox = |input: &Path| {
        run_json(&[
            "stats",
            "cox",
            "--input",
            input.to_str().unwrap(),
            "--time",
            "time_days",
            "--event",
            "status",
            "--covariates",
            "experimental",
        ])
    };
    let cox = arm_cox(&cox_in);
    let c = &cox["coefficients"][0];
    assert_eq!(f(&ours["cox_hr"]), f(&c["hr"]), "{cox}");
    // The forest plot's subgroups: all patients is the main fit; every other estimable subgroup
    // (a centre, an ECOG score) is `stats cox` on its patients' rows, chosen from patients.csv.
    let subgroups = ours["subgroups"].as_array().unwrap();
    assert_eq!(subgroups[0]["subgroup"], "all patients");
    assert_eq!(f(&subgroups[0]["hr"]), f(&c["hr"]));
    let mut members: Vec<(String, String)> = Vec::new();
    let mut pr = csv::Reader::from_path(ep.join("patients.csv")).unwrap();
    let ph = pr.headers().unwrap().clone();
    for row in pr.records() {
        let row = row.unwrap();
        let id = cell(&ph, &row, "patient_id").to_owned();
        members.push((format!("centre {}", cell(&ph, &row, "site_id")), id.clone()));
        members.push((format!("ECOG {}", cell(&ph, &row, "ecog")), id));
    }
    let mut checked = 0;
    for (k, g) in subgroups.iter().enumerate().skip(1) {
        let name = g["subgroup"].as_str().unwrap();
        let ids: Vec<&str> = members.iter().filter(|(s, _)| s == name).map(|(_, id)| id.as_str()).collect();
        assert_eq!(g["patients"].as_u64(), Some(ids.len() as u64), "{name}");
        if !g["hr"].is_f64() {
            assert!(g["note"].is_string(), "{name}: a missing hazard ratio says why");
            continue;
        }
        let sub_in = dir.path().join(format!("lpfs_cox_subgroup_{k}.csv"));
        derive_csv(&cox_in, &sub_in, |h, r| ids.contains(&cell(h, r, "patient_id")), &[]);
        let sub = arm_cox(&sub_in);
        let sc = &sub["coefficients"][0];
        assert_eq!(f(&g["hr"]), f(&sc["hr"]), "{name}: {sub}");
        assert_eq!(g["hr_ci"][0].as_f64(), sc["hr_ci"][0].as_f64(), "{name}: {sub}");
        checked += 1;
    }
    assert!(checked >= 1, "no subgroup had an estimable hazard ratio: {subgroups:?}");

    // ORR: Clopper–Pearson per arm, Newcombe difference, Fisher's exact test.
    let binom = run_json(&[
        "stats",
        "binom",
        "--input",
        ep.join("patients.csv").to_str().unwrap(),
        "--outcome",
        "objective_response",
        "--group",
        "arm",
    ]);
    let orr =
        s["binary"].as_array().unwrap().iter().find(|b| b["endpoint"].as_str().unwrap().starts_with("ORR")).unwrap();
    for (ours, theirs) in orr["arms"].as_array().unwrap().iter().zip(binom["groups"].as_array().unwrap()) {
        assert_eq!(ours[0], theirs["group"]);
        assert_eq!(ours[1], theirs["successes"]);
        assert_eq!(ours[2], theirs["trials"]);
        assert_eq!(ours[3], theirs["clopper_pearson"]);
    }
    assert_eq!(orr["newcombe_ci"], binom["difference"]["newcombe_ci"]);
    assert_eq!(f(&orr["fisher_p"]), f(&binom["difference"]["fisher_p_two_sided"]));

    // LCR at 6 months: GEE difference between arms, lesions clustered in patients.
    let lcr = dir.path().join("lcr.csv");
    derive_csv(
        &ep.join("lesions.csv"),
        &lcr,
        |h, r| cell(h, r, "primary") != "not_evaluable",
        &[
            ("controlled", &|h, r| if cell(h, r, "primary") == "controlled" { "1".into() } else { "0".into() }),
            ("experimental", &|h, r| if cell(h, r, "arm") == "experimental" { "1".into() } else { "0".into() }),
        ],
    );
    let gee = run_json(&[
        "stats",
        "gee",
        "--input",
        lcr.to_str().unwrap(),
        "--outcome",
        "controlled",
        "--covariates",
        "experimental",
        "--cluster",
        "patient_id",
        "--link",
        "identity",
    ]);
    let g = gee["coefficients"].as_array().unwrap().iter().find(|c| c["name"] == "experimental").unwrap();
    let primary = &s["lcr"][0];
    assert_eq!(f(&primary["gee_difference"]), f(&g["coef"]));
    assert_eq!(primary["gee_ci"], g["ci"]);
    assert_eq!(f(&primary["gee_p"]), f(&g["p_value"]));
}

#[test]
fn trial_exports_write_sdtm_adam_and_ipd_deterministically() {
    let fx = build(5);
    let dir = tempfile::tempdir().unwrap();
    let run = |tag: &str| {
        let (sdtm, adam, ipd) = (
            dir.path().join(format!("sdtm{tag}")),
            dir.path().join(format!("adam{tag}")),
            dir.path().join(format!("ipd{tag}")),
        );
        let o = cryoseed(&[
            "export",
            "--db",
            &fx.url,
            "--sdtm",
            sdtm.to_str().unwrap(),
            "--adam",
            adam.to_str().unwrap(),
            "--ipd",
            ipd.to_str().unwrap(),
            "--ipd-seed",
            "99",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        (sdtm, adam, ipd)
    };
    let (sdtm, adam, ipd) = run("1");
    for d in ["dm", "ex", "pr", "tu", "tr", "rs", "ae", "ds", "sv", "ts"] {
        for ext in ["csv", "xpt"] {
            assert!(sdtm.join(format!("{d}.{ext}")).is_file(), "{d}.{ext}");
        }
    }
    for d in ["adsl", "adtte", "adrs", "adae"] {
        assert!(adam.join(format!("{d}.xpt")).is_file(), "{d}.xpt");
    }
    for f in ["participants.csv", "time_to_event.csv", "lesions.csv", "adverse_events.csv", "define.csv", "define.json"]
    {
        assert!(ipd.join(f).is_file(), "{f}");
    }
    assert!(!ipd.join("participants.xpt").exists());
    let define: Value = serde_json::from_str(&std::fs::read_to_string(sdtm.join("define.json")).unwrap()).unwrap();
    assert!(
        define["variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["variable"] == "RSTESTCD" && v["codelist"].as_str().unwrap().contains("OVRLRESP"))
    );
    let (sdtm2, adam2, ipd2) = run("2");
    for (a, b) in [(&sdtm, &sdtm2), (&adam, &adam2), (&ipd, &ipd2)] {
        let mut names: Vec<_> = std::fs::read_dir(a).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            assert_eq!(
                std::fs::read(a.join(&n)).unwrap(),
                std::fs::read(b.join(&n)).unwrap(),
                "{n:?} differs between runs"
            );
        }
    }
    // A non-empty output folder is refused before anything is written.
    let o = cryoseed(&["export", "--db", &fx.url, "--sdtm", sdtm.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--sdtm"), "{}", stderr(&o));
    // --ipd needs a seed; --sdtm needs --db; the DICOM flags exclude --db.
    assert_eq!(cryoseed(&["export", "--db", &fx.url, "--ipd", "x"]).status.code(), Some(2));
    assert_eq!(cryoseed(&["export", "--sdtm", "x"]).status.code(), Some(2));
    assert_eq!(cryoseed(&["export", "--db", &fx.url, "--case", "c", "--sdtm", "x"]).status.code(), Some(2));
}
