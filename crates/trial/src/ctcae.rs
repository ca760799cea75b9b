//! NCI CTCAE v5.0 (27 Nov 2017): the catalogue of 837 terms and validation of adverse-event
//! records against it.
//!
//! The catalogue is the "Clean Copy" sheet of the NCI workbook converted to JSON (provenance in
//! `data/ctcae/PROVENANCE.md`), embedded in the binary. A grade is allowed for a term exactly when
//! the term's cell for that grade is filled; a "-" in the workbook (e.g. no Grade 5 for most
//! laboratory terms) means the grade does not exist for the term.

use crate::error::{Result, TrialError};
use cryoseed_response::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The CTCAE version of the catalogue, stored with every adverse-event record.
pub const CTCAE_VERSION: &str = "5.0";

const TERMS_JSON: &str = include_str!("../data/ctcae/ctcae_v5.0_terms.json");

/// One CTCAE v5.0 term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtcaeTerm {
    /// MedDRA lowest-level-term code (8 digits).
    pub meddra_code: String,
    /// MedDRA system organ class.
    pub soc: String,
    /// The CTCAE term, as spelt by NCI.
    pub term: String,
    /// Descriptions of grades 1–5; `None` where the grade is not defined for the term.
    pub grades: [Option<String>; 5],
    /// The NCI definition, when given.
    pub definition: Option<String>,
    /// The navigational note, when given.
    pub navigational_note: Option<String>,
}

impl CtcaeTerm {
    /// Whether `grade` (1–5) is defined for the term.
    pub fn allows_grade(&self, grade: u8) -> bool {
        (1..=5).contains(&grade) && self.grades[usize::from(grade - 1)].is_some()
    }

    /// The grades defined for the term, ascending.
    pub fn allowed_grades(&self) -> Vec<u8> {
        (1..=5).filter(|&g| self.allows_grade(g)).collect()
    }

    /// Whether this is an "`<SOC> - Other, specify`" term, which needs a free-text specification.
    pub fn is_other_specify(&self) -> bool {
        self.term.ends_with("Other, specify")
    }
}

#[derive(Deserialize)]
struct RawCatalogue {
    count: usize,
    terms: Vec<RawTerm>,
}

#[derive(Deserialize)]
struct RawTerm {
    meddra_code: String,
    meddra_soc: String,
    term: String,
    grades: BTreeMap<String, Option<String>>,
    definition: Option<String>,
    navigational_note: Option<String>,
}

/// The CTCAE v5.0 catalogue.
#[derive(Debug)]
pub struct Catalogue {
    terms: Vec<CtcaeTerm>,
    by_name: BTreeMap<String, usize>,
    by_code: BTreeMap<String, usize>,
}

fn normalize(term: &str) -> String {
    term.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn filled(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty() && t != "-")
}

impl Catalogue {
    fn parse(json: &str) -> std::result::Result<Catalogue, String> {
        let raw: RawCatalogue = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if raw.count != raw.terms.len() {
            return Err(format!("declares {} terms but holds {}", raw.count, raw.terms.len()));
        }
        let mut catalogue = Catalogue { terms: Vec::new(), by_name: BTreeMap::new(), by_code: BTreeMap::new() };
        for (i, t) in raw.terms.into_iter().enumerate() {
            let mut grades: [Option<String>; 5] = Default::default();
            for (key, text) in t.grades {
                let grade: usize =
                    key.parse().ok().filter(|g| (1..=5).contains(g)).ok_or(format!("grade key {key:?}"))?;
                grades[grade - 1] = filled(text);
            }
            if catalogue.by_name.insert(normalize(&t.term), i).is_some() {
                return Err(format!("term {:?} twice", t.term));
            }
            if catalogue.by_code.insert(t.meddra_code.clone(), i).is_some() {
                return Err(format!("MedDRA code {} twice", t.meddra_code));
            }
            catalogue.terms.push(CtcaeTerm {
                meddra_code: t.meddra_code,
                soc: t.meddra_soc,
                term: t.term,
                grades,
                definition: filled(t.definition),
                navigational_note: filled(t.navigational_note),
            });
        }
        Ok(catalogue)
    }

    /// Every term, in NCI order (by SOC, then term).
    pub fn terms(&self) -> &[CtcaeTerm] {
        &self.terms
    }

    /// The term with this name (case and spacing ignored).
    pub fn term(&self, name: &str) -> Option<&CtcaeTerm> {
        self.by_name.get(&normalize(name)).map(|&i| &self.terms[i])
    }

    /// The term with this MedDRA code.
    pub fn by_meddra_code(&self, code: &str) -> Option<&CtcaeTerm> {
        self.by_code.get(code.trim()).map(|&i| &self.terms[i])
    }

    /// Terms matching a query, best first: exact name, then names containing the query (shorter
    /// first), then the closest names by edit distance; at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<&CtcaeTerm> {
        let q = normalize(query);
        if q.is_empty() {
            return Vec::new();
        }
        // The names come normalized from `by_name`. Edit distances are computed only when no
        // name contains the query: otherwise they would all be dropped below.
        let mut scored: Vec<(u8, usize, &str, &CtcaeTerm)> = self
            .by_name
            .iter()
            .filter_map(|(name, &i)| {
                let t = &self.terms[i];
                if *name == q {
                    Some((0, 0, t.term.as_str(), t))
                } else if name.contains(&q) {
                    Some((1, name.len(), t.term.as_str(), t))
                } else {
                    None
                }
            })
            .collect();
        let has_substring = !scored.is_empty();
        if !has_substring {
            scored = self
                .by_name
                .iter()
                .map(|(name, &i)| (2, levenshtein(&q, name), self.terms[i].term.as_str(), &self.terms[i]))
                .collect();
        }
        scored.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        scored
            .into_iter()
            // Edit-distance matches only help when nothing contains the query, and only when close.
            .filter(|s| s.0 < 2 || (!has_substring && s.1 <= q.chars().count().div_ceil(2).max(2)))
            .take(limit)
            .map(|s| s.3)
            .collect()
    }
}

/// Levenshtein distance over characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The embedded CTCAE v5.0 catalogue (parsed once).
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    // The integration tests parse the embedded file, so this cannot ship broken.
    CATALOGUE.get_or_init(|| Catalogue::parse(TERMS_JSON).expect("embedded CTCAE v5.0 catalogue is valid"))
}

/// What an adverse event is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The cryoablation procedure.
    Cryoablation,
    /// The seed implantation procedure.
    SeedImplantation,
    /// Radiation from the implanted seeds.
    Radiation,
    /// The underlying disease.
    Disease,
    /// Anything else (concomitant medication, intercurrent illness…).
    Other,
}

/// Certainty of a causal relationship (the usual five-point NCI scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// Clearly not related.
    Unrelated,
    /// Doubtfully related.
    Unlikely,
    /// May be related.
    Possible,
    /// Likely related.
    Probable,
    /// Clearly related.
    Definite,
}

impl Certainty {
    /// Whether the event counts as related (possible, probable or definite), as in NCI reporting.
    pub fn is_related(self) -> bool {
        self >= Certainty::Possible
    }
}

/// One attribution of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// To what.
    pub cause: Cause,
    /// How certain.
    pub certainty: Certainty,
}

/// ICH E2A criteria that make an adverse event serious.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriousCriterion {
    /// Results in death.
    Death,
    /// Is life-threatening.
    LifeThreatening,
    /// Requires or prolongs inpatient hospitalisation.
    Hospitalization,
    /// Results in persistent or significant disability or incapacity.
    Disability,
    /// Is a congenital anomaly or birth defect.
    CongenitalAnomaly,
    /// Is another important medical event.
    ImportantMedicalEvent,
}

/// An adverse event as entered on the form.
#[derive(Clone, Debug, PartialEq)]
pub struct AdverseEventInput {
    /// CTCAE term as typed or picked.
    pub term: String,
    /// CTCAE grade 1–5.
    pub grade: u8,
    /// Free-text specification, required for "Other, specify" terms.
    pub specification: Option<String>,
    /// Attributions (at least one; each cause at most once).
    pub attributions: Vec<Attribution>,
    /// Seriousness criteria met (empty: not serious).
    pub serious: Vec<SeriousCriterion>,
    /// Onset date.
    pub onset: Date,
    /// Resolution date (`None`: ongoing).
    pub resolution: Option<Date>,
    /// MedDRA version used for coding, e.g. "20.1".
    pub meddra_version: String,
}

/// A validated adverse event, with the versions it was coded in.
#[derive(Clone, Debug, PartialEq)]
pub struct AdverseEvent {
    /// MedDRA code of the CTCAE term.
    pub meddra_code: String,
    /// The CTCAE term in NCI's spelling.
    pub term: String,
    /// MedDRA system organ class.
    pub soc: String,
    /// CTCAE grade.
    pub grade: u8,
    /// Specification of an "Other, specify" term.
    pub specification: Option<String>,
    /// Attributions, sorted by cause.
    pub attributions: Vec<Attribution>,
    /// Seriousness criteria, sorted.
    pub serious: Vec<SeriousCriterion>,
    /// Onset date.
    pub onset: Date,
    /// Resolution date (`None`: ongoing).
    pub resolution: Option<Date>,
    /// Always [`CTCAE_VERSION`].
    pub ctcae_version: &'static str,
    /// MedDRA version.
    pub meddra_version: String,
}

impl AdverseEvent {
    /// Whether any seriousness criterion is met (an SAE).
    pub fn is_serious(&self) -> bool {
        !self.serious.is_empty()
    }

    /// Whether the event is related (possible or more) to any protocol therapy.
    pub fn is_treatment_related(&self) -> bool {
        self.attributions.iter().any(|a| {
            matches!(a.cause, Cause::Cryoablation | Cause::SeedImplantation | Cause::Radiation)
                && a.certainty.is_related()
        })
    }
}

fn refuse(field: &'static str, reason: impl Into<String>) -> TrialError {
    TrialError::InvalidAdverseEvent { field, reason: reason.into() }
}

/// The term named `name` if it exists and defines `grade`; otherwise an error naming the field
/// (`term`, with up to three close matches, or `grade`, with the grades the term allows).
pub fn check_grade<'c>(catalogue: &'c Catalogue, name: &str, grade: u8) -> Result<&'c CtcaeTerm> {
    let term = catalogue.term(name).ok_or_else(|| {
        let suggestions: Vec<String> = catalogue.search(name, 3).into_iter().map(|t| format!("{:?}", t.term)).collect();
        let hint =
            if suggestions.is_empty() { String::new() } else { format!("; did you mean {}?", suggestions.join(", ")) };
        refuse("term", format!("{name:?} is not a CTCAE v5.0 term{hint}"))
    })?;
    if !term.allows_grade(grade) {
        let allowed: Vec<String> = term.allowed_grades().iter().map(u8::to_string).collect();
        return Err(refuse(
            "grade",
            format!("grade {grade} is not defined for {:?} (allowed: {})", term.term, allowed.join(", ")),
        ));
    }
    Ok(term)
}

/// Validates an adverse event against the CTCAE v5.0 catalogue and the record rules: known term
/// (with suggestions), grade defined for the term, specification for "Other, specify", at least
/// one attribution and no cause twice, grade 5 only with the seriousness criterion "death" (ICH
/// E2A: an event resulting in death is serious), resolution not before onset, MedDRA version given.
pub fn validate_adverse_event(input: &AdverseEventInput, catalogue: &Catalogue) -> Result<AdverseEvent> {
    let term = check_grade(catalogue, &input.term, input.grade)?;
    let specification = input.specification.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    if term.is_other_specify() && specification.is_none() {
        return Err(refuse("specification", format!("{:?} requires a free-text specification", term.term)));
    }
    if input.attributions.is_empty() {
        return Err(refuse("attributions", "at least one attribution (cause and certainty) is required"));
    }
    let mut attributions = input.attributions.clone();
    attributions.sort_by_key(|a| a.cause);
    if let Some(pair) = attributions.windows(2).find(|w| w[0].cause == w[1].cause) {
        return Err(refuse("attributions", format!("cause {:?} is given twice", pair[0].cause)));
    }
    let mut serious = input.serious.clone();
    serious.sort();
    serious.dedup();
    if input.grade == 5 && !serious.contains(&SeriousCriterion::Death) {
        return Err(refuse("serious", "a grade 5 event (death) must have the seriousness criterion \"death\""));
    }
    if input.grade < 5 && serious.contains(&SeriousCriterion::Death) {
        return Err(refuse("grade", "seriousness criterion \"death\" requires grade 5"));
    }
    if let Some(resolution) = input.resolution
        && resolution < input.onset
    {
        return Err(refuse("resolution", format!("resolution date {resolution} is before onset date {}", input.onset)));
    }
    let meddra_version = input.meddra_version.trim();
    if meddra_version.is_empty() {
        return Err(refuse("meddra_version", "the MedDRA version used for coding is required"));
    }
    Ok(AdverseEvent {
        meddra_code: term.meddra_code.clone(),
        term: term.term.clone(),
        soc: term.soc.clone(),
        grade: input.grade,
        specification,
        attributions,
        serious,
        onset: input.onset,
        resolution: input.resolution,
        ctcae_version: CTCAE_VERSION,
        meddra_version: meddra_version.to_owned(),
    })
}
