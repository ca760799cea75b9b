//! CTCAE v5.0 catalogue and adverse-event validation. The expected figures are the facts listed in
//! data/ctcae/PROVENANCE.md (counted from the NCI workbook) and single terms looked up in it.

use cryoseed_response::Date;
use cryoseed_trial::ctcae::{
    AdverseEventInput, Attribution, CTCAE_VERSION, Cause, Certainty, SeriousCriterion, catalogue,
    validate_adverse_event,
};
use std::collections::BTreeSet;

#[test]
fn catalogue_matches_the_nci_workbook() {
    let c = catalogue();
    // PROVENANCE.md: 837 terms, 837 unique MedDRA codes, 26 SOCs, grade 5 defined for 494 terms,
    // 26 "Other, specify" terms.
    assert_eq!(c.terms().len(), 837);
    let codes: BTreeSet<&str> = c.terms().iter().map(|t| t.meddra_code.as_str()).collect();
    assert_eq!(codes.len(), 837);
    assert!(codes.iter().all(|code| code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit())));
    let socs: BTreeSet<&str> = c.terms().iter().map(|t| t.soc.as_str()).collect();
    assert_eq!(socs.len(), 26);
    assert_eq!(c.terms().iter().filter(|t| t.allows_grade(5)).count(), 494);
    assert_eq!(c.terms().iter().filter(|t| t.is_other_specify()).count(), 26);
    assert_eq!(c.terms().iter().filter(|t| t.definition.is_some()).count(), 811);
    assert_eq!(c.terms().iter().filter(|t| t.navigational_note.is_some()).count(), 74);
    assert_eq!(c.terms().iter().filter(|t| t.soc == "Gastrointestinal disorders").count(), 122);
}

#[test]
fn terms_and_their_grades() {
    // (term as typed, NCI spelling, MedDRA code, allowed grades)
    let check = |typed: &str, name: &str, code: &str, grades: &[u8]| {
        let t = catalogue().term(typed).unwrap_or_else(|| panic!("{typed} not found"));
        assert_eq!((t.term.as_str(), t.meddra_code.as_str(), t.allowed_grades().as_slice()), (name, code, grades));
        assert_eq!(catalogue().by_meddra_code(code).map(|t| t.term.as_str()), Some(name));
    };
    check("Anemia", "Anemia", "10002272", &[1, 2, 3, 4, 5]);
    check("pneumothorax", "Pneumothorax", "10035759", &[1, 2, 3, 4, 5]);
    check("  Pain ", "Pain", "10033371", &[1, 2, 3]);
    check("Nausea", "Nausea", "10028813", &[1, 2, 3]);
    check("Platelet count decreased", "Platelet count decreased", "10035528", &[1, 2, 3, 4]);
    check(
        "Blood and lymphatic system disorders - Other, specify",
        "Blood and lymphatic system disorders - Other, specify",
        "10005329",
        &[1, 2, 3, 4, 5],
    );
    assert!(catalogue().term("Hemorrhage").is_none(), "CTCAE has only organ-specific hemorrhage terms");
}

#[test]
fn search_finds_terms_by_part_and_by_misspelling() {
    let names = |q: &str, n| catalogue().search(q, n).into_iter().map(|t| t.term.clone()).collect::<Vec<_>>();
    assert_eq!(names("Nausea", 1), ["Nausea"]);
    assert!(names("hemorrhage", 50).iter().all(|t| t.to_lowercase().contains("hemorrhage")));
    assert!(names("hemorrhage", 50).len() > 20);
    assert_eq!(names("Pneumothorx", 1), ["Pneumothorax"]);
    assert!(names("", 5).is_empty());
    assert!(names("zzzzzzzzqqqq", 5).is_empty());
}

fn event() -> AdverseEventInput {
    AdverseEventInput {
        term: "Pneumothorax".into(),
        grade: 2,
        specification: None,
        attributions: vec![Attribution { cause: Cause::Cryoablation, certainty: Certainty::Definite }],
        serious: vec![],
        onset: Date::parse("2027-02-03").unwrap(),
        resolution: Some(Date::parse("2027-02-10").unwrap()),
        meddra_version: "20.1".into(),
    }
}

/// One line per case: an edit of a valid event and the error a site would see ("" = accepted).
fn check(edit: impl FnOnce(&mut AdverseEventInput), expected: &str) {
    let mut input = event();
    edit(&mut input);
    match validate_adverse_event(&input, catalogue()) {
        Ok(ae) => {
            assert_eq!(expected, "", "accepted, expected {expected:?}");
            assert_eq!(ae.ctcae_version, CTCAE_VERSION);
            assert_eq!(ae.meddra_version, input.meddra_version.trim());
        }
        Err(e) => {
            let e = e.to_string();
            assert!(!expected.is_empty() && e.contains(expected), "expected {expected:?}, got {e:?}");
        }
    }
}

#[test]
fn adverse_event_validation() {
    check(|_| {}, "");
    check(|e| e.resolution = None, "");
    check(|e| e.resolution = Some(e.onset), "");
    check(
        |e| e.term = "Pneumothorx".into(),
        "term: \"Pneumothorx\" is not a CTCAE v5.0 term; did you mean \"Pneumothorax\"",
    );
    check(|e| e.term = "Hemorrhage".into(), "term: \"Hemorrhage\" is not a CTCAE v5.0 term; did you mean");
    check(|e| e.grade = 0, "grade: grade 0 is not defined for \"Pneumothorax\"");
    check(|e| e.grade = 6, "grade: grade 6 is not defined");
    check(
        |e| {
            e.term = "Nausea".into();
            e.grade = 4;
        },
        "grade: grade 4 is not defined for \"Nausea\" (allowed: 1, 2, 3)",
    );
    check(
        |e| {
            e.term = "Platelet count decreased".into();
            e.grade = 5;
            e.serious = vec![SeriousCriterion::Death];
        },
        "grade 5 is not defined for \"Platelet count decreased\" (allowed: 1, 2, 3, 4)",
    );
    check(
        |e| {
            e.grade = 5;
            e.serious = vec![SeriousCriterion::Death];
        },
        "",
    );
    check(|e| e.grade = 5, "serious: a grade 5 event (death) must have the seriousness criterion");
    check(|e| e.serious = vec![SeriousCriterion::Death], "grade: seriousness criterion \"death\" requires grade 5");
    check(|e| e.serious = vec![SeriousCriterion::Hospitalization], "");
    check(|e| e.term = "Respiratory, thoracic and mediastinal disorders - Other, specify".into(), "specification: ");
    check(
        |e| {
            e.term = "Respiratory, thoracic and mediastinal disorders - Other, specify".into();
            e.specification = Some("   ".into());
        },
        "requires a free-text specification",
    );
    check(
        |e| {
            e.term = "Respiratory, thoracic and mediastinal disorders - Other, specify".into();
            e.specification = Some("Bronchopleural fistula".into());
        },
        "",
    );
    check(|e| e.attributions.clear(), "attributions: at least one attribution");
    check(
        |e| e.attributions.push(Attribution { cause: Cause::Cryoablation, certainty: Certainty::Unlikely }),
        "attributions: cause Cryoablation is given twice",
    );
    check(
        |e| e.resolution = Some(Date::parse("2027-02-01").unwrap()),
        "resolution: resolution date 2027-02-01 is before onset date 2027-02-03",
    );
    check(|e| e.meddra_version = " ".into(), "meddra_version: the MedDRA version used for coding is required");
}

#[test]
fn relatedness_and_seriousness() {
    let mut input = event();
    input.attributions = vec![
        Attribution { cause: Cause::Disease, certainty: Certainty::Probable },
        Attribution { cause: Cause::Radiation, certainty: Certainty::Unlikely },
    ];
    let ae = validate_adverse_event(&input, catalogue()).unwrap();
    assert!(!ae.is_treatment_related(), "disease-related, radiation only unlikely");
    assert!(!ae.is_serious());
    input.attributions[1].certainty = Certainty::Possible;
    input.serious = vec![SeriousCriterion::Hospitalization, SeriousCriterion::Hospitalization];
    let ae = validate_adverse_event(&input, catalogue()).unwrap();
    assert!(ae.is_treatment_related());
    assert_eq!(ae.serious, [SeriousCriterion::Hospitalization]);
    assert_eq!(ae.attributions[0].cause, Cause::Radiation, "sorted by cause");
    assert_eq!(
        (ae.meddra_code.as_str(), ae.soc.as_str()),
        ("10035759", "Respiratory, thoracic and mediastinal disorders")
    );
}
