//! Voxel work on the phantom grid: rasterizing solids, in-place mask algebra, local dilation by a
//! distance and connected components.
//!
//! Masks here always share the phantom's grid, so the set operations do not re-check geometry.
//! Whole-volume passes run over z-slices with rayon; each slice is written by one task only, so
//! the result does not depend on scheduling.

use crate::shape::{Bounds, P3};
use cryoseed_volume::{Grid, Mask};
use rayon::prelude::*;

/// A box of voxel indices, `lo` inclusive and `hi` exclusive on each axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VoxelBox {
    pub(crate) lo: [usize; 3],
    pub(crate) hi: [usize; 3],
}

impl VoxelBox {
    /// Every voxel of the grid.
    pub(crate) fn whole(grid: &Grid) -> VoxelBox {
        VoxelBox { lo: [0; 3], hi: grid.dims() }
    }

    /// The voxels whose centres lie within `bounds` (possibly none).
    pub(crate) fn of_bounds(grid: &Grid, bounds: Bounds) -> VoxelBox {
        let (origin, spacing, dims) = (grid.origin().0, grid.spacing_mm(), grid.dims());
        let mut lo = [0usize; 3];
        let mut hi = [0usize; 3];
        for a in 0..3 {
            let first = ((bounds.lo[a] - origin[a]) / spacing[a]).ceil().max(0.0);
            let last = ((bounds.hi[a] - origin[a]) / spacing[a]).floor() + 1.0;
            lo[a] = (first as usize).min(dims[a]);
            hi[a] = (last.max(0.0) as usize).clamp(lo[a], dims[a]);
        }
        VoxelBox { lo, hi }
    }

    /// Whether the box holds no voxel.
    pub(crate) fn is_empty(&self) -> bool {
        (0..3).any(|a| self.lo[a] >= self.hi[a])
    }

    /// The box grown by `margin` millimetres on every side, clipped to the grid.
    pub(crate) fn grown(&self, grid: &Grid, margin: f64) -> VoxelBox {
        let (spacing, dims) = (grid.spacing_mm(), grid.dims());
        let reach: [usize; 3] = std::array::from_fn(|a| (margin / spacing[a]).ceil() as usize);
        VoxelBox {
            lo: std::array::from_fn(|a| self.lo[a].saturating_sub(reach[a])),
            hi: std::array::from_fn(|a| (self.hi[a] + reach[a]).min(dims[a])),
        }
    }

    fn contains(&self, ijk: [usize; 3]) -> bool {
        (0..3).all(|a| ijk[a] >= self.lo[a] && ijk[a] < self.hi[a])
    }
}

/// The mask of voxels in `vbox` for which `inside(linear_index, [i, j, k], centre)` holds.
pub(crate) fn mask_where(grid: &Grid, vbox: VoxelBox, inside: impl Fn(usize, [usize; 3], P3) -> bool + Sync) -> Mask {
    let mut mask = Mask::empty(*grid);
    if vbox.is_empty() {
        return mask;
    }
    let [nx, ny, _] = grid.dims();
    mask.as_mut_slice().par_chunks_mut(nx * ny).enumerate().for_each(|(k, slice)| {
        if k < vbox.lo[2] || k >= vbox.hi[2] {
            return;
        }
        for j in vbox.lo[1]..vbox.hi[1] {
            for i in vbox.lo[0]..vbox.hi[0] {
                let n = i + nx * j;
                slice[n] = inside(n + nx * ny * k, [i, j, k], grid.voxel_centre([i, j, k]).0);
            }
        }
    });
    mask
}

/// The mask of voxels whose centre lies in a solid with the given bounds and membership test.
pub(crate) fn mask_of(grid: &Grid, bounds: Bounds, inside: impl Fn(P3) -> bool + Sync) -> Mask {
    mask_where(grid, VoxelBox::of_bounds(grid, bounds), |_, _, p| inside(p))
}

const CHUNK: usize = 1 << 16;

fn combine(a: &mut Mask, b: &Mask, op: impl Fn(bool, bool) -> bool + Sync) {
    a.as_mut_slice().par_chunks_mut(CHUNK).zip(b.as_slice().par_chunks(CHUNK)).for_each(|(x, y)| {
        for (u, &v) in x.iter_mut().zip(y) {
            *u = op(*u, v);
        }
    });
}

/// `a ← a ∖ b`.
pub(crate) fn subtract(a: &mut Mask, b: &Mask) {
    combine(a, b, |u, v| u && !v);
}

/// `a ← a ∩ b`.
pub(crate) fn intersect(a: &mut Mask, b: &Mask) {
    combine(a, b, |u, v| u && v);
}

/// `a ← a ∪ b`.
pub(crate) fn unite(a: &mut Mask, b: &Mask) {
    combine(a, b, |u, v| u || v);
}

/// The smallest box holding every voxel of `mask`, or `None` if it is empty.
pub(crate) fn occupied_box(mask: &Mask) -> Option<VoxelBox> {
    let [nx, ny, _] = mask.grid().dims();
    mask.as_slice()
        .par_chunks(nx * ny)
        .enumerate()
        .filter_map(|(k, slice)| {
            let mut b: Option<VoxelBox> = None;
            for (n, _) in slice.iter().enumerate().filter(|&(_, &v)| v) {
                let (i, j) = (n % nx, n / nx);
                let bb = b.get_or_insert(VoxelBox { lo: [i, j, k], hi: [i + 1, j + 1, k + 1] });
                bb.lo[0] = bb.lo[0].min(i);
                bb.lo[1] = bb.lo[1].min(j);
                bb.hi[0] = bb.hi[0].max(i + 1);
                bb.hi[1] = bb.hi[1].max(j + 1);
            }
            b
        })
        .reduce_with(|a, b| VoxelBox {
            lo: std::array::from_fn(|x| a.lo[x].min(b.lo[x])),
            hi: std::array::from_fn(|x| a.hi[x].max(b.hi[x])),
        })
}

/// Whether voxel `(i, j, k)` of `mask` is inside and has a 6-neighbour (within the grid) outside.
fn is_boundary(mask: &Mask, [i, j, k]: [usize; 3]) -> bool {
    let [nx, ny, nz] = mask.grid().dims();
    if !mask.at([i, j, k]) {
        return false;
    }
    (i > 0 && !mask.at([i - 1, j, k]))
        || (i + 1 < nx && !mask.at([i + 1, j, k]))
        || (j > 0 && !mask.at([i, j - 1, k]))
        || (j + 1 < ny && !mask.at([i, j + 1, k]))
        || (k > 0 && !mask.at([i, j, k - 1]))
        || (k + 1 < nz && !mask.at([i, j, k + 1]))
}

/// The voxels of `region` whose centre is within `radius` mm (Euclidean, voxel centre to voxel
/// centre) of a voxel of `mask`.
///
/// Only boundary voxels of `mask` are spread over a ball of offsets: the voxel of a mask nearest
/// to an outside voxel is always on its boundary, so this is exact and costs
/// `surface × ball` instead of `volume × ball`. Output slices are filled in parallel, each from
/// the source slices within reach.
pub(crate) fn dilate(mask: &Mask, radius: f64, region: VoxelBox) -> Mask {
    let grid = *mask.grid();
    let mut out = Mask::empty(grid);
    if region.is_empty() {
        return out;
    }
    let spacing = grid.spacing_mm();
    let [nx, ny, _] = grid.dims();
    let reach: [usize; 3] = std::array::from_fn(|a| (radius / spacing[a]).floor() as usize);
    let source = region.grown(&grid, radius);
    // Ball offsets (di, dj) grouped by dk + reach_z.
    let offsets: Vec<Vec<(isize, isize)>> = (-(reach[2] as isize)..=reach[2] as isize)
        .map(|dk| {
            let mut ring = Vec::new();
            for dj in -(reach[1] as isize)..=reach[1] as isize {
                for di in -(reach[0] as isize)..=reach[0] as isize {
                    let d2 = (di as f64 * spacing[0]).powi(2)
                        + (dj as f64 * spacing[1]).powi(2)
                        + (dk as f64 * spacing[2]).powi(2);
                    if d2 <= radius * radius {
                        ring.push((di, dj));
                    }
                }
            }
            ring
        })
        .collect();
    let boundary: Vec<Vec<(usize, usize)>> = (source.lo[2]..source.hi[2])
        .into_par_iter()
        .map(|k| {
            let mut cells = Vec::new();
            for j in source.lo[1]..source.hi[1] {
                for i in source.lo[0]..source.hi[0] {
                    if is_boundary(mask, [i, j, k]) {
                        cells.push((i, j));
                    }
                }
            }
            cells
        })
        .collect();
    out.as_mut_slice().par_chunks_mut(nx * ny).enumerate().for_each(|(k, slice)| {
        if k < region.lo[2] || k >= region.hi[2] {
            return;
        }
        let layer = &mask.as_slice()[k * nx * ny..(k + 1) * nx * ny];
        for j in region.lo[1]..region.hi[1] {
            for i in region.lo[0]..region.hi[0] {
                slice[i + nx * j] = layer[i + nx * j];
            }
        }
        for (dz, ring) in offsets.iter().enumerate() {
            let Some(ks) = (k + reach[2]).checked_sub(dz) else { continue };
            if ks < source.lo[2] || ks >= source.hi[2] {
                continue;
            }
            for &(i, j) in &boundary[ks - source.lo[2]] {
                for &(di, dj) in ring {
                    let (ii, jj) = (i as isize + di, j as isize + dj);
                    if ii < 0 || jj < 0 {
                        continue;
                    }
                    let (ii, jj) = (ii as usize, jj as usize);
                    if region.contains([ii, jj, k]) {
                        slice[ii + nx * jj] = true;
                    }
                }
            }
        }
    });
    out
}

/// The largest 6-connected component of `mask` (the first found, in storage order, on a tie).
///
/// Carving a lesion away from its neighbours can leave slivers on the far side of an organ; a
/// tumour is one piece, so only the main body is kept.
pub(crate) fn largest_component(mask: &Mask) -> Mask {
    let grid = *mask.grid();
    let Some(vbox) = occupied_box(mask) else { return mask.clone() };
    let ext: [usize; 3] = std::array::from_fn(|a| vbox.hi[a] - vbox.lo[a]);
    let local = |[i, j, k]: [usize; 3]| (i - vbox.lo[0]) + ext[0] * ((j - vbox.lo[1]) + ext[1] * (k - vbox.lo[2]));
    let mut label = vec![0u32; ext[0] * ext[1] * ext[2]];
    let mut sizes = vec![0usize];
    let mut queue = Vec::new();
    for k in vbox.lo[2]..vbox.hi[2] {
        for j in vbox.lo[1]..vbox.hi[1] {
            for i in vbox.lo[0]..vbox.hi[0] {
                if !mask.at([i, j, k]) || label[local([i, j, k])] != 0 {
                    continue;
                }
                let id = sizes.len() as u32;
                let mut size = 0;
                label[local([i, j, k])] = id;
                queue.push([i, j, k]);
                while let Some(v) = queue.pop() {
                    size += 1;
                    for a in 0..3 {
                        for forward in [false, true] {
                            let mut w = v;
                            if forward {
                                if v[a] + 1 >= vbox.hi[a] {
                                    continue;
                                }
                                w[a] += 1;
                            } else {
                                if v[a] == vbox.lo[a] {
                                    continue;
                                }
                                w[a] -= 1;
                            }
                            if mask.at(w) && label[local(w)] == 0 {
                                label[local(w)] = id;
                                queue.push(w);
                            }
                        }
                    }
                }
                sizes.push(size);
            }
        }
    }
    // `max_by_key` keeps the last maximum; reversing makes a tie go to the first component.
    let best = sizes.iter().enumerate().skip(1).rev().max_by_key(|&(_, &s)| s).map_or(0, |(id, _)| id as u32);
    mask_where(&grid, vbox, |_, ijk, _| label[local(ijk)] == best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoseed_core::{Mm, PatientPoint};

    fn grid(spacing: [f64; 3]) -> Grid {
        Grid::new([30, 30, 30], spacing.map(Mm), PatientPoint([0.0; 3])).unwrap()
    }

    #[test]
    fn dilation_matches_brute_force_on_an_anisotropic_grid() {
        let g = grid([1.0, 1.0, 2.5]);
        let mut m = Mask::empty(g);
        m.set([10, 12, 10], true);
        m.set([11, 12, 10], true);
        m.set([20, 20, 14], true);
        let d = dilate(&m, 4.0, VoxelBox::whole(&g));
        for n in 0..g.len() {
            let p = g.voxel_centre(g.ijk(n));
            let near = m.voxels().any(|v| g.voxel_centre(v).distance_to(p).0 <= 4.0);
            assert_eq!(d.as_slice()[n], near, "voxel {:?}", g.ijk(n));
        }
    }

    #[test]
    fn largest_component_drops_the_smaller_pieces() {
        let g = grid([1.0; 3]);
        let big = mask_of(&g, Bounds { lo: [2.0; 3], hi: [8.0; 3] }, |_| true);
        let small = mask_of(&g, Bounds { lo: [20.0; 3], hi: [22.0; 3] }, |_| true);
        let mut both = big.clone();
        unite(&mut both, &small);
        assert_eq!(largest_component(&both), big);
        assert_eq!(occupied_box(&small), Some(VoxelBox { lo: [20; 3], hi: [23; 3] }));
    }
}
