//! Data management on both backends (issue 10): a query raised by the data manager, answered by
//! the patient's site, closed by the data manager, with field-level 422s and nothing saved on bad
//! input; locks refused changes and shown; signatures after re-authentication listed with who,
//! what and when; the audit trail of one record with the hash-chain check.

use crate::common::{Client, Engine, password, site1_randomized};
use crate::on_both;
use axum::http::StatusCode;
use serde_json::{Value, json};

on_both!(queries_locks_signatures_and_audit_trail);

fn fields(r: &crate::common::Resp) -> Vec<String> {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    r.json()["error"]["fields"].as_object().unwrap().keys().cloned().collect()
}

async fn queries_locks_signatures_and_audit_trail(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;
    let dm = Client::login(&app, "dm1").await;
    let inv = Client::login(&app, "inv1").await;
    let other_site = Client::login(&app, "inv2").await;
    let queries_of = || async { store.queries().await.unwrap() };

    // Raising: every bad field named at once, nothing saved.
    let before = queries_of().await.len();
    let raise = format!("/api/patients/{patient}/queries");
    assert_eq!(fields(&dm.post(&raise, json!({})).await), ["field", "question"]);
    assert_eq!(
        fields(&dm.post(&raise, json!({"field": "x".repeat(201), "question": "  "})).await),
        ["field", "question"]
    );
    assert_eq!(
        dm.post(&raise, json!({"field": "a", "question": "b", "extra": 1})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        dm.post("/api/patients/NOPE/queries", json!({"field": "a", "question": "b"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(queries_of().await.len(), before, "nothing saved");
    let r = dm
        .post(&raise, json!({"field": "patient follow_up date", "question": "Please confirm the last contact date."}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let query = r.json();
    let id = query["query_id"].as_i64().unwrap();
    assert_eq!((query["status"].as_str(), query["site_id"].as_str()), (Some("open"), Some("SITE-01")));

    // Listing with filters; investigators see their own site's queries only.
    let listed = |v: &Value| v.as_array().unwrap().iter().any(|q| q["query_id"] == id);
    assert!(listed(&dm.get("/api/queries?status=open").await.json()));
    assert!(!listed(&dm.get("/api/queries?status=closed").await.json()));
    assert!(listed(&dm.get(&format!("/api/queries?patient_id={patient}&site_id=SITE-01")).await.json()));
    assert!(!listed(&dm.get("/api/queries?site_id=SITE-02").await.json()));
    assert_eq!(fields(&dm.get("/api/queries?status=bogus").await), ["status"]);
    assert_eq!(fields(&dm.get("/api/queries?site_id=SITE-99").await), ["site_id"]);
    assert!(listed(&inv.get("/api/queries").await.json()));
    assert!(!listed(&other_site.get("/api/queries").await.json()));
    assert_eq!(fields(&other_site.get(&format!("/api/queries?patient_id={patient}")).await), ["patient_id"]);

    // Answering: the site's investigator only; a blank answer is refused; not twice.
    let answer = format!("/api/queries/{id}/answer");
    assert_eq!(other_site.post(&answer, json!({"answer": "x"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(fields(&inv.post(&answer, json!({"answer": " "})).await), ["answer"]);
    assert_eq!(dm.post(&answer, json!({"answer": "x"})).await.status, StatusCode::FORBIDDEN);
    let close = format!("/api/queries/{id}/close");
    assert_eq!(fields(&dm.post(&close, json!({})).await), ["status"], "an open query cannot be closed");
    let r = inv.post(&answer, json!({"answer": "Confirmed by phone."})).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (StatusCode::OK, Some("answered")), "{}", r.text);
    assert_eq!(fields(&inv.post(&answer, json!({"answer": "again"})).await), ["status"]);
    assert_eq!(inv.post(&close, json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(dm.post("/api/queries/999999/close", json!({})).await.status, StatusCode::NOT_FOUND);
    let r = dm.post(&close, json!({})).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (StatusCode::OK, Some("closed")), "{}", r.text);
    let stored = queries_of().await.into_iter().find(|q| q.query_id == id).unwrap();
    assert_eq!(stored.answer.as_deref(), Some("Confirmed by phone."));
    let page = dm.get("/queries?status=closed").await;
    assert!(page.is_html() && page.text.contains(&format!("data-query=\"{id}\"")), "{}", page.text);
    assert!(!dm.get("/queries?status=open").await.text.contains(&format!("data-query=\"{id}\"")));

    // Locking: a reason is required; a locked patient's data is refused and shown as locked.
    let lock = format!("/api/patients/{patient}/lock");
    let unlock = format!("/api/patients/{patient}/unlock");
    assert_eq!(fields(&dm.post(&lock, json!({"reason": ""})).await), ["reason"]);
    assert!(!store.patient(&patient).await.unwrap().locked, "nothing saved");
    assert_eq!(fields(&dm.post(&unlock, json!({"reason": "not locked"})).await), ["locked"]);
    assert_eq!(inv.post(&lock, json!({"reason": "x"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        dm.post(&lock, json!({"reason": "database lock for the interim analysis"})).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(store.patient(&patient).await.unwrap().locked);
    assert_eq!(fields(&dm.post(&lock, json!({"reason": "again"})).await), ["locked"]);
    let ae = json!({"term": "Nausea", "grade": 2, "attributions": [{"cause": "disease", "certainty": "possible"}],
                    "onset": "2026-06-01", "meddra_version": "28.0"});
    let r = inv.post(&format!("/api/patients/{patient}/adverse-events"), ae).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "locked"), "{}", r.text);
    let timeline = inv.get(&format!("/patients/{patient}")).await.text;
    assert!(
        timeline.contains("data-sign=") && !timeline.contains("id=\"lock\""),
        "the investigator signs, does not lock"
    );
    let timeline = dm.get(&format!("/patients/{patient}")).await.text;
    assert!(timeline.contains(&format!("data-api=\"/api/patients/{patient}/unlock\"")), "the lock is shown");
    assert_eq!(
        dm.post(&unlock, json!({"reason": "correction of a follow-up date"})).await.status,
        StatusCode::NO_CONTENT
    );

    // Signatures: re-authentication first; a blank meaning is refused; who, what and when listed.
    let sign = format!("/api/patients/{patient}/signatures");
    assert_eq!(inv.post(&sign, json!({"meaning": "complete"})).await.code(), "reauthentication_required");
    assert_eq!(
        inv.post("/api/session/reauth", json!({"password": password("inv1")})).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(fields(&inv.post(&sign, json!({"meaning": " "})).await), ["meaning"]);
    assert!(inv.get(&sign).await.json().as_array().unwrap().is_empty(), "nothing saved");
    let r = inv.post(&sign, json!({"meaning": "I confirm that this casebook is complete and accurate"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let signatures = dm.get(&sign).await.json();
    assert_eq!(signatures[0]["signed_by"], "inv1");
    assert!(signatures[0]["signed_at"].as_str().unwrap().contains('T'));
    assert_eq!(other_site.get(&sign).await.status, StatusCode::NOT_FOUND);
    let timeline = inv.get(&format!("/patients/{patient}")).await.text;
    assert!(timeline.contains("I confirm that this casebook is complete and accurate"));

    // The audit trail: per record from the timeline, every entry's hash and the chain verified.
    let verify = dm.get("/api/audit/verify").await.json();
    assert!(verify["first_broken"].is_null() && verify["entries"].as_i64().unwrap() > 10, "{verify}");
    let timeline = dm.get(&format!("/patients/{patient}")).await.text;
    assert!(
        timeline.contains(&format!("/patients/{patient}/audit?entity=allocation&#38;entity_id={patient}")),
        "{timeline}"
    );
    assert!(
        !inv.get(&format!("/patients/{patient}")).await.text.contains("/audit?"),
        "no audit links for investigators"
    );
    let page = dm.get(&format!("/patients/{patient}/audit?entity=query&entity_id={id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"chain-status\"") && page.text.contains("class=\"pass\" id=\"chain-status\""));
    for text in ["Confirmed by phone.", "Please confirm the last contact date.", "dm1", "inv1", "Created", "Changed"] {
        assert!(page.text.contains(text), "audit page shows {text:?}");
    }
    assert!(!page.text.contains("does not match"), "every entry's hash verifies");
    let page = dm.get(&format!("/patients/{patient}/audit")).await.text;
    assert!(
        page.contains("Locked") && page.contains("Unlocked") && page.contains("Signed"),
        "the patient record's trail"
    );
    assert!(page.contains("database lock for the interim analysis"));
    // Only this patient's records; another patient's record is not found here.
    let other = demo.randomized.iter().find(|p| **p != patient).unwrap();
    let r = dm.get(&format!("/patients/{patient}/audit?entity=allocation&entity_id={other}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(dm.get(&format!("/patients/{patient}/audit?nope=1")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Reading the allocation's trail shows the arm: audited like every unblinded read.
    let views = |log: Vec<cryoseed_store::AuditEntry>| log.iter().filter(|e| e.action == "view").count();
    let before = views(store.audit_log(Some(&patient), 0, 1000).await.unwrap());
    dm.get(&format!("/patients/{patient}/audit?entity=allocation&entity_id={patient}")).await;
    assert_eq!(views(store.audit_log(Some(&patient), 0, 1000).await.unwrap()), before + 1);
    assert!(store.verify_audit().await.unwrap().is_intact());

    // A query raised from a record link of the timeline: the form is filled with the record.
    let timeline = dm.get(&format!("/patients/{patient}?field=allocation%20{patient}")).await.text;
    assert!(timeline.contains(&format!("name=\"field\" value=\"allocation {patient}\"")), "{timeline}");
}
