//! The authorization matrix: every route of the table × every role (and signed out) → allowed
//! or refused exactly as the table says, checked through the running router. The router itself
//! refuses to build when a handler has no row, and the OpenAPI document must list every API row.

use crate::common::{Client, Engine, site1_randomized};
use crate::on_both;
use axum::http::{Method, StatusCode};
use cryoseed_server::access::{ALL_ROLES, Kind, ROUTES};
use cryoseed_store::model::Role;

on_both!(every_route_for_every_role_is_as_the_table_says);

fn user_of(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Investigator => "inv1",
        Role::Statistician => "stat1",
        Role::DataManager => "dm1",
        Role::Reader => "reader1",
        Role::Adjudicator => "adj1",
    }
}

fn is_sign_out(method: &str, path: &str) -> bool {
    (method == "DELETE" && path == "/api/session") || (method == "POST" && path == "/logout")
}

async fn call(client: &Client, method: &str, path: &str) -> crate::common::Resp {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    if method == Method::GET || method == Method::DELETE {
        client.send(method, path, None, "").await
    } else {
        client.send(method, path, Some("{}".into()), "application/json").await
    }
}

async fn every_route_for_every_role_is_as_the_table_says(engine: &Engine) {
    let (store, demo) = engine.demo().await;
    let app = crate::common::router(&store);
    let patient = site1_randomized(&store, &demo).await;
    let mut checked = 0;
    let mut clients = Vec::new();
    for &role in ALL_ROLES {
        clients.push(Client::login(&app, user_of(role)).await);
    }
    for spec in ROUTES {
        // A plan SHA-256 no plan has: allowed roles get 404 from the handler, others 403 first.
        let path = spec.path.replace("{patient_id}", &patient).replace("{plan_sha256}", &"0".repeat(64));
        // Signed out.
        let r = call(&Client::anonymous(&app), spec.method, &path).await;
        match (spec.roles, spec.kind) {
            (None, _) => assert!(
                r.status != StatusCode::UNAUTHORIZED && r.status != StatusCode::FORBIDDEN,
                "public {} {} refused signed out: {}",
                spec.method,
                spec.path,
                r.status
            ),
            (Some(_), Kind::Page) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{} {} signed out", spec.method, spec.path);
                assert_eq!(r.headers["location"], "/login");
            }
            (Some(_), _) => {
                assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{} {} signed out: {}", spec.method, spec.path, r.text);
                assert_eq!(r.code(), "unauthenticated");
            }
        }
        for (i, &role) in ALL_ROLES.iter().enumerate() {
            let client = clients[i].clone();
            let r = call(&client, spec.method, &path).await;
            if spec.allows(role) {
                assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN, StatusCode::METHOD_NOT_ALLOWED]
                        .contains(&r.status),
                    "{} {} must be allowed for {role:?}, got {}: {}",
                    spec.method,
                    spec.path,
                    r.status,
                    r.text
                );
            } else {
                assert_eq!(
                    r.status,
                    StatusCode::FORBIDDEN,
                    "{} {} must be refused for {role:?}: {}",
                    spec.method,
                    spec.path,
                    r.text
                );
                if spec.kind == Kind::Page {
                    assert!(r.is_html(), "a refused screen is a page");
                } else {
                    assert_eq!(r.code(), "forbidden");
                }
            }
            if is_sign_out(spec.method, spec.path) && spec.allows(role) {
                assert!(client.get("/api/session").await.status == StatusCode::UNAUTHORIZED, "signed out");
                clients[i] = Client::login(&app, user_of(role)).await;
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * ALL_ROLES.len());
    // A request outside the table is not served.
    let client = Client::login(&app, "dm1").await;
    assert_eq!(client.get("/api/nothing-here").await.status, StatusCode::NOT_FOUND);
    let r = client.send(Method::PATCH, "/api/patients", None, "").await;
    assert_eq!((r.status, r.code().as_str()), (StatusCode::FORBIDDEN, "forbidden"), "a method outside the table");
}

#[test]
fn the_openapi_document_lists_exactly_the_api_routes() {
    let doc = cryoseed_server::openapi::document();
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let spec = cryoseed_server::access::spec(&method.to_uppercase(), path)
                .unwrap_or_else(|| panic!("documented {method} {path} is not a route"));
            assert_eq!(spec.kind, Kind::Api);
            documented += 1;
        }
    }
    for spec in ROUTES.iter().filter(|r| r.kind == Kind::Api) {
        let op = &doc["paths"][spec.path][spec.method.to_lowercase()];
        assert!(op.is_object(), "{} {} is missing from the OpenAPI document", spec.method, spec.path);
        assert_eq!(op["summary"], spec.summary);
        if spec.roles.is_some() && spec.is_state_changing() {
            let params = op["parameters"].as_array().unwrap();
            assert!(
                params.iter().any(|p| p["name"] == "X-CSRF-Token"),
                "{} {} documents the CSRF header",
                spec.method,
                spec.path
            );
        }
    }
    assert_eq!(documented, ROUTES.iter().filter(|r| r.kind == Kind::Api).count());
}

#[test]
fn every_table_row_names_a_known_kind_of_access() {
    // Blinded roles may never reach a route that serves treatment data by construction.
    for spec in ROUTES {
        let treatment = [
            "randomize",
            "allocations",
            "adverse-events",
            "audit",
            "screening",
            "eligibility",
            "queries",
            "lock",
            "signatures",
            "statistics",
            "exports",
        ];
        if treatment.iter().any(|t| spec.path.contains(t)) {
            for role in [Role::Reader, Role::Adjudicator] {
                assert!(!spec.allows(role) || spec.roles.is_none(), "{} {} open to {role:?}", spec.method, spec.path);
            }
        }
    }
}
