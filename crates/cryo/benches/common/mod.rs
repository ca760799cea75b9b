//! The benchmark scenario, shared by the criterion benchmark and the timing example.

use cryoseed_core::protocol::FreezeThawPhase;
use cryoseed_core::{Celsius, Mm, Organ, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::{BioheatConfig, Medium, PlacedProbe, ProbeCatalogue};
use cryoseed_volume::Grid;

/// Everything `simulate_freeze_thaw` needs.
pub struct Scenario {
    pub grid: Grid,
    pub probes: Vec<PlacedProbe>,
    pub sequence: Vec<FreezeThawPhase>,
    pub surface: Celsius,
    pub config: BioheatConfig,
}

/// A 10-8-10 double freeze in liver with three 2.4 mm probes on a 15 mm equilateral triangle
/// (inside the protocol's 10–20 mm spacing), parallel to z, centred in a 100 mm cube at 1 mm.
pub fn three_probes_100cubed() -> Scenario {
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let grid = Grid::new([100; 3], [Mm(1.0); 3], PatientPoint::default()).unwrap();
    let centre = [49.5, 49.5];
    let side = 15.0_f64;
    let circumradius = side / 3.0_f64.sqrt();
    let probes: Vec<PlacedProbe> = (0..3)
        .map(|n| {
            let angle = std::f64::consts::TAU * n as f64 / 3.0;
            let tip = PatientPoint::new(
                Mm(centre[0] + circumradius * angle.cos()),
                Mm(centre[1] + circumradius * angle.sin()),
                Mm(70.0),
            );
            PlacedProbe::new(n, class.clone(), tip, PatientVector([0.0, 0.0, 1.0])).unwrap()
        })
        .collect();
    let sequence = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Liver)).unwrap(),
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![],
    };
    Scenario { grid, probes, sequence, surface: protocol.cryo.probe_surface_temperature_c, config }
}
