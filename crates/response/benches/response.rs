//! Benchmarks of `cryoseed-response`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-response --bench response`; sample counts are small so the
//! run takes well under a minute after the build. Figures in BENCHMARKS.md at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Ml, Mm, Organ, PatientId};
use cryoseed_response::{
    Date, Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, PatientAssessment,
    PatientAssessments, Read, ReaderId, TimePoint, VolumeFindings, assess_patient, format::parse_assessments,
    reader_agreement,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

/// A trial-sized patient: 5 targets (one bulky, three treated), 3 non-targets, two readers,
/// baseline + `follow_ups` time points 8 weeks apart, with zonal volumes and occasional flags.
fn patient(rng: &mut ChaCha8Rng, index: usize, follow_ups: usize) -> PatientAssessments {
    let start = Date::parse("2026-01-10").unwrap();
    let organs = [Organ::Liver, Organ::Lung, Organ::LymphNode, Organ::Bone, Organ::SoftTissue];
    let lesions: Vec<Lesion> = (0..8)
        .map(|i| Lesion {
            lesion_id: LesionId::parse(format!("L{i}")).unwrap(),
            role: if i < 5 { LesionRole::Target } else { LesionRole::NonTarget },
            organ: organs[i % organs.len()],
            treated_on: (i < 3).then_some(start),
            is_bulky_index: i == 0,
        })
        .collect();
    let mut size: Vec<f64> = lesions.iter().map(|_| rng.random_range(15.0..80.0)).collect();
    let readers = [ReaderId::parse("R1").unwrap(), ReaderId::parse("R2").unwrap()];
    let time_points = (0..=follow_ups)
        .map(|k| {
            for s in &mut size {
                *s *= rng.random_range(0.8..1.15);
            }
            let reads = readers
                .iter()
                .map(|reader| Read {
                    reader: reader.clone(),
                    observations: lesions
                        .iter()
                        .zip(&size)
                        .map(|(l, &s)| Observation {
                            lesion_id: l.lesion_id.clone(),
                            status: if l.role == LesionRole::Target {
                                LesionStatus::Measured(Mm((s * rng.random_range(0.95..1.05) * 10.0).round() / 10.0))
                            } else {
                                LesionStatus::Present
                            },
                            local: LocalFindings {
                                ablation_zone_diameter: l.treated_on.map(|_| Mm(s + 8.0)),
                                margin_enhancement: k > 2 && rng.random_bool(0.02),
                                ..LocalFindings::default()
                            },
                            volumes: if l.is_bulky_index {
                                VolumeFindings {
                                    volume: Some(Ml(s * 3.0)),
                                    core_volume: Some(Ml(s * 1.5)),
                                    margin_volume: Some(Ml(s * 1.5)),
                                    non_enhancing: None,
                                }
                            } else {
                                VolumeFindings::default()
                            },
                        })
                        .collect(),
                    new_lesions: if k > 0 && rng.random_bool(0.05) {
                        vec![NewLesion { new_lesion_id: "N1".to_owned(), organ: None, is_equivocal: false }]
                    } else {
                        Vec::new()
                    },
                })
                .collect();
            TimePoint { label: format!("TP{k}"), date: start.plus_days(56 * k as i32 - 5), reads }
        })
        .collect();
    PatientAssessments {
        patient_id: PatientId::parse(format!("P{index:04}")).unwrap(),
        therapy_start: start,
        lesions,
        readers: readers.to_vec(),
        time_points,
        adjudication: None,
    }
}

fn assess_patient_8_lesions_2_readers_10_time_points(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let p = patient(&mut rng, 0, 9);
    c.bench_function("assess_patient_8_lesions_2_readers_10_time_points", |b| {
        b.iter(|| assess_patient(black_box(&p), &protocol))
    });
}

fn assess_cohort_90_patients_and_kappa(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let cohort: Vec<PatientAssessments> = (0..90).map(|i| patient(&mut rng, i, 9)).collect();
    c.bench_function("assess_cohort_90_patients_and_kappa", |b| {
        b.iter(|| {
            let assessed: Vec<PatientAssessment> = cohort.iter().map(|p| assess_patient(p, &protocol)).collect();
            reader_agreement(black_box(&assessed), &protocol)
        })
    });
}

fn parse_example_document(c: &mut Criterion) {
    let json = include_str!("../examples/assessments.json");
    c.bench_function("parse_example_document_2_patients", |b| b.iter(|| parse_assessments(black_box(json))));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = assess_patient_8_lesions_2_readers_10_time_points, assess_cohort_90_patients_and_kappa, parse_example_document
}
criterion_main!(benches);
