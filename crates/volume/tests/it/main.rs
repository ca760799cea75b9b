//! Acceptance tests of `cryoseed-volume`: one binary, one module per module of the crate.
//!
//! Oracles are brute force (every pair of voxel centres) for the exact algorithms and closed-form
//! geometry for the analytic shapes; each test states its tolerance and where it comes from.

mod dvh;
mod edt;
mod measure;
mod morphology;

use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{Grid, Mask};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A grid with its first voxel centre at the origin.
pub fn grid(dims: [usize; 3], spacing: [f64; 3]) -> Grid {
    Grid::new(dims, spacing.map(Mm), PatientPoint::default()).unwrap()
}

/// A mask whose voxels are inside with probability `fill`, from a seeded ChaCha8 stream.
pub fn random_mask(seed: u64, grid: Grid, fill: f64) -> Mask {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = (0..grid.len()).map(|_| rng.random::<f64>() < fill).collect();
    Mask::from_vec(grid, data).unwrap()
}

/// A lumpy mask: the union of a few seeded random balls, the shape of a lesion rather than noise.
pub fn random_blobs(seed: u64, grid: Grid, blobs: usize) -> Mask {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let extent: [f64; 3] = std::array::from_fn(|a| (grid.dims()[a] - 1) as f64 * grid.spacing_mm()[a]);
    let balls: Vec<([f64; 3], f64)> = (0..blobs)
        .map(|_| {
            let centre = std::array::from_fn(|a| rng.random::<f64>() * extent[a]);
            (centre, 0.5 + rng.random::<f64>() * extent.iter().fold(0.0f64, |m, &e| m.max(e)) / 3.0)
        })
        .collect();
    Mask::from_fn(grid, |p| balls.iter().any(|&(c, r)| PatientPoint(c).distance_to(p).0 <= r))
}

/// The centres (mm) of the voxels inside `mask`.
pub fn inside_centres(mask: &Mask) -> Vec<PatientPoint> {
    mask.voxels().map(|v| mask.grid().voxel_centre(v)).collect()
}

/// Relative difference `|got − want| / want`.
pub fn relative_error(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}
