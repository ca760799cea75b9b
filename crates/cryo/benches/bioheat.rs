//! Benchmarks of `cryoseed-cryo`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-cryo --bench bioheat`. One simulation takes about a minute,
//! so the sample count is criterion's minimum (10). Figures in BENCHMARKS.md at the workspace
//! root; `examples/bioheat_timing.rs` times one run of the same scenario.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_cryo::simulate_freeze_thaw;
use std::hint::black_box;
use std::time::Duration;

/// A 10-8-10 double freeze in liver with three 2.4 mm probes on a 15 mm equilateral triangle
/// (inside the protocol's 10–20 mm spacing), parallel to z, centred in a 100 mm cube at 1 mm.
fn bioheat_10_8_10_3_probes_100cubed_1mm(c: &mut Criterion) {
    let s = common::three_probes_100cubed();
    c.bench_function("bioheat_10_8_10_3_probes_100cubed_1mm", |b| {
        b.iter(|| simulate_freeze_thaw(&s.grid, black_box(&s.probes), &s.sequence, s.surface, &s.config).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    targets = bioheat_10_8_10_3_probes_100cubed_1mm
}
criterion_main!(benches);
