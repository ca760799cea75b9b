//! Who may call what: one declarative table of every route × role.
//!
//! The router is built from this table ([`crate::app`] refuses to start when a handler has no
//! row or a row has no handler), the guard middleware checks every request against it before any
//! handler runs, the OpenAPI document lists its API rows, and the authorization-matrix test walks
//! it. Finer rules live in the handlers and are tested separately: an investigator sees only
//! their own site's patients; blinded roles (reader, adjudicator) get views without arm,
//! modality, plan, procedure, seed, probe or dose data.

use cryoseed_store::model::Role;

/// What a route serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// JSON under `/api`: errors are the JSON error shape, 401 when signed out.
    Api,
    /// An HTML screen: signed-out users are sent to the sign-in page.
    Page,
    /// A static asset (script, style sheet).
    Static,
}

/// One route and the roles allowed to call it.
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: &'static str,
    /// Path, with `{name}` parameters (axum 0.8 syntax).
    pub path: &'static str,
    /// What it serves.
    pub kind: Kind,
    /// One line for the OpenAPI document.
    pub summary: &'static str,
    /// `None`: public (no session needed); otherwise the roles allowed.
    pub roles: Option<&'static [Role]>,
}

impl RouteSpec {
    /// Whether `role` may call the route (public routes: everyone).
    pub fn allows(&self, role: Role) -> bool {
        self.roles.is_none_or(|roles| roles.contains(&role))
    }

    /// Whether the method changes state (and so needs the CSRF token).
    pub fn is_state_changing(&self) -> bool {
        !matches!(self.method, "GET" | "HEAD" | "OPTIONS")
    }
}

/// Every role, in the store's order.
pub const ALL_ROLES: &[Role] =
    &[Role::Admin, Role::Investigator, Role::Statistician, Role::DataManager, Role::Reader, Role::Adjudicator];

/// Roles that never see treatment data.
pub const BLINDED_ROLES: &[Role] = &[Role::Reader, Role::Adjudicator];

/// Whether a role is blinded to arm, modality, plans, procedures and dose.
pub fn is_blinded(role: Role) -> bool {
    BLINDED_ROLES.contains(&role)
}

const ANY: Option<&[Role]> = Some(ALL_ROLES);
const SITE_STAFF: Option<&[Role]> = Some(&[Role::Investigator, Role::DataManager]);
const PATIENT_VIEWERS: Option<&[Role]> =
    Some(&[Role::Investigator, Role::DataManager, Role::Reader, Role::Adjudicator]);
const INVESTIGATOR: Option<&[Role]> = Some(&[Role::Investigator]);
const READERS: Option<&[Role]> = Some(&[Role::Reader]);
const ADJUDICATOR: Option<&[Role]> = Some(&[Role::Adjudicator]);
const DATA_MANAGER: Option<&[Role]> = Some(&[Role::DataManager]);
const STATISTICIAN: Option<&[Role]> = Some(&[Role::Statistician]);

const fn route(
    method: &'static str,
    path: &'static str,
    kind: Kind,
    summary: &'static str,
    roles: Option<&'static [Role]>,
) -> RouteSpec {
    RouteSpec { method, path, kind, summary, roles }
}

/// The table. Keep it in the order of the router's handler list (not required, but readable).
pub const ROUTES: &[RouteSpec] = &[
    // ---- API: session ----
    route("GET", "/api/openapi.json", Kind::Api, "This API as an OpenAPI 3.1 document", None),
    route("POST", "/api/session", Kind::Api, "Sign in with user id and password; sets the session cookie", None),
    route("GET", "/api/session", Kind::Api, "The signed-in user, role, site, language and CSRF token", ANY),
    route("DELETE", "/api/session", Kind::Api, "Sign out", ANY),
    route("POST", "/api/session/reauth", Kind::Api, "Type the password again (required before signing)", ANY),
    route("PUT", "/api/session/locale", Kind::Api, "Choose the interface language (en, zh)", ANY),
    // ---- API: patients ----
    route(
        "GET",
        "/api/patients",
        Kind::Api,
        "Patients the user may see (site-filtered, blinded views)",
        PATIENT_VIEWERS,
    ),
    route(
        "GET",
        "/api/patients/{patient_id}",
        Kind::Api,
        "One patient's record (blinded view for readers and adjudicators)",
        PATIENT_VIEWERS,
    ),
    route(
        "POST",
        "/api/eligibility",
        Kind::Api,
        "Evaluate a screening form against the protocol without saving it",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/screenings",
        Kind::Api,
        "Record a screening (registers the patient) with its eligibility verdicts",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/randomize",
        Kind::Api,
        "Randomize an eligible patient; the arm is shown once committed",
        INVESTIGATOR,
    ),
    route(
        "GET",
        "/api/patients/{patient_id}/plans",
        Kind::Api,
        "The patient's stored plans: allocation per lesion with reasons, constraint verdicts (audited)",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/plans",
        Kind::Api,
        "Store the patient's plan.json of `cryoseed plan` (checked against patient, protocol, arm, lesions); or {\"plan\": TEXT, \"review\": TEXT} to store its review.json with it (checked to name that plan)",
        INVESTIGATOR,
    ),
    route(
        "GET",
        "/api/patients/{patient_id}/plans/{plan_sha256}/review",
        Kind::Api,
        "A stored plan's review bundle (review.json of `cryoseed plan`: DVH curves, slice outlines, isodoses, isotherms; audited)",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/procedures",
        Kind::Api,
        "Record a procedure on one lesion (modality, date, seeds, needles, probes, freeze-thaw protocol)",
        SITE_STAFF,
    ),
    route("GET", "/api/patients/{patient_id}/lesions", Kind::Api, "The patient's lesions", PATIENT_VIEWERS),
    route("POST", "/api/patients/{patient_id}/lesions", Kind::Api, "Add a lesion", SITE_STAFF),
    route(
        "GET",
        "/api/patients/{patient_id}/assessments",
        Kind::Api,
        "Imaging reads (a reader sees only their own)",
        PATIENT_VIEWERS,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/assessments",
        Kind::Api,
        "Record the signed-in reader's read of a time point",
        READERS,
    ),
    route("GET", "/api/adjudications", Kind::Api, "Patients read by two readers and not yet adjudicated", ADJUDICATOR),
    route(
        "POST",
        "/api/patients/{patient_id}/adjudication",
        Kind::Api,
        "Accept one reader's reads, with a reason",
        ADJUDICATOR,
    ),
    route(
        "GET",
        "/api/patients/{patient_id}/adverse-events",
        Kind::Api,
        "The patient's adverse events, a page at a time (most recent first page; Link and X-Total-Count headers)",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/adverse-events",
        Kind::Api,
        "Record an adverse event (CTCAE v5.0 checked)",
        SITE_STAFF,
    ),
    route("GET", "/api/ctcae/terms", Kind::Api, "Search CTCAE v5.0 terms with their grade definitions", SITE_STAFF),
    route(
        "POST",
        "/api/patients/{patient_id}/signatures",
        Kind::Api,
        "Sign the patient's record (re-authentication within 5 minutes)",
        INVESTIGATOR,
    ),
    route("GET", "/api/audit", Kind::Api, "Audit trail entries of one record (entity_id)", DATA_MANAGER),
    route("GET", "/api/allocations", Kind::Api, "The allocation list (statistician only; audited)", STATISTICIAN),
    // ---- API: data management (crate::records) ----
    route(
        "GET",
        "/api/queries",
        Kind::Api,
        "Data-clarification queries of the patients the user may see (filters: status, site_id, patient_id)",
        SITE_STAFF,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/queries",
        Kind::Api,
        "Raise a query on one of the patient's records or fields",
        DATA_MANAGER,
    ),
    route(
        "POST",
        "/api/queries/{query_id}/answer",
        Kind::Api,
        "Answer an open query (the patient's site)",
        INVESTIGATOR,
    ),
    route("POST", "/api/queries/{query_id}/close", Kind::Api, "Close an answered query", DATA_MANAGER),
    route(
        "POST",
        "/api/patients/{patient_id}/lock",
        Kind::Api,
        "Lock the patient's data (later changes are refused), with a reason",
        DATA_MANAGER,
    ),
    route(
        "POST",
        "/api/patients/{patient_id}/unlock",
        Kind::Api,
        "Unlock the patient's data, with a reason",
        DATA_MANAGER,
    ),
    route(
        "GET",
        "/api/patients/{patient_id}/signatures",
        Kind::Api,
        "Who signed the patient's record, what and when",
        SITE_STAFF,
    ),
    route(
        "GET",
        "/api/audit/verify",
        Kind::Api,
        "Check the audit trail's hash chain (`cryoseed audit verify`)",
        DATA_MANAGER,
    ),
    // ---- API: statistician (crate::statistics) ----
    route(
        "GET",
        "/api/statistics",
        Kind::Api,
        "Enrolment by site, CONSORT counts and every endpoint by arm, as `cryoseed report` computes them (audited)",
        STATISTICIAN,
    ),
    route(
        "POST",
        "/api/exports/{dataset}",
        Kind::Api,
        "Download a zip of SDTM, ADaM, de-identified IPD (ipd_seed) or the analysis report (audited)",
        STATISTICIAN,
    ),
    // ---- screens ----
    route("GET", "/", Kind::Page, "Home: the user's first screen", None),
    route("GET", "/login", Kind::Page, "Sign-in screen", None),
    route("POST", "/logout", Kind::Page, "Sign out (form)", ANY),
    route("POST", "/locale", Kind::Page, "Choose the interface language (form)", ANY),
    route("GET", "/patients", Kind::Page, "Patient list", PATIENT_VIEWERS),
    route("GET", "/patients/{patient_id}", Kind::Page, "Patient timeline", PATIENT_VIEWERS),
    route("GET", "/screening", Kind::Page, "Screening with the live eligibility checklist", SITE_STAFF),
    route(
        "GET",
        "/patients/{patient_id}/plans",
        Kind::Page,
        "Plan review: allocation table with reasons, constraint verdicts, DVH chart and slice viewer",
        SITE_STAFF,
    ),
    route("GET", "/patients/{patient_id}/procedures/new", Kind::Page, "Procedure entry (one lesion)", SITE_STAFF),
    route("GET", "/patients/{patient_id}/read", Kind::Page, "Reader workstation", READERS),
    route(
        "GET",
        "/patients/{patient_id}/adverse-events/new",
        Kind::Page,
        "Adverse-event entry with CTCAE term search",
        SITE_STAFF,
    ),
    route("GET", "/adjudications", Kind::Page, "Adjudication queue", ADJUDICATOR),
    route("GET", "/queries", Kind::Page, "Queries across patients, with filters", DATA_MANAGER),
    route(
        "GET",
        "/patients/{patient_id}/audit",
        Kind::Page,
        "Audit trail of one of the patient's records, with the hash-chain check",
        DATA_MANAGER,
    ),
    route("GET", "/statistics", Kind::Page, "Statistician dashboard (audited)", STATISTICIAN),
    route("GET", "/static/app.js", Kind::Static, "Screen behaviour (forms, term search, checklist)", None),
    route(
        "GET",
        "/static/treatment.js",
        Kind::Static,
        "Behaviour of the treatment screens (procedure form, plan upload, DVH chart and slice viewer); unblinded site staff only",
        SITE_STAFF,
    ),
    route("GET", "/static/app.css", Kind::Static, "Style sheet", None),
    route(
        "GET",
        "/static/records.js",
        Kind::Static,
        "Behaviour of the data-management and statistician screens (signature, exports)",
        Some(&[Role::Investigator, Role::DataManager, Role::Statistician]),
    ),
];

/// The row of a method and matched path.
pub fn spec(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
