//! The JSON API on both backends: sign-in and sessions, CSRF, rate limiting and no user
//! enumeration, field-level 422s with nothing saved, screening and the live checklist,
//! randomization, reads and adjudication, adverse events with CTCAE search, signatures with
//! re-authentication, the audit trail and the statistician's allocation list.

use crate::common::{Client, Engine, password, site1_randomized};
use crate::on_both;
use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

on_both!(
    sessions_csrf_and_login_limits,
    data_entry_validates_and_saves_all_or_nothing,
    reads_adjudication_and_signatures
);

async fn sessions_csrf_and_login_limits(engine: &Engine) {
    let (store, _) = engine.demo().await;
    let app = crate::common::router(&store);

    // Sign-in: strict, HttpOnly cookie (not Secure on loopback), the CSRF token in the body.
    let mut client = Client::anonymous(&app);
    let r = client.login_with("inv1", &password("inv1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("cryoseed_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "loopback test server");
    let token = client.cookie.clone().unwrap();
    let token = token.split('=').nth(1).unwrap();
    assert_eq!(token.len(), 64);
    let me = client.get("/api/session").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["role"], "investigator");
    assert_eq!(me.json()["site_id"], "SITE-01");
    for h in ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"] {
        assert!(me.headers.contains_key(h), "security header {h}");
    }
    assert_eq!(me.headers["cache-control"], "no-store");
    // Only the token's SHA-256 is stored.
    assert!(store.session(token).await.unwrap().is_none(), "the raw token is not a key");

    // CSRF: a state-changing request needs the session's token, in the header or a form field.
    let mut no_csrf = client.clone();
    no_csrf.csrf = None;
    let r = no_csrf.put("/api/session/locale", json!({"locale": "zh"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "csrf"));
    let mut wrong = client.clone();
    wrong.csrf = Some("0".repeat(64));
    assert_eq!(wrong.put("/api/session/locale", json!({"locale": "zh"})).await.code(), "csrf");
    let form = format!("locale=zh&csrf={}", client.csrf.as_deref().unwrap());
    let r = no_csrf.send(Method::POST, "/locale", Some(form), "application/x-www-form-urlencoded").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "form field accepted: {}", r.text);
    assert_eq!(client.get("/api/session").await.json()["locale"], "zh");
    let r = no_csrf.send(Method::POST, "/locale", Some("locale=en".into()), "application/x-www-form-urlencoded").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = client.put("/api/session/locale", json!({"locale": "fr"})).await;
    assert_eq!((r.status, r.json()["error"]["fields"]["locale"].is_string()), (StatusCode::UNPROCESSABLE_ENTITY, true));
    // Sign-in itself must be JSON (a cross-site form cannot post it).
    let r = Client::anonymous(&app)
        .send(Method::POST, "/api/session", Some("user_id=inv1&password=x".into()), "application/x-www-form-urlencoded")
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Sign-out ends the session server-side.
    let r = client.send(Method::DELETE, "/api/session", None, "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(client.get("/api/session").await.status, StatusCode::UNAUTHORIZED);
    let log = store.audit_log(Some("inv1"), 0, 100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"login") && actions.contains(&"logout"), "{actions:?}");

    // No user enumeration: an unknown user and a wrong password look the same.
    let mut anon = Client::anonymous(&app);
    anon.accept_language = Some("zh-CN,zh;q=0.9".into());
    let unknown = anon.login_with("nobody", "whatever").await;
    let wrong = anon.login_with("dm1", "wrong password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!((unknown.status, &unknown.text), (wrong.status, &wrong.text));
    assert_eq!(unknown.json()["error"]["message"], "用户名或密码错误。");
    // Per account: 3 failures (test limit) lock the account id, even for the right password,
    // whether or not it exists.
    assert_eq!(anon.login_with("dm1", "wrong again").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.login_with("dm1", "and again").await.status, StatusCode::UNAUTHORIZED);
    let r = anon.login_with("dm1", &password("dm1")).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
    assert_eq!(anon.login_with("nobody", "x").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.login_with("nobody", "x").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.login_with("nobody", "x").await.status, StatusCode::TOO_MANY_REQUESTS);
    // Per address: 6 failures in all from this client lock every account from it.
    let r = anon.login_with("stat1", &password("stat1")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    // A wrong password is rejected after a correct sign-in elsewhere too (fresh limiter).
    let fresh = crate::common::router(&store);
    assert_eq!(Client::anonymous(&fresh).login_with("stat1", "nope").await.status, StatusCode::UNAUTHORIZED);
    Client::login(&fresh, "stat1").await;
}

fn screening(patient: &str, site: &str) -> Value {
    json!({
        "patient_id": patient, "site_id": site, "screened_on": "2026-02-02", "age_years": 61, "ecog": 1,
        "histology_confirmed": true, "metastatic": true, "not_amenable_to_curative_therapy": true,
        "metastatic_lesion_count": 5,
        "labs": {"platelets_e9_per_l": 190, "inr": 1.0, "anc_e9_per_l": 3.5, "haemoglobin_g_per_l": 125,
                 "bilirubin_x_uln": 0.7, "ast_x_uln": 0.9, "alt_x_uln": 0.9, "creatinine_clearance_ml_per_min": 85},
        "exclusions": {"emergent_intervention": false, "target_not_accessible": false, "uncontrolled_infection": false,
                       "uncontrolled_effusion": false, "severe_cardiopulmonary": false, "prior_local_therapy_bulky": false,
                       "uncontrolled_cns": false, "investigator_judgement_answered": true},
        "lesions": [
            {"lesion_id": "T1", "organ": "liver", "longest_diameter_mm": 82, "volume_ml": 160, "is_target": true, "is_bulky_index": true},
            {"lesion_id": "T2", "organ": "lung", "longest_diameter_mm": 24, "is_target": true},
            {"lesion_id": "N1", "organ": "bone"}
        ]
    })
}

async fn counts(store: &cryoseed_store::Store) -> (usize, usize, usize, usize) {
    (
        store.patients().await.unwrap().len(),
        store.lesions().await.unwrap().len(),
        store.adverse_events().await.unwrap().len(),
        store.verify_audit().await.unwrap().entries as usize,
    )
}

async fn data_entry_validates_and_saves_all_or_nothing(engine: &Engine) {
    let (store, _) = engine.demo().await;
    let app = crate::common::router(&store);
    let inv = Client::login(&app, "inv1").await;

    // The live checklist evaluates an unfinished form and saves nothing.
    let before = counts(&store).await;
    let r = inv.post("/api/eligibility", json!({"age_years": 15})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let checklist = r.json();
    assert_eq!(checklist["status"], "ineligible");
    let age = checklist["criteria"].as_array().unwrap().iter().find(|c| c["id"] == "inclusion.age").unwrap().clone();
    assert_eq!((age["verdict"].as_str(), age["title"].as_str()), (Some("not_met"), Some("Age")));

    // Bad input: every bad field named, nothing saved (audit chain included).
    let mut bad = screening("P-NEW-1", "SITE-01");
    bad["age_years"] = json!("sixty");
    bad["labs"]["inr"] = json!(-2);
    bad["lesions"][1]["organ"] = json!("spleen");
    bad["screened_on"] = json!("2026-13-01");
    let r = inv.post("/api/screenings", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let fields: Vec<String> = r.json()["error"]["fields"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(fields, ["age_years", "labs.inr", "lesions[1].organ", "screened_on"]);
    assert_eq!(r.code(), "invalid");
    assert_eq!(counts(&store).await, before, "nothing saved");
    // Another site: refused by field.
    let r = inv.post("/api/screenings", screening("P-NEW-1", "SITE-02")).await;
    assert_eq!(r.json()["error"]["fields"]["site_id"], "you may screen only at your own site");
    assert_eq!(counts(&store).await, before);
    // Malformed JSON: 400 in the same shape.
    let r = inv.send(Method::POST, "/api/screenings", Some("{".into()), "application/json").await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::BAD_REQUEST, "bad_json"));
    // A body that is not JSON at all (a form post, plain text): 415 in the same shape.
    let good = screening("P-NEW-1", "SITE-01").to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let r = inv.send(Method::POST, "/api/screenings", Some(good.clone()), content_type).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            "{content_type}: {}",
            r.text
        );
        assert!(r.json()["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(counts(&store).await, before, "nothing saved");

    // A good screening registers the patient with lesions and verdicts, in one transaction.
    let r = inv.post("/api/screenings", screening("P-NEW-1", "SITE-01")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["status"], "eligible", "{}", r.text);
    let after = counts(&store).await;
    assert_eq!((after.0, after.1), (before.0 + 1, before.1 + 3));

    // Randomization: the arm once committed; never twice; other sites cannot see the patient.
    let inv2 = Client::login(&app, "inv2").await;
    assert_eq!(inv2.get("/api/patients/P-NEW-1").await.status, StatusCode::NOT_FOUND);
    assert!(!inv2.get("/api/patients").await.text.contains("P-NEW-1"));
    assert_eq!(
        inv2.post("/api/patients/P-NEW-1/randomize", json!({"randomized_on": "2026-02-03"})).await.status,
        StatusCode::NOT_FOUND
    );
    let r = inv.post("/api/patients/P-NEW-1/randomize", json!({"randomized_on": "2026-02-31"})).await;
    assert_eq!(
        r.json()["error"]["fields"]["randomized_on"].as_str().map(|m| m.contains("valid date")),
        Some(true),
        "{}",
        r.text
    );
    let r = inv.post("/api/patients/P-NEW-1/randomize", json!({"randomized_on": "2026-02-03"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let arm = r.json()["arm"].as_str().unwrap().to_owned();
    assert!(arm == "experimental" || arm == "control");
    let r = inv.post("/api/patients/P-NEW-1/randomize", json!({"randomized_on": "2026-02-03"})).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::CONFLICT, "already_randomized"));
    let detail = inv.get("/api/patients/P-NEW-1").await.json();
    assert_eq!(detail["allocation"]["arm"], arm.as_str());

    // Lesions: field errors, duplicates.
    let r = inv
        .post("/api/patients/P-NEW-1/lesions", json!({"lesion_id": "N2", "role": "sideways", "organ": "bone"}))
        .await;
    assert_eq!(r.json()["error"]["fields"].as_object().unwrap().keys().next().map(String::as_str), Some("role"));
    let r = inv
        .post("/api/patients/P-NEW-1/lesions", json!({"lesion_id": "N2", "role": "non_target", "organ": "bone"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        inv.post("/api/patients/P-NEW-1/lesions", json!({"lesion_id": "N2", "role": "non_target", "organ": "bone"}))
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(inv.get("/api/patients/P-NEW-1/lesions").await.json().as_array().unwrap().len(), 4);

    // Adverse events: CTCAE search with grade definitions; grade checked against the term.
    let terms = inv.get("/api/ctcae/terms?q=nausea").await.json();
    let nausea = &terms[0];
    assert_eq!(nausea["term"], "Nausea");
    assert_eq!(nausea["grades"].as_array().unwrap().len(), 3, "nausea has grades 1-3");
    assert_eq!(inv.get("/api/ctcae/terms?limit=x").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let before = counts(&store).await;
    let ae = json!({"term": "Nausea", "grade": 5, "attributions": [{"cause": "disease", "certainty": "possible"}],
                    "onset": "2026-02-10", "meddra_version": "28.0"});
    let r = inv.post("/api/patients/P-NEW-1/adverse-events", ae.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.json()["error"]["fields"]["grade"].is_string(), "{}", r.text);
    let mut bad_cause = ae.clone();
    bad_cause["attributions"][0]["cause"] = json!("bad luck");
    let r = inv.post("/api/patients/P-NEW-1/adverse-events", bad_cause).await;
    assert!(r.json()["error"]["fields"]["attributions[0].cause"].is_string(), "{}", r.text);
    assert_eq!(counts(&store).await, before, "nothing saved");
    let mut good = ae;
    good["grade"] = json!(2);
    let r = inv.post("/api/patients/P-NEW-1/adverse-events", good.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let list = inv.get("/api/patients/P-NEW-1/adverse-events").await.json();
    assert_eq!((list[0]["term"].as_str(), list[0]["grade"].as_u64()), (Some("Nausea"), Some(2)));

    // The list comes a page at a time, most recent first page, each page in id order, with the
    // total and a link to the older events; the timeline carries the most recent 50.
    for day in 11..=62 {
        let mut next = good.clone();
        next["onset"] = json!(format!("2026-{:02}-{:02}", 2 + (day - 1) / 28, 1 + (day - 1) % 28));
        assert_eq!(inv.post("/api/patients/P-NEW-1/adverse-events", next).await.status, StatusCode::CREATED);
    }
    let all: Vec<i64> = store.patient_adverse_events("P-NEW-1").await.unwrap().iter().map(|a| a.ae_id).collect();
    assert_eq!(all.len(), 53);
    let ids = |r: &crate::common::Resp| -> Vec<i64> {
        r.json().as_array().unwrap().iter().map(|a| a["ae_id"].as_i64().unwrap()).collect()
    };
    let mut path = "/api/patients/P-NEW-1/adverse-events?limit=20".to_owned();
    let mut pages = Vec::new();
    loop {
        let r = inv.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.headers["x-total-count"], "53");
        pages.push(ids(&r));
        let Some(link) = r.headers.get(header::LINK) else { break };
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        path = link.trim_start_matches('<').split('>').next().unwrap().to_owned();
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [20, 20, 13]);
    assert_eq!(pages.iter().rev().flatten().copied().collect::<Vec<_>>(), all, "every event once, in order");
    assert_eq!(ids(&inv.get("/api/patients/P-NEW-1/adverse-events").await), all, "default page: 100");
    for (query, field) in [("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "query"), ("before=y", "query")] {
        let r = inv.get(&format!("/api/patients/P-NEW-1/adverse-events?{query}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.text);
        assert!(r.json()["error"]["fields"][field].is_string(), "{query}: {}", r.text);
    }
    let record = inv.get("/api/patients/P-NEW-1").await.json();
    assert_eq!(record["adverse_events_total"], 53);
    assert_eq!(record["older_adverse_events"], true);
    let shown: Vec<i64> =
        record["adverse_events"].as_array().unwrap().iter().map(|a| a["ae_id"].as_i64().unwrap()).collect();
    assert_eq!(shown, all[3..], "the most recent 50");
    let page = inv.get("/patients/P-NEW-1").await;
    let older = format!("/patients/P-NEW-1?ae_before={}", all[3]);
    assert!(page.text.contains(&older), "the timeline links the older events");
    let older_page = inv.get(&older).await;
    assert_eq!(older_page.status, StatusCode::OK);
    assert!(older_page.text.contains("3 / 53") && !older_page.text.contains("ae_before="), "{}", older_page.text);

    // The data manager's audit trail of the record, with the audited unblinded read.
    let dm = Client::login(&app, "dm1").await;
    let log = dm.get("/api/audit?entity_id=P-NEW-1").await.json();
    let actions: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.starts_with(&["create", "create", "randomize"]) && actions.contains(&"view"), "{actions:?}");
    assert_eq!(dm.get("/api/audit").await.json()["error"]["fields"]["entity_id"], "is required");

    // The statistician's allocation list; the read is audited.
    let stat = Client::login(&app, "stat1").await;
    let list = stat.get("/api/allocations").await.json();
    assert!(list.as_array().unwrap().iter().any(|a| a["patient_id"] == "P-NEW-1"));
    let views = store.audit_log(Some("*"), 0, 100).await.unwrap();
    assert!(views.iter().any(|e| e.action == "view" && e.actor == "stat1"));
}

async fn reads_adjudication_and_signatures(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;

    // A reader records a read; sees only their own reads.
    let reader = Client::login(&app, "reader1").await;
    let targets: Vec<Value> = reader
        .get(&format!("/api/patients/{patient}/lesions"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["role"] == "target")
        .map(|l| json!({"lesion_id": l["lesion_id"], "status": "measured", "diameter_mm": 20}))
        .collect();
    let read =
        json!({"label": "M6", "assessed_on": "2026-07-10", "observations": {"lesions": targets, "new_lesions": []}});
    let r = reader.post(&format!("/api/patients/{patient}/assessments"), read.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(reader.post(&format!("/api/patients/{patient}/assessments"), read).await.status, StatusCode::CONFLICT);
    let bad = json!({"label": "M9", "assessed_on": "2026-10-10", "observations": {"lesions": [{"lesion_id": "T9", "diameter_mm": 20}]}});
    let r = reader.post(&format!("/api/patients/{patient}/assessments"), bad).await;
    assert!(r.json()["error"]["fields"]["observations.lesions[0].lesion_id"].is_string(), "{}", r.text);
    let reads = reader.get(&format!("/api/patients/{patient}/assessments")).await.json();
    assert!(reads.as_array().unwrap().iter().all(|a| a["reader"] == "reader1"));

    // The adjudication queue: patients read by two readers, not yet adjudicated.
    let adj = Client::login(&app, "adj1").await;
    let queue = adj.get("/api/adjudications").await.json();
    let item = queue.as_array().unwrap().iter().find(|i| i["patient_id"] == patient.as_str()).expect("queued").clone();
    assert_eq!(item["readers"], json!(["reader1", "reader2"]));
    let all_reads = adj.get(&format!("/api/patients/{patient}/assessments")).await.json();
    assert!(
        all_reads.as_array().unwrap().iter().any(|a| a["reader"] == "reader2"),
        "the adjudicator sees both readers"
    );
    let r = adj
        .post(&format!("/api/patients/{patient}/adjudication"), json!({"accepted_reader": "reader9", "reason": "x"}))
        .await;
    assert!(r.json()["error"]["fields"]["accepted_reader"].is_string(), "{}", r.text);
    let r = adj
        .post(
            &format!("/api/patients/{patient}/adjudication"),
            json!({"accepted_reader": "reader1", "reason": "consistent slices"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let queue = adj.get("/api/adjudications").await.json();
    assert!(queue.as_array().unwrap().iter().all(|i| i["patient_id"] != patient.as_str()));

    // Signing needs the password typed again within five minutes.
    let inv = Client::login(&app, "inv1").await;
    let sign = json!({"meaning": "I confirm the CRF is complete and accurate"});
    let r = inv.post(&format!("/api/patients/{patient}/signatures"), sign.clone()).await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "reauthentication_required"));
    let r = inv.post("/api/session/reauth", json!({"password": "not it"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = inv.post("/api/session/reauth", json!({"password": password("inv1")})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = inv.post(&format!("/api/patients/{patient}/signatures"), sign).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.json()["signed_by"], "inv1");
    assert!(store.verify_audit().await.unwrap().is_intact());

    // The screens render for their roles.
    for (user, path) in [
        ("inv1", format!("/patients/{patient}")),
        ("inv1", "/screening".to_owned()),
        ("inv1", format!("/patients/{patient}/adverse-events/new")),
        ("reader1", format!("/patients/{patient}/read")),
        ("adj1", "/adjudications".to_owned()),
    ] {
        let client = Client::login(&app, user).await;
        let r = client.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{user} {path}: {}", r.text);
        assert!(r.is_html() && r.text.contains("<meta name=\"csrf-token\""), "{user} {path}");
    }
    let r = Client::anonymous(&app).get("/patients").await;
    assert_eq!((r.status, r.headers["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
    let login = Client::anonymous(&app).get("/login").await;
    assert!(login.is_html() && login.text.contains("data-api=\"/api/session\""));
}
