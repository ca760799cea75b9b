//! Blinding: a reviewer and an adjudicator, in English and in Chinese, walk every GET endpoint
//! and screen their role can reach (for every patient they can see); no response may carry an
//! arm, modality, plan, procedure, seed, probe or dose field or value. The same checker finds
//! such data in an investigator's view of the same patients (so it can fail). Data management
//! (queries, which may name the treatment, signatures, locks, audit trails) is not offered to them.

use crate::common::{Client, Engine};
use crate::on_both;
use axum::http::StatusCode;
use cryoseed_server::access::{Kind, ROUTES};
use cryoseed_store::model::Role;
use serde_json::Value;

on_both!(blinded_roles_never_receive_treatment_data);

/// Key fragments that name treatment data.
const KEY_FRAGMENTS: &[&str] = &[
    "seed",
    "probe",
    "dose",
    "modality",
    "plan",
    "alloc",
    "stratum",
    "procedure",
    "attribution",
    "qa_",
    "d90",
    "isotherm",
];
/// Whole keys that name treatment data.
const KEYS: &[&str] = &["arm", "arms", "document", "qa", "randomized_on", "sequence_number"];
/// Values that are arms, modalities or treatment causes.
const VALUES: &[&str] = &["experimental", "control", "seeds", "cryo", "seed_implantation", "cryoablation", "radiation"];
/// Words of a screen or script that would reveal treatment.
const WORDS: &[&str] = &[
    "arm",
    "arms",
    "experimental",
    "control",
    "modality",
    "seed",
    "seeds",
    "cryo",
    "cryoablation",
    "probe",
    "probes",
    "dose",
    "doses",
    "gy",
    "plan",
    "plans",
    "allocation",
    "implantation",
    "procedure",
    "procedures",
    "randomized",
    "randomization",
    "randomize",
    "isotherm",
    "zoning",
];
/// The same in Chinese.
const CHINESE: &[&str] =
    &["试验组", "对照组", "组别", "粒子", "冷冻", "消融", "剂量", "计划", "探针", "分组", "随机", "治疗操作"];

fn json_findings(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = k.to_lowercase();
                if KEYS.contains(&key.as_str()) || KEY_FRAGMENTS.iter().any(|f| key.contains(f)) {
                    out.push(format!("key {path}.{k}"));
                }
                json_findings(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                json_findings(v, &format!("{path}[{i}]"), out);
            }
        }
        Value::String(s) => {
            if VALUES.contains(&s.to_lowercase().as_str()) {
                out.push(format!("value {path} = {s:?}"));
            }
            text_findings(s, path, out);
        }
        _ => {}
    }
}

fn text_findings(text: &str, at: &str, out: &mut Vec<String>) {
    let lower = text.to_lowercase();
    for word in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if WORDS.contains(&word) || word == "i-125" {
            out.push(format!("word {word:?} in {at}"));
        }
    }
    for w in CHINESE {
        if text.contains(w) {
            out.push(format!("word {w:?} in {at}"));
        }
    }
}

/// Everything forbidden in one response.
fn findings(resp: &crate::common::Resp, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    let is_json = resp.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("json"));
    if is_json {
        json_findings(&resp.json(), at, &mut out);
    } else {
        text_findings(&resp.text, at, &mut out);
    }
    out
}

/// Every GET route `role` may call, with each visible patient id in place.
async fn walk(client: &Client, role: Role, patients: &[String]) -> Vec<(String, crate::common::Resp)> {
    let mut out = Vec::new();
    // The OpenAPI document describes routes (the same for everyone, no trial data; it names the
    // randomize and allocation routes): checked below to carry no patient id.
    for spec in ROUTES.iter().filter(|r| r.method == "GET" && r.allows(role) && r.path != "/api/openapi.json") {
        let paths: Vec<String> = if spec.path.contains("{patient_id}") {
            patients.iter().map(|p| spec.path.replace("{patient_id}", p)).collect()
        } else if spec.path == "/api/audit" {
            // Not reachable by blinded roles (the matrix checks); walked if the table ever allows it.
            patients.iter().map(|p| format!("/api/audit?entity_id={p}")).collect()
        } else if spec.path == "/api/ctcae/terms" {
            vec!["/api/ctcae/terms?q=pain".to_owned()]
        } else {
            vec![spec.path.to_owned()]
        };
        for path in paths {
            let r = client.get(&path).await;
            assert!(r.status.is_success() || r.status.is_redirection(), "{role:?} GET {path}: {} {}", r.status, r.text);
            out.push((path, r));
        }
    }
    out
}

async fn blinded_roles_never_receive_treatment_data(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let all_patients: Vec<String> = store.patients().await.unwrap().into_iter().map(|p| p.patient_id).collect();
    assert!(demo.randomized.len() >= 2, "the demo randomizes patients, so there is something to hide");
    // Data management on a randomized patient: a query that names the treatment (queries, locks,
    // signatures and audit trails are site staff's business; none of it may reach a blinded role).
    let dm = Client::login(&app, "dm1").await;
    let query =
        serde_json::json!({"field": "procedure 1 probes", "question": "Was the cryoablation probe count recorded?"});
    let r = dm.post(&format!("/api/patients/{}/queries", demo.randomized[0]), query).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    for user in ["reader1", "reader2", "adj1"] {
        let role = if user == "adj1" { Role::Adjudicator } else { Role::Reader };
        for locale in ["en", "zh"] {
            let client = Client::login(&app, user).await;
            assert_eq!(
                client.put("/api/session/locale", serde_json::json!({"locale": locale})).await.status,
                StatusCode::NO_CONTENT
            );
            let listed: Vec<String> = client
                .get("/api/patients")
                .await
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["patient_id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(listed, all_patients, "blinded roles read every site's patients");
            let responses = walk(&client, role, &listed).await;
            let pages = responses.iter().filter(|(_, r)| r.is_html()).count();
            assert!(pages >= 2, "{user} walked {pages} screens");
            for (path, r) in &responses {
                let found = findings(r, path);
                assert!(found.is_empty(), "{user} ({locale}) GET {path} reveals treatment data: {found:?}");
                for offer in ["/audit?", "data-sign", "id=\"queries\"", "records.js"] {
                    assert!(!r.text.contains(offer), "{user} GET {path} offers data management ({offer})");
                }
            }
            // Routes the table does not give the role are refused, whatever the patient.
            for spec in ROUTES.iter().filter(|r| r.method == "GET" && !r.allows(role)) {
                let path = spec.path.replace("{patient_id}", &listed[0]).replace("{plan_sha256}", &"0".repeat(64));
                let r = client.get(&path).await;
                assert_eq!(r.status, StatusCode::FORBIDDEN, "{user} GET {path}");
                assert!(findings(&r, &path).is_empty(), "{user} refused at {path} with data: {}", r.text);
                if spec.kind == Kind::Api {
                    assert_eq!(r.code(), "forbidden");
                }
            }
        }
    }
    let doc = Client::anonymous(&app).get("/api/openapi.json").await;
    assert!(all_patients.iter().all(|p| !doc.text.contains(p.as_str())), "the API description carries no trial data");
    // The checker is not blind itself: the investigator's view of a randomized patient shows
    // the arm (and the read is audited).
    let inv_site = store.patient(&demo.randomized[0]).await.unwrap().site_id;
    let inv = Client::login(&app, if inv_site == "SITE-01" { "inv1" } else { "inv2" }).await;
    let before = store.audit_log(Some(&demo.randomized[0]), 0, 10_000).await.unwrap().len();
    let detail = inv.get(&format!("/api/patients/{}", demo.randomized[0])).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(findings(&detail, "investigator detail").iter().any(|f| f.contains("arm")), "{}", detail.text);
    let page = inv.get(&format!("/patients/{}", demo.randomized[0])).await;
    assert!(!findings(&page, "investigator timeline").is_empty());
    let log = store.audit_log(Some(&demo.randomized[0]), 0, 10_000).await.unwrap();
    assert_eq!(log.len(), before + 2, "each unblinded read is audited");
    assert!(
        log.iter().rev().take(2).all(|e| e.action == "view" && e.field.as_deref().is_some_and(|f| f.contains("arm")))
    );
}
