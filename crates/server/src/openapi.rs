//! The OpenAPI 3.1 document of the JSON API, generated from the route table, so that it lists
//! exactly the API routes the router serves (a test checks both directions), with the roles
//! allowed, the session and CSRF requirements, request examples and the one error shape.

use crate::access::{Kind, ROUTES};
use cryoseed_store::model::Role;
use serde_json::{Map, Value, json};

/// Example request bodies, by method and path.
fn example(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/api/session") => json!({"user_id": "inv1", "password": "…"}),
        ("POST", "/api/session/reauth") => json!({"password": "…"}),
        ("PUT", "/api/session/locale") => json!({"locale": "zh"}),
        ("POST", "/api/eligibility" | "/api/screenings") => json!({
            "patient_id": "P-0001", "site_id": "SITE-01", "screened_on": "2026-01-05", "age_years": 64, "ecog": 1,
            "histology_confirmed": true, "metastatic": true, "not_amenable_to_curative_therapy": true,
            "metastatic_lesion_count": 4,
            "labs": {"platelets_e9_per_l": 180, "inr": 1.1, "anc_e9_per_l": 3.2, "haemoglobin_g_per_l": 120,
                     "bilirubin_x_uln": 0.8, "ast_x_uln": 1.0, "alt_x_uln": 1.0, "creatinine_clearance_ml_per_min": 80},
            "exclusions": {"emergent_intervention": false, "target_not_accessible": false, "uncontrolled_infection": false,
                           "uncontrolled_effusion": false, "severe_cardiopulmonary": false, "prior_local_therapy_bulky": false,
                           "uncontrolled_cns": false, "investigator_judgement_answered": true},
            "lesions": [{"lesion_id": "T1", "organ": "liver", "longest_diameter_mm": 82, "is_target": true, "is_bulky_index": true},
                        {"lesion_id": "T2", "organ": "lung", "longest_diameter_mm": 25, "is_target": true}]
        }),
        ("POST", "/api/patients/{patient_id}/randomize") => json!({"randomized_on": "2026-01-12"}),
        ("POST", "/api/patients/{patient_id}/lesions") => {
            json!({"lesion_id": "N1", "role": "non_target", "organ": "bone", "is_bulky_index": false})
        }
        ("POST", "/api/patients/{patient_id}/assessments") => json!({
            "label": "M3", "assessed_on": "2026-04-10",
            "observations": {"lesions": [{"lesion_id": "T1", "status": "measured", "diameter_mm": 61}], "new_lesions": []}
        }),
        ("POST", "/api/patients/{patient_id}/adjudication") => {
            json!({"accepted_reader": "reader1", "reason": "reader 2 measured the wrong slice"})
        }
        ("POST", "/api/patients/{patient_id}/adverse-events") => json!({
            "term": "Nausea", "grade": 2, "attributions": [{"cause": "disease", "certainty": "possible"}],
            "serious": [], "onset": "2026-01-20", "resolution": null, "meddra_version": "28.0"
        }),
        ("POST", "/api/patients/{patient_id}/plans") => json!({
            "format": "cryoseed-plan", "format_version": 1, "software_version": "…",
            "protocol": {"name": "…", "version": "…", "sha256": "…"},
            "inputs": {"patient_id": "P-0001", "arm": {"arm": "experimental"}, "case_sha256": "…", "seed": 1},
            "access": [], "allocations": [{"lesion_id": "T1", "decision": "zoned", "rule": "bulky_index_zoned",
                                             "reason": "…", "checks": []}],
            "evaluation": {"lesions": [], "oars": [], "verdicts": [], "all_pass": true}
        }),
        ("POST", "/api/patients/{patient_id}/procedures") => json!({
            "lesion_id": "T2", "modality": "cryo", "performed_on": "2026-01-20", "is_reintervention": false,
            "probes": 3, "freeze_thaw": "10-8-10", "notes": "two freeze cycles, no complication"
        }),
        ("POST", "/api/patients/{patient_id}/signatures") => {
            json!({"meaning": "I confirm the CRF is complete and accurate"})
        }
        _ => return None,
    })
}

fn query_parameters(method: &str, path: &str) -> Vec<Value> {
    let q = |name: &str, required: bool, kind: &str, description: &str| json!({"name": name, "in": "query", "required": required, "schema": {"type": kind}, "description": description});
    match (method, path) {
        ("GET", "/api/patients/{patient_id}/adverse-events") => vec![
            q("limit", false, "integer", "events per page, 1–500, default 100 (the most recent)"),
            q(
                "before",
                false,
                "integer",
                "only events with a smaller id; the response's `Link: <…>; rel=\"next\"` header gives the next page, `X-Total-Count` the patient's total",
            ),
        ],
        (_, "/api/ctcae/terms") => {
            vec![q("q", true, "string", "text to search"), q("limit", false, "integer", "1–50, default 10")]
        }
        (_, "/api/audit") => vec![
            q("entity_id", true, "string", "the record's id"),
            q("after", false, "integer", "entries after this sequence number"),
            q("limit", false, "integer", "1–1000, default 200"),
        ],
        _ => Vec::new(),
    }
}

/// The document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in ROUTES.iter().filter(|r| r.kind == Kind::Api) {
        let mut parameters: Vec<Value> = spec
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(query_parameters(spec.method, spec.path));
        if spec.roles.is_some() && spec.is_state_changing() {
            parameters.push(json!({
                "name": "X-CSRF-Token", "in": "header", "required": true, "schema": {"type": "string"},
                "description": "the session's CSRF token (GET /api/session)"
            }));
        }
        let roles: Vec<&str> = spec.roles.map(|rs| rs.iter().map(|r| Role::as_str(*r)).collect()).unwrap_or_default();
        let mut op = json!({
            "summary": spec.summary,
            "operationId": format!("{} {}", spec.method.to_lowercase(), spec.path),
            "parameters": parameters,
            "x-roles": if spec.roles.is_some() { json!(roles) } else { json!("public") },
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {}}},
                "201": {"description": "Created", "content": {"application/json": {}}},
                "204": {"description": "Done"},
                "400": {"$ref": "#/components/responses/Error"},
                "401": {"$ref": "#/components/responses/Error"},
                "403": {"$ref": "#/components/responses/Error"},
                "404": {"$ref": "#/components/responses/Error"},
                "409": {"$ref": "#/components/responses/Error"},
                "422": {"$ref": "#/components/responses/Error"},
                "429": {"$ref": "#/components/responses/Error"},
            },
        });
        if spec.roles.is_some() {
            op["security"] = json!([{"session": []}]);
        } else {
            op["security"] = json!([]);
        }
        if let Some(example) = example(spec.method, spec.path) {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object"}, "example": example}}});
        }
        let entry = paths.entry(spec.path.to_owned()).or_insert_with(|| json!({}));
        entry[spec.method.to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "cryoseed trial API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON API of the cryoseed trial service. Sign in with POST /api/session; send the CSRF token of GET /api/session as X-CSRF-Token on every state-changing request. Readers and adjudicators receive blinded views.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-cryoseed_session",
                            "description": "cryoseed_session on loopback HTTP"}
            },
            "responses": {
                "Error": {"description": "The one error shape", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            },
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {
                        "type": "object", "required": ["code", "message", "fields"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "object", "additionalProperties": {"type": "string"},
                                       "description": "field path → message (422)"}
                        }
                    }}
                }
            }
        }
    })
}
