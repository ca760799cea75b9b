//! Plans in the trial database: a patient's `plan.json` (the record `cryoseed plan` writes) is
//! checked against the trial (patient, protocol, randomized arm, lesions) and split into one
//! `cryoseed-lesion-plan` document per target lesion (the layout `cryoseed demo` stores); the
//! plan-review screen reads those documents back as an allocation table with reasons and the
//! constraint verdicts. A plan may come with its review bundle (`review.json`: DVH curves and
//! slice vectors), checked to name the uploaded plan and stored beside it; the screen's script
//! draws it.
//!
//! The documents are handled as JSON values: the planner's record types are written, not read,
//! and a stored document must stay readable when the planner adds fields.

use crate::error::ApiError;
use crate::i18n::Tr;
use cryoseed_core::{Arm, Modality};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Format name of a whole-patient plan record.
pub const PLAN_FORMAT: &str = "cryoseed-plan";
/// Format name of a stored per-lesion plan document.
pub const LESION_PLAN_FORMAT: &str = "cryoseed-lesion-plan";
/// Format name of a plan's review bundle (`review.json`).
pub const REVIEW_FORMAT: &str = "cryoseed-plan-review";

/// An upload of a plan: the `plan.json` alone, or `{"plan": TEXT, "review": TEXT}` with its
/// review bundle (texts as the files hold them).
#[derive(Debug)]
pub struct Upload {
    /// The plan record.
    pub plan: Value,
    /// The plan's bytes as uploaded (their SHA-256 names the plan).
    pub plan_text: Vec<u8>,
    /// The review bundle, parsed and as text.
    pub review: Option<(Value, String)>,
}

impl Upload {
    /// Reads a request body (malformed JSON: 400; a text that is not JSON: 422 naming `plan` or
    /// `review`).
    pub fn parse(body: &[u8], tr: Tr) -> Result<Upload, ApiError> {
        let value: Value = crate::forms::parse(body)?;
        let Some(plan_text) = value.get("plan").filter(|_| value.get("format").is_none()) else {
            return Ok(Upload { plan: value, plan_text: body.to_vec(), review: None });
        };
        let mut errors = BTreeMap::new();
        let mut json_text = |field: &str, text: Option<&Value>| -> Option<(Value, String)> {
            let text = text?;
            match text.as_str().map(|t| (serde_json::from_str::<Value>(t), t)) {
                Some((Ok(v), t)) => Some((v, t.to_owned())),
                _ => {
                    errors.insert(field.to_owned(), tr.get("plan.error.not_json").to_owned());
                    None
                }
            }
        };
        let plan = json_text("plan", Some(plan_text));
        let review = json_text("review", value.get("review"));
        match plan {
            Some((plan, text)) if errors.is_empty() => Ok(Upload { plan, plan_text: text.into_bytes(), review }),
            _ => Err(ApiError::invalid(errors)),
        }
    }
}

/// Checks that a review bundle belongs to the uploaded plan (`plan_sha256` is the SHA-256 of the
/// plan's bytes): format and version, the plan's SHA-256, patient and case. Every problem by
/// field (`review.plan_sha256`), in `tr`'s language.
pub fn check_review(review: &Value, plan: &Value, plan_sha256: &str, tr: Tr) -> Result<(), ApiError> {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut error = |field: &str, key: &str, detail: &str| {
        let message = if detail.is_empty() { tr.get(key).to_owned() } else { format!("{} ({detail})", tr.get(key)) };
        errors.insert(format!("review.{field}"), message);
    };
    if text(review, "/format") != Some(REVIEW_FORMAT) || review.get("version").and_then(Value::as_u64) != Some(1) {
        error("format", "plan.error.review_format", text(review, "/format").unwrap_or(""));
    }
    if !review.get("planes").is_some_and(Value::is_array) || !review.get("dvh").is_some_and(Value::is_object) {
        error("planes", "plan.error.review_format", "");
    }
    if text(review, "/plan_sha256") != Some(plan_sha256) {
        error("plan_sha256", "plan.error.review_plan", text(review, "/plan_sha256").unwrap_or(""));
    }
    for (field, pointer) in [("patient_id", "/inputs/patient_id"), ("case_sha256", "/inputs/case_sha256")] {
        let named = text(review, &format!("/{field}"));
        if named.is_none() || named != text(plan, pointer) {
            error(field, "plan.error.review_plan", named.unwrap_or(""));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::invalid(errors)) }
}

/// What an uploaded plan must agree with.
#[derive(Debug)]
pub struct Expected<'a> {
    /// The patient's study id.
    pub patient_id: &'a str,
    /// The randomized arm (`None`: not randomized yet).
    pub arm: Option<Arm>,
    /// The centre's control-arm modality.
    pub control_modality: Option<Modality>,
    /// SHA-256 of the protocol the service runs.
    pub protocol_sha256: &'a str,
    /// The patient's lesion ids.
    pub lesions: &'a [String],
}

fn text<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn modality_code(m: Modality) -> &'static str {
    match m {
        Modality::Seeds => "seeds",
        Modality::Cryo => "cryo",
    }
}

/// Checks a `cryoseed plan` record against the trial and splits it into one lesion document per
/// allocated lesion, in allocation order. `sha256` is the SHA-256 of the uploaded bytes (kept in
/// every lesion document). Every problem is reported at once, by field, in `tr`'s language.
pub fn lesion_documents(
    plan: &Value,
    sha256: &str,
    expected: &Expected<'_>,
    tr: Tr,
) -> Result<Vec<(String, Value)>, ApiError> {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut error = |field: &str, key: &str, detail: String| {
        let message = if detail.is_empty() { tr.get(key).to_owned() } else { format!("{} ({detail})", tr.get(key)) };
        errors.entry(field.to_owned()).or_insert(message);
    };
    if !plan.is_object() {
        return Err(ApiError::field("body", tr.get("plan.error.format")));
    }
    match text(plan, "/format") {
        Some(PLAN_FORMAT) => {}
        other => error("format", "plan.error.format", other.unwrap_or("").to_owned()),
    }
    if plan.get("format_version").and_then(Value::as_u64) != Some(1) {
        error("format_version", "plan.error.format_version", String::new());
    }
    match text(plan, "/inputs/patient_id") {
        Some(p) if p == expected.patient_id => {}
        other => error("inputs.patient_id", "plan.error.patient", other.unwrap_or("").to_owned()),
    }
    match text(plan, "/protocol/sha256") {
        Some(h) if h == expected.protocol_sha256 => {}
        other => error("protocol.sha256", "plan.error.protocol", other.unwrap_or("").to_owned()),
    }
    let plan_arm = text(plan, "/inputs/arm/arm");
    let plan_modality = text(plan, "/inputs/arm/modality");
    match expected.arm {
        None => error("inputs.arm", "plan.error.not_randomized", String::new()),
        Some(Arm::Experimental) if plan_arm == Some("experimental") => {}
        Some(Arm::Control)
            if plan_arm == Some("control") && plan_modality == expected.control_modality.map(modality_code) => {}
        Some(_) => error("inputs.arm", "plan.error.arm", plan_arm.unwrap_or("").to_owned()),
    }
    let allocations = plan.get("allocations").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if allocations.is_empty() {
        error("allocations", "plan.error.no_allocations", String::new());
    }
    for (i, a) in allocations.iter().enumerate() {
        match a.get("lesion_id").and_then(Value::as_str) {
            Some(id) if expected.lesions.iter().any(|l| l == id) => {}
            other => error(&format!("allocations[{i}].lesion_id"), "plan.error.lesion", other.unwrap_or("").to_owned()),
        }
        if a.get("decision").and_then(Value::as_str).is_none() || a.get("reason").and_then(Value::as_str).is_none() {
            error(&format!("allocations[{i}]"), "plan.error.format", String::new());
        }
    }
    let verdicts = plan.pointer("/evaluation/verdicts").and_then(Value::as_array);
    if verdicts.is_none() {
        error("evaluation.verdicts", "plan.error.format", String::new());
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let verdicts = verdicts.map(Vec::as_slice).unwrap_or(&[]);
    let ids: Vec<&str> = allocations.iter().filter_map(|a| a.get("lesion_id").and_then(Value::as_str)).collect();
    let of_lesion = |list: &str, id: &str| -> Value {
        plan.get(list)
            .and_then(Value::as_array)
            .and_then(|items| items.iter().find(|p| p.get("lesion_id").and_then(Value::as_str) == Some(id)))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let plan_wide: Vec<&Value> =
        verdicts.iter().filter(|v| v.get("scope").and_then(Value::as_str).is_none_or(|s| !ids.contains(&s))).collect();
    Ok(allocations
        .iter()
        .map(|allocation| {
            let id = allocation.get("lesion_id").and_then(Value::as_str).unwrap_or_default();
            let access = plan
                .get("access")
                .and_then(Value::as_array)
                .and_then(|items| items.iter().find(|pair| pair.get(0).and_then(Value::as_str) == Some(id)))
                .and_then(|pair| pair.get(1))
                .cloned()
                .unwrap_or(Value::Null);
            let zoned = allocation.get("decision").and_then(Value::as_str) == Some("zoned");
            let evaluation = plan
                .pointer("/evaluation/lesions")
                .and_then(Value::as_array)
                .and_then(|items| items.iter().find(|l| l.get("lesion_id").and_then(Value::as_str) == Some(id)))
                .cloned()
                .unwrap_or(Value::Null);
            let document = json!({
                "format": LESION_PLAN_FORMAT,
                "version": 1,
                "software_version": plan.get("software_version"),
                "protocol": plan.get("protocol"),
                "patient_plan_sha256": sha256,
                "case_sha256": plan.pointer("/inputs/case_sha256"),
                "grid_spacing_mm": plan.pointer("/inputs/grid_spacing_mm"),
                "arm": plan.pointer("/inputs/arm"),
                "seed": plan.pointer("/inputs/seed"),
                "access": access,
                "allocation": allocation,
                "zoning": if zoned { plan.get("zoning").cloned().unwrap_or(Value::Null) } else { Value::Null },
                "seed_plan": of_lesion("seed_plans", id),
                "cryo_plan": of_lesion("cryo_plans", id),
                "evaluation": evaluation,
                "verdicts": verdicts.iter().filter(|v| v.get("scope").and_then(Value::as_str) == Some(id)).collect::<Vec<_>>(),
                "plan_verdicts": plan_wide,
                "all_pass": plan.pointer("/evaluation/all_pass"),
            });
            (id.to_owned(), document)
        })
        .collect())
}

/// One criterion of a lesion's allocation, for the screen.
#[derive(Debug, Serialize)]
pub struct CheckView {
    /// The rule in the user's language.
    pub rule: String,
    /// Whether the lesion meets it as a cryo criterion.
    pub met: bool,
    /// Measured value and threshold (planner text, English).
    pub evidence: String,
}

/// One constraint verdict, for the screen.
#[derive(Debug, Serialize)]
pub struct VerdictView {
    /// Lesion, OAR structure or `patient`.
    pub scope: String,
    /// The constraint (planner text).
    pub constraint: String,
    /// Achieved value, formatted for the locale.
    pub value: String,
    /// The limit, formatted for the locale.
    pub limit: String,
    /// Unit.
    pub unit: String,
    /// Whether it holds.
    pub pass: bool,
    /// How far a failed one misses, formatted.
    pub shortfall: String,
}

/// One stored lesion plan, read for review.
#[derive(Debug, Serialize)]
pub struct LesionPlanView {
    /// Plan id in the store.
    pub plan_id: i64,
    /// The lesion.
    pub lesion_id: String,
    /// SHA-256 of the stored document.
    pub sha256: String,
    /// `seeds`, `cryo`, `zoned`, or empty when the document has no allocation.
    pub decision: String,
    /// The decision in the user's language.
    pub decision_label: String,
    /// The deciding rule in the user's language.
    pub rule_label: String,
    /// The reason (planner text).
    pub reason: String,
    /// Every criterion evaluated.
    pub checks: Vec<CheckView>,
    /// The investigator's override reason, if the protocol decision was overridden.
    pub override_reason: Option<String>,
    /// The protocol's decision before the override, in the user's language.
    pub protocol_decision: Option<String>,
    /// The lesion's verdicts.
    pub verdicts: Vec<VerdictView>,
    /// The document's format when it is not a lesion plan this screen reads.
    pub unreadable_format: Option<String>,
}

/// Plans made together (one upload of `plan.json`), with the verdicts that concern the whole
/// patient (OAR doses, patient-level limits).
#[derive(Debug, Serialize)]
pub struct PlanGroupView {
    /// SHA-256 of the uploaded `plan.json` (empty for documents stored otherwise).
    pub plan_sha256: String,
    /// Software version of the planner.
    pub software_version: String,
    /// Whether every constraint holds.
    pub all_pass: Option<bool>,
    /// Per lesion.
    pub lesions: Vec<LesionPlanView>,
    /// Verdicts not scoped to one lesion.
    pub plan_verdicts: Vec<VerdictView>,
    /// Whether a review bundle (DVH curves, slices) was stored with the plan; it is served at
    /// `/api/patients/{id}/plans/{plan_sha256}/review`.
    pub has_review: bool,
}

fn verdict_views(list: Option<&Value>, tr: Tr) -> Vec<VerdictView> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|v| {
                    let num = |k: &str| v.get(k).and_then(Value::as_f64).map_or_else(String::new, |x| tr.number(x, 1));
                    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    VerdictView {
                        scope: s("scope"),
                        constraint: s("constraint"),
                        value: num("value"),
                        limit: num("limit"),
                        unit: s("unit"),
                        pass: v.get("pass").and_then(Value::as_bool).unwrap_or(false),
                        shortfall: num("shortfall"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn decision_label(code: &str, tr: Tr) -> String {
    match code {
        "seeds" | "cryo" | "zoned" => tr.get(&format!("decision.{code}")).to_owned(),
        other => other.to_owned(),
    }
}

/// The review of stored plans (in store order), newest
/// upload first.
pub fn review(plans: &[cryoseed_store::model::Plan], tr: Tr) -> Vec<PlanGroupView> {
    let mut groups: Vec<PlanGroupView> = Vec::new();
    for p in plans {
        let doc: Value = serde_json::from_str(&p.document).unwrap_or(Value::Null);
        let format = doc.get("format").and_then(Value::as_str).unwrap_or_default();
        let group_key = if format == LESION_PLAN_FORMAT {
            doc.get("patient_plan_sha256").and_then(Value::as_str).unwrap_or_default().to_owned()
        } else {
            String::new()
        };
        let lesion = if format == LESION_PLAN_FORMAT {
            let a = doc.get("allocation").cloned().unwrap_or(Value::Null);
            let s = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            let decision = s("decision");
            let rule = s("rule");
            LesionPlanView {
                plan_id: p.plan_id,
                lesion_id: p.lesion_id.clone(),
                sha256: p.sha256.clone(),
                decision_label: decision_label(&decision, tr),
                decision,
                rule_label: if rule.is_empty() { String::new() } else { tr.get(&format!("rule.{rule}")).to_owned() },
                reason: s("reason"),
                checks: a
                    .get("checks")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .map(|c| CheckView {
                                rule: c
                                    .get("rule")
                                    .and_then(Value::as_str)
                                    .map_or_else(String::new, |r| tr.get(&format!("rule.{r}")).to_owned()),
                                met: c.get("met").and_then(Value::as_bool).unwrap_or(false),
                                evidence: c.get("evidence").and_then(Value::as_str).unwrap_or_default().to_owned(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                override_reason: a.get("override_reason").and_then(Value::as_str).map(str::to_owned),
                protocol_decision: a.get("protocol_decision").and_then(Value::as_str).map(|d| decision_label(d, tr)),
                verdicts: verdict_views(doc.get("verdicts"), tr),
                unreadable_format: None,
            }
        } else {
            LesionPlanView {
                plan_id: p.plan_id,
                lesion_id: p.lesion_id.clone(),
                sha256: p.sha256.clone(),
                decision: String::new(),
                decision_label: String::new(),
                rule_label: String::new(),
                reason: String::new(),
                checks: Vec::new(),
                override_reason: None,
                protocol_decision: None,
                verdicts: Vec::new(),
                unreadable_format: Some(if format.is_empty() { "?".to_owned() } else { format.to_owned() }),
            }
        };
        match groups.iter_mut().find(|g| g.plan_sha256 == group_key) {
            Some(g) => g.lesions.push(lesion),
            None => groups.push(PlanGroupView {
                plan_verdicts: verdict_views(doc.get("plan_verdicts"), tr),
                software_version: doc.get("software_version").and_then(Value::as_str).unwrap_or_default().to_owned(),
                all_pass: doc.get("all_pass").and_then(Value::as_bool),
                plan_sha256: group_key,
                lesions: vec![lesion],
                has_review: false,
            }),
        }
    }
    groups.reverse();
    groups
}
