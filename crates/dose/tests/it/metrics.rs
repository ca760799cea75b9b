//! Plan indices on a constructed case with hand-computed answers.
//!
//! Grid: 10 × 10 × 1 voxels of 10 mm (1 mL each). Row 0 is the target (10 mL) with doses
//! 50, 100, 110, 120, 130, 150, 170, 200, 250, 300 Gy; row 1 has five voxels at 120 Gy (normal
//! tissue above Rx) and five at 10 Gy; row 2 holds a 5 mL OAR at 40, 30, 20, 10, 5 Gy; the rest is
//! 10 Gy. Rx = 100 Gy; the body is the whole grid.
//!
//! By hand: TV = 10, TV_Rx = 9, TV_150 = 5, V_Rx = 14 (mL); D90 = 9th hottest = 100 Gy;
//! D100 = 50 Gy; V100 = 90 %, V150 = 50 %, V200 = 30 %; CN = COIN = (9/10)·(9/14) = 0.578571…;
//! CI = 14/10 = 1.4; EI = (14 − 9)/10 = 50 %; HI = (9 − 5)/9 = 0.4444…; OAR D0.1cc = D1cc = 40,
//! D2cc = 30, Dmax = 40, Dmean = 21 Gy.

use cryoseed_core::{Gy, Ml, Mm, PatientPoint};
use cryoseed_dose::{oar_metrics, target_metrics, volume_at_least};
use cryoseed_volume::{Dvh, Field, Grid, Mask};

fn case() -> (Field<f32>, Mask, Mask, Mask) {
    let grid = Grid::new([10, 10, 1], [Mm(10.0); 3], PatientPoint::default()).unwrap();
    let mut dose = Field::filled(grid, 10f32);
    let target_doses = [50.0, 100.0, 110.0, 120.0, 130.0, 150.0, 170.0, 200.0, 250.0, 300.0];
    let mut target = Mask::empty(grid);
    for (i, d) in target_doses.into_iter().enumerate() {
        dose.set([i, 0, 0], d);
        target.set([i, 0, 0], true);
    }
    for i in 0..5 {
        dose.set([i, 1, 0], 120.0);
    }
    let mut oar = Mask::empty(grid);
    for (i, d) in [40.0, 30.0, 20.0, 10.0, 5.0].into_iter().enumerate() {
        dose.set([i, 2, 0], d);
        oar.set([i, 2, 0], true);
    }
    let body = Mask::from_fn(grid, |_| true);
    (dose, target, oar, body)
}

/// Exact arithmetic on small integers: 1e-12.
fn check(name: &str, got: f64, expected: f64) {
    assert!((got - expected).abs() <= 1e-12, "{name}: got {got}, expected {expected}");
}

#[test]
fn target_indices_match_hand_computation() {
    let (dose, target, _, body) = case();
    let rx = Gy(100.0);
    let v_rx = volume_at_least(&dose, Some(&body), rx).unwrap();
    check("V_Rx", v_rx.0, 14.0);
    check("V_Rx without body", volume_at_least(&dose, None, rx).unwrap().0, 14.0);
    let m = target_metrics(&Dvh::compute(&dose, &target).unwrap(), rx, v_rx).unwrap();
    check("TV", m.volume.0, 10.0);
    check("D90", m.d90.0, 100.0);
    check("D100", m.d100.0, 50.0);
    check("V100", m.v100.0, 90.0);
    check("V150", m.v150.0, 50.0);
    check("V200", m.v200.0, 30.0);
    check("TV_Rx", m.target_volume_at_rx.0, 9.0);
    check("CN", m.conformation_number.unwrap(), 0.9 * 9.0 / 14.0);
    check("COIN", m.coin.unwrap(), 0.9 * 9.0 / 14.0);
    check("CI", m.conformity_index, 1.4);
    check("EI", m.external_index.0, 50.0);
    check("HI", m.homogeneity_index.unwrap(), 4.0 / 9.0);
}

#[test]
fn indices_without_coverage_are_none() {
    let (dose, target, _, _) = case();
    let m = target_metrics(&Dvh::compute(&dose, &target).unwrap(), Gy(1000.0), Ml(0.0)).unwrap();
    check("V100", m.v100.0, 0.0);
    assert_eq!(m.homogeneity_index, None);
    assert_eq!(m.coin, None);
    assert_eq!(m.conformation_number, None);
    let err = target_metrics(&Dvh::compute(&dose, &target).unwrap(), Gy(-1.0), Ml(0.0)).unwrap_err();
    assert_eq!(err.to_string(), "prescription: must be > 0 Gy, got -1");
}

#[test]
fn oar_indices_match_hand_computation() {
    let (dose, _, oar, _) = case();
    let m = oar_metrics(&Dvh::compute(&dose, &oar).unwrap());
    check("volume", m.volume.0, 5.0);
    check("D0.1cc", m.d0_1cc.unwrap().0, 40.0);
    check("D1cc", m.d1cc.unwrap().0, 40.0);
    check("D2cc", m.d2cc.unwrap().0, 30.0);
    check("Dmax", m.dmax.0, 40.0);
    check("Dmean", m.dmean.0, 21.0);
    // A 1 mL organ has no hottest 2 cm³.
    let mut tiny = Mask::empty(*dose.grid());
    tiny.set([9, 9, 0], true);
    let t = oar_metrics(&Dvh::compute(&dose, &tiny).unwrap());
    assert_eq!(t.d2cc, None);
    assert_eq!(t.d1cc, Some(Gy(10.0)));
}
