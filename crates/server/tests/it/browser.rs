//! The browser walk: the service on a loopback port with a fresh demo trial (SQLite), driven by
//! `tests/browser/walk.js` (Playwright with Debian's Chromium) through screening,
//! randomization, plan review, a procedure, two readers' assessments, adjudication and an adverse
//! event, as investigator, readers, adjudicator, data manager and statistician. Screenshots of
//! every screen go to `$CRYOSEED_BROWSER_ARTIFACTS`, else `$CARGO_TARGET_DIR/browser-artifacts`,
//! else `target/browser-artifacts`.
//!
//! Runs only with `CRYOSEED_TEST_BROWSER=1` (it needs `chromium` and `npm ci` in
//! `crates/server/tests/browser`). The patient's plans and their review bundles are made here with
//! the real planner on a synthetic case (one per arm: the arm is known only once the walk has
//! randomized), and the screening data the walk types are the lesions measured on that case. A
//! second patient, screened and randomized here through the API until one lands in the control
//! arm, gets a control-arm plan for the walk to store and review.

use crate::common::{Client, Engine, options, password};
use cryoseed_anatomy::{Case, lesion_features};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Mm, Modality, Organ, PatientId};
use cryoseed_plan::{AllocationDecision, ArmPlan, PlanRequest, PlannerSettings, plan_patient};
use cryoseed_server::{AppState, app};
use cryoseed_sim::{PhantomConfig, Scenario, phantom};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const PATIENT: &str = "WALK-0001";
/// Prefix of the patients screened until one is randomized to the control arm.
const CONTROL_PATIENTS: &str = "WALK-01";
const USERS: &[&str] = &["inv1", "inv2", "dm1", "stat1", "reader1", "reader2", "adj1"];

fn artifacts_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRYOSEED_BROWSER_ARTIFACTS") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"), PathBuf::from);
    target.join("browser-artifacts")
}

/// The synthetic case the walk's patients' lesions are measured on.
fn walk_case(patient_id: &str) -> Case {
    let config = PhantomConfig { spacing: [Mm(3.0); 3] };
    let made = phantom(Scenario::LiverSmallSeparated, &config, 11).expect("phantom");
    Case::new(PatientId::parse(patient_id).expect("id"), *made.grid(), made.structures().to_vec()).expect("case")
}

/// The plan of `case` for `arm`, written as `plan-NAME.json` and its review bundle as
/// `review-NAME.json` (named by the plan file's SHA-256) in `dir`: the plan record and the paths.
fn write_plan(dir: &Path, case: &Case, arm: ArmPlan, name: &str) -> (cryoseed_plan::PlanRecord, Value) {
    use sha2::Digest as _;
    let protocol = Protocol::shipped();
    let request = PlanRequest {
        case,
        arm,
        overrides: Vec::new(),
        protocol: &protocol,
        settings: PlannerSettings::default(),
        seed: 5,
    };
    let plan = plan_patient(&request).expect("plan");
    let text = serde_json::to_string(&plan.record).expect("plan JSON");
    let sha: String = sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let review =
        cryoseed_report::plan_review(case, &plan, &protocol, &sha, &cryoseed_report::ReviewSettings::default());
    let (plan_file, review_file) = (dir.join(format!("plan-{name}.json")), dir.join(format!("review-{name}.json")));
    std::fs::write(&plan_file, text).expect("write plan");
    std::fs::write(&review_file, serde_json::to_string(&review).expect("review JSON")).expect("write review");
    (plan.record, json!({"plan": plan_file, "review": review_file}))
}

/// The walk's patient's plan for each arm (written in `dir`), the screening data of its lesions
/// and the procedure the walk records per arm.
fn plans_and_screening(dir: &Path, control: Modality) -> Value {
    let protocol = Protocol::shipped();
    let case = walk_case(PATIENT);
    let features = lesion_features(&case, &protocol);
    let lesions: Vec<Value> = features
        .iter()
        .map(|f| {
            let round = |x: f64| (x * 10.0).round() / 10.0;
            json!({
                "lesion_id": f.lesion_id.as_str(),
                "organ": f.organ,
                "longest_diameter_mm": round(f.longest_axial_diameter.value()),
                "short_axis_mm": round(f.short_axis.value()),
                "volume_ml": round(f.volume.value()),
                "is_nodal": f.organ == Organ::LymphNode,
                "is_target": f.is_target,
                "is_bulky_index": f.is_bulky_index,
            })
        })
        .collect();
    let mut plans = serde_json::Map::new();
    let mut counts = serde_json::Map::new();
    let mut procedures = serde_json::Map::new();
    for (name, arm) in [("experimental", ArmPlan::Experimental), ("control", ArmPlan::Control(control))] {
        let (record, files) = write_plan(dir, &case, arm, name);
        plans.insert(name.into(), files);
        counts.insert(name.into(), json!(record.allocations.len()));
        let single = record
            .allocations
            .iter()
            .find(|a| a.decision != AllocationDecision::Zoned)
            .expect("a lesion with one modality");
        let id = &single.lesion_id;
        let procedure = match single.decision {
            AllocationDecision::Seeds => {
                let seeds = &record.seed_plans.iter().find(|p| &p.lesion_id == id).expect("seed plan").plan;
                json!({"lesion_id": id.as_str(), "modality": "seeds", "seeds_implanted": seeds.seeds.len(),
                       "needles": seeds.needles.len().max(1)})
            }
            _ => {
                let probes = &record.cryo_plans.iter().find(|p| &p.lesion_id == id).expect("cryo plan").plan;
                json!({"lesion_id": id.as_str(), "modality": "cryo", "probes": probes.probes.len().max(1)})
            }
        };
        procedures.insert(name.into(), procedure);
    }
    json!({
        "patient_id": PATIENT,
        "screening": {
            "age_years": 61, "ecog": 1, "metastatic_lesion_count": lesions.len() + 1,
            "labs": {"platelets_e9_per_l": 180, "inr": 1.1, "anc_e9_per_l": 3.2, "haemoglobin_g_per_l": 120,
                     "bilirubin_x_uln": 0.8, "ast_x_uln": 1.0, "alt_x_uln": 1.0, "creatinine_clearance_ml_per_min": 80},
            "exclusions": {"emergent_intervention": false, "target_not_accessible": false, "uncontrolled_infection": false,
                           "uncontrolled_effusion": false, "severe_cardiopulmonary": false,
                           "prior_local_therapy_bulky": false, "uncontrolled_cns": false},
            "lesions": lesions,
        },
        "plans": plans,
        "plan_lesions": counts,
        "procedures": procedures,
    })
}

/// Screens and randomizes patients like the walk's at SITE-02 (another stratum than the walk's
/// patient, whose arm stays the list's) through the API until one is in the control arm, and
/// writes its control-arm plan (SITE-02's modality) and review bundle.
async fn control_arm_patient(store: &cryoseed_store::Store, screening: &Value, dir: &Path) -> Value {
    let control = store
        .sites()
        .await
        .expect("sites")
        .into_iter()
        .find(|s| s.site_id == "SITE-02")
        .and_then(|s| s.control_modality)
        .expect("SITE-02 declares its control modality");
    let app = crate::common::router(store);
    let inv = Client::login(&app, "inv2").await;
    for n in 1..=20 {
        let patient_id = format!("{CONTROL_PATIENTS}{n:02}");
        let mut body = screening.clone();
        for (k, v) in
            [("patient_id", json!(patient_id)), ("site_id", json!("SITE-02")), ("screened_on", json!("2026-02-02"))]
        {
            body[k] = v;
        }
        for k in ["histology_confirmed", "metastatic", "not_amenable_to_curative_therapy"] {
            body[k] = json!(true);
        }
        body["exclusions"]["investigator_judgement_answered"] = json!(true);
        let r = inv.post("/api/screenings", body).await;
        assert_eq!(r.status.as_u16(), 201, "screening {patient_id}: {}", r.text);
        let r =
            inv.post(&format!("/api/patients/{patient_id}/randomize"), json!({"randomized_on": "2026-02-03"})).await;
        assert!(r.status.is_success(), "randomizing {patient_id}: {}", r.text);
        if r.json()["arm"] == "control" {
            let (record, files) =
                write_plan(dir, &walk_case(&patient_id), ArmPlan::Control(control), "control-patient");
            let modality = if control == Modality::Seeds { "seeds" } else { "cryo" };
            return json!({"patient_id": patient_id, "files": files, "plan_lesions": record.allocations.len(),
                          "modality": modality, "investigator": "inv2"});
        }
    }
    panic!("20 patients randomized without one in the control arm");
}

#[test]
fn browser_walk_from_screening_to_adverse_event() {
    if std::env::var("CRYOSEED_TEST_BROWSER").as_deref() != Ok("1") {
        eprintln!(
            "browser walk skipped: set CRYOSEED_TEST_BROWSER=1 (needs /usr/bin/chromium and `npm ci` in crates/server/tests/browser)"
        );
        return;
    }
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        harness.join("node_modules/playwright-core").is_dir(),
        "run `npm ci` in {} first (CRYOSEED_TEST_BROWSER=1 is set)",
        harness.display()
    );
    let shots = artifacts_dir();
    if shots.exists() {
        std::fs::remove_dir_all(&shots).expect("clear old screenshots");
    }
    std::fs::create_dir_all(&shots).expect("screenshot directory");
    let work = tempfile::tempdir().expect("temp dir");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let engine = Engine::sqlite();
    let (store, _demo) = rt.block_on(engine.demo());
    let control = rt
        .block_on(store.sites())
        .expect("sites")
        .into_iter()
        .find(|s| s.site_id == "SITE-01")
        .and_then(|s| s.control_modality)
        .expect("SITE-01 declares its control modality");
    let mut config = plans_and_screening(work.path(), control);
    config["control_patient"] = rt.block_on(control_arm_patient(&store, &config["screening"], work.path()));
    config["users"] =
        USERS.iter().map(|u| ((*u).to_owned(), json!(password(u)))).collect::<serde_json::Map<_, _>>().into();
    let config_file = work.path().join("walk.json");
    std::fs::write(&config_file, serde_json::to_string_pretty(&config).expect("config")).expect("write config");

    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("loopback port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = AppState::new(store.clone(), options()).expect("state");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(async move {
        axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let output = std::process::Command::new("node")
        .arg(harness.join("walk.js"))
        .arg(&base)
        .arg(&shots)
        .arg(&config_file)
        .current_dir(&harness)
        .output()
        .expect("run node (is Node.js installed?)");
    let _ = stop.send(());
    rt.block_on(server).expect("server task").expect("server");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(output.status.success(), "the browser walk failed ({}): {stderr}", output.status);
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(shots.join("index.json")).expect("index.json")).expect("JSON");
    let names: Vec<&str> = index["screenshots"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    for step in [
        "screening-checklist-eligible",
        "plan-review",
        "timeline-procedure",
        "reader2-read-saved",
        "adjudication-done",
        "timeline-adverse-event",
    ] {
        assert!(names.iter().any(|n| n.ends_with(&format!("-{step}.png"))), "no screenshot of {step}: {names:?}");
    }
    for name in &names {
        let bytes = std::fs::read(shots.join(name)).expect("screenshot");
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "{name} is not a screenshot");
    }
    rt.block_on(store.close());
    drop(engine);
}
