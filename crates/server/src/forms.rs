//! Request bodies: a JSON extractor whose failures are the API's error shape (the field path
//! named), and the screening form, checked field by field so that every bad field is reported
//! at once, in the user's language.

use crate::error::ApiError;
use crate::i18n::{Locale, Tr};
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use cryoseed_core::patient::{DeclaredLesion, Exclusions, Labs, ScreeningRecord};
use cryoseed_core::{Ecog, LesionId, Ml, Mm, Organ, PatientId, SiteId};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Refuses (415, with `message`) a request whose content type is not `application/json`.
pub fn require_json(headers: &axum::http::HeaderMap, message: &str) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", message))
    }
}

/// A JSON body parsed into `T`. Wrong content type: 415; malformed JSON: 400; a value of the
/// wrong shape: 422 naming the field (`lesions[0].organ`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers(), "send the body as application/json")?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.body_text()))?;
        parse(&bytes).map(JsonBody)
    }
}

/// Query parameters parsed into `T`; a bad one is a 422 in the API's error shape.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| QueryParams(q.0))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}

/// Parses JSON bytes into `T`, naming the offending field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_json", format!("the body is not JSON: {inner}"));
        }
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() { "body".to_owned() } else { path };
        ApiError::field(field, inner.to_string())
    })
}

/// Field-by-field reader of a JSON object that collects every error.
pub(crate) struct Fields {
    tr: Tr,
    pub(crate) errors: BTreeMap<String, String>,
}

impl Fields {
    pub(crate) fn new(locale: Locale) -> Fields {
        Fields { tr: Tr::new(locale), errors: BTreeMap::new() }
    }

    fn error(&mut self, path: &str, key: &str) {
        let message = self.tr.get(key).to_owned();
        self.errors.entry(path.to_owned()).or_insert(message);
    }

    fn present<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
        obj.get(key).filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
    }

    pub(crate) fn text(&mut self, obj: &Map<String, Value>, key: &str, path: &str, required: bool) -> Option<String> {
        match Self::present(obj, key) {
            None => {
                if required {
                    self.error(path, "validation.required");
                }
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => {
                self.error(path, "validation.required");
                None
            }
        }
    }

    pub(crate) fn number(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let v = Self::present(obj, key)?;
        let n = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() && (min..=max).contains(&n) => Some(n),
            Some(n) if n.is_finite() => {
                let message = format!("{} ({min}–{max})", self.tr.get("validation.range"));
                self.errors.entry(path.to_owned()).or_insert(message);
                None
            }
            _ => {
                self.error(path, "validation.number");
                None
            }
        }
    }

    pub(crate) fn integer(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        min: u32,
        max: u32,
    ) -> Option<u32> {
        let n = self.number(obj, key, path, f64::from(min), f64::from(max))?;
        if n.fract() != 0.0 {
            self.error(path, "validation.integer");
            return None;
        }
        Some(n as u32)
    }

    pub(crate) fn boolean(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<bool> {
        match Self::present(obj, key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" || s == "yes" => Some(true),
            Value::String(s) if s == "false" || s == "no" => Some(false),
            _ => {
                self.error(path, "validation.bool");
                None
            }
        }
    }

    pub(crate) fn date(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        let text = self.text(obj, key, path, true)?;
        if cryoseed_store_date_ok(&text) {
            Some(text)
        } else {
            self.error(path, "validation.date");
            None
        }
    }

    pub(crate) fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::invalid(self.errors)) }
    }
}

/// `YYYY-MM-DD` and a real calendar day.
fn cryoseed_store_date_ok(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return false };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else { return false };
    if !(1900..=2200).contains(&y) || !(1..=12).contains(&m) || text.len() != 10 {
        return false;
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
    (1..=days).contains(&d)
}

fn organ(text: &str) -> Option<Organ> {
    serde_json::from_value(Value::String(text.to_owned())).ok()
}

/// A screening form: the record, and the date (checked).
#[derive(Debug)]
pub struct ScreeningForm {
    /// What eligibility is decided from.
    pub record: ScreeningRecord,
    /// Date of screening.
    pub screened_on: String,
}

/// Reads a screening form; every bad field is reported (422) in `locale`. With `partial`, the
/// identifying fields may be missing (the live checklist evaluates an unfinished form).
pub fn screening_form(body: &Value, locale: Locale, partial: bool) -> Result<ScreeningForm, ApiError> {
    let mut f = Fields::new(locale);
    let empty = Map::new();
    let Some(obj) = body.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let patient_id = match f.text(obj, "patient_id", "patient_id", !partial) {
        Some(p) => match PatientId::parse(p.as_str()) {
            Ok(id) => Some(id),
            Err(e) => {
                f.errors.insert("patient_id".into(), e.to_string());
                None
            }
        },
        None => None,
    };
    let site_id = match f.text(obj, "site_id", "site_id", !partial) {
        Some(s) => match SiteId::parse(s.as_str()) {
            Ok(id) => Some(id),
            Err(e) => {
                f.errors.insert("site_id".into(), e.to_string());
                None
            }
        },
        None => None,
    };
    let screened_on = if partial { None } else { f.date(obj, "screened_on", "screened_on") };
    let age_years = f.integer(obj, "age_years", "age_years", 0, 130);
    let ecog = f.integer(obj, "ecog", "ecog", 0, 5).and_then(|e| Ecog::new(e as u8).ok());
    let histology_confirmed = f.boolean(obj, "histology_confirmed", "histology_confirmed");
    let metastatic = f.boolean(obj, "metastatic", "metastatic");
    let not_amenable = f.boolean(obj, "not_amenable_to_curative_therapy", "not_amenable_to_curative_therapy");
    let count = f.integer(obj, "metastatic_lesion_count", "metastatic_lesion_count", 0, 1000);
    let labs_obj = obj.get("labs").and_then(Value::as_object).unwrap_or(&empty);
    let mut lab = |key: &str, max: f64| f.number(labs_obj, key, &format!("labs.{key}"), 0.0, max);
    let labs = Labs {
        platelets_e9_per_l: lab("platelets_e9_per_l", 5000.0),
        inr: lab("inr", 20.0),
        anc_e9_per_l: lab("anc_e9_per_l", 500.0),
        haemoglobin_g_per_l: lab("haemoglobin_g_per_l", 300.0),
        bilirubin_x_uln: lab("bilirubin_x_uln", 100.0),
        ast_x_uln: lab("ast_x_uln", 100.0),
        alt_x_uln: lab("alt_x_uln", 100.0),
        creatinine_clearance_ml_per_min: lab("creatinine_clearance_ml_per_min", 500.0),
    };
    let ex = obj.get("exclusions").and_then(Value::as_object).unwrap_or(&empty);
    let mut yes_no = |key: &str| f.boolean(ex, key, &format!("exclusions.{key}"));
    let mut exclusions = Exclusions {
        emergent_intervention: yes_no("emergent_intervention"),
        target_not_accessible: yes_no("target_not_accessible"),
        uncontrolled_infection: yes_no("uncontrolled_infection"),
        uncontrolled_effusion: yes_no("uncontrolled_effusion"),
        severe_cardiopulmonary: yes_no("severe_cardiopulmonary"),
        prior_local_therapy_bulky: yes_no("prior_local_therapy_bulky"),
        uncontrolled_cns: yes_no("uncontrolled_cns"),
        investigator_judgement: None,
        investigator_judgement_answered: false,
    };
    exclusions.investigator_judgement =
        f.text(ex, "investigator_judgement", "exclusions.investigator_judgement", false);
    exclusions.investigator_judgement_answered = exclusions.investigator_judgement.is_some()
        || f.boolean(ex, "investigator_judgement_answered", "exclusions.investigator_judgement_answered")
            .unwrap_or(false);
    let mut lesions = Vec::new();
    match obj.get("lesions") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = |k: &str| format!("lesions[{i}].{k}");
                let Some(l) = item.as_object() else {
                    f.errors.insert(format!("lesions[{i}]"), "must be an object".into());
                    continue;
                };
                // A row left entirely empty in the form is not a lesion.
                if l.values()
                    .all(|v| v.is_null() || v == &Value::Bool(false) || v.as_str().is_some_and(|s| s.trim().is_empty()))
                {
                    continue;
                }
                let id =
                    f.text(l, "lesion_id", &path("lesion_id"), true).and_then(|t| match LesionId::parse(t.as_str()) {
                        Ok(id) => Some(id),
                        Err(e) => {
                            f.errors.insert(path("lesion_id"), e.to_string());
                            None
                        }
                    });
                let organ = f.text(l, "organ", &path("organ"), true).and_then(|t| {
                    let o = organ(&t);
                    if o.is_none() {
                        f.error(&path("organ"), "validation.choice");
                    }
                    o
                });
                let longest = f.number(l, "longest_diameter_mm", &path("longest_diameter_mm"), 0.0, 1000.0);
                let short = f.number(l, "short_axis_mm", &path("short_axis_mm"), 0.0, 1000.0);
                let volume = f.number(l, "volume_ml", &path("volume_ml"), 0.0, 20000.0);
                let is_nodal = f.boolean(l, "is_nodal", &path("is_nodal")).unwrap_or(false);
                let is_target = f.boolean(l, "is_target", &path("is_target")).unwrap_or(false);
                let is_bulky_index = f.boolean(l, "is_bulky_index", &path("is_bulky_index")).unwrap_or(false);
                if let (Some(lesion_id), Some(organ)) = (id, organ) {
                    lesions.push(DeclaredLesion {
                        lesion_id,
                        organ,
                        is_nodal,
                        longest_diameter: longest.map(Mm),
                        short_axis: short.map(Mm),
                        volume: volume.map(Ml),
                        is_target,
                        is_bulky_index,
                    });
                }
            }
        }
        Some(_) => {
            f.errors.insert("lesions".into(), "must be a list".into());
        }
    }
    f.finish()?;
    let placeholder_patient = || PatientId::parse("UNSAVED").expect("a valid id");
    let placeholder_site = || SiteId::parse("UNSAVED").expect("a valid id");
    Ok(ScreeningForm {
        record: ScreeningRecord {
            patient_id: patient_id.unwrap_or_else(placeholder_patient),
            site_id: site_id.unwrap_or_else(placeholder_site),
            age_years,
            ecog,
            histology_confirmed,
            metastatic,
            not_amenable_to_curative_therapy: not_amenable,
            metastatic_lesion_count: count,
            lesions,
            labs,
            exclusions,
        },
        screened_on: screened_on.unwrap_or_default(),
    })
}

/// A procedure as entered on the procedure screen (one lesion).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureForm {
    /// The lesion treated.
    pub lesion_id: String,
    /// Seeds or cryoablation.
    pub modality: cryoseed_core::Modality,
    /// Date.
    pub performed_on: String,
    /// A re-intervention for progression (not protocol therapy).
    pub is_reintervention: bool,
    /// Seeds implanted (seeds).
    pub seeds_implanted: Option<u32>,
    /// Needles used (seeds).
    pub needles: Option<u32>,
    /// Cryoprobes used (cryo).
    pub probes: Option<u32>,
    /// Freeze–thaw protocol name (cryo).
    pub freeze_thaw: Option<String>,
    /// Technical notes.
    pub notes: Option<String>,
}

/// Reads a procedure form; every bad field is reported (422) in `locale`. `lesions` are the
/// patient's lesion ids, `freeze_thaw` the protocol's freeze–thaw protocol names. Fields of the
/// other modality must be empty (seeds for a cryoablation, probes for an implant).
pub fn procedure_form(
    body: &Value,
    locale: Locale,
    lesions: &[String],
    freeze_thaw: &[String],
) -> Result<ProcedureForm, ApiError> {
    use cryoseed_core::Modality;
    let mut f = Fields::new(locale);
    let Some(obj) = body.as_object() else {
        return Err(ApiError::field("body", "must be a JSON object"));
    };
    let lesion_id = f.text(obj, "lesion_id", "lesion_id", true).and_then(|l| {
        let known = lesions.contains(&l);
        if !known {
            f.error("lesion_id", "validation.choice");
        }
        known.then_some(l)
    });
    let modality = f.text(obj, "modality", "modality", true).and_then(|m| match m.as_str() {
        "seeds" => Some(Modality::Seeds),
        "cryo" => Some(Modality::Cryo),
        _ => {
            f.error("modality", "validation.choice");
            None
        }
    });
    let performed_on = f.date(obj, "performed_on", "performed_on");
    let is_reintervention = f.boolean(obj, "is_reintervention", "is_reintervention").unwrap_or(false);
    let seeds_implanted = f.integer(obj, "seeds_implanted", "seeds_implanted", 1, 500);
    let needles = f.integer(obj, "needles", "needles", 1, 100);
    let probes = f.integer(obj, "probes", "probes", 1, 20);
    let freeze = f.text(obj, "freeze_thaw", "freeze_thaw", false).and_then(|n| {
        let known = freeze_thaw.contains(&n);
        if !known {
            f.error("freeze_thaw", "validation.choice");
        }
        known.then_some(n)
    });
    let notes = f.text(obj, "notes", "notes", false);
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        f.error("notes", "validation.too_long");
    }
    let present = |key: &str| Fields::present(obj, key).is_some();
    match modality {
        Some(Modality::Seeds) => {
            if !present("seeds_implanted") {
                f.error("seeds_implanted", "validation.required");
            }
            for key in ["probes", "freeze_thaw"] {
                if present(key) {
                    f.error(key, "procedure.only_cryo");
                }
            }
        }
        Some(Modality::Cryo) => {
            for key in ["probes", "freeze_thaw"] {
                if !present(key) {
                    f.error(key, "validation.required");
                }
            }
            for key in ["seeds_implanted", "needles"] {
                if present(key) {
                    f.error(key, "procedure.only_seeds");
                }
            }
        }
        None => {}
    }
    f.finish()?;
    let (Some(lesion_id), Some(modality), Some(performed_on)) = (lesion_id, modality, performed_on) else {
        return Err(ApiError::field("body", "incomplete form"));
    };
    Ok(ProcedureForm {
        lesion_id,
        modality,
        performed_on,
        is_reintervention,
        seeds_implanted,
        needles,
        probes,
        freeze_thaw: freeze,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_bad_field_is_reported_in_the_users_language() {
        let body = json!({
            "patient_id": "", "site_id": "SITE-01", "screened_on": "2026-02-30", "age_years": "old",
            "ecog": 7, "labs": {"inr": -1}, "exclusions": {"uncontrolled_cns": "maybe"},
            "lesions": [{"lesion_id": "T1", "organ": "spleen"}, {"lesion_id": "", "organ": "", "is_target": false}]
        });
        let err = screening_form(&body, Locale::Zh, false).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = err.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "age_years",
                "ecog",
                "exclusions.uncontrolled_cns",
                "labs.inr",
                "lesions[0].organ",
                "patient_id",
                "screened_on"
            ]
        );
        assert_eq!(err.fields["patient_id"], "必填");
        assert_eq!(err.fields["screened_on"], "必须是日期（YYYY-MM-DD）");
        assert!(err.fields["ecog"].starts_with("超出范围"), "{}", err.fields["ecog"]);
    }

    #[test]
    fn a_partial_form_is_evaluated() {
        let form = screening_form(&json!({"age_years": 64, "labs": {"inr": "1.1"}}), Locale::En, true).unwrap();
        assert_eq!(form.record.age_years, Some(64));
        assert_eq!(form.record.labs.inr, Some(1.1));
        assert!(form.record.lesions.is_empty());
    }

    #[test]
    fn a_procedure_form_reports_every_bad_field_and_the_other_modalitys_fields() {
        let lesions = vec!["L1".to_owned(), "L2".to_owned()];
        let freeze = vec!["10-8-10".to_owned()];
        let err = procedure_form(
            &json!({"lesion_id": "L9", "modality": "cryo", "performed_on": "2026-13-01", "seeds_implanted": 40,
                    "freeze_thaw": "nope"}),
            Locale::En,
            &lesions,
            &freeze,
        )
        .unwrap_err();
        let fields: Vec<&str> = err.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["freeze_thaw", "lesion_id", "performed_on", "probes", "seeds_implanted"]);
        assert_eq!(err.fields["seeds_implanted"], "only for a seed implantation");
        let err = procedure_form(
            &json!({"lesion_id": "L1", "modality": "seeds", "performed_on": "2026-02-03"}),
            Locale::Zh,
            &lesions,
            &freeze,
        )
        .unwrap_err();
        assert_eq!(err.fields["seeds_implanted"], "必填");
        let ok = procedure_form(
            &json!({"lesion_id": "L2", "modality": "cryo", "performed_on": "2026-02-03", "probes": "3",
                    "freeze_thaw": "10-8-10", "notes": " ", "needles": ""}),
            Locale::En,
            &lesions,
            &freeze,
        )
        .unwrap();
        assert_eq!(
            (ok.probes, ok.freeze_thaw.as_deref(), ok.notes, ok.seeds_implanted),
            (Some(3), Some("10-8-10"), None, None)
        );
    }

    #[test]
    fn dates_must_be_real_days() {
        assert!(cryoseed_store_date_ok("2024-02-29"));
        assert!(!cryoseed_store_date_ok("2023-02-29"));
        assert!(!cryoseed_store_date_ok("2023-2-1"));
        assert!(!cryoseed_store_date_ok("yesterday"));
    }

    #[test]
    fn json_errors_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code, reason = "only parsed")]
        struct Body {
            items: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code, reason = "only parsed")]
        struct Item {
            grade: u8,
        }
        let err = parse::<Body>(br#"{"items": [{"grade": 1}, {"grade": "x"}]}"#).unwrap_err();
        assert_eq!(err.fields.keys().next().map(String::as_str), Some("items[1].grade"));
        assert_eq!(parse::<Body>(b"{").unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
