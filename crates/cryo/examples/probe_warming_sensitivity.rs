//! The investigation behind the single-probe discrepancies documented in `tests/it/measured.rs`:
//! how the isotherm diameters of one 2.4 mm probe respond to a warmer probe surface (a probe
//! that cannot hold −150 °C under load) and to a higher perfusion.
//!
//! Model: the cross-section through the middle of a long active segment, as in
//! `tests/it/convergence.rs` (a 61 × 61 × 4 slab at 1 mm, insulated faces, the probe as a
//! cylinder through it), so each run takes about a second; the 3-D tests' diameters are 1–2 mm
//! smaller (finite active length). Printed: the −30 °C diameter in agar after one 15-min freeze
//! at 39 °C (Littrup row 5, measured 12 mm) for surface temperatures from −150 to −60 °C, and the
//! 0 / −20 / −40 °C diameters in the protocol's lung after 10-8-10 (Hinshaw rows 1–3, measured
//! 31 / 23 / 18 mm) for surface temperatures and perfusion rates.
//!
//!     cargo run --release -p cryoseed-cryo --example probe_warming_sensitivity
#![allow(clippy::print_stdout, reason = "an example that reports its figures on the terminal")]

use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Mm, Organ, PatientPoint, Protocol};
use cryoseed_cryo::isotherm::isotherm_radius;
use cryoseed_cryo::{BLOOD_HEAT_CAPACITY_J_PER_M3_K, BioheatConfig, ColdSource, Medium, solve_pennes_enthalpy};
use cryoseed_volume::{Field, Grid, Mask};

/// Mean diameter of `isotherm` along ±x and ±y from the probe axis.
fn diameter(field: &Field<f32>, isotherm: f64) -> f64 {
    let dirs = [[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]];
    let centre = PatientPoint([30.0, 30.0, 1.5]);
    dirs.iter().map(|&d| isotherm_radius(field, centre, d, Celsius(isotherm)).expect("inside the ice").0).sum::<f64>()
        / 2.0
}

fn main() {
    let protocol = Protocol::shipped();
    let grid = Grid::new([61, 61, 4], [Mm(1.0); 3], PatientPoint::default()).expect("grid");
    // A 2.4 mm probe, rasterised as `PlacedProbe::cold_voxels` does on a 1 mm grid.
    let radius = 1.2_f64.max(0.5 * 2.0_f64.sqrt());
    let probe = Mask::from_fn(grid, |p| (p.0[0] - 30.0).hypot(p.0[1] - 30.0) <= radius);
    let run = |medium: Medium, baseline: f64, surface: f64, phases: &[FreezeThawPhase]| {
        let config = BioheatConfig { medium, baseline: Celsius(baseline), snapshot_times: vec![] };
        let source = [ColdSource { voxels: probe.clone(), temperature: Celsius(surface) }];
        solve_pennes_enthalpy(&grid, &source, phases, &config).expect("simulation").min_temperature
    };
    // Agar as in tests/it/measured.rs.
    let agar = Medium {
        conductivity_unfrozen_w_per_m_k: 0.6,
        conductivity_frozen_w_per_m_k: 2.2,
        heat_capacity_unfrozen_j_per_m3_k: 4.18e6,
        heat_capacity_frozen_j_per_m3_k: 1.88e6,
        latent_heat_j_per_m3: 333e6,
        solidus: Celsius(-1.0),
        liquidus: Celsius(0.0),
        perfusion_per_s: 0.0,
        blood_heat_capacity_j_per_m3_k: BLOOD_HEAT_CAPACITY_J_PER_M3_K,
    };
    let freeze = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(15.0) }];
    for surface in [-150.0, -120.0, -100.0, -80.0, -60.0] {
        let field = run(agar, 39.0, surface, &freeze);
        println!("agar, probe at {surface} °C: -30 °C diameter {:.1} mm (measured 12)", diameter(&field, -30.0));
    }
    let sequence = protocol.cryo.freeze_thaw("10-8-10").expect("10-8-10").phases.clone();
    let lung = Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Lung)).expect("lung");
    for (surface, perfusion) in
        [(-150.0, 0.0005), (-120.0, 0.0005), (-90.0, 0.0005), (-150.0, 0.002), (-150.0, 0.005), (-150.0, 0.01)]
    {
        let field = run(Medium { perfusion_per_s: perfusion, ..lung }, 37.0, surface, &sequence);
        let d = [0.0, -20.0, -40.0].map(|iso| diameter(&field, iso));
        println!(
            "lung, probe at {surface} °C, perfusion {perfusion} /s: 0 / -20 / -40 °C diameters {:.1} / {:.1} / {:.1} mm \
             (measured 31 / 23 / 18)",
            d[0], d[1], d[2]
        );
    }
}
