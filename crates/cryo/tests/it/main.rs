//! Acceptance tests of `cryoseed-cryo`: one binary, one module per concern.
//!
//! Oracles: Neumann's closed-form planar freezing solution, grid refinement, and the published
//! measurements in `data/probes.csv` (copied into the crate with its provenance). Each test states
//! its tolerance and where it comes from.

mod analytic;
mod catalogue;
mod convergence;
mod heterogeneous;
mod measured;
mod multirate;
mod placement;
mod probes;
mod surrogate;

use cryoseed_core::{Mm, PatientPoint, PatientVector};
use cryoseed_cryo::{PlacedProbe, ProbeCatalogue};
use cryoseed_volume::Grid;

/// A grid with spacing `h` mm and its first voxel centre at the origin.
pub fn grid(dims: [usize; 3], h: f64) -> Grid {
    Grid::new(dims, [Mm(h); 3], PatientPoint::default()).unwrap()
}

/// A shipped-catalogue probe pointing along +z with its tip at `tip` (mm).
pub fn probe_z(index: usize, class: &str, tip: [f64; 3]) -> PlacedProbe {
    let class = ProbeCatalogue::shipped().class(class).unwrap().clone();
    PlacedProbe::new(index, class, PatientPoint(tip), PatientVector([0.0, 0.0, 1.0])).unwrap()
}
