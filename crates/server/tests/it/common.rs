//! A demo trial on SQLite (a temp file) or PostgreSQL (its own schema in
//! `CRYOSEED_TEST_POSTGRES_URL`; skipped with a message when unset), the app on it, and an
//! in-process client that keeps the session cookie and CSRF token.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use cryoseed_core::protocol::Protocol;
use cryoseed_server::auth::LoginLimits;
use cryoseed_server::demo::{Demo, populate};
use cryoseed_server::{AppState, Options, app};
use cryoseed_store::{ConnectOptions, Store};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;
use tower::ServiceExt as _;

pub const PG_VAR: &str = "CRYOSEED_TEST_POSTGRES_URL";

/// The demo password of a user.
pub fn password(user: &str) -> String {
    format!("pw-{user}-correct-horse")
}

pub enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres { url: String, schema: String },
}

impl Engine {
    pub fn sqlite() -> Engine {
        Engine::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    pub fn postgres(test: &str) -> Option<Engine> {
        match std::env::var(PG_VAR) {
            Ok(url) if !url.is_empty() => {
                Some(Engine::Postgres { url, schema: format!("srv_{test}_{}", std::process::id()) })
            }
            _ => {
                eprintln!("{test} on PostgreSQL skipped: set {PG_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test)");
                None
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Engine::Sqlite(dir) => format!("sqlite://{}?mode=rwc", dir.path().join("trial.db").display()),
            Engine::Postgres { url, .. } => url.clone(),
        }
    }

    async fn drop_schema(&self) {
        if let Engine::Postgres { url, schema } = self {
            use sqlx::Connection as _;
            sqlx::any::install_default_drivers();
            let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect to PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")))
                .execute(&mut conn)
                .await
                .expect("drop schema");
        }
    }

    /// A fresh database with the demo trial.
    pub async fn demo(&self) -> (Store, Demo) {
        self.drop_schema().await;
        let options = ConnectOptions {
            max_connections: 4,
            schema: match self {
                Engine::Sqlite(_) => None,
                Engine::Postgres { schema, .. } => Some(schema.clone()),
            },
        };
        let store = Store::connect_with(&self.url(), &options).await.expect("connect");
        store.init().await.expect("init");
        let demo = populate(&store, &Protocol::shipped(), 7, |u| Ok(password(u))).await.expect("demo trial");
        (store, demo)
    }
}

/// Test options: loopback cookies, small login limits.
pub fn options() -> Options {
    Options {
        secure_cookies: false,
        session_ttl: Duration::from_secs(3600),
        login_limits: LoginLimits { per_account: 3, per_address: 6, window: Duration::from_secs(600) },
        protocol: Protocol::shipped(),
    }
}

pub fn router(store: &Store) -> Router {
    app(AppState::new(store.clone(), options()).expect("state"))
}

/// Runs `body` on `engine` and drops the PostgreSQL schema afterwards.
pub fn run_on<F, Fut>(engine: Engine, body: F)
where
    F: FnOnce(Engine) -> Fut,
    Fut: Future<Output = Engine>,
{
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async move {
        let engine = body(engine).await;
        engine.drop_schema().await;
    });
}

/// `sqlite` and `postgres` tests for an `async fn(&Engine)` body.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    $crate::common::run_on($crate::common::Engine::sqlite(), |e| async move {
                        super::$name(&e).await;
                        e
                    });
                }
                #[test]
                fn postgres() {
                    if let Some(engine) = $crate::common::Engine::postgres(stringify!($name)) {
                        $crate::common::run_on(engine, |e| async move {
                            super::$name(&e).await;
                            e
                        });
                    }
                }
            }
        )*
    };
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error code of the one error shape.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("no error shape: {}", self.text)).to_owned()
    }

    pub fn is_html(&self) -> bool {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
    }
}

/// An in-process browser: keeps the cookie and the CSRF token.
#[derive(Clone)]
pub struct Client {
    pub app: Router,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub accept_language: Option<String>,
}

impl Client {
    pub fn anonymous(app: &Router) -> Client {
        Client { app: app.clone(), cookie: None, csrf: None, accept_language: None }
    }

    /// Signs in (panics on failure).
    pub async fn login(app: &Router, user: &str) -> Client {
        let mut client = Client::anonymous(app);
        let r = client.login_with(user, &password(user)).await;
        assert_eq!(r.status, StatusCode::OK, "sign-in of {user}: {}", r.text);
        client
    }

    pub async fn login_with(&mut self, user: &str, password: &str) -> Resp {
        let body = serde_json::json!({"user_id": user, "password": password});
        let r = self.send(Method::POST, "/api/session", Some(body.to_string()), "application/json").await;
        if r.status == StatusCode::OK {
            let set = r.headers.get(header::SET_COOKIE).expect("session cookie").to_str().unwrap().to_owned();
            self.cookie = Some(set.split(';').next().unwrap().to_owned());
            self.csrf = r.json()["csrf_token"].as_str().map(str::to_owned);
        }
        r
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<String>, content_type: &str) -> Resp {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(c) = &self.cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(t) = &self.csrf {
            req = req.header("x-csrf-token", t);
        }
        if let Some(l) = &self.accept_language {
            req = req.header(header::ACCEPT_LANGUAGE, l);
        }
        let req = match body {
            Some(b) => req.header(header::CONTENT_TYPE, content_type).body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let response = self.app.clone().oneshot(req).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024).await.unwrap();
        Resp { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, "").await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body.to_string()), "application/json").await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body.to_string()), "application/json").await
    }
}

/// The demo's first patient of SITE-01 that is randomized (every demo has one: seed 7).
pub async fn site1_randomized(store: &Store, demo: &Demo) -> String {
    let patients = store.patients().await.unwrap();
    demo.randomized
        .iter()
        .find(|id| patients.iter().any(|p| &&p.patient_id == id && p.site_id == "SITE-01"))
        .expect("a randomized SITE-01 patient in the demo")
        .clone()
}
