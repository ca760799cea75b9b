//! Benchmarks of the fast surrogate and the probe placement, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-cryo --bench surrogate`. Figures in BENCHMARKS.md at the
//! workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::{Celsius, Mm, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::ProbeCatalogue;
use cryoseed_cryo::placement::{OarConstraint, PlacementRequest, ProbeDirections, plan_probes};
use cryoseed_volume::{Grid, Mask};
use std::hint::black_box;
use std::time::Duration;

mod surrogate_common;

use surrogate_common::liver_model;

/// The 0, −20 and −40 °C masks of four parallel probes on a 15 mm square, centred in a 150³
/// grid at 1 mm (the whole grid is returned; the probes reach a ~100 mm box of it).
fn surrogate_4_probes_150cubed_1mm(c: &mut Criterion) {
    let model = liver_model();
    let (grid, probes) = surrogate_common::four_probes_150cubed();
    let isotherms = [Celsius(0.0), Celsius(-20.0), Celsius(-40.0)];
    c.bench_function("surrogate_4_probes_150cubed_1mm", |b| {
        b.iter(|| model.isotherm_masks(&grid, black_box(&probes), &isotherms).unwrap())
    });
}

/// Placement for a 60 mm spherical target (a bulky lesion's core size) on a 1 mm grid of
/// 160³ voxels, probes parallel to y, with a 20 mm-thick slab OAR 15 mm from the target
/// (minimum ice distance 10 mm, the zoning rule for a core).
fn placement_60mm_target(c: &mut Criterion) {
    let model = liver_model();
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let grid = Grid::new([160; 3], [Mm(1.0); 3], PatientPoint::default()).unwrap();
    let centre = PatientPoint([80.0, 80.0, 80.0]);
    let target = Mask::from_fn(grid, |p| p.distance_to(centre).0 <= 30.0);
    let oar = Mask::from_fn(grid, |p| (125.0..145.0).contains(&p.0[0]));
    let mut request = PlacementRequest::from_protocol(
        &protocol.cryo,
        target,
        class,
        ProbeDirections::Parallel(PatientVector([0.0, 1.0, 0.0])),
    );
    request.oars = vec![OarConstraint { name: "Slab".into(), mask: oar, min_ice_distance: Mm(10.0) }];
    c.bench_function("placement_60mm_target", |b| b.iter(|| plan_probes(black_box(&request), &model).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = surrogate_4_probes_150cubed_1mm, placement_60mm_target
}
criterion_main!(benches);
