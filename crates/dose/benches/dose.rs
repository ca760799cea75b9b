//! Benchmarks of `cryoseed-dose`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-dose --bench dose`; sample counts are small so the run takes
//! well under two minutes on a 2-core machine. Figures in BENCHMARKS.md at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::Gy;
use cryoseed_dose::{
    DoseGridConfig, GridMethod, ImplantKernels, dose_grid_with, oar_metrics, target_metrics, volume_at_least,
};
use cryoseed_volume::{Dvh, Mask};
mod common;

use common::{grid_6m, implant};
use std::hint::black_box;
use std::time::Duration;

fn dose_grid_bench(c: &mut Criterion, n: usize) {
    let grid = grid_6m();
    let implant = implant(n, 3);
    let kernels = ImplantKernels::new(&implant);
    let config = DoseGridConfig::default();
    c.bench_function(&format!("dose_grid_6M_voxels_{n}_seeds_line"), |b| {
        b.iter(|| dose_grid_with(black_box(&implant), &kernels, &grid, &config).unwrap())
    });
}

fn dose_grid_6m_voxels_100_seeds_line(c: &mut Criterion) {
    dose_grid_bench(c, 100);
}

fn dose_grid_6m_voxels_200_seeds_line(c: &mut Criterion) {
    dose_grid_bench(c, 200);
}

/// One seed, every voxel: the cost of one kernel evaluation (6 M of them).
fn dose_grid_6m_voxels_1_seed_direct(c: &mut Criterion) {
    let grid = grid_6m();
    let implant = implant(1, 3);
    let kernels = ImplantKernels::new(&implant);
    let config = DoseGridConfig { method: GridMethod::Direct, ..DoseGridConfig::default() };
    c.bench_function("dose_grid_6M_voxels_1_seed_direct", |b| {
        b.iter(|| dose_grid_with(black_box(&implant), &kernels, &grid, &config).unwrap())
    });
}

fn kernel_build_6711_line(c: &mut Criterion) {
    let model = cryoseed_dose::builtin_model("6711").unwrap();
    // The tabulation itself (`DoseKernel::new` serves repeated requests from a process-wide cache).
    c.bench_function("kernel_build_6711_line", |b| {
        b.iter(|| cryoseed_dose::DoseKernel::tabulate(black_box(&model), cryoseed_dose::Formalism::Line))
    });
}

fn plan_metrics_5_structures_6m_voxels(c: &mut Criterion) {
    let grid = grid_6m();
    let implant = implant(100, 3);
    let dose = cryoseed_dose::dose_grid(&implant, &grid, &DoseGridConfig::default()).unwrap();
    let ball = |centre: [f64; 3], r: f64| {
        Mask::from_fn(grid, |p| (0..3).map(|a| (p.0[a] - centre[a]).powi(2)).sum::<f64>().sqrt() <= r)
    };
    let target = ball([100.0, 100.0, 75.0], 35.0);
    let oars = [ball([150.0, 100.0, 75.0], 10.0), ball([100.0, 150.0, 75.0], 8.0), ball([60.0, 60.0, 75.0], 12.0)];
    let body = Mask::from_fn(grid, |p| ((p.0[0] - 100.0) / 95.0).powi(2) + ((p.0[1] - 100.0) / 80.0).powi(2) <= 1.0);
    let rx = Gy(120.0);
    c.bench_function("plan_metrics_5_structures_6M_voxels", |b| {
        b.iter(|| {
            let structures = [&target, &oars[0], &oars[1], &oars[2], &body];
            let dvhs = Dvh::compute_many(black_box(&dose), &structures[..4]).unwrap();
            let v_rx = volume_at_least(&dose, Some(&body), rx).unwrap();
            let t = target_metrics(&dvhs[0], rx, v_rx).unwrap();
            let o: Vec<_> = dvhs[1..].iter().map(oar_metrics).collect();
            (t, o)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = dose_grid_6m_voxels_1_seed_direct, dose_grid_6m_voxels_100_seeds_line, dose_grid_6m_voxels_200_seeds_line, kernel_build_6711_line,
        plan_metrics_5_structures_6m_voxels
}
criterion_main!(benches);
