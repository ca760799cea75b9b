//! Benchmarks of `cryoseed-volume`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-volume --bench volume`; sample counts are small so the whole
//! run takes under a minute on a 2-core machine (setup included). `benches/scipy_edt.py` times
//! SciPy's EDT on the same mask as `edt_512x512x200` (figures in BENCHMARKS.md at the workspace
//! root).

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::{Gy, Mm, PatientPoint};
use cryoseed_volume::{Dvh, Field, Grid, Mask, distance_to, longest_axial_diameter, max_feret_diameter};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::time::Duration;

/// The ellipsoids (centre, semi-axes; mm) whose union is the mask of `edt_512x512x200`: a body-like
/// blob and five organ-sized ones, 24 % of the grid. Listed rather than drawn from an RNG so that
/// `benches/scipy_edt.py` builds the identical mask; keep the two lists equal.
const EDT_BLOBS: [([f64; 3], [f64; 3]); 6] = [
    ([230.0, 230.0, 250.0], [165.0, 125.0, 215.0]),
    ([110.0, 140.0, 140.0], [70.0, 55.0, 90.0]),
    ([350.0, 310.0, 330.0], [75.0, 85.0, 110.0]),
    ([230.0, 400.0, 90.0], [100.0, 45.0, 70.0]),
    ([310.0, 110.0, 420.0], [85.0, 65.0, 60.0]),
    ([95.0, 360.0, 390.0], [55.0, 75.0, 95.0]),
];

fn inside_ellipsoid(p: PatientPoint, centre: [f64; 3], semi_axes: [f64; 3]) -> bool {
    (0..3).map(|a| ((p.0[a] - centre[a]) / semi_axes[a]).powi(2)).sum::<f64>() <= 1.0
}

fn ball(grid: Grid, centre: [f64; 3], radius: f64) -> Mask {
    Mask::from_fn(grid, |p| inside_ellipsoid(p, centre, [radius; 3]))
}

fn edt_512x512x200(c: &mut Criterion) {
    let grid = Grid::new([512, 512, 200], [Mm(0.9), Mm(0.9), Mm(2.5)], PatientPoint::default()).unwrap();
    let mask = Mask::from_fn(grid, |p| EDT_BLOBS.iter().any(|&(centre, axes)| inside_ellipsoid(p, centre, axes)));
    c.bench_function("edt_512x512x200", |b| b.iter(|| distance_to(black_box(&mask))));
}

/// A 256×256×92 dose grid (1.5 × 1.5 × 2.5 mm) from 60 seeds scattered through a 90 mm lesion
/// (inverse-square point sources, seeded positions), and five structures: the lesion, its core,
/// its margin, a liver-sized organ and a spinal-cord-like cylinder.
fn dvh_5_structures_6m_voxels(c: &mut Criterion) {
    let grid = Grid::new([256, 256, 92], [Mm(1.5), Mm(1.5), Mm(2.5)], PatientPoint::default()).unwrap();
    let lesion_centre = [190.0, 190.0, 115.0];
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let seeds: Vec<[f64; 3]> =
        (0..60).map(|_| std::array::from_fn(|a| lesion_centre[a] + rng.random_range(-30.0..30.0))).collect();
    let dose = Field::from_fn(grid, |p| {
        let rate: f64 =
            seeds.iter().map(|s| 50.0 / (0..3).map(|a| (p.0[a] - s[a]).powi(2)).sum::<f64>().max(1.0)).sum();
        (rate * 100.0) as f32
    });
    let lesion = ball(grid, lesion_centre, 45.0);
    let core = ball(grid, lesion_centre, 25.0);
    let margin = lesion.difference(&core).unwrap();
    let organ = Mask::from_fn(grid, |p| inside_ellipsoid(p, [150.0, 220.0, 110.0], [100.0, 80.0, 70.0]));
    let cord = Mask::from_fn(grid, |p| (p.0[0] - 190.0).powi(2) + (p.0[1] - 300.0).powi(2) <= 49.0);
    let structures = [&lesion, &core, &margin, &organ, &cord];
    let dvhs = Dvh::compute_many(&dose, &structures).unwrap();
    assert!(dvhs.iter().all(|dvh| dvh.max() > Gy(0.0)));
    c.bench_function("dvh_5_structures_6M_voxels", |b| {
        b.iter(|| Dvh::compute_many(black_box(&dose), black_box(&structures)).unwrap())
    });
}

/// A lobulated lesion about 100 mm across on a 1 mm grid: a 45 mm-radius ball with four seeded
/// lobes on its surface (≈ 500 000 voxels).
fn lesion_100mm() -> Mask {
    let grid = Grid::new([128, 128, 128], [Mm(1.0); 3], PatientPoint::default()).unwrap();
    let centre = [64.0, 64.0, 64.0];
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let lobes: Vec<([f64; 3], f64)> = (0..4)
        .map(|_| {
            let direction: [f64; 3] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
            let norm = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
            let radius = rng.random_range(12.0..20.0);
            (std::array::from_fn(|a| centre[a] + direction[a] / norm * 38.0), radius)
        })
        .collect();
    Mask::from_fn(grid, |p| {
        inside_ellipsoid(p, centre, [45.0; 3]) || lobes.iter().any(|&(c, r)| inside_ellipsoid(p, c, [r; 3]))
    })
}

fn diameters_100mm_lesion(c: &mut Criterion) {
    let lesion = lesion_100mm();
    c.bench_function("max_feret_diameter_100mm_lesion_1mm", |b| b.iter(|| max_feret_diameter(black_box(&lesion))));
    c.bench_function("longest_axial_diameter_100mm_lesion_1mm", |b| {
        b.iter(|| longest_axial_diameter(black_box(&lesion)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = edt_512x512x200, dvh_5_structures_6m_voxels, diameters_100mm_lesion
}
criterion_main!(benches);
