//! Benchmarks of `cryoseed-trial`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-trial --bench trial` (about 30 s after the build); figures in
//! BENCHMARKS.md at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Ecog, LesionId, Modality, PatientId, SiteId};
use cryoseed_response::{Date, LocalControl, OverallResponse};
use cryoseed_trial::ctcae::catalogue;
use cryoseed_trial::endpoints::{LesionVerdict, PatientRecord, ResponseVerdicts, TreatedLesion, derive};
use cryoseed_trial::randomization::{
    Minimization, RandomizationRequest, RandomizationState, Stratum, allocate, generate_permuted_blocks,
};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

fn sites() -> Vec<SiteId> {
    ["SITE-01", "SITE-02", "SITE-03"].iter().map(|s| SiteId::parse(*s).unwrap()).collect()
}

fn enrolments(n: usize, seed: u64) -> Vec<RandomizationRequest> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sites = sites();
    (0..n)
        .map(|i| RandomizationRequest {
            patient_id: PatientId::parse(format!("P-{i:05}")).unwrap(),
            site_id: Some(sites[rng.random_range(0..3usize)].clone()),
            ecog: Some(Ecog::new(rng.random_range(0..3u8)).unwrap()),
        })
        .collect()
}

/// n patients, each with 3 treated lesions, 5 scans, a third with bulky LTP, a fifth dead.
fn cohort(n: usize, seed: u64) -> Vec<(PatientRecord, ResponseVerdicts)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let t0 = Date::parse("2027-01-01").unwrap();
    (0..n)
        .map(|i| {
            let randomized_on = t0.plus_days(rng.random_range(0..700));
            let treated_on = randomized_on.plus_days(7);
            let scans: Vec<Date> = [42, 120, 190, 280, 370].iter().map(|&d| treated_on.plus_days(d)).collect();
            let death = (rng.random_range(0..5) == 0).then(|| treated_on.plus_days(400));
            let ids: Vec<LesionId> = (1..=3).map(|k| LesionId::parse(format!("L{k}")).unwrap()).collect();
            let record = PatientRecord {
                patient_id: PatientId::parse(format!("P-{i:05}")).unwrap(),
                site_id: SiteId::parse("SITE-01").unwrap(),
                arm: if i % 2 == 0 { Arm::Experimental } else { Arm::Control },
                stratum: Stratum { site_id: Some(SiteId::parse("SITE-01").unwrap()), ecog_group: 0 },
                ecog: Ecog::new(1).unwrap(),
                randomized_on,
                therapy_completed_on: Some(treated_on),
                death_on: death,
                last_contact_on: death.unwrap_or(treated_on.plus_days(500)),
                withdrawn_on: None,
                treated_lesions: ids
                    .iter()
                    .enumerate()
                    .map(|(k, id)| TreatedLesion {
                        lesion_id: id.clone(),
                        is_bulky_index: k == 0,
                        modalities: vec![Modality::Seeds],
                        treated_on,
                        qa: None,
                    })
                    .collect(),
                reinterventions: vec![],
            };
            let ltp = (rng.random_range(0..3) == 0).then(|| scans[2]);
            let verdicts = ResponseVerdicts {
                time_points: scans.iter().map(|&d| (d, OverallResponse::Sd)).collect(),
                best_confirmed: None,
                recist_progression_on: None,
                systemic_progression_on: None,
                lesions: ids
                    .iter()
                    .enumerate()
                    .map(|(k, id)| LesionVerdict {
                        lesion_id: id.clone(),
                        is_bulky_index: k == 0,
                        ltp_on: if k == 0 { ltp } else { None },
                        assessed_on: scans.clone(),
                        local_control: LocalControl::NotEvaluable,
                    })
                    .collect(),
                burden: vec![],
            };
            (record, verdicts)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    c.bench_function("allocation_list_6_strata_10000_per_stratum", |b| {
        b.iter(|| generate_permuted_blocks(design, black_box(&sites()), 10_000, 1).unwrap())
    });
    let list = generate_permuted_blocks(design, &sites(), 10_000, 1).unwrap();
    let requests = enrolments(10_000, 2);
    c.bench_function("permuted_block_allocate_10000_enrolments", |b| {
        b.iter(|| {
            let mut state = RandomizationState::default();
            for r in &requests {
                black_box(allocate(&list, &mut state, design, r).unwrap());
            }
        })
    });
    c.bench_function("minimization_allocate_10000_enrolments", |b| {
        b.iter(|| {
            let mut m = Minimization::new(design, &sites(), 3).unwrap();
            for r in &requests {
                black_box(m.allocate(r).unwrap());
            }
        })
    });
    catalogue();
    c.bench_function("ctcae_search_misspelt_837_terms", |b| b.iter(|| catalogue().search(black_box("Pneumothorx"), 5)));
    let trial = cohort(1000, 4);
    c.bench_function("derive_endpoints_1000_patients_3000_lesions", |b| {
        b.iter(|| derive(black_box(&trial), &protocol).unwrap())
    });
}

criterion_group! {
    name = trial;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(trial);
