//! The optimizer: lazy greedy addition, then simulated annealing, on a penalty objective over the
//! sample points, in rounds with a far-dose correction and a check on the voxels.
//!
//! # Objective (smaller is better)
//!
//! Every sample point stands for a volume (a lattice cell, or one voxel for OAR voxels near the
//! target); shares and volumes below are volume-weighted. With `f_x` the share of the target at
//! ≥ x (D90 threshold, Rx, 1.5 Rx, 2 Rx), δ the internal coverage margin and η the hot-spot
//! margin (both 2 % at first):
//!
//! - goals (strong, [`W_GOAL`] per unit share): `relu(0.90 + δ − f_D90) + relu(g100 + δ − f_100)
//!   + relu(f_150 − g150 + η) + relu(f_200 − g200 + η)`;
//! - coverage drive ([`W_COVERAGE`]): mean over the target of `relu(1 − d/Rx)²`, which gives
//!   the greedy phase a gradient where the goal counts are flat;
//! - each OAR with a limit `DXcc ≤ L` (strong, [`W_OAR`]): `relu(V(≥ L·κ) − X)/X` plus
//!   `Σ w·relu(d/(L·κ) − 1)² / X` over its points, κ = 0.95;
//! - spill into the normal-tissue shell ([`W_SPILL`]): mean of `relu(d/Rx − 1)`;
//! - cost ([`W_SEED`] per seed, [`W_NEEDLE`] per needle).
//!
//! When the plan fails on the voxels, only what failed is tightened for the next round, by at
//! least what it missed by: δ (coverage), η (V150/V200), κ (an OAR limit, relative excess, at
//! least 0.05). When coverage fails while an OAR holds its limit at ≥ 90 % of it, κ is raised by
//! 0.03 (at most 0.98) to give coverage the OAR's remaining slack. Tightening every margin at once made coverage and hot spots fight each other on
//! thin margin zones, and later rounds came out worse than the first.
//!
//! Every term is a function of per-point sums, so a move (add, remove or move one seed) updates
//! only the points within the cut-off of the seeds it touches.

use super::evaluate::{SeedPlanVerdict, evaluate_seed_dose};
use super::influence::{DoseInfluence, SampleKind};
use super::region::PlanningRegion;
use super::tracks::CandidateSet;
use super::{
    FixedSeed, PlannedNeedle, PlannedSeed, SeedOar, SeedPlan, SeedPlanOutcome, SeedPlanRequest, SeedStructures,
    implant_of,
};
use crate::PlanError;
use cryoseed_core::Gy;
use cryoseed_dose::{DoseGridConfig, dose_grid};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Weight of a goal term, per unit share of the target (10 per percent).
pub const W_GOAL: f64 = 1000.0;
/// Weight of the coverage drive.
pub const W_COVERAGE: f64 = 100.0;
/// Weight of an OAR term.
pub const W_OAR: f64 = 1000.0;
/// Weight of the spill term.
pub const W_SPILL: f64 = 10.0;
/// Cost of one seed.
pub const W_SEED: f64 = 1.0;
/// Cost of one needle (a puncture costs more than a seed).
pub const W_NEEDLE: f64 = 3.0;
/// Rounds of optimization at most (each after the first with the far-dose correction).
pub const MAX_ROUNDS: usize = 5;

/// What the optimizer did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OptimizerSummary {
    /// Target sample points.
    pub target_points: usize,
    /// OAR sample points.
    pub oar_points: usize,
    /// Normal-tissue shell sample points.
    pub shell_points: usize,
    /// Volume each sample stands for.
    pub volume_per_point: f64,
    /// Stored influence entries (candidate × point within the cut-off).
    pub influence_entries: usize,
    /// Rounds run.
    pub rounds: usize,
    /// Annealing moves tried, all rounds.
    pub moves_tried: usize,
    /// Moves accepted.
    pub moves_accepted: usize,
    /// Internal goal margin of the last round, % of the target.
    pub internal_margin_percent: f64,
    /// Largest far-dose correction (dose beyond the cut-off) at a sample point in the last round.
    pub max_far_correction: Gy,
    /// Objective at the end.
    pub objective: f64,
}

/// The objective's parameters for one round.
#[derive(Clone, Debug)]
struct Params {
    d90_dose: f32,
    rx: f32,
    rx150: f32,
    rx200: f32,
    /// Target volume the samples stand for, mL.
    target_ml: f64,
    g_d90: f64,
    g100: f64,
    g150: f64,
    g200: f64,
    /// Per OAR: (internal limit, limit volume in mL) or None.
    oar_limits: Vec<Option<(f32, f64)>>,
    /// Normal-tissue shell volume the samples stand for, mL.
    shell_ml: f64,
}

/// Per-point sums (weighted by the volume each point stands for, mL) the objective is a
/// function of.
#[derive(Clone, Debug, Default)]
struct Sums {
    under_sq: f64,
    c_d90: f64,
    c100: f64,
    c150: f64,
    c200: f64,
    oar_above: Vec<f64>,
    oar_over_sq: Vec<f64>,
    spill: f64,
}

impl Params {
    #[inline]
    fn add_point(&self, sums: &mut Sums, kind: SampleKind, w: f32, d: f32, sign: f64) {
        let s = sign * f64::from(w);
        let ind = |x: bool| if x { s } else { 0.0 };
        match kind {
            SampleKind::Target => {
                let u = (1.0 - d / self.rx).max(0.0) as f64;
                sums.under_sq += s * u * u;
                sums.c_d90 += ind(d >= self.d90_dose);
                sums.c100 += ind(d >= self.rx);
                sums.c150 += ind(d >= self.rx150);
                sums.c200 += ind(d >= self.rx200);
            }
            SampleKind::Oar(o) => {
                if let Some((limit, _)) = self.oar_limits[o as usize] {
                    let o = o as usize;
                    sums.oar_above[o] += ind(d >= limit);
                    let x = (d / limit - 1.0).max(0.0) as f64;
                    sums.oar_over_sq[o] += s * x * x;
                }
            }
            SampleKind::Shell => sums.spill += s * (d / self.rx - 1.0).max(0.0) as f64,
        }
    }

    fn objective(&self, sums: &Sums, seeds: usize, needles: usize) -> f64 {
        let n = self.target_ml.max(1e-9);
        let share = |c: f64| c / n;
        let relu = |x: f64| x.max(0.0);
        let mut f = W_GOAL
            * (relu(self.g_d90 - share(sums.c_d90))
                + relu(self.g100 - share(sums.c100))
                + relu(share(sums.c150) - self.g150)
                + relu(share(sums.c200) - self.g200));
        f += W_COVERAGE * sums.under_sq / n;
        for (o, limit) in self.oar_limits.iter().enumerate() {
            if let Some((_, volume_ml)) = limit {
                let v = volume_ml.max(1e-3);
                f += W_OAR * relu(sums.oar_above[o] - v) / v;
                f += W_OAR * sums.oar_over_sq[o] / v;
            }
        }
        f += W_SPILL * sums.spill / self.shell_ml.max(1e-9);
        f + W_SEED * seeds as f64 + W_NEEDLE * needles as f64
    }
}

/// The search state.
struct State<'a> {
    inf: &'a DoseInfluence,
    set: &'a CandidateSet,
    params: &'a Params,
    dose: Vec<f32>,
    selected: Vec<bool>,
    /// Selected candidates, and each one's position in this list.
    chosen: Vec<u32>,
    slot: Vec<u32>,
    blocked: Vec<u32>,
    per_track: Vec<u32>,
    needles: usize,
    sums: Sums,
}

impl<'a> State<'a> {
    fn new(inf: &'a DoseInfluence, set: &'a CandidateSet, params: &'a Params, base: Vec<f32>) -> State<'a> {
        let n_oars = params.oar_limits.len();
        let mut state = State {
            inf,
            set,
            params,
            dose: base,
            selected: vec![false; set.candidates.len()],
            chosen: Vec::new(),
            slot: vec![u32::MAX; set.candidates.len()],
            blocked: vec![0; set.candidates.len()],
            per_track: vec![0; set.tracks.len()],
            needles: 0,
            sums: Sums { oar_above: vec![0.0; n_oars], oar_over_sq: vec![0.0; n_oars], ..Sums::default() },
        };
        state.recompute_sums();
        state
    }

    fn recompute_sums(&mut self) {
        let n_oars = self.params.oar_limits.len();
        let mut sums = Sums { oar_above: vec![0.0; n_oars], oar_over_sq: vec![0.0; n_oars], ..Sums::default() };
        let samples = &self.inf.samples;
        for (i, &d) in self.dose.iter().enumerate() {
            self.params.add_point(&mut sums, samples.kinds[i], samples.weights[i], d, 1.0);
        }
        self.sums = sums;
    }

    fn objective(&self) -> f64 {
        self.params.objective(&self.sums, self.chosen.len(), self.needles)
    }

    fn can_add(&self, c: usize) -> bool {
        !self.selected[c] && self.blocked[c] == 0
    }

    fn apply(&mut self, c: usize, sign: f32) {
        let (idx, val) = self.inf.column(c);
        let kinds = &self.inf.samples.kinds;
        let weights = &self.inf.samples.weights;
        for (&i, &v) in idx.iter().zip(val) {
            let i = i as usize;
            let old = self.dose[i];
            let new = old + sign * v;
            self.params.add_point(&mut self.sums, kinds[i], weights[i], old, -1.0);
            self.params.add_point(&mut self.sums, kinds[i], weights[i], new, 1.0);
            self.dose[i] = new;
        }
    }

    fn add(&mut self, c: usize) {
        debug_assert!(self.can_add(c));
        self.apply(c, 1.0);
        self.selected[c] = true;
        self.slot[c] = self.chosen.len() as u32;
        self.chosen.push(c as u32);
        for &o in &self.set.conflicts[c] {
            self.blocked[o as usize] += 1;
        }
        let t = self.set.candidates[c].track;
        self.per_track[t] += 1;
        if self.per_track[t] == 1 {
            self.needles += 1;
        }
    }

    fn remove(&mut self, c: usize) {
        debug_assert!(self.selected[c]);
        self.apply(c, -1.0);
        self.selected[c] = false;
        let s = self.slot[c] as usize;
        let last = *self.chosen.last().expect("c is chosen");
        self.chosen.swap_remove(s);
        if (last as usize) != c {
            self.slot[last as usize] = s as u32;
        }
        self.slot[c] = u32::MAX;
        for &o in &self.set.conflicts[c] {
            self.blocked[o as usize] -= 1;
        }
        let t = self.set.candidates[c].track;
        self.per_track[t] -= 1;
        if self.per_track[t] == 0 {
            self.needles -= 1;
        }
    }

    /// The objective after adding `c`, without changing the state.
    fn objective_with(&self, c: usize) -> f64 {
        let mut sums = self.sums.clone();
        let (idx, val) = self.inf.column(c);
        let kinds = &self.inf.samples.kinds;
        let weights = &self.inf.samples.weights;
        for (&i, &v) in idx.iter().zip(val) {
            let i = i as usize;
            let old = self.dose[i];
            self.params.add_point(&mut sums, kinds[i], weights[i], old, -1.0);
            self.params.add_point(&mut sums, kinds[i], weights[i], old + v, 1.0);
        }
        let t = self.set.candidates[c].track;
        let needles = self.needles + usize::from(self.per_track[t] == 0);
        self.params.objective(&sums, self.chosen.len() + 1, needles)
    }
}

/// A heap entry of the lazy greedy: smallest objective first, then lowest index.
#[derive(PartialEq)]
struct Entry(f64, u32);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// Lazy greedy: add the candidate that lowers the objective most until none does.
fn greedy(state: &mut State<'_>) {
    let n = state.set.candidates.len();
    let current = state.objective();
    let first: Vec<f64> = (0..n).into_par_iter().map(|c| state.objective_with(c) - current).collect();
    let mut heap: BinaryHeap<Entry> = first.into_iter().enumerate().map(|(c, d)| Entry(d, c as u32)).collect();
    while let Some(Entry(_, c)) = heap.pop() {
        let c = c as usize;
        if !state.can_add(c) {
            continue;
        }
        let delta = state.objective_with(c) - state.objective();
        if delta >= 0.0 {
            // Stale entries only get worse as dose accumulates: when the best fresh delta does
            // not improve, stop if it is also the best stale one.
            if heap.peek().is_none_or(|e| e.0 >= 0.0) {
                break;
            }
            continue;
        }
        if heap.peek().is_none_or(|e| delta <= e.0) {
            state.add(c);
        } else {
            heap.push(Entry(delta, c as u32));
        }
    }
}

/// Simulated annealing with add / remove / move, Metropolis acceptance, geometric cooling.
fn anneal(
    state: &mut State<'_>,
    neighbours: &[Vec<u32>],
    rng: &mut ChaCha8Rng,
    moves: usize,
    t0: f64,
) -> (usize, usize) {
    let n = state.set.candidates.len();
    if n == 0 {
        return (0, 0);
    }
    let t_end = 0.01;
    let cooling = (t_end / t0).powf(1.0 / moves.max(1) as f64);
    let mut temperature = t0;
    let mut accepted = 0;
    let mut current = state.objective();
    for _ in 0..moves {
        temperature *= cooling;
        let r: f64 = rng.random();
        let accept =
            |delta: f64, rng: &mut ChaCha8Rng| delta <= 0.0 || rng.random::<f64>() < (-delta / temperature).exp();
        if r < 0.3 || state.chosen.is_empty() {
            let c = rng.random_range(0..n);
            if !state.can_add(c) {
                continue;
            }
            state.add(c);
            let new = state.objective();
            if accept(new - current, rng) {
                current = new;
                accepted += 1;
            } else {
                state.remove(c);
            }
        } else if r < 0.55 {
            let c = state.chosen[rng.random_range(0..state.chosen.len())] as usize;
            state.remove(c);
            let new = state.objective();
            if accept(new - current, rng) {
                current = new;
                accepted += 1;
            } else {
                state.add(c);
            }
        } else {
            let c = state.chosen[rng.random_range(0..state.chosen.len())] as usize;
            let near = &neighbours[c];
            if near.is_empty() {
                continue;
            }
            let to = near[rng.random_range(0..near.len())] as usize;
            state.remove(c);
            if !state.can_add(to) {
                state.add(c);
                continue;
            }
            state.add(to);
            let new = state.objective();
            if accept(new - current, rng) {
                current = new;
                accepted += 1;
            } else {
                state.remove(to);
                state.add(c);
            }
        }
    }
    (moves, accepted)
}

/// Tries to remove each seed in turn (in index order), keeping removals that do not worsen the
/// objective.
fn polish(state: &mut State<'_>) {
    let mut chosen = state.chosen.clone();
    chosen.sort_unstable();
    for c in chosen {
        let before = state.objective();
        state.remove(c as usize);
        if state.objective() > before {
            state.add(c as usize);
        }
    }
}

/// Candidates within 1.2 needle spacings of each candidate, for the move step.
fn neighbours(set: &CandidateSet, radius: f64) -> Vec<Vec<u32>> {
    let c = &set.candidates;
    let mut order: Vec<usize> = (0..c.len()).collect();
    let x = |i: usize| c[i].centre_in_patient.0[0];
    order.sort_by(|&a, &b| x(a).total_cmp(&x(b)).then(a.cmp(&b)));
    let mut out = vec![Vec::new(); c.len()];
    for (n, &a) in order.iter().enumerate() {
        for &b in &order[n + 1..] {
            if x(b) - x(a) > radius {
                break;
            }
            if c[a].centre_in_patient.distance_to(c[b].centre_in_patient).0 <= radius {
                out[a].push(b as u32);
                out[b].push(a as u32);
            }
        }
    }
    for l in &mut out {
        l.sort_unstable();
    }
    out
}

/// Runs the rounds and builds the plan (module docs).
pub(crate) fn optimize(
    request: &SeedPlanRequest<'_>,
    region: &PlanningRegion,
    set: &CandidateSet,
    inf: &DoseInfluence,
) -> Result<SeedPlanOutcome, PlanError> {
    let settings = &request.settings;
    let kinds = &inf.samples.kinds;
    let weights = &inf.samples.weights;
    let n_target = kinds.iter().filter(|k| **k == SampleKind::Target).count();
    let n_shell = kinds.iter().filter(|k| **k == SampleKind::Shell).count();
    let volume_of = |kind: SampleKind| -> f64 {
        kinds.iter().zip(weights).filter(|(k, _)| **k == kind).map(|(_, w)| f64::from(*w)).sum()
    };
    let (target_ml, shell_ml) = (volume_of(SampleKind::Target), volume_of(SampleKind::Shell));
    let mut summary = OptimizerSummary {
        target_points: n_target,
        oar_points: kinds.iter().filter(|k| matches!(k, SampleKind::Oar(_))).count(),
        shell_points: n_shell,
        volume_per_point: inf.samples.volume_per_point_ml,
        influence_entries: inf.entries(),
        ..OptimizerSummary::default()
    };
    let rx = settings.prescription.0 as f32;
    let g = settings.goals;
    let neighbours = neighbours(set, 1.2 * settings.needle_spacing.0.max(settings.seed_spacing.0));
    let mut rng = ChaCha8Rng::seed_from_u64(request.config.rng_seed);
    let mut correction = vec![0f32; inf.background.len()];
    let mut selection: Vec<u32> = Vec::new();
    // Internal margins, each tightened only when its own goal fails on the voxels (module docs).
    let mut margin = 0.02;
    let mut hot_margin = 0.02;
    let mut oar_factor = 0.95f64;
    let mut best: Option<(f64, SeedPlanOutcome)> = None;
    for round in 0..MAX_ROUNDS {
        let params = Params {
            d90_dose: (f64::from(rx) * g.min_d90_percent_rx.0 / 100.0) as f32,
            rx,
            rx150: 1.5 * rx,
            rx200: 2.0 * rx,
            target_ml,
            g_d90: 0.90 + margin,
            g100: g.min_v100_percent.0 / 100.0 + margin,
            g150: g.max_v150_percent.0 / 100.0 - hot_margin,
            g200: g.max_v200_percent.0 / 100.0 - hot_margin,
            oar_limits: request
                .structures
                .oars
                .iter()
                .map(|o| o.limit.map(|l| ((l.max_dose_gy.0 * oar_factor) as f32, l.volume_cc.0)))
                .collect(),
            shell_ml,
        };
        let base: Vec<f32> = inf.background.iter().zip(&correction).map(|(b, c)| b + c).collect();
        let mut state = State::new(inf, set, &params, base);
        for &c in &selection {
            if state.can_add(c as usize) {
                state.add(c as usize);
            }
        }
        if state.chosen.is_empty() {
            greedy(&mut state);
        }
        let t0 = if round == 0 { 3.0 } else { 0.5 };
        let moves =
            if round == 0 { request.config.iterations_per_round } else { request.config.iterations_per_round / 4 };
        let (tried, accepted) = anneal(&mut state, &neighbours, &mut rng, moves, t0);
        // Random add moves rarely hit a free candidate late in the search: finish greedily.
        greedy(&mut state);
        polish(&mut state);
        state.recompute_sums();
        summary.rounds = round + 1;
        summary.moves_tried += tried;
        summary.moves_accepted += accepted;
        summary.internal_margin_percent = 100.0 * margin;
        summary.objective = state.objective();
        selection = state.chosen.clone();
        selection.sort_unstable();

        // Far-dose correction: the exact dose of the chosen seeds minus their truncated dose.
        let seeds: Vec<FixedSeed> = selection
            .iter()
            .map(|&c| {
                let cand = &set.candidates[c as usize];
                FixedSeed {
                    centre_in_patient: cand.centre_in_patient,
                    axis_in_patient: Some(set.tracks[cand.track].info.direction),
                }
            })
            .collect();
        let exact = inf.exact_dose(&seeds);
        let mut truncated = vec![0f32; exact.len()];
        for &c in &selection {
            let (idx, val) = inf.column(c as usize);
            for (&i, &v) in idx.iter().zip(val) {
                truncated[i as usize] += v;
            }
        }
        correction = exact.iter().zip(&truncated).map(|(e, t)| e - t).collect();
        summary.max_far_correction = Gy(f64::from(correction.iter().copied().fold(0.0, f32::max)));
        if round == 0 && !selection.is_empty() {
            // Re-optimize once with the correction before judging on the voxels.
            continue;
        }
        let outcome = build_plan(request, region, set, &selection, summary.clone())?;
        let passes = outcome.plan.evaluation.passes();
        let misses = Misses::of(&outcome.plan.evaluation);
        let shortfall = total_shortfall(&outcome);
        if best.as_ref().is_none_or(|(s, _)| shortfall < *s) {
            best = Some((shortfall, outcome));
        }
        if passes || set.candidates.is_empty() {
            break;
        }
        // Tighten what failed, by at least the amount it failed by.
        if let Some(deficit) = misses.coverage_deficit {
            margin += deficit.max(0.02);
        }
        if let Some(excess) = misses.hot_excess {
            hot_margin += excess.max(0.02);
        }
        if let Some(over) = misses.oar_excess {
            oar_factor = (oar_factor - over.max(0.05)).max(0.3);
        } else if misses.coverage_deficit.is_some() && misses.oar_near_limit {
            // Coverage fails against an OAR that holds its limit: the OAR voxels near the target
            // are sampled in full, so most of the remaining slack can go to coverage.
            oar_factor = (oar_factor + 0.03).min(0.98);
        }
    }
    Ok(best.expect("at least one round is evaluated").1)
}

/// By how much the goals failed on the voxels, as shares (coverage and hot spots) and as a
/// fraction of the limit (OARs); `None` where nothing failed.
struct Misses {
    coverage_deficit: Option<f64>,
    hot_excess: Option<f64>,
    oar_excess: Option<f64>,
    /// Some OAR is at ≥ 90 % of its limit.
    oar_near_limit: bool,
}

impl Misses {
    fn of(e: &super::SeedPlanEvaluation) -> Misses {
        // Goals are D90, V100, V150, V200 in that order (`evaluate_seed_dose`).
        let failed = |i: usize| e.goals.get(i).filter(|g| !g.passed).map(|g| -g.margin);
        let coverage_deficit = match (failed(0), failed(1)) {
            (None, None) => None,
            (_, v100) => Some(v100.map_or(0.0, |m| m / 100.0)),
        };
        let hot_excess = match (failed(2), failed(3)) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0).max(b.unwrap_or(0.0)) / 100.0),
        };
        let oar_excess = e
            .oars
            .iter()
            .filter(|o| !o.passed)
            .filter_map(|o| {
                let (value, margin) = (o.value?.0, o.margin?.0);
                let limit = value + margin;
                (limit > 0.0).then(|| -margin / limit)
            })
            .reduce(f64::max);
        let oar_near_limit = e.oars.iter().any(|o| match (o.value, o.margin) {
            (Some(v), Some(m)) => v.0 + m.0 > 0.0 && v.0 >= 0.9 * (v.0 + m.0),
            _ => false,
        });
        Misses { coverage_deficit, hot_excess, oar_excess, oar_near_limit }
    }
}

/// Sum of relative misses, to keep the best of several infeasible rounds (an OAR over its limit
/// counts 1 plus its excess / 100 Gy).
fn total_shortfall(outcome: &SeedPlanOutcome) -> f64 {
    let e = &outcome.plan.evaluation;
    let goals: f64 = e.goals.iter().map(|g| (-g.margin).max(0.0) / g.threshold.abs().max(1.0)).sum();
    // An OAR over its limit ranks below any coverage shortfall.
    let oars: f64 = e.oars.iter().filter_map(|o| o.margin.filter(|m| m.0 < 0.0).map(|m| 1.0 - m.0 / 100.0)).sum();
    goals + oars + 1e-6 * outcome.plan.seeds.len() as f64
}

/// The plan record and its dose on the voxels for a selection of candidates.
fn build_plan(
    request: &SeedPlanRequest<'_>,
    region: &PlanningRegion,
    set: &CandidateSet,
    selection: &[u32],
    summary: OptimizerSummary,
) -> Result<SeedPlanOutcome, PlanError> {
    // Needles in track order, seeds by depth.
    let mut by_track: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for &c in selection {
        by_track.entry(set.candidates[c as usize].track).or_default().push(c as usize);
    }
    let mut seeds: Vec<PlannedSeed> = request
        .fixed_seeds
        .iter()
        .map(|f| PlannedSeed {
            centre_in_patient: f.centre_in_patient,
            axis_in_patient: f.axis_in_patient,
            needle: None,
            depth: None,
        })
        .collect();
    let mut needles = Vec::with_capacity(by_track.len());
    for (n, (track, mut cands)) in by_track.into_iter().enumerate() {
        cands.sort_by(|&a, &b| set.candidates[a].depth.0.total_cmp(&set.candidates[b].depth.0));
        let deepest = &set.candidates[*cands.last().expect("non-empty")];
        needles.push(PlannedNeedle {
            number: n + 1,
            track: set.tracks[track].info.clone(),
            deepest_seed_in_patient: deepest.centre_in_patient,
            depth: deepest.depth,
            seed_count: cands.len(),
        });
        for c in cands {
            let cand = &set.candidates[c];
            seeds.push(PlannedSeed {
                centre_in_patient: cand.centre_in_patient,
                axis_in_patient: Some(set.tracks[track].info.direction),
                needle: Some(n + 1),
                depth: Some(cand.depth),
            });
        }
    }
    let dose = if seeds.is_empty() {
        cryoseed_volume::Field::filled(region.grid, 0.0f32)
    } else {
        let implant = implant_of(&seeds, &request.model, request.settings.air_kerma_strength)?;
        dose_grid(&implant, &region.grid, &DoseGridConfig::default())
            .map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })?
    };
    let cropped = cropped_structures(request, region);
    let evaluation = evaluate_seed_dose(&dose, &cropped, &request.settings)?;
    let mut reasons = Vec::new();
    if set.candidates.is_empty() {
        reasons.push(no_track_reason(set));
    }
    reasons.extend(evaluation.failures());
    if !reasons.is_empty() {
        reasons.extend(coverage_limits(request, region, &dose, &evaluation));
    }
    let verdict =
        if reasons.is_empty() { SeedPlanVerdict::MeetsGoals } else { SeedPlanVerdict::Infeasible { reasons } };
    let plan = SeedPlan {
        settings: request.settings.clone(),
        config: request.config,
        needles,
        seeds,
        candidates: set.summary.clone(),
        optimizer: summary,
        evaluation,
        verdict,
    };
    Ok(SeedPlanOutcome { plan, dose })
}

/// The structures on the region's grid.
pub(crate) fn cropped_structures<'r>(request: &SeedPlanRequest<'_>, region: &'r PlanningRegion) -> SeedStructures<'r> {
    SeedStructures {
        target: &region.target,
        dont_care: Some(&region.dont_care),
        body: &region.body,
        oars: request
            .structures
            .oars
            .iter()
            .zip(&region.oars)
            .map(|(o, m)| SeedOar { name: o.name.clone(), class: o.class, mask: m, limit: o.limit })
            .collect(),
        needle_obstacles: Vec::new(),
    }
}

/// When a coverage goal fails: each OAR whose limit is (nearly) reached, with the share of the
/// under-dosed target near it, where the placement rule keeps seeds away. Such a shortfall cannot
/// be fixed by more seeds: the seeds that would cover that part of the target would put the OAR
/// over its limit.
fn coverage_limits(
    request: &SeedPlanRequest<'_>,
    region: &PlanningRegion,
    dose: &cryoseed_volume::Field<f32>,
    evaluation: &super::SeedPlanEvaluation,
) -> Vec<String> {
    // Goals are D90, V100, V150, V200 in that order.
    if evaluation.goals.iter().take(2).all(|g| g.passed) {
        return Vec::new();
    }
    let rx = request.settings.prescription.0 as f32;
    let near = request.settings.min_seed_to_oar.0 + request.settings.seed_spacing.0;
    let cold: Vec<[usize; 3]> = region.target.voxels().filter(|&v| dose.at(v) < rx).collect();
    if cold.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for ((oar, mask), check) in request.structures.oars.iter().zip(&region.oars).zip(&evaluation.oars) {
        let (Some(value), Some(margin), Some(limit_text)) = (check.value, check.margin, check.limit.as_deref()) else {
            continue;
        };
        let limit = value.0 + margin.0;
        if oar.class == cryoseed_core::CriticalOar::Skin || limit <= 0.0 || value.0 < 0.9 * limit || mask.is_empty() {
            continue;
        }
        let to_oar = cryoseed_volume::distance_to(mask);
        let close = cold.iter().filter(|&&v| to_oar.at(v) <= near).count();
        let share = 100.0 * close as f64 / cold.len() as f64;
        out.push(format!(
            "coverage is limited by {}: {} is at {:.1} Gy ({:.0} % of its limit) and {:.0} % of the under-dosed target lies within {:.0} mm of it, where no seed may be placed closer than {:.0} mm; more seeds there would exceed its limit",
            oar.name,
            limit_text,
            value.0,
            100.0 * value.0 / limit,
            share,
            near,
            request.settings.min_seed_to_oar.0
        ));
    }
    out
}

fn no_track_reason(set: &CandidateSet) -> String {
    let s = &set.summary;
    let blocked: Vec<String> =
        s.blocked_by.iter().map(|b| format!("{} tracks stopped by {}", b.tracks, b.obstacle)).collect();
    format!(
        "no feasible needle track: of {} tracks, {} cross the target; of {} positions in the target, {} lie beyond an obstacle, {} within the OAR distance, {} within the skin distance, {} next to a placed seed{}",
        s.tracks_considered,
        s.tracks_crossing_target,
        s.positions_in_target,
        s.excluded_beyond_obstacle,
        s.excluded_near_oar,
        s.excluded_near_skin,
        s.excluded_near_fixed_seed,
        if blocked.is_empty() { String::new() } else { format!(" ({})", blocked.join(", ")) }
    )
}
