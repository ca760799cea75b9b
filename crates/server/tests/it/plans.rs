//! Plans and procedures through the API on both backends: a `cryoseed plan` record is checked
//! against the patient, protocol, randomized arm and lesions (every problem by field, nothing
//! stored), stored per lesion and read back for review (audited); procedures are read field by
//! field and dated after the randomization; blinded roles reach neither.

use crate::common::{Client, Engine, site1_randomized};
use crate::on_both;
use axum::http::{Method, StatusCode};
use cryoseed_core::protocol::Protocol;
use serde_json::{Value, json};

on_both!(plans_are_checked_against_the_trial_and_procedures_field_by_field);
on_both!(review_bundles_are_stored_with_their_plan_and_served_to_site_staff);

/// A plan record in the layout of `cryoseed plan` (only what the service reads).
fn plan(patient_id: &str, arm: Value, protocol_sha256: &str, lesions: &[&str]) -> Value {
    json!({
        "format": "cryoseed-plan", "format_version": 1, "software_version": "test",
        "protocol": {"name": "cryoseed-phase2", "version": "x", "sha256": protocol_sha256},
        "inputs": {"patient_id": patient_id, "arm": arm, "case_sha256": "c", "grid_spacing_mm": [3.0, 3.0, 3.0], "seed": 1},
        "access": lesions.iter().map(|l| json!([l, {"kind": "path"}])).collect::<Vec<_>>(),
        "allocations": lesions.iter().enumerate().map(|(i, l)| json!({
            "lesion_id": l, "structure": format!("GTV_{l}"),
            "decision": if i == 0 { "seeds" } else { "cryo" },
            "rule": if i == 0 { "oar_distance" } else { "all_cryo_criteria_met" },
            "reason": if i == 0 { "seeds: distance to Bowel 8.2 mm < 15 mm" } else { "cryo: every cryo criterion holds" },
            "checks": [{"rule": "oar_distance", "met": i != 0, "evidence": "distance to Bowel 8.2 mm < 15 mm"}],
            "protocol_decision": null, "override_reason": null, "deviation": false
        })).collect::<Vec<_>>(),
        "zoning": null, "seed_plans": [], "cryo_plans": [], "total_seeds": 0,
        "evaluation": {
            "lesions": [],
            "oars": [],
            "verdicts": [
                {"scope": lesions[0], "constraint": "margin D90 ≥ 110 Gy", "value": 104.5, "limit": 110.0, "unit": "Gy", "pass": false, "shortfall": 5.5},
                {"scope": "Bowel", "constraint": "D2cc ≤ 50 Gy", "value": 12.0, "limit": 50.0, "unit": "Gy", "pass": true, "shortfall": null}
            ],
            "all_pass": false
        }
    })
}

async fn plans_are_checked_against_the_trial_and_procedures_field_by_field(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;
    let inv = Client::login(&app, "inv1").await;
    let record = inv.get(&format!("/api/patients/{patient}")).await.json();
    let arm = record["allocation"]["arm"].as_str().unwrap().to_owned();
    let randomized_on = record["allocation"]["randomized_on"].as_str().unwrap().to_owned();
    let lesions: Vec<String> =
        record["lesions"].as_array().unwrap().iter().map(|l| l["lesion_id"].as_str().unwrap().to_owned()).collect();
    let ids: Vec<&str> = lesions.iter().take(2).map(String::as_str).collect();
    let right_arm = if arm == "experimental" {
        json!({"arm": "experimental"})
    } else {
        json!({"arm": "control", "modality": "cryo"})
    };
    let wrong_arm = if arm == "experimental" {
        json!({"arm": "control", "modality": "cryo"})
    } else {
        json!({"arm": "experimental"})
    };
    let sha = Protocol::shipped().hash().to_string();
    let url = format!("/api/patients/{patient}/plans");
    let plans_before = store.plans().await.unwrap().len();

    // Every disagreement with the trial is named; nothing is stored.
    let mut bad = plan("SIM-9999", wrong_arm, "0000", &[ids[0], "L99"]);
    bad["format_version"] = json!(2);
    let r = inv.post(&url, bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields: Vec<String> = r.json()["error"]["fields"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        fields,
        ["allocations[1].lesion_id", "format_version", "inputs.arm", "inputs.patient_id", "protocol.sha256"]
    );
    assert!(r.json()["error"]["fields"]["inputs.arm"].as_str().unwrap().contains("another arm"));
    let r = inv.post(&url, json!({"format": "something else"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["format"].is_string());
    let r = inv.send(Method::POST, &url, Some("{not json".into()), "application/json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(store.plans().await.unwrap().len(), plans_before, "nothing stored");

    // The right plan: one document per lesion, read back as the allocation table and verdicts.
    let body = plan(&patient, right_arm, &sha, &ids).to_string();
    let r = inv.send(Method::POST, &url, Some(body.clone()), "application/json").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let review = inv.get(&url).await.json();
    let group = &review[0];
    use sha2::Digest as _;
    let file_sha: String = sha2::Sha256::digest(body.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(group["plan_sha256"], file_sha.as_str());
    assert_eq!(group["all_pass"], false);
    assert_eq!(group["lesions"][0]["decision"], "seeds");
    assert_eq!(group["lesions"][0]["rule_label"], "Distance to critical organs at risk");
    assert_eq!(group["lesions"][0]["verdicts"][0]["shortfall"], "5.5");
    assert_eq!(group["lesions"][1]["decision_label"], "Cryoablation");
    assert_eq!(group["plan_verdicts"][0]["scope"], "Bowel");
    let audit = store.audit_log(Some(&patient), 0, 1000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "view" && e.actor == "inv1"), "the plan review is audited");
    let page = inv.get(&format!("/patients/{patient}/plans")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("margin D90 ≥ 110 Gy") && page.text.contains("Fails"), "{}", page.text);

    // Procedures: every bad field at once; dated after the randomization; then stored.
    let purl = format!("/api/patients/{patient}/procedures");
    let procedures_before = store.procedures().await.unwrap().len();
    let r =
        inv.post(&purl, json!({"lesion_id": "L99", "modality": "laser", "performed_on": "soon", "probes": 0})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields: Vec<String> = r.json()["error"]["fields"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["lesion_id", "modality", "performed_on", "probes"]);
    let r = inv
        .post(&purl, json!({"lesion_id": ids[1], "modality": "cryo", "performed_on": "2001-01-01", "probes": 3, "freeze_thaw": "10-8-10"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["performed_on"].as_str().unwrap().starts_with("is before the randomization"));
    assert_eq!(store.procedures().await.unwrap().len(), procedures_before, "nothing stored");
    let r = inv
        .post(
            &purl,
            json!({"lesion_id": ids[1], "modality": "cryo", "performed_on": randomized_on, "probes": 3,
                   "freeze_thaw": "10-8-10", "notes": "two cycles"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let stored = store.procedures().await.unwrap().into_iter().last().unwrap();
    assert_eq!(stored.details["probes"], 3);
    assert_eq!(stored.details["freeze_thaw"], "10-8-10");
    assert_eq!(stored.details["plan_sha256"].as_str().map(str::len), Some(64), "the lesion's plan is referenced");
    assert_eq!(inv.get(&format!("/patients/{patient}/procedures/new")).await.status, StatusCode::OK);

    // The language switch returns to the screen it was on (the service sends no Referer), and
    // only to a path of this service.
    for (back, to) in [
        (format!("/patients/{patient}/plans"), format!("/patients/{patient}/plans")),
        ("//evil.example/x".into(), "/".into()),
    ] {
        let form = format!("locale=en&csrf={}&back={}", inv.csrf.as_deref().unwrap(), back.replace('/', "%2F"));
        let r = inv.send(Method::POST, "/locale", Some(form), "application/x-www-form-urlencoded").await;
        assert_eq!((r.status, r.headers["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, to.as_str()));
    }

    // Blinded roles reach neither the plans nor the procedure screen.
    for user in ["reader1", "adj1"] {
        let c = Client::login(&app, user).await;
        for path in [url.clone(), format!("/patients/{patient}/plans"), format!("/patients/{patient}/procedures/new")] {
            assert_eq!(c.get(&path).await.status, StatusCode::FORBIDDEN, "{user} {path}");
        }
        assert_eq!(c.post(&purl, json!({})).await.status, StatusCode::FORBIDDEN);
    }
}

fn sha256(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A review bundle in the layout of `cryoseed plan`'s `review.json` (a small but complete one).
fn review(patient_id: &str, plan_sha256: &str) -> Value {
    json!({
        "format": "cryoseed-plan-review", "version": 1, "software_version": "test",
        "protocol": {"name": "cryoseed-phase2", "version": "x", "sha256": "p"},
        "patient_id": patient_id, "case_sha256": "c", "plan_sha256": plan_sha256, "prescription_gy": 145.0,
        "dvh": {"dose_step_gy": 5.8, "curves": [{"name": "GTV_L1", "kind": "target", "volume_permille": [1000, 1000, 950, 400]}]},
        "layers": [{"kind": "target", "name": "GTV_L1", "level": null, "percent": null}],
        "probes": [],
        "planes": [{"plane": "axial", "axes": ["x", "y", "z"], "view_mm": [-20.0, 20.0, -20.0, 20.0], "step_mm": 3.0,
                    "slices": [{"position_mm": 0.0, "lines": [[0, [100, 0, -100, 100, -100, -100, 100, -100]]], "seeds": [[0, 0]]}]}]
    })
}

async fn review_bundles_are_stored_with_their_plan_and_served_to_site_staff(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;
    let inv = Client::login(&app, "inv1").await;
    let record = inv.get(&format!("/api/patients/{patient}")).await.json();
    let arm = if record["allocation"]["arm"] == "experimental" {
        json!({"arm": "experimental"})
    } else {
        json!({"arm": "control", "modality": "cryo"})
    };
    let lesions: Vec<String> =
        record["lesions"].as_array().unwrap().iter().map(|l| l["lesion_id"].as_str().unwrap().to_owned()).collect();
    let sha = Protocol::shipped().hash().to_string();
    let url = format!("/api/patients/{patient}/plans");
    // The plan as the file holds it (pretty, with a final newline), and its bundle.
    let plan_text = serde_json::to_string_pretty(&plan(&patient, arm.clone(), &sha, &[&lesions[0]])).unwrap() + "\n";
    let plan_sha = sha256(&plan_text);
    let review_text = review(&patient, &plan_sha).to_string();
    let counts = || async { (store.plans().await.unwrap().len(), store.plan_reviews().await.unwrap().len()) };
    let before = counts().await;

    // A bundle of another plan (another file, another case, another patient) is refused by
    // field, and the plan is not stored without it.
    let mut foreign = review(&patient, &sha256("another plan.json"));
    foreign["case_sha256"] = json!("other-case");
    foreign["patient_id"] = json!("SIM-9999");
    let r = inv.post(&url, json!({"plan": plan_text, "review": foreign.to_string()})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields = r.json()["error"]["fields"].clone();
    let names: Vec<&String> = fields.as_object().unwrap().keys().collect();
    assert_eq!(names, ["review.case_sha256", "review.patient_id", "review.plan_sha256"]);
    assert!(fields["review.plan_sha256"].as_str().unwrap().contains("belongs to another plan"));
    let r = inv.post(&url, json!({"plan": plan_text, "review": json!({"format": "cryoseed-plan"}).to_string()})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["fields"]["review.format"].is_string(), "{}", r.text);
    let r = inv.post(&url, json!({"plan": "{not json", "review": review_text})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["fields"]["plan"], "is not a JSON text");
    assert_eq!(counts().await, before, "nothing stored");

    // Plan and bundle together: the bundle is served byte for byte to site staff (audited).
    let r = inv.post(&url, json!({"plan": plan_text, "review": review_text})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(counts().await, (before.0 + 1, before.1 + 1));
    let groups = inv.get(&url).await.json();
    assert_eq!(groups[0]["plan_sha256"], plan_sha.as_str(), "the plan keeps the SHA-256 of its file");
    assert_eq!(groups[0]["has_review"], true);
    let review_url = format!("{url}/{plan_sha}/review");
    for user in ["inv1", "dm1"] {
        let c = Client::login(&app, user).await;
        let r = c.get(&review_url).await;
        assert_eq!(r.status, StatusCode::OK, "{user}: {}", r.text);
        assert_eq!(r.text, review_text);
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
    }
    let audit = store.audit_log(Some(&patient), 0, 10_000).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "view" && e.field.as_deref() == Some("plan_review")), "audited");
    assert_eq!(inv.get(&format!("{url}/{}/review", "0".repeat(64))).await.status, StatusCode::NOT_FOUND);
    let page = inv.get(&format!("/patients/{patient}/plans")).await;
    assert!(page.text.contains(&format!("data-review=\"{review_url}\"")), "{}", page.text);

    // A plan uploaded alone (as before) has no bundle, and the screen says so.
    let alone = plan(&patient, arm, &sha, &[&lesions[0]]).to_string();
    assert_eq!(inv.send(Method::POST, &url, Some(alone), "application/json").await.status, StatusCode::CREATED);
    let groups = inv.get(&url).await.json();
    assert_eq!((groups[0]["has_review"].clone(), groups[1]["has_review"].clone()), (json!(false), json!(true)));
    assert!(inv.get(&format!("/patients/{patient}/plans")).await.text.contains("stored without its review bundle"));

    // Blinded roles never receive it.
    for user in ["reader1", "adj1"] {
        let c = Client::login(&app, user).await;
        let r = c.get(&review_url).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{user}");
        assert!(!r.text.contains("isodose") && !r.text.contains("GTV"), "{}", r.text);
    }
}
