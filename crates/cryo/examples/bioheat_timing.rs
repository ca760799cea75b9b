//! Times one run of the bioheat benchmark's scenario (three probes, 10-8-10, 100³ at 1 mm) and
//! prints the wall time, the number of steps and the lethal and 0 °C volumes, for a quick check
//! on a shared machine (BENCHMARKS.md). Run it under `/usr/bin/time -f "%U s user"` for CPU time.
//!
//!     cargo run --release -p cryoseed-cryo --example bioheat_timing
#![allow(clippy::print_stdout, reason = "an example that reports timings on the terminal")]

#[path = "../benches/common/mod.rs"]
mod common;

use cryoseed_core::Celsius;
use cryoseed_cryo::{isotherm_mask, simulate_freeze_thaw};

fn main() {
    let scenario = common::three_probes_100cubed();
    let start = std::time::Instant::now();
    let result =
        simulate_freeze_thaw(&scenario.grid, &scenario.probes, &scenario.sequence, scenario.surface, &scenario.config)
            .expect("simulation");
    let seconds = start.elapsed().as_secs_f64();
    let volume = |iso: f64| isotherm_mask(&result.min_temperature, Celsius(iso)).count();
    println!(
        "{:.2} s wall, {} steps of at most {:.3} s; voxels at or below 0 / -20 / -40 °C: {} / {} / {}",
        seconds,
        result.steps,
        result.time_step_s,
        volume(0.0),
        volume(-20.0),
        volume(-40.0)
    );
}
