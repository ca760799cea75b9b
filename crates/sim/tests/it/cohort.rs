//! Cohorts: determinism, plausible distributions, and designed screening failures that each
//! break exactly one eligibility criterion (PROTOCOL.md, "Eligibility").

use cryoseed_core::patient::ScreeningRecord;
use cryoseed_sim::{CohortConfig, ScreeningProfile, cohort, cohort_with_profiles};

/// A minimal reading of the protocol's eligibility criteria, independent of the `trial` crate:
/// the criteria a record fails, and the items it lacks to decide.
fn findings(r: &ScreeningRecord) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut fails, mut missing) = (Vec::new(), Vec::new());
    let mut check = |name, value: Option<bool>| match value {
        Some(true) => {}
        Some(false) => fails.push(name),
        None => missing.push(name),
    };
    check("age", r.age_years.map(|a| a >= 18));
    check("ecog", r.ecog.map(|e| e.score() <= 2));
    check("histology", r.histology_confirmed);
    check("metastatic", r.metastatic);
    check("not amenable", r.not_amenable_to_curative_therapy);
    check("metastases", r.metastatic_lesion_count.map(|n| n >= 3));
    let targets: Vec<_> = r.lesions.iter().filter(|l| l.is_target).collect();
    check("target count", Some((2..=5).contains(&targets.len())));
    // RECIST 1.1: a node is measurable with a short axis ≥ 15 mm, other lesions with a longest
    // diameter ≥ 10 mm.
    let measurable = targets
        .iter()
        .filter(|l| {
            if l.is_nodal {
                l.short_axis.is_some_and(|s| s.0 >= 15.0)
            } else {
                l.longest_diameter.is_some_and(|d| d.0 >= 10.0)
            }
        })
        .count();
    check("measurable targets", Some(measurable >= 2));
    let bulky: Vec<_> = r.lesions.iter().filter(|l| l.is_bulky_index).collect();
    check(
        "bulky",
        Some(
            bulky.len() == 1
                && bulky[0].is_target
                && (bulky[0].longest_diameter.is_some_and(|d| d.0 >= 70.0)
                    || bulky[0].volume.is_some_and(|v| v.0 >= 100.0)),
        ),
    );
    let labs = &r.labs;
    check("platelets", labs.platelets_e9_per_l.map(|v| v >= 50.0));
    check("inr", labs.inr.map(|v| v <= 1.5));
    check("anc", labs.anc_e9_per_l.map(|v| v >= 1.5));
    check("haemoglobin", labs.haemoglobin_g_per_l.map(|v| v >= 80.0));
    check("bilirubin", labs.bilirubin_x_uln.map(|v| v <= 2.0));
    check("ast", labs.ast_x_uln.map(|v| v <= 5.0));
    check("alt", labs.alt_x_uln.map(|v| v <= 5.0));
    check("creatinine clearance", labs.creatinine_clearance_ml_per_min.map(|v| v >= 30.0));
    let ex = &r.exclusions;
    let no = |answer: Option<bool>| answer.map(|yes| !yes);
    check("emergent", no(ex.emergent_intervention));
    check("access", no(ex.target_not_accessible));
    check("infection", no(ex.uncontrolled_infection));
    check("effusion", no(ex.uncontrolled_effusion));
    check("cardiopulmonary", no(ex.severe_cardiopulmonary));
    check("prior therapy", no(ex.prior_local_therapy_bulky));
    check("cns", no(ex.uncontrolled_cns));
    check("investigator", ex.investigator_judgement_answered.then_some(ex.investigator_judgement.is_none()));
    (fails, missing)
}

/// What each profile must look like to the oracle: failed criteria, then missing items.
fn expected(profile: ScreeningProfile) -> (Vec<&'static str>, Vec<&'static str>) {
    use ScreeningProfile::*;
    let fail = |c: &'static str| (vec![c], vec![]);
    match profile {
        Eligible => (vec![], vec![]),
        NoBulkyLesion => fail("bulky"),
        TooFewMetastases => fail("metastases"),
        Ecog3 => fail("ecog"),
        LowPlatelets => fail("platelets"),
        HighInr => fail("inr"),
        LowCreatinineClearance => fail("creatinine clearance"),
        UncontrolledCns => fail("cns"),
        PriorTherapyToBulky => fail("prior therapy"),
        NonMeasurableTarget => fail("measurable targets"),
        Minor => fail("age"),
        MissingInr => (vec![], vec!["inr"]),
        UnansweredExclusion => (vec![], vec!["effusion"]),
    }
}

#[test]
fn every_patient_fails_exactly_the_criterion_its_profile_names() {
    let config = CohortConfig { patients: 600, ..CohortConfig::default() };
    for patient in cohort_with_profiles(&config, 3) {
        let id = patient.record.patient_id.as_str().to_owned();
        assert_eq!(findings(&patient.record), expected(patient.profile), "{id} ({:?})", patient.profile);
        let decided = findings(&patient.record);
        let verdict = if !decided.0.is_empty() {
            Some(false)
        } else if !decided.1.is_empty() {
            None
        } else {
            Some(true)
        };
        assert_eq!(verdict, patient.profile.is_eligible(), "{id}");
    }
}

#[test]
fn default_cohort_has_the_documented_failure_mix() {
    use ScreeningProfile::*;
    let patients = cohort_with_profiles(&CohortConfig::default(), 2026);
    assert_eq!(patients.len(), 120);
    let count = |p| patients.iter().filter(|x| x.profile == p).count();
    let table = [
        (NoBulkyLesion, 7),
        (TooFewMetastases, 5),
        (Ecog3, 4),
        (LowPlatelets, 4),
        (HighInr, 2),
        (LowCreatinineClearance, 4),
        (UncontrolledCns, 2),
        (PriorTherapyToBulky, 4),
        (NonMeasurableTarget, 4),
        (Minor, 1),
        (MissingInr, 4),
        (UnansweredExclusion, 2),
    ];
    for (profile, n) in table {
        assert_eq!(count(profile), n, "{profile:?}");
    }
    let ineligible = patients.iter().filter(|p| p.profile.is_eligible() == Some(false)).count();
    let share = ineligible as f64 / 120.0;
    assert!((0.25..=0.35).contains(&share), "{ineligible} ineligible");
    assert_eq!(patients.iter().filter(|p| p.profile.is_eligible().is_none()).count(), 6);
}

#[test]
fn cohorts_are_deterministic_per_seed() {
    let config = CohortConfig::default();
    let first = cohort(&config, 42);
    assert_eq!(first, cohort(&config, 42));
    assert_ne!(first, cohort(&config, 43));
}

#[test]
fn patients_are_numbered_and_spread_unevenly_over_the_sites() {
    let records = cohort(&CohortConfig::default(), 8);
    for (n, r) in records.iter().enumerate() {
        assert_eq!(r.patient_id.as_str(), format!("SIM-{:04}", n + 1));
    }
    let per_site: Vec<usize> =
        (1..=4).map(|s| records.iter().filter(|r| r.site_id.as_str() == format!("SITE-{s:02}")).count()).collect();
    assert_eq!(per_site.iter().sum::<usize>(), 120, "{per_site:?}");
    assert!(per_site.iter().all(|&n| n >= 10), "{per_site:?}");
    assert!(per_site[0] > per_site[3], "{per_site:?}");
}

#[test]
fn baseline_values_follow_plausible_distributions() {
    let records = cohort(&CohortConfig { patients: 1000, sites: 6, mix: Vec::new() }, 9);
    let ages: Vec<f64> = records.iter().map(|r| f64::from(r.age_years.unwrap())).collect();
    assert!(ages.iter().all(|a| (35.0..=85.0).contains(a)));
    let mean_age = ages.iter().sum::<f64>() / ages.len() as f64;
    assert!((60.0..=66.0).contains(&mean_age), "{mean_age}");
    let ecog01 = records.iter().filter(|r| r.ecog.unwrap().score() <= 1).count();
    assert!((800..=900).contains(&ecog01), "{ecog01}");
    for r in &records {
        assert!(r.metastatic_lesion_count.unwrap() as usize >= r.lesions.len().max(3));
        for l in &r.lesions {
            let (ld, sa, v) = (l.longest_diameter.unwrap().0, l.short_axis.unwrap().0, l.volume.unwrap().0);
            assert!(sa <= ld + 0.05, "{l:?}");
            // The volume is that of an ellipsoid with these axes and a craniocaudal axis between
            // the short axis and 1.1 × the longest (±0.1 mm rounding on each).
            let ellipsoid = |cc: f64| std::f64::consts::PI / 6.0 * ld * sa * cc / 1000.0;
            assert!(v >= ellipsoid(sa) * 0.97 - 0.1 && v <= ellipsoid(1.1 * ld) * 1.03 + 0.1, "{l:?}");
            assert_eq!(l.is_nodal, l.organ == cryoseed_core::Organ::LymphNode);
        }
        // Some bulky lesions qualify by volume alone.
    }
    let by_volume_only = records
        .iter()
        .flat_map(|r| &r.lesions)
        .filter(|l| l.is_bulky_index && l.longest_diameter.unwrap().0 < 70.0 && l.volume.unwrap().0 >= 100.0)
        .count();
    assert!((120..=280).contains(&by_volume_only), "{by_volume_only}");
}
