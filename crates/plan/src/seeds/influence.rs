//! Sample points and the dose-influence structure: the total permanent-implant dose (Gy) one seed
//! at each candidate position gives each sample point, computed once and optimized against many
//! times.
//!
//! Sample points are the voxels of a lattice about `sample_spacing` apart (every n-th voxel of
//! the planning region per axis, coarsened for large targets to [`MAX_TARGET_POINTS`]) that lie in the target, in an OAR with a dose limit within
//! [`OAR_SAMPLE_DISTANCE_MM`] of the target, or in the normal-tissue shell (body outside target,
//! don't-care region and OARs, within [`SHELL_DISTANCE_MM`] of the target).
//!
//! A candidate's entry is `w·K(ρ, |z|)` with `K` the TG-43U1 line-source kernel
//! ([`cryoseed_dose::DoseKernel`], relative dose rate per S_K·Λ) in the frame of the needle axis
//! and `w = S_K·Λ·τ` (τ = T½/ln 2, total dose of a permanent implant, TG-43U1 and
//! `cryoseed_dose::decay`). Entries beyond the cut-off radius are dropped (module docs of
//! [`super`] for the correction that follows each round). Fixed seeds contribute a dense
//! background computed without cut-off (line source if their axis is known, else 1-D).

use super::region::PlanningRegion;
use super::tracks::CandidateSet;
use super::{FixedSeed, SeedPlanRequest};
use crate::PlanError;
use cryoseed_dose::{DoseKernel, Formalism, decay};
use rayon::prelude::*;

/// OAR voxels farther than this from the target are not sampled, mm.
pub const OAR_SAMPLE_DISTANCE_MM: f64 = 25.0;
/// The sample lattice is coarsened until the target has at most this many points (the optimizer's
/// cost per move is proportional to the points within the cut-off).
pub const MAX_TARGET_POINTS: usize = 8000;
/// Depth of the normal-tissue shell around the target whose over-dose is penalised, mm.
pub const SHELL_DISTANCE_MM: f64 = 10.0;
/// OAR voxels this close to the target are all sampled (not only those on the lattice): an OAR
/// limit is on a small volume (the cord's D0.1cc is 12 voxels of 2 mm) whose hottest voxels a
/// coarse lattice misses, mm.
pub const OAR_FINE_DISTANCE_MM: f64 = 12.0;

/// What a sample point stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    /// A target voxel.
    Target,
    /// A voxel of the OAR with this index in the request.
    Oar(u16),
    /// A normal-tissue voxel near the target.
    Shell,
}

/// The lattice of points the optimizer evaluates the dose on.
#[derive(Clone, Debug)]
pub struct SamplePoints {
    /// Positions in the patient frame, mm.
    pub positions: Vec<[f32; 3]>,
    /// What each point stands for.
    pub kinds: Vec<SampleKind>,
    /// Volume each point stands for, mL (the lattice cell, or one voxel for the OAR voxels near
    /// the target, [`OAR_FINE_DISTANCE_MM`]).
    pub weights: Vec<f32>,
    /// Volume a lattice point stands for, mL.
    pub volume_per_point_ml: f64,
}

/// Sparse per-candidate dose at the sample points (module docs).
#[derive(Clone, Debug)]
pub struct DoseInfluence {
    /// The sample points.
    pub samples: SamplePoints,
    /// Candidate c's entries are `indices[offsets[c]..offsets[c + 1]]` / `doses[..]`.
    offsets: Vec<usize>,
    indices: Vec<u32>,
    doses: Vec<f32>,
    /// Dose of the fixed seeds at every sample point (Gy), without cut-off.
    pub background: Vec<f32>,
    /// Weight S_K·Λ·τ of one seed, Gy per unit kernel value.
    weight: f32,
    line: DoseKernel,
    point: DoseKernel,
    cutoff_mm: f32,
}

impl DoseInfluence {
    /// Samples the region and tabulates every candidate's dose.
    pub(crate) fn compute(
        request: &SeedPlanRequest<'_>,
        region: &PlanningRegion,
        set: &CandidateSet,
    ) -> Result<DoseInfluence, PlanError> {
        let samples = sample_points(request, region);
        let model = &request.model;
        let tau_h = decay::mean_life_hours(model.half_life());
        let weight =
            (model.dose_rate_constant_cgy_per_h_per_u() * request.settings.air_kerma_strength.0 / 100.0 * tau_h) as f32;
        let (line, point) =
            rayon::join(|| DoseKernel::new(model, Formalism::Line), || DoseKernel::new(model, Formalism::Point));
        let cutoff = request.config.influence_cutoff.0 as f32;
        let bins = Bins::new(&samples.positions, 10.0);
        let lists: Vec<(Vec<u32>, Vec<f32>)> = set
            .candidates
            .par_iter()
            .map(|c| {
                let axis = set.tracks[c.track].info.direction.map(|x| x as f32);
                let centre = c.centre_in_patient.0.map(|x| x as f32);
                let mut idx = Vec::new();
                bins.within(centre, cutoff, |i| idx.push(i));
                idx.sort_unstable();
                let vals = idx
                    .iter()
                    .map(|&i| weight * kernel_at(&line, centre, Some(axis), samples.positions[i as usize]))
                    .collect();
                (idx, vals)
            })
            .collect();
        let mut offsets = Vec::with_capacity(lists.len() + 1);
        offsets.push(0);
        let total: usize = lists.iter().map(|l| l.0.len()).sum();
        let mut indices = Vec::with_capacity(total);
        let mut doses = Vec::with_capacity(total);
        for (i, v) in lists {
            indices.extend_from_slice(&i);
            doses.extend_from_slice(&v);
            offsets.push(indices.len());
        }
        let mut influence = DoseInfluence {
            background: vec![0.0; samples.positions.len()],
            samples,
            offsets,
            indices,
            doses,
            weight,
            line,
            point,
            cutoff_mm: cutoff,
        };
        influence.background = influence.exact_dose(&request.fixed_seeds);
        Ok(influence)
    }

    /// Candidate `c`'s sample indices and doses (Gy).
    #[inline]
    pub fn column(&self, c: usize) -> (&[u32], &[f32]) {
        let r = self.offsets[c]..self.offsets[c + 1];
        (&self.indices[r.clone()], &self.doses[r])
    }

    /// Number of stored entries.
    pub fn entries(&self) -> usize {
        self.indices.len()
    }

    /// The cut-off radius, mm.
    pub fn cutoff_mm(&self) -> f32 {
        self.cutoff_mm
    }

    /// Dose (Gy) of `seeds` at every sample point, without cut-off.
    pub fn exact_dose(&self, seeds: &[FixedSeed]) -> Vec<f32> {
        let prepared: Vec<([f32; 3], Option<[f32; 3]>)> = seeds
            .iter()
            .map(|s| (s.centre_in_patient.0.map(|x| x as f32), s.axis_in_patient.map(|a| a.map(|x| x as f32))))
            .collect();
        self.samples
            .positions
            .par_iter()
            .map(|&p| {
                prepared
                    .iter()
                    .map(|&(c, axis)| {
                        let k = if axis.is_some() { &self.line } else { &self.point };
                        self.weight * kernel_at(k, c, axis, p)
                    })
                    .sum()
            })
            .collect()
    }
}

/// The kernel of a seed at `centre` (axis `axis`, or none for the 1-D kernel) at point `p`.
#[inline]
fn kernel_at(kernel: &DoseKernel, centre: [f32; 3], axis: Option<[f32; 3]>, p: [f32; 3]) -> f32 {
    let r = [p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]];
    let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
    match axis {
        Some(a) => {
            let z = r[0] * a[0] + r[1] * a[1] + r[2] * a[2];
            let rho = (r2 - z * z).max(0.0).sqrt();
            kernel.lookup(rho, z.abs())
        }
        None => kernel.lookup(r2.sqrt(), 0.0),
    }
}

fn sample_points(request: &SeedPlanRequest<'_>, region: &PlanningRegion) -> SamplePoints {
    let grid = region.grid;
    let spacing = grid.spacing_mm();
    let mut step = spacing.map(|h| ((request.config.sample_spacing.0 / h).round() as usize).max(1));
    // Coarsen the lattice (finest axis first) until the target has at most MAX_TARGET_POINTS.
    let n_target = region.target.count() as f64;
    while n_target / (step[0] * step[1] * step[2]) as f64 > MAX_TARGET_POINTS as f64 {
        let a = (0..3)
            .min_by(|&a, &b| (step[a] as f64 * spacing[a]).total_cmp(&(step[b] as f64 * spacing[b])))
            .expect("3 axes");
        step[a] += 1;
    }
    let volume_per_point_ml = (0..3).map(|a| step[a] as f64 * spacing[a]).product::<f64>() / 1000.0;
    let limited: Vec<usize> =
        request.structures.oars.iter().enumerate().filter(|(_, o)| o.limit.is_some()).map(|(i, _)| i).collect();
    let voxel_ml = grid.voxel_volume().0;
    let [nx, ny, nz] = grid.dims();
    let mut positions = Vec::new();
    let mut kinds = Vec::new();
    let mut weights = Vec::new();
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let v = [i, j, k];
                let on_lattice = i % step[0] == 0 && j % step[1] == 0 && k % step[2] == 0;
                let sample = if region.target.at(v) {
                    on_lattice.then_some((SampleKind::Target, volume_per_point_ml))
                } else if region.dont_care.at(v) {
                    None
                } else {
                    let d = region.to_target.at(v);
                    let oar = region.oars.iter().position(|m| m.at(v));
                    match oar {
                        Some(o) if limited.contains(&o) && d <= OAR_FINE_DISTANCE_MM => {
                            Some((SampleKind::Oar(o as u16), voxel_ml))
                        }
                        Some(o) if on_lattice && limited.contains(&o) && d <= OAR_SAMPLE_DISTANCE_MM => {
                            Some((SampleKind::Oar(o as u16), volume_per_point_ml))
                        }
                        Some(_) => None,
                        None if on_lattice && region.body.at(v) && d <= SHELL_DISTANCE_MM => {
                            Some((SampleKind::Shell, volume_per_point_ml))
                        }
                        None => None,
                    }
                };
                if let Some((kind, w)) = sample {
                    positions.push(grid.voxel_centre(v).0.map(|x| x as f32));
                    kinds.push(kind);
                    weights.push(w as f32);
                }
            }
        }
    }
    SamplePoints { positions, kinds, weights, volume_per_point_ml }
}

/// Sample points binned on a uniform grid of cubic cells, for radius queries.
struct Bins {
    origin: [f32; 3],
    cell: f32,
    dims: [usize; 3],
    /// Cell c's points are `points[starts[c]..starts[c + 1]]`.
    starts: Vec<usize>,
    points: Vec<u32>,
    positions: Vec<[f32; 3]>,
}

impl Bins {
    fn new(positions: &[[f32; 3]], cell: f32) -> Bins {
        let mut lo = [f32::INFINITY; 3];
        let mut hi = [f32::NEG_INFINITY; 3];
        for p in positions {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        if positions.is_empty() {
            lo = [0.0; 3];
            hi = [0.0; 3];
        }
        let dims: [usize; 3] = std::array::from_fn(|a| ((hi[a] - lo[a]) / cell).floor() as usize + 1);
        let cell_of = |p: &[f32; 3]| {
            let c: [usize; 3] = std::array::from_fn(|a| (((p[a] - lo[a]) / cell) as usize).min(dims[a] - 1));
            c[0] + dims[0] * (c[1] + dims[1] * c[2])
        };
        let n_cells = dims[0] * dims[1] * dims[2];
        let mut counts = vec![0usize; n_cells + 1];
        for p in positions {
            counts[cell_of(p) + 1] += 1;
        }
        for c in 0..n_cells {
            counts[c + 1] += counts[c];
        }
        let starts = counts.clone();
        let mut fill = counts;
        let mut points = vec![0u32; positions.len()];
        for (i, p) in positions.iter().enumerate() {
            let c = cell_of(p);
            points[fill[c]] = i as u32;
            fill[c] += 1;
        }
        Bins { origin: lo, cell, dims, starts, points, positions: positions.to_vec() }
    }

    /// Calls `f` with every point within `radius` of `centre`.
    fn within(&self, centre: [f32; 3], radius: f32, mut f: impl FnMut(u32)) {
        let r2 = radius * radius;
        let lo: [usize; 3] =
            std::array::from_fn(|a| ((centre[a] - radius - self.origin[a]) / self.cell).floor().max(0.0) as usize);
        let hi: [i64; 3] = std::array::from_fn(|a| {
            (((centre[a] + radius - self.origin[a]) / self.cell).floor() as i64).min(self.dims[a] as i64 - 1)
        });
        for k in lo[2] as i64..=hi[2] {
            for j in lo[1] as i64..=hi[1] {
                for i in lo[0] as i64..=hi[0] {
                    let c = i as usize + self.dims[0] * (j as usize + self.dims[1] * k as usize);
                    for &p in &self.points[self.starts[c]..self.starts[c + 1]] {
                        let q = self.positions[p as usize];
                        let d2 = (q[0] - centre[0]).powi(2) + (q[1] - centre[1]).powi(2) + (q[2] - centre[2]).powi(2);
                        if d2 <= r2 {
                            f(p);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::{SeedOar, SeedPlanConfig, SeedSettings, SeedStructures, TemplateGrid, TrackSource};
    use cryoseed_core::protocol::Protocol;
    use cryoseed_core::{CriticalOar, LesionSite, Mm, PatientPoint};
    use cryoseed_dose::{DoseGridConfig, GridMethod, builtin_model, dose_grid};
    use cryoseed_volume::{Grid, Mask};

    /// The exact sample dose agrees with the dose engine (`cryoseed_dose::dose_grid`, direct
    /// summation) at the sample voxels to 0.1 % where the dose is at least 10 % of the
    /// prescription: both read the same kernel, so what is left is `f32` summation order and the
    /// arctangent polynomial. The engine's default split summation, which the verdict uses,
    /// differs from the direct one by up to 2 % at these points (its documented error is
    /// relative to the grid maximum, here thousands of Gy next to the seeds), and the cut-off
    /// only removes dose.
    #[test]
    fn sample_dose_matches_the_dose_engine_and_the_cut_off_only_drops_the_tail() {
        let grid = Grid::new([50, 50, 40], [Mm(2.0); 3], PatientPoint::default()).unwrap();
        let centre = PatientPoint::new(Mm(50.0), Mm(50.0), Mm(40.0));
        let target = Mask::from_fn(grid, |p| p.distance_to(centre).0 <= 16.0);
        let body = Mask::from_fn(grid, |p| p.0[1] >= 6.0);
        let oar = Mask::from_fn(grid, |p| p.distance_to(PatientPoint::new(Mm(50.0), Mm(50.0), Mm(6.0))).0 <= 5.0);
        let protocol = Protocol::shipped();
        let settings = SeedSettings::from_protocol(&protocol.seeds, LesionSite::SoftTissue);
        let request = SeedPlanRequest {
            structures: SeedStructures {
                target: &target,
                dont_care: None,
                body: &body,
                oars: vec![SeedOar {
                    name: "Bowel".into(),
                    class: CriticalOar::Bowel,
                    mask: &oar,
                    limit: protocol.oar_limit(CriticalOar::Bowel).copied(),
                }],
                needle_obstacles: vec![],
            },
            model: builtin_model("6711").unwrap(),
            settings,
            tracks: vec![TrackSource::Template(TemplateGrid::along([0.0, 1.0, 0.0]))],
            fixed_seeds: vec![],
            config: SeedPlanConfig { influence_cutoff: Mm(20.0), ..SeedPlanConfig::default() },
        };
        let region = PlanningRegion::new(&request.structures, &request.settings, &request.config).unwrap();
        let set = crate::seeds::tracks::candidates(&request, &region).unwrap();
        assert!(set.candidates.len() > 20);
        let inf = DoseInfluence::compute(&request, &region, &set).unwrap();
        let chosen: Vec<usize> = (0..set.candidates.len()).step_by(4).collect();
        let seeds: Vec<FixedSeed> = chosen
            .iter()
            .map(|&c| FixedSeed {
                centre_in_patient: set.candidates[c].centre_in_patient,
                axis_in_patient: Some(set.tracks[set.candidates[c].track].info.direction),
            })
            .collect();
        let exact = inf.exact_dose(&seeds);
        let planned: Vec<crate::seeds::PlannedSeed> = seeds
            .iter()
            .map(|s| crate::seeds::PlannedSeed {
                centre_in_patient: s.centre_in_patient,
                axis_in_patient: s.axis_in_patient,
                needle: Some(1),
                depth: None,
            })
            .collect();
        let implant = crate::seeds::implant_of(&planned, &request.model, request.settings.air_kerma_strength).unwrap();
        let direct = DoseGridConfig { method: GridMethod::Direct, ..DoseGridConfig::default() };
        let engine = dose_grid(&implant, &region.grid, &direct).unwrap();
        let split = dose_grid(&implant, &region.grid, &DoseGridConfig::default()).unwrap();
        let mut worst_split = 0f32;
        let mut truncated = vec![0f32; exact.len()];
        for &c in &chosen {
            let (idx, val) = inf.column(c);
            for (&i, &v) in idx.iter().zip(val) {
                truncated[i as usize] += v;
            }
        }
        let floor = 0.1 * request.settings.prescription.0 as f32;
        let mut worst = 0f32;
        for (i, p) in inf.samples.positions.iter().enumerate() {
            let v = region.grid.nearest_voxel(PatientPoint(p.map(f64::from))).unwrap();
            let e = engine.at(v);
            if e >= floor {
                worst = worst.max((exact[i] - e).abs() / e);
                worst_split = worst_split.max((split.at(v) - e).abs() / e);
            }
            // The cut-off only removes dose (every kernel value is positive).
            assert!(truncated[i] <= exact[i] * (1.0 + 1e-5) + 1e-4);
        }
        assert!(worst <= 0.001, "worst relative difference {worst}");
        // The verdict's engine (split summation) against the direct one on the same points.
        assert!(worst_split <= 0.02, "split vs direct {worst_split}");
    }
}
