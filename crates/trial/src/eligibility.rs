//! Eligibility: each criterion of PROTOCOL.md ("Eligibility") evaluated with its evidence.

use cryoseed_core::patient::{DeclaredLesion, ScreeningRecord};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Ml, Mm};
use std::fmt;

/// Inclusion or exclusion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CriterionKind {
    /// Must hold to enrol.
    Inclusion,
    /// Must not hold to enrol.
    Exclusion,
}

/// The outcome of one criterion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The patient satisfies the criterion (for an exclusion: is not excluded by it).
    Met,
    /// The patient does not satisfy it (for an exclusion: is excluded by it).
    NotMet,
    /// Cannot be decided yet: the listed data are missing.
    Undecided {
        /// What must be entered first.
        missing: Vec<String>,
    },
}

/// One criterion's verdict with the rule and the evidence behind it.
#[derive(Clone, Debug, PartialEq)]
pub struct CriterionResult {
    /// Stable identifier (`inclusion.age`, `exclusion.uncontrolled_cns`).
    pub id: &'static str,
    /// Inclusion or exclusion.
    pub kind: CriterionKind,
    /// The rule, with the protocol's numbers (`age >= 18 years`).
    pub rule: String,
    /// What the data say (`age 64 years`), empty when undecided.
    pub evidence: String,
    /// The outcome.
    pub verdict: Verdict,
}

/// Overall screening status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Every criterion is met.
    Eligible,
    /// At least one criterion is not met.
    Ineligible,
    /// None failed, but some cannot be decided yet.
    Pending,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Eligible => "eligible",
            Status::Ineligible => "ineligible",
            Status::Pending => "pending",
        })
    }
}

/// Every criterion evaluated for one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// One result per criterion, inclusions first, in protocol order.
    pub criteria: Vec<CriterionResult>,
}

impl Assessment {
    /// Eligible when all criteria are met; ineligible when any is not; pending otherwise.
    pub fn status(&self) -> Status {
        if self.criteria.iter().any(|c| c.verdict == Verdict::NotMet) {
            Status::Ineligible
        } else if self.criteria.iter().all(|c| c.verdict == Verdict::Met) {
            Status::Eligible
        } else {
            Status::Pending
        }
    }

    /// The criteria that are not met.
    pub fn failed(&self) -> impl Iterator<Item = &CriterionResult> {
        self.criteria.iter().filter(|c| c.verdict == Verdict::NotMet)
    }

    /// The criteria that cannot be decided yet.
    pub fn undecided(&self) -> impl Iterator<Item = &CriterionResult> {
        self.criteria.iter().filter(|c| matches!(c.verdict, Verdict::Undecided { .. }))
    }
}

/// Evaluates every eligibility criterion of `protocol` for `record`.
pub fn assess(record: &ScreeningRecord, protocol: &Protocol) -> Assessment {
    let e = &protocol.eligibility;
    let mut out = Vec::new();
    let mut inclusion = |id, rule: String, evidence: String, verdict| {
        out.push(CriterionResult { id, kind: CriterionKind::Inclusion, rule, evidence, verdict });
    };

    let (evidence, verdict) = match record.age_years {
        Some(age) => (format!("age {age} years"), met(age >= e.min_age_years)),
        None => (String::new(), missing("age")),
    };
    inclusion("inclusion.age", format!("age >= {} years", e.min_age_years), evidence, verdict);

    let (lo, hi) = (e.ecog.min.score(), e.ecog.max.score());
    let (evidence, verdict) = match record.ecog {
        Some(ecog) => (format!("ECOG {}", ecog.score()), met((lo..=hi).contains(&ecog.score()))),
        None => (String::new(), missing("ECOG performance status")),
    };
    inclusion("inclusion.ecog", format!("ECOG {lo}-{hi}"), evidence, verdict);

    for (id, rule, value, what) in [
        (
            "inclusion.histology",
            "histologically or cytologically confirmed solid malignancy",
            record.histology_confirmed,
            "histology confirmation",
        ),
        ("inclusion.metastatic", "metastatic disease", record.metastatic, "metastatic status"),
        (
            "inclusion.not_curable",
            "not amenable to curative surgery or definitive curative-intent radiotherapy",
            record.not_amenable_to_curative_therapy,
            "curative-therapy assessment",
        ),
    ] {
        let (evidence, verdict) = yes_no(value, what, true);
        inclusion(id, rule.into(), evidence, verdict);
    }

    let (evidence, verdict) = match record.metastatic_lesion_count {
        Some(n) => (format!("{n} metastatic lesions"), met(n >= e.min_metastatic_lesions)),
        None => (String::new(), missing("number of metastatic lesions")),
    };
    inclusion(
        "inclusion.metastatic_lesion_count",
        format!(">= {} metastatic lesions on imaging", e.min_metastatic_lesions),
        evidence,
        verdict,
    );

    let targets: Vec<&DeclaredLesion> = record.lesions.iter().filter(|l| l.is_target).collect();
    let n_targets = targets.len() as u32;
    inclusion(
        "inclusion.target_count",
        format!("{}-{} prespecified target lesions", e.min_targets, e.max_targets),
        format!("{n_targets} targets"),
        met((e.min_targets..=e.max_targets).contains(&n_targets)),
    );

    let (evidence, verdict) = measurable_targets(&targets, protocol);
    inclusion(
        "inclusion.measurable_targets",
        format!(
            ">= {} targets measurable by RECIST 1.1 (non-nodal longest diameter >= {:.0} mm, node short axis >= {:.0} mm)",
            e.min_measurable_targets,
            e.measurability.min_non_nodal_longest_diameter_mm.0,
            e.measurability.min_nodal_short_axis_mm.0
        ),
        evidence,
        verdict,
    );

    let (evidence, verdict) = bulky_index(&targets, protocol);
    inclusion(
        "inclusion.bulky_index",
        format!(
            "one target designated bulky index lesion with longest diameter >= {:.0} mm or volume >= {:.0} mL",
            e.bulky.min_longest_diameter_mm.0, e.bulky.min_volume_ml.0
        ),
        evidence,
        verdict,
    );

    let labs = &record.labs;
    let t = &e.labs;
    for (id, name, value, limit, is_min, unit) in [
        ("inclusion.platelets", "platelets", labs.platelets_e9_per_l, t.min_platelets_e9_per_l, true, "x10^9/L"),
        ("inclusion.inr", "INR", labs.inr, t.max_inr, false, ""),
        ("inclusion.anc", "ANC", labs.anc_e9_per_l, t.min_anc_e9_per_l, true, "x10^9/L"),
        ("inclusion.haemoglobin", "haemoglobin", labs.haemoglobin_g_per_l, t.min_haemoglobin_g_per_l, true, "g/L"),
        ("inclusion.bilirubin", "total bilirubin", labs.bilirubin_x_uln, t.max_bilirubin_x_uln, false, "x ULN"),
        ("inclusion.ast", "AST", labs.ast_x_uln, t.max_ast_x_uln, false, "x ULN"),
        ("inclusion.alt", "ALT", labs.alt_x_uln, t.max_alt_x_uln, false, "x ULN"),
        (
            "inclusion.creatinine_clearance",
            "creatinine clearance",
            labs.creatinine_clearance_ml_per_min,
            t.min_creatinine_clearance_ml_per_min,
            true,
            "mL/min",
        ),
    ] {
        let op = if is_min { ">=" } else { "<=" };
        let rule = format!("{name} {op} {limit} {unit}").trim_end().to_owned();
        let (evidence, verdict) = match value {
            Some(v) => {
                (format!("{name} {v} {unit}").trim_end().to_owned(), met(if is_min { v >= limit } else { v <= limit }))
            }
            None => (String::new(), missing(name)),
        };
        inclusion(id, rule, evidence, verdict);
    }

    let x = &record.exclusions;
    for (id, rule, value) in [
        ("exclusion.emergent_intervention", "emergent intervention needed", x.emergent_intervention),
        ("exclusion.target_not_accessible", "a target lesion is not safely accessible", x.target_not_accessible),
        ("exclusion.uncontrolled_infection", "active uncontrolled infection", x.uncontrolled_infection),
        ("exclusion.uncontrolled_effusion", "uncontrolled effusion or ascites", x.uncontrolled_effusion),
        ("exclusion.severe_cardiopulmonary", "severe cardiopulmonary comorbidity", x.severe_cardiopulmonary),
        (
            "exclusion.prior_local_therapy_bulky",
            "prior local therapy to the bulky index lesion",
            x.prior_local_therapy_bulky,
        ),
        ("exclusion.uncontrolled_cns", "uncontrolled CNS metastases", x.uncontrolled_cns),
    ] {
        let (evidence, verdict) = yes_no(value, rule, false);
        out.push(CriterionResult { id, kind: CriterionKind::Exclusion, rule: rule.into(), evidence, verdict });
    }
    let (evidence, verdict) = match (&x.investigator_judgement, x.investigator_judgement_answered) {
        (Some(reason), _) => (format!("excluded: {reason}"), Verdict::NotMet),
        (None, true) => ("no".into(), Verdict::Met),
        (None, false) => (String::new(), missing("investigator judgement")),
    };
    out.push(CriterionResult {
        id: "exclusion.investigator_judgement",
        kind: CriterionKind::Exclusion,
        rule: "excluded by investigator judgement (reason required)".into(),
        evidence,
        verdict,
    });

    Assessment { criteria: out }
}

fn met(holds: bool) -> Verdict {
    if holds { Verdict::Met } else { Verdict::NotMet }
}

fn missing(what: &str) -> Verdict {
    Verdict::Undecided { missing: vec![what.to_owned()] }
}

/// A yes/no answer: for an inclusion `wanted` is true, for an exclusion it is false.
fn yes_no(value: Option<bool>, what: &str, wanted: bool) -> (String, Verdict) {
    match value {
        Some(v) => ((if v { "yes" } else { "no" }).into(), met(v == wanted)),
        None => (String::new(), missing(what)),
    }
}

/// RECIST 1.1 measurability at baseline (Eisenhauer 2009, §3.1): a non-nodal lesion by its
/// longest diameter, a lymph node by its short axis.
fn is_measurable(lesion: &DeclaredLesion, protocol: &Protocol) -> Option<bool> {
    let m = &protocol.eligibility.measurability;
    if lesion.is_nodal {
        lesion.short_axis.map(|sa| sa >= m.min_nodal_short_axis_mm)
    } else {
        lesion.longest_diameter.map(|ld| ld >= m.min_non_nodal_longest_diameter_mm)
    }
}

fn measurable_targets(targets: &[&DeclaredLesion], protocol: &Protocol) -> (String, Verdict) {
    let need = protocol.eligibility.min_measurable_targets as usize;
    let mut measurable = 0;
    let mut unmeasured = Vec::new();
    let mut too_small = Vec::new();
    for lesion in targets {
        match is_measurable(lesion, protocol) {
            Some(true) => measurable += 1,
            Some(false) => too_small.push(lesion_size(lesion)),
            None => unmeasured.push(format!(
                "{} of lesion {}",
                if lesion.is_nodal { "short axis" } else { "longest diameter" },
                lesion.lesion_id
            )),
        }
    }
    let mut evidence = format!("{measurable} of {} targets measurable", targets.len());
    if !too_small.is_empty() {
        evidence.push_str(&format!("; too small: {}", too_small.join(", ")));
    }
    let verdict = if measurable >= need {
        Verdict::Met
    } else if measurable + unmeasured.len() >= need {
        Verdict::Undecided { missing: unmeasured }
    } else {
        Verdict::NotMet
    };
    (evidence, verdict)
}

fn lesion_size(lesion: &DeclaredLesion) -> String {
    let mm = |v: Option<Mm>| v.map_or("?".to_owned(), |v| format!("{:.0} mm", v.0));
    if lesion.is_nodal {
        format!("{} (node, short axis {})", lesion.lesion_id, mm(lesion.short_axis))
    } else {
        format!("{} ({})", lesion.lesion_id, mm(lesion.longest_diameter))
    }
}

fn bulky_index(targets: &[&DeclaredLesion], protocol: &Protocol) -> (String, Verdict) {
    let designated: Vec<&&DeclaredLesion> = targets.iter().filter(|l| l.is_bulky_index).collect();
    let [lesion] = designated.as_slice() else {
        return (format!("{} targets designated bulky index lesion", designated.len()), Verdict::NotMet);
    };
    let bulky = &protocol.eligibility.bulky;
    let mm =
        lesion.longest_diameter.map_or("longest diameter ?".into(), |v: Mm| format!("longest diameter {:.0} mm", v.0));
    let ml = lesion.volume.map_or("volume ?".into(), |v: Ml| format!("volume {:.0} mL", v.0));
    let evidence = format!("{}: {mm}, {ml}", lesion.lesion_id);
    if bulky.criterion_met(lesion.longest_diameter, lesion.volume).is_some() {
        return (evidence, Verdict::Met);
    }
    let mut unknown = Vec::new();
    if lesion.longest_diameter.is_none() {
        unknown.push(format!("longest diameter of lesion {}", lesion.lesion_id));
    }
    if lesion.volume.is_none() {
        unknown.push(format!("volume of lesion {}", lesion.lesion_id));
    }
    if unknown.is_empty() { (evidence, Verdict::NotMet) } else { (evidence, Verdict::Undecided { missing: unknown }) }
}
