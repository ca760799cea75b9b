//! Probe placement: the smallest probe set whose lethal isotherm covers a target while the ice
//! edge keeps its distance from every organ at risk and stays inside an optional confinement.
//!
//! # Uses
//!
//! - Whole-lesion cryo: target = GTV + `cryo.ablative_margin_mm`, OARs at ≥
//!   `allocation.min_ice_to_oar_mm` from the 0 °C edge, no confinement.
//! - Core of a bulky lesion: target = core, confinement = GTV + `zoning.ice_edge_max_beyond_gtv_mm`,
//!   OARs at ≥ `zoning.ice_edge_min_oar_distance_mm`, lethal isotherm per
//!   `zoning.core_lethal_isotherm`.
//!
//! # Search
//!
//! Everything happens on a region of interest: the target's bounding box grown by the
//! surrogate's reach plus the largest OAR distance plus 10 mm. Probes are parallel to one axis or
//! aimed from entry points; a probe is described by its lateral position on a lattice (step
//! [`LATTICE_MM`]) in the plane perpendicular to the (mean) axis, and its active segment is
//! centred on the target's chord through that position. Candidate positions are those whose
//! segment centre lies inside the target at most `max_probe_inset` deep and whose segment lies in
//! the grid.
//!
//! For n = 1, 2, … up to `max_probes`: seed n positions by k-means over the target's projection
//! (farthest-point initialisation from the sample nearest the centroid, 30 Lloyd iterations),
//! snap them to candidates at least `min_probe_spacing` apart, then improve by coordinate descent
//! (moves of 2 and 1 lattice steps along the lattice axes, first improvement, until none
//! improves) on an objective evaluated with the surrogate on a sub-sampled set of voxels (target
//! voxels and voxels where ice could break a constraint, every `⌈2 mm / h⌉` voxels). A plan that
//! looks feasible there (no violation, coverage within 3 points of the goal) is measured on every
//! voxel; the first n meeting every constraint is returned. When none does, the plan with the
//! smallest sampled objective is measured and returned with its broken constraints.
//!
//! Objective (smaller is better): `20·V + 100·S − coverage`, where V is the sum of the constraint
//! violations in mm (ice–OAR distance short of its minimum, ice beyond the confinement, probe
//! spacing outside its range, probe deeper than the inset) and S the coverage shortfall (fraction).
//! One millimetre of ice too close to an OAR weighs as much as 20 % of target coverage, so the
//! search gives up coverage before it freezes an OAR.
//!
//! Everything is deterministic: fixed lattice, fixed visiting order, ties broken by order.

use crate::surrogate::SurrogateModel;
use crate::{BioheatConfig, CryoError, PlacedProbe, ProbeClass};
use cryoseed_core::protocol::{CryoParameters, FreezeThawPhase};
use cryoseed_core::{Celsius, Mm, PatientPoint, PatientVector};
use cryoseed_volume::{Field, Grid, Mask, distance_to, signed_distance};
use rayon::prelude::*;
use serde::Serialize;

/// Lattice step of candidate probe positions, mm.
pub const LATTICE_MM: f64 = 2.5;

/// Weight of one millimetre of constraint violation in the search objective (module docs).
const VIOLATION_WEIGHT: f64 = 20.0;

/// Version of the serialized [`ProbePlan`] layout.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// An organ at risk the ice edge must keep away from.
#[derive(Clone, Debug)]
pub struct OarConstraint {
    /// Structure name (reported).
    pub name: String,
    /// Its voxels, on the request grid.
    pub mask: Mask,
    /// Minimum distance from the ice edge (0 °C isotherm) to the OAR.
    pub min_ice_distance: Mm,
}

/// How probes are oriented.
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeDirections {
    /// All probes parallel to this direction (from the skin entry towards the tip).
    Parallel(PatientVector),
    /// Each probe aimed from the nearest of these skin entry points (patient frame).
    FromEntryPoints(Vec<PatientPoint>),
}

/// What to plan.
#[derive(Clone, Debug)]
pub struct PlacementRequest {
    /// Voxels the lethal isotherm must cover (on the request grid, which is the target's).
    pub target: Mask,
    /// OARs with their minimum ice distance.
    pub oars: Vec<OarConstraint>,
    /// Region the ice edge must stay inside, if any (e.g. GTV + 3 mm for a bulky lesion's core).
    pub confinement: Option<Mask>,
    /// Lethal isotherm (e.g. `cryo.lethal_isotherm_c`).
    pub lethal_isotherm: Celsius,
    /// Isotherm of the ice edge (0 °C).
    pub ice_edge_isotherm: Celsius,
    /// Minimum fraction of the target inside the lethal isotherm (0.95 by default).
    pub min_coverage: f64,
    /// Minimum distance between two probes.
    pub min_probe_spacing: Mm,
    /// Maximum distance from a probe to its nearest neighbour.
    pub max_probe_spacing: Mm,
    /// Maximum depth of a probe's active-segment centre inside the target.
    pub max_probe_inset: Mm,
    /// Maximum number of probes.
    pub max_probes: usize,
    /// Probe class of every probe.
    pub class: ProbeClass,
    /// Probe orientation.
    pub directions: ProbeDirections,
}

impl PlacementRequest {
    /// A request with the protocol's cryo rules (lethal isotherm, spacing, inset, maximum probes),
    /// a 0 °C ice edge, 95 % coverage, no OAR and no confinement: add those with the fields.
    pub fn from_protocol(
        cryo: &CryoParameters,
        target: Mask,
        class: ProbeClass,
        directions: ProbeDirections,
    ) -> PlacementRequest {
        PlacementRequest {
            target,
            oars: Vec::new(),
            confinement: None,
            lethal_isotherm: cryo.lethal_isotherm_c,
            ice_edge_isotherm: Celsius(0.0),
            min_coverage: 0.95,
            min_probe_spacing: cryo.min_probe_spacing_mm,
            max_probe_spacing: cryo.max_probe_spacing_mm,
            max_probe_inset: cryo.max_probe_inset_mm,
            max_probes: cryo.max_probes as usize,
            class,
            directions,
        }
    }

    fn validate(&self) -> Result<(), CryoError> {
        let err = |field: &'static str, message: String| CryoError::Placement { field, message };
        let grid = self.target.grid();
        if self.target.is_empty() {
            return Err(err("target", "the target mask is empty".into()));
        }
        for oar in &self.oars {
            if !oar.mask.grid().same_geometry(grid) {
                return Err(err("oars", format!("OAR `{}` is on another grid than the target", oar.name)));
            }
            if !(oar.min_ice_distance.0.is_finite() && oar.min_ice_distance.0 >= 0.0) {
                return Err(err("oars", format!("OAR `{}`: minimum ice distance must be >= 0 mm", oar.name)));
            }
        }
        if let Some(c) = &self.confinement {
            if !c.grid().same_geometry(grid) {
                return Err(err("confinement", "on another grid than the target".into()));
            }
            if c.is_empty() {
                return Err(err("confinement", "the confinement mask is empty".into()));
            }
        }
        if !(self.min_coverage > 0.0 && self.min_coverage <= 1.0) {
            return Err(err("min_coverage", format!("must be in (0, 1], got {}", self.min_coverage)));
        }
        if self.lethal_isotherm.0 > self.ice_edge_isotherm.0 || !self.lethal_isotherm.is_finite() {
            return Err(err(
                "lethal_isotherm",
                format!("must be at or below the ice edge ({}), got {}", self.ice_edge_isotherm, self.lethal_isotherm),
            ));
        }
        if self.max_probes == 0 {
            return Err(err("max_probes", "must be at least 1".into()));
        }
        if !(self.min_probe_spacing.0 >= 0.0 && self.max_probe_spacing.0 >= self.min_probe_spacing.0) {
            return Err(err("max_probe_spacing", "must be at least min_probe_spacing".into()));
        }
        match &self.directions {
            ProbeDirections::Parallel(v) => {
                if v.normalized().is_none() {
                    return Err(err("directions", format!("direction {:?} has no length", v.0)));
                }
            }
            ProbeDirections::FromEntryPoints(entries) => {
                if entries.is_empty() {
                    return Err(err("directions", "no entry point".into()));
                }
                if entries.iter().any(|e| e.0.iter().any(|v| !v.is_finite())) {
                    return Err(err("directions", "an entry point is not finite".into()));
                }
            }
        }
        Ok(())
    }
}

/// One planned probe (the layout of `cryoseed cryo simulate --probes`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedProbe {
    /// Probe class.
    pub class: String,
    /// Tip, patient frame, mm (rounded to 0.01 mm).
    pub tip_mm: [f64; 3],
    /// Unit direction from entry towards the tip (rounded to 1e-6).
    pub direction: [f64; 3],
}

/// Distance from the ice edge to one OAR.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OarReport {
    /// Structure name.
    pub name: String,
    /// Required minimum distance, mm.
    pub required_mm: f64,
    /// Smallest distance between an ice voxel centre and an OAR voxel centre, mm (0 when ice
    /// reaches into the OAR); `None` when there is no ice or the OAR is farther than the
    /// evaluated region (`evaluated_margin_mm` beyond the target).
    pub ice_distance_mm: Option<f64>,
    /// OAR volume inside the ice, mL.
    pub frozen_volume_ml: f64,
    /// Whether the requirement holds.
    pub pass: bool,
}

/// Ice beyond the confinement.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConfinementReport {
    /// Ice volume outside the confinement, mL.
    pub ice_outside_ml: f64,
    /// Largest distance from an ice voxel outside the confinement to the confinement, mm.
    pub max_beyond_mm: f64,
    /// Whether the ice stays inside.
    pub pass: bool,
}

/// One constraint a plan breaks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BrokenConstraint {
    /// Which constraint (`coverage`, `oar:<name>`, `confinement`, `probe_spacing_min`,
    /// `probe_spacing_max`, `probe_inset`).
    pub constraint: String,
    /// Required value.
    pub required: f64,
    /// Achieved value.
    pub achieved: f64,
    /// By how much it is missed, in `unit` (positive).
    pub by: f64,
    /// Unit of the three numbers (`fraction` or `mm`).
    pub unit: &'static str,
}

/// What a plan achieves under one model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanMetrics {
    /// `surrogate` or `physics`.
    pub model: &'static str,
    /// Lethal isotherm, °C.
    pub lethal_isotherm_c: f64,
    /// Ice-edge isotherm, °C.
    pub ice_edge_isotherm_c: f64,
    /// Fraction of the target inside the lethal isotherm.
    pub coverage: f64,
    /// Required fraction.
    pub min_coverage: f64,
    /// Target volume, mL.
    pub target_volume_ml: f64,
    /// Lethal-isotherm volume, mL.
    pub lethal_volume_ml: f64,
    /// Ice (edge isotherm) volume, mL.
    pub ice_volume_ml: f64,
    /// Per OAR, in request order.
    pub oars: Vec<OarReport>,
    /// Present when the request has a confinement.
    pub confinement: Option<ConfinementReport>,
    /// Smallest distance between two probes' active segments, mm (`None` for one probe).
    pub min_probe_spacing_mm: Option<f64>,
    /// Largest distance from a probe to its nearest neighbour, mm (`None` for one probe).
    pub max_nearest_neighbour_mm: Option<f64>,
    /// Largest depth of a probe's active-segment centre inside the target, mm (negative: outside).
    pub max_probe_inset_mm: f64,
    /// Constraints broken, in a fixed order; empty when the plan meets everything.
    pub broken: Vec<BrokenConstraint>,
}

impl PlanMetrics {
    /// Whether every constraint holds.
    pub fn feasible(&self) -> bool {
        self.broken.is_empty()
    }
}

/// The result of [`plan_probes`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProbePlan {
    /// Layout version ([`PLAN_FORMAT_VERSION`]).
    pub version: u32,
    /// The probes.
    pub probes: Vec<PlannedProbe>,
    /// Whether the plan meets every constraint under the surrogate.
    pub feasible: bool,
    /// Metrics under the surrogate.
    pub surrogate: PlanMetrics,
    /// Metrics under the bioheat solver, when verified ([`verify_plan`]).
    pub physics: Option<PlanMetrics>,
    /// Probe counts tried, in order.
    pub probe_counts_tried: Vec<usize>,
    /// Margin of the evaluated region around the target, mm.
    pub evaluated_margin_mm: f64,
    /// Surrogate calibration used (its provenance line).
    pub surrogate_calibration: String,
}

impl ProbePlan {
    /// The probes as [`PlacedProbe`]s of `class`.
    pub fn placed_probes(&self, class: &ProbeClass) -> Result<Vec<PlacedProbe>, CryoError> {
        self.probes
            .iter()
            .enumerate()
            .map(|(i, p)| PlacedProbe::new(i, class.clone(), PatientPoint(p.tip_mm), PatientVector(p.direction)))
            .collect()
    }
}

/// Plans probes for `request` with `model` (see the module documentation).
///
/// Errors: an invalid request (empty target, masks on different grids, bad parameters), a probe
/// class other than the model's, or no candidate position (target too thin for the grid).
pub fn plan_probes(request: &PlacementRequest, model: &SurrogateModel) -> Result<ProbePlan, CryoError> {
    request.validate()?;
    if request.class.name != model.conditions.class {
        return Err(CryoError::Placement {
            field: "class",
            message: format!(
                "probe class `{}` but the surrogate is calibrated for `{}`",
                request.class.name, model.conditions.class
            ),
        });
    }
    let ctx = Context::new(request, model)?;
    // Each n is judged on the sub-sampled voxels; only a promising plan (no sampled violation,
    // coverage within 3 points of the goal) is measured on every voxel. Without a feasible plan,
    // the best sampled one is measured at the end.
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut found: Option<(Vec<usize>, PlanMetrics)> = None;
    let mut tried = Vec::new();
    for n in 1..=request.max_probes.min(ctx.candidates.len()) {
        tried.push(n);
        let (chosen, score, violation, coverage) = ctx.search(n);
        if violation == 0.0 && coverage >= request.min_coverage - 0.03 {
            let metrics = ctx.measure_surrogate(&ctx.probes_of(&chosen))?;
            if metrics.feasible() {
                found = Some((chosen, metrics));
                break;
            }
        }
        if best.as_ref().is_none_or(|(s, _)| score < *s) {
            best = Some((score, chosen));
        }
    }
    let (chosen, metrics) = match found {
        Some(f) => f,
        None => {
            let (_, chosen) = best.ok_or_else(|| CryoError::Placement {
                field: "target",
                message: "no candidate probe position: the target is too thin or outside the grid".into(),
            })?;
            let metrics = ctx.measure_surrogate(&ctx.probes_of(&chosen))?;
            (chosen, metrics)
        }
    };
    let probes = ctx.probes_of(&chosen);
    Ok(ProbePlan {
        version: PLAN_FORMAT_VERSION,
        probes: probes.iter().map(planned).collect(),
        feasible: metrics.feasible(),
        surrogate: metrics,
        physics: None,
        probe_counts_tried: tried,
        evaluated_margin_mm: ctx.margin_mm,
        surrogate_calibration: model.provenance.clone(),
    })
}

/// Measures `probes` for `request` under the surrogate (the metrics [`plan_probes`] reports).
pub fn measure_with_surrogate(
    request: &PlacementRequest,
    model: &SurrogateModel,
    probes: &[PlacedProbe],
) -> Result<PlanMetrics, CryoError> {
    request.validate()?;
    let ctx = Context::new(request, model)?;
    ctx.measure_surrogate(probes)
}

/// What [`verify_plan`] returns.
#[derive(Clone, Debug)]
pub struct Verification {
    /// The plan's metrics under the bioheat solver.
    pub metrics: PlanMetrics,
    /// The solver's minimum temperature over the sequence, °C, interpolated onto the evaluated
    /// region of the request grid (the target's bounding box grown by the plan's
    /// `evaluated_margin_mm`).
    pub min_temperature: Field<f32>,
}

/// Runs the bioheat solver on `plan`'s probes (a grid of `spacing` covering the evaluated region)
/// and measures the same metrics, on the request grid (the solver's minimum temperature
/// interpolated trilinearly at its voxel centres).
pub fn verify_plan(
    request: &PlacementRequest,
    model: &SurrogateModel,
    plan: &ProbePlan,
    phases: &[FreezeThawPhase],
    protocol_surface_temperature: Celsius,
    config: &BioheatConfig,
    spacing: Mm,
) -> Result<Verification, CryoError> {
    request.validate()?;
    if !(spacing.0.is_finite() && spacing.0 > 0.0) {
        return Err(CryoError::Placement { field: "spacing", message: format!("must be > 0 mm, got {spacing}") });
    }
    let ctx = Context::new(request, model)?;
    let probes = plan.placed_probes(&request.class)?;
    // Solver grid: the evaluated region, at `spacing`, grown to hold every probe's segment.
    let roi = ctx.roi;
    let mut lo = roi.origin().0;
    let mut hi = roi.voxel_centre(roi.dims().map(|d| d - 1)).0;
    for p in &probes {
        for q in [p.tip_in_patient.0, p.active_end_in_patient().0] {
            for a in 0..3 {
                lo[a] = lo[a].min(q[a] - 5.0);
                hi[a] = hi[a].max(q[a] + 5.0);
            }
        }
    }
    let dims: [usize; 3] = std::array::from_fn(|a| ((hi[a] - lo[a]) / spacing.0).ceil() as usize + 1);
    let solver_grid = Grid::new(dims, [spacing; 3], PatientPoint(lo))
        .map_err(|e| CryoError::Placement { field: "spacing", message: e.to_string() })?;
    let result = crate::simulate_freeze_thaw(&solver_grid, &probes, phases, protocol_surface_temperature, config)?;
    let baseline = config.baseline.0;
    let field = Field::from_fn(roi, |p| {
        crate::isotherm::sample_trilinear(&result.min_temperature, p).unwrap_or(baseline) as f32
    });
    let lethal = crate::isotherm::isotherm_mask(&field, request.lethal_isotherm);
    let ice = crate::isotherm::isotherm_mask(&field, request.ice_edge_isotherm);
    Ok(Verification { metrics: ctx.measure(&probes, &lethal, &ice, "physics"), min_temperature: field })
}

fn planned(p: &PlacedProbe) -> PlannedProbe {
    PlannedProbe {
        class: p.class.name.clone(),
        tip_mm: p.tip_in_patient.0.map(|v| (v * 100.0).round() / 100.0),
        direction: p.direction.map(|v| (v * 1e6).round() / 1e6),
    }
}

/// A candidate probe: lateral lattice position, segment centre and direction.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    lattice: [i32; 2],
    centre: [f64; 3],
    direction: [f64; 3],
}

/// Precomputed geometry of one request.
struct Context<'a> {
    request: &'a PlacementRequest,
    model: &'a SurrogateModel,
    roi: Grid,
    margin_mm: f64,
    target: Mask,
    /// Per OAR: distance field on the ROI (None when the OAR has no voxel in the ROI).
    oar_distance: Vec<Option<Field<f64>>>,
    oar_masks: Vec<Mask>,
    confinement: Option<(Mask, Field<f64>)>,
    target_depth: Field<f64>,
    candidates: Vec<Candidate>,
    lattice_index: std::collections::BTreeMap<[i32; 2], usize>,
    /// Per candidate, its powered deficit at every sample (computed on first use).
    contributions: Vec<std::sync::OnceLock<Vec<f32>>>,
    /// Sub-sampled target voxel centres, and the others that can break a constraint.
    target_samples: Vec<[f64; 3]>,
    guard_samples: Vec<Guard>,
    limits: (f32, f32),
    axis: [f64; 3],
    basis: ([f64; 3], [f64; 3]),
}

/// A voxel outside the target where ice could break a constraint.
struct Guard {
    point: [f64; 3],
    /// Per OAR: distance to it (∞ when none in the ROI).
    oar_distance: Vec<f64>,
    /// Distance outside the confinement (0 inside or without one).
    beyond: f64,
}

impl<'a> Context<'a> {
    fn new(request: &'a PlacementRequest, model: &'a SurrogateModel) -> Result<Context<'a>, CryoError> {
        let grid = *request.target.grid();
        let max_oar = request.oars.iter().map(|o| o.min_ice_distance.0).fold(0.0, f64::max);
        let margin_mm = (model.reach_mm() + max_oar + 10.0).ceil();
        let bbox = request.target.bounding_box().expect("validated non-empty");
        let h = grid.spacing_mm();
        let bx = bbox.grown(h.map(|s| (margin_mm / s).ceil() as usize), grid.dims());
        let first = bx.first();
        let roi = Grid::new(bx.dims(), grid.spacing(), grid.voxel_centre(first)).expect("a sub-box of a valid grid");
        let crop = |m: &Mask| {
            let dims = bx.dims();
            let mut out = Mask::empty(roi);
            for k in 0..dims[2] {
                for j in 0..dims[1] {
                    for i in 0..dims[0] {
                        if m.at([first[0] + i, first[1] + j, first[2] + k]) {
                            out.set([i, j, k], true);
                        }
                    }
                }
            }
            out
        };
        let target = crop(&request.target);
        let oar_masks: Vec<Mask> = request.oars.iter().map(|o| crop(&o.mask)).collect();
        let oar_distance: Vec<Option<Field<f64>>> =
            oar_masks.iter().map(|m| (!m.is_empty()).then(|| distance_to(m))).collect();
        let confinement = request.confinement.as_ref().map(|c| {
            let m = crop(c);
            let d = distance_to(&m);
            (m, d)
        });
        let target_depth = signed_distance(&target);

        let centroid = {
            let mut s = [0.0; 3];
            let mut n = 0.0;
            for ijk in target.voxels() {
                let p = roi.voxel_centre(ijk).0;
                for a in 0..3 {
                    s[a] += p[a];
                }
                n += 1.0;
            }
            s.map(|v| v / n)
        };
        let axis = match &request.directions {
            ProbeDirections::Parallel(v) => v.normalized().expect("validated"),
            ProbeDirections::FromEntryPoints(entries) => {
                let m: [f64; 3] =
                    std::array::from_fn(|a| entries.iter().map(|e| e.0[a]).sum::<f64>() / entries.len() as f64);
                PatientVector(std::array::from_fn(|a| centroid[a] - m[a])).normalized().ok_or_else(|| {
                    CryoError::Placement {
                        field: "directions",
                        message: "the entry points' mean is at the target's centroid".into(),
                    }
                })?
            }
        };
        let basis = perpendicular_basis(axis);

        // Sub-sampled voxels.
        let stride: [usize; 3] = h.map(|s| ((2.0 / s).round() as usize).max(1));
        let dims = roi.dims();
        let mut target_samples = Vec::new();
        let mut guard_samples = Vec::new();
        let reach_guard = max_oar + 20.0;
        for k in (0..dims[2]).step_by(stride[2]) {
            for j in (0..dims[1]).step_by(stride[1]) {
                for i in (0..dims[0]).step_by(stride[0]) {
                    let ijk = [i, j, k];
                    let p = roi.voxel_centre(ijk).0;
                    if target.at(ijk) {
                        target_samples.push(p);
                        continue;
                    }
                    let oar_d: Vec<f64> =
                        oar_distance.iter().map(|d| d.as_ref().map_or(f64::INFINITY, |d| d.at(ijk))).collect();
                    let beyond = confinement.as_ref().map_or(0.0, |(_, d)| d.at(ijk));
                    let near_oar = oar_d.iter().zip(&request.oars).any(|(d, o)| *d < o.min_ice_distance.0 + 15.0);
                    let depth_out = target_depth.at(ijk);
                    if (near_oar || beyond > 0.0) && depth_out <= reach_guard {
                        guard_samples.push(Guard { point: p, oar_distance: oar_d, beyond });
                    }
                }
            }
        }

        let mut ctx = Context {
            request,
            model,
            roi,
            margin_mm,
            target,
            oar_distance,
            oar_masks,
            confinement,
            target_depth,
            candidates: Vec::new(),
            lattice_index: std::collections::BTreeMap::new(),
            contributions: Vec::new(),
            target_samples,
            guard_samples,
            limits: (model.powered_limit(request.lethal_isotherm), model.powered_limit(request.ice_edge_isotherm)),
            axis,
            basis,
        };
        ctx.build_candidates(centroid, &grid);
        ctx.contributions = (0..ctx.candidates.len()).map(|_| std::sync::OnceLock::new()).collect();
        Ok(ctx)
    }

    /// Candidate positions on the lateral lattice through the target centroid.
    fn build_candidates(&mut self, centroid: [f64; 3], full: &Grid) {
        let (u, v) = self.basis;
        let axis = self.axis;
        let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        // Lateral and axial extent of the target.
        let mut range = [(f64::INFINITY, f64::NEG_INFINITY); 3];
        for ijk in self.target.voxels() {
            let p = self.roi.voxel_centre(ijk).0;
            let d: [f64; 3] = std::array::from_fn(|a| p[a] - centroid[a]);
            for (r, e) in range.iter_mut().zip([u, v, axis]) {
                let s = dot(d, e);
                *r = (r.0.min(s), r.1.max(s));
            }
        }
        let h_min = self.roi.spacing_mm().into_iter().fold(f64::INFINITY, f64::min);
        let step_axial = 0.5 * h_min;
        let l = self.request.class.active_length.0;
        let lat = |x: f64| (x / LATTICE_MM).floor() as i32;
        for b in lat(range[1].0)..=lat(range[1].1) + 1 {
            for a in lat(range[0].0)..=lat(range[0].1) + 1 {
                let (x, y) = (f64::from(a) * LATTICE_MM, f64::from(b) * LATTICE_MM);
                let base: [f64; 3] = std::array::from_fn(|k| centroid[k] + x * u[k] + y * v[k]);
                // Chord of the target along the axis through this lateral point.
                let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
                let mut t = range[2].0 - h_min;
                while t <= range[2].1 + h_min {
                    let p: [f64; 3] = std::array::from_fn(|k| base[k] + t * axis[k]);
                    if let Some(ijk) = self.roi.nearest_voxel(PatientPoint(p))
                        && self.target.at(ijk)
                    {
                        first = first.min(t);
                        last = last.max(t);
                    }
                    t += step_axial;
                }
                if first > last {
                    continue;
                }
                let mid = 0.5 * (first + last);
                let centre: [f64; 3] = std::array::from_fn(|k| base[k] + mid * axis[k]);
                let Some(ijk) = self.roi.nearest_voxel(PatientPoint(centre)) else { continue };
                let depth = -self.target_depth.at(ijk);
                if depth <= 0.0 || depth > self.request.max_probe_inset.0 + 1e-9 {
                    continue;
                }
                let direction = match &self.request.directions {
                    ProbeDirections::Parallel(_) => axis,
                    ProbeDirections::FromEntryPoints(entries) => {
                        let entry = entries
                            .iter()
                            .min_by(|p, q| {
                                let d = |e: &PatientPoint| PatientPoint(centre).distance_to(*e).0;
                                d(p).total_cmp(&d(q))
                            })
                            .expect("validated non-empty");
                        match PatientVector(std::array::from_fn(|k| centre[k] - entry.0[k])).normalized() {
                            Some(d) => d,
                            None => continue,
                        }
                    }
                };
                let tip: [f64; 3] = std::array::from_fn(|k| centre[k] + 0.5 * l * direction[k]);
                let end: [f64; 3] = std::array::from_fn(|k| centre[k] - 0.5 * l * direction[k]);
                let inside = |q: [f64; 3]| {
                    let vx = full.voxel_from_patient(PatientPoint(q)).0;
                    (0..3).all(|a| vx[a] >= 0.0 && vx[a] <= (full.dims()[a] - 1) as f64)
                };
                if !(inside(tip) && inside(end)) {
                    continue;
                }
                self.lattice_index.insert([a, b], self.candidates.len());
                self.candidates.push(Candidate { lattice: [a, b], centre, direction });
            }
        }
    }

    fn probe(&self, index: usize, c: &Candidate) -> PlacedProbe {
        let l = self.request.class.active_length.0;
        let tip: [f64; 3] = std::array::from_fn(|k| c.centre[k] + 0.5 * l * c.direction[k]);
        PlacedProbe::new(index, self.request.class.clone(), PatientPoint(tip), PatientVector(c.direction))
            .expect("finite candidate")
    }

    fn probes_of(&self, chosen: &[usize]) -> Vec<PlacedProbe> {
        chosen.iter().enumerate().map(|(i, &c)| self.probe(i, &self.candidates[c])).collect()
    }

    /// Per-sample powered deficit of one probe: target samples then guard samples.
    fn contribution(&self, candidate: usize) -> &[f32] {
        self.contributions[candidate].get_or_init(|| {
            let probe = self.probe(0, &self.candidates[candidate]);
            let one = std::slice::from_ref(&probe);
            let points: Vec<[f64; 3]> =
                self.target_samples.iter().copied().chain(self.guard_samples.iter().map(|g| g.point)).collect();
            points.par_iter().map(|&p| self.model.powered_sum_at(one, p)).collect()
        })
    }

    /// Σ of the chosen candidates' contributions per sample.
    fn total(&self, chosen: &[usize]) -> Vec<f32> {
        let mut total = vec![0f32; self.target_samples.len() + self.guard_samples.len()];
        for &c in chosen {
            for (t, v) in total.iter_mut().zip(self.contribution(c)) {
                *t += v;
            }
        }
        total
    }

    /// The search objective from the summed contributions (smaller is better).
    fn objective(&self, chosen: &[usize], total: &[f32]) -> f64 {
        let (violation, coverage) = self.sampled(chosen, total);
        let shortfall = (self.request.min_coverage - coverage).max(0.0);
        VIOLATION_WEIGHT * violation + 100.0 * shortfall - coverage
    }

    /// Constraint violation (mm, summed) and coverage on the sub-sampled voxels.
    fn sampled(&self, chosen: &[usize], total: &[f32]) -> (f64, f64) {
        let n_t = self.target_samples.len();
        let covered = total[..n_t].iter().filter(|&&t| t >= self.limits.0).count();
        let coverage = covered as f64 / n_t.max(1) as f64;
        let mut violation = 0.0;
        let mut oar_min = vec![f64::INFINITY; self.request.oars.len()];
        let mut beyond: f64 = 0.0;
        for (guard, &t) in self.guard_samples.iter().zip(&total[n_t..]) {
            if t >= self.limits.1 {
                for (m, d) in oar_min.iter_mut().zip(&guard.oar_distance) {
                    *m = m.min(*d);
                }
                beyond = beyond.max(guard.beyond);
            }
        }
        for (m, oar) in oar_min.iter().zip(&self.request.oars) {
            violation += (oar.min_ice_distance.0 - m).max(0.0);
        }
        violation += beyond;
        let cands: Vec<&Candidate> = chosen.iter().map(|&c| &self.candidates[c]).collect();
        let (min_sp, max_nn) = spacing_of(&cands.iter().map(|c| (c.centre, c.direction)).collect::<Vec<_>>(), self);
        if let Some(s) = min_sp {
            violation += (self.request.min_probe_spacing.0 - s).max(0.0);
        }
        if let Some(s) = max_nn {
            violation += (s - self.request.max_probe_spacing.0).max(0.0);
        }
        (violation, coverage)
    }

    /// The best set of `n` candidates found from the k-means seeding.
    /// Returns the candidates, their objective, sampled violation and sampled coverage.
    fn search(&self, n: usize) -> (Vec<usize>, f64, f64, f64) {
        let mut chosen = self.seed(n);
        let mut total = self.total(&chosen);
        let mut score = self.objective(&chosen, &total);
        let mut trial = total.clone();
        for step in [2, 1] {
            let mut improved = true;
            let mut rounds = 0;
            while improved && rounds < 25 {
                improved = false;
                rounds += 1;
                for i in 0..chosen.len() {
                    let here = self.candidates[chosen[i]].lattice;
                    for delta in [[step, 0], [-step, 0], [0, step], [0, -step]] {
                        let to = [here[0] + delta[0], here[1] + delta[1]];
                        let Some(&c) = self.lattice_index.get(&to) else { continue };
                        if chosen.contains(&c) {
                            continue;
                        }
                        let (old, new) = (self.contribution(chosen[i]), self.contribution(c));
                        for (((t, base), o), v) in trial.iter_mut().zip(&total).zip(old).zip(new) {
                            *t = base - o + v;
                        }
                        let previous = std::mem::replace(&mut chosen[i], c);
                        let s = self.objective(&chosen, &trial);
                        if s < score - 1e-12 {
                            score = s;
                            improved = true;
                            std::mem::swap(&mut total, &mut trial);
                            break;
                        }
                        chosen[i] = previous;
                    }
                }
            }
        }
        let (violation, coverage) = self.sampled(&chosen, &total);
        (chosen, score, violation, coverage)
    }

    /// k-means over the target samples projected on the lateral plane, snapped to candidates at
    /// least the minimum spacing apart.
    fn seed(&self, n: usize) -> Vec<usize> {
        let (u, v) = self.basis;
        let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let pts: Vec<[f64; 2]> = self.target_samples.iter().map(|&p| [dot(p, u), dot(p, v)]).collect();
        let mean = [0, 1].map(|a| pts.iter().map(|p| p[a]).sum::<f64>() / pts.len() as f64);
        let d2 = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        let nearest =
            |c: [f64; 2]| pts.iter().copied().min_by(|a, b| d2(*a, c).total_cmp(&d2(*b, c))).expect("non-empty target");
        let mut centres = vec![nearest(mean)];
        while centres.len() < n {
            let far = pts
                .iter()
                .copied()
                .max_by(|a, b| {
                    let m = |p: [f64; 2]| centres.iter().map(|c| d2(p, *c)).fold(f64::INFINITY, f64::min);
                    m(*a).total_cmp(&m(*b))
                })
                .expect("non-empty target");
            centres.push(far);
        }
        for _ in 0..30 {
            let mut sums = vec![[0.0, 0.0, 0.0]; n];
            for p in &pts {
                let k = (0..n).min_by(|&a, &b| d2(*p, centres[a]).total_cmp(&d2(*p, centres[b]))).expect("n >= 1");
                sums[k][0] += p[0];
                sums[k][1] += p[1];
                sums[k][2] += 1.0;
            }
            for (c, s) in centres.iter_mut().zip(&sums) {
                if s[2] > 0.0 {
                    *c = [s[0] / s[2], s[1] / s[2]];
                }
            }
        }
        let cand_uv: Vec<[f64; 2]> = self.candidates.iter().map(|c| [dot(c.centre, u), dot(c.centre, v)]).collect();
        let mut chosen: Vec<usize> = Vec::with_capacity(n);
        for c in &centres {
            let mut order: Vec<usize> = (0..self.candidates.len()).collect();
            order.sort_by(|&a, &b| d2(cand_uv[a], *c).total_cmp(&d2(cand_uv[b], *c)).then(a.cmp(&b)));
            let pick = order
                .iter()
                .copied()
                .find(|&k| {
                    !chosen.contains(&k)
                        && chosen
                            .iter()
                            .all(|&j| d2(cand_uv[k], cand_uv[j]).sqrt() >= self.request.min_probe_spacing.0 - 1e-9)
                })
                .or_else(|| order.iter().copied().find(|k| !chosen.contains(k)));
            if let Some(k) = pick {
                chosen.push(k);
            }
        }
        chosen
    }

    fn measure_surrogate(&self, probes: &[PlacedProbe]) -> Result<PlanMetrics, CryoError> {
        let masks = self.model.isotherm_masks(
            &self.roi,
            probes,
            &[self.request.lethal_isotherm, self.request.ice_edge_isotherm],
        )?;
        Ok(self.measure(probes, &masks[0], &masks[1], "surrogate"))
    }

    /// Metrics from the lethal and ice masks on the ROI.
    fn measure(&self, probes: &[PlacedProbe], lethal: &Mask, ice: &Mask, model: &'static str) -> PlanMetrics {
        let r = self.request;
        let voxel_ml = self.roi.voxel_volume().0;
        let target_n = self.target.count();
        let covered = self.target.as_slice().iter().zip(lethal.as_slice()).filter(|(t, l)| **t && **l).count();
        let coverage = covered as f64 / target_n as f64;
        let mut broken = Vec::new();
        if coverage < r.min_coverage {
            broken.push(BrokenConstraint {
                constraint: "coverage".into(),
                required: r.min_coverage,
                achieved: round(coverage, 4),
                by: round(r.min_coverage - coverage, 4),
                unit: "fraction",
            });
        }
        let mut oars = Vec::with_capacity(r.oars.len());
        for ((oar, dist), mask) in r.oars.iter().zip(&self.oar_distance).zip(&self.oar_masks) {
            let distance = dist.as_ref().and_then(|d| {
                ice.as_slice()
                    .iter()
                    .zip(d.as_slice())
                    .filter(|(i, _)| **i)
                    .map(|(_, d)| *d)
                    .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.min(d))))
            });
            let frozen = ice.as_slice().iter().zip(mask.as_slice()).filter(|(i, m)| **i && **m).count();
            let pass = distance.is_none_or(|d| d >= oar.min_ice_distance.0 - 1e-9);
            if let (false, Some(d)) = (pass, distance) {
                broken.push(BrokenConstraint {
                    constraint: format!("oar:{}", oar.name),
                    required: oar.min_ice_distance.0,
                    achieved: round(d, 2),
                    by: round(oar.min_ice_distance.0 - d, 2),
                    unit: "mm",
                });
            }
            oars.push(OarReport {
                name: oar.name.clone(),
                required_mm: oar.min_ice_distance.0,
                ice_distance_mm: distance.map(|d| round(d, 2)),
                frozen_volume_ml: round(frozen as f64 * voxel_ml, 3),
                pass,
            });
        }
        let confinement = self.confinement.as_ref().map(|(_, d)| {
            let mut outside = 0usize;
            let mut beyond: f64 = 0.0;
            for (i, d) in ice.as_slice().iter().zip(d.as_slice()) {
                if *i && *d > 0.0 {
                    outside += 1;
                    beyond = beyond.max(*d);
                }
            }
            if outside > 0 {
                broken.push(BrokenConstraint {
                    constraint: "confinement".into(),
                    required: 0.0,
                    achieved: round(beyond, 2),
                    by: round(beyond, 2),
                    unit: "mm",
                });
            }
            ConfinementReport {
                ice_outside_ml: round(outside as f64 * voxel_ml, 3),
                max_beyond_mm: round(beyond, 2),
                pass: outside == 0,
            }
        });
        let segs: Vec<([f64; 3], [f64; 3])> =
            probes.iter().map(|p| (p.active_centre_in_patient().0, p.direction)).collect();
        let (min_sp, max_nn) = spacing_of(&segs, self);
        if let Some(s) = min_sp
            && s < r.min_probe_spacing.0 - 1e-6
        {
            broken.push(BrokenConstraint {
                constraint: "probe_spacing_min".into(),
                required: r.min_probe_spacing.0,
                achieved: round(s, 2),
                by: round(r.min_probe_spacing.0 - s, 2),
                unit: "mm",
            });
        }
        if let Some(s) = max_nn
            && s > r.max_probe_spacing.0 + 1e-6
        {
            broken.push(BrokenConstraint {
                constraint: "probe_spacing_max".into(),
                required: r.max_probe_spacing.0,
                achieved: round(s, 2),
                by: round(s - r.max_probe_spacing.0, 2),
                unit: "mm",
            });
        }
        let inset = probes
            .iter()
            .map(|p| {
                self.roi
                    .nearest_voxel(p.active_centre_in_patient())
                    .map_or(f64::NEG_INFINITY, |v| -self.target_depth.at(v))
            })
            .fold(f64::NEG_INFINITY, f64::max);
        if inset > r.max_probe_inset.0 + 1e-6 {
            broken.push(BrokenConstraint {
                constraint: "probe_inset".into(),
                required: r.max_probe_inset.0,
                achieved: round(inset, 2),
                by: round(inset - r.max_probe_inset.0, 2),
                unit: "mm",
            });
        }
        PlanMetrics {
            model,
            lethal_isotherm_c: r.lethal_isotherm.0,
            ice_edge_isotherm_c: r.ice_edge_isotherm.0,
            coverage: round(coverage, 4),
            min_coverage: r.min_coverage,
            target_volume_ml: round(target_n as f64 * voxel_ml, 3),
            lethal_volume_ml: round(lethal.count() as f64 * voxel_ml, 3),
            ice_volume_ml: round(ice.count() as f64 * voxel_ml, 3),
            oars,
            confinement,
            min_probe_spacing_mm: min_sp.map(|s| round(s, 2)),
            max_nearest_neighbour_mm: max_nn.map(|s| round(s, 2)),
            max_probe_inset_mm: round(inset, 2),
            broken,
        }
    }
}

/// Smallest pairwise distance between active segments and largest nearest-neighbour distance
/// (`None` for fewer than two probes). Segments are given by centre and direction.
fn spacing_of(segs: &[([f64; 3], [f64; 3])], ctx: &Context<'_>) -> (Option<f64>, Option<f64>) {
    if segs.len() < 2 {
        return (None, None);
    }
    let half = 0.5 * ctx.request.class.active_length.0;
    let ends = |(c, d): ([f64; 3], [f64; 3])| -> ([f64; 3], [f64; 3]) {
        (std::array::from_fn(|k| c[k] + half * d[k]), std::array::from_fn(|k| c[k] - half * d[k]))
    };
    let n = segs.len();
    let mut min_all = f64::INFINITY;
    let mut max_nn: f64 = 0.0;
    for i in 0..n {
        let mut nn = f64::INFINITY;
        for j in 0..n {
            if i == j {
                continue;
            }
            let (a0, a1) = ends(segs[i]);
            let (b0, b1) = ends(segs[j]);
            let d = crate::probe::segment_distance(a0, a1, b0, b1);
            nn = nn.min(d);
            min_all = min_all.min(d);
        }
        max_nn = max_nn.max(nn);
    }
    (Some(min_all), Some(max_nn))
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

fn perpendicular_basis(axis: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let helper = if axis[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
    let cross =
        |a: [f64; 3], b: [f64; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let u = cross(axis, helper);
    let n = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    let u = u.map(|x| x / n);
    (u, cross(axis, u))
}
