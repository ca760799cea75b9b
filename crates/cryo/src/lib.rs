//! Cryoablation ice-ball models: the probe catalogue, a 3-D Pennes bioheat solver with phase
//! change, its fast surrogate, and probe placement.
//!
//! - [`ProbeCatalogue`]: probe classes as data (outer diameter, active length, surface
//!   temperature, single-probe isotherm sizes after a stated freeze). The shipped catalogue
//!   (`data/catalogue.csv`) says which numbers come from which published measurement in
//!   `data/probes.csv` and which are assumptions; a site loads its vendor's charts in the same
//!   layout with [`ProbeCatalogue::from_csv_str`].
//! - [`PlacedProbe`]: a class at a tip position and direction; [`validate_probes`] refuses a
//!   probe outside the grid or two overlapping probes.
//! - [`Medium`]: thermal properties, from the protocol's tissue (`Protocol::cryo.tissue_for`), with
//!   the enthalpy, liquid fraction and Kirchhoff functions of the phase-change model.
//! - [`simulate_freeze_thaw`] / [`solve_pennes_enthalpy`]: the Pennes equation with phase change
//!   through a freeze–thaw sequence, returning the minimum temperature reached by each voxel,
//!   the final field and snapshots ([`BioheatResult`]).
//! - [`TissueMap`]: a medium per voxel, e.g. per organ from the protocol
//!   ([`TissueMap::from_organs`]); [`simulate_freeze_thaw_with`] / [`solve_pennes_enthalpy_with`]
//!   take it, and a cap on the time step, through [`SolverOptions`].
//! - [`isotherm`]: isotherm masks, volumes and extents along and across the probe axis.
//! - [`analytic`]: Neumann's planar freezing solution, the solver's validation oracle.
//! - [`surrogate`]: [`SurrogateModel`], isotherm masks of a probe set in milliseconds from a
//!   single-probe table of the solver and a fitted p-norm of the probes' cold deficits;
//!   [`SurrogateLibrary::shipped`] embeds the calibrations of `data/surrogate/`.
//! - [`placement`]: [`placement::plan_probes`] finds the fewest probes whose lethal isotherm
//!   covers a target with the ice edge away from the OARs (and inside an optional confinement),
//!   or the best plan with the constraints it breaks; [`placement::verify_plan`] re-measures it
//!   with the solver.
//!
//! Key design decision: an explicit enthalpy scheme written in the Kirchhoff potential, run only
//! inside the box the cold has reached. It is provably stable under a stated time-step bound
//! (monotone update, see [`bioheat`]), handles the latent heat without tracking the front, needs
//! no averaging of the conductivity across the ice front, and touches only the voxels that
//! change. Its cost is the number of steps the bound imposes (≈ 11 800 for a 10-8-10 cycle at
//! 1 mm); see [`bioheat`] for what was measured and tried to reduce it.
//!
//! Everything here is pure computation: no files, clock or environment; parallel work is split
//! by z-slab and every voxel's update depends only on the previous step, so results are
//! deterministic.
//!
//! ```
//! use cryoseed_core::{Celsius, Minutes, Mm, PatientPoint, PatientVector, Protocol};
//! use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
//! use cryoseed_cryo::{BioheatConfig, Medium, PlacedProbe, ProbeCatalogue, simulate_freeze_thaw};
//! use cryoseed_volume::Grid;
//!
//! let protocol = Protocol::shipped();
//! let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
//! let grid = Grid::new([31, 31, 51], [Mm(1.0); 3], PatientPoint::default()).unwrap();
//! let tip = PatientPoint::new(Mm(15.0), Mm(15.0), Mm(45.0));
//! let probe = PlacedProbe::new(0, class, tip, PatientVector([0.0, 0.0, 1.0])).unwrap();
//! let config = BioheatConfig {
//!     medium: Medium::from_tissue(&protocol.cryo.tissue).unwrap(),
//!     baseline: BioheatConfig::BODY_TEMPERATURE,
//!     snapshot_times: vec![],
//! };
//! let freeze = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(2.0) }];
//! let result = simulate_freeze_thaw(&grid, &[probe], &freeze, protocol.cryo.probe_surface_temperature_c, &config)
//!     .unwrap();
//! let ice = cryoseed_cryo::isotherm::isotherm_mask(&result.min_temperature, Celsius(0.0));
//! assert!(ice.count() > 100);
//! ```

pub mod analytic;
pub mod bioheat;
pub mod catalogue;
mod error;
pub mod isotherm;
pub mod medium;
pub mod placement;
pub mod probe;
pub mod surrogate;

pub use bioheat::{
    BioheatConfig, BioheatResult, ColdSource, Snapshot, SolverOptions, TIME_STEP_SAFETY, solve_pennes_enthalpy,
    solve_pennes_enthalpy_with, stable_time_step, stable_time_step_above_solidus, stable_time_step_media,
};
pub use catalogue::{ProbeCatalogue, ProbeClass, ReferenceIsotherm};
pub use error::CryoError;
pub use isotherm::{IsothermExtent, isotherm_extent, isotherm_mask, probe_axis};
pub use medium::{BLOOD_HEAT_CAPACITY_J_PER_M3_K, Medium, TissueMap};
pub use probe::{PlacedProbe, probe_sources, validate_probes};
pub use surrogate::{SurrogateLibrary, SurrogateModel};

use cryoseed_core::Celsius;
use cryoseed_core::protocol::FreezeThawPhase;
use cryoseed_volume::Grid;

/// Simulates a freeze–thaw sequence (e.g. `protocol.cryo.freeze_thaw("10-8-10").phases`) with
/// `probes` on `grid`: validates the probes ([`validate_probes`]), holds each active segment at
/// its class's surface temperature (else `protocol_surface_temperature`) during freezes, and
/// solves [`solve_pennes_enthalpy`].
pub fn simulate_freeze_thaw(
    grid: &Grid,
    probes: &[PlacedProbe],
    phases: &[FreezeThawPhase],
    protocol_surface_temperature: Celsius,
    config: &BioheatConfig,
) -> Result<BioheatResult, CryoError> {
    if probes.is_empty() {
        return Err(CryoError::NoSource);
    }
    validate_probes(probes, grid)?;
    let sources = probe_sources(probes, grid, protocol_surface_temperature);
    solve_pennes_enthalpy(grid, &sources, phases, config)
}

/// [`simulate_freeze_thaw`] with solver options: a chosen time step and, for a case with several
/// organs, a medium per voxel ([`TissueMap::from_organs`]).
pub fn simulate_freeze_thaw_with(
    grid: &Grid,
    probes: &[PlacedProbe],
    phases: &[FreezeThawPhase],
    protocol_surface_temperature: Celsius,
    config: &BioheatConfig,
    options: &SolverOptions,
) -> Result<BioheatResult, CryoError> {
    if probes.is_empty() {
        return Err(CryoError::NoSource);
    }
    validate_probes(probes, grid)?;
    let sources = probe_sources(probes, grid, protocol_surface_temperature);
    solve_pennes_enthalpy_with(grid, &sources, phases, config, options)
}
