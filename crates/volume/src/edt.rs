//! Exact Euclidean distance transform on anisotropic grids.
//!
//! The transform is the separable algorithm of Felzenszwalb & Huttenlocher, "Distance Transforms
//! of Sampled Functions", Theory of Computing 8:415–428 (2012): the squared distance
//! `min_q (sx²(i−qi)² + sy²(j−qj)² + sz²(k−qk)²)` splits into three 1-D minimisations, one per
//! axis, each solved exactly in linear time as the lower envelope of the parabolas
//! `w·(p − q)² + f(q)` with weight `w` the squared spacing of that axis. Working values are squared
//! millimetres in `f64`, so results are exact to rounding (≈1e-12 mm), not to a chamfer
//! approximation.
//!
//! # Voxel-centre convention
//!
//! Distances are measured between voxel centres, with no half-voxel correction: a voxel next to a
//! structure is one spacing from it, not half a spacing. A voxel is either inside (negative signed
//! distance) or outside (positive), so every signed distance is at least the smallest spacing in
//! magnitude and none is 0.
//!
//! # Layout of the computation
//!
//! Storage is x-fastest. The x pass and the y pass run together on one z slab at a time (a slab
//! of a 512×512 CT slice is 2 MB and stays in cache), slabs in parallel. The x pass needs no
//! parabolas: along one row, the distance to the nearest inside voxel is a forward and a backward
//! scan. The y and z passes gather a block of 16 neighbouring columns into a per-thread
//! scratch buffer so that every column is contiguous, transform them, and scatter them back; the z
//! pass runs in parallel over the `j` index, whose rows are disjoint slices of the array.

use crate::grid::{Field, Mask, VoxelBox};
use rayon::prelude::*;

/// Columns gathered together in the y and z passes. Sixteen `f64` are two cache lines of each
/// row, so a gather reads whole lines, and the scratch block (16 columns × a few hundred voxels)
/// stays in L1/L2.
const BLOCK: usize = 16;

/// For every voxel, the distance (mm) from its centre to the nearest voxel centre inside `mask`:
/// 0 inside, `+∞` everywhere if the mask is empty.
///
/// ```
/// use cryoseed_core::{Mm, PatientPoint};
/// use cryoseed_volume::{distance_to, Grid, Mask};
/// let grid = Grid::new([5, 1, 1], [Mm(2.0), Mm(1.0), Mm(1.0)], PatientPoint::default()).unwrap();
/// let mut mask = Mask::empty(grid);
/// mask.set([1, 0, 0], true);
/// assert_eq!(distance_to(&mask).as_slice(), &[2.0, 0.0, 2.0, 4.0, 6.0]);
/// ```
pub fn distance_to(mask: &Mask) -> Field<f64> {
    let grid = *mask.grid();
    let distances = transform(grid.dims(), grid.spacing_mm(), mask.as_slice(), Output::Distance);
    Field::from_vec(grid, distances).expect("the transform yields one value per voxel")
}

/// Signed distance (mm) to the boundary of `mask`: for a voxel outside, the distance to the
/// nearest voxel centre inside (as [`distance_to`]); for a voxel inside, minus the distance to the
/// nearest voxel centre outside.
///
/// Lattice points beyond the grid count as outside, so a structure touching the edge of the grid
/// has its boundary there (the same rule as [`erode`](crate::erode)) and a full mask gets finite
/// negative values. An empty mask gives `+∞` everywhere. Voxel-centre convention: no half-voxel
/// correction, so `|sd| ≥` the smallest spacing everywhere.
pub fn signed_distance(mask: &Mask) -> Field<f64> {
    let mut field = distance_to(mask);
    let Some(bx) = mask.bounding_box() else {
        return field;
    };
    let grid = *mask.grid();
    let depth = depth_in_box(mask, bx, Output::Distance);
    let [nx, _, _] = bx.dims();
    let rows = (bx.first()[2]..=bx.last()[2]).flat_map(|k| (bx.first()[1]..=bx.last()[1]).map(move |j| (j, k)));
    for ((j, k), depth_row) in rows.zip(depth.chunks_exact(nx)) {
        let start = grid.index([bx.first()[0], j, k]);
        let inside = &mask.as_slice()[start..start + nx];
        for ((value, &d), &is_inside) in field.as_mut_slice()[start..start + nx].iter_mut().zip(depth_row).zip(inside) {
            if is_inside {
                *value = -d;
            }
        }
    }
    field
}

/// What the transform returns per voxel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// Squared distance, mm², for callers that compare against a squared threshold.
    Squared,
    /// Distance, mm.
    Distance,
}

/// The distance (or squared distance) from each voxel of `bx` to the nearest voxel centre outside
/// `mask`, where lattice points beyond the grid count as outside; 0 for voxels of `bx` outside the
/// mask. Values are indexed over `bx`, x-fastest.
///
/// `bx` must hold the mask's bounding box. Then the transform needs only `bx` plus a one-voxel
/// ring of outside voxels: for an inside voxel `p` and any outside lattice point `q`, clamping `q`
/// into the ring gives a point that is still outside (it is outside the bounding box) and no
/// farther from `p` (clamping towards a box holding `p` shortens every coordinate difference).
pub(crate) fn depth_in_box(mask: &Mask, bx: VoxelBox, output: Output) -> Vec<f64> {
    let grid = mask.grid();
    let [nx, ny, nz] = bx.dims();
    let padded = [nx + 2, ny + 2, nz + 2];
    let mut outside = vec![true; padded[0] * padded[1] * padded[2]];
    for k in 0..nz {
        for j in 0..ny {
            let row_start = grid.index([bx.first()[0], bx.first()[1] + j, bx.first()[2] + k]);
            let row = &mask.as_slice()[row_start..row_start + nx];
            let padded_start = 1 + padded[0] * ((j + 1) + padded[1] * (k + 1));
            for (o, &inside) in outside[padded_start..padded_start + nx].iter_mut().zip(row) {
                *o = !inside;
            }
        }
    }
    let padded_depth = transform(padded, grid.spacing_mm(), &outside, output);
    let mut depth = Vec::with_capacity(nx * ny * nz);
    for k in 0..nz {
        for j in 0..ny {
            let padded_start = 1 + padded[0] * ((j + 1) + padded[1] * (k + 1));
            depth.extend_from_slice(&padded_depth[padded_start..padded_start + nx]);
        }
    }
    depth
}

/// The voxels of `bx`, x-fastest: `true` inside `mask`.
pub(crate) fn crop(mask: &Mask, bx: VoxelBox) -> Vec<bool> {
    let grid = mask.grid();
    let [nx, ny, nz] = bx.dims();
    let mut cropped = Vec::with_capacity(nx * ny * nz);
    for k in bx.first()[2]..=bx.last()[2] {
        for j in bx.first()[1]..=bx.last()[1] {
            let row_start = grid.index([bx.first()[0], j, k]);
            cropped.extend_from_slice(&mask.as_slice()[row_start..row_start + nx]);
        }
    }
    cropped
}

/// The transform of a box-shaped array of `dims` voxels with `spacing` mm: for each voxel, the
/// (squared) distance to the nearest voxel whose `feature` flag is set, `+∞` if none is.
pub(crate) fn transform(dims: [usize; 3], spacing: [f64; 3], feature: &[bool], output: Output) -> Vec<f64> {
    let [nx, ny, nz] = dims;
    debug_assert_eq!(feature.len(), nx * ny * nz);
    let [wx, wy, wz] = spacing.map(|s| s * s);
    let mut values = vec![0.0f64; nx * ny * nz];

    // x and y passes, one slab of constant k per task.
    values.par_chunks_mut(nx * ny).zip(feature.par_chunks(nx * ny)).for_each_init(
        || Scratch::new(ny),
        |scratch, (slab, feature_slab)| {
            for (row, feature_row) in slab.chunks_exact_mut(nx).zip(feature_slab.chunks_exact(nx)) {
                row_pass(feature_row, wx, row);
            }
            let mut rows: Vec<&mut [f64]> = slab.chunks_exact_mut(nx).collect();
            across_rows(&mut rows, wy, |v| v, scratch);
        },
    );

    // z pass: the rows with a given j, one per slab, are the columns' home; group them by j.
    let mut rows_by_j: Vec<Vec<&mut [f64]>> = (0..ny).map(|_| Vec::with_capacity(nz)).collect();
    for (row_index, row) in values.chunks_exact_mut(nx).enumerate() {
        rows_by_j[row_index % ny].push(row);
    }
    rows_by_j.into_par_iter().for_each_init(
        || Scratch::new(nz),
        |scratch, mut rows| match output {
            Output::Squared => across_rows(&mut rows, wz, |v| v, scratch),
            Output::Distance => across_rows(&mut rows, wz, f64::sqrt, scratch),
        },
    );
    values
}

/// The x pass: squared distance along one row to the nearest feature. The input is binary, so no
/// parabolas are needed: outside the first and last feature the distance is a count, between them
/// it is the lesser of a forward and a backward scan.
fn row_pass(feature: &[bool], w: f64, out: &mut [f64]) {
    // A branch-free OR vectorises; most rows of a CT grid miss a small structure.
    let any = feature.iter().fold(false, |any, &f| any | f);
    let (true, Some(first), Some(last)) = (any, feature.iter().position(|&f| f), feature.iter().rposition(|&f| f))
    else {
        out.fill(f64::INFINITY);
        return;
    };
    for (i, o) in out[..first].iter_mut().enumerate() {
        let steps = (first - i) as f64;
        *o = w * steps * steps;
    }
    for (i, o) in out[last..].iter_mut().enumerate() {
        let steps = i as f64;
        *o = w * steps * steps;
    }
    let (between, feature) = (&mut out[first..=last], &feature[first..=last]);
    let mut gap = 0.0f64;
    for (o, &f) in between.iter_mut().zip(feature) {
        gap = if f { 0.0 } else { gap + 1.0 };
        *o = gap;
    }
    gap = 0.0;
    for (o, &f) in between.iter_mut().zip(feature).rev() {
        gap = if f { 0.0 } else { gap + 1.0 };
        let steps = o.min(gap);
        *o = w * steps * steps;
    }
}

/// Per-thread working memory for the y and z passes.
#[derive(Debug)]
struct Scratch {
    /// `BLOCK` columns of length `n`, column-major.
    columns: Vec<f64>,
    /// Position of each parabola of the lower envelope.
    position: Vec<f64>,
    /// Height `f(q)` of each parabola.
    height: Vec<f64>,
    /// Where each parabola starts to be the lowest (`z` in Felzenszwalb & Huttenlocher).
    start: Vec<f64>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch { columns: vec![0.0; BLOCK * n], position: vec![0.0; n], height: vec![0.0; n], start: vec![0.0; n] }
    }
}

/// Transforms along the direction that crosses `rows` (row `r` holds element `r` of every column),
/// applying `finish` to each result as it is written back.
fn across_rows(rows: &mut [&mut [f64]], w: f64, finish: impl Fn(f64) -> f64, scratch: &mut Scratch) {
    let n = rows.len();
    let width = rows.first().map_or(0, |row| row.len());
    for block_start in (0..width).step_by(BLOCK) {
        let block = BLOCK.min(width - block_start);
        let columns = &mut scratch.columns[..block * n];
        let mut any_finite = false;
        for (r, row) in rows.iter().enumerate() {
            for (c, &v) in row[block_start..block_start + block].iter().enumerate() {
                columns[c * n + r] = v;
                any_finite |= v != f64::INFINITY;
            }
        }
        // Columns far from every feature (all +∞) stay as they are.
        if !any_finite {
            continue;
        }
        for column in columns.chunks_exact_mut(n) {
            lower_envelope(column, w, &mut scratch.position, &mut scratch.height, &mut scratch.start);
        }
        for (r, row) in rows.iter_mut().enumerate() {
            for (c, v) in row[block_start..block_start + block].iter_mut().enumerate() {
                *v = finish(columns[c * n + r]);
            }
        }
    }
}

/// In place, `f(p) ← min_q w·(p − q)² + f(q)`: the lower envelope of parabolas, Felzenszwalb &
/// Huttenlocher (2012), Algorithm 1. Points with `f(q) = +∞` carry no parabola; if every point is
/// infinite the column stays infinite.
fn lower_envelope(f: &mut [f64], w: f64, position: &mut [f64], height: &mut [f64], start: &mut [f64]) {
    let mut count = 0usize;
    for (q, &fq) in f.iter().enumerate() {
        if fq == f64::INFINITY {
            continue;
        }
        let q = q as f64;
        // Pop parabolas that the new one hides, then record where the new one takes over.
        loop {
            if count == 0 {
                start[0] = f64::NEG_INFINITY;
                break;
            }
            let p = position[count - 1];
            let s = ((fq + w * q * q) - (height[count - 1] + w * p * p)) / (2.0 * w * (q - p));
            if s > start[count - 1] {
                start[count] = s;
                break;
            }
            count -= 1;
        }
        position[count] = q;
        height[count] = fq;
        count += 1;
    }
    if count == 0 {
        return;
    }
    let mut active = 0usize;
    for (p, out) in f.iter_mut().enumerate() {
        let p = p as f64;
        while active + 1 < count && start[active + 1] < p {
            active += 1;
        }
        let d = p - position[active];
        *out = w * d * d + height[active];
    }
}
