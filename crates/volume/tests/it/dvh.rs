//! Dose–volume histograms against hand-computed and analytic answers.

use crate::grid;
use cryoseed_core::{Gy, Ml, Mm, PatientPoint, Percent};
use cryoseed_volume::{DifferentialBin, Dvh, Field, Grid, GridError, Mask};
use proptest::prelude::*;

/// Each row: what is measured, the value, the expected value, the allowed absolute error.
fn check(rows: &[(&str, f64, f64, f64)]) {
    for &(what, got, want, tolerance) in rows {
        assert!((got - want).abs() <= tolerance, "{what}: got {got}, want {want} ± {tolerance}");
    }
}

/// Four 1 mm³ voxels receiving 1, 2, 3 and 4 Gy.
fn four_voxels() -> Dvh {
    let g = grid([4, 1, 1], [1.0; 3]);
    let dose = Field::from_vec(g, vec![3.0, 1.0, 4.0, 2.0]).unwrap();
    Dvh::compute(&dose, &Mask::empty(g).complement()).unwrap()
}

#[test]
fn metrics_follow_the_documented_rules_on_four_voxels() {
    // Exact: D(x %) is the dose of the ⌈x·n/100⌉-th hottest voxel, V(d) counts doses ≥ d.
    let dvh = four_voxels();
    let exact = 1e-12;
    check(&[
        ("volume mL", dvh.volume().0, 0.004, exact),
        ("min Gy", dvh.min().0, 1.0, exact),
        ("max Gy", dvh.max().0, 4.0, exact),
        ("mean Gy", dvh.mean().0, 2.5, exact),
        ("D0 Gy", dvh.d_percent(Percent(0.0)).0, 4.0, exact),
        ("D25 Gy", dvh.d_percent(Percent(25.0)).0, 4.0, exact),
        ("D50 Gy", dvh.d_percent(Percent(50.0)).0, 3.0, exact),
        ("D75 Gy", dvh.d_percent(Percent(75.0)).0, 2.0, exact),
        ("D76 Gy", dvh.d_percent(Percent(76.0)).0, 1.0, exact),
        ("D100 Gy", dvh.d_percent(Percent(100.0)).0, 1.0, exact),
        ("D(0.002 mL) Gy", dvh.d_volume(Ml(0.002)).unwrap().0, 3.0, exact),
        ("V(3 Gy) mL", dvh.v_dose(Gy(3.0)).0, 0.002, exact),
        ("V(2.5 Gy) mL", dvh.v_dose(Gy(2.5)).0, 0.002, exact),
        ("V(0 Gy) mL", dvh.v_dose(Gy(0.0)).0, 0.004, exact),
        ("V(4.1 Gy) mL", dvh.v_dose(Gy(4.1)).0, 0.0, exact),
        ("V(3 Gy) %", dvh.v_dose_percent(Gy(3.0)).0, 50.0, exact),
        ("V75 of 4 Gy %", dvh.v_percent_of(Gy(4.0), Percent(75.0)).0, 50.0, exact),
    ]);
    // There is no hottest 5 mm³ in a 4 mm³ structure.
    assert_eq!(dvh.d_volume(Ml(0.005)), None);

    let cumulative: Vec<(f64, f64)> = dvh.cumulative(Gy(1.0)).iter().map(|p| (p.dose.0, p.percent.0)).collect();
    assert_eq!(cumulative, [(0.0, 100.0), (1.0, 100.0), (2.0, 75.0), (3.0, 50.0), (4.0, 25.0), (5.0, 0.0)]);
    let differential = dvh.differential(Gy(2.0));
    assert_eq!(
        differential,
        [
            DifferentialBin { from: Gy(0.0), to: Gy(2.0), volume: Ml(0.001) },
            DifferentialBin { from: Gy(2.0), to: Gy(4.0), volume: Ml(0.002) },
            DifferentialBin { from: Gy(4.0), to: Gy(6.0), volume: Ml(0.001) },
        ]
    );
}

#[test]
fn bad_inputs_are_errors() {
    let g = grid([3, 3, 3], [1.0; 3]);
    let dose = Field::filled(g, 1.0f32);
    assert_eq!(Dvh::compute(&dose, &Mask::empty(g)), Err(GridError::EmptyMask));
    let elsewhere = Mask::empty(grid([3, 3, 3], [2.0; 3])).complement();
    assert_eq!(Dvh::compute(&dose, &elsewhere), Err(GridError::GridMismatch));
    let mut broken = dose.clone();
    broken.set([1, 2, 0], f32::NAN);
    assert_eq!(Dvh::compute(&broken, &Mask::empty(g).complement()), Err(GridError::NonFinite { voxel: [1, 2, 0] }));
}

#[test]
fn radial_dose_in_a_sphere_matches_the_closed_form() {
    // Dose 100·(1 − r/2R) Gy in a ball of radius R = 30 mm at 1 mm. The hottest fraction f is the
    // inner ball of radius R·f^(1/3), so D(x %) = 100·(1 − (x/100)^(1/3)/2) and
    // V(d) = (2·(1 − d/100))³ of the volume; the mean is 100·(1 − 3/8) = 62.5 Gy.
    // Tolerance: the voxel sampling of the sphere, 1 % of the dose (the acceptance criterion) and
    // 1 % of the volume.
    let r = 30.0;
    let g = Grid::new([61, 61, 61], [Mm(1.0); 3], PatientPoint([-30.0; 3])).unwrap();
    let radius = |p: PatientPoint| p.distance_to(PatientPoint::default()).0;
    let dose = Field::from_fn(g, |p| (100.0 * (1.0 - radius(p) / (2.0 * r))) as f32);
    let sphere = Mask::from_fn(g, |p| radius(p) <= r);
    let dvh = Dvh::compute(&dose, &sphere).unwrap();
    let d = |x: f64| 100.0 * (1.0 - (x / 100.0).powf(1.0 / 3.0) / 2.0);
    let v = |gy: f64| 100.0 * (2.0 * (1.0 - gy / 100.0)).powi(3);
    let mut rows = vec![("mean Gy", dvh.mean().0, 62.5, 0.625), ("max Gy", dvh.max().0, 100.0, 1.0)];
    for x in [2.0, 10.0, 50.0, 90.0, 98.0] {
        rows.push(("D(x %) Gy", dvh.d_percent(Percent(x)).0, d(x), 0.01 * d(x)));
    }
    for gy in [55.0, 60.0, 70.0, 80.0] {
        rows.push(("V(d) %", dvh.v_dose_percent(Gy(gy)).0, v(gy), 1.0));
    }
    check(&rows);
}

#[test]
fn linear_gradient_in_a_box_matches_the_closed_form() {
    // Dose 10 + x Gy across a 100 × 20 × 20 mm box (1 mm voxels, centres at x = 0.5 … 99.5 mm):
    // V(d) = (110 − d) % of the volume, D(x %) = 110 − x Gy, D2cc (5 % of 40 mL) = 105 Gy, mean
    // 60 Gy. Tolerance: the dose changes by 1 Gy across a voxel, so D within 0.5 Gy, V within one
    // column of voxels (1 % of the volume).
    let g = Grid::new([100, 20, 20], [Mm(1.0); 3], PatientPoint([0.5; 3])).unwrap();
    let dose = Field::from_fn(g, |p| (10.0 + p.0[0]) as f32);
    let dvh = Dvh::compute(&dose, &Mask::empty(g).complement()).unwrap();
    let mut rows = vec![
        ("volume mL", dvh.volume().0, 40.0, 1e-9),
        ("mean Gy", dvh.mean().0, 60.0, 1e-6),
        ("D2cc Gy", dvh.d_volume(Ml(2.0)).unwrap().0, 105.0, 0.5),
        ("V100 of 60 Gy %", dvh.v_percent_of(Gy(60.0), Percent(100.0)).0, 50.0, 1.0),
    ];
    for x in [2.0, 50.0, 90.0, 98.0] {
        rows.push(("D(x %) Gy", dvh.d_percent(Percent(x)).0, 110.0 - x, 0.5));
    }
    for gy in [15.0, 35.2, 60.0, 104.9] {
        rows.push(("V(d) %", dvh.v_dose_percent(Gy(gy)).0, 110.0 - gy, 1.0));
    }
    check(&rows);
    // The histograms account for the whole volume.
    let binned: f64 = dvh.differential(Gy(7.0)).iter().map(|b| b.volume.0).sum();
    assert!((binned - 40.0).abs() < 1e-9);
    assert_eq!(dvh.cumulative(Gy(7.0))[0].volume, dvh.volume());
}

#[test]
fn dvhs_of_several_structures_come_back_in_order() {
    let g = grid([10, 10, 10], [1.0; 3]);
    let dose = Field::from_fn(g, |p| p.0[2] as f32);
    let low = Mask::from_fn(g, |p| p.0[2] < 3.0);
    let high = Mask::from_fn(g, |p| p.0[2] > 6.0);
    let dvhs = Dvh::compute_many(&dose, &[&low, &high]).unwrap();
    assert_eq!((dvhs[0].max(), dvhs[1].min()), (Gy(2.0), Gy(7.0)));
    assert_eq!(Dvh::compute_many(&dose, &[&low, &Mask::empty(g)]), Err(GridError::EmptyMask));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// D and V are inverses on the voxels: the hottest x % receive at least D(x %), i.e.
    /// V(D(x %)) ≥ x %, and no higher dose has that coverage. Exact (counts of voxels).
    #[test]
    fn d_and_v_are_inverse(doses in prop::collection::vec(0.0f32..80.0, 1..60), x in 0.0f64..=100.0) {
        let g = grid([doses.len(), 1, 1], [1.0; 3]);
        let dvh = Dvh::compute(&Field::from_vec(g, doses.clone()).unwrap(), &Mask::empty(g).complement()).unwrap();
        let d = dvh.d_percent(Percent(x));
        prop_assert!(dvh.v_dose_percent(d).0 >= x - 1e-9);
        let next_higher = doses.iter().map(|&v| f64::from(v)).filter(|&v| v > d.0).fold(f64::INFINITY, f64::min);
        if next_higher.is_finite() {
            prop_assert!(dvh.v_dose_percent(Gy(next_higher)).0 < x);
        }
    }
}
