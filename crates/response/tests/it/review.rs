//! Two blinded readers and an adjudicator: triggers from `[response.adjudication]`, the accepted
//! assessment, and Cohen's kappa against scikit-learn (fixture in tests/fixtures/kappa.json,
//! made by tests/fixtures/make_fixtures.py; tolerance 1e-12, both compute the same closed form).

use crate::assess;
use crate::dsl::two_readers;
use cryoseed_core::protocol::Protocol;
use cryoseed_response::{Acceptance, OverallResponse, Trigger, binary_agreement, reader_agreement, response_agreement};

const LESIONS: &[&str] = &["T1:liver:target:treated=0:bulky", "T2:lung:target"];

#[test]
fn concordant_readers_accept_reader_1() {
    let a = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=42 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=26 T2=15"))],
        None,
    ));
    assert!(a.review.discordances.is_empty());
    assert_eq!(a.review.acceptance, Acceptance::Concordant);
    assert!(a.readers[0].is_accepted && !a.readers[1].is_accepted);
    assert_eq!(a.accepted().unwrap().reader.as_str(), "R1");
}

#[test]
fn each_trigger_fires() {
    // Response disagreement: PR for R1 (40 mm, −33 %), SD for R2 (50 mm, −17 %); sums differ
    // by 10 mm = 22.2 % of their mean 45 mm (> 20 %): two triggers.
    let a = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=35 T2=15"))],
        None,
    ));
    let d = &a.review.discordances[0];
    assert_eq!(d.triggers[0].0, Trigger::ResponseDisagreement(OverallResponse::Pr, OverallResponse::Sd));
    assert_eq!(d.triggers[1].0, Trigger::TargetSumDifference);
    assert!(d.triggers[1].1.contains("differ by 10 mm = 22.2 % of their mean (limit 20.0 %)"), "{}", d.triggers[1].1);
    assert_eq!(a.review.acceptance, Acceptance::AdjudicationPending);
    assert!(a.accepted().is_none());
    assert!(a.findings.iter().any(|f| f.message.contains("adjudication required (discordant at W8)")));

    // Sums 20 % apart of their mean is not "more than 20 %": 36 vs 44 mm → 8 / 40 = 20 %. Both SD.
    let a = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=30 T2=20", Some("T1=30 T2=20")), ("W8", 56, "T1=26 T2=10", Some("T1=34 T2=10"))],
        None,
    ));
    assert!(a.review.discordances.is_empty(), "{:#?}", a.review.discordances);

    // LTP disagreement on the treated lesion only.
    let a = assess(&two_readers(
        LESIONS,
        &[
            ("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")),
            ("W6", 42, "T1=30 T2=20", Some("T1=30 T2=20")),
            ("W16", 112, "T2=20 T1=30!enh", Some("T1=30 T2=20")),
        ],
        None,
    ));
    assert_eq!(a.review.discordances.len(), 1);
    let d = &a.review.discordances[0];
    assert_eq!(d.label, "W16");
    assert!(matches!(&d.triggers[0].0, Trigger::LtpDisagreement(ids) if ids[0].as_str() == "T1"));
    assert!(d.triggers[0].1.contains("T1: reader 1 LTP, reader 2 no LTP"));
}

#[test]
fn triggers_follow_the_protocol_switches() {
    let text = Protocol::default_toml()
        .replace("on_response_disagreement = true", "on_response_disagreement = false")
        .replace("max_target_sum_difference_percent = 20.0", "max_target_sum_difference_percent = 50.0");
    let protocol = Protocol::from_toml_str(&text).unwrap();
    let patient = two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=35 T2=15"))],
        None,
    );
    let a = cryoseed_response::assess_patient(&patient, &protocol);
    assert!(a.review.discordances.is_empty());
}

#[test]
fn the_adjudicator_accepts_a_reader() {
    let a = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=35 T2=15"))],
        Some(("R2", "R1 measured T1 across the ablation zone")),
    ));
    assert!(
        matches!(&a.review.acceptance, Acceptance::Adjudicated { adjudicator, .. } if adjudicator.as_str() == "A1")
    );
    assert_eq!(a.accepted().unwrap().reader.as_str(), "R2");
    assert!(a.review.summary.contains("reader R2's assessment accepted (R1 measured T1 across the ablation zone)"));
    // An adjudication naming someone who is not a reader is ignored, with a finding.
    let a = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=35 T2=15"))],
        Some(("R9", "typo")),
    ));
    assert!(a.accepted().is_none());
    assert!(
        a.findings.iter().any(|f| f.message.contains("accepts reader R9, who is not one of the patient's readers"))
    );
}

fn code(text: &str) -> OverallResponse {
    *OverallResponse::ALL.iter().find(|r| r.code() == text).unwrap()
}

#[test]
fn kappa_matches_scikit_learn() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/kappa.json")).expect("fixture is JSON");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 4);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let a: Vec<&str> = case["reader1"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let b: Vec<&str> = case["reader2"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let pairs: Vec<(OverallResponse, OverallResponse)> =
            a.iter().zip(&b).map(|(x, y)| (code(x), code(y))).collect();
        let agreement = response_agreement(&pairs);
        let expected = case["kappa"].as_f64().unwrap();
        assert!((agreement.kappa.unwrap() - expected).abs() < 1e-12, "{name}: {:?} vs {expected}", agreement.kappa);
        let expected_weighted = case["weighted_kappa_linear"].as_f64().unwrap();
        let weighted = agreement.weighted_kappa.unwrap();
        assert!((weighted - expected_weighted).abs() < 1e-12, "{name}: {weighted} vs {expected_weighted}");
        assert_eq!(agreement.weighted_pairs, case["weighted_pairs"].as_u64().unwrap() as usize, "{name}");
    }
    let binary = &fixture["binary"];
    let a: Vec<bool> = binary["reader1"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap()).collect();
    let b: Vec<bool> = binary["reader2"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap()).collect();
    let pairs: Vec<(bool, bool)> = a.into_iter().zip(b).collect();
    let kappa = binary_agreement(&pairs).kappa.unwrap();
    assert!((kappa - binary["kappa"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn kappa_edge_cases() {
    // Perfect agreement on a single category: p_e = 1, kappa undefined.
    assert_eq!(response_agreement(&[(OverallResponse::Sd, OverallResponse::Sd)]).kappa, None);
    assert_eq!(response_agreement(&[]).observed_agreement, None);
    // Perfect agreement on two categories: kappa 1.
    let pairs = [(OverallResponse::Sd, OverallResponse::Sd), (OverallResponse::Pd, OverallResponse::Pd)];
    assert_eq!(response_agreement(&pairs).kappa, Some(1.0));
}

#[test]
fn agreement_across_patients() {
    let concordant = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=25 T2=15"))],
        None,
    ));
    let discordant = assess(&two_readers(
        LESIONS,
        &[("BL", -5, "T1=40 T2=20", Some("T1=40 T2=20")), ("W8", 56, "T1=25 T2=15", Some("T1=35 T2=15"))],
        None,
    ));
    let agreement = reader_agreement(&[concordant, discordant], &Protocol::shipped());
    assert_eq!(agreement.patients, 2);
    assert_eq!(agreement.adjudication_rate, Some(0.5));
    assert_eq!(agreement.disagreement_index, Some(0.5));
    assert_eq!(agreement.time_point_response.pairs, 2);
    assert_eq!(agreement.time_point_response.observed_agreement, Some(0.5));
}
