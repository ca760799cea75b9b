//! Server-rendered screens (askama templates in `templates/`, with `static/app.js` posting to
//! the JSON API). Every string comes from the message catalogue; data that is not language
//! (ids, CTCAE terms, protocol text) is marked `translate="no"`.

use crate::AppState;
use crate::access::{is_blinded, spec};
use crate::api::{self, Checklist};
use crate::auth::{Auth, Current, Viewer, form_field};
use crate::error::ApiError;
use crate::forms::QueryParams;
use crate::i18n::{Locale, Tr};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use cryoseed_core::{Arm, Modality};
use cryoseed_store::model::{LesionRole, Role};
use serde::Deserialize;
use serde_json::Value;

/// A link of the top bar.
#[derive(Debug)]
pub struct NavLink {
    /// Where.
    pub href: &'static str,
    /// Message key of the label.
    pub key: &'static str,
}

/// The top bar of a signed-in screen.
#[derive(Debug)]
pub struct Nav {
    /// Full name.
    pub user_name: String,
    /// Message key of the role.
    pub role_key: &'static str,
    /// The session's CSRF token (forms and scripts send it back).
    pub csrf: String,
    /// The screens the role may open.
    pub links: Vec<NavLink>,
}

fn role_key(role: Role) -> &'static str {
    match role {
        Role::Admin => "role.admin",
        Role::Investigator => "role.investigator",
        Role::Statistician => "role.statistician",
        Role::DataManager => "role.data_manager",
        Role::Reader => "role.reader",
        Role::Adjudicator => "role.adjudicator",
    }
}

pub(crate) fn nav(current: &Current) -> Option<Nav> {
    let links = [
        ("/patients", "nav.patients"),
        ("/screening", "nav.screening"),
        ("/adjudications", "nav.adjudications"),
        ("/queries", "nav.queries"),
        ("/statistics", "nav.statistics"),
    ]
    .into_iter()
    .filter(|(href, _)| spec("GET", href).is_some_and(|s| s.allows(current.user.role)))
    .map(|(href, key)| NavLink { href, key })
    .collect();
    Some(Nav {
        user_name: current.user.name.clone(),
        role_key: role_key(current.user.role),
        csrf: current.csrf_token.clone(),
        links,
    })
}

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

fn organ_label(tr: Tr, organ: &impl serde::Serialize) -> String {
    let code = serde_json::to_value(organ).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    tr.get(&format!("organ.{code}")).to_owned()
}

fn code_of(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Today's date, `YYYY-MM-DD` (UTC), for form defaults.
fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

// ---------------------------------------------------------------- simple screens

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    message_key: &'static str,
}

/// The patient a page is about, when `current` may see it; otherwise the handler's answer: the
/// not-found page (a patient of another site looks exactly like no patient), or the error.
pub async fn page_patient(
    store: &cryoseed_store::Store,
    current: &Current,
    patient_id: &str,
) -> Result<cryoseed_store::model::Patient, Result<Response, ApiError>> {
    match api::visible_patient(store, current, patient_id).await {
        Ok(p) => Ok(p),
        Err(e) if e.status == StatusCode::NOT_FOUND => Err(Ok(error_page(current.tr(), StatusCode::NOT_FOUND))),
        Err(e) => Err(Err(e)),
    }
}

/// An error screen (403, 404) in `tr`'s language.
pub fn error_page(tr: Tr, status: StatusCode) -> Response {
    let (title_key, message_key) = match status {
        StatusCode::NOT_FOUND => ("error.not_found", "error.not_found"),
        _ => ("error.forbidden", "error.forbidden"),
    };
    let mut response = render(&MessagePage { t: tr, nav: None, title_key, message_key });
    *response.status_mut() = status;
    response
}

/// Fallback: JSON 404 under `/api`, a 404 screen elsewhere.
pub async fn not_found(uri: Uri, viewer: Viewer) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found("route").into_response()
    } else {
        error_page(Tr::new(viewer.locale), StatusCode::NOT_FOUND)
    }
}

/// `GET /`: the signed-in user's first screen, or the sign-in screen.
pub async fn home(viewer: Viewer) -> Response {
    match &viewer.current {
        None => Redirect::to("/login").into_response(),
        Some(c) if spec("GET", "/patients").is_some_and(|s| s.allows(c.user.role)) => {
            Redirect::to("/patients").into_response()
        }
        Some(c) if spec("GET", "/statistics").is_some_and(|s| s.allows(c.user.role)) => {
            Redirect::to("/statistics").into_response()
        }
        Some(c) => render(&MessagePage {
            t: c.tr(),
            nav: nav(c),
            title_key: role_key(c.user.role),
            message_key: "home.api_only",
        }),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
}

/// `?lang=` of the sign-in screen.
#[derive(Debug, Deserialize)]
pub struct LangQuery {
    /// `en` or `zh`.
    pub lang: Option<String>,
}

/// `GET /login`.
pub async fn login(viewer: Viewer, QueryParams(q): QueryParams<LangQuery>) -> Response {
    if viewer.current.is_some() {
        return Redirect::to("/").into_response();
    }
    let locale = q.lang.as_deref().map_or(viewer.locale, Locale::from_code);
    render(&LoginPage { t: Tr::new(locale), nav: None, title_key: "login.title" })
}

/// `POST /logout` (form with the CSRF field).
pub async fn logout(State(state): State<AppState>, Auth(current): Auth) -> Result<Response, ApiError> {
    state.store.close_session(&current.token_sha256).await?;
    Ok(([(header::SET_COOKIE, state.cookies.clear())], Redirect::to("/login")).into_response())
}

/// `POST /locale` (form: `locale`, `csrf`): switches the language and returns to the screen.
pub async fn set_locale(
    State(state): State<AppState>,
    Auth(current): Auth,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let locale = form_field(&body, "locale").unwrap_or_default();
    state.store.set_locale(&current.user.user_id, &locale).await?;
    // Back to the same-origin screen the form was on: the form's `back` field (set by app.js;
    // the service sends no Referer), else the Referer, else home.
    let local = |p: &String| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\');
    let back = form_field(&body, "back")
        .filter(local)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| {
                    r.find("://").map(|i| &r[i + 3..]).and_then(|rest| rest.find('/').map(|j| rest[j..].to_owned()))
                })
                .filter(local)
        })
        .unwrap_or_else(|| "/".to_owned());
    Ok(Redirect::to(&back).into_response())
}

// ---------------------------------------------------------------- patient list and timeline

struct PatientRow {
    patient_id: String,
    href: String,
    site_id: String,
    enrolled_on: String,
    status: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    rows: Vec<PatientRow>,
    can_screen: bool,
    show_status: bool,
}

/// `GET /patients`.
pub async fn patients(State(state): State<AppState>, Auth(current): Auth) -> Result<Response, ApiError> {
    let tr = current.tr();
    let reader = current.user.role == Role::Reader;
    let rows = api::visible_patients(&state.store, &current)
        .await?
        .into_iter()
        .map(|p| PatientRow {
            href: if reader {
                format!("/patients/{}/read", p.patient_id)
            } else {
                format!("/patients/{}", p.patient_id)
            },
            status: p.status.map(|s| tr.get(&format!("status.{s}")).to_owned()).unwrap_or_default(),
            locked: p.locked.unwrap_or(false),
            enrolled_on: tr.date(&p.enrolled_on),
            patient_id: p.patient_id,
            site_id: p.site_id,
        })
        .collect();
    Ok(render(&PatientsPage {
        t: tr,
        nav: nav(&current),
        title_key: "patients.title",
        rows,
        can_screen: spec("GET", "/screening").is_some_and(|s| s.allows(current.user.role)),
        show_status: !is_blinded(current.user.role),
    }))
}

struct LesionRow {
    lesion_id: String,
    role: String,
    organ: String,
    bulky: bool,
}

struct EventRow {
    sort: String,
    date: String,
    kind: String,
    label: String,
    data: String,
    /// The record's audit-trail screen and the query form for it (empty: not a record).
    audit_href: String,
    query_href: String,
}

impl EventRow {
    /// The event is the record `entity` `entity_id` of `patient_id`.
    fn of(mut self, patient_id: &str, entity: &str, entity_id: impl ToString) -> EventRow {
        let record = crate::records::RecordRef::new(entity, entity_id);
        self.audit_href = record.audit_href(patient_id);
        self.query_href = record.query_href(patient_id);
        self
    }
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    site_id: String,
    enrolled_on: String,
    locked: bool,
    arm: Option<String>,
    checklist: Option<Checklist>,
    lesions: Vec<LesionRow>,
    events: Vec<EventRow>,
    can_randomize: bool,
    can_record_ae: bool,
    can_read: bool,
    can_review_plans: bool,
    can_record_procedure: bool,
    today: String,
    data: Option<crate::records::DataPanel>,
    ae_window: Option<AeWindow>,
}

/// Which adverse events the timeline shows when it does not show them all.
struct AeWindow {
    /// `shown / total`, locale-formatted.
    shown: String,
    /// The page of older events, when there are any.
    older: Option<String>,
    /// Back to the most recent events (when paged back).
    newest: Option<String>,
}

/// `?field=` of the timeline: a record link's query reference for the query form.
#[derive(Debug, Default, Deserialize)]
pub struct TimelineQuery {
    /// Record and field (`adverse_event 3`).
    #[serde(default)]
    pub field: String,
    /// Show the adverse events below this id (paging back through a long list).
    #[serde(default)]
    pub ae_before: Option<i64>,
}

fn lesion_rows(tr: Tr, lesions: &[cryoseed_store::model::Lesion]) -> Vec<LesionRow> {
    lesions
        .iter()
        .map(|l| LesionRow {
            lesion_id: l.lesion_id.clone(),
            role: tr
                .get(match l.role {
                    LesionRole::Target => "lesion.target",
                    LesionRole::NonTarget => "lesion.non_target",
                })
                .to_owned(),
            organ: organ_label(tr, &l.organ),
            bulky: l.is_bulky_index,
        })
        .collect()
}

fn event(tr: Tr, date: &str, kind: &str, label: String, data: String) -> EventRow {
    EventRow {
        sort: date.to_owned(),
        date: tr.date(date),
        kind: tr.get(kind).to_owned(),
        label,
        data,
        audit_href: String::new(),
        query_href: String::new(),
    }
}

/// `GET /patients/{id}`: the timeline. Blinded roles see lesions and their reads only.
pub async fn patient(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
    QueryParams(q): QueryParams<TimelineQuery>,
) -> Result<Response, ApiError> {
    let tr = current.tr();
    let patient = match page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let role = current.user.role;
    let pid = patient.patient_id.clone();
    let mut events = Vec::new();
    let mut data = None;
    let (lesions, arm, checklist, randomized, eligible);
    let mut ae_window = None;
    if is_blinded(role) {
        let view = api::blinded_patient(&state.store, &current, patient.clone()).await?;
        lesions = lesion_rows(tr, &view.lesions);
        for a in &view.assessments {
            events.push(event(
                tr,
                &a.assessed_on,
                "event.assessment",
                String::new(),
                format!("{} · {}", a.label, a.reader),
            ));
        }
        (arm, checklist, randomized, eligible) = (None, None, false, false);
    } else {
        let record = api::patient_record(&state.store, &current, patient.clone(), q.ae_before).await?;
        let shown = record.adverse_events.len() as u64;
        if record.adverse_events_total > shown || q.ae_before.is_some() {
            let older = record
                .adverse_events
                .first()
                .filter(|_| record.older_adverse_events)
                .map(|first| format!("/patients/{pid}?ae_before={}", first.ae_id));
            ae_window = Some(AeWindow {
                shown: format!("{} / {}", tr.number(shown as f64, 0), tr.number(record.adverse_events_total as f64, 0)),
                older,
                newest: q.ae_before.map(|_| format!("/patients/{pid}")),
            });
        }
        lesions = lesion_rows(tr, &record.lesions);
        randomized = record.allocation.is_some();
        eligible = record.screening.as_ref().is_some_and(|s| s.status == "eligible");
        arm = record.allocation.as_ref().map(|a| arm_label(tr, a.arm));
        checklist = record.screening.as_ref().map(|s| api::checklist_of(&s.status, &s.criteria, tr));
        if let Some(s) = &record.screening {
            events.push(
                event(
                    tr,
                    &s.screened_on,
                    "event.screening",
                    tr.get(&format!("status.{}", s.status)).to_owned(),
                    String::new(),
                )
                .of(&pid, "screening", &pid),
            );
        }
        if let (Some(a), Some(label)) = (&record.allocation, &arm) {
            events.push(event(tr, &a.randomized_on, "event.randomization", label.clone(), String::new()).of(
                &pid,
                "allocation",
                &pid,
            ));
        }
        for p in &record.procedures {
            let modality = tr.get(match p.modality {
                Modality::Seeds => "modality.seeds",
                Modality::Cryo => "modality.cryo",
            });
            events.push(event(tr, &p.performed_on, "event.procedure", modality.to_owned(), p.lesion_id.clone()).of(
                &pid,
                "procedure",
                p.procedure_id,
            ));
        }
        for p in &record.plans {
            events.push(
                event(
                    tr,
                    "",
                    "event.plan",
                    String::new(),
                    format!("{} · {}", p.lesion_id, &p.sha256[..12.min(p.sha256.len())]),
                )
                .of(&pid, "plan", p.plan_id),
            );
        }
        for a in &record.assessments {
            events.push(
                event(tr, &a.assessed_on, "event.assessment", String::new(), format!("{} · {}", a.label, a.reader)).of(
                    &pid,
                    "assessment",
                    format!("{pid}/{}/{}", a.reader, a.label),
                ),
            );
        }
        for ae in &record.adverse_events {
            events.push(
                event(
                    tr,
                    &ae.form.onset,
                    "event.adverse_event",
                    format!("{} {}", tr.get("grade.label"), ae.form.grade),
                    ae.form.term.clone(),
                )
                .of(&pid, "adverse_event", ae.ae_id),
            );
        }
        for d in &record.deviations {
            events.push(event(tr, &d.occurred_on, "event.deviation", String::new(), d.category.clone()).of(
                &pid,
                "deviation",
                d.deviation_id,
            ));
        }
        for s in &record.signatures {
            events.push(
                event(tr, &s.signed_at, "event.signature", String::new(), s.signed_by.clone())
                    .of(&pid, "patient", &pid),
            );
        }
        data = Some(crate::records::panel(tr, role, &record.patient, &record.queries, &record.signatures, &q.field));
    }
    events.sort_by(|a, b| a.sort.cmp(&b.sort));
    let allows = |path: &str, method: &str| spec(method, path).is_some_and(|s| s.allows(role));
    Ok(render(&PatientPage {
        t: tr,
        nav: nav(&current),
        title_key: "timeline.title",
        site_id: patient.site_id,
        enrolled_on: tr.date(&patient.enrolled_on),
        locked: patient.locked,
        arm,
        checklist,
        lesions,
        events,
        can_randomize: eligible && !randomized && allows("/api/patients/{patient_id}/randomize", "POST"),
        can_record_ae: allows("/patients/{patient_id}/adverse-events/new", "GET"),
        can_read: allows("/patients/{patient_id}/read", "GET"),
        can_review_plans: randomized && allows("/patients/{patient_id}/plans", "GET"),
        can_record_procedure: randomized && allows("/patients/{patient_id}/procedures/new", "GET"),
        today: today(),
        data,
        ae_window,
        patient_id: patient.patient_id,
    }))
}

// ---------------------------------------------------------------- screening

struct Question {
    key: &'static str,
    name: &'static str,
}

#[derive(Template)]
#[template(path = "screening.html")]
struct ScreeningPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    fixed_site: Option<String>,
    sites: Vec<String>,
    today: String,
    ecogs: Vec<u8>,
    questions: Vec<Question>,
    labs: Vec<Question>,
    exclusions: Vec<Question>,
    rows: Vec<usize>,
    organs: Vec<(String, String)>,
}

const ORGANS: &[&str] = &[
    "liver",
    "lung",
    "bone",
    "lymph_node",
    "soft_tissue",
    "kidney",
    "pelvis",
    "skin",
    "spinal_cord",
    "bowel",
    "nerve",
    "heart",
    "aorta",
    "vena_cava",
    "other_vessel",
    "central_airway",
];

/// `GET /screening`: the screening form and its live eligibility checklist.
pub async fn screening(State(state): State<AppState>, Auth(current): Auth) -> Result<Response, ApiError> {
    let tr = current.tr();
    let q = |key, name| Question { key, name };
    Ok(render(&ScreeningPage {
        t: tr,
        nav: nav(&current),
        title_key: "screening.title",
        fixed_site: if current.user.role == Role::Investigator { current.user.site_id.clone() } else { None },
        sites: state.store.sites().await?.into_iter().map(|s| s.site_id).collect(),
        today: today(),
        ecogs: (0..=5).collect(),
        questions: vec![
            q("screening.histology", "histology_confirmed"),
            q("screening.metastatic", "metastatic"),
            q("screening.not_curable", "not_amenable_to_curative_therapy"),
        ],
        labs: vec![
            q("lab.platelets", "labs.platelets_e9_per_l"),
            q("lab.inr", "labs.inr"),
            q("lab.anc", "labs.anc_e9_per_l"),
            q("lab.haemoglobin", "labs.haemoglobin_g_per_l"),
            q("lab.bilirubin", "labs.bilirubin_x_uln"),
            q("lab.ast", "labs.ast_x_uln"),
            q("lab.alt", "labs.alt_x_uln"),
            q("lab.creatinine_clearance", "labs.creatinine_clearance_ml_per_min"),
        ],
        exclusions: [
            "emergent_intervention",
            "target_not_accessible",
            "uncontrolled_infection",
            "uncontrolled_effusion",
            "severe_cardiopulmonary",
            "prior_local_therapy_bulky",
            "uncontrolled_cns",
        ]
        .into_iter()
        .map(|name| Question { key: exclusion_key(name), name: exclusion_name(name) })
        .collect(),
        rows: (0..3).collect(),
        organs: ORGANS.iter().map(|o| ((*o).to_owned(), tr.get(&format!("organ.{o}")).to_owned())).collect(),
    }))
}

fn exclusion_key(name: &str) -> &'static str {
    match name {
        "emergent_intervention" => "excl.emergent_intervention",
        "target_not_accessible" => "excl.target_not_accessible",
        "uncontrolled_infection" => "excl.uncontrolled_infection",
        "uncontrolled_effusion" => "excl.uncontrolled_effusion",
        "severe_cardiopulmonary" => "excl.severe_cardiopulmonary",
        "prior_local_therapy_bulky" => "excl.prior_local_therapy_bulky",
        _ => "excl.uncontrolled_cns",
    }
}

fn exclusion_name(name: &str) -> &'static str {
    match name {
        "emergent_intervention" => "exclusions.emergent_intervention",
        "target_not_accessible" => "exclusions.target_not_accessible",
        "uncontrolled_infection" => "exclusions.uncontrolled_infection",
        "uncontrolled_effusion" => "exclusions.uncontrolled_effusion",
        "severe_cardiopulmonary" => "exclusions.severe_cardiopulmonary",
        "prior_local_therapy_bulky" => "exclusions.prior_local_therapy_bulky",
        _ => "exclusions.uncontrolled_cns",
    }
}

// ---------------------------------------------------------------- reader workstation

struct ReadRow {
    label: String,
    date: String,
    sum: String,
}

#[derive(Template)]
#[template(path = "read.html")]
struct ReadPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    lesions: Vec<LesionRow>,
    statuses: Vec<(String, String)>,
    time_points: Vec<&'static str>,
    previous: Vec<ReadRow>,
    today: String,
}

/// `GET /patients/{id}/read`: one time point's measurements per lesion; no treatment data.
pub async fn reader_workstation(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> Result<Response, ApiError> {
    let tr = current.tr();
    let patient = match page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let view = api::blinded_patient(&state.store, &current, patient).await?;
    let previous = view
        .assessments
        .iter()
        .map(|a| ReadRow {
            label: a.label.clone(),
            date: tr.date(&a.assessed_on),
            sum: tr.number(
                a.observations
                    .get("lesions")
                    .and_then(Value::as_array)
                    .map(|ls| ls.iter().filter_map(|l| l.get("diameter_mm").and_then(Value::as_f64)).sum())
                    .unwrap_or(0.0),
                1,
            ),
        })
        .collect();
    let statuses = ["measured", "too_small", "disappeared", "unequivocal_progression", "not_evaluated"]
        .into_iter()
        .map(|s| (s.to_owned(), tr.get(&format!("obs.{s}")).to_owned()))
        .collect();
    Ok(render(&ReadPage {
        t: tr,
        nav: nav(&current),
        title_key: "read.title",
        lesions: lesion_rows(tr, &view.lesions),
        statuses,
        time_points: vec!["baseline", "M3", "M6", "M9", "M12"],
        previous,
        today: today(),
        patient_id: view.patient_id,
    }))
}

// ---------------------------------------------------------------- adverse events

#[derive(Template)]
#[template(path = "adverse_event.html")]
struct AdverseEventPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    grades: Vec<u8>,
    causes: Vec<(String, String)>,
    certainties: Vec<(String, String)>,
    serious: Vec<(String, String)>,
    today: String,
}

/// `GET /patients/{id}/adverse-events/new`: entry with CTCAE term search.
pub async fn adverse_event_entry(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> Result<Response, ApiError> {
    use cryoseed_trial::ctcae::{Cause, Certainty, SeriousCriterion};
    let tr = current.tr();
    let patient = match page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let options = |prefix: &str, codes: Vec<String>| -> Vec<(String, String)> {
        codes.into_iter().map(|c| (c.clone(), tr.get(&format!("{prefix}.{c}")).to_owned())).collect()
    };
    Ok(render(&AdverseEventPage {
        t: tr,
        nav: nav(&current),
        title_key: "ae.title",
        patient_id: patient.patient_id,
        grades: (1..=5).collect(),
        causes: options(
            "cause",
            [Cause::Disease, Cause::Cryoablation, Cause::SeedImplantation, Cause::Radiation, Cause::Other]
                .iter()
                .map(code_of)
                .collect(),
        ),
        certainties: options(
            "certainty",
            [Certainty::Unrelated, Certainty::Unlikely, Certainty::Possible, Certainty::Probable, Certainty::Definite]
                .iter()
                .map(code_of)
                .collect(),
        ),
        serious: options(
            "serious",
            [
                SeriousCriterion::Death,
                SeriousCriterion::LifeThreatening,
                SeriousCriterion::Hospitalization,
                SeriousCriterion::Disability,
                SeriousCriterion::CongenitalAnomaly,
                SeriousCriterion::ImportantMedicalEvent,
            ]
            .iter()
            .map(code_of)
            .collect(),
        ),
        today: today(),
    }))
}

// ---------------------------------------------------------------- plan review

#[derive(Template)]
#[template(path = "plans.html")]
struct PlanReviewPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    arm: Option<String>,
    groups: Vec<crate::plans::PlanGroupView>,
    can_upload: bool,
}

/// `GET /patients/{id}/plans`: the allocation table with reasons and the constraint verdicts of
/// every stored plan (never for blinded roles: the route table leaves them out); audited.
pub async fn plan_review(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> Result<Response, ApiError> {
    let tr = current.tr();
    let patient = match page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let allocation = state.store.allocation(&patient.patient_id).await?;
    if allocation.is_some() {
        state.store.record_view(&current.user.user_id, "patient", &patient.patient_id, "arm").await?;
    }
    let groups = api::plan_views(&state.store, &current, &patient.patient_id).await?;
    Ok(render(&PlanReviewPage {
        t: tr,
        nav: nav(&current),
        title_key: "plan.title",
        arm: allocation.map(|a| arm_label(tr, a.arm)),
        groups,
        can_upload: spec("POST", "/api/patients/{patient_id}/plans").is_some_and(|s| s.allows(current.user.role)),
        patient_id: patient.patient_id,
    }))
}

fn arm_label(tr: Tr, arm: Arm) -> String {
    tr.get(match arm {
        Arm::Experimental => "arm.experimental",
        Arm::Control => "arm.control",
    })
    .to_owned()
}

// ---------------------------------------------------------------- procedure entry

struct ProcedureRow {
    date: String,
    lesion_id: String,
    modality: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "procedure.html")]
struct ProcedurePage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    patient_id: String,
    lesions: Vec<(String, String)>,
    freeze_thaw: Vec<String>,
    default_freeze_thaw: String,
    recorded: Vec<ProcedureRow>,
    today: String,
}

/// `GET /patients/{id}/procedures/new`: one lesion's procedure, with the planned treatment of
/// each lesion beside its id and the procedures already recorded.
pub async fn procedure_entry(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(patient_id): Path<String>,
) -> Result<Response, ApiError> {
    let tr = current.tr();
    let patient = match page_patient(&state.store, &current, &patient_id).await {
        Ok(p) => p,
        Err(answer) => return answer,
    };
    let id = patient.patient_id;
    let groups = api::plan_views(&state.store, &current, &id).await?;
    let planned = |lesion: &str| -> String {
        groups
            .iter()
            .flat_map(|g| &g.lesions)
            .find(|l| l.lesion_id == lesion && !l.decision.is_empty())
            .map(|l| format!(" — {}: {}", tr.get("procedure.planned"), l.decision_label))
            .unwrap_or_default()
    };
    let lesions = state
        .store
        .patient_lesions(&id)
        .await?
        .into_iter()
        .map(|l| {
            let label = format!("{} · {}{}", l.lesion_id, organ_label(tr, &l.organ), planned(&l.lesion_id));
            (l.lesion_id, label)
        })
        .collect();
    let procedures = state.store.patient_procedures(&id).await?;
    if !procedures.is_empty() {
        state.store.record_view(&current.user.user_id, "patient", &id, "procedures").await?;
    }
    let recorded = procedures
        .into_iter()
        .map(|p| ProcedureRow {
            date: tr.date(&p.performed_on),
            modality: tr
                .get(match p.modality {
                    Modality::Seeds => "modality.seeds",
                    Modality::Cryo => "modality.cryo",
                })
                .to_owned(),
            summary: p.seeds_implanted.map(|n| format!("{n}")).unwrap_or_else(|| {
                p.details.get("probes").and_then(Value::as_u64).map(|n| n.to_string()).unwrap_or_default()
            }),
            lesion_id: p.lesion_id,
        })
        .collect();
    Ok(render(&ProcedurePage {
        t: tr,
        nav: nav(&current),
        title_key: "procedure.title",
        patient_id: id,
        lesions,
        freeze_thaw: state.protocol.cryo.freeze_thaw.iter().map(|f| f.name.clone()).collect(),
        default_freeze_thaw: state.protocol.cryo.default_freeze_thaw.clone(),
        recorded,
        today: today(),
    }))
}

// ---------------------------------------------------------------- adjudication queue

struct QueueView {
    patient_id: String,
    readers: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "adjudications.html")]
struct AdjudicationsPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    items: Vec<QueueView>,
}

/// `GET /adjudications`.
pub async fn adjudications(State(state): State<AppState>, Auth(current): Auth) -> Result<Response, ApiError> {
    let tr = current.tr();
    let items = api::queue(&state.store)
        .await?
        .into_iter()
        .map(|item| QueueView {
            rows: item
                .sums_mm
                .iter()
                .map(|(label, by_reader)| {
                    (
                        label.clone(),
                        item.readers
                            .iter()
                            .map(|r| by_reader.get(r).map_or_else(String::new, |v| tr.number(*v, 1)))
                            .collect(),
                    )
                })
                .collect(),
            patient_id: item.patient_id,
            readers: item.readers,
        })
        .collect();
    Ok(render(&AdjudicationsPage { t: tr, nav: nav(&current), title_key: "adj.title", items }))
}

// ---------------------------------------------------------------- static assets

/// `GET /static/app.js`.
pub async fn app_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../static/app.js")).into_response()
}

/// `GET /static/treatment.js` (site staff only: it names treatment fields).
pub async fn treatment_js() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../static/treatment.js")).into_response()
}

/// `GET /static/app.css`.
pub async fn app_css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/app.css")).into_response()
}
