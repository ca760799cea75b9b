//! The seeded bulky lesion shared by the seed-planning benchmark and its test.

use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{Grid, Mask, dilate, distance_to, signed_distance};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// Returns (GTV, seed target, core, body, bowel). A lobulated ≈ 300 mL soft-tissue lesion in a 2 mm grid, with a bowel loop 6 mm from it: the
/// margin zone (GTV ⊕ 5 mm minus OARs minus the core, core = ≥ 10 mm deep and ≥ 20 mm from the
/// bowel) is the seed target, the core is don't-care.
pub fn bulky_300ml(seed: u64) -> (Mask, Mask, Mask, Mask, Mask) {
    let grid = Grid::new([160, 130, 90], [Mm(2.0); 3], PatientPoint::default()).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let phases: Vec<f64> = (0..4).map(|_| rng.random::<f64>() * std::f64::consts::TAU).collect();
    let centre = [160.0, 130.0, 90.0];
    let semi = [47.0, 42.0, 36.0];
    let body = Mask::from_fn(grid, |p| {
        let x = (p.0[0] - 160.0) / 150.0;
        let y = (p.0[1] - 130.0) / 115.0;
        x * x + y * y <= 1.0
    });
    let gtv = Mask::from_fn(grid, |p| {
        let r: [f64; 3] = std::array::from_fn(|a| (p.0[a] - centre[a]) / semi[a]);
        let rho = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
        let theta = r[2].atan2((r[0] * r[0] + r[1] * r[1]).sqrt());
        let phi = r[1].atan2(r[0]);
        let ripple = 1.0
            + 0.08 * (2.0 * phi + phases[0]).sin() * (theta + phases[1]).cos()
            + 0.05 * (3.0 * phi + phases[2]).cos() * (2.0 * theta + phases[3]).sin();
        rho <= ripple
    });
    // A bowel loop: a 12 mm tube passing 6 mm anterior of the lesion (LPS: anterior is −y).
    let front = gtv.voxels().map(|v| grid.voxel_centre(v).0[1]).fold(f64::INFINITY, f64::min);
    let tube_y = front - 6.0 - 6.0;
    let bowel = Mask::from_fn(grid, |p| {
        let dy = p.0[1] - tube_y;
        let dz = p.0[2] - 90.0;
        (dy * dy + dz * dz).sqrt() <= 6.0 && (p.0[0] - 160.0).abs() <= 60.0
    })
    .difference(&gtv)
    .unwrap();
    let depth = signed_distance(&gtv);
    let to_bowel = distance_to(&bowel);
    let core = Mask::from_vec(
        grid,
        (0..grid.len())
            .map(|i| gtv.as_slice()[i] && -depth.as_slice()[i] >= 10.0 && to_bowel.as_slice()[i] >= 20.0)
            .collect(),
    )
    .unwrap();
    let target =
        dilate(&gtv, Mm(5.0)).intersection(&body).unwrap().difference(&bowel).unwrap().difference(&core).unwrap();
    (gtv, target, core, body, bowel)
}
