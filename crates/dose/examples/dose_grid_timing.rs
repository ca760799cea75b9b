//! Times dose grids by CPU time rather than wall time, for machines shared with other work
//! (BENCHMARKS.md): builds the benchmark's implant of N seeds on the 6 M-voxel grid, computes the
//! total-dose grid ITERATIONS times, and prints the wall time per grid. Run it under
//! `/usr/bin/time -f "%U s user"` with `RAYON_NUM_THREADS=1` and subtract the setup run
//! (ITERATIONS = 0) to get the single-core CPU time per grid.
//!
//!     cargo run --release -p cryoseed-dose --example dose_grid_timing -- 100 5
#![allow(clippy::print_stdout, reason = "an example that reports timings on the terminal")]

#[path = "../benches/common/mod.rs"]
mod common;

use cryoseed_dose::{DoseGridConfig, ImplantKernels, dose_grid_with};

fn main() {
    let mut args =
        std::env::args().skip(1).map(|a| a.parse::<usize>().expect("usage: dose_grid_timing SEEDS ITERATIONS"));
    let (n, iterations) = (args.next().unwrap_or(100), args.next().unwrap_or(3));
    let grid = common::grid_6m();
    let implant = common::implant(n, 3);
    let kernels = ImplantKernels::new(&implant);
    let config = DoseGridConfig::default();
    let start = std::time::Instant::now();
    let mut checksum = 0.0;
    for _ in 0..iterations {
        let dose = dose_grid_with(&implant, &kernels, &grid, &config).expect("dose grid");
        checksum += f64::from(dose.as_slice()[grid.index([100, 100, 75])]);
    }
    let per = start.elapsed().as_secs_f64() * 1000.0 / iterations.max(1) as f64;
    println!("{n} seeds, {iterations} grids: {per:.1} ms wall per grid (checksum {checksum:.3} Gy)");
}
