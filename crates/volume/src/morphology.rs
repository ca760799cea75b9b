//! Morphology by a distance in millimetres, and connected components.
//!
//! Dilation and erosion are thresholds of the exact distance transform ([`crate::edt`]), so a
//! margin of 5 mm is a Euclidean 5 mm on an anisotropic grid, not a count of voxels or a chamfer
//! approximation. Distances are between voxel centres, with a tolerance of [`TOLERANCE`] so that a
//! voxel exactly `by` away is included despite rounding.

use crate::edt::{Output, crop, depth_in_box, transform};
use crate::grid::{Field, Mask, VoxelBox};
use cryoseed_core::Mm;

/// Slack on distance comparisons, mm: far below any voxel size, far above `f64` rounding.
pub const TOLERANCE: Mm = Mm(1e-9);

/// The voxels whose centre is within `by` of the centre of a voxel inside `mask`
/// (distance ≤ `by` + [`TOLERANCE`]).
///
/// A negative or NaN `by` counts as 0 (the mask itself): shrinking is [`erode`]'s job.
///
/// ```
/// use cryoseed_core::{Mm, PatientPoint};
/// use cryoseed_volume::{dilate, Grid, Mask};
/// let grid = Grid::new([9, 9, 9], [Mm(1.0); 3], PatientPoint::default()).unwrap();
/// let mut seed = Mask::empty(grid);
/// seed.set([4, 4, 4], true);
/// // The ball of radius 1 on a unit lattice is the voxel and its 6 face neighbours.
/// assert_eq!(dilate(&seed, Mm(1.0)).count(), 7);
/// ```
pub fn dilate(mask: &Mask, by: Mm) -> Mask {
    let grid = *mask.grid();
    let Some(bbox) = mask.bounding_box() else {
        return Mask::empty(grid);
    };
    let reach = by.0.max(0.0) + TOLERANCE.0;
    let spacing = grid.spacing_mm();
    // Every voxel within reach lies in the bounding box grown by reach, and the transform of a box
    // holding every inside voxel is exact inside that box.
    let bx = bbox.grown(spacing.map(|s| (reach / s).floor() as usize), grid.dims());
    let squared = transform(bx.dims(), spacing, &crop(mask, bx), Output::Squared);
    let limit = reach * reach;
    from_box(mask, bx, squared.iter().map(|&d2| d2 <= limit))
}

/// The voxels inside `mask` whose centre is farther than `by` (+ [`TOLERANCE`]) from the centre of
/// every voxel outside it.
///
/// Lattice points beyond the grid count as outside: a structure cut by the edge of the grid erodes
/// from that edge, as it would if the grid were larger. Away from the grid's edge, erosion is the
/// complement of the dilation of the complement. A negative or NaN `by` counts as 0 (the mask
/// itself).
pub fn erode(mask: &Mask, by: Mm) -> Mask {
    let grid = *mask.grid();
    let Some(bbox) = mask.bounding_box() else {
        return Mask::empty(grid);
    };
    let reach = by.0.max(0.0) + TOLERANCE.0;
    let limit = reach * reach;
    let squared_depth = depth_in_box(mask, bbox, Output::Squared);
    from_box(mask, bbox, squared_depth.iter().map(|&d2| d2 > limit))
}

/// A mask on `like`'s grid that is `inside` (x-fastest over `bx`) within `bx` and false elsewhere.
fn from_box(like: &Mask, bx: VoxelBox, mut inside: impl Iterator<Item = bool>) -> Mask {
    let grid = *like.grid();
    let mut out = Mask::empty(grid);
    let [nx, _, _] = bx.dims();
    let values = out.as_mut_slice();
    for k in bx.first()[2]..=bx.last()[2] {
        for j in bx.first()[1]..=bx.last()[1] {
            let start = grid.index([bx.first()[0], j, k]);
            for (value, is_inside) in values[start..start + nx].iter_mut().zip(&mut inside) {
                *value = is_inside;
            }
        }
    }
    out
}

/// The islands of a mask, labelled with 26-connectivity (voxels touching by a face, an edge or a
/// corner belong together, as a radiologist reads a blob).
#[derive(Clone, Debug, PartialEq)]
pub struct Components {
    labels: Field<u32>,
    voxel_counts: Vec<usize>,
}

impl Components {
    /// Per voxel: 0 outside the mask, otherwise the label `1..=count` of its component. Labels are
    /// numbered in storage order of each component's first voxel, so they are deterministic.
    pub fn labels(&self) -> &Field<u32> {
        &self.labels
    }

    /// Number of components.
    pub fn count(&self) -> usize {
        self.voxel_counts.len()
    }

    /// Voxels in each component; entry `label − 1` belongs to `label`.
    pub fn voxel_counts(&self) -> &[usize] {
        &self.voxel_counts
    }

    /// The mask of one component (empty for label 0 or a label beyond [`Components::count`]).
    pub fn component(&self, label: u32) -> Mask {
        if label == 0 {
            return Mask::empty(*self.labels.grid());
        }
        self.labels.threshold(|l| l == label)
    }
}

/// Labels the 26-connected components of `mask` by flood fill from each unlabelled voxel, in
/// storage order.
pub fn connected_components(mask: &Mask) -> Components {
    let grid = *mask.grid();
    let mut labels = Field::filled(grid, 0u32);
    let mut voxel_counts = Vec::new();
    let Some(bbox) = mask.bounding_box() else {
        return Components { labels, voxel_counts };
    };
    let inside = mask.as_slice();
    let mut stack = Vec::new();
    for k in bbox.first()[2]..=bbox.last()[2] {
        for j in bbox.first()[1]..=bbox.last()[1] {
            for i in bbox.first()[0]..=bbox.last()[0] {
                let start = grid.index([i, j, k]);
                if !inside[start] || labels.as_slice()[start] != 0 {
                    continue;
                }
                let label = u32::try_from(voxel_counts.len() + 1).expect("fewer than 2³² components");
                let values = labels.as_mut_slice();
                values[start] = label;
                stack.push([i, j, k]);
                let mut count = 0usize;
                while let Some(voxel) = stack.pop() {
                    count += 1;
                    for neighbour in neighbours_26(voxel, &bbox) {
                        let n = grid.index(neighbour);
                        if inside[n] && values[n] == 0 {
                            values[n] = label;
                            stack.push(neighbour);
                        }
                    }
                }
                voxel_counts.push(count);
            }
        }
    }
    Components { labels, voxel_counts }
}

/// The up to 26 neighbours of `voxel` that lie in `bx`.
fn neighbours_26(voxel: [usize; 3], bx: &VoxelBox) -> impl Iterator<Item = [usize; 3]> + '_ {
    let range = move |a: usize| voxel[a].saturating_sub(1).max(bx.first()[a])..=(voxel[a] + 1).min(bx.last()[a]);
    range(2)
        .flat_map(move |k| range(1).flat_map(move |j| range(0).map(move |i| [i, j, k])))
        .filter(move |&n| n != voxel)
}
