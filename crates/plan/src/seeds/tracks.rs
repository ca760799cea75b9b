//! Needle tracks and candidate seed positions.
//!
//! A [`TemplateGrid`] gives parallel needles: lines along `direction` through the holes of a
//! square grid `needle_spacing` apart in the entry plane (the plane through `entry_point`
//! perpendicular to `direction`; by default 60 mm outside the point where the line through the
//! target's centroid crosses the skin, so that every needle finds its own skin entry on a curved
//! body surface). The in-plane axes are `u = normalize(e × d)` and
//! `v = d × u`, `e` the coordinate axis least aligned with `d`, so hole (a, b) is at
//! `entry + (a·s + offset[0])·u + (b·s + offset[1])·v`.
//!
//! [`FreeTracks`] give, for each skin entry point, a fan of needles aimed at the points of a
//! square grid `needle_spacing` apart in the plane through the target's centroid perpendicular
//! to the entry–centroid line (so needles are about one spacing apart where they cross the
//! target).
//!
//! Along a track, positions are every `seed_spacing / 2` from the track's origin (both phases of
//! the protocol spacing); a needle enters the body at its first body voxel and must stop
//! [`OBSTACLE_CLEARANCE_MM`] before its first obstacle (every critical OAR except skin, and the
//! request's needle obstacles, minus the target and don't-care voxels). Tracks are sampled every
//! half of the smallest voxel spacing on the case grid, so a thin obstacle is not jumped over.

use super::region::PlanningRegion;
use super::{FixedSeed, SeedPlanConfig, SeedSettings, SeedStructures};
use crate::PlanError;
use cryoseed_core::{CriticalOar, Mm, PatientPoint, PatientVector};
use cryoseed_volume::{Grid, Mask, centroid, distance_to};
use serde::Serialize;

/// A needle tip stops this far before the first obstacle on its track, mm (half a seed plus the
/// needle's bevel).
pub const OBSTACLE_CLEARANCE_MM: f64 = 3.0;

/// A default template plane lies this far outside the skin point behind the target's centroid,
/// so that needles through every hole start outside a curved body surface, mm.
const TEMPLATE_STANDOFF_MM: f64 = 60.0;

/// Where needles may go.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackSource {
    /// Parallel needles through a template grid.
    Template(TemplateGrid),
    /// Fans of needles from given skin entry points.
    Free(FreeTracks),
}

/// A parallel template grid (module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateGrid {
    /// Needle insertion direction in the patient frame (any non-zero length).
    pub direction: [f64; 3],
    /// A point of the entry plane (the template's centre hole); `None`: 60 mm outside the point
    /// where the line through the target's centroid along `direction` enters the body.
    pub entry_point: Option<PatientPoint>,
    /// Shift of the hole grid in the entry plane along (u, v).
    pub offset: [Mm; 2],
}

impl TemplateGrid {
    /// A template along `direction`, entry plane at the skin, no offset.
    pub fn along(direction: [f64; 3]) -> TemplateGrid {
        TemplateGrid { direction, entry_point: None, offset: [Mm(0.0); 2] }
    }
}

/// Free-hand needles from skin entry points (module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FreeTracks {
    /// Skin entry points.
    pub entry_points: Vec<PatientPoint>,
}

/// A track a needle can follow, as recorded in the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NeedleTrack {
    /// Index of the [`TrackSource`] in the request.
    pub source: usize,
    /// Template hole (a, b), or for a free track the aim-grid point (a, b).
    pub hole: [i32; 2],
    /// For a free track, the index of its entry point.
    pub entry_index: Option<usize>,
    /// Where the needle enters the body.
    pub skin_entry_in_patient: PatientPoint,
    /// Unit insertion direction.
    pub direction: [f64; 3],
}

/// A candidate seed position.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// Index of its track.
    pub track: usize,
    /// Depth along the track from its skin entry.
    pub depth: Mm,
    /// Seed centre.
    pub centre_in_patient: PatientPoint,
}

/// How many tracks one obstacle blocked before they reached the target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BlockedTracks {
    /// Obstacle structure name.
    pub obstacle: String,
    /// Tracks whose first obstacle it is, among those that cross the target.
    pub tracks: usize,
}

/// What the candidate search found: the evidence behind "no feasible track".
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CandidateSummary {
    /// Tracks generated from the sources.
    pub tracks_considered: usize,
    /// Tracks that cross the target (or the don't-care region when seeds may go there).
    pub tracks_crossing_target: usize,
    /// Tracks with at least one candidate.
    pub tracks_with_candidates: usize,
    /// Obstacles that stop tracks crossing the target, by name (sorted).
    pub blocked_by: Vec<BlockedTracks>,
    /// Positions on tracks inside the target.
    pub positions_in_target: usize,
    /// Of those, beyond the first obstacle of their track.
    pub excluded_beyond_obstacle: usize,
    /// Of those, closer than `min_seed_to_oar` to a critical OAR.
    pub excluded_near_oar: usize,
    /// Of those, closer than `min_seed_to_skin` to the skin.
    pub excluded_near_skin: usize,
    /// Of those, closer than half the seed spacing to a fixed seed.
    pub excluded_near_fixed_seed: usize,
    /// Candidate positions left.
    pub candidates: usize,
}

/// A track with the geometry the optimizer and the plan need.
#[derive(Clone, Debug)]
pub(crate) struct Track {
    pub info: NeedleTrack,
}

/// Tracks, candidates and their pairwise conflicts.
#[derive(Clone, Debug)]
pub(crate) struct CandidateSet {
    pub tracks: Vec<Track>,
    pub candidates: Vec<Candidate>,
    /// `conflicts[c]`: candidates that cannot hold a seed together with `c`.
    pub conflicts: Vec<Vec<u32>>,
    pub summary: CandidateSummary,
}

/// Generates the candidates of a request.
pub(crate) fn candidates(
    request: &super::SeedPlanRequest<'_>,
    region: &PlanningRegion,
) -> Result<CandidateSet, PlanError> {
    candidates_for(
        &request.structures,
        &request.settings,
        &request.config,
        &request.tracks,
        &request.fixed_seeds,
        region,
    )
}

pub(crate) fn candidates_for(
    s: &SeedStructures<'_>,
    settings: &SeedSettings,
    config: &SeedPlanConfig,
    sources: &[TrackSource],
    fixed: &[FixedSeed],
    region: &PlanningRegion,
) -> Result<CandidateSet, PlanError> {
    if sources.is_empty() {
        return Err(PlanError::Input { field: "tracks", message: "give at least one track source".to_owned() });
    }
    let obstacles = Obstacles::new(s);
    let centre = centroid(s.target).expect("checked non-empty");
    let target_points: Vec<[f64; 3]> = region.target.voxels().map(|v| region.grid.voxel_centre(v).0).collect();
    let mut tracks = Vec::new();
    let mut lines = Vec::new(); // (origin, direction, t_end)
    for (index, source) in sources.iter().enumerate() {
        match source {
            TrackSource::Template(t) => {
                let d = unit(t.direction).ok_or_else(|| PlanError::Input {
                    field: "tracks.template.direction",
                    message: format!("must be finite and non-zero, got {:?}", t.direction),
                })?;
                let (u, v) = plane_axes(d);
                let entry = match t.entry_point {
                    Some(p) if p.0.iter().all(|c| c.is_finite()) => p.0,
                    Some(p) => {
                        return Err(PlanError::Input {
                            field: "tracks.template.entry_point",
                            message: format!("must be finite, got {:?}", p.0),
                        });
                    }
                    // The skin point behind the centroid, moved back so that every hole's
                    // needle starts outside the body and finds its own skin entry.
                    None => {
                        let skin = skin_point_behind(&region.full_grid, s.body, centre.0, d);
                        std::array::from_fn(|i| skin[i] - TEMPLATE_STANDOFF_MM * d[i])
                    }
                };
                let s_n = settings.needle_spacing.0;
                let ((a0, a1), (b0, b1), t_end) =
                    extent(&target_points, entry, u, v, d, s_n, [t.offset[0].0, t.offset[1].0]);
                for b in b0..=b1 {
                    for a in a0..=a1 {
                        let ou = f64::from(a) * s_n + t.offset[0].0;
                        let ov = f64::from(b) * s_n + t.offset[1].0;
                        let origin = std::array::from_fn(|i| entry[i] + ou * u[i] + ov * v[i]);
                        lines.push((index, [a, b], None, origin, d, t_end));
                    }
                }
            }
            TrackSource::Free(f) => {
                if f.entry_points.is_empty() {
                    return Err(PlanError::Input {
                        field: "tracks.free.entry_points",
                        message: "give at least one entry point".to_owned(),
                    });
                }
                for (e, entry) in f.entry_points.iter().enumerate() {
                    let c = unit(sub(centre.0, entry.0)).ok_or_else(|| PlanError::Input {
                        field: "tracks.free.entry_points",
                        message: format!(
                            "entry point {e} is finite and distinct from the target centroid: got {:?}",
                            entry.0
                        ),
                    })?;
                    let (u, v) = plane_axes(c);
                    let s_n = settings.needle_spacing.0;
                    let ((a0, a1), (b0, b1), _) = extent(&target_points, centre.0, u, v, c, s_n, [0.0, 0.0]);
                    for b in b0..=b1 {
                        for a in a0..=a1 {
                            let aim: [f64; 3] = std::array::from_fn(|i| {
                                centre.0[i] + f64::from(a) * s_n * u[i] + f64::from(b) * s_n * v[i]
                            });
                            let d = unit(sub(aim, entry.0)).expect("aim differs from the entry");
                            let t_end =
                                target_points.iter().map(|p| dot(sub(*p, entry.0), d)).fold(0.0, f64::max) + s_n;
                            lines.push((index, [a, b], Some(e), entry.0, d, t_end));
                        }
                    }
                }
            }
        }
    }

    let step = 0.5 * region.full_grid.spacing_mm().into_iter().fold(f64::INFINITY, f64::min);
    let half = settings.seed_spacing.0 / 2.0;
    let mut summary = CandidateSummary { tracks_considered: lines.len(), ..CandidateSummary::default() };
    let mut blocked: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    let mut candidates = Vec::new();
    let min_sep = settings.seed_spacing.0 / 2.0;
    for (source, hole, entry_index, origin, d, t_end) in lines {
        let Some((t_skin, obstacle)) = march(&region.full_grid, s.body, &obstacles, origin, d, t_end, step) else {
            continue;
        };
        let t_limit = obstacle.map_or(t_end, |(t, _)| t - OBSTACLE_CLEARANCE_MM);
        let track_index = tracks.len();
        let mut crosses = false;
        let mut any = false;
        let k0 = (t_skin / half).ceil() as i64;
        let k1 = (t_end / half).floor() as i64;
        for k in k0..=k1 {
            let t = k as f64 * half;
            let p = PatientPoint(std::array::from_fn(|i| origin[i] + t * d[i]));
            let Some(v) = region.nearest(p) else { continue };
            let in_target = region.target.at(v)
                || (config.candidate_margin.0 > 0.0
                    && region.body.at(v)
                    && !region.dont_care.at(v)
                    && region.to_target.at(v) <= config.candidate_margin.0);
            let in_dont_care = config.allow_seeds_in_dont_care && region.dont_care.at(v);
            if !(in_target || in_dont_care) {
                continue;
            }
            crosses = true;
            summary.positions_in_target += 1;
            if t > t_limit {
                summary.excluded_beyond_obstacle += 1;
            } else if region.distance_lower_bound(&region.to_oar, p, v).0 < settings.min_seed_to_oar.0 {
                summary.excluded_near_oar += 1;
            } else if region.distance_lower_bound(&region.to_skin, p, v).0 < settings.min_seed_to_skin.0 {
                summary.excluded_near_skin += 1;
            } else if fixed.iter().any(|f| f.centre_in_patient.distance_to(p).0 < min_sep) {
                summary.excluded_near_fixed_seed += 1;
            } else {
                any = true;
                candidates.push(Candidate { track: track_index, depth: Mm(t - t_skin), centre_in_patient: p });
            }
        }
        if crosses {
            summary.tracks_crossing_target += 1;
            if !any && let Some((_, name)) = obstacle {
                *blocked.entry(obstacles.names[name].clone()).or_default() += 1;
            }
        }
        if any {
            summary.tracks_with_candidates += 1;
        }
        let skin = PatientPoint(std::array::from_fn(|i| origin[i] + t_skin * d[i]));
        tracks
            .push(Track { info: NeedleTrack { source, hole, entry_index, skin_entry_in_patient: skin, direction: d } });
    }
    summary.blocked_by = blocked.into_iter().map(|(obstacle, tracks)| BlockedTracks { obstacle, tracks }).collect();
    summary.candidates = candidates.len();
    let conflicts = conflicts(&candidates, settings.seed_spacing.0, min_sep);
    Ok(CandidateSet { tracks, candidates, conflicts, summary })
}

/// Pairs that cannot both hold a seed: on one track closer than the seed spacing, on different
/// tracks closer than half of it (converging free tracks).
fn conflicts(candidates: &[Candidate], seed_spacing: f64, min_sep: f64) -> Vec<Vec<u32>> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    let x = |c: usize| candidates[c].centre_in_patient.0[0];
    order.sort_by(|&a, &b| x(a).total_cmp(&x(b)).then(a.cmp(&b)));
    let mut out = vec![Vec::new(); candidates.len()];
    let tol = 1e-6;
    for (n, &a) in order.iter().enumerate() {
        for &b in &order[n + 1..] {
            if x(b) - x(a) >= seed_spacing {
                break;
            }
            let ca = &candidates[a];
            let cb = &candidates[b];
            let limit = if ca.track == cb.track { seed_spacing } else { min_sep };
            if ca.centre_in_patient.distance_to(cb.centre_in_patient).0 < limit - tol {
                out[a].push(b as u32);
                out[b].push(a as u32);
            }
        }
    }
    for list in &mut out {
        list.sort_unstable();
    }
    out
}

/// Structures needles must not cross, on the case grid, minus target and don't-care voxels.
struct Obstacles<'a> {
    masks: Vec<&'a Mask>,
    names: Vec<String>,
    target: &'a Mask,
    dont_care: Option<&'a Mask>,
}

impl<'a> Obstacles<'a> {
    fn new(s: &SeedStructures<'a>) -> Obstacles<'a> {
        let mut masks = Vec::new();
        let mut names = Vec::new();
        for oar in s.oars.iter().filter(|o| o.class != CriticalOar::Skin) {
            masks.push(oar.mask);
            names.push(oar.name.clone());
        }
        for o in &s.needle_obstacles {
            masks.push(o.mask);
            names.push(o.name.clone());
        }
        Obstacles { masks, names, target: s.target, dont_care: s.dont_care }
    }

    fn at(&self, v: [usize; 3]) -> Option<usize> {
        if self.target.at(v) || self.dont_care.is_some_and(|d| d.at(v)) {
            return None;
        }
        self.masks.iter().position(|m| m.at(v))
    }
}

/// Walks a line from t = 0 to `t_end`: the t where it enters the body and the first obstacle
/// after that (t, obstacle index). `None` if it never enters the body.
fn march(
    grid: &Grid,
    body: &Mask,
    obstacles: &Obstacles<'_>,
    origin: [f64; 3],
    d: [f64; 3],
    t_end: f64,
    step: f64,
) -> Option<(f64, Option<(f64, usize)>)> {
    let n = (t_end / step).ceil().max(0.0) as usize;
    let mut t_skin = None;
    for i in 0..=n {
        let t = i as f64 * step;
        let p = PatientPoint(std::array::from_fn(|a| origin[a] + t * d[a]));
        let Some(v) = grid.nearest_voxel(p) else { continue };
        if t_skin.is_none() {
            if body.at(v) {
                t_skin = Some(t);
            } else {
                continue;
            }
        }
        if let Some(o) = obstacles.at(v) {
            return Some((t_skin.expect("set above"), Some((t, o))));
        }
    }
    t_skin.map(|t| (t, None))
}

/// The point where the line through `centre` along `d` enters the body, walking back from the
/// centre (the last body voxel before leaving it), or the grid's edge.
fn skin_point_behind(grid: &Grid, body: &Mask, centre: [f64; 3], d: [f64; 3]) -> [f64; 3] {
    let step = 0.5 * grid.spacing_mm().into_iter().fold(f64::INFINITY, f64::min);
    let mut last = centre;
    for i in 1.. {
        let t = i as f64 * step;
        let p = std::array::from_fn(|a| centre[a] - t * d[a]);
        match grid.nearest_voxel(PatientPoint(p)) {
            Some(v) if body.at(v) => last = p,
            Some(_) => return p,
            None => return last,
        }
    }
    unreachable!("the loop returns when it leaves the grid")
}

/// Hole index ranges covering the projection of the target (plus one hole) and the largest depth.
fn extent(
    points: &[[f64; 3]],
    entry: [f64; 3],
    u: [f64; 3],
    v: [f64; 3],
    d: [f64; 3],
    s: f64,
    offset: [f64; 2],
) -> ((i32, i32), (i32, i32), f64) {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in points {
        let r = sub(*p, entry);
        for (a, axis) in [u, v, d].iter().enumerate() {
            let x = dot(r, *axis);
            lo[a] = lo[a].min(x);
            hi[a] = hi[a].max(x);
        }
    }
    let range = |a: usize| (((lo[a] - offset[a]) / s).floor() as i32 - 1, ((hi[a] - offset[a]) / s).ceil() as i32 + 1);
    (range(0), range(1), hi[2] + s)
}

/// Unit in-plane axes of the plane perpendicular to `d` (module docs).
pub(crate) fn plane_axes(d: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let a = (0..3).min_by(|&i, &j| d[i].abs().total_cmp(&d[j].abs()).then(i.cmp(&j))).expect("three axes");
    let mut e = [0.0; 3];
    e[a] = 1.0;
    let u = unit(cross(e, d)).expect("e is not parallel to d");
    let v = cross(d, u);
    (u, v)
}

pub(crate) fn unit(d: [f64; 3]) -> Option<[f64; 3]> {
    if d.iter().any(|c| !c.is_finite()) {
        return None;
    }
    PatientVector(d).normalized()
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    PatientVector(a).cross(PatientVector(b)).0
}

/// How well a template direction reaches a target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DirectionRank {
    /// The direction (unit).
    pub direction: [f64; 3],
    /// Needles with at least one candidate.
    pub usable_needles: usize,
    /// Candidate positions.
    pub candidates: usize,
    /// Share of target voxels within one seed spacing of a candidate (0–1).
    pub reachable_fraction: f64,
    /// The candidate search's evidence.
    pub summary: CandidateSummary,
}

/// Ranks template directions for a target (skin entry plane, no offset), best first: by the share
/// of target voxels within one seed spacing of a candidate, then by fewer usable needles. Use it
/// to choose the approach before [`super::plan_seeds`].
pub fn rank_template_directions(
    structures: &SeedStructures<'_>,
    settings: &SeedSettings,
    config: &SeedPlanConfig,
    directions: &[[f64; 3]],
) -> Result<Vec<DirectionRank>, PlanError> {
    let mut ranks: Vec<DirectionRank> =
        reach_by_direction(structures, settings, config, directions)?.into_iter().map(|(r, _)| r).collect();
    ranks.sort_by(|a, b| {
        b.reachable_fraction.total_cmp(&a.reachable_fraction).then(a.usable_needles.cmp(&b.usable_needles))
    });
    Ok(ranks)
}

/// Chooses up to `max_templates` template directions among `directions` greedily: first the one
/// that reaches most of the target (as [`rank_template_directions`]), then each one that adds the
/// most reached target voxels. A direction is added while it adds at least 2 % of the target, or
/// while the chosen templates offer fewer than `min_candidates_per_ml` candidate positions per mL
/// of target (a small target needs seeds closer than one 10 mm lattice allows: needles from
/// several directions interleave). Directions parallel to a chosen one (same or opposite) are
/// skipped: they give the same needle lines.
pub fn choose_templates(
    structures: &SeedStructures<'_>,
    settings: &SeedSettings,
    config: &SeedPlanConfig,
    directions: &[[f64; 3]],
    max_templates: usize,
    min_candidates_per_ml: f64,
) -> Result<Vec<TemplateGrid>, PlanError> {
    let reached = reach_by_direction(structures, settings, config, directions)?;
    let n = structures.target.count().max(1);
    let volume_ml = structures.target.volume().0;
    let mut covered = vec![false; reached.first().map_or(0, |r| r.1.len())];
    let mut chosen: Vec<TemplateGrid> = Vec::new();
    let mut candidates = 0usize;
    let mut used = vec![false; reached.len()];
    while chosen.len() < max_templates {
        let gain = |i: usize| reached[i].1.iter().zip(&covered).filter(|(r, c)| **r && !**c).count();
        let parallel = |i: usize| {
            chosen.iter().any(|t| dot(unit(t.direction).unwrap_or([0.0; 3]), reached[i].0.direction).abs() > 0.999)
        };
        let best =
            (0..reached.len()).filter(|&i| !used[i] && !parallel(i) && reached[i].0.candidates > 0).max_by(|&a, &b| {
                gain(a).cmp(&gain(b)).then(reached[a].0.candidates.cmp(&reached[b].0.candidates)).then(b.cmp(&a))
            });
        let Some(best) = best else { break };
        let g = gain(best);
        let sparse = (candidates as f64) < min_candidates_per_ml * volume_ml;
        if !chosen.is_empty() && (g as f64) < 0.02 * n as f64 && !sparse {
            break;
        }
        used[best] = true;
        candidates += reached[best].0.candidates;
        for (c, r) in covered.iter_mut().zip(&reached[best].1) {
            *c |= *r;
        }
        chosen.push(TemplateGrid::along(reached[best].0.direction));
    }
    Ok(chosen)
}

/// Per direction: its rank and which target voxels (in the target's voxel order) it reaches.
fn reach_by_direction(
    structures: &SeedStructures<'_>,
    settings: &SeedSettings,
    config: &SeedPlanConfig,
    directions: &[[f64; 3]],
) -> Result<Vec<(DirectionRank, Vec<bool>)>, PlanError> {
    super::region::check_structures(structures)?;
    let region = PlanningRegion::new(structures, settings, config)?;
    let mut out = Vec::with_capacity(directions.len());
    for &direction in directions {
        let set = candidates_for(
            structures,
            settings,
            config,
            &[TrackSource::Template(TemplateGrid::along(direction))],
            &[],
            &region,
        )?;
        let mut at = Mask::empty(region.grid);
        for c in &set.candidates {
            if let Some(v) = region.nearest(c.centre_in_patient) {
                at.set(v, true);
            }
        }
        let reach = distance_to(&at);
        let reached: Vec<bool> = region.target.voxels().map(|v| reach.at(v) <= settings.seed_spacing.0).collect();
        let n = reached.len().max(1);
        let rank = DirectionRank {
            direction: unit(direction).unwrap_or(direction),
            usable_needles: set.summary.tracks_with_candidates,
            candidates: set.candidates.len(),
            reachable_fraction: reached.iter().filter(|r| **r).count() as f64 / n as f64,
            summary: set.summary,
        };
        out.push((rank, reached));
    }
    Ok(out)
}
