//! Times dose grids by CPU time rather than wall time, for machines shared with other work
//! (BENCHMARKS.md): builds the benchmark's implant of N seeds on the 6 M-voxel grid, computes the
//! total-dose grid ITERATIONS times, and prints the wall time per grid. Run it under
//! `/usr/bin/time -f "%U s user"` with `RAYON_NUM_THREADS=1` and subtract the setup run
//! (ITERATIONS = 0) to get the single-core CPU time per grid.
//!
//!     cargo run --release -p cryoseed-dose --example dose_grid_timing -- 100 5
#![allow(clippy::print_stdout, reason = "an example that reports timings on the terminal")]

use cryoseed_core::{Mm, PatientPoint, U};
use cryoseed_dose::{DoseGridConfig, Implant, ImplantKernels, Seed, SeedOrientation, dose_grid_with};
use cryoseed_volume::Grid;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` 6711 seeds of 0.76 U on needles along z (10 mm apart, seeds 10 mm apart along a needle,
/// jittered by ±1 mm and tilted by up to ±0.1 rad) filling a ball around the grid centre.
fn implant(n: usize, seed: u64) -> Implant {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centre = [100.0, 100.0, 75.0];
    let mut seeds = Vec::with_capacity(n);
    let mut radius: f64 = 10.0;
    while seeds.len() < n {
        seeds.clear();
        'fill: for ix in -10i32..=10 {
            for iy in -10i32..=10 {
                for iz in -10i32..=10 {
                    let p = [f64::from(ix) * 10.0, f64::from(iy) * 10.0, f64::from(iz) * 10.0];
                    if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() > radius {
                        continue;
                    }
                    let jitter: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
                    let tilt: [f64; 2] = std::array::from_fn(|_| rng.random_range(-0.1..0.1));
                    seeds.push(Seed {
                        centre_in_patient: PatientPoint(std::array::from_fn(|a| centre[a] + p[a] + jitter[a])),
                        orientation: SeedOrientation::Axis([tilt[0], tilt[1], 1.0]),
                        air_kerma_strength: U(0.76),
                        model: "6711".into(),
                    });
                    if seeds.len() == n {
                        break 'fill;
                    }
                }
            }
        }
        radius += 5.0;
    }
    Implant::new(&seeds, &[]).expect("valid seeds")
}

fn main() {
    let mut args =
        std::env::args().skip(1).map(|a| a.parse::<usize>().expect("usage: dose_grid_timing SEEDS ITERATIONS"));
    let (n, iterations) = (args.next().unwrap_or(100), args.next().unwrap_or(3));
    let grid = Grid::new([200, 200, 150], [Mm(1.0); 3], PatientPoint::default()).expect("valid grid");
    let implant = implant(n, 3);
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
