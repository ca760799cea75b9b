//! Data management: data-clarification queries (raised by the data manager on a record or
//! field, answered by the patient's site, closed by the data manager), locks, signatures after
//! re-authentication, and the audit trail of one record with the hash chain's check.
//!
//! The JSON handlers and the screens of these jobs live here. The patient timeline shows this
//! module's [`DataPanel`] and links each of its records ([`RecordRef`]) to [`audit_page`]. Form
//! errors are 422s naming every bad field, in the user's language, with nothing saved; the store
//! refuses changes to a locked patient and says so (409 `locked`).

use crate::AppState;
use crate::access::spec;
use crate::api::visible_patient;
use crate::auth::{Auth, Current};
use crate::error::{ApiError, ApiResult};
use crate::forms::{JsonBody, QueryParams};
use crate::i18n::Tr;
use crate::pages::{Nav, error_page, nav, render};
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use cryoseed_store::model::{DataQuery, Patient, QueryStatus, Role, Signature};
use cryoseed_store::{AuditEntry, AuditReport, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest free text accepted (question, answer, reason).
const MAX_TEXT: usize = 2000;
/// Longest field reference of a query.
const MAX_FIELD: usize = 200;

/// Checks text fields (name, value, longest): each required and not too long; every bad one
/// named at once, in the user's language.
fn check_text(tr: Tr, fields: &[(&str, &str, usize)]) -> ApiResult<()> {
    let mut bad = BTreeMap::new();
    for (name, value, longest) in fields {
        if value.trim().is_empty() {
            bad.insert((*name).to_owned(), tr.get("validation.required").to_owned());
        } else if value.chars().count() > *longest {
            bad.insert((*name).to_owned(), format!("{} (≤ {longest})", tr.get("validation.too_long")));
        }
    }
    if bad.is_empty() { Ok(()) } else { Err(ApiError::invalid(bad)) }
}

/// Percent-encodes a query-string value.
fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn status_code(status: QueryStatus) -> &'static str {
    match status {
        QueryStatus::Open => "open",
        QueryStatus::Answered => "answered",
        QueryStatus::Closed => "closed",
    }
}

/// A UTC instant (`2026-01-05T10:04:00Z`) as the locale's date and the time of day, UTC.
pub fn instant(tr: Tr, iso: &str) -> String {
    match iso.get(11..16) {
        Some(time) => format!("{} {time} UTC", tr.date(iso)),
        None => tr.date(iso),
    }
}

// ---------------------------------------------------------------- records of a patient

/// One record of a patient as the audit trail names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef {
    /// Audit entity (`patient`, `adverse_event`, …).
    pub entity: String,
    /// Its id in the audit trail.
    pub entity_id: String,
}

impl RecordRef {
    /// The record `entity` `entity_id`.
    pub fn new(entity: &str, entity_id: impl ToString) -> RecordRef {
        RecordRef { entity: entity.to_owned(), entity_id: entity_id.to_string() }
    }

    /// Its audit-trail screen.
    pub fn audit_href(&self, patient_id: &str) -> String {
        format!(
            "/patients/{}/audit?entity={}&entity_id={}",
            query_escape(patient_id),
            query_escape(&self.entity),
            query_escape(&self.entity_id)
        )
    }

    /// The timeline with the query form filled in for this record.
    pub fn query_href(&self, patient_id: &str) -> String {
        format!("/patients/{}?field={}#raise", query_escape(patient_id), query_escape(&self.field()))
    }

    /// How a query names the record (`adverse_event 3`); the data manager adds the field.
    pub fn field(&self) -> String {
        format!("{} {}", self.entity, self.entity_id)
    }

    fn kind_key(&self) -> &'static str {
        match self.entity.as_str() {
            "screening" => "event.screening",
            "allocation" => "event.randomization",
            "adjudication" => "event.adjudication",
            "lesion" => "lesions.title",
            "plan" => "event.plan",
            "procedure" => "event.procedure",
            "assessment" => "event.assessment",
            "adverse_event" => "event.adverse_event",
            "deviation" => "event.deviation",
            "query" => "query.one",
            _ => "timeline.title",
        }
    }
}

/// Every record of a patient, in a fixed order: the patient (with its locks, signatures and the
/// audited reads), screening, allocation, lesions, plans, procedures, reads, adjudication,
/// adverse events, deviations, queries.
pub async fn patient_records(store: &Store, patient_id: &str) -> ApiResult<Vec<RecordRef>> {
    let mut out = vec![RecordRef::new("patient", patient_id)];
    if !store.patient_screenings(patient_id).await?.is_empty() {
        out.push(RecordRef::new("screening", patient_id));
    }
    if store.allocation(patient_id).await?.is_some() {
        out.push(RecordRef::new("allocation", patient_id));
    }
    for l in store.patient_lesions(patient_id).await? {
        out.push(RecordRef::new("lesion", format!("{patient_id}/{}", l.lesion_id)));
    }
    for p in store.patient_plans(patient_id).await? {
        out.push(RecordRef::new("plan", p.plan_id));
    }
    for p in store.patient_procedures(patient_id).await? {
        out.push(RecordRef::new("procedure", p.procedure_id));
    }
    for a in store.patient_assessments(patient_id).await? {
        out.push(RecordRef::new("assessment", format!("{patient_id}/{}/{}", a.reader, a.label)));
    }
    if !store.patient_adjudications(patient_id).await?.is_empty() {
        out.push(RecordRef::new("adjudication", patient_id));
    }
    for ae in store.patient_adverse_events(patient_id).await? {
        out.push(RecordRef::new("adverse_event", ae.ae_id));
    }
    for d in store.patient_deviations(patient_id).await? {
        out.push(RecordRef::new("deviation", d.deviation_id));
    }
    for q in store.patient_queries(patient_id).await? {
        out.push(RecordRef::new("query", q.query_id));
    }
    Ok(out)
}

// ---------------------------------------------------------------- queries (API)

/// Filters of the query list (each optional; empty means any).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryFilter {
    /// `open`, `answered` or `closed`.
    #[serde(default)]
    pub status: String,
    /// One centre.
    #[serde(default)]
    pub site_id: String,
    /// One patient.
    #[serde(default)]
    pub patient_id: String,
}

/// A query as listed.
#[derive(Debug, Serialize)]
pub struct QueryView {
    /// Id.
    pub query_id: i64,
    /// The patient.
    pub patient_id: String,
    /// The patient's centre.
    pub site_id: String,
    /// The record and field queried (`adverse_event 3 grade`).
    pub field: String,
    /// The question.
    pub question: String,
    /// Who raised it.
    pub raised_by: String,
    /// The site's answer.
    pub answer: Option<String>,
    /// `open`, `answered`, `closed`.
    pub status: QueryStatus,
}

fn query_view(q: DataQuery, site_id: &str) -> QueryView {
    QueryView {
        query_id: q.query_id,
        patient_id: q.patient_id,
        site_id: site_id.to_owned(),
        field: q.field,
        question: q.question,
        raised_by: q.raised_by,
        answer: q.answer,
        status: q.status,
    }
}

/// The queries `current` may see that match `filter` (investigators: their site's patients).
pub async fn visible_queries(store: &Store, current: &Current, filter: &QueryFilter) -> ApiResult<Vec<QueryView>> {
    let tr = current.tr();
    let status = match filter.status.trim() {
        "" => None,
        "open" => Some(QueryStatus::Open),
        "answered" => Some(QueryStatus::Answered),
        "closed" => Some(QueryStatus::Closed),
        _ => return Err(ApiError::field("status", tr.get("query.bad_status"))),
    };
    let patients: BTreeMap<String, String> =
        store.patients().await?.into_iter().map(|p| (p.patient_id, p.site_id)).collect();
    let site = filter.site_id.trim();
    if !site.is_empty() && !store.sites().await?.iter().any(|s| s.site_id == site) {
        return Err(ApiError::field("site_id", tr.get("query.unknown_site")));
    }
    let patient = filter.patient_id.trim();
    let queries = if patient.is_empty() {
        store.queries().await?
    } else {
        visible_patient(store, current, patient)
            .await
            .map_err(|_| ApiError::field("patient_id", tr.get("query.unknown_patient")))?;
        store.patient_queries(patient).await?
    };
    Ok(queries
        .into_iter()
        .filter_map(|q| {
            let site_id = patients.get(&q.patient_id)?.clone();
            let keep = crate::api::sees_site(current, &site_id)
                && (site.is_empty() || site == site_id)
                && status.is_none_or(|s| s == q.status);
            keep.then(|| query_view(q, &site_id))
        })
        .collect())
}

/// `GET /api/queries?status=&site_id=&patient_id=`.
pub async fn queries(
    State(state): State<AppState>,
    Auth(current): Auth,
    QueryParams(filter): QueryParams<QueryFilter>,
) -> ApiResult<Json<Vec<QueryView>>> {
    Ok(Json(visible_queries(&state.store, &current, &filter).await?))
}

/// A new query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaiseBody {
    /// The record and field (`adverse_event 3 grade`).
    #[serde(default)]
    pub field: String,
    /// The question to the site.
    #[serde(default)]
    pub question: String,
}

/// `POST /api/patients/{id}/queries`.
pub async fn raise_query(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<RaiseBody>,
) -> ApiResult<(StatusCode, Json<QueryView>)> {
    let patient = visible_patient(&state.store, &current, &patient_id).await?;
    check_text(current.tr(), &[("field", &body.field, MAX_FIELD), ("question", &body.question, MAX_TEXT)])?;
    let (field, question) = (body.field.trim(), body.question.trim());
    let query_id = state.store.raise_query(&current.user.user_id, &patient.patient_id, field, question).await?;
    let query = DataQuery {
        query_id,
        patient_id: patient.patient_id,
        field: field.to_owned(),
        question: question.to_owned(),
        raised_by: current.user.user_id.clone(),
        answer: None,
        status: QueryStatus::Open,
    };
    Ok((StatusCode::CREATED, Json(query_view(query, &patient.site_id))))
}

/// The query `query_id` if `current` may see its patient (else 404).
async fn visible_query(store: &Store, current: &Current, query_id: &str) -> ApiResult<(DataQuery, Patient)> {
    let id: i64 = query_id.parse().map_err(|_| ApiError::not_found("query"))?;
    let query =
        store.queries().await?.into_iter().find(|q| q.query_id == id).ok_or_else(|| ApiError::not_found("query"))?;
    let patient = visible_patient(store, current, &query.patient_id).await.map_err(|_| ApiError::not_found("query"))?;
    Ok((query, patient))
}

/// The site's answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The answer.
    #[serde(default)]
    pub answer: String,
}

/// `POST /api/queries/{query_id}/answer` (an open query of the investigator's site).
pub async fn answer_query(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(query_id): Path<String>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> ApiResult<Json<QueryView>> {
    let tr = current.tr();
    let (mut query, patient) = visible_query(&state.store, &current, &query_id).await?;
    check_text(tr, &[("answer", &body.answer, MAX_TEXT)])?;
    if query.status != QueryStatus::Open {
        return Err(ApiError::field("status", tr.get("query.not_open")));
    }
    let answer = body.answer.trim();
    state.store.answer_query(&current.user.user_id, query.query_id, answer).await?;
    query.answer = Some(answer.to_owned());
    query.status = QueryStatus::Answered;
    Ok(Json(query_view(query, &patient.site_id)))
}

/// Closing a query takes no fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {}

/// `POST /api/queries/{query_id}/close` (an answered query).
pub async fn close_query(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(query_id): Path<String>,
    JsonBody(CloseBody {}): JsonBody<CloseBody>,
) -> ApiResult<Json<QueryView>> {
    let (mut query, patient) = visible_query(&state.store, &current, &query_id).await?;
    if query.status != QueryStatus::Answered {
        return Err(ApiError::field("status", current.tr().get("query.not_answered")));
    }
    state.store.close_query(&current.user.user_id, query.query_id).await?;
    query.status = QueryStatus::Closed;
    Ok(Json(query_view(query, &patient.site_id)))
}

// ---------------------------------------------------------------- locks, signatures, chain

/// Why the data is locked or unlocked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// The reason (mandatory, audited).
    #[serde(default)]
    pub reason: String,
}

async fn set_lock(
    state: &AppState,
    current: &Current,
    patient_id: &str,
    reason: &str,
    lock: bool,
) -> ApiResult<StatusCode> {
    let tr = current.tr();
    let patient = visible_patient(&state.store, current, patient_id).await?;
    check_text(tr, &[("reason", reason, MAX_TEXT)])?;
    if patient.locked == lock {
        return Err(ApiError::field(
            "locked",
            tr.get(if lock { "lock.already_locked" } else { "lock.already_unlocked" }),
        ));
    }
    let actor = &current.user.user_id;
    if lock {
        state.store.lock(actor, &patient.patient_id, reason.trim()).await?;
    } else {
        state.store.unlock(actor, &patient.patient_id, reason.trim()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/patients/{id}/lock`.
pub async fn lock(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> ApiResult<StatusCode> {
    set_lock(&state, &current, &patient_id, &body.reason, true).await
}

/// `POST /api/patients/{id}/unlock`.
pub async fn unlock(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> ApiResult<StatusCode> {
    set_lock(&state, &current, &patient_id, &body.reason, false).await
}

/// `GET /api/patients/{id}/signatures`.
pub async fn signatures(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> ApiResult<Json<Vec<Signature>>> {
    let patient = visible_patient(&state.store, &current, &patient_id).await?;
    Ok(Json(state.store.patient_signatures(&patient.patient_id).await?))
}

/// `GET /api/audit/verify`: the whole chain checked, as `cryoseed audit verify` does.
pub async fn verify(State(state): State<AppState>) -> ApiResult<Json<AuditReport>> {
    Ok(Json(state.store.verify_audit().await?))
}

// ---------------------------------------------------------------- the timeline's panel

/// A query as the timeline lists it.
#[derive(Debug)]
pub struct QueryRow {
    /// Id.
    pub query_id: i64,
    /// Record and field.
    pub field: String,
    /// Question.
    pub question: String,
    /// Who raised it.
    pub raised_by: String,
    /// The answer, or empty.
    pub answer: String,
    /// `open`, `answered`, `closed`.
    pub status: &'static str,
    /// The status in the user's language.
    pub status_label: String,
    /// Whether the user may answer it now.
    pub can_answer: bool,
    /// Whether the user may close it now.
    pub can_close: bool,
}

/// A signature as listed.
#[derive(Debug)]
pub struct SignatureRow {
    /// Signer.
    pub signed_by: String,
    /// What was signed.
    pub meaning: String,
    /// When (locale date, UTC time).
    pub signed_at: String,
}

/// The data-management card of the patient timeline (unblinded site staff).
#[derive(Debug)]
pub struct DataPanel {
    /// The patient's queries.
    pub queries: Vec<QueryRow>,
    /// Who signed what and when.
    pub signatures: Vec<SignatureRow>,
    /// Data manager: raise a query.
    pub can_raise: bool,
    /// Data manager: lock or unlock.
    pub can_lock: bool,
    /// Investigator: sign after typing the password again.
    pub can_sign: bool,
    /// Data manager: audit-trail links.
    pub can_audit: bool,
    /// Whether the patient's data is locked.
    pub locked: bool,
    /// The query form's field, from the record link that opened the timeline.
    pub prefill_field: String,
    /// The patient record's audit trail.
    pub audit_href: String,
}

fn allowed(role: Role, method: &str, path: &str) -> bool {
    spec(method, path).is_some_and(|s| s.allows(role))
}

/// The timeline's data-management card of `patient` for `role`.
pub fn panel(
    tr: Tr,
    role: Role,
    patient: &Patient,
    queries: &[DataQuery],
    signatures: &[Signature],
    prefill_field: &str,
) -> DataPanel {
    let can_answer = allowed(role, "POST", "/api/queries/{query_id}/answer");
    let can_close = allowed(role, "POST", "/api/queries/{query_id}/close");
    DataPanel {
        queries: queries
            .iter()
            .map(|q| QueryRow {
                query_id: q.query_id,
                field: q.field.clone(),
                question: q.question.clone(),
                raised_by: q.raised_by.clone(),
                answer: q.answer.clone().unwrap_or_default(),
                status: status_code(q.status),
                status_label: tr.get(&format!("query.status.{}", status_code(q.status))).to_owned(),
                can_answer: can_answer && q.status == QueryStatus::Open,
                can_close: can_close && q.status == QueryStatus::Answered,
            })
            .collect(),
        signatures: signatures
            .iter()
            .map(|s| SignatureRow {
                signed_by: s.signed_by.clone(),
                meaning: s.meaning.clone(),
                signed_at: instant(tr, &s.signed_at),
            })
            .collect(),
        can_raise: allowed(role, "POST", "/api/patients/{patient_id}/queries"),
        can_lock: allowed(role, "POST", "/api/patients/{patient_id}/lock"),
        can_sign: allowed(role, "POST", "/api/patients/{patient_id}/signatures"),
        can_audit: allowed(role, "GET", "/patients/{patient_id}/audit"),
        locked: patient.locked,
        prefill_field: prefill_field.trim().chars().take(MAX_FIELD).collect(),
        audit_href: RecordRef::new("patient", &patient.patient_id).audit_href(&patient.patient_id),
    }
}

// ---------------------------------------------------------------- screens

struct QueryListRow {
    query: QueryView,
    href: String,
    status_label: String,
    can_close: bool,
}

#[derive(Template)]
#[template(path = "queries.html")]
struct QueriesPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    filter: QueryFilter,
    statuses: Vec<(&'static str, String)>,
    sites: Vec<String>,
    rows: Vec<QueryListRow>,
    counts: Vec<(String, usize)>,
}

/// `GET /queries?status=&site_id=&patient_id=`: every query of the visible patients.
pub async fn queries_page(
    State(state): State<AppState>,
    Auth(current): Auth,
    QueryParams(filter): QueryParams<QueryFilter>,
) -> ApiResult<Response> {
    let tr = current.tr();
    let all = visible_queries(&state.store, &current, &QueryFilter::default()).await?;
    let counts = ["open", "answered", "closed"]
        .into_iter()
        .map(|s| {
            let label = tr.get(&format!("query.status.{s}")).to_owned();
            (label, all.iter().filter(|q| status_code(q.status) == s).count())
        })
        .collect();
    let can_close = allowed(current.user.role, "POST", "/api/queries/{query_id}/close");
    let rows = visible_queries(&state.store, &current, &filter)
        .await?
        .into_iter()
        .map(|q| QueryListRow {
            href: format!("/patients/{}#queries", query_escape(&q.patient_id)),
            status_label: tr.get(&format!("query.status.{}", status_code(q.status))).to_owned(),
            can_close: can_close && q.status == QueryStatus::Answered,
            query: q,
        })
        .collect();
    Ok(render(&QueriesPage {
        t: tr,
        nav: nav(&current),
        title_key: "queries.title",
        statuses: ["open", "answered", "closed"]
            .into_iter()
            .map(|s| (s, tr.get(&format!("query.status.{s}")).to_owned()))
            .collect(),
        sites: state.store.sites().await?.into_iter().map(|s| s.site_id).collect(),
        filter,
        rows,
        counts,
    }))
}

/// Which record's audit trail.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPageQuery {
    /// Audit entity (default `patient`).
    #[serde(default)]
    pub entity: String,
    /// Its id (default the patient's).
    #[serde(default)]
    pub entity_id: String,
}

struct RecordLink {
    label: String,
    entity_id: String,
    href: String,
    is_current: bool,
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    action_known: bool,
    field: String,
    old_value: String,
    new_value: String,
    reason: String,
    hash: String,
    hash_ok: bool,
}

struct ChainView {
    intact: bool,
    entries: String,
    head: String,
    broken: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    records: Vec<RecordLink>,
    record_label: String,
    entity_id: String,
    rows: Vec<AuditRow>,
    chain: ChainView,
}

/// The message key of an audit action the store writes (others are shown as their code).
fn action_key(action: &str) -> Option<&'static str> {
    Some(match action {
        "create" => "audit.action.create",
        "update" => "audit.action.update",
        "rescreen" => "audit.action.rescreen",
        "randomize" => "audit.action.randomize",
        "unblind" => "audit.action.unblind",
        "sign" => "audit.action.sign",
        "lock" => "audit.action.lock",
        "unlock" => "audit.action.unlock",
        "export" => "audit.action.export",
        "import" => "audit.action.import",
        "view" => "audit.action.view",
        "login" => "audit.action.login",
        "logout" => "audit.action.logout",
        "reauthenticate" => "audit.action.reauthenticate",
        "set_password" | "change_password" => "audit.action.password",
        "generate_list" => "audit.action.generate_list",
        _ => return None,
    })
}

/// Long values (a created record's JSON) shortened for the table; the API has them whole.
fn shorten(text: &str) -> String {
    const MAX: usize = 240;
    if text.chars().count() <= MAX { text.to_owned() } else { text.chars().take(MAX).collect::<String>() + "…" }
}

/// `GET /patients/{id}/audit?entity=&entity_id=`: the audit entries of one of the patient's
/// records (who, when, what changed, each entry's hash recomputed) and the whole chain's check.
pub async fn audit_page(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    QueryParams(q): QueryParams<AuditPageQuery>,
) -> ApiResult<Response> {
    let tr = current.tr();
    let patient = match crate::pages::page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let id = patient.patient_id;
    let records = patient_records(&state.store, &id).await?;
    let chosen = if q.entity.is_empty() && q.entity_id.is_empty() {
        RecordRef::new("patient", &id)
    } else {
        RecordRef::new(&q.entity, &q.entity_id)
    };
    // Only this patient's records: another patient's trail is opened from that patient.
    if !records.contains(&chosen) {
        return Ok(error_page(tr, StatusCode::NOT_FOUND));
    }
    let entries: Vec<AuditEntry> = state
        .store
        .audit_log(Some(&chosen.entity_id), 0, 1000)
        .await?
        .into_iter()
        .filter(|e| e.entity == chosen.entity)
        .collect();
    if matches!(chosen.entity.as_str(), "allocation" | "plan" | "procedure") {
        state.store.record_view(&current.user.user_id, &chosen.entity, &chosen.entity_id, "audit trail").await?;
    }
    let report = state.store.verify_audit().await?;
    let rows = entries
        .iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: instant(tr, &e.at),
            actor: e.actor.clone(),
            action: action_key(&e.action).map_or_else(|| e.action.clone(), |k| tr.get(k).to_owned()),
            action_known: action_key(&e.action).is_some(),
            field: e.field.clone().unwrap_or_default(),
            old_value: shorten(e.old_value.as_deref().unwrap_or("")),
            new_value: shorten(e.new_value.as_deref().unwrap_or("")),
            reason: e.reason.clone().unwrap_or_default(),
            hash: e.hash.chars().take(12).collect(),
            hash_ok: e.compute_hash() == e.hash,
        })
        .collect();
    let record_label = tr.get(chosen.kind_key()).to_owned();
    Ok(render(&AuditPage {
        t: tr,
        nav: nav(&current),
        title_key: "audit.title",
        records: records
            .iter()
            .map(|r| RecordLink {
                label: tr.get(r.kind_key()).to_owned(),
                entity_id: r.entity_id.clone(),
                href: r.audit_href(&id),
                is_current: *r == chosen,
            })
            .collect(),
        record_label,
        entity_id: chosen.entity_id,
        rows,
        chain: ChainView {
            intact: report.is_intact(),
            entries: tr.number(report.entries as f64, 0),
            head: report.head_hash.chars().take(16).collect(),
            broken: report.first_broken.map(|b| format!("#{} {}", b.seq, b.reason)).unwrap_or_default(),
        },
        patient_id: id,
    }))
}

/// `GET /static/records.js` (signature with re-authentication, export downloads).
pub async fn records_js() -> Response {
    use axum::response::IntoResponse as _;
    ([(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../static/records.js"))
        .into_response()
}
