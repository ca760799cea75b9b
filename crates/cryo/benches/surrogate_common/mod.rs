//! The surrogate benchmark's scenario, shared by the criterion benchmark and the timing example.

use cryoseed_core::{Mm, Organ, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::{BioheatConfig, Medium, PlacedProbe, ProbeCatalogue, SurrogateLibrary, SurrogateModel};
use cryoseed_volume::Grid;

/// The shipped calibration for the 2.4 mm argon probe in the protocol's liver, 10-8-10.
pub fn liver_model() -> SurrogateModel {
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let medium = Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Liver)).unwrap();
    let phases = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    SurrogateLibrary::shipped()
        .find(&class, &medium, &phases, BioheatConfig::BODY_TEMPERATURE, protocol.cryo.probe_surface_temperature_c)
        .unwrap()
        .clone()
}

/// Four parallel probes on a 15 mm square, centred in a 150³ grid at 1 mm (the probes reach a
/// ~100 mm box of it).
pub fn four_probes_150cubed() -> (Grid, Vec<PlacedProbe>) {
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let grid = Grid::new([150; 3], [Mm(1.0); 3], PatientPoint::default()).unwrap();
    let probes = [[67.0, 67.0], [82.0, 67.0], [67.0, 82.0], [82.0, 82.0]]
        .iter()
        .enumerate()
        .map(|(n, xy)| {
            PlacedProbe::new(n, class.clone(), PatientPoint([xy[0], xy[1], 95.0]), PatientVector([0.0, 0.0, 1.0]))
                .unwrap()
        })
        .collect();
    (grid, probes)
}
