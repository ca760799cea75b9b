//! Benchmarks of `cryoseed-cryo`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-cryo --bench bioheat`. One simulation takes seconds, so the
//! sample count is criterion's minimum (10) and the whole run stays under two minutes on a
//! 2-core machine. Figures in BENCHMARKS.md at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::{Mm, Organ, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::{BioheatConfig, Medium, PlacedProbe, ProbeCatalogue, simulate_freeze_thaw};
use cryoseed_volume::Grid;
use std::hint::black_box;
use std::time::Duration;

/// A 10-8-10 double freeze in liver with three 2.4 mm probes on a 15 mm equilateral triangle
/// (inside the protocol's 10–20 mm spacing), parallel to z, centred in a 100 mm cube at 1 mm.
fn bioheat_10_8_10_3_probes_100cubed_1mm(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let grid = Grid::new([100; 3], [Mm(1.0); 3], PatientPoint::default()).unwrap();
    let centre = [49.5, 49.5];
    let side = 15.0_f64;
    let circumradius = side / 3.0_f64.sqrt();
    let probes: Vec<PlacedProbe> = (0..3)
        .map(|n| {
            let angle = std::f64::consts::TAU * n as f64 / 3.0;
            let tip = PatientPoint::new(
                Mm(centre[0] + circumradius * angle.cos()),
                Mm(centre[1] + circumradius * angle.sin()),
                Mm(70.0),
            );
            PlacedProbe::new(n, class.clone(), tip, PatientVector([0.0, 0.0, 1.0])).unwrap()
        })
        .collect();
    let sequence = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Liver)).unwrap(),
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![],
    };
    let surface = protocol.cryo.probe_surface_temperature_c;
    c.bench_function("bioheat_10_8_10_3_probes_100cubed_1mm", |b| {
        b.iter(|| simulate_freeze_thaw(&grid, black_box(&probes), &sequence, surface, &config).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    targets = bioheat_10_8_10_3_probes_100cubed_1mm
}
criterion_main!(benches);
