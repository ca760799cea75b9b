//! `distance_to` and `signed_distance` against brute force.

use crate::{grid, inside_centres, random_blobs, random_mask};
use cryoseed_core::PatientPoint;
use cryoseed_volume::{Grid, Mask, distance_to, signed_distance};
use proptest::prelude::*;

/// Acceptance criterion: exact to 1e-6 mm (the transform is exact up to f64 rounding).
const TOLERANCE_MM: f64 = 1e-6;

/// For each voxel centre of `grid`, the distance to the nearest of `targets` (`+∞` if none).
fn brute_force_nearest(grid: &Grid, targets: &[PatientPoint]) -> Vec<f64> {
    (0..grid.len())
        .map(|n| {
            let p = grid.voxel_centre(grid.ijk(n));
            targets.iter().map(|t| t.distance_to(p).0).fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// The lattice points of the one-voxel ring just beyond the grid: the nearest "outside" points
/// beyond the edge (any farther lattice point is farther from every voxel of the grid).
fn ring_beyond(grid: &Grid) -> Vec<PatientPoint> {
    let [nx, ny, nz] = grid.dims().map(|n| n as i64);
    let spacing = grid.spacing_mm();
    let mut ring = Vec::new();
    for k in -1..=nz {
        for j in -1..=ny {
            for i in -1..=nx {
                if i < 0 || j < 0 || k < 0 || i == nx || j == ny || k == nz {
                    let ijk = [i, j, k];
                    ring.push(PatientPoint(std::array::from_fn(|a| ijk[a] as f64 * spacing[a])));
                }
            }
        }
    }
    ring
}

fn assert_close(got: f64, want: f64, what: &str, voxel: [usize; 3]) {
    let ok = if want.is_infinite() { got == want } else { (got - want).abs() <= TOLERANCE_MM };
    assert!(ok, "{what} at {voxel:?}: got {got}, brute force {want}");
}

/// Both transforms of `mask` equal brute force on every voxel.
fn check(mask: &Mask) {
    let grid = *mask.grid();
    let to_inside = brute_force_nearest(&grid, &inside_centres(mask));
    let mut outside = inside_centres(&mask.complement());
    outside.extend(ring_beyond(&grid));
    let to_outside = brute_force_nearest(&grid, &outside);

    let unsigned = distance_to(mask);
    let signed = signed_distance(mask);
    for n in 0..grid.len() {
        let voxel = grid.ijk(n);
        assert_close(unsigned.as_slice()[n], to_inside[n], "distance_to", voxel);
        let want_signed = if mask.as_slice()[n] { -to_outside[n] } else { to_inside[n] };
        assert_close(signed.as_slice()[n], want_signed, "signed_distance", voxel);
    }
}

#[test]
fn distance_transforms_equal_brute_force_on_random_anisotropic_masks() {
    // (seed, dims, spacing mm, fraction inside)
    let noise: [(u64, [usize; 3], [f64; 3], f64); 10] = [
        (1, [20, 20, 20], [1.0, 1.0, 1.0], 0.01),
        (2, [17, 13, 11], [0.7, 1.3, 2.5], 0.05),
        (3, [20, 18, 9], [0.9, 0.9, 3.0], 0.3),
        (4, [9, 20, 14], [2.5, 0.7, 1.3], 0.002),
        (5, [19, 1, 1], [0.5, 1.0, 1.0], 0.2),
        (6, [12, 15, 1], [0.8, 1.1, 2.0], 0.1),
        (7, [1, 16, 18], [1.0, 0.6, 1.7], 0.1),
        (8, [1, 1, 1], [1.0, 1.0, 1.0], 1.0),
        (9, [11, 7, 13], [1.2, 0.4, 0.9], 0.0),
        (10, [11, 7, 13], [1.2, 0.4, 0.9], 1.0),
    ];
    for (seed, dims, spacing, fill) in noise {
        check(&random_mask(seed, grid(dims, spacing), fill));
    }
    // Lesion-like blobs, some touching the edge of the grid.
    let blobs: [(u64, [usize; 3], [f64; 3], usize); 3] = [
        (11, [20, 20, 12], [0.7, 1.3, 2.5], 2),
        (12, [16, 19, 20], [1.0, 0.8, 1.5], 3),
        (13, [20, 9, 15], [0.5, 2.0, 1.0], 1),
    ];
    for (seed, dims, spacing, count) in blobs {
        check(&random_blobs(seed, grid(dims, spacing), count));
    }
}

#[test]
fn an_empty_mask_is_infinitely_far_and_a_full_one_is_bounded_by_the_grid_edge() {
    let g = grid([4, 3, 2], [1.0, 2.0, 3.0]);
    assert!(distance_to(&Mask::empty(g)).as_slice().iter().all(|&d| d == f64::INFINITY));
    assert!(signed_distance(&Mask::empty(g)).as_slice().iter().all(|&d| d == f64::INFINITY));
    // Full mask: every voxel is inside, at −(distance to the nearest lattice point beyond the
    // grid); with 2 slices of 3 mm that is at most one x step (1 mm) from the x edges.
    let full = Mask::empty(g).complement();
    let signed = signed_distance(&full);
    assert_eq!(signed.at([0, 1, 0]), -1.0);
    assert_eq!(signed.at([1, 1, 0]), -2.0);
    assert!(distance_to(&full).as_slice().iter().all(|&d| d == 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any small mask on any anisotropic grid: same oracle and 1e-6 mm tolerance as above.
    #[test]
    fn distance_transforms_equal_brute_force_on_arbitrary_masks(
        dims in prop::array::uniform3(1usize..=7),
        spacing in prop::array::uniform3(0.3f64..3.0),
        bits in prop::collection::vec(any::<bool>(), 343),
    ) {
        let g = grid(dims, spacing);
        let mask = Mask::from_vec(g, bits[..g.len()].to_vec()).unwrap();
        check(&mask);
    }
}
