//! Times one run of the bioheat benchmark's scenario (three probes, 10-8-10, 100³ at 1 mm) and
//! prints the wall time, the number of steps and the isotherm volumes, for a quick check on a
//! shared machine (BENCHMARKS.md). Run it under `/usr/bin/time -f "%U s user"` for CPU time.
//!
//!     cargo run --release -p cryoseed-cryo --example bioheat_timing [liver|liver-lung] [MINUTES] [--single-rate]
//!
//! `liver-lung` makes the half x > 50 mm lung (`TissueMap::from_organs`), which takes the solver's
//! path for several media; MINUTES replaces the 10-8-10 sequence by a single freeze that long;
//! `--single-rate` steps every voxel with the frozen region's step (the scheme before multirate
//! stepping), for before/after ratios from one binary.
#![allow(clippy::print_stdout, reason = "an example that reports timings on the terminal")]

#[path = "../benches/common/mod.rs"]
mod common;

use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Organ, Protocol};
use cryoseed_cryo::{SolverOptions, TissueMap, isotherm_mask, simulate_freeze_thaw_with};
use cryoseed_volume::Mask;

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let single_rate = all.iter().any(|a| a == "--single-rate");
    let mut args = all.into_iter().filter(|a| a != "--single-rate");
    let tissue = args.next().unwrap_or_else(|| "liver".into());
    let mut scenario = common::three_probes_100cubed();
    if let Some(minutes) = args.next() {
        let minutes = minutes.parse().expect("usage: bioheat_timing [liver|liver-lung] [MINUTES] [--single-rate]");
        scenario.sequence = vec![FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(minutes) }];
    }
    let mut options = match tissue.as_str() {
        "liver" => SolverOptions::default(),
        "liver-lung" => {
            let lung = Mask::from_fn(scenario.grid, |p| p.x().0 > 50.0);
            let map = TissueMap::from_organs(&Protocol::shipped().cryo, Organ::Liver, &[(Organ::Lung, &lung)])
                .expect("tissue map");
            SolverOptions { tissue: Some(map), ..SolverOptions::default() }
        }
        other => panic!("unknown tissue {other}: liver or liver-lung"),
    };
    options.single_rate = single_rate;
    let start = std::time::Instant::now();
    let s = &scenario;
    let result =
        simulate_freeze_thaw_with(&s.grid, &s.probes, &s.sequence, s.surface, &s.config, &options).expect("simulation");
    let seconds = start.elapsed().as_secs_f64();
    let volume = |iso: f64| isotherm_mask(&result.min_temperature, Celsius(iso)).count();
    println!(
        "{tissue}: {:.2} s wall, {} steps of at most {:.3} s, {} sub-step(s) of the frozen region, {} redone; \
         voxels at or below 0 / -20 / -40 °C: {} / {} / {}",
        seconds,
        result.steps,
        result.time_step_s,
        result.substeps,
        result.fallback_steps,
        volume(0.0),
        volume(-20.0),
        volume(-40.0)
    );
}
