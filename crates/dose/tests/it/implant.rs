//! Bad seeds: every error names the seed and the field.

use cryoseed_core::{PatientPoint, U};
use cryoseed_dose::{Implant, Seed, SeedOrientation};

fn seed(c: [f64; 3], dir: [f64; 3], sk: f64, model: &str) -> Seed {
    Seed {
        centre_in_patient: PatientPoint(c),
        orientation: SeedOrientation::Axis(dir),
        air_kerma_strength: U(sk),
        model: model.into(),
    }
}

#[test]
fn bad_seeds_are_named() {
    let good = seed([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], 0.76, "6711");
    let check = |bad: Seed, expected: &str| {
        let err = Implant::new(&[good.clone(), seed([10.0, 0.0, 0.0], [0.0, 0.0, 1.0], 0.76, "6711"), bad], &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    };
    check(seed([f64::NAN, 0.0, 0.0], [0.0, 0.0, 1.0], 0.76, "6711"), "seed 2: position: must be finite");
    check(seed([5.0, 0.0, 0.0], [0.0, 0.0, 0.0], 0.76, "6711"), "seed 2: direction: must have non-zero length");
    check(seed([5.0, 0.0, 0.0], [0.0, f64::INFINITY, 0.0], 0.76, "6711"), "seed 2: direction: must be finite");
    check(seed([5.0, 0.0, 0.0], [0.0, 0.0, 1.0], -0.5, "6711"), "seed 2: sk_u: must be > 0, got -0.5");
    check(seed([5.0, 0.0, 0.0], [0.0, 0.0, 1.0], f64::NAN, "6711"), "seed 2: sk_u: must be > 0, got NaN");
    check(seed([5.0, 0.0, 0.0], [0.0, 0.0, 1.0], 0.76, "9999"), "seed 2: model: unknown seed model \"9999\"");
    check(seed([10.0, 0.0, 0.005], [1.0, 0.0, 0.0], 0.76, "6702"), "seeds 1 and 2 are at the same position");
}

#[test]
fn models_are_shared_and_axes_normalised() {
    let seeds = [
        seed([0.0, 0.0, 0.0], [0.0, 0.0, 2.0], 0.76, "6711"),
        seed([10.0, 0.0, 0.0], [3.0, 4.0, 0.0], 0.5, "OncoSeed 6711"),
        seed([20.0, 0.0, 0.0], [0.0, 0.0, 1.0], 0.5, "6702"),
    ];
    let implant = Implant::new(&seeds, &[]).unwrap();
    assert_eq!(implant.models().len(), 2);
    assert_eq!(implant.seeds()[1].model_index, 0);
    assert_eq!(implant.seeds()[1].axis_in_patient, Some([0.6, 0.8, 0.0]));
    assert!((implant.total_air_kerma_strength().0 - 1.76).abs() < 1e-12);
}
