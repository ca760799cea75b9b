//! Eligibility against PROTOCOL.md ("Eligibility"), one line per case: an edit of a fully
//! eligible screening record and the verdicts a site investigator would see.

use cryoseed_core::patient::{DeclaredLesion, Exclusions, Labs, ScreeningRecord};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Ecog, LesionId, Ml, Mm, Organ, PatientId, SiteId};
mod ctcae;
mod endpoints;
mod randomization;

use cryoseed_trial::eligibility::{Status, Verdict, assess};

fn lesion(id: &str, organ: Organ, ld_mm: f64, volume_ml: f64) -> DeclaredLesion {
    DeclaredLesion {
        lesion_id: LesionId::parse(id).unwrap(),
        organ,
        is_nodal: false,
        longest_diameter: Some(Mm(ld_mm)),
        short_axis: Some(Mm(ld_mm * 0.7)),
        volume: Some(Ml(volume_ml)),
        is_target: true,
        is_bulky_index: false,
    }
}

/// A patient who meets every criterion of the shipped protocol.
fn eligible() -> ScreeningRecord {
    let mut bulky = lesion("L1", Organ::Pelvis, 82.0, 180.0);
    bulky.is_bulky_index = true;
    ScreeningRecord {
        patient_id: PatientId::parse("P-001").unwrap(),
        site_id: SiteId::parse("SITE-01").unwrap(),
        age_years: Some(61),
        ecog: Some(Ecog::new(1).unwrap()),
        histology_confirmed: Some(true),
        metastatic: Some(true),
        not_amenable_to_curative_therapy: Some(true),
        metastatic_lesion_count: Some(4),
        lesions: vec![bulky, lesion("L2", Organ::Liver, 28.0, 9.0), lesion("L3", Organ::Lung, 18.0, 2.5)],
        labs: Labs {
            platelets_e9_per_l: Some(210.0),
            inr: Some(1.1),
            anc_e9_per_l: Some(3.2),
            haemoglobin_g_per_l: Some(118.0),
            bilirubin_x_uln: Some(0.8),
            ast_x_uln: Some(1.2),
            alt_x_uln: Some(1.0),
            creatinine_clearance_ml_per_min: Some(74.0),
        },
        exclusions: Exclusions {
            emergent_intervention: Some(false),
            target_not_accessible: Some(false),
            uncontrolled_infection: Some(false),
            uncontrolled_effusion: Some(false),
            severe_cardiopulmonary: Some(false),
            prior_local_therapy_bulky: Some(false),
            uncontrolled_cns: Some(false),
            investigator_judgement: None,
            investigator_judgement_answered: true,
        },
    }
}

/// Applies `edit` to the eligible patient and checks the overall status and which criteria
/// failed (`!id`) or are undecided (`?id`), plus an evidence or rule fragment for the first.
fn check(edit: impl FnOnce(&mut ScreeningRecord), status: Status, expected: &[&str], fragment: &str) {
    let mut record = eligible();
    edit(&mut record);
    let assessment = assess(&record, &Protocol::shipped());
    let mut got: Vec<String> = assessment.failed().map(|c| format!("!{}", c.id)).collect();
    got.extend(assessment.undecided().map(|c| format!("?{}", c.id)));
    assert_eq!(got, expected, "criteria");
    assert_eq!(assessment.status(), status, "status");
    if let Some(first) = assessment.failed().chain(assessment.undecided()).next() {
        let text = match &first.verdict {
            Verdict::Undecided { missing } => {
                format!("{} | {} | missing {}", first.rule, first.evidence, missing.join(", "))
            }
            _ => format!("{} | {}", first.rule, first.evidence),
        };
        assert!(text.contains(fragment), "{text:?} should contain {fragment:?}");
    }
}

#[test]
fn eligibility_criteria() {
    check(|_| {}, Status::Eligible, &[], "");
    check(|r| r.age_years = Some(17), Status::Ineligible, &["!inclusion.age"], "age >= 18 years | age 17 years");
    check(|r| r.ecog = Some(Ecog::new(3).unwrap()), Status::Ineligible, &["!inclusion.ecog"], "ECOG 0-2 | ECOG 3");
    check(|r| r.histology_confirmed = Some(false), Status::Ineligible, &["!inclusion.histology"], "| no");
    check(
        |r| r.metastatic_lesion_count = Some(2),
        Status::Ineligible,
        &["!inclusion.metastatic_lesion_count"],
        ">= 3 metastatic lesions on imaging | 2 metastatic lesions",
    );
    check(
        |r| {
            r.lesions.truncate(1);
        },
        Status::Ineligible,
        &["!inclusion.target_count", "!inclusion.measurable_targets"],
        "2-5 prespecified target lesions | 1 targets",
    );
    // A 8 mm target is not measurable (RECIST 1.1: >= 10 mm); two measurable remain.
    check(|r| r.lesions[2].longest_diameter = Some(Mm(8.0)), Status::Eligible, &[], "");
    check(
        |r| {
            r.lesions[1].longest_diameter = Some(Mm(8.0));
            r.lesions[2].longest_diameter = Some(Mm(9.0));
        },
        Status::Ineligible,
        &["!inclusion.measurable_targets"],
        "1 of 3 targets measurable; too small: L2 (8 mm), L3 (9 mm)",
    );
    // A node counts by its short axis (>= 15 mm).
    check(
        |r| {
            r.lesions[1].is_nodal = true;
            r.lesions[1].short_axis = Some(Mm(12.0));
            r.lesions[2].is_nodal = true;
            r.lesions[2].short_axis = Some(Mm(14.0));
        },
        Status::Ineligible,
        &["!inclusion.measurable_targets"],
        "L2 (node, short axis 12 mm)",
    );
    check(
        |r| {
            r.lesions[1].longest_diameter = None;
            r.lesions[2].longest_diameter = None;
        },
        Status::Pending,
        &["?inclusion.measurable_targets"],
        "missing longest diameter of lesion L2, longest diameter of lesion L3",
    );
    // Three targets in one organ are allowed: RECIST's two-per-organ rule governs which lesions
    // are measured for response, not who may enrol.
    check(
        |r| {
            r.lesions[1].organ = Organ::Pelvis;
            r.lesions[2].organ = Organ::Pelvis;
        },
        Status::Eligible,
        &[],
        "",
    );
    // Bulky: 65 mm and 90 mL is not bulky; 65 mm and 120 mL is (volume criterion).
    check(
        |r| {
            r.lesions[0].longest_diameter = Some(Mm(65.0));
            r.lesions[0].volume = Some(Ml(90.0));
        },
        Status::Ineligible,
        &["!inclusion.bulky_index"],
        "longest diameter >= 70 mm or volume >= 100 mL | L1: longest diameter 65 mm, volume 90 mL",
    );
    check(
        |r| {
            r.lesions[0].longest_diameter = Some(Mm(65.0));
            r.lesions[0].volume = Some(Ml(120.0));
        },
        Status::Eligible,
        &[],
        "",
    );
    check(
        |r| {
            r.lesions[0].longest_diameter = Some(Mm(65.0));
            r.lesions[0].volume = None;
        },
        Status::Pending,
        &["?inclusion.bulky_index"],
        "missing volume of lesion L1",
    );
    check(
        |r| r.lesions[0].is_bulky_index = false,
        Status::Ineligible,
        &["!inclusion.bulky_index"],
        "0 targets designated",
    );
    check(
        |r| r.labs.platelets_e9_per_l = Some(42.0),
        Status::Ineligible,
        &["!inclusion.platelets"],
        "platelets >= 50 x10^9/L | platelets 42 x10^9/L",
    );
    check(|r| r.labs.inr = Some(1.6), Status::Ineligible, &["!inclusion.inr"], "INR <= 1.5 | INR 1.6");
    check(|r| r.labs.inr = Some(1.5), Status::Eligible, &[], "");
    check(|r| r.labs.inr = None, Status::Pending, &["?inclusion.inr"], "missing INR");
    check(
        |r| r.labs.creatinine_clearance_ml_per_min = Some(25.0),
        Status::Ineligible,
        &["!inclusion.creatinine_clearance"],
        "creatinine clearance >= 30 mL/min",
    );
    check(
        |r| r.labs.bilirubin_x_uln = Some(2.5),
        Status::Ineligible,
        &["!inclusion.bilirubin"],
        "total bilirubin <= 2 x ULN",
    );
    check(
        |r| r.exclusions.uncontrolled_cns = Some(true),
        Status::Ineligible,
        &["!exclusion.uncontrolled_cns"],
        "uncontrolled CNS metastases | yes",
    );
    check(
        |r| r.exclusions.prior_local_therapy_bulky = None,
        Status::Pending,
        &["?exclusion.prior_local_therapy_bulky"],
        "missing prior local therapy",
    );
    check(
        |r| r.exclusions.investigator_judgement = Some("unable to lie prone".into()),
        Status::Ineligible,
        &["!exclusion.investigator_judgement"],
        "excluded: unable to lie prone",
    );
    check(
        |r| r.exclusions.investigator_judgement_answered = false,
        Status::Pending,
        &["?exclusion.investigator_judgement"],
        "missing investigator judgement",
    );
    // A failure outweighs missing data.
    check(
        |r| {
            r.labs.inr = None;
            r.age_years = Some(16);
        },
        Status::Ineligible,
        &["!inclusion.age", "?inclusion.inr"],
        "age 16 years",
    );
}

#[test]
fn thresholds_come_from_the_protocol() {
    let text = Protocol::default_toml().replace("max_inr = 1.5", "max_inr = 1.8");
    let protocol = Protocol::from_toml_str(&text).unwrap();
    let mut record = eligible();
    record.labs.inr = Some(1.6);
    assert_eq!(assess(&record, &protocol).status(), Status::Eligible);
    assert_eq!(assess(&record, &Protocol::shipped()).status(), Status::Ineligible);
}
