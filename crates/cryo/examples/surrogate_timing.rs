//! Times the surrogate benchmark's call (0 / −20 / −40 °C masks of four probes on a 150³ 1 mm
//! grid) over many repetitions, for a CPU-time figure on a shared machine (BENCHMARKS.md): run
//! it under `/usr/bin/time -f "%U s user"` and divide by the repetitions.
//!
//!     cargo run --release -p cryoseed-cryo --example surrogate_timing [REPETITIONS]
#![allow(clippy::print_stdout, reason = "an example that reports timings on the terminal")]

#[path = "../benches/surrogate_common/mod.rs"]
mod surrogate_common;

use cryoseed_core::Celsius;

fn main() {
    let repetitions: usize =
        std::env::args().nth(1).map_or(50, |n| n.parse().expect("usage: surrogate_timing [REPETITIONS]"));
    let model = surrogate_common::liver_model();
    let (grid, probes) = surrogate_common::four_probes_150cubed();
    let isotherms = [Celsius(0.0), Celsius(-20.0), Celsius(-40.0)];
    let start = std::time::Instant::now();
    let mut voxels = 0;
    for _ in 0..repetitions {
        let masks = model.isotherm_masks(&grid, std::hint::black_box(&probes), &isotherms).expect("masks");
        voxels = masks[1].count();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{repetitions} calls, {:.1} ms wall each; voxels at or below -20 °C: {voxels}",
        1e3 * seconds / repetitions as f64
    );
}
