//! The trial-course simulator recovers its documented rates on large seeded samples, keeps the
//! protocol's imaging schedule, uses real CTCAE v5.0 terms, and is deterministic per part.
//!
//! Tolerances: each share is checked within 4 standard errors of its expected value, the
//! standard error inflated for the clustering of lesions in patients (design effect
//! 1 + (m − 1) ρ with m = 3 lesions and ρ ≤ 0.25 gives 1.5), so a correct simulator fails with
//! probability < 1e-4 per check while a wrong rate of a few points is caught.

use cryoseed_core::{Arm, LesionId, Modality, Organ};
use cryoseed_sim::{
    ADVERSE_EVENT_RATES, CourseConfig, CourseLesion, CoursePatient, DAYS_PER_MONTH, PlannedTreatment, ReadStatus,
    SIX_MONTHS_DAYS, simulate_course,
};

const SEED: u64 = 20_261_128;

fn lesion(id: &str, organ: Organ, modality: Modality, bulky: bool, d90_over_rx: f64) -> CourseLesion {
    let seeds = modality == Modality::Seeds;
    CourseLesion {
        lesion_id: LesionId::parse(id).unwrap(),
        organ,
        is_target: true,
        is_bulky_index: bulky,
        baseline_mm: if bulky { 90.0 } else { 40.0 },
        baseline_volume_ml: if bulky { 250.0 } else { 20.0 },
        treatment: Some(PlannedTreatment {
            modalities: vec![modality],
            planned_seed_d90_gy: seeds.then_some(110.0 * d90_over_rx),
            prescription_gy: seeds.then_some(110.0),
            planned_coverage_met: (!seeds).then_some(true),
        }),
    }
}

/// A patient with three treated targets (lung seeds, liver cryo, bulky soft-tissue seeds) and
/// a non-target, followed for 3 years.
fn patient(n: usize, arm: Arm, d90_over_rx: f64) -> CoursePatient {
    CoursePatient {
        patient_id: format!("P{n:05}"),
        arm,
        ecog: 1,
        lesions: vec![
            lesion("L1", Organ::SoftTissue, Modality::Seeds, true, d90_over_rx),
            lesion("L2", Organ::Lung, Modality::Seeds, false, d90_over_rx),
            lesion("L3", Organ::Liver, Modality::Cryo, false, d90_over_rx),
            CourseLesion {
                lesion_id: LesionId::parse("L4").unwrap(),
                organ: Organ::Bone,
                is_target: false,
                is_bulky_index: false,
                baseline_mm: 15.0,
                baseline_volume_ml: 2.0,
                treatment: None,
            },
        ],
        cutoff_day: 1100,
    }
}

fn within(observed: f64, expected: f64, n: f64, design_effect: f64, what: &str) {
    let se = (expected * (1.0 - expected) / n * design_effect).sqrt();
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{what}: observed {observed:.4}, expected {expected:.4} ± {:.4} (4 SE)",
        4.0 * se
    );
}

/// Per arm: share of lesions with LTP within 6 months of their treatment, among lesions whose
/// delivered treatment met its goal (seeds and cryo alike), and the intra-patient correlation of
/// those failures.
fn six_month_failures(arm: Arm, patients: usize) -> (f64, f64, usize) {
    // Planned D90 twice the prescription and lethal ice always confirmed: every delivered
    // treatment meets its goal.
    let config = CourseConfig { ice_confirmed: (1.0, 0.4), ..CourseConfig::default() };
    let d90_over_rx = 2.0;
    let mut failures = Vec::new();
    let mut by_patient = Vec::new();
    for n in 0..patients {
        let course = simulate_course(&patient(n, arm, d90_over_rx), &config, SEED);
        let mut mine = Vec::new();
        for (id, goal_met, ltp_day) in &course.truth.lesions {
            assert!(goal_met);
            let treated = course.procedures.iter().find(|p| &p.lesion_id == id).unwrap().day;
            let failed = ltp_day - f64::from(treated) <= SIX_MONTHS_DAYS;
            failures.push(failed);
            mine.push(f64::from(u8::from(failed)));
        }
        by_patient.push(mine);
    }
    let n = failures.len();
    let p = failures.iter().filter(|f| **f).count() as f64 / n as f64;
    // Pairwise intra-patient correlation of the failure indicators.
    let (mut cov, mut pairs) = (0.0, 0.0);
    for lesions in &by_patient {
        for a in 0..lesions.len() {
            for b in a + 1..lesions.len() {
                cov += (lesions[a] - p) * (lesions[b] - p);
                pairs += 1.0;
            }
        }
    }
    (p, cov / pairs / (p * (1.0 - p)), n)
}

/// The gamma-frailty model's pairwise correlation of 6-month failure (module docs):
/// P(both) = 1 − 2S + (1 + 2θΛ)^(−1/θ), with Λ = (S^(−θ) − 1)/θ.
fn frailty_correlation(s: f64, theta: f64) -> f64 {
    let lambda = (s.powf(-theta) - 1.0) / theta;
    let both = 1.0 - 2.0 * s + (1.0 + 2.0 * theta * lambda).powf(-1.0 / theta);
    let p = 1.0 - s;
    (both - p * p) / (p * (1.0 - p))
}

#[test]
fn local_progression_rates_are_the_protocols_design_assumptions() {
    for (arm, ltp_free) in [(Arm::Control, 0.65), (Arm::Experimental, 0.85)] {
        let (p, icc, n) = six_month_failures(arm, 3000);
        within(p, 1.0 - ltp_free, n as f64, 1.5, &format!("{arm} 6-month LTP"));
        let expected = frailty_correlation(ltp_free, CourseConfig::default().frailty_variance);
        assert!((icc - expected).abs() < 0.05, "{arm}: intra-patient correlation {icc:.3}, model {expected:.3}");
    }
    // The documented correlations (0.21 control, 0.10 experimental).
    assert!((frailty_correlation(0.65, 0.75) - 0.21).abs() < 0.01);
    assert!((frailty_correlation(0.85, 0.75) - 0.10).abs() < 0.01);
}

#[test]
fn a_missed_dosimetric_goal_doubles_the_hazard() {
    // Planned D90 half the prescription: every seed lesion misses its goal; the cryo lesion
    // (one of three) still meets its coverage 95 % of the time, so count seed lesions only.
    let config = CourseConfig::default();
    let (mut failed, mut total) = (0usize, 0usize);
    for n in 0..3000 {
        let course = simulate_course(&patient(n, Arm::Control, 0.5), &config, SEED);
        for (id, goal_met, ltp_day) in &course.truth.lesions {
            let p = course.procedures.iter().find(|p| &p.lesion_id == id).unwrap();
            if p.modality == Modality::Seeds {
                assert!(!goal_met, "{id}: delivered D90 {:?} cannot reach the prescription", p.seed_d90_gy);
                total += 1;
                failed += usize::from(ltp_day - f64::from(p.day) <= SIX_MONTHS_DAYS);
            }
        }
    }
    // Marginal under the frailty with the hazard doubled: S = (1 + θ 2λ t)^(−1/θ).
    let theta = config.frailty_variance;
    let lambda_t = config.ltp_hazard_per_day(Arm::Control) * SIX_MONTHS_DAYS;
    let expected = 1.0 - (1.0 + theta * 2.0 * lambda_t).powf(-1.0 / theta);
    within(failed as f64 / total as f64, expected, total as f64, 1.5, "missed-goal 6-month LTP");
}

#[test]
fn survival_and_systemic_progression_have_their_documented_medians() {
    let config = CourseConfig::default();
    let mut deaths = Vec::new();
    let mut systemic = Vec::new();
    let mut ecog2 = Vec::new();
    for n in 0..4000 {
        let mut p = patient(n, Arm::Control, 2.0);
        let course = simulate_course(&p, &config, SEED);
        deaths.push(course.truth.death_day);
        systemic.push(course.truth.systemic_day);
        p.ecog = 2;
        ecog2.push(simulate_course(&p, &config, SEED).truth.death_day);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] / DAYS_PER_MONTH
    };
    // Exponential medians: SE ≈ median / √n (about 1.6 % here); 6 SE tolerance.
    let tolerance = 6.0 / (4000f64).sqrt();
    let os = median(&mut deaths);
    assert!((os / 20.0 - 1.0).abs() < tolerance, "median OS {os:.2} months, documented 20");
    let ttsp = median(&mut systemic);
    assert!((ttsp / 6.0 - 1.0).abs() < tolerance, "median systemic progression {ttsp:.2} months, documented 6");
    let os2 = median(&mut ecog2);
    assert!((os2 / (20.0 / 1.8) - 1.0).abs() < tolerance, "ECOG 2 median OS {os2:.2} months, documented 20/1.8");
}

#[test]
fn readers_measure_with_the_documented_noise_and_flag_progression() {
    let config = CourseConfig::default();
    let mut errors = Vec::new();
    let (mut flagged_after, mut after, mut flagged_before, mut before) = (0usize, 0usize, 0usize, 0usize);
    for n in 0..2000 {
        let course = simulate_course(&patient(n, Arm::Control, 2.0), &config, SEED);
        let baseline = &course.scans[0];
        assert_eq!(baseline.label, "baseline");
        for read in &baseline.reads {
            // L2: 40 mm at baseline.
            if let ReadStatus::Measured(d) = read.lesions[1].status {
                errors.push(d - 40.0);
            }
        }
        for scan in &course.scans[1..] {
            for (id, _, ltp_day) in &course.truth.lesions {
                for read in &scan.reads {
                    let flag = read.lesions.iter().find(|l| &l.lesion_id == id).unwrap().margin_enhancement;
                    if f64::from(scan.day) > *ltp_day {
                        after += 1;
                        flagged_after += usize::from(flag);
                    } else {
                        before += 1;
                        flagged_before += usize::from(flag);
                    }
                }
            }
        }
    }
    // SD of true × (1 + ε_rel) + ε_abs, rounded to 1 mm: √((0.05·40)² + 1² + 1/12) mm.
    let n = errors.len() as f64;
    let mean = errors.iter().sum::<f64>() / n;
    let sd = (errors.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let expected = (2.0f64.powi(2) + 1.0 + 1.0 / 12.0).sqrt();
    assert!(mean.abs() < 0.15, "reader bias {mean:.3} mm");
    // The SD of a sample SD is about sd / √(2n) (≈ 1.1 % here); 5 % tolerance.
    assert!((sd / expected - 1.0).abs() < 0.05, "reader SD {sd:.3} mm, documented {expected:.3} mm");
    within(flagged_after as f64 / after as f64, 0.8, after as f64, 1.5, "flag sensitivity");
    within(flagged_before as f64 / before as f64, 0.02, before as f64, 1.5, "flag false positives");
}

#[test]
fn adverse_events_use_ctcae_terms_at_their_documented_rates() {
    let catalogue = cryoseed_trial::ctcae::catalogue();
    for rate in ADVERSE_EVENT_RATES {
        let term = catalogue.term(rate.term).unwrap_or_else(|| panic!("{} is not a CTCAE v5.0 term", rate.term));
        for (g, share) in rate.grades.iter().enumerate() {
            if *share > 0.0 {
                assert!(term.allows_grade(g as u8 + 1), "{} has no grade {}", rate.term, g + 1);
            }
        }
        assert!((rate.grades.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{}: grade shares sum to 1", rate.term);
    }
    let config = CourseConfig::default();
    let (mut lung_seed_procedures, mut liver_cryo_procedures) = (0usize, 0usize);
    let (mut lung_seed_pneumothorax, mut liver_cryo_pain, mut grade3_pain) = (0usize, 0usize, 0usize);
    for n in 0..4000 {
        let course = simulate_course(&patient(n, Arm::Experimental, 2.0), &config, SEED);
        for p in &course.procedures {
            lung_seed_procedures += usize::from(p.lesion_id.as_str() == "L2");
            liver_cryo_procedures += usize::from(p.lesion_id.as_str() == "L3");
        }
        for ae in &course.adverse_events {
            match (ae.term, ae.lesion_id.as_str()) {
                ("Pneumothorax", "L2") => lung_seed_pneumothorax += 1,
                ("Pain", "L3") => {
                    liver_cryo_pain += 1;
                    grade3_pain += usize::from(ae.grade == 3);
                    assert_eq!(ae.serious, ae.grade >= 3);
                }
                (_, "L3") => assert!(ae.term != "Pneumothorax", "no pneumothorax from a liver lesion"),
                _ => {}
            }
            assert!(ae.resolution_day.is_none_or(|r| r >= ae.onset_day));
        }
    }
    let (lung, liver) = (lung_seed_procedures as f64, liver_cryo_procedures as f64);
    within(lung_seed_pneumothorax as f64 / lung, 0.20, lung, 1.0, "pneumothorax after lung seed implantation");
    within(liver_cryo_pain as f64 / liver, 0.30, liver, 1.0, "pain after cryoablation");
    within(grade3_pain as f64 / liver_cryo_pain as f64, 0.05, liver_cryo_pain as f64, 1.0, "grade 3 share of pain");
}

#[test]
fn imaging_follows_the_protocol_schedule() {
    let config = CourseConfig::default();
    for n in 0..300 {
        let course = simulate_course(&patient(n, Arm::Experimental, 2.0), &config, SEED);
        let Some(done) = course.therapy_completed_day else { continue };
        assert!((-14..=-3).contains(&course.scans[0].day));
        let days: Vec<i32> = course.scans[1..].iter().map(|s| s.day).collect();
        if let Some(first) = days.first() {
            assert!((28..=42).contains(&(first - done)), "first scan {} days after therapy", first - done);
        }
        for pair in days.windows(2) {
            assert!((56..=84).contains(&(pair[1] - pair[0])), "scans {} days apart", pair[1] - pair[0]);
        }
        if let Some(m6) = course.scans.iter().find(|s| s.label == "W26") {
            assert!(((m6.day - done) - 182).abs() <= 28, "W26 outside the 6-month window");
        }
        for p in &course.procedures {
            assert!((7..=35).contains(&p.day) && p.qa_day - p.day <= 7);
        }
        // Nothing is observed after death, loss to follow-up or the cutoff.
        let end = course.truth.death_day.min(course.truth.loss_day).min(1100.0);
        assert!(course.scans.iter().all(|s| f64::from(s.day) < end));
        assert!(f64::from(course.last_contact_day) <= end.ceil());
    }
}

#[test]
fn courses_are_deterministic_and_each_part_has_its_own_stream() {
    let config = CourseConfig::default();
    // A patient treated in full (three procedures).
    let p = (0..)
        .map(|n| patient(n, Arm::Control, 2.0))
        .find(|p| simulate_course(p, &config, SEED).procedures.len() == 3)
        .unwrap();
    let a = simulate_course(&p, &config, SEED);
    assert_eq!(a, simulate_course(&p, &config, SEED));
    assert_ne!(a, simulate_course(&p, &config, SEED + 1));
    // Another planned dose for L2 changes its QA, not the patient's survival, schedule or the
    // other lesions' draws.
    let mut q = p.clone();
    q.lesions[1].treatment.as_mut().unwrap().planned_seed_d90_gy = Some(250.0);
    let b = simulate_course(&q, &config, SEED);
    assert_eq!(a.truth.death_day, b.truth.death_day);
    assert_eq!(a.truth.systemic_day, b.truth.systemic_day);
    assert_eq!(a.scans.iter().map(|s| s.day).collect::<Vec<_>>(), b.scans.iter().map(|s| s.day).collect::<Vec<_>>());
    assert_eq!(a.procedures[0], b.procedures[0]);
    assert_ne!(a.procedures[1].seed_d90_gy, b.procedures[1].seed_d90_gy);
    assert_eq!(a.truth.lesions[2], b.truth.lesions[2]);
}

#[test]
fn accrual_is_sorted_within_the_period() {
    let dates = cryoseed_sim::accrual(200, 730, SEED);
    assert_eq!(dates.len(), 200);
    assert!(dates.windows(2).all(|w| w[0].screening_day <= w[1].screening_day));
    assert!(
        dates.iter().all(|d| (0..730).contains(&d.screening_day) && (3..=10).contains(&d.randomization_delay_days))
    );
    assert_eq!(dates, cryoseed_sim::accrual(200, 730, SEED));
}
