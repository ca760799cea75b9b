//! The 3-D Pennes bioheat equation with phase change, solved by the explicit enthalpy method.
//!
//! ∂H/∂t = ∇·(k(T)∇T) + ω·φ(T)·C_b·(T_a − T)      (Pennes 1948, Eq. 1, with H the volumetric
//! enthalpy of the phase-change model of [`Medium`] and φ the liquid fraction)
//!
//! Discretisation: cell-centred finite volumes on the [`Grid`] (7-point stencil), conduction
//! written with the Kirchhoff potential Φ(T) = ∫k dT, so the flux through a face is
//! `(Φ_n − Φ_c)/h`; forward Euler in time for H. The outer faces of the grid are insulated (zero
//! flux), which also makes them planes of mirror symmetry.
//!
//! Stability: the update is monotone (a convex combination of neighbour states in Φ) when
//! `dt ≤ 1 / (2·α_max·Σ 1/h_i² + ω·C_b/C_min)`, where α_max = max dΦ/dH = max k/C_eff (the frozen
//! diffusivity k_f/C_f for tissue) and C_min the smallest dH/dT ([`stable_time_step`]); the
//! solver uses 0.95 of it. For isotropic spacing and no perfusion this is the classical CFL bound
//! `dt ≤ h²/(6·α_max)`. On a 1 mm grid with the protocol's tissue, dt ≈ 0.14 s.
//!
//! Multirate stepping (homogeneous runs; [`SolverOptions::single_rate`] turns it off). Only
//! frozen tissue needs that step: at or above the solidus dΦ/dH is at most
//! α_u = max(k_u/C_u, k_max/C_mushy), 8 times smaller in liver, so the bound
//! [`stable_time_step_above_solidus`] is ≈ 1.1 s. Each step of Δt (0.95 of that bound) is done as:
//!
//! 1. The *fine* region: the voxels below the solidus and, in a freeze, the probe voxels, grown by
//!    two voxels in x, y and z (stored as one x range per row). It is advanced by M forward-Euler
//!    sub-steps of δt = Δt/M (M = 8 in liver, δt ≤ the single-rate bound), its *coarse*
//!    neighbours held at their values at the start of the step; the mean Φ̄ of each fine voxel
//!    over the M sub-steps (Φ at the start of each) is kept.
//! 2. The coarse region (everything else in the active box) takes one forward-Euler step of Δt,
//!    exchanging with each fine neighbour the flux `(Φ̄_f − Φ_c)/h²`.
//!
//! Conservation: the fine voxel's M sub-step fluxes across a fine–coarse face sum to
//! `Δt·(Φ_c − Φ̄_f)/h²`, exactly what the coarse voxel receives with the opposite sign, so heat is
//! conserved across the region's edge (tested with a passive thaw). Stability, in the maximum
//! norm: every sub-step is the single-rate update under its bound (its held neighbours are values
//! within the bounds), so the fine region keeps the maximum principle. A coarse voxel is at or
//! above the solidus (the fine region holds everything below it); its update is
//! `H_c + Δt·Σ w·(Φ_n − Φ_c)` with every Φ_n either a coarse value or a fine Φ̄. If all those
//! values are at or above Φ(T_s), the secant slope of Φ(H) between H_c and any of them is at most
//! α_u, so under Δt's bound the update is again a convex combination, bounded by the extremes of
//! its inputs (the perfusion term is handled as in the single-rate bound, with C_u). The solver
//! checks that condition after the sub-steps, at every fine voxel with a coarse neighbour; if it
//! fails, the fine region is restored and the step is redone as M single-rate steps of δt
//! (counted in [`BioheatResult::fallback_steps`]; rare, since the ice front advances far less
//! than the two-voxel margin in one 1.1 s step: one of the benchmark's 1 476 steps, presumably
//! where the second freeze starts next to thawed tissue just above the solidus, and none in the
//! tests). So every step is monotone and bounded whatever happens: no temperature leaves
//! [min(probe, initial), max(initial, arterial)]. Accuracy: coarse voxels use the larger step
//! (first order in time, like the fine ones) and the fine region's edge sees its coarse neighbours
//! frozen for one step (first order too); against single-rate stepping, isotherm volumes of a
//! three-probe freeze–thaw differ by at most 0.05 % and minimum temperatures by at most 0.06 °C
//! (`tests/it/multirate.rs`, tolerances 0.5 % and 0.5 °C), and the validation tests (Neumann,
//! grid refinement, the measured rows) keep their tolerances.
//!
//! Cold sources (probe surfaces) are Dirichlet voxels during freeze phases; during a passive thaw
//! they are ordinary medium (their enthalpy evolves from the probe temperature).
//!
//! Work is confined to an *active box*: the bounding box of every voxel whose state ever left the
//! baseline, grown by one voxel. Outside it every voxel and its neighbours are at baseline, so the
//! update there is exactly zero and skipping it changes nothing. The box grows monotonically.
//! Slabs of constant z are updated in parallel (rayon); each voxel's new value depends only on
//! the previous step, so results do not depend on scheduling.
//!
//! Several media ([`solve_pennes_enthalpy_with`] with a [`TissueMap`], e.g. per organ from the
//! protocol): each voxel keeps its own medium's enthalpy, temperature and Kirchhoff potential;
//! a face between two media carries one flux computed from the mean of their Kirchhoff
//! potentials, monotone and conservative, under the bound of [`stable_time_step_media`]. This
//! path is a plain scalar loop (1.7 times the CPU time of the homogeneous one on the benchmark
//! scenario with half the grid lung before the homogeneous kernel was made to vectorise, more
//! since), and a homogeneous run never takes it. It is single-rate.
//!
//! The homogeneous kernel stores Φ in f32 and the enthalpy as an f64 offset from the
//! baseline's (exactly 0 where nothing changed, which is what the active box tracks); the
//! Laplacian, the enthalpy update and the phase-change inversions are computed in f64. The
//! inversions are written as sums of clamped pieces (`min`/`max`, no branch), and the kernel's
//! constants are copied next to each row loop so that the compiler vectorises it. Together this
//! took the CPU time of a 2-minute freeze of the benchmark scenario down 2.3 times (Φ in f32 alone 1.4 times: the
//! loop was then memory-bound). Rounding Φ to f32 changes it by at most 6e-8 of its value, the
//! equivalent of ≈ 1e-6 K, and rounding to nearest is monotone, so the update is still a
//! monotone scheme under the same time step; the isotherm volumes of a 2-minute freeze of the
//! benchmark scenario are unchanged to the voxel.
//!
//! Speed (issue 4 asks ≤ 30 s for a 10-8-10 cycle with three probes on a 100³ 1 mm grid). The
//! single-rate scheme needs ≈ 11 800 steps of 0.142 s over the whole grid (the active box covers
//! it after about a hundred steps: the perfused liver 30 mm from the ice is still several degrees
//! below 37 °C at the end), at 7.5–10 ns of one core per voxel and step. Multirate stepping does
//! 1 476 steps of 1.14 s, sub-stepping only the ice and its edge: on the benchmark scenario,
//! binaries run back to back under a load average of 9–10, 119.6 s CPU single-rate against
//! 50.0 s multirate (2.4 times less; 2.8 times less wall time), isotherm volumes 140 208 /
//! 73 528 / 40 606 voxels single-rate against 140 210 / 73 528 / 40 606 (one step of the 1 476
//! was redone single-rate). See `BENCHMARKS.md`.
//!
//! Tried and not kept: an implicit scheme, the linear relaxation ("nonlinear Chernoff") method
//! with three locally one-dimensional tridiagonal sweeps per 1 s step, unconditionally stable in
//! the maximum norm. With the medium's smallest dH/dT as relaxation constant the front lagged
//! Neumann's by 0.7 mm at 10 min (tolerance 0.5 mm) and the benchmark's ice ball was 5 % smaller;
//! with a per-voxel secant guess and an acceptance test it met Neumann in 1-D, but the 3-D ice
//! ball stayed 4–6 % smaller (splitting error around the probe) and it was 1.8 times slower than
//! the explicit scheme. RKL2 super-time-stepping was not tried: its stages are not convex
//! combinations, so it has no maximum principle at the non-linear ice front, whereas the
//! multirate scheme keeps the explicit scheme's.

use crate::medium::PhaseTables;
use crate::{CryoError, Medium, TissueMap};
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes};
use cryoseed_volume::{Field, Grid, Mask};
use rayon::prelude::*;

/// A set of voxels held at a temperature during freeze phases (a probe's active segment, or the
/// cold face of a validation slab).
#[derive(Clone, Debug)]
pub struct ColdSource {
    /// The voxels.
    pub voxels: Mask,
    /// Their temperature during a freeze.
    pub temperature: Celsius,
}

/// Inputs of a bioheat simulation besides geometry and sequence.
#[derive(Clone, Debug)]
pub struct BioheatConfig {
    /// The medium (homogeneous over the grid).
    pub medium: Medium,
    /// Initial temperature of the medium and temperature of arterial blood (37 °C in the body).
    pub baseline: Celsius,
    /// Times, from the start of the first phase, at which to keep the temperature field.
    pub snapshot_times: Vec<Minutes>,
}

impl BioheatConfig {
    /// Body temperature, °C: the baseline of tissue simulations.
    pub const BODY_TEMPERATURE: Celsius = Celsius(37.0);
}

/// The temperature field at one time.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Time from the start of the first phase.
    pub time: Minutes,
    /// Temperature, °C.
    pub temperature: Field<f32>,
}

/// What a bioheat simulation returns.
#[derive(Clone, Debug)]
pub struct BioheatResult {
    /// Lowest temperature each voxel reached during the whole sequence, °C (what determines
    /// cell death).
    pub min_temperature: Field<f32>,
    /// Temperature at the end of the sequence, °C.
    pub final_temperature: Field<f32>,
    /// The requested snapshots, in time order.
    pub snapshots: Vec<Snapshot>,
    /// The largest time step used, s (each phase is divided into equal steps not above it; with
    /// multirate stepping, the step of the unfrozen tissue, the ice taking [`BioheatResult::substeps`]
    /// sub-steps of it).
    pub time_step_s: f64,
    /// Number of time steps.
    pub steps: usize,
    /// Sub-steps of each time step in and around the ice (module documentation): 1 for a
    /// single-rate run.
    pub substeps: usize,
    /// Multirate steps that were redone single-rate because the interface condition failed
    /// (module documentation).
    pub fallback_steps: usize,
}

/// The largest stable explicit time step, s: `1 / (2·α_max·Σ 1/h_i² + ω·C_b/C_min)` (see the
/// module documentation), with h in metres.
pub fn stable_time_step(grid: &Grid, medium: &Medium) -> f64 {
    let sum_inv_h2: f64 = grid.spacing_mm().iter().map(|h| 1.0 / (h * 1e-3).powi(2)).sum();
    let perfusion = medium.perfusion_per_s * medium.blood_heat_capacity_j_per_m3_k / medium.min_heat_capacity();
    1.0 / (2.0 * medium.max_diffusivity() * sum_inv_h2 + perfusion)
}

/// [`stable_time_step`] for a medium at or above its solidus (unfrozen or mushy): the bound of
/// the coarse step of a multirate step, `1 / (2·α_u·Σ 1/h_i² + ω·C_b/C_u)` with α_u and C_u the
/// largest dΦ/dH and the smallest dH/dT at or above the solidus.
pub fn stable_time_step_above_solidus(grid: &Grid, medium: &Medium) -> f64 {
    let sum_inv_h2: f64 = grid.spacing_mm().iter().map(|h| 1.0 / (h * 1e-3).powi(2)).sum();
    let perfusion =
        medium.perfusion_per_s * medium.blood_heat_capacity_j_per_m3_k / medium.min_heat_capacity_above_solidus();
    1.0 / (2.0 * medium.max_diffusivity_above_solidus() * sum_inv_h2 + perfusion)
}

/// Fraction of [`stable_time_step`] actually used.
pub const TIME_STEP_SAFETY: f64 = 0.95;

#[derive(Clone, Copy, Debug)]
struct VoxelRange {
    lo: [usize; 3],
    hi: [usize; 3],
}

impl VoxelRange {
    const EMPTY: VoxelRange = VoxelRange { lo: [usize::MAX; 3], hi: [0; 3] };

    fn is_empty(&self) -> bool {
        self.lo[0] > self.hi[0]
    }

    fn include(&mut self, p: [usize; 3]) {
        self.lo = std::array::from_fn(|a| self.lo[a].min(p[a]));
        self.hi = std::array::from_fn(|a| self.hi[a].max(p[a]));
    }

    fn union(self, other: VoxelRange) -> VoxelRange {
        if self.is_empty() {
            return other;
        }
        if other.is_empty() {
            return self;
        }
        VoxelRange {
            lo: std::array::from_fn(|a| self.lo[a].min(other.lo[a])),
            hi: std::array::from_fn(|a| self.hi[a].max(other.hi[a])),
        }
    }

    fn grown(self, dims: [usize; 3]) -> VoxelRange {
        if self.is_empty() {
            return self;
        }
        VoxelRange {
            lo: std::array::from_fn(|a| self.lo[a].saturating_sub(1)),
            hi: std::array::from_fn(|a| (self.hi[a] + 1).min(dims[a] - 1)),
        }
    }
}

/// Solves the Pennes bioheat equation with phase change on `grid` through `phases`: each freeze
/// holds every source at its temperature, each thaw leaves the sources passive.
///
/// Errors: no source voxel, an empty or non-positive sequence, a snapshot outside the sequence.
pub fn solve_pennes_enthalpy(
    grid: &Grid,
    sources: &[ColdSource],
    phases: &[FreezeThawPhase],
    config: &BioheatConfig,
) -> Result<BioheatResult, CryoError> {
    solve_pennes_enthalpy_with(grid, sources, phases, config, &SolverOptions::default())
}

/// Solver choices beyond [`BioheatConfig`]: a cap on the time step and, for a heterogeneous
/// problem, the medium of each voxel.
#[derive(Clone, Debug, Default)]
pub struct SolverOptions {
    /// Largest time step, s; the solver uses the smaller of it and the stability bounds
    /// ([`stable_time_step`] × [`TIME_STEP_SAFETY`] for the frozen region's sub-steps,
    /// [`stable_time_step_above_solidus`] × [`TIME_STEP_SAFETY`] for a multirate step), so it can
    /// only make a run more accurate; at or below the first bound the run is single-rate.
    pub time_step_s: Option<f64>,
    /// The medium of each voxel; `None` for `config.medium` everywhere. When given, it replaces
    /// `config.medium` and must be on the simulation grid.
    pub tissue: Option<TissueMap>,
    /// Step every voxel with the frozen region's step (the scheme before multirate stepping; for
    /// comparisons). A run with a [`TissueMap`] is always single-rate.
    pub single_rate: bool,
}

/// [`solve_pennes_enthalpy`] with [`SolverOptions`]: a cap on the time step and, optionally, a
/// medium per voxel (e.g. [`TissueMap::from_organs`]).
///
/// With several media the face between two voxels of different media carries the flux
/// `(Φ̄(T_n) − Φ̄(T_c))/h²`, Φ̄ = (Φ_a + Φ_b)/2 being the Kirchhoff potential of the mean of
/// the two media's conductivities: one flux for both sides (so heat is conserved across the
/// interface and the flux is continuous), increasing in T_n and decreasing in T_c (so the update
/// stays monotone). The stability bound then uses the largest conductivity over the smallest
/// dH/dT of all media ([`stable_time_step_media`]). Voxels of one medium use its own Kirchhoff
/// potential as in the homogeneous case.
///
/// Errors: as [`solve_pennes_enthalpy`], plus a non-positive time step or a tissue map on
/// another grid.
pub fn solve_pennes_enthalpy_with(
    grid: &Grid,
    sources: &[ColdSource],
    phases: &[FreezeThawPhase],
    config: &BioheatConfig,
    options: &SolverOptions,
) -> Result<BioheatResult, CryoError> {
    let medium = config.medium.validated()?;
    if let Some(map) = &options.tissue
        && map.labels().grid() != grid
    {
        return Err(CryoError::TissueMap("the tissue map is on a different grid than the simulation".into()));
    }
    if let Some(dt) = options.time_step_s
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(CryoError::Options { field: "time_step_s", message: format!("must be > 0 s, got {dt}") });
    }
    if sources.iter().all(|s| s.voxels.is_empty()) {
        return Err(CryoError::NoSource);
    }
    if phases.is_empty() {
        return Err(CryoError::Sequence("no phase".into()));
    }
    if let Some(p) = phases.iter().find(|p| !(p.minutes.0.is_finite() && p.minutes.0 > 0.0)) {
        return Err(CryoError::Sequence(format!("phase durations must be > 0 min, got {}", p.minutes)));
    }
    if !config.baseline.is_finite() {
        return Err(CryoError::Medium { field: "baseline", message: "not finite".into() });
    }
    let total = Minutes(phases.iter().map(|p| p.minutes.0).sum());
    let mut snapshot_times = config.snapshot_times.clone();
    if let Some(&time) = snapshot_times.iter().find(|t| !(t.0 >= 0.0 && t.0 <= total.0 + 1e-9)) {
        return Err(CryoError::SnapshotTime { time, total });
    }
    snapshot_times.sort_by(|a, b| a.0.total_cmp(&b.0));
    snapshot_times.dedup();

    let cap = options.time_step_s.unwrap_or(f64::INFINITY);
    let (mut state, dt_max, substeps): (Box<dyn Stepper + '_>, f64, usize) = match &options.tissue {
        None => {
            let fine = (TIME_STEP_SAFETY * stable_time_step(grid, &medium)).min(cap);
            let coarse = (TIME_STEP_SAFETY * stable_time_step_above_solidus(grid, &medium)).min(cap);
            // The sub-steps of the frozen region: as few as keep them within the bound of the
            // whole range of temperatures.
            let substeps =
                if options.single_rate { 1 } else { (coarse / fine * (1.0 - 1e-12)).ceil().max(1.0) as usize };
            let dt_max = if substeps > 1 { coarse } else { fine };
            (Box::new(State::new(grid, sources, &medium, config.baseline, substeps)), dt_max, substeps)
        }
        Some(map) => (
            Box::new(MixedState::new(grid, sources, map, config.baseline.0)),
            (TIME_STEP_SAFETY * stable_time_step_media(grid, map.media())).min(cap),
            1,
        ),
    };
    let mut snapshots = Vec::with_capacity(snapshot_times.len());
    let mut next_snapshot = 0;
    let mut take_snapshots = |state: &dyn Stepper, now_s: f64, snapshots: &mut Vec<Snapshot>| {
        while next_snapshot < snapshot_times.len() && snapshot_times[next_snapshot].to_seconds() <= now_s + 1e-6 {
            snapshots.push(Snapshot { time: snapshot_times[next_snapshot], temperature: state.temperature_field() });
            next_snapshot += 1;
        }
    };
    take_snapshots(&*state, 0.0, &mut snapshots);
    let mut steps = 0;
    let mut start_s = 0.0;
    for phase in phases {
        let end_s = start_s + phase.minutes.to_seconds();
        // Phase boundaries and snapshot times split the phase into segments of equal steps.
        let mut cuts: Vec<f64> =
            snapshot_times.iter().map(|t| t.to_seconds()).filter(|&t| t > start_s + 1e-6 && t < end_s - 1e-6).collect();
        cuts.push(end_s);
        let cooling = phase.kind == PhaseKind::Freeze;
        let mut from = start_s;
        for to in cuts {
            let n = ((to - from) / dt_max).ceil().max(1.0) as usize;
            let dt = (to - from) / n as f64;
            for _ in 0..n {
                state.step(dt, cooling);
            }
            steps += n;
            take_snapshots(&*state, to, &mut snapshots);
            from = to;
        }
        start_s = end_s;
    }
    let final_temperature = state.temperature_field();
    Ok(BioheatResult {
        min_temperature: Field::from_vec(*grid, state.min_temperature()).expect("same grid"),
        final_temperature,
        snapshots,
        time_step_s: dt_max,
        steps,
        substeps,
        fallback_steps: state.fallbacks(),
    })
}

/// One explicit step at a time, homogeneous ([`State`]) or with several media ([`MixedState`]).
trait Stepper {
    fn step(&mut self, dt: f64, cooling: bool);
    /// Multirate steps redone single-rate.
    fn fallbacks(&self) -> usize {
        0
    }
    fn temperature_field(&self) -> Field<f32>;
    fn min_temperature(&self) -> Vec<f32>;
}

impl Stepper for State<'_> {
    fn step(&mut self, dt: f64, cooling: bool) {
        self.advance(dt, cooling);
    }
    fn fallbacks(&self) -> usize {
        self.fallbacks
    }
    fn temperature_field(&self) -> Field<f32> {
        State::temperature_field(self)
    }
    fn min_temperature(&self) -> Vec<f32> {
        self.min_temperature.clone()
    }
}

/// [`stable_time_step`] for several media side by side: `1 / (2·α*·Σ 1/h_i² + max ω·C_b/C_min)`
/// with α* the largest conductivity of any medium over the smallest dH/dT of any medium, which
/// bounds dΦ/dH on both sides of every face, interfaces included (their flux uses the mean of
/// two media's conductivities).
pub fn stable_time_step_media(grid: &Grid, media: &[Medium]) -> f64 {
    let sum_inv_h2: f64 = grid.spacing_mm().iter().map(|h| 1.0 / (h * 1e-3).powi(2)).sum();
    let k_max = media
        .iter()
        .map(|m| m.conductivity_frozen_w_per_m_k.max(m.conductivity_unfrozen_w_per_m_k))
        .fold(0.0, f64::max);
    let c_min = media.iter().map(Medium::min_heat_capacity).fold(f64::INFINITY, f64::min);
    let alpha = media.iter().map(Medium::max_diffusivity).fold(k_max / c_min, f64::max);
    let perfusion = media
        .iter()
        .map(|m| m.perfusion_per_s * m.blood_heat_capacity_j_per_m3_k / m.min_heat_capacity())
        .fold(0.0, f64::max);
    1.0 / (2.0 * alpha * sum_inv_h2 + perfusion)
}

/// The state of a run with several media: each voxel's medium (label), enthalpy, temperature
/// and Kirchhoff potential in its own medium (the last two double-buffered), lowest temperature
/// so far. A plain scalar update over the active box (as [`State`]'s), with the interface flux of
/// [`solve_pennes_enthalpy_with`].
struct MixedState<'a> {
    grid: &'a Grid,
    media: &'a [Medium],
    tables: Vec<PhaseTables>,
    labels: &'a [u8],
    baseline: f64,
    enthalpy: Vec<f64>,
    temperature: Vec<f64>,
    temperature_next: Vec<f64>,
    phi: Vec<f64>,
    phi_next: Vec<f64>,
    min_temperature: Vec<f32>,
    /// Voxels held during freezes: (index, enthalpy, temperature, Φ) in their medium.
    source_voxels: Vec<(usize, f64, f64, f64)>,
    sources_box: VoxelRange,
    active: VoxelRange,
}

impl<'a> MixedState<'a> {
    fn new(grid: &'a Grid, sources: &[ColdSource], map: &'a TissueMap, baseline: f64) -> MixedState<'a> {
        let n = grid.len();
        let (media, labels) = (map.media(), map.labels().as_slice());
        let medium = |i: usize| &media[usize::from(labels[i])];
        // The last source listed wins where sources overlap.
        let mut held = vec![f64::NAN; n];
        let mut sources_box = VoxelRange::EMPTY;
        for source in sources {
            for ijk in source.voxels.voxels() {
                held[grid.index(ijk)] = source.temperature.0;
                sources_box.include(ijk);
            }
        }
        let source_voxels = (0..n)
            .filter(|&i| !held[i].is_nan())
            .map(|i| (i, medium(i).enthalpy(held[i]), held[i], medium(i).kirchhoff(held[i])))
            .collect();
        let phi: Vec<f64> = (0..n).map(|i| medium(i).kirchhoff(baseline)).collect();
        MixedState {
            grid,
            media,
            tables: media.iter().map(Medium::tables).collect(),
            labels,
            baseline,
            enthalpy: (0..n).map(|i| medium(i).enthalpy(baseline)).collect(),
            temperature: vec![baseline; n],
            temperature_next: vec![baseline; n],
            phi_next: phi.clone(),
            phi,
            min_temperature: vec![baseline as f32; n],
            source_voxels,
            sources_box,
            active: sources_box.grown(grid.dims()),
        }
    }
}

impl Stepper for MixedState<'_> {
    fn step(&mut self, dt: f64, cooling: bool) {
        let dims = self.grid.dims();
        let [nx, ny, nz] = dims;
        let plane = nx * ny;
        let inv_h2 = self.grid.spacing_mm().map(|h| 1.0 / (h * 1e-3).powi(2));
        let VoxelRange { lo, hi } = self.active;
        let slabs = lo[2] * plane..(hi[2] + 1) * plane;
        let (media, tables, labels) = (self.media, &self.tables, self.labels);
        let (phi, temperature, baseline) = (&self.phi, &self.temperature, self.baseline);
        let changed = (
            self.phi_next[slabs.clone()].par_chunks_mut(plane),
            self.temperature_next[slabs.clone()].par_chunks_mut(plane),
            self.enthalpy[slabs.clone()].par_chunks_mut(plane),
            self.min_temperature[slabs].par_chunks_mut(plane),
        )
            .into_par_iter()
            .enumerate()
            .map(|(dz, (phi_next, t_next, enthalpy, min_temperature))| {
                let z = lo[2] + dz;
                let mut changed = VoxelRange::EMPTY;
                for y in lo[1]..=hi[1] {
                    for x in lo[0]..=hi[0] {
                        let local = y * nx + x;
                        let c = z * plane + local;
                        let (a, tc) = (labels[c], temperature[c]);
                        let table = &tables[usize::from(a)];
                        // Neighbours and the 1/h² of each face; a missing neighbour (outer face)
                        // is the voxel itself: no flux.
                        let neighbours = [
                            (if x > 0 { c - 1 } else { c }, inv_h2[0]),
                            (if x + 1 < nx { c + 1 } else { c }, inv_h2[0]),
                            (if y > 0 { c - nx } else { c }, inv_h2[1]),
                            (if y + 1 < ny { c + nx } else { c }, inv_h2[1]),
                            (if z > 0 { c - plane } else { c }, inv_h2[2]),
                            (if z + 1 < nz { c + plane } else { c }, inv_h2[2]),
                        ];
                        let mut divergence = 0.0;
                        for (n, w) in neighbours {
                            let b = labels[n];
                            let flux = if a == b {
                                phi[n] - phi[c]
                            } else {
                                let other = &tables[usize::from(b)];
                                let tn = temperature[n];
                                0.5 * (table.kirchhoff(tn) + other.kirchhoff(tn)
                                    - table.kirchhoff(tc)
                                    - other.kirchhoff(tc))
                            };
                            divergence += w * flux;
                        }
                        let m = &media[usize::from(a)];
                        let perfusion = m.perfusion_per_s
                            * m.blood_heat_capacity_j_per_m3_k
                            * table.liquid_fraction(tc)
                            * (baseline - tc);
                        let dh = dt * (divergence + perfusion);
                        let h = enthalpy[local] + dh;
                        enthalpy[local] = h;
                        let (t, p) = if dh != 0.0 {
                            let t = table.temperature(h);
                            (t, table.kirchhoff(t))
                        } else {
                            (tc, phi[c])
                        };
                        t_next[local] = t;
                        phi_next[local] = p;
                        min_temperature[local] = min_temperature[local].min(t as f32);
                        if t != baseline {
                            changed.include([x, y, z]);
                        }
                    }
                }
                changed
            })
            .reduce(|| VoxelRange::EMPTY, VoxelRange::union);
        if cooling {
            for &(i, h, t, p) in &self.source_voxels {
                self.enthalpy[i] = h;
                self.temperature_next[i] = t;
                self.phi_next[i] = p;
                self.min_temperature[i] = self.min_temperature[i].min(t as f32);
            }
        }
        std::mem::swap(&mut self.phi, &mut self.phi_next);
        std::mem::swap(&mut self.temperature, &mut self.temperature_next);
        self.active = self.active.union(changed.union(self.sources_box).grown(dims));
    }

    fn temperature_field(&self) -> Field<f32> {
        Field::from_vec(*self.grid, self.temperature.iter().map(|&t| t as f32).collect()).expect("same grid")
    }

    fn min_temperature(&self) -> Vec<f32> {
        self.min_temperature.clone()
    }
}

/// An inclusive range of x along one row of voxels; empty when `.0 > .1`.
type Span = (usize, usize);

/// The empty [`Span`].
const NO_SPAN: Span = (usize::MAX, 0);

/// The smallest span holding both.
fn hull(a: Span, b: Span) -> Span {
    (a.0.min(b.0), a.1.max(b.1))
}

/// How many voxels (in x, y and z, a box) the sub-stepped region of a multirate step reaches
/// beyond the voxels below the solidus and the held sources.
const MULTIRATE_MARGIN_VOXELS: usize = 2;

/// The solver's state: enthalpy (updated in place), Kirchhoff potential (double-buffered),
/// lowest temperature so far, and the source of each voxel; for multirate steps, the voxels
/// below the solidus per row and the sub-stepped region.
struct State<'a> {
    grid: &'a Grid,
    medium: &'a Medium,
    baseline: f64,
    baseline_enthalpy: f64,
    /// Enthalpy minus the baseline's, J/m³ (exactly 0 where nothing changed).
    enthalpy: Vec<f64>,
    phi: Vec<f32>,
    phi_next: Vec<f32>,
    min_temperature: Vec<f32>,
    /// Voxels held during freezes: (index, source number + 1), in index order.
    source_voxels: Vec<(usize, u16)>,
    /// Per source: (enthalpy, Kirchhoff potential, temperature) at its temperature.
    source_state: Vec<(f64, f32, f64)>,
    sources_box: VoxelRange,
    active: VoxelRange,
    /// Sub-steps of the frozen region per step (1: single-rate, the multirate fields unused).
    substeps: usize,
    /// Per row (index y + ny·z): the x range of the voxels below the solidus after the last
    /// step.
    below_solidus: Vec<Span>,
    /// Per row: the x range of the source voxels.
    source_rows: Vec<Span>,
    /// Per row: the sub-stepped (fine) region of the current step.
    fine: Vec<Span>,
    /// Scratch for the dilation of the fine region.
    dilated: Vec<Span>,
    /// Kirchhoff potential of each fine voxel averaged over the sub-steps of one step.
    phi_mean: Vec<f32>,
    /// The fine region's enthalpy, Φ and minimum at the start of a step, to redo it.
    saved: (Vec<f64>, Vec<f32>, Vec<f32>),
    /// Steps redone single-rate because the interface condition failed.
    fallbacks: usize,
}

impl<'a> State<'a> {
    fn new(
        grid: &'a Grid,
        sources: &[ColdSource],
        medium: &'a Medium,
        baseline: Celsius,
        substeps: usize,
    ) -> State<'a> {
        let n = grid.len();
        let [nx, ny, nz] = grid.dims();
        let mut source_of = vec![0u16; n];
        let mut sources_box = VoxelRange::EMPTY;
        let mut source_state = Vec::with_capacity(sources.len());
        let rows = ny * nz;
        let mut source_rows = vec![NO_SPAN; rows];
        for (s, source) in sources.iter().enumerate() {
            let t = source.temperature.0;
            source_state.push((medium.enthalpy(t) - medium.enthalpy(baseline.0), medium.kirchhoff(t) as f32, t));
            let id = u16::try_from(s + 1).unwrap_or(u16::MAX);
            for ijk in source.voxels.voxels() {
                source_of[grid.index(ijk)] = id;
                sources_box.include(ijk);
                let row = ijk[1] + ny * ijk[2];
                source_rows[row] = hull(source_rows[row], (ijk[0], ijk[0]));
            }
        }
        let baseline_phi = medium.kirchhoff(baseline.0) as f32;
        let baseline_enthalpy = medium.enthalpy(baseline.0);
        let dims = grid.dims();
        debug_assert_eq!(nx * ny * nz, n);
        State {
            grid,
            medium,
            baseline: baseline.0,
            baseline_enthalpy,
            enthalpy: vec![0.0; n],
            phi: vec![baseline_phi; n],
            phi_next: vec![baseline_phi; n],
            min_temperature: vec![baseline.0 as f32; n],
            source_voxels: source_of.iter().enumerate().filter(|(_, s)| **s != 0).map(|(i, s)| (i, *s)).collect(),
            source_state,
            sources_box,
            active: sources_box.grown(dims),
            substeps,
            below_solidus: vec![NO_SPAN; rows],
            source_rows,
            fine: vec![NO_SPAN; rows],
            dilated: vec![NO_SPAN; rows],
            phi_mean: if substeps > 1 { vec![baseline_phi; n] } else { Vec::new() },
            saved: (Vec::new(), Vec::new(), Vec::new()),
            fallbacks: 0,
        }
    }

    fn temperature_field(&self) -> Field<f32> {
        let data =
            self.enthalpy.par_iter().map(|&h| self.medium.temperature(self.baseline_enthalpy + h) as f32).collect();
        Field::from_vec(*self.grid, data).expect("same grid")
    }

    fn kernel(&self, dt: f64) -> Kernel {
        Kernel {
            tables: self.medium.tables(),
            inv_h2: self.grid.spacing_mm().map(|h| 1.0 / (h * 1e-3).powi(2)),
            dt,
            perfusion: self.medium.perfusion_per_s * self.medium.blood_heat_capacity_j_per_m3_k,
            baseline: self.baseline,
            baseline_enthalpy: self.baseline_enthalpy,
        }
    }

    /// Sources are Dirichlet voxels: whatever the update computed there is replaced. The update
    /// is monotone, so it never went below the source temperature and the minimum is not
    /// disturbed.
    fn hold_sources(&mut self) {
        for &(i, source) in &self.source_voxels {
            let (h, p, t) = self.source_state[usize::from(source) - 1];
            self.enthalpy[i] = h;
            self.phi_next[i] = p;
            self.min_temperature[i] = self.min_temperature[i].min(t as f32);
        }
    }

    /// One step of `dt`: single-rate, or multirate with [`State::substeps`] sub-steps of the
    /// frozen region (module documentation).
    fn advance(&mut self, dt: f64, cooling: bool) {
        if self.substeps > 1 {
            self.multirate_step(dt, cooling);
        } else {
            self.single_rate_step(dt, cooling);
        }
    }

    /// One forward-Euler step of the whole active box.
    fn single_rate_step(&mut self, dt: f64, cooling: bool) {
        let kernel = self.kernel(dt);
        self.sweep(&kernel, None);
        if cooling {
            self.hold_sources();
        }
        std::mem::swap(&mut self.phi, &mut self.phi_next);
    }

    /// Updates every voxel of the active box outside `fine` (all of it when `None`) from `phi`
    /// into `phi_next`, then records, per row, the voxels that left the baseline (the active box)
    /// and, for multirate runs, those below the solidus.
    fn sweep(&mut self, kernel: &Kernel, fine: Option<&[Span]>) {
        let dims = self.grid.dims();
        let [nx, ny, _] = dims;
        let plane = nx * ny;
        let VoxelRange { lo, hi } = self.active;
        let slabs = lo[2] * plane..(hi[2] + 1) * plane;
        let track = self.substeps > 1;
        let below = self.below_solidus[lo[2] * ny..(hi[2] + 1) * ny].par_chunks_mut(ny);
        let phi = &self.phi;
        let below_threshold = -self.baseline_enthalpy;
        let changed = (
            self.phi_next[slabs.clone()].par_chunks_mut(plane),
            self.enthalpy[slabs.clone()].par_chunks_mut(plane),
            self.min_temperature[slabs].par_chunks_mut(plane),
            below,
        )
            .into_par_iter()
            .enumerate()
            .map(|(dz, (phi_next, enthalpy, min_temperature, below))| {
                let z = lo[2] + dz;
                let mut changed = VoxelRange::EMPTY;
                for y in lo[1]..=hi[1] {
                    let local = nx * y;
                    let out = &mut phi_next[local..local + nx];
                    let h = &mut enthalpy[local..local + nx];
                    let m = &mut min_temperature[local..local + nx];
                    let (a, b) = fine.map_or(NO_SPAN, |f| f[y + ny * z]);
                    if a > b {
                        update_span(kernel, phi, dims, [y, z], (lo[0], hi[0]), (&mut *out, &mut *h, &mut *m));
                    } else {
                        if a > lo[0] {
                            update_span(kernel, phi, dims, [y, z], (lo[0], a - 1), (&mut *out, &mut *h, &mut *m));
                        }
                        if b < hi[0] {
                            update_span(kernel, phi, dims, [y, z], (b + 1, hi[0]), (&mut *out, &mut *h, &mut *m));
                        }
                    }
                    let row = &h[lo[0]..=hi[0]];
                    if let (Some(first), Some(last)) =
                        (row.iter().position(|&e| e != 0.0), row.iter().rposition(|&e| e != 0.0))
                    {
                        changed.include([lo[0] + first, y, z]);
                        changed.include([lo[0] + last, y, z]);
                    }
                    if track {
                        below[y] = match (
                            row.iter().position(|&e| e < below_threshold),
                            row.iter().rposition(|&e| e < below_threshold),
                        ) {
                            (Some(first), Some(last)) => (lo[0] + first, lo[0] + last),
                            _ => NO_SPAN,
                        };
                    }
                }
                changed
            })
            .reduce(|| VoxelRange::EMPTY, VoxelRange::union);
        self.active = self.active.union(changed.union(self.sources_box).grown(dims));
    }

    /// The fine region of the next step: the voxels below the solidus (and, in a freeze, the
    /// sources) grown by [`MULTIRATE_MARGIN_VOXELS`] in x, y and z, as one x range per row (the
    /// hull of the grown rows, so a superset of the grown set). Returns its bounding box.
    fn find_fine_region(&mut self, cooling: bool) -> VoxelRange {
        let [nx, ny, nz] = self.grid.dims();
        let r = MULTIRATE_MARGIN_VOXELS;
        let seed = |row: usize| {
            if cooling { hull(self.below_solidus[row], self.source_rows[row]) } else { self.below_solidus[row] }
        };
        for z in 0..nz {
            for y in 0..ny {
                self.dilated[y + ny * z] =
                    (y.saturating_sub(r)..=(y + r).min(ny - 1)).fold(NO_SPAN, |s, yy| hull(s, seed(yy + ny * z)));
            }
        }
        let mut bounds = VoxelRange::EMPTY;
        for z in 0..nz {
            for y in 0..ny {
                let (a, b) = (z.saturating_sub(r)..=(z + r).min(nz - 1))
                    .fold(NO_SPAN, |s, zz| hull(s, self.dilated[y + ny * zz]));
                self.fine[y + ny * z] = if a > b {
                    NO_SPAN
                } else {
                    let span = (a.saturating_sub(r), (b + r).min(nx - 1));
                    bounds.include([span.0, y, z]);
                    bounds.include([span.1, y, z]);
                    span
                };
            }
        }
        bounds
    }

    /// The rows of the fine region: (row index, first voxel index, span).
    fn fine_rows(&self, bounds: VoxelRange) -> impl Iterator<Item = (usize, usize, Span)> + '_ {
        let [nx, ny, _] = self.grid.dims();
        (bounds.lo[2]..=bounds.hi[2]).flat_map(move |z| {
            (bounds.lo[1]..=bounds.hi[1]).filter_map(move |y| {
                let row = y + ny * z;
                let span = self.fine[row];
                (span.0 <= span.1).then_some((row, nx * row, span))
            })
        })
    }

    /// One multirate step of `dt` (module documentation): `substeps` forward-Euler sub-steps of
    /// the fine region with its coarse neighbours held, then one step of `dt` of the rest from
    /// the fine interface's time-averaged Φ. Redone single-rate if a fine voxel next to a coarse
    /// one averaged below the solidus (the coarse step's bound would not hold).
    fn multirate_step(&mut self, dt: f64, cooling: bool) {
        let bounds = self.find_fine_region(cooling);
        if bounds.is_empty() {
            // Nothing below the solidus and no source held: every voxel is coarse.
            let kernel = self.kernel(dt);
            self.sweep(&kernel, None);
            std::mem::swap(&mut self.phi, &mut self.phi_next);
            return;
        }
        // Every fine voxel and its neighbours inside the active box, so that fluxes across the
        // fine region's edge have both ends updated.
        self.active = self.active.union(bounds.grown(self.grid.dims()));
        self.save_fine(bounds);
        let substeps = self.substeps;
        let kernel = self.kernel(dt / substeps as f64);
        for k in 0..substeps {
            self.fine_substep(&kernel, bounds, k, cooling);
        }
        if !self.interface_above_solidus(bounds) {
            self.restore_fine(bounds);
            for _ in 0..substeps {
                self.single_rate_step(dt / substeps as f64, cooling);
            }
            self.fallbacks += 1;
            return;
        }
        // phi_next holds the fine region's new Φ; phi takes its mean, which the coarse voxels
        // next to it exchange heat with.
        let fine: Vec<(usize, usize, Span)> = self.fine_rows(bounds).collect();
        for &(_, start, (a, b)) in &fine {
            self.phi[start + a..=start + b].copy_from_slice(&self.phi_mean[start + a..=start + b]);
        }
        let kernel = self.kernel(dt);
        let fine_spans = std::mem::take(&mut self.fine);
        self.sweep(&kernel, Some(&fine_spans));
        self.fine = fine_spans;
        std::mem::swap(&mut self.phi, &mut self.phi_next);
    }

    /// Sub-step `k` of the fine region: accumulates the mean of Φ over the sub-steps, updates Φ
    /// into `phi_next`, holds the sources, and (except after the last sub-step) copies the fine
    /// region back into `phi`.
    fn fine_substep(&mut self, kernel: &Kernel, bounds: VoxelRange, k: usize, cooling: bool) {
        let dims = self.grid.dims();
        let [nx, ny, _] = dims;
        let plane = nx * ny;
        let slabs = bounds.lo[2] * plane..(bounds.hi[2] + 1) * plane;
        let inv_substeps = 1.0 / self.substeps as f32;
        let (phi, fine) = (&self.phi, &self.fine);
        (
            self.phi_next[slabs.clone()].par_chunks_mut(plane),
            self.enthalpy[slabs.clone()].par_chunks_mut(plane),
            self.min_temperature[slabs.clone()].par_chunks_mut(plane),
            self.phi_mean[slabs].par_chunks_mut(plane),
        )
            .into_par_iter()
            .enumerate()
            .for_each(|(dz, (phi_next, enthalpy, min_temperature, mean))| {
                let z = bounds.lo[2] + dz;
                for y in bounds.lo[1]..=bounds.hi[1] {
                    let (a, b) = fine[y + ny * z];
                    if a > b {
                        continue;
                    }
                    let local = nx * y;
                    let g = local + plane * z;
                    let (current, mean_row) = (&phi[g + a..=g + b], &mut mean[local + a..=local + b]);
                    if k == 0 {
                        mean_row.iter_mut().zip(current).for_each(|(m, &p)| *m = p * inv_substeps);
                    } else {
                        mean_row.iter_mut().zip(current).for_each(|(m, &p)| *m += p * inv_substeps);
                    }
                    let rows = (
                        &mut phi_next[local..local + nx],
                        &mut enthalpy[local..local + nx],
                        &mut min_temperature[local..local + nx],
                    );
                    update_span(kernel, phi, dims, [y, z], (a, b), rows);
                }
            });
        if cooling {
            self.hold_sources();
        }
        if k + 1 < self.substeps {
            let (phi, phi_next, fine) = (&mut self.phi, &self.phi_next, &self.fine);
            phi[bounds.lo[2] * plane..(bounds.hi[2] + 1) * plane].par_chunks_mut(plane).enumerate().for_each(
                |(dz, slab)| {
                    let z = bounds.lo[2] + dz;
                    for y in bounds.lo[1]..=bounds.hi[1] {
                        let (a, b) = fine[y + ny * z];
                        if a <= b {
                            let (local, g) = (nx * y, nx * y + plane * z);
                            slab[local + a..=local + b].copy_from_slice(&phi_next[g + a..=g + b]);
                        }
                    }
                },
            );
        }
    }

    /// Whether every fine voxel with a coarse neighbour has a mean Φ at or above Φ(solidus):
    /// the condition under which the coarse step is monotone (module documentation).
    fn interface_above_solidus(&self, bounds: VoxelRange) -> bool {
        let [nx, ny, nz] = self.grid.dims();
        let floor = self.medium.kirchhoff(self.medium.solidus.0) as f32;
        let below =
            |start: usize, from: usize, to: usize| self.phi_mean[start + from..=start + to].iter().any(|&p| p < floor);
        for (row, start, (a, b)) in self.fine_rows(bounds) {
            let (y, z) = (row % ny, row / ny);
            if (a > 0 && below(start, a, a)) || (b + 1 < nx && below(start, b, b)) {
                return false;
            }
            let neighbours = [
                (y > 0).then(|| row - 1),
                (y + 1 < ny).then(|| row + 1),
                (z > 0).then(|| row - ny),
                (z + 1 < nz).then(|| row + ny),
            ];
            for (c, d) in neighbours.into_iter().flatten().map(|n| self.fine[n]) {
                // The part of [a, b] outside the neighbour row's span [c, d] faces coarse voxels.
                if c > d {
                    if below(start, a, b) {
                        return false;
                    }
                    continue;
                }
                if a < c && below(start, a, b.min(c - 1)) {
                    return false;
                }
                if b > d && below(start, a.max(d + 1), b) {
                    return false;
                }
            }
        }
        true
    }

    fn save_fine(&mut self, bounds: VoxelRange) {
        let (mut h, mut p, mut m) = std::mem::take(&mut self.saved);
        h.clear();
        p.clear();
        m.clear();
        for (_, start, (a, b)) in self.fine_rows(bounds) {
            let range = start + a..=start + b;
            h.extend_from_slice(&self.enthalpy[range.clone()]);
            p.extend_from_slice(&self.phi[range.clone()]);
            m.extend_from_slice(&self.min_temperature[range]);
        }
        self.saved = (h, p, m);
    }

    fn restore_fine(&mut self, bounds: VoxelRange) {
        let (h, p, m) = std::mem::take(&mut self.saved);
        let mut at = 0;
        let rows: Vec<(usize, usize, Span)> = self.fine_rows(bounds).collect();
        for (_, start, (a, b)) in rows {
            let (range, len) = (start + a..=start + b, b - a + 1);
            self.enthalpy[range.clone()].copy_from_slice(&h[at..at + len]);
            self.phi[range.clone()].copy_from_slice(&p[at..at + len]);
            self.min_temperature[range].copy_from_slice(&m[at..at + len]);
            at += len;
        }
        self.saved = (h, p, m);
    }
}

/// Updates the voxels `x0..=x1` of row `[y, z]` from `phi` (the whole grid): new Φ into `rows.0`,
/// enthalpy and minimum in place in `rows.1` and `rows.2` (each the row's `nx` voxels).
fn update_span(
    kernel: &Kernel,
    phi: &[f32],
    dims: [usize; 3],
    [y, z]: [usize; 2],
    (x0, x1): Span,
    rows: (&mut [f32], &mut [f64], &mut [f32]),
) {
    let [nx, ny, nz] = dims;
    let plane = nx * ny;
    let g = nx * y + plane * z;
    let (out, h, m) = rows;
    // Insulated outer faces: a missing neighbour row is the row itself (no flux).
    let centre = &phi[g..g + nx];
    let south = if y > 0 { &phi[g - nx..g] } else { centre };
    let north = if y + 1 < ny { &phi[g + nx..g + 2 * nx] } else { centre };
    let below = if z > 0 { &phi[g - plane..g - plane + nx] } else { centre };
    let above = if z + 1 < nz { &phi[g + plane..g + plane + nx] } else { centre };
    // Interior voxels first, on slices of one common length so that the loop has no bounds
    // checks and can vectorise; then the two x faces, whose missing neighbour is the voxel
    // itself (no flux).
    let (i0, i1) = (x0.max(1), x1.min(nx.saturating_sub(2)));
    if i0 <= i1 {
        let n = i1 - i0 + 1;
        let (c, w, e) = (&centre[i0..i0 + n], &centre[i0 - 1..i0 - 1 + n], &centre[i0 + 1..i0 + 1 + n]);
        let (s, no, b, a) = (&south[i0..i0 + n], &north[i0..i0 + n], &below[i0..i0 + n], &above[i0..i0 + n]);
        let (hh, oo, mm) = (&mut h[i0..i0 + n], &mut out[i0..i0 + n], &mut m[i0..i0 + n]);
        // A local copy: its constants are then known not to alias the outputs.
        let local_kernel = *kernel;
        for k in 0..n {
            let neighbours = [w[k], e[k], s[k], no[k], b[k], a[k]];
            (hh[k], oo[k], mm[k]) = local_kernel.update(c[k], neighbours, hh[k], mm[k]);
        }
    }
    let faces = if x0 == x1 { [Some(x0), None] } else { [Some(x0), Some(x1)] };
    for x in faces.into_iter().flatten() {
        if x == 0 || x == nx - 1 {
            let neighbours =
                [centre[x.saturating_sub(1)], centre[(x + 1).min(nx - 1)], south[x], north[x], below[x], above[x]];
            (h[x], out[x], m[x]) = kernel.update(centre[x], neighbours, h[x], m[x]);
        }
    }
}

/// Constants of one explicit step.
#[derive(Clone, Copy)]
struct Kernel {
    tables: PhaseTables,
    inv_h2: [f64; 3],
    dt: f64,
    perfusion: f64,
    baseline: f64,
    baseline_enthalpy: f64,
}

impl Kernel {
    /// One voxel's forward-Euler enthalpy update (module documentation), written without
    /// data-dependent jumps: from Φ of the voxel and its six neighbours (−x, +x, −y, +y, −z, +z),
    /// its enthalpy and its minimum so far, returns its new enthalpy, Φ and minimum.
    #[inline(always)]
    fn update(&self, pc: f32, neighbours: [f32; 6], stored: f64, min: f32) -> (f64, f32, f32) {
        let [w, e, s, n, b, a] = neighbours.map(f64::from);
        let p = f64::from(pc);
        let laplacian = (w + e - 2.0 * p) * self.inv_h2[0]
            + (s + n - 2.0 * p) * self.inv_h2[1]
            + (b + a - 2.0 * p) * self.inv_h2[2];
        let t_old = self.tables.temperature(self.baseline_enthalpy + stored);
        let perfusion = self.perfusion * self.tables.liquid_fraction(t_old) * (self.baseline - t_old);
        let dh = self.dt * (laplacian + perfusion);
        let stored_new = stored + dh;
        let t = self.tables.temperature(self.baseline_enthalpy + stored_new);
        // An unchanged voxel keeps its Φ bit for bit, so the baseline stays exactly baseline
        // (what the active box relies on).
        let phi_new = self.tables.kirchhoff(t) as f32;
        let phi = if stored_new != stored { phi_new } else { pc };
        (stored_new, phi, min.min(t as f32))
    }
}
