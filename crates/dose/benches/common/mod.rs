//! The seeded implant scenario shared by the `dose` benchmark and the `dose_grid_timing` example,
//! so that both time exactly the same work.

use cryoseed_core::{Mm, PatientPoint, U};
use cryoseed_dose::{Implant, Seed, SeedOrientation};
use cryoseed_volume::Grid;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 200 × 200 × 150 voxels at 1 mm: 6 M voxels.
pub fn grid_6m() -> Grid {
    Grid::new([200, 200, 150], [Mm(1.0); 3], PatientPoint::default()).expect("valid benchmark scenario")
}

/// `n` 6711 seeds of 0.76 U on needles along z (10 mm apart, seeds 10 mm apart along a needle,
/// jittered by ±1 mm and tilted by up to ±0.1 rad) filling a ball around the grid centre.
pub fn implant(n: usize, seed: u64) -> Implant {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centre = [100.0, 100.0, 75.0];
    let mut seeds = Vec::with_capacity(n);
    let mut radius: f64 = 10.0;
    while seeds.len() < n {
        seeds.clear();
        'fill: for ix in -10i32..=10 {
            for iy in -10i32..=10 {
                for iz in -10i32..=10 {
                    let p = [f64::from(ix) * 10.0, f64::from(iy) * 10.0, f64::from(iz) * 10.0];
                    if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt() > radius {
                        continue;
                    }
                    let jitter: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
                    let tilt: [f64; 2] = std::array::from_fn(|_| rng.random_range(-0.1..0.1));
                    seeds.push(Seed {
                        centre_in_patient: PatientPoint(std::array::from_fn(|a| centre[a] + p[a] + jitter[a])),
                        orientation: SeedOrientation::Axis([tilt[0], tilt[1], 1.0]),
                        air_kerma_strength: U(0.76),
                        model: "6711".into(),
                    });
                    if seeds.len() == n {
                        break 'fill;
                    }
                }
            }
        }
        radius += 5.0;
    }
    Implant::new(&seeds, &[]).expect("valid benchmark scenario")
}
