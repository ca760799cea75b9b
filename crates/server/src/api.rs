//! JSON handlers under `/api`. The guard has checked the session, CSRF token and role; handlers
//! apply the finer rules: an investigator sees only their own site's patients (others are "not
//! found"), blinded roles get views built without treatment data, and reads of unblinded data
//! are audited.

use crate::access::is_blinded;
use crate::auth::{self, Auth, ClientAddress, Current, Viewer};
use crate::error::{ApiError, ApiResult};
use crate::forms::{JsonBody, QueryParams, screening_form};
use crate::i18n::Tr;
use crate::{AppState, openapi, plans};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cryoseed_store::model::{
    Adjudication, AdverseEventForm, AdverseEventRecord, Assessment, DataQuery, Deviation, Lesion, LesionRole, Patient,
    Plan, PlanReview, Procedure, Role, Screening, Signature, StoredAllocation,
};
use cryoseed_store::{AuditEntry, Store};
use cryoseed_trial::ctcae::{Attribution, SeriousCriterion, catalogue};
use cryoseed_trial::eligibility::{CriterionKind, Verdict, assess};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::collections::{BTreeMap, BTreeSet};

/// Seconds within which a signature must follow a re-authentication.
pub const REAUTH_WINDOW_SECONDS: i64 = 300;

// ---------------------------------------------------------------- session

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Json<Value> {
    Json(openapi::document())
}

/// Sign-in body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// User id.
    pub user_id: String,
    /// Password.
    pub password: String,
}

/// What a signed-in user learns about their session.
#[derive(Debug, Serialize)]
pub struct SessionView {
    /// User id.
    pub user_id: String,
    /// Full name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Site, if site-bound.
    pub site_id: Option<String>,
    /// Language.
    pub locale: &'static str,
    /// Send back as `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
}

fn session_view(c: &Current) -> SessionView {
    SessionView {
        user_id: c.user.user_id.clone(),
        name: c.user.name.clone(),
        role: c.user.role,
        site_id: c.user.site_id.clone(),
        locale: c.locale.code(),
        csrf_token: c.csrf_token.clone(),
    }
}

/// Checks a password for `user_id` with the same work whether or not the user exists (the
/// dummy hash has the same parameters as real ones), off the async threads.
async fn password_ok(state: &AppState, user_id: &str, password: &str) -> ApiResult<bool> {
    let stored = state.store.password_hash(user_id).await?;
    let known = stored.is_some();
    let phc = stored.unwrap_or_else(|| state.dummy_hash.as_str().to_owned());
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &phc))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(known && matches)
}

fn login_failed(tr: Tr) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "login_failed", tr.get("login.failed"))
}

fn rate_limited(tr: Tr) -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", tr.get("login.rate_limited"))
}

/// `POST /api/session`: sign in. Unknown user and wrong password get the same status, code and
/// message after the same password-hash work; failures count against the account id and the
/// client address.
pub async fn login(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody<LoginBody>,
) -> ApiResult<Response> {
    let tr = Tr::new(viewer.locale);
    if !state.limiter.allowed(&body.user_id, &address) {
        return Err(rate_limited(tr));
    }
    if !password_ok(&state, &body.user_id, &body.password).await? {
        state.limiter.fail(&body.user_id, &address);
        return Err(login_failed(tr));
    }
    state.limiter.succeed(&body.user_id);
    let token = auth::random_hex(32)?;
    let csrf = auth::random_hex(32)?;
    let ttl = i64::try_from(state.cookies.ttl.as_secs()).unwrap_or(i64::MAX);
    let session = state.store.open_session(&body.user_id, &auth::token_hash(&token), &csrf, ttl).await?;
    let current = Current {
        token_sha256: auth::token_hash(&token),
        csrf_token: session.csrf_token,
        locale: crate::i18n::Locale::from_code(&session.locale),
        user: session.user,
    };
    Ok(([(header::SET_COOKIE, state.cookies.set(&token))], Json(session_view(&current))).into_response())
}

/// `GET /api/session`.
pub async fn me(Auth(current): Auth) -> Json<SessionView> {
    Json(session_view(&current))
}

/// `DELETE /api/session`: sign out.
pub async fn logout(State(state): State<AppState>, Auth(current): Auth) -> ApiResult<Response> {
    state.store.close_session(&current.token_sha256).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, state.cookies.clear())]).into_response())
}

/// Re-authentication body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReauthBody {
    /// The password, typed again.
    pub password: String,
}

/// `POST /api/session/reauth`: type the password again (rate-limited like sign-in).
pub async fn reauth(
    State(state): State<AppState>,
    Auth(current): Auth,
    ClientAddress(address): ClientAddress,
    JsonBody(body): JsonBody<ReauthBody>,
) -> ApiResult<StatusCode> {
    let tr = current.tr();
    let user_id = &current.user.user_id;
    if !state.limiter.allowed(user_id, &address) {
        return Err(rate_limited(tr));
    }
    if !password_ok(&state, user_id, &body.password).await? {
        state.limiter.fail(user_id, &address);
        return Err(login_failed(tr));
    }
    state.store.mark_reauthenticated(&current.token_sha256).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Language body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocaleBody {
    /// `en` or `zh`.
    pub locale: String,
}

/// `PUT /api/session/locale`.
pub async fn set_locale(
    State(state): State<AppState>,
    Auth(current): Auth,
    JsonBody(body): JsonBody<LocaleBody>,
) -> ApiResult<StatusCode> {
    state.store.set_locale(&current.user.user_id, &body.locale).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- patients

/// Whether the user may see a patient of `site_id` (investigators: their own site only).
pub fn sees_site(current: &Current, site_id: &str) -> bool {
    match (current.user.role, &current.user.site_id) {
        (Role::Investigator, Some(own)) => own == site_id,
        _ => true,
    }
}

/// One line of the patient list. Blinded roles get only the id, site and date.
#[derive(Debug, Serialize)]
pub struct PatientSummary {
    /// Study id.
    pub patient_id: String,
    /// Centre.
    pub site_id: String,
    /// Screening date.
    pub enrolled_on: String,
    /// `registered`, `eligible`, `ineligible`, `pending` or `randomized` (unblinded roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Whether the data are locked (unblinded roles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
}

fn status_of(screening_status: Option<&str>, randomized: bool) -> &'static str {
    if randomized {
        return "randomized";
    }
    match screening_status {
        Some("eligible") => "eligible",
        Some("ineligible") => "ineligible",
        Some("pending") => "pending",
        _ => "registered",
    }
}

/// The patients `current` may see, in id order.
pub async fn visible_patients(store: &Store, current: &Current) -> ApiResult<Vec<PatientSummary>> {
    let patients = store.patients().await?;
    let blinded = is_blinded(current.user.role);
    let statuses = if blinded { BTreeMap::new() } else { store.patient_statuses().await? };
    Ok(patients
        .into_iter()
        .filter(|p| sees_site(current, &p.site_id))
        .map(|p| {
            let status = statuses.get(&p.patient_id);
            PatientSummary {
                status: (!blinded).then(|| {
                    status_of(status.and_then(|s| s.screening.as_deref()), status.is_some_and(|s| s.randomized))
                }),
                locked: (!blinded).then_some(p.locked),
                patient_id: p.patient_id,
                site_id: p.site_id,
                enrolled_on: p.enrolled_on,
            }
        })
        .collect())
}

/// `GET /api/patients`.
pub async fn patients(State(state): State<AppState>, Auth(current): Auth) -> ApiResult<Json<Vec<PatientSummary>>> {
    Ok(Json(visible_patients(&state.store, &current).await?))
}

/// The patient, if it exists and the user may see it (else 404: another site's patient is not
/// revealed).
pub async fn visible_patient(store: &Store, current: &Current, patient_id: &str) -> ApiResult<Patient> {
    match store.patient(patient_id).await {
        Ok(p) if sees_site(current, &p.site_id) => Ok(p),
        Ok(_) | Err(cryoseed_store::StoreError::NotFound { .. }) => Err(ApiError::not_found("patient")),
        Err(e) => Err(e.into()),
    }
}

/// The allocation as the site sees it once committed.
#[derive(Debug, Serialize)]
pub struct AllocationView {
    /// `experimental` or `control`.
    pub arm: cryoseed_core::Arm,
    /// Stratum.
    pub stratum: String,
    /// Sequence number in the stratum.
    pub sequence_number: u32,
    /// Date.
    pub randomized_on: String,
    /// Who randomized.
    pub randomized_by: String,
}

impl From<StoredAllocation> for AllocationView {
    fn from(a: StoredAllocation) -> Self {
        AllocationView {
            arm: a.arm,
            stratum: a.stratum,
            sequence_number: a.sequence_number,
            randomized_on: a.randomized_on,
            randomized_by: a.randomized_by,
        }
    }
}

/// A plan as listed (the document is served by the plan-review screen, later).
#[derive(Debug, Serialize)]
pub struct PlanSummary {
    /// Plan id.
    pub plan_id: i64,
    /// Lesion.
    pub lesion_id: String,
    /// SHA-256 of the document.
    pub sha256: String,
}

/// Everything about one patient, for unblinded roles.
#[derive(Debug, Serialize)]
pub struct PatientRecord {
    /// The patient.
    pub patient: Patient,
    /// The screening and its verdicts.
    pub screening: Option<Screening>,
    /// The allocation, once randomized.
    pub allocation: Option<AllocationView>,
    /// Lesions.
    pub lesions: Vec<Lesion>,
    /// Plans.
    pub plans: Vec<PlanSummary>,
    /// Procedures.
    pub procedures: Vec<Procedure>,
    /// Imaging reads.
    pub assessments: Vec<Assessment>,
    /// Adjudication.
    pub adjudication: Option<Adjudication>,
    /// Adverse events: the most recent [`TIMELINE_ADVERSE_EVENTS`] (below `ae_before` when the
    /// timeline pages back), in id order; the whole list is paged at
    /// `GET /api/patients/{id}/adverse-events`.
    pub adverse_events: Vec<AdverseEventRecord>,
    /// How many adverse events the patient has in all.
    pub adverse_events_total: u64,
    /// Whether the patient has events older than the first of `adverse_events`.
    pub older_adverse_events: bool,
    /// Deviations.
    pub deviations: Vec<Deviation>,
    /// Queries.
    pub queries: Vec<DataQuery>,
    /// Signatures.
    pub signatures: Vec<Signature>,
}

/// What a blinded reviewer or adjudicator may know about a patient. Built field by field: no
/// treatment data can slip in with a record type.
#[derive(Debug, Serialize)]
pub struct BlindedPatient {
    /// Study id.
    pub patient_id: String,
    /// Centre.
    pub site_id: String,
    /// Lesions (id, RECIST role, organ, bulky index).
    pub lesions: Vec<Lesion>,
    /// Reads: a reader's own; every read for an adjudicator.
    pub assessments: Vec<Assessment>,
    /// Adjudication (adjudicator only).
    pub adjudication: Option<Adjudication>,
}

/// Reads `current` may see of a patient: a reader only their own.
fn reads_for(current: &Current, reads: Vec<Assessment>, patient_id: &str) -> Vec<Assessment> {
    reads
        .into_iter()
        .filter(|a| a.patient_id == patient_id)
        .filter(|a| current.user.role != Role::Reader || a.reader == current.user.user_id)
        .collect()
}

/// The blinded view of a patient.
pub async fn blinded_patient(store: &Store, current: &Current, patient: Patient) -> ApiResult<BlindedPatient> {
    let id = patient.patient_id.clone();
    Ok(BlindedPatient {
        lesions: store.patient_lesions(&id).await?,
        assessments: reads_for(current, store.patient_assessments(&id).await?, &id),
        adjudication: if current.user.role == Role::Adjudicator {
            store.patient_adjudications(&id).await?.into_iter().next()
        } else {
            None
        },
        patient_id: id,
        site_id: patient.site_id,
    })
}

/// Adverse events in a patient's record (the timeline); older ones are a page away.
pub const TIMELINE_ADVERSE_EVENTS: u32 = 50;

/// The full record of a patient (unblinded roles), with the adverse events below `ae_before`
/// (the most recent when `None`); the read is audited when it shows the arm, plans or
/// procedures.
pub async fn patient_record(
    store: &Store,
    current: &Current,
    patient: Patient,
    ae_before: Option<i64>,
) -> ApiResult<PatientRecord> {
    let id = patient.patient_id.clone();
    // One more than shown tells whether older events remain.
    let (mut adverse_events, adverse_events_total) =
        store.patient_adverse_events_page(&id, TIMELINE_ADVERSE_EVENTS + 1, ae_before).await?;
    let older_adverse_events = adverse_events.len() > TIMELINE_ADVERSE_EVENTS as usize;
    if older_adverse_events {
        adverse_events.remove(0);
    }
    let record = PatientRecord {
        screening: store.patient_screenings(&id).await?.into_iter().next(),
        allocation: store.allocation(&id).await?.map(AllocationView::from),
        lesions: store.patient_lesions(&id).await?,
        plans: store
            .patient_plans(&id)
            .await?
            .into_iter()
            .map(|p| PlanSummary { plan_id: p.plan_id, lesion_id: p.lesion_id, sha256: p.sha256 })
            .collect(),
        procedures: store.patient_procedures(&id).await?,
        assessments: reads_for(current, store.patient_assessments(&id).await?, &id),
        adjudication: store.patient_adjudications(&id).await?.into_iter().next(),
        adverse_events,
        adverse_events_total,
        older_adverse_events,
        deviations: store.patient_deviations(&id).await?,
        queries: store.patient_queries(&id).await?,
        signatures: store.patient_signatures(&id).await?,
        patient,
    };
    let mut shown = Vec::new();
    if record.allocation.is_some() {
        shown.push("arm");
    }
    if !record.plans.is_empty() {
        shown.push("plans");
    }
    if !record.procedures.is_empty() {
        shown.push("procedures");
    }
    if !shown.is_empty() {
        store.record_view(&current.user.user_id, "patient", &id, &shown.join(", ")).await?;
    }
    Ok(record)
}

/// `GET /api/patients/{id}`: the full record, or the blinded view for readers and adjudicators.
pub async fn patient(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> ApiResult<Response> {
    let patient = visible_patient(&state.store, &current, &patient_id).await?;
    // Serialized straight to the body (no intermediate `Value`: a long record costs twice).
    Ok(if is_blinded(current.user.role) {
        Json(blinded_patient(&state.store, &current, patient).await?).into_response()
    } else {
        Json(patient_record(&state.store, &current, patient, None).await?).into_response()
    })
}

// ---------------------------------------------------------------- screening, randomization

/// One criterion of the checklist, in the user's language.
#[derive(Debug, Serialize)]
pub struct CriterionView {
    /// Stable id (`inclusion.age`).
    pub id: String,
    /// `inclusion` or `exclusion`.
    pub kind: &'static str,
    /// The criterion's name in the user's language.
    pub title: String,
    /// `met`, `not_met` or `undecided`.
    pub verdict: &'static str,
    /// The verdict in the user's language.
    pub verdict_label: String,
    /// The protocol's rule (protocol text, English).
    pub rule: String,
    /// What the data say, or what is missing.
    pub evidence: String,
}

/// The checklist of an eligibility assessment.
#[derive(Debug, Serialize)]
pub struct Checklist {
    /// `eligible`, `ineligible` or `pending`.
    pub status: String,
    /// The status in the user's language.
    pub status_label: String,
    /// Every criterion.
    pub criteria: Vec<CriterionView>,
}

fn verdict_key(v: &str) -> &'static str {
    if v == "met" {
        "met"
    } else if v == "not_met" {
        "not_met"
    } else {
        "undecided"
    }
}

/// The checklist of stored criteria (`{id, kind, verdict, rule, evidence}`).
pub fn checklist_of(status: &str, criteria: &Value, tr: Tr) -> Checklist {
    let criteria = criteria
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|c| {
                    let text = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                    let id = text("id");
                    let raw = text("verdict");
                    let verdict = verdict_key(&raw);
                    CriterionView {
                        title: tr.get(&format!("criterion.{id}")).to_owned(),
                        kind: if text("kind") == "exclusion" { "exclusion" } else { "inclusion" },
                        verdict,
                        verdict_label: tr.get(&format!("verdict.{verdict}")).to_owned(),
                        rule: text("rule"),
                        evidence: if verdict == "undecided" { raw } else { text("evidence") },
                        id,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Checklist { status: status.to_owned(), status_label: tr.get(&format!("status.{status}")).to_owned(), criteria }
}

fn assessment_json(assessment: &cryoseed_trial::eligibility::Assessment) -> Value {
    Value::Array(
        assessment
            .criteria
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "kind": match c.kind { CriterionKind::Inclusion => "inclusion", CriterionKind::Exclusion => "exclusion" },
                    "verdict": match &c.verdict {
                        Verdict::Met => "met".to_owned(),
                        Verdict::NotMet => "not_met".to_owned(),
                        Verdict::Undecided { missing } => format!("undecided: {} missing", missing.join(", ")),
                    },
                    "rule": c.rule,
                    "evidence": c.evidence,
                })
            })
            .collect(),
    )
}

/// `POST /api/eligibility`: the live checklist of an unfinished form (nothing is saved).
pub async fn eligibility(
    State(state): State<AppState>,
    Auth(current): Auth,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Checklist>> {
    let form = screening_form(&body, current.locale, true)?;
    let assessment = assess(&form.record, &state.protocol);
    Ok(Json(checklist_of(&assessment.status().to_string(), &assessment_json(&assessment), current.tr())))
}

/// `POST /api/screenings`: records a screening (one transaction: patient, screening, lesions).
pub async fn screen(
    State(state): State<AppState>,
    Auth(current): Auth,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Checklist>)> {
    let form = screening_form(&body, current.locale, false)?;
    if !sees_site(&current, form.record.site_id.as_str()) {
        return Err(ApiError::field("site_id", "you may screen only at your own site"));
    }
    if let Ok(existing) = state.store.patient(form.record.patient_id.as_str()).await
        && !sees_site(&current, &existing.site_id)
    {
        return Err(ApiError::field("patient_id", "this patient id belongs to another site"));
    }
    let s =
        state.store.record_screening(&current.user.user_id, &form.record, &form.screened_on, &state.protocol).await?;
    Ok((StatusCode::CREATED, Json(checklist_of(&s.status, &s.criteria, current.tr()))))
}

/// Randomization body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomizeBody {
    /// Date of randomization.
    pub randomized_on: String,
}

/// `POST /api/patients/{id}/randomize`: the arm is returned once the enrolment is committed.
pub async fn randomize(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<RandomizeBody>,
) -> ApiResult<Json<Value>> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let a = state.store.randomize(&current.user.user_id, &patient_id, &body.randomized_on, &state.protocol).await?;
    Ok(Json(json!({
        "patient_id": a.patient_id.to_string(),
        "arm": a.arm,
        "stratum": a.stratum.to_string(),
        "sequence_number": a.sequence_number,
    })))
}

// ---------------------------------------------------------------- plans and procedures

/// The patient's stored plans as the plan-review screen reads them; the read is audited.
pub async fn plan_views(store: &Store, current: &Current, patient_id: &str) -> ApiResult<Vec<plans::PlanGroupView>> {
    let stored: Vec<Plan> = store.patient_plans(patient_id).await?;
    if !stored.is_empty() {
        store.record_view(&current.user.user_id, "patient", patient_id, "plans").await?;
    }
    let mut groups = plans::review(&stored, current.tr());
    if !groups.is_empty() {
        let reviewed = store.reviewed_plans(patient_id).await?;
        for g in &mut groups {
            g.has_review = reviewed.contains(&g.plan_sha256);
        }
    }
    Ok(groups)
}

/// `GET /api/patients/{id}/plans`: every stored plan, grouped by the upload it came from, newest
/// first (audited).
pub async fn plans(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<plans::PlanGroupView>>> {
    visible_patient(&state.store, &current, &patient_id).await?;
    Ok(Json(plan_views(&state.store, &current, &patient_id).await?))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /api/patients/{id}/plans`: the body is the patient's `plan.json` as `cryoseed plan`
/// wrote it, or `{"plan": "<plan.json text>", "review": "<review.json text>"}` to store the
/// plan's review bundle with it (the texts as the files hold them, so that the plan keeps the
/// SHA-256 of its file, which the bundle names). The plan must be this patient's, made under the
/// service's protocol for the randomized arm (and the centre's control modality), and allocate
/// only the patient's lesions; the bundle must name that plan. One lesion plan per allocated
/// lesion and the bundle are stored, all or none.
pub async fn store_plan(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Vec<PlanSummary>>)> {
    crate::forms::require_json(&headers, "send the plan as application/json")?;
    let patient = visible_patient(&state.store, &current, &patient_id).await?;
    let upload = plans::Upload::parse(&body, current.tr())?;
    let allocation = state.store.allocation(&patient_id).await?;
    let control_modality =
        state.store.sites().await?.into_iter().find(|s| s.site_id == patient.site_id).and_then(|s| s.control_modality);
    let lesions: Vec<String> =
        state.store.patient_lesions(&patient_id).await?.into_iter().map(|l| l.lesion_id).collect();
    let protocol_sha256 = state.protocol.hash().to_string();
    let sha256 = hex(&sha2::Sha256::digest(upload.plan_text));
    let expected = plans::Expected {
        patient_id: &patient_id,
        arm: allocation.map(|a| a.arm),
        control_modality,
        protocol_sha256: &protocol_sha256,
        lesions: &lesions,
    };
    let documents = plans::lesion_documents(&upload.plan, &sha256, &expected, current.tr())?;
    if let Some((review, _)) = &upload.review {
        plans::check_review(review, &upload.plan, &sha256, current.tr())?;
    }
    let records: Vec<Plan> = documents
        .into_iter()
        .map(|(lesion_id, doc)| Plan {
            plan_id: 0,
            patient_id: patient_id.clone(),
            lesion_id,
            document: doc.to_string(),
            sha256: String::new(),
        })
        .collect();
    let review = upload.review.map(|(_, text)| PlanReview {
        review_id: 0,
        patient_id: patient_id.clone(),
        plan_sha256: sha256.clone(),
        document: text.to_owned(),
        sha256: String::new(),
    });
    let (stored, _) = state.store.record_plans(&current.user.user_id, &records, review.as_ref()).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            stored
                .into_iter()
                .map(|p| PlanSummary { plan_id: p.plan_id, lesion_id: p.lesion_id, sha256: p.sha256 })
                .collect(),
        ),
    ))
}

/// `GET /api/patients/{id}/plans/{plan_sha256}/review`: the review bundle stored with a plan
/// (DVH curves and slice vectors, the `review.json` of `cryoseed plan`) as it was uploaded; the
/// read is audited. 404 when the plan came without one.
pub async fn plan_review(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path((patient_id, plan_sha256)): Path<(String, String)>,
) -> ApiResult<Response> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let review = state.store.plan_review(&patient_id, &plan_sha256).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no review bundle for plan {plan_sha256}"))
    })?;
    state.store.record_view(&current.user.user_id, "patient", &patient_id, "plan_review").await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], review.document).into_response())
}

/// `POST /api/patients/{id}/procedures`: one lesion's procedure, checked field by field; the
/// patient must be randomized, and the date not before the randomization. The lesion's latest
/// plan (if any) is referenced by its SHA-256.
pub async fn record_procedure(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<(StatusCode, Json<Procedure>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let tr = current.tr();
    let lesions: Vec<String> =
        state.store.patient_lesions(&patient_id).await?.into_iter().map(|l| l.lesion_id).collect();
    let freeze_thaw: Vec<String> = state.protocol.cryo.freeze_thaw.iter().map(|f| f.name.clone()).collect();
    let form = crate::forms::procedure_form(&body, current.locale, &lesions, &freeze_thaw)?;
    let Some(allocation) = state.store.allocation(&patient_id).await? else {
        return Err(ApiError::field("patient_id", tr.get("procedure.not_randomized")));
    };
    if form.performed_on < allocation.randomized_on {
        return Err(ApiError::field(
            "performed_on",
            format!("{} ({})", tr.get("procedure.before_randomization"), tr.date(&allocation.randomized_on)),
        ));
    }
    let plan_sha256 = state
        .store
        .patient_plans(&patient_id)
        .await?
        .into_iter()
        .rfind(|p| p.lesion_id == form.lesion_id)
        .map(|p| p.sha256);
    let mut details = serde_json::Map::new();
    if let Some(sha) = plan_sha256 {
        details.insert("plan_sha256".into(), json!(sha));
    }
    if let Some(n) = form.needles {
        details.insert("needles".into(), json!(n));
    }
    if let Some(n) = form.probes {
        details.insert("probes".into(), json!(n));
    }
    if let Some(name) = &form.freeze_thaw {
        details.insert("freeze_thaw".into(), json!(name));
    }
    let mut procedure = Procedure {
        procedure_id: 0,
        patient_id,
        lesion_id: form.lesion_id,
        modality: form.modality,
        performed_on: form.performed_on,
        is_reintervention: form.is_reintervention,
        seeds_implanted: form.seeds_implanted,
        details: Value::Object(details),
        notes: form.notes,
        qa: None,
    };
    procedure.procedure_id = state.store.record_procedure(&current.user.user_id, &procedure).await?;
    Ok((StatusCode::CREATED, Json(procedure)))
}

// ---------------------------------------------------------------- lesions, reads, adjudication

/// `GET /api/patients/{id}/lesions`.
pub async fn lesions(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<Lesion>>> {
    visible_patient(&state.store, &current, &patient_id).await?;
    Ok(Json(state.store.patient_lesions(&patient_id).await?))
}

/// A new lesion.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LesionBody {
    /// Lesion code.
    pub lesion_id: String,
    /// RECIST role.
    pub role: LesionRole,
    /// Organ.
    pub organ: cryoseed_core::Organ,
    /// Bulky index lesion.
    #[serde(default)]
    pub is_bulky_index: bool,
}

/// `POST /api/patients/{id}/lesions`.
pub async fn add_lesion(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<LesionBody>,
) -> ApiResult<(StatusCode, Json<Lesion>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let lesion = Lesion {
        patient_id,
        lesion_id: body.lesion_id,
        role: body.role,
        organ: body.organ,
        is_bulky_index: body.is_bulky_index,
    };
    state.store.add_lesion(&current.user.user_id, &lesion).await?;
    Ok((StatusCode::CREATED, Json(lesion)))
}

/// `GET /api/patients/{id}/assessments`: a reader sees only their own reads.
pub async fn assessments(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<Assessment>>> {
    visible_patient(&state.store, &current, &patient_id).await?;
    Ok(Json(reads_for(&current, state.store.patient_assessments(&patient_id).await?, &patient_id)))
}

/// A read of one time point.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    /// Time point (`baseline`, `M3`, …).
    pub label: String,
    /// Scan date.
    pub assessed_on: String,
    /// `{"lesions": [...], "new_lesions": [...]}`.
    pub observations: Value,
}

/// `POST /api/patients/{id}/assessments`: the signed-in reader's read.
pub async fn record_assessment(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<ReadBody>,
) -> ApiResult<(StatusCode, Json<Assessment>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let read = Assessment {
        patient_id,
        reader: current.user.user_id.clone(),
        label: body.label,
        assessed_on: body.assessed_on,
        observations: body.observations,
    };
    state.store.record_assessment(&current.user.user_id, &read).await?;
    Ok((StatusCode::CREATED, Json(read)))
}

/// A patient awaiting adjudication, with each reader's sum of target diameters per time point.
#[derive(Debug, Serialize)]
pub struct QueueItem {
    /// Study id.
    pub patient_id: String,
    /// The readers.
    pub readers: Vec<String>,
    /// Time point → reader → sum of measured diameters (mm).
    pub sums_mm: BTreeMap<String, BTreeMap<String, f64>>,
}

/// Patients read by two or more readers and not yet adjudicated.
pub async fn queue(store: &Store) -> ApiResult<Vec<QueueItem>> {
    let adjudicated: BTreeSet<String> = store.adjudications().await?.into_iter().map(|a| a.patient_id).collect();
    let mut by_patient: BTreeMap<String, Vec<Assessment>> = BTreeMap::new();
    for a in store.assessments().await? {
        if !adjudicated.contains(&a.patient_id) {
            by_patient.entry(a.patient_id.clone()).or_default().push(a);
        }
    }
    Ok(by_patient
        .into_iter()
        .filter_map(|(patient_id, reads)| {
            let readers: BTreeSet<String> = reads.iter().map(|a| a.reader.clone()).collect();
            (readers.len() >= 2).then(|| {
                let mut sums_mm: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
                for a in &reads {
                    let sum: f64 = a
                        .observations
                        .get("lesions")
                        .and_then(Value::as_array)
                        .map(|ls| ls.iter().filter_map(|l| l.get("diameter_mm").and_then(Value::as_f64)).sum())
                        .unwrap_or(0.0);
                    sums_mm.entry(a.label.clone()).or_default().insert(a.reader.clone(), sum);
                }
                QueueItem { patient_id, readers: readers.into_iter().collect(), sums_mm }
            })
        })
        .collect())
}

/// `GET /api/adjudications`.
pub async fn adjudication_queue(State(state): State<AppState>) -> ApiResult<Json<Vec<QueueItem>>> {
    Ok(Json(queue(&state.store).await?))
}

/// An adjudication.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationBody {
    /// The reader whose reads are accepted.
    pub accepted_reader: String,
    /// Why.
    pub reason: String,
}

/// `POST /api/patients/{id}/adjudication`.
pub async fn adjudicate(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<AdjudicationBody>,
) -> ApiResult<(StatusCode, Json<Adjudication>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let adjudication = Adjudication {
        patient_id,
        adjudicator: current.user.user_id.clone(),
        accepted_reader: body.accepted_reader,
        reason: body.reason,
    };
    state.store.record_adjudication(&current.user.user_id, &adjudication).await?;
    Ok((StatusCode::CREATED, Json(adjudication)))
}

// ---------------------------------------------------------------- adverse events

/// `?limit=&before=` of the adverse-event list.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventPage {
    /// Events per page, 1 to [`MAX_ADVERSE_EVENT_PAGE`] (default [`ADVERSE_EVENT_PAGE`]).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only events with a smaller id (the `Link: rel="next"` of the previous page).
    #[serde(default)]
    pub before: Option<i64>,
}

/// Default page size of the adverse-event list.
pub const ADVERSE_EVENT_PAGE: u32 = 100;
/// Largest page of the adverse-event list.
pub const MAX_ADVERSE_EVENT_PAGE: u32 = 500;

/// `GET /api/patients/{id}/adverse-events[?limit=N&before=ID]`: the most recent `limit` events
/// (below `before`), in id order; `X-Total-Count` says how many the patient has, and `Link:
/// <…?limit=N&before=ID>; rel="next"` points at the older ones while there are any.
pub async fn adverse_events(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    QueryParams(q): QueryParams<AdverseEventPage>,
) -> ApiResult<Response> {
    let limit = q.limit.unwrap_or(ADVERSE_EVENT_PAGE);
    if !(1..=MAX_ADVERSE_EVENT_PAGE).contains(&limit) {
        return Err(ApiError::field("limit", format!("{limit}: between 1 and {MAX_ADVERSE_EVENT_PAGE}")));
    }
    visible_patient(&state.store, &current, &patient_id).await?;
    // One more than asked tells whether older events remain.
    let (mut page, total) = state.store.patient_adverse_events_page(&patient_id, limit + 1, q.before).await?;
    let more = page.len() > limit as usize;
    if more {
        page.remove(0);
    }
    let mut response = Json(page.as_slice()).into_response();
    let headers = response.headers_mut();
    headers.insert("x-total-count", axum::http::HeaderValue::from(total));
    if let (true, Some(first)) = (more, page.first()) {
        let link =
            format!("</api/patients/{patient_id}/adverse-events?limit={limit}&before={}>; rel=\"next\"", first.ae_id);
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            headers.insert(axum::http::header::LINK, value);
        }
    }
    Ok(response)
}

/// An adverse event as entered.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdverseEventBody {
    /// CTCAE term.
    pub term: String,
    /// Grade 1–5.
    pub grade: u8,
    /// For "Other, specify" terms.
    #[serde(default)]
    pub specification: Option<String>,
    /// Attributions.
    #[serde(default)]
    pub attributions: Vec<Attribution>,
    /// Seriousness criteria.
    #[serde(default)]
    pub serious: Vec<SeriousCriterion>,
    /// Onset date.
    pub onset: String,
    /// Resolution date.
    #[serde(default)]
    pub resolution: Option<String>,
    /// MedDRA version.
    pub meddra_version: String,
}

/// `POST /api/patients/{id}/adverse-events`.
pub async fn record_adverse_event(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<AdverseEventBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    let form = AdverseEventForm {
        patient_id,
        term: body.term,
        grade: body.grade,
        specification: body.specification.filter(|s| !s.trim().is_empty()),
        attributions: body.attributions,
        serious: body.serious,
        onset: body.onset,
        resolution: body.resolution.filter(|s| !s.trim().is_empty()),
        meddra_version: body.meddra_version,
    };
    let id = state.store.record_adverse_event(&current.user.user_id, &form).await?;
    Ok((StatusCode::CREATED, Json(json!({"ae_id": id}))))
}

/// Term-search query.
#[derive(Debug, Deserialize)]
pub struct TermQuery {
    /// Text to search.
    #[serde(default)]
    pub q: String,
    /// At most this many (1–50, default 10).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `GET /api/ctcae/terms?q=`: terms with their grade definitions.
pub async fn ctcae_terms(QueryParams(query): QueryParams<TermQuery>) -> Json<Vec<Value>> {
    let limit = query.limit.unwrap_or(10).clamp(1, 50);
    Json(
        catalogue()
            .search(&query.q, limit)
            .into_iter()
            .map(|t| {
                json!({
                    "term": t.term,
                    "meddra_code": t.meddra_code,
                    "soc": t.soc,
                    "definition": t.definition,
                    "other_specify": t.is_other_specify(),
                    "grades": (1..=5u8)
                        .filter_map(|g| t.grades[usize::from(g - 1)].as_ref().map(|d| json!({"grade": g, "definition": d})))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- signatures, audit, allocations

/// A signature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignBody {
    /// What the signature means.
    pub meaning: String,
}

/// `POST /api/patients/{id}/signatures`: only within five minutes of a re-authentication.
pub async fn sign(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<SignBody>,
) -> ApiResult<(StatusCode, Json<Signature>)> {
    visible_patient(&state.store, &current, &patient_id).await?;
    if !state.store.reauthenticated_within(&current.token_sha256, REAUTH_WINDOW_SECONDS).await? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "reauthentication_required",
            "type your password again (POST /api/session/reauth) before signing",
        ));
    }
    let signature = state.store.sign(&current.user.user_id, &patient_id, &body.meaning).await?;
    Ok((StatusCode::CREATED, Json(signature)))
}

/// Audit query.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// The record's id (`SIM-0001`, `SIM-0001/T1`, an adverse-event id…).
    #[serde(default)]
    pub entity_id: String,
    /// Entries after this sequence number.
    #[serde(default)]
    pub after: i64,
    /// At most this many (1–1000, default 200).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/audit?entity_id=`.
pub async fn audit(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    if q.entity_id.trim().is_empty() {
        return Err(ApiError::field("entity_id", "is required"));
    }
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(state.store.audit_log(Some(&q.entity_id), q.after, limit).await?))
}

/// `GET /api/allocations`: the statistician's view of every allocation; audited.
pub async fn allocations(State(state): State<AppState>, Auth(current): Auth) -> ApiResult<Json<Vec<StoredAllocation>>> {
    let list = state.store.allocations().await?;
    state.store.record_view(&current.user.user_id, "allocation", "*", "allocation list").await?;
    Ok(Json(list))
}
