//! The trial's web service: a JSON API under `/api` and server-rendered screens, on
//! `cryoseed-store`.
//!
//! - [`app`] builds the axum router from [`access::ROUTES`], the one table of every route ×
//!   role; [`auth::guard`] checks each request against it (session, CSRF token, role) before the
//!   handler runs, and the router refuses to build when a handler has no row or a row no handler.
//! - Sign-in ([`auth`]): Argon2id password hashes, random 256-bit session tokens stored only as
//!   SHA-256, `HttpOnly; SameSite=Strict` cookies (`Secure` unless on loopback HTTP), a CSRF
//!   token per session, login rate limiting per account and per address, one message and the
//!   same work for an unknown user and a wrong password.
//! - Blinding: readers and adjudicators get views built without arm, modality, plan, procedure,
//!   seed, probe or dose fields ([`api`]); reads of unblinded data are audited
//!   ([`cryoseed_store::Store::record_view`]).
//! - Languages ([`i18n`]): English and Simplified Chinese, per user.
//! - [`openapi`]: the OpenAPI document, generated from the route table.
//! - [`plans`]: a `cryoseed plan` record checked against the trial and split per lesion; the
//!   plan-review screen's reading of the stored documents.
//! - [`records`]: data management (queries, locks, signatures, a record's audit trail);
//!   [`statistics`]: the statistician's dashboard and the exports ([`zip`] archives).
//! - [`demo`]: a small synthetic trial with one user of every role.

pub mod access;
pub mod api;
pub mod auth;
pub mod demo;
pub mod error;
pub mod forms;
pub mod i18n;
pub mod openapi;
pub mod pages;
pub mod plans;
pub mod records;
pub mod statistics;
pub mod zip;

use crate::access::ROUTES;
use crate::auth::{CookieConfig, LoginLimiter, LoginLimits};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, delete, get, post, put};
use cryoseed_core::protocol::Protocol;
use cryoseed_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// `Secure` cookies (HTTPS). Turn off only for plain HTTP on a loopback address.
    pub secure_cookies: bool,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Failed sign-ins allowed.
    pub login_limits: LoginLimits,
    /// The protocol (eligibility rules, randomization design).
    pub protocol: Protocol,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            secure_cookies: true,
            session_ttl: Duration::from_secs(8 * 3600),
            login_limits: LoginLimits::default(),
            protocol: Protocol::shipped(),
        }
    }
}

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The trial database.
    pub store: Store,
    /// The protocol.
    pub protocol: Arc<Protocol>,
    /// Session cookie settings.
    pub cookies: Arc<CookieConfig>,
    /// Failed sign-in counters.
    pub limiter: Arc<LoginLimiter>,
    /// A hash verified when the user is unknown, so that both failures cost the same.
    pub(crate) dummy_hash: Arc<String>,
}

impl AppState {
    /// The state for `store` with `options`.
    pub fn new(store: Store, options: Options) -> Result<AppState, error::ApiError> {
        Ok(AppState {
            store,
            protocol: Arc::new(options.protocol),
            cookies: Arc::new(CookieConfig { secure: options.secure_cookies, ttl: options.session_ttl }),
            limiter: Arc::new(LoginLimiter::new(options.login_limits)),
            dummy_hash: Arc::new(auth::hash_password(&auth::random_hex(16)?)?),
        })
    }
}

type Handler = (&'static str, &'static str, MethodRouter<AppState>);

/// Every handler, with the method and path of its row in [`ROUTES`].
fn handlers() -> Vec<Handler> {
    vec![
        ("GET", "/api/openapi.json", get(api::openapi_json)),
        ("POST", "/api/session", post(api::login)),
        ("GET", "/api/session", get(api::me)),
        ("DELETE", "/api/session", delete(api::logout)),
        ("POST", "/api/session/reauth", post(api::reauth)),
        ("PUT", "/api/session/locale", put(api::set_locale)),
        ("GET", "/api/patients", get(api::patients)),
        ("GET", "/api/patients/{patient_id}", get(api::patient)),
        ("POST", "/api/eligibility", post(api::eligibility)),
        ("POST", "/api/screenings", post(api::screen)),
        ("POST", "/api/patients/{patient_id}/randomize", post(api::randomize)),
        ("GET", "/api/patients/{patient_id}/plans", get(api::plans)),
        // A plan with its review bundle is larger than other bodies (a bundle is ≤ 2 MB).
        (
            "POST",
            "/api/patients/{patient_id}/plans",
            post(api::store_plan).layer(DefaultBodyLimit::max(8 * 1024 * 1024)),
        ),
        ("GET", "/api/patients/{patient_id}/plans/{plan_sha256}/review", get(api::plan_review)),
        ("POST", "/api/patients/{patient_id}/procedures", post(api::record_procedure)),
        ("GET", "/api/patients/{patient_id}/lesions", get(api::lesions)),
        ("POST", "/api/patients/{patient_id}/lesions", post(api::add_lesion)),
        ("GET", "/api/patients/{patient_id}/assessments", get(api::assessments)),
        ("POST", "/api/patients/{patient_id}/assessments", post(api::record_assessment)),
        ("GET", "/api/adjudications", get(api::adjudication_queue)),
        ("POST", "/api/patients/{patient_id}/adjudication", post(api::adjudicate)),
        ("GET", "/api/patients/{patient_id}/adverse-events", get(api::adverse_events)),
        ("POST", "/api/patients/{patient_id}/adverse-events", post(api::record_adverse_event)),
        ("GET", "/api/ctcae/terms", get(api::ctcae_terms)),
        ("POST", "/api/patients/{patient_id}/signatures", post(api::sign)),
        ("GET", "/api/audit", get(api::audit)),
        ("GET", "/api/allocations", get(api::allocations)),
        ("GET", "/api/queries", get(records::queries)),
        ("POST", "/api/patients/{patient_id}/queries", post(records::raise_query)),
        ("POST", "/api/queries/{query_id}/answer", post(records::answer_query)),
        ("POST", "/api/queries/{query_id}/close", post(records::close_query)),
        ("POST", "/api/patients/{patient_id}/lock", post(records::lock)),
        ("POST", "/api/patients/{patient_id}/unlock", post(records::unlock)),
        ("GET", "/api/patients/{patient_id}/signatures", get(records::signatures)),
        ("GET", "/api/audit/verify", get(records::verify)),
        ("GET", "/api/statistics", get(statistics::statistics)),
        ("POST", "/api/exports/{dataset}", post(statistics::export)),
        ("GET", "/", get(pages::home)),
        ("GET", "/login", get(pages::login)),
        ("POST", "/logout", post(pages::logout)),
        ("POST", "/locale", post(pages::set_locale)),
        ("GET", "/patients", get(pages::patients)),
        ("GET", "/patients/{patient_id}", get(pages::patient)),
        ("GET", "/screening", get(pages::screening)),
        ("GET", "/patients/{patient_id}/plans", get(pages::plan_review)),
        ("GET", "/patients/{patient_id}/procedures/new", get(pages::procedure_entry)),
        ("GET", "/patients/{patient_id}/read", get(pages::reader_workstation)),
        ("GET", "/patients/{patient_id}/adverse-events/new", get(pages::adverse_event_entry)),
        ("GET", "/adjudications", get(pages::adjudications)),
        ("GET", "/queries", get(records::queries_page)),
        ("GET", "/patients/{patient_id}/audit", get(records::audit_page)),
        ("GET", "/statistics", get(statistics::statistics_page)),
        ("GET", "/static/app.js", get(pages::app_js)),
        ("GET", "/static/treatment.js", get(pages::treatment_js)),
        ("GET", "/static/app.css", get(pages::app_css)),
        ("GET", "/static/records.js", get(records::records_js)),
    ]
}

/// The router. Panics when the handler list and [`ROUTES`] disagree (a programming error that
/// every test catches).
pub fn app(state: AppState) -> Router {
    let handlers = handlers();
    for spec in ROUTES {
        assert!(
            handlers.iter().any(|(m, p, _)| *m == spec.method && *p == spec.path),
            "route table row {} {} has no handler",
            spec.method,
            spec.path
        );
    }
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for (method, path, handler) in handlers {
        assert!(
            access::spec(method, path).is_some(),
            "handler {method} {path} has no row in the route table (access::ROUTES)"
        );
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => {
                let merged = std::mem::replace(existing, MethodRouter::new()).merge(handler);
                *existing = merged;
            }
            None => by_path.push((path, handler)),
        }
    }
    let mut router = Router::new();
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(auth::security_headers))
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

/// Serves `app` on `addr` until Ctrl-C.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
