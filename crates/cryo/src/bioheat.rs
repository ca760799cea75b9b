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
//! since), and a homogeneous run never takes it.
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
//! Speed (issue 4 asks ≤ 30 s for a 10-8-10 cycle with three probes on a 100³ 1 mm grid; this
//! scheme took about 80 s on the 2-core machine before the kernel changes above, see
//! `BENCHMARKS.md`). Profiling before them (perf, the
//! benchmark scenario): the time is spread evenly over the ≈ 11 800 steps of the whole grid, at
//! about 10 ns of one core per voxel and step; the active box stops helping after about a
//! hundred steps because the explicit update moves the cold's (numerically tiny) influence one
//! voxel per step, and physically the perfused liver 30 mm from the ice is still several
//! degrees below 37 °C at the end, so no threshold could shrink the box much either. What was
//! tried and not kept: an implicit scheme, the linear relaxation ("nonlinear Chernoff") method
//! with three locally one-dimensional tridiagonal sweeps per step, unconditionally stable in
//! the maximum norm, 1 s steps (1 680 for the cycle). With the medium's smallest dH/dT as
//! relaxation constant a step cost about three explicit steps (2.3 times less CPU for the
//! benchmark) but the front lagged Neumann's by 0.7 mm at 10 min (tolerance 0.5 mm) and the
//! benchmark's ice ball was 5 % smaller in volume. With a per-voxel secant guess and an
//! acceptance test (still a proven maximum principle) it met Neumann in 1-D, but the 3-D ice
//! ball stayed 4–6 % smaller (first-order splitting error around the probe, absent in 1-D) and
//! the re-solves and extra passes made it 1.8 times slower than this scheme; the divisions of
//! the tridiagonal solves dominated its profile. RKL2
//! super-time-stepping was not tried: its stages are not convex combinations, so it has no
//! maximum principle at the non-linear ice front.

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
    /// The largest time step used, s (each phase is divided into equal steps not above it).
    pub time_step_s: f64,
    /// Number of time steps.
    pub steps: usize,
}

/// The largest stable explicit time step, s: `1 / (2·α_max·Σ 1/h_i² + ω·C_b/C_min)` (see the
/// module documentation), with h in metres.
pub fn stable_time_step(grid: &Grid, medium: &Medium) -> f64 {
    let sum_inv_h2: f64 = grid.spacing_mm().iter().map(|h| 1.0 / (h * 1e-3).powi(2)).sum();
    let perfusion = medium.perfusion_per_s * medium.blood_heat_capacity_j_per_m3_k / medium.min_heat_capacity();
    1.0 / (2.0 * medium.max_diffusivity() * sum_inv_h2 + perfusion)
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
    /// Largest time step, s; the solver uses the smaller of it and the stability bound
    /// ([`stable_time_step`] × [`TIME_STEP_SAFETY`]), so it can only make a run more accurate.
    pub time_step_s: Option<f64>,
    /// The medium of each voxel; `None` for `config.medium` everywhere. When given, it replaces
    /// `config.medium` and must be on the simulation grid.
    pub tissue: Option<TissueMap>,
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

    let (mut state, stable): (Box<dyn Stepper + '_>, f64) = match &options.tissue {
        None => (Box::new(State::new(grid, sources, &medium, config.baseline)), stable_time_step(grid, &medium)),
        Some(map) => (
            Box::new(MixedState::new(grid, sources, map, config.baseline.0)),
            stable_time_step_media(grid, map.media()),
        ),
    };
    let dt_max = (TIME_STEP_SAFETY * stable).min(options.time_step_s.unwrap_or(f64::INFINITY));
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
    })
}

/// One explicit step at a time, homogeneous ([`State`]) or with several media ([`MixedState`]).
trait Stepper {
    fn step(&mut self, dt: f64, cooling: bool);
    fn temperature_field(&self) -> Field<f32>;
    fn min_temperature(&self) -> Vec<f32>;
}

impl Stepper for State<'_> {
    fn step(&mut self, dt: f64, cooling: bool) {
        State::step(self, dt, cooling);
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

/// The solver's state: enthalpy (updated in place), Kirchhoff potential (double-buffered),
/// lowest temperature so far, and the source of each voxel.
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
}

impl<'a> State<'a> {
    fn new(grid: &'a Grid, sources: &[ColdSource], medium: &'a Medium, baseline: Celsius) -> State<'a> {
        let n = grid.len();
        let mut source_of = vec![0u16; n];
        let mut sources_box = VoxelRange::EMPTY;
        let mut source_state = Vec::with_capacity(sources.len());
        for (s, source) in sources.iter().enumerate() {
            let t = source.temperature.0;
            source_state.push((medium.enthalpy(t) - medium.enthalpy(baseline.0), medium.kirchhoff(t) as f32, t));
            let id = u16::try_from(s + 1).unwrap_or(u16::MAX);
            for ijk in source.voxels.voxels() {
                source_of[grid.index(ijk)] = id;
                sources_box.include(ijk);
            }
        }
        let baseline_phi = medium.kirchhoff(baseline.0) as f32;
        let baseline_enthalpy = medium.enthalpy(baseline.0);
        let dims = grid.dims();
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
        }
    }

    fn temperature_field(&self) -> Field<f32> {
        let data =
            self.enthalpy.par_iter().map(|&h| self.medium.temperature(self.baseline_enthalpy + h) as f32).collect();
        Field::from_vec(*self.grid, data).expect("same grid")
    }

    fn step(&mut self, dt: f64, cooling: bool) {
        let dims = self.grid.dims();
        let [nx, ny, nz] = dims;
        let plane = nx * ny;
        let kernel = Kernel {
            tables: self.medium.tables(),
            inv_h2: self.grid.spacing_mm().map(|h| 1.0 / (h * 1e-3).powi(2)),
            dt,
            perfusion: self.medium.perfusion_per_s * self.medium.blood_heat_capacity_j_per_m3_k,
            baseline: self.baseline,
            baseline_enthalpy: self.baseline_enthalpy,
        };
        let VoxelRange { lo, hi } = self.active;
        let slabs = lo[2] * plane..(hi[2] + 1) * plane;
        let phi = &self.phi;
        let changed = (
            self.phi_next[slabs.clone()].par_chunks_mut(plane),
            self.enthalpy[slabs.clone()].par_chunks_mut(plane),
            self.min_temperature[slabs].par_chunks_mut(plane),
        )
            .into_par_iter()
            .enumerate()
            .map(|(dz, (phi_next, enthalpy, min_temperature))| {
                let z = lo[2] + dz;
                let mut changed = VoxelRange::EMPTY;
                for y in lo[1]..=hi[1] {
                    let local = nx * y;
                    let g = local + plane * z;
                    // Insulated outer faces: a missing neighbour row is the row itself (no flux).
                    let centre = &phi[g..g + nx];
                    let south = if y > 0 { &phi[g - nx..g] } else { centre };
                    let north = if y + 1 < ny { &phi[g + nx..g + 2 * nx] } else { centre };
                    let below = if z > 0 { &phi[g - plane..g - plane + nx] } else { centre };
                    let above = if z + 1 < nz { &phi[g + plane..g + plane + nx] } else { centre };
                    let out = &mut phi_next[local..local + nx];
                    let h = &mut enthalpy[local..local + nx];
                    let m = &mut min_temperature[local..local + nx];
                    // Interior voxels first, on slices of one common length so that the loop
                    // has no bounds checks and can vectorise; then the two x faces, whose
                    // missing neighbour is the voxel itself (no flux).
                    let (x0, x1) = (lo[0].max(1), hi[0].min(nx.saturating_sub(2)));
                    if x0 <= x1 {
                        let n = x1 - x0 + 1;
                        let (c, w, e) = (&centre[x0..x0 + n], &centre[x0 - 1..x0 - 1 + n], &centre[x0 + 1..x0 + 1 + n]);
                        let (s, no, b, a) =
                            (&south[x0..x0 + n], &north[x0..x0 + n], &below[x0..x0 + n], &above[x0..x0 + n]);
                        let (hh, oo, mm) = (&mut h[x0..x0 + n], &mut out[x0..x0 + n], &mut m[x0..x0 + n]);
                        // A local copy: its constants are then known not to alias the outputs.
                        let local_kernel = kernel;
                        for k in 0..n {
                            let neighbours = [w[k], e[k], s[k], no[k], b[k], a[k]];
                            (hh[k], oo[k], mm[k]) = local_kernel.update(c[k], neighbours, hh[k], mm[k]);
                        }
                    }
                    for x in [lo[0], hi[0]] {
                        if x == 0 || x == nx - 1 {
                            let neighbours = [
                                centre[x.saturating_sub(1)],
                                centre[(x + 1).min(nx - 1)],
                                south[x],
                                north[x],
                                below[x],
                                above[x],
                            ];
                            (h[x], out[x], m[x]) = kernel.update(centre[x], neighbours, h[x], m[x]);
                        }
                    }
                    let row = &h[lo[0]..=hi[0]];
                    if let (Some(first), Some(last)) =
                        (row.iter().position(|&e| e != 0.0), row.iter().rposition(|&e| e != 0.0))
                    {
                        changed.include([lo[0] + first, y, z]);
                        changed.include([lo[0] + last, y, z]);
                    }
                }
                changed
            })
            .reduce(|| VoxelRange::EMPTY, VoxelRange::union);
        if cooling {
            // Sources are Dirichlet voxels: whatever the update computed there is replaced. The
            // update is monotone, so it never went below the source temperature and the minimum
            // is not disturbed.
            for &(i, source) in &self.source_voxels {
                let (h, p, t) = self.source_state[usize::from(source) - 1];
                self.enthalpy[i] = h;
                self.phi_next[i] = p;
                self.min_temperature[i] = self.min_temperature[i].min(t as f32);
            }
        }
        std::mem::swap(&mut self.phi, &mut self.phi_next);
        self.active = self.active.union(changed.union(self.sources_box).grown(dims));
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
