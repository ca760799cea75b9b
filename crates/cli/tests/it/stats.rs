//! `cryoseed stats …` as a statistician scripts it: the documented JSON keys, values equal to the
//! oracle fixtures of cryoseed-stats, and errors naming the file, row and column.

use crate::{cryoseed, stderr, stdout};
use serde_json::Value;

fn data(name: &str) -> String {
    format!("{}/../stats/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../stats/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn json(args: &[&str]) -> Value {
    let out = cryoseed(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", stdout(&out)))
}

fn close(a: &Value, b: &Value, what: &str) {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    assert!((a - b).abs() <= 1e-6 * b.abs() + 1e-12, "{what}: {a} vs {b}");
}

#[test]
fn km_prints_the_documented_table() {
    let waltons = data("waltons.csv");
    let doc = json(&["stats", "km", "--input", &waltons, "--time", "T", "--event", "E", "--group", "group"]);
    let groups = doc["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0]["group"], "control");
    let f = fixture("km.json");
    let want = f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "waltons control").unwrap();
    assert_eq!(groups[0]["n"], want["n"]);
    assert_eq!(groups[0]["events"], want["events"]);
    close(&groups[0]["median"], &want["quantiles"][1]["time"], "median");
    close(&groups[0]["median_ci"][0], &want["quantiles"][1]["log_log"][0], "median lower");
    let row = &groups[0]["table"][3];
    for key in ["time", "n_risk", "n_event", "n_censor", "survival", "std_err", "ci_lower", "ci_upper"] {
        assert!(!row[key].is_null(), "table row lacks {key}: {row}");
    }
    close(&row["ci_lower"], &want["table"][3]["log_log"][0], "row 3 lower");
    // Without --group the single group is null; a missing bound is null.
    let one = json(&["stats", "km", "--input", &waltons, "--time", "T", "--event", "E", "--conf-type", "plain"]);
    assert_eq!(one["groups"][0]["group"], Value::Null);
    assert_eq!(one["conf_type"], "plain");
    let last = one["groups"][0]["table"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["survival"], 0.0);
    assert_eq!(last["ci_lower"], Value::Null);
}

#[test]
fn logrank_and_cox_agree_with_the_oracles() {
    let rossi = data("rossi.csv");
    let lr = json(&["stats", "logrank", "--input", &rossi, "--time", "week", "--event", "arrest", "--group", "fin"]);
    let f = fixture("logrank.json");
    let want = f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "rossi by fin").unwrap();
    close(&lr["chi2"], &want["chi2"], "chi2");
    close(&lr["p_value"], &want["p_value"], "p");
    assert_eq!(lr["df"], 1);
    let strat = json(&[
        "stats", "logrank", "--input", &rossi, "--time", "week", "--event", "arrest", "--group", "fin", "--strata",
        "wexp",
    ]);
    let want =
        f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "rossi by fin, stratified by wexp").unwrap();
    close(&strat["chi2"], &want["chi2"], "stratified chi2");

    let cox = json(&[
        "stats",
        "cox",
        "--input",
        &rossi,
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        "fin,age,race,wexp,mar,paro,prio",
        "--ties",
        "efron",
        "--ph-test",
        "km",
    ]);
    let f = fixture("cox.json");
    let want = f["cases"].as_array().unwrap().iter().find(|c| c["label"] == "rossi efron").unwrap();
    for (j, c) in cox["coefficients"].as_array().unwrap().iter().enumerate() {
        close(&c["coef"], &want["coef"][j], "coef");
        close(&c["se"], &want["se"][j], "se");
        close(&c["hr_ci"][1], &want["hr_ci"][j][1], "hr upper");
        assert!(c["hr"].as_f64().unwrap() > 0.0 && c["z"].is_number() && c["p_value"].is_number());
    }
    close(&cox["log_likelihood"], &want["log_likelihood"], "loglik");
    assert_eq!(cox["ph_test"]["terms"][1]["name"], "age");
    close(&cox["ph_test"]["terms"][1]["chi2"], &want["ph_test"]["km"]["chi2"][1], "PH test age (km)");
    close(&cox["concordance"], &want["concordance"], "concordance");
    assert_eq!(cox["n"], 432);
    assert_eq!(cox["events"], 114);
}

#[test]
fn cif_binom_gee_and_power_print_json() {
    let cr = data("sim_competing_risks.csv");
    let cif = json(&["stats", "cif", "--input", &cr, "--time", "time", "--status", "status", "--group", "arm"]);
    let gray = fixture("gray.json");
    close(&cif["gray_test"]["chi2"], &gray["cases"][0]["chi2"], "Gray chi2");
    let lesions = data("sim_lesions.csv");
    let b = json(&[
        "stats",
        "binom",
        "--input",
        &lesions,
        "--outcome",
        "local_control",
        "--group",
        "arm",
        "--strata",
        "size",
    ]);
    let f = fixture("binary.json");
    close(&b["cmh"]["chi2"], &f["cmh"]["tests"][0]["chi2"], "CMH chi2");
    let counts = json(&["stats", "binom", "--successes", "7", "--trials", "20"]);
    close(&counts["groups"][0]["clopper_pearson"][0], &f["proportions"][4]["clopper_pearson"][0], "CP lower");
    let g = json(&[
        "stats",
        "gee",
        "--input",
        &lesions,
        "--outcome",
        "local_control",
        "--covariates",
        "arm",
        "--cluster",
        "patient",
    ]);
    let glm = fixture("glm.json");
    close(&g["coefficients"][1]["se"], &glm["gee"][1]["se"][1], "GEE robust se");
    let p1 = cryoseed(&["stats", "power", "--trials", "200", "--seed", "5"]);
    let p2 = cryoseed(&["stats", "power", "--trials", "200", "--seed", "5"]);
    assert!(p1.status.success(), "{}", stderr(&p1));
    assert_eq!(stdout(&p1), stdout(&p2), "same seed, same bytes");
    let p: Value = serde_json::from_str(&stdout(&p1)).unwrap();
    assert_eq!(p["design"]["patients_per_arm"], 45);
    assert!(p["lpfs"]["power"].as_f64().unwrap() > 0.5);
    // `cryoseed power` is the same computation under its own name (issue 11's contract).
    let top = cryoseed(&["power", "--trials", "200", "--seed", "5"]);
    assert!(top.status.success(), "{}", stderr(&top));
    assert_eq!(stdout(&top), stdout(&p1), "cryoseed power = cryoseed stats power");
    let smaller = cryoseed(&["power", "--trials", "200", "--seed", "5", "--patients-per-arm", "15"]);
    let s: Value = serde_json::from_str(&stdout(&smaller)).unwrap();
    assert!(
        s["lpfs"]["power"].as_f64().unwrap() < p["lpfs"]["power"].as_f64().unwrap(),
        "fewer patients, less power: {s}"
    );
}

#[test]
fn bad_input_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rossi.csv");
    let write = |text: &str| std::fs::write(&file, text).unwrap();
    let path = file.to_str().unwrap();
    let km = |time: &str, event: &str| cryoseed(&["stats", "km", "--input", path, "--time", time, "--event", event]);
    let cases = [
        (
            "week,arrest\n1,1\n2,0\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1\n10,0\nx,1\n",
            "week",
            "rossi.csv row 12, column week: not a number: \"x\"",
        ),
        ("week,arrest\n1,1\n-2,0\n", "week", "rossi.csv row 3, column week: negative time -2"),
        ("week,arrest\n1,1\n2,2\n", "week", "rossi.csv row 3, column arrest: event must be 0 or 1, got 2"),
        ("week,arrest\n1,1\n,0\n", "week", "rossi.csv row 3, column week: missing value"),
        ("week,arrest\n1,1\n", "weeks", "rossi.csv: unknown column \"weeks\" (columns: week, arrest)"),
    ];
    for (text, time, message) in cases {
        write(text);
        let out = km(time, "arrest");
        assert_eq!(out.status.code(), Some(1), "{message}");
        assert!(stderr(&out).contains(message), "want {message:?}, got {}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"));
    }
    write("week,arrest,age\n1,1,30\n2,1,40\n3,0,50\n");
    let cox =
        cryoseed(&["stats", "cox", "--input", path, "--time", "week", "--event", "arrest", "--covariates", "age,sex"]);
    assert!(stderr(&cox).contains("unknown column \"sex\""), "{}", stderr(&cox));
    let usage = cryoseed(&["stats", "km", "--input", path, "--time", "week"]);
    assert_eq!(usage.status.code(), Some(2));
    let missing = cryoseed(&["stats", "km", "--input", "/nonexistent/x.csv", "--time", "t", "--event", "e"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("/nonexistent/x.csv"));
}
