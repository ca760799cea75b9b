//! Benchmark of seed inverse planning, named after its size.
//!
//! Run with `cargo bench -p cryoseed-plan --bench seeds`; figures in BENCHMARKS.md (`plan`).

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{CriticalOar, LesionSite};
use cryoseed_dose::builtin_model;
use cryoseed_plan::plan_seeds;
use cryoseed_plan::seeds::{
    SeedOar, SeedPlanConfig, SeedPlanRequest, SeedPlanVerdict, SeedSettings, SeedStructures, TemplateGrid, TrackSource,
};
mod common;

use common::bulky_300ml;
use std::hint::black_box;
use std::time::Duration;

fn seed_optimization_margin_300ml_bulky(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let (_gtv, target, core, body, bowel) = bulky_300ml(3);
    let settings = SeedSettings::from_protocol(&protocol.seeds, LesionSite::SoftTissue);
    let model = builtin_model(&settings.model_id).unwrap();
    let request = SeedPlanRequest {
        structures: SeedStructures {
            target: &target,
            dont_care: Some(&core),
            body: &body,
            oars: vec![SeedOar {
                name: "Bowel".to_owned(),
                class: CriticalOar::Bowel,
                mask: &bowel,
                limit: protocol.oar_limit(CriticalOar::Bowel).copied(),
            }],
            needle_obstacles: vec![],
        },
        settings,
        model,
        // Posterior approach (needles towards anterior, −y), away from the bowel.
        tracks: vec![TrackSource::Template(TemplateGrid::along([0.0, -1.0, 0.0]))],
        fixed_seeds: vec![],
        config: SeedPlanConfig::default(),
    };
    let plan = plan_seeds(&request).unwrap().plan;
    assert_eq!(plan.verdict, SeedPlanVerdict::MeetsGoals, "{:?}", plan.evaluation);
    c.bench_function("seed_optimization_margin_300ml_bulky", |b| b.iter(|| plan_seeds(black_box(&request)).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(20));
    targets = seed_optimization_margin_300ml_bulky
}
criterion_main!(benches);
