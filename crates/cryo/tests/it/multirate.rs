//! Multirate stepping (the frozen region sub-stepped, the rest stepped with the unfrozen
//! tissue's bound) against the single-rate scheme it replaces, on a three-probe freeze–thaw.

use crate::probe_z;
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Organ, Protocol};
use cryoseed_cryo::isotherm::isotherm_mask;
use cryoseed_cryo::{BioheatConfig, BioheatResult, Medium, SolverOptions, simulate_freeze_thaw_with};
use cryoseed_volume::Field;

/// Three 2.4 mm probes 12 mm apart in liver (protocol properties, perfusion as given) on a
/// 40 × 40 × 60 grid at 1 mm: a 3-minute freeze then a 2-minute thaw, with snapshots at the end
/// of each.
fn run(medium: Medium, single_rate: bool) -> BioheatResult {
    let protocol = Protocol::shipped();
    let g = crate::grid([40, 40, 60], 1.0);
    let probes: Vec<_> = [[14.0, 14.0], [26.0, 14.0], [20.0, 24.4]]
        .iter()
        .enumerate()
        .map(|(n, xy)| probe_z(n, "2.4mm-argon", [xy[0], xy[1], 50.0]))
        .collect();
    let sequence = [
        FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(3.0) },
        FreezeThawPhase { kind: PhaseKind::Thaw, minutes: Minutes(2.0) },
    ];
    let config = BioheatConfig {
        medium,
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![Minutes(3.0), Minutes(5.0)],
    };
    let options = SolverOptions { single_rate, ..SolverOptions::default() };
    simulate_freeze_thaw_with(&g, &probes, &sequence, protocol.cryo.probe_surface_temperature_c, &config, &options)
        .unwrap()
}

fn liver() -> Medium {
    Medium::from_tissue(&Protocol::shipped().cryo.tissue_for(Organ::Liver)).unwrap()
}

/// Total enthalpy of a temperature field, J per m³ of voxel (the sum over voxels).
fn total_enthalpy(medium: &Medium, field: &Field<f32>) -> f64 {
    field.as_slice().iter().map(|&t| medium.enthalpy(f64::from(t))).sum()
}

/// The multirate run against the single-rate one: isotherm volumes of the minimum temperature
/// within 0.5 % (the scheme's time error at the coarse step; the grid's own error is larger,
/// see `convergence.rs`), every voxel's minimum within 0.5 °C, bounds of the maximum principle
/// (nothing below the probe temperature or above 37 °C), eight sub-steps of the frozen region
/// per step, and no step redone.
///
/// Measured on this machine: volumes +0.05 / −0.02 / −0.01 % at 0 / −20 / −40 °C, minimum
/// temperatures at most 0.06 °C apart.
#[test]
#[allow(clippy::print_stderr, reason = "prints the measured differences")]
fn multirate_matches_single_rate() {
    let single = run(liver(), true);
    let multi = run(liver(), false);
    assert_eq!(single.substeps, 1);
    assert_eq!(multi.substeps, 8, "liver: 8 sub-steps of the frozen region per step");
    assert!(multi.time_step_s > 7.9 * single.time_step_s, "{} vs {} s", multi.time_step_s, single.time_step_s);
    assert_eq!(multi.fallback_steps, 0);
    for iso in [0.0, -20.0, -40.0] {
        let (a, b) = (
            isotherm_mask(&single.min_temperature, Celsius(iso)).count() as f64,
            isotherm_mask(&multi.min_temperature, Celsius(iso)).count() as f64,
        );
        eprintln!("{iso} °C: {a} voxels single-rate, {b} multirate ({:+.2} %)", 100.0 * (b - a) / a);
        assert!(a > 100.0 && (b - a).abs() <= 0.005 * a, "{iso} °C: {a} voxels single-rate, {b} multirate");
    }
    let worst = single
        .min_temperature
        .as_slice()
        .iter()
        .zip(multi.min_temperature.as_slice())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    eprintln!("largest difference of the minimum temperature: {worst} °C");
    assert!(worst <= 0.5, "minimum temperatures differ by up to {worst} °C");
    let surface = Protocol::shipped().cryo.probe_surface_temperature_c.0 as f32;
    for field in [&multi.min_temperature, &multi.final_temperature] {
        for &t in field.as_slice() {
            assert!((surface - 1e-3..=37.0 + 1e-3).contains(&t), "{t} °C outside [{surface}, 37] °C");
        }
    }
}

/// Heat is conserved across the edge of the sub-stepped region: without perfusion and with the
/// probes passive (the thaw), the grid's outer faces insulated, the total enthalpy after the thaw
/// equals the one at its start, to the rounding of the f32 temperatures (a relative 1e-6 of the
/// heat the freeze took out). A scheme that exchanged the edge flux with the wrong Φ would gain
/// or lose heat at every step.
#[test]
fn multirate_thaw_conserves_heat() {
    let medium = Medium { perfusion_per_s: 0.0, ..liver() };
    let result = run(medium, false);
    assert_eq!(result.substeps, 8);
    let [after_freeze, after_thaw] = [&result.snapshots[0].temperature, &result.snapshots[1].temperature];
    let initial = medium.enthalpy(37.0) * after_freeze.as_slice().len() as f64;
    let removed = initial - total_enthalpy(&medium, after_freeze);
    let drift = total_enthalpy(&medium, after_thaw) - total_enthalpy(&medium, after_freeze);
    assert!(removed > 0.0);
    assert!(drift.abs() <= 1e-6 * removed, "thaw changed the total enthalpy by {drift} (freeze removed {removed})");
}
