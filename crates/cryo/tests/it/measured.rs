//! Single- and multi-probe predictions against the measured rows of `data/probes.csv`.
//!
//! These simulations take about a minute of CPU each on a 1 mm grid, so they run when
//! `CRYOSEED_TEST_SLOW=1` is set (`.ci/run` sets it) and say that they were skipped otherwise.
//!
//! Where a row cannot be met with the shipped physics, the test pins the model's current
//! prediction (±1 mm) and the comment gives the measured discrepancy, instead of tuning
//! properties to hide it: a change of the solver that moves the prediction is then noticed and
//! the discrepancy re-documented.
//!
//! The predictions are printed (`--nocapture`) so that the figures in the doc comments can be
//! refreshed.
//!
//! Probe warming (issue 4, investigated Sat Nov 28 2026 with
//! `examples/probe_warming_sensitivity.rs`, a cross-section model of one long probe whose
//! diameters run 1–2 mm above the 3-D tests'): a warmer probe surface shrinks every isotherm
//! alike, not only the outer one.
//! - Littrup row 5 (agar, one probe, −30 °C): 20.3 / 16.2 / 13.3 / 10.1 / 6.8 mm with the probe
//!   at −150 / −120 / −100 / −80 / −60 °C, so the measured 12 mm needs a probe at about −90 °C.
//!   The multi-probe rows 6–8 match within 1 mm at −150 °C and would shrink with it, so a warming
//!   model would have to warm a lone probe by ≈ 60 °C and clustered probes hardly at all; one
//!   row cannot calibrate such a load dependence, so none is implemented.
//! - Hinshaw rows 1–3 (lung, one probe, 0 / −20 / −40 °C): at −120 °C 38.4 / 24.2 / 14.5 mm, at
//!   −90 °C 32.8 / 18.6 / 9.7 mm against 31 / 23 / 18: by the time the 0 °C edge fits, the
//!   lethal isotherms (which fit now, and which the planner uses) are 4–8 mm too small. A higher
//!   lung perfusion instead pulls the 0 °C edge in far more than the lethal ones: 0.002 /s gives
//!   38.2 / 26.5 / 17.7 mm and 0.005 /s 32.6 / 23.5 / 15.9 mm, the latter within ±5 mm of all
//!   three rows.
//!   The perfusion is protocol data (`[cryo.tissue_overrides.lung]`), so this is reported for the
//!   site physicists to decide rather than changed here.
#![allow(clippy::print_stderr, reason = "prints the predictions and says when the suite was skipped")]

use crate::{grid, probe_z};
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Organ, PatientPoint, Protocol};
use cryoseed_cryo::isotherm::{cross_section_extent, isotherm_mask, isotherm_radius};
use cryoseed_cryo::{BioheatConfig, Medium, simulate_freeze_thaw};
use cryoseed_volume::Field;

fn slow_tests_enabled(name: &str) -> bool {
    let enabled = std::env::var_os("CRYOSEED_TEST_SLOW").is_some_and(|v| v == "1");
    if !enabled {
        eprintln!("{name}: skipped (set CRYOSEED_TEST_SLOW=1 to run the measured-data comparisons)");
    }
    enabled
}

/// Mean of the interpolated isotherm radius along ±x and ±y from `centre`, doubled: a diameter.
fn diameter(field: &Field<f32>, centre: [f64; 3], isotherm: f64) -> f64 {
    let dirs = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]];
    let sum: f64 =
        dirs.iter().map(|&d| isotherm_radius(field, PatientPoint(centre), d, Celsius(isotherm)).unwrap().0).sum();
    sum / 2.0
}

/// probes.csv rows 1–3 (Hinshaw, JVIR 2010): one 2.4 mm argon probe, porcine lung in vivo,
/// 10-min double freeze; isotherm diameters 31 (SD 2) / 23 (SD 3) / 18 (SD 4) mm at 0 / −20 /
/// −40 °C. Simulated: the shipped `2.4mm-argon` class (−150 °C, 40 mm active length), the
/// protocol's lung tissue (`tissue_for(Lung)`: k 0.3 / 2.0 W/m/K, C 3.6 / 1.8 MJ/m³/K, L 300
/// MJ/m³ over −8…−1 °C, perfusion 0.0005 /s), 37 °C, the protocol's 10-8-10 (the paper's thaw
/// length is not in probes.csv), diameters in the cross-section through the middle of the active
/// segment, from the minimum-temperature field.
///
/// Tolerance ±5 mm (issue 4). Measured on this machine: 40.7 / 27.1 / 17.6 mm.
/// Known discrepancy: the 0 °C diameter is 9.7 mm too large. Candidate causes, not tuned away:
/// the protocol's perfusion (0.0005 /s) is a generic soft-tissue value far below lung's (the lung
/// receives the whole cardiac output); aerated lung holds less water, so its latent heat, heat
/// capacity and frozen conductivity are lower than the protocol's tissue values; and a real
/// argon probe warms above −150 °C under heat load. The lethal isotherms, which the planner uses,
/// are within tolerance. Probe warming cannot fix the 0 °C edge without spoiling them; a lung
/// perfusion of about 0.005 /s would fit all three rows (module documentation).
#[test]
fn hinshaw_single_probe_in_lung() {
    if !slow_tests_enabled("hinshaw_single_probe_in_lung") {
        return;
    }
    let protocol = Protocol::shipped();
    let g = grid([61, 61, 81], 1.0);
    let probe = probe_z(0, "2.4mm-argon", [30.0, 30.0, 60.0]);
    let sequence = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Lung)).unwrap(),
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![],
    };
    let result =
        simulate_freeze_thaw(&g, &[probe], &sequence, protocol.cryo.probe_surface_temperature_c, &config).unwrap();
    let centre = [30.0, 30.0, 40.0];
    let predicted = [0.0, -20.0, -40.0].map(|iso| diameter(&result.min_temperature, centre, iso));
    eprintln!("Hinshaw rows 1-3: predicted {predicted:.1?} mm, measured [31, 23, 18] mm");
    assert!((predicted[1] - 23.0).abs() <= 5.0, "-20 °C: {} mm vs 23 mm (±5)", predicted[1]);
    assert!((predicted[2] - 18.0).abs() <= 5.0, "-40 °C: {} mm vs 18 mm (±5)", predicted[2]);
    // Known discrepancy (see above): pinned at the documented 40.7 mm, ±1 mm.
    assert!((predicted[0] - 40.7).abs() <= 1.0, "0 °C: {} mm (documented 40.7 mm vs 31 mm measured)", predicted[0]);
}

/// Agar gel (≈ 98 % water) as a medium, with the properties of water and ice: k 0.6 / 2.2
/// W/m/K, C 4.18 / 1.88 MJ/m³/K (water 1000 kg/m³ × 4.18 kJ/kg/K; ice 917 kg/m³ × 2.05
/// kJ/kg/K), latent heat 333 MJ/m³ (water), released over −1…0 °C; no perfusion.
fn agar() -> Medium {
    Medium {
        conductivity_unfrozen_w_per_m_k: 0.6,
        conductivity_frozen_w_per_m_k: 2.2,
        heat_capacity_unfrozen_j_per_m3_k: 4.18e6,
        heat_capacity_frozen_j_per_m3_k: 1.88e6,
        latent_heat_j_per_m3: 333e6,
        solidus: Celsius(-1.0),
        liquidus: Celsius(0.0),
        perfusion_per_s: 0.0,
        blood_heat_capacity_j_per_m3_k: cryoseed_cryo::BLOOD_HEAT_CAPACITY_J_PER_M3_K,
    }
}

/// probes.csv rows 5–8 (Littrup, JVIR 2009): 1–4 2.4 mm probes 20 mm apart in agar at 39 °C,
/// one 15-min freeze, lethal isotherm −30 °C: diameters 12 / 33 / 41 / 49 mm. Simulated: the
/// `2.4mm-argon` class at −150 °C in [`agar`], probes on a line (2), an equilateral triangle (3)
/// and a square (4) of side 20 mm. The paper measured the lethal zone on a CT slice; the
/// diameter compared here is that of the circle with the same area as the −30 °C zone in the
/// cross-section through the middle of the active segments (the maximum caliper is printed too).
///
/// Tolerance ±6 mm (issue 4). Measured on this machine (equal-area diameter): 19.3 / 32.8 /
/// 41.0 / 49.5 mm; maximum calipers 20.2 / 41.1 / 43.0 / 52.6 mm.
/// Known discrepancy: the single probe's lethal zone is 7.3 mm too large. A probe held at
/// −150 °C is the likely cause: the paper notes single probes under the 39 °C heat load make
/// little lethal ice, i.e. the probe surface warms when it alone must extract the heat (a lone
/// probe at about −90 °C would give 12 mm; module documentation); the multi-probe rows, which the
/// planner relies on, match within 1 mm.
#[test]
fn littrup_multi_probe_lethal_diameters_in_agar() {
    if !slow_tests_enabled("littrup_multi_probe_lethal_diameters_in_agar") {
        return;
    }
    let protocol = Protocol::shipped();
    let g = grid([101, 101, 91], 1.0);
    let c = 50.0;
    let h = 20.0 * 3.0_f64.sqrt() / 2.0;
    let layouts: [&[[f64; 2]]; 4] = [
        &[[c, c]],
        &[[c - 10.0, c], [c + 10.0, c]],
        &[[c - 10.0, c - h / 3.0], [c + 10.0, c - h / 3.0], [c, c + 2.0 * h / 3.0]],
        &[[c - 10.0, c - 10.0], [c + 10.0, c - 10.0], [c - 10.0, c + 10.0], [c + 10.0, c + 10.0]],
    ];
    let measured = [12.0, 33.0, 41.0, 49.0];
    let freeze = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(15.0) }];
    let config = BioheatConfig { medium: agar(), baseline: Celsius(39.0), snapshot_times: vec![] };
    for (layout, want) in layouts.into_iter().zip(measured) {
        let probes: Vec<_> =
            layout.iter().enumerate().map(|(n, xy)| probe_z(n, "2.4mm-argon", [xy[0], xy[1], 65.0])).collect();
        let result =
            simulate_freeze_thaw(&g, &probes, &freeze, protocol.cryo.probe_surface_temperature_c, &config).unwrap();
        let lethal = isotherm_mask(&result.min_temperature, Celsius(-30.0));
        let section = cross_section_extent(&lethal, [0.0, 0.0, 1.0], PatientPoint([c, c, 45.0])).unwrap();
        // The slab is 1 mm thick, so its volume in mm³ is the cross-section's area in mm².
        let equal_area = (4.0 * section.volume.to_mm3() / std::f64::consts::PI).sqrt();
        eprintln!(
            "Littrup {} probe(s): lethal diameter {equal_area:.1} mm (max caliper {:.1} mm), measured {want} mm",
            probes.len(),
            section.across_axis.0
        );
        if probes.len() == 1 {
            // Known discrepancy (see above): pinned at the documented 19.3 mm, ±1 mm.
            assert!((equal_area - 19.3).abs() <= 1.0, "1 probe: {equal_area} mm (documented 19.3 vs 12 mm)");
        } else {
            assert!((equal_area - want).abs() <= 6.0, "{} probes: {equal_area} mm vs {want} mm (±6)", probes.len());
        }
    }
}
