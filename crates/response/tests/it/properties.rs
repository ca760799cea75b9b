//! Properties over seeded random patients: a new lesion never improves a response, and no verdict
//! depends on the order of the input lesions, observations, reads or time points.

use crate::dsl::{day, id, reader, start};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Mm, Organ, PatientId};
use cryoseed_response::{
    Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, OverallResponse, PatientAssessments, Read,
    TimePoint, VolumeFindings, assess_patient,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random patient: 1–5 targets, 0–2 non-targets, two readers, 2–6 follow-ups.
fn random_patient(seed: u64) -> PatientAssessments {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let organs = [Organ::Liver, Organ::Lung, Organ::LymphNode, Organ::Bone, Organ::SoftTissue];
    let targets = rng.random_range(1..=5usize);
    let non_targets = rng.random_range(0..=2usize);
    let mut lesions = Vec::new();
    for i in 0..targets + non_targets {
        let role = if i < targets { LesionRole::Target } else { LesionRole::NonTarget };
        lesions.push(Lesion {
            lesion_id: id(&format!("L{i}")),
            role,
            organ: organs[rng.random_range(0..organs.len())],
            treated_on: rng.random_bool(0.5).then(|| day(0)),
            is_bulky_index: i == 0,
        });
    }
    let follow_ups = rng.random_range(2..=6i32);
    let mut time_points = Vec::new();
    let mut size: Vec<f64> = lesions.iter().map(|_| rng.random_range(10.0..60.0)).collect();
    for k in 0..=follow_ups {
        let date = if k == 0 { day(-5) } else { day(k * rng.random_range(40..70)) };
        let date =
            time_points.last().map_or(date, |t: &TimePoint| if date <= t.date { t.date.plus_days(30) } else { date });
        let mut reads = Vec::new();
        for r in ["R1", "R2"] {
            let mut observations = Vec::new();
            for (i, lesion) in lesions.iter().enumerate() {
                if k > 0 && r == "R1" {
                    size[i] = (size[i] * rng.random_range(0.5..1.5)).max(0.0);
                }
                let noise = if r == "R2" { rng.random_range(0.9..1.1) } else { 1.0 };
                let roll = rng.random_range(0..20);
                let status = match (lesion.role, roll) {
                    (_, 0) if k > 0 => LesionStatus::NotEvaluated,
                    (LesionRole::Target, 1) if k > 0 => LesionStatus::TooSmallToMeasure,
                    (LesionRole::Target, 2) if k > 0 => LesionStatus::Disappeared,
                    (LesionRole::Target, 3) if k > 0 => LesionStatus::Split(vec![Mm(size[i] / 2.0), Mm(size[i] / 3.0)]),
                    (LesionRole::Target, _) => LesionStatus::Measured(Mm((size[i] * noise * 10.0).round() / 10.0)),
                    (LesionRole::NonTarget, 1) if k > 0 => LesionStatus::UnequivocalProgression,
                    (LesionRole::NonTarget, 2) if k > 0 => LesionStatus::Disappeared,
                    (LesionRole::NonTarget, _) => LesionStatus::Present,
                };
                let local = LocalFindings {
                    ablation_zone_diameter: Some(Mm(size[i] * noise + 5.0)),
                    margin_enhancement: k > 1 && rng.random_bool(0.05),
                    ..LocalFindings::default()
                };
                observations.push(Observation {
                    lesion_id: lesion.lesion_id.clone(),
                    status,
                    local,
                    volumes: VolumeFindings::default(),
                });
            }
            let mut new_lesions = Vec::new();
            if k > 0 && rng.random_bool(0.1) {
                new_lesions.push(NewLesion {
                    new_lesion_id: format!("N{}", rng.random_range(0..3)),
                    organ: None,
                    is_equivocal: rng.random_bool(0.5),
                });
            }
            reads.push(Read { reader: reader(r), observations, new_lesions });
        }
        time_points.push(TimePoint { label: format!("TP{k}"), date, reads });
    }
    PatientAssessments {
        patient_id: PatientId::parse("P001").unwrap(),
        therapy_start: start(),
        lesions,
        readers: vec![reader("R1"), reader("R2")],
        time_points,
        adjudication: None,
    }
}

/// Goodness for "never improves": CR > PR > SD = non-CR/non-PD > NE > PD.
fn goodness(r: OverallResponse) -> u8 {
    match r {
        OverallResponse::Cr => 4,
        OverallResponse::Pr => 3,
        OverallResponse::Sd | OverallResponse::NonCrNonPd => 2,
        OverallResponse::Ne => 1,
        OverallResponse::Pd => 0,
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut ChaCha8Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn a_new_lesion_never_improves_a_response(seed in any::<u64>(), at in 1usize..7, equivocal in any::<bool>()) {
        let protocol = Protocol::shipped();
        let patient = random_patient(seed);
        let at = at.min(patient.time_points.len() - 1);
        let mut worse = patient.clone();
        worse.time_points[at].reads[0].new_lesions.push(NewLesion {
            new_lesion_id: "PROP-NEW".to_owned(),
            organ: None,
            is_equivocal: equivocal,
        });
        let before = assess_patient(&patient, &protocol);
        let after = assess_patient(&worse, &protocol);
        let (b, a) = (&before.readers[0].recist, &after.readers[0].recist);
        // Time points before the new lesion are unchanged; at it the response is not better
        // (PD when unequivocal).
        for (tb, ta) in b.time_points.iter().zip(&a.time_points) {
            if tb.date < worse.time_points[at].date {
                prop_assert_eq!(tb, ta);
            } else {
                if tb.date == worse.time_points[at].date {
                    prop_assert!(goodness(ta.response) <= goodness(tb.response));
                    if !equivocal {
                        prop_assert_eq!(ta.response, OverallResponse::Pd);
                    }
                }
            }
        }
        for confirm in [false, true] {
            let (bb, ba) = if confirm { (&b.best_confirmed, &a.best_confirmed) } else { (&b.best_unconfirmed, &a.best_unconfirmed) };
            prop_assert!(goodness(ba.response) <= goodness(bb.response) || bb.response == OverallResponse::Pd && ba.response == OverallResponse::Pd,
                "best {:?} → {:?}", bb, ba);
        }
        if let Some(pb) = &b.progression {
            prop_assert!(a.progression.as_ref().is_some_and(|pa| pa.date <= pb.date));
        }
    }

    #[test]
    fn verdicts_do_not_depend_on_input_order(seed in any::<u64>(), order_seed in any::<u64>()) {
        let protocol = Protocol::shipped();
        let patient = random_patient(seed);
        let mut shuffled = patient.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(order_seed);
        shuffle(&mut shuffled.lesions, &mut rng);
        shuffle(&mut shuffled.time_points, &mut rng);
        for tp in &mut shuffled.time_points {
            shuffle(&mut tp.reads, &mut rng);
            for read in &mut tp.reads {
                shuffle(&mut read.observations, &mut rng);
                shuffle(&mut read.new_lesions, &mut rng);
            }
        }
        let a = assess_patient(&patient, &protocol);
        let b = assess_patient(&shuffled, &protocol);
        prop_assert_eq!(&a.readers, &b.readers);
        prop_assert_eq!(&a.review, &b.review);
        // The findings are the same set (order may follow the input).
        let mut fa: Vec<String> = a.findings.iter().map(ToString::to_string).filter(|f| !f.contains("dated before")).collect();
        let mut fb: Vec<String> = b.findings.iter().map(ToString::to_string).filter(|f| !f.contains("dated before")).collect();
        fa.sort();
        fb.sort();
        prop_assert_eq!(fa, fb);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Corrupted records (negative and non-finite diameters, unknown and duplicated codes, equal
    /// and reversed dates, dropped baselines, unknown readers) never panic, are assessed
    /// deterministically, and a duplicated lesion code always comes back as a finding.
    #[test]
    fn bad_input_never_panics(seed in any::<u64>(), corruption_seed in any::<u64>()) {
        let protocol = Protocol::shipped();
        let mut patient = random_patient(seed);
        let mut rng = ChaCha8Rng::seed_from_u64(corruption_seed);
        let mut duplicated = false;
        for _ in 0..rng.random_range(1..6) {
            let tp = rng.random_range(0..patient.time_points.len());
            match rng.random_range(0..8) {
                0 => {
                    let size = -rng.random_range(0.1..50.0);
                    if let Some(read) = patient.time_points[tp].reads.first_mut() {
                        let i = rng.random_range(0..read.observations.len());
                        read.observations[i].status = LesionStatus::Measured(Mm(size));
                    }
                }
                1 => {
                    if let Some(read) = patient.time_points[tp].reads.first_mut() {
                        read.observations.push(Observation::new(id("GHOST"), LesionStatus::Measured(Mm(12.0))));
                    }
                }
                2 => {
                    let copy = patient.lesions[0].clone();
                    patient.lesions.push(copy);
                    duplicated = true;
                }
                3 => {
                    let other = rng.random_range(0..patient.time_points.len());
                    patient.time_points[tp].date = patient.time_points[other].date;
                }
                4 => patient.time_points.reverse(),
                5 => patient.time_points[0].reads.clear(),
                6 => {
                    if let Some(read) = patient.time_points[tp].reads.first_mut() {
                        read.reader = reader("R9");
                    }
                }
                _ => {
                    let pick = rng.random_range(0..100usize);
                    if let Some(read) = patient.time_points[tp].reads.last_mut() {
                        let i = pick % read.observations.len();
                        read.observations[i].status = LesionStatus::Split(vec![Mm(f64::NAN)]);
                    }
                }
            }
        }
        let assessment = assess_patient(&patient, &protocol);
        prop_assert_eq!(&assessment, &assess_patient(&patient, &protocol));
        if duplicated {
            prop_assert!(assessment.findings.iter().any(|f| f.message.contains("lesion id listed twice")));
        }
    }
}
