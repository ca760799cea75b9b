//! Dilation, erosion and connected components.

use crate::{grid, inside_centres, random_blobs, random_mask};
use cryoseed_core::Mm;
use cryoseed_volume::{Grid, Mask, connected_components, dilate, erode};

/// The voxels within `radius` (+1e-9 mm, the crate's tolerance) of any centre in `targets`, by
/// brute force.
fn brute_force_within(grid: Grid, targets: &Mask, radius: f64) -> Mask {
    let centres = inside_centres(targets);
    Mask::from_fn(grid, |p| centres.iter().any(|c| c.distance_to(p).0 <= radius + 1e-9))
}

#[test]
fn dilating_one_voxel_gives_the_ball_of_that_radius() {
    // Oracle: the lattice ball |p − c| ≤ r, brute force; exact (same voxel set).
    let cases: [([f64; 3], f64); 6] = [
        ([1.0, 1.0, 1.0], 1.0),
        ([1.0, 1.0, 1.0], 2.0_f64.sqrt()),
        ([1.0, 1.0, 1.0], 4.5),
        ([0.7, 0.7, 2.5], 3.0),
        ([0.9, 1.3, 2.0], 5.0),
        ([2.0, 1.0, 0.5], 0.0),
    ];
    for (spacing, r) in cases {
        let g = grid([21, 21, 21], spacing);
        let mut seed = Mask::empty(g);
        seed.set([10, 10, 10], true);
        let ball = dilate(&seed, Mm(r));
        assert_eq!(ball, brute_force_within(g, &seed, r), "spacing {spacing:?}, r = {r}");
    }
    // The 26-neighbourhood: 1 + 6 + 12 + 8 voxels within √3 on a unit lattice.
    let g = grid([5, 5, 5], [1.0; 3]);
    let mut seed = Mask::empty(g);
    seed.set([2, 2, 2], true);
    assert_eq!(dilate(&seed, Mm(3.0_f64.sqrt())).count(), 27);
}

#[test]
fn dilation_and_erosion_equal_brute_force_on_random_masks() {
    // Exact (same voxel sets). Erosion's oracle counts the ring beyond the grid as outside.
    let cases: [(u64, [usize; 3], [f64; 3], f64); 4] = [
        (21, [14, 12, 10], [1.0, 1.0, 1.0], 2.0),
        (22, [15, 15, 8], [0.7, 0.7, 2.5], 3.1),
        (23, [10, 16, 12], [1.3, 0.6, 0.9], 1.5),
        (24, [12, 12, 12], [0.8, 0.8, 2.0], 0.0),
    ];
    for (seed, dims, spacing, r) in cases {
        let g = grid(dims, spacing);
        let mask = random_blobs(seed, g, 3);
        assert_eq!(dilate(&mask, Mm(r)), brute_force_within(g, &mask, r), "dilate, seed {seed}");

        // Erosion: keep inside voxels farther than r from every outside lattice point, the grid
        // padded by one ring of outside voxels standing for everything beyond its edge.
        let padded = grid(dims.map(|n| n + 2), spacing);
        let mut padded_outside = Mask::empty(padded).complement();
        for [i, j, k] in mask.voxels() {
            padded_outside.set([i + 1, j + 1, k + 1], false);
        }
        let near_outside = brute_force_within(padded, &padded_outside, r);
        let mut want = Mask::empty(g);
        for [i, j, k] in mask.voxels() {
            want.set([i, j, k], !near_outside.at([i + 1, j + 1, k + 1]));
        }
        assert_eq!(erode(&mask, Mm(r)), want, "erode, seed {seed}");
    }
}

#[test]
fn erosion_is_the_complement_of_dilating_the_complement_away_from_the_grid_edge() {
    // Duality holds exactly when outside voxels separate the mask from the grid's edge by more
    // than the margin: masks drawn in the middle 10³ voxels of a 20³ grid, margins ≤ 4 voxels.
    for (seed, spacing, r) in [(31, [1.0, 1.0, 1.0], 2.5), (32, [0.8, 0.8, 2.0], 3.0), (33, [1.1, 0.9, 1.3], 4.0)] {
        let g = grid([20, 20, 20], spacing);
        let noise = random_mask(seed, g, 0.7);
        let mut mask = Mask::empty(g);
        for v in noise.voxels().filter(|v| v.iter().all(|x| (5..15).contains(x))) {
            mask.set(v, true);
        }
        let dual = dilate(&mask.complement(), Mm(r)).complement();
        assert_eq!(erode(&mask, Mm(r)), dual, "seed {seed}");
    }
}

#[test]
fn a_mask_cut_by_the_grid_edge_erodes_from_the_edge() {
    // A full 9×9×9 grid eroded by 2 mm at 1 mm: the voxels more than 2 mm from the lattice
    // points beyond the edge, i.e. indices 2..=6 on every axis (5³ voxels).
    let g = grid([9, 9, 9], [1.0; 3]);
    let eroded = erode(&Mask::empty(g).complement(), Mm(2.0));
    assert_eq!(eroded.count(), 125);
    assert!(eroded.at([2, 2, 2]) && !eroded.at([1, 4, 4]));
    // A zero margin changes nothing, a negative one is clamped to zero.
    let mask = random_blobs(34, g, 2);
    assert_eq!(erode(&mask, Mm(0.0)), mask);
    assert_eq!(dilate(&mask, Mm(-3.0)), mask);
}

#[test]
fn connected_components_use_26_connectivity() {
    let g = grid([8, 8, 8], [1.0; 3]);
    let mut mask = Mask::empty(g);
    // A 2-voxel bar, a voxel touching its end only by a corner (same component with 26-
    // connectivity), and an isolated voxel farther on.
    for v in [[1, 1, 1], [2, 1, 1], [3, 2, 2], [6, 6, 6]] {
        mask.set(v, true);
    }
    let components = connected_components(&mask);
    assert_eq!(components.count(), 2);
    assert_eq!(components.voxel_counts(), &[3, 1]);
    assert_eq!(components.labels().at([3, 2, 2]), 1);
    assert_eq!(components.labels().at([6, 6, 6]), 2);
    assert_eq!(components.labels().at([0, 0, 0]), 0);
    assert_eq!(components.component(2).count(), 1);
    assert_eq!(connected_components(&Mask::empty(g)).count(), 0);

    // Islands of random blobs: every label is one component, and components do not touch.
    let blobs = random_blobs(35, grid([20, 20, 20], [1.0; 3]), 5);
    let components = connected_components(&blobs);
    assert_eq!(components.voxel_counts().iter().sum::<usize>(), blobs.count());
    for label in 1..=components.count() as u32 {
        let island = components.component(label);
        let grown = dilate(&island, Mm(3.0_f64.sqrt()));
        assert_eq!(grown.intersection(&blobs).unwrap(), island, "label {label} touches another island");
    }
}
