//! The fast surrogate against the bioheat solver it is calibrated to.
//!
//! Acceptance (issue 4): Dice ≥ 0.9 between the surrogate's and the solver's −20 °C isotherm on
//! the layouts the planner uses, in liver (the protocol's default tissue) with 10-8-10. The
//! layouts here are not those the exponent was fitted on (`examples/calibrate_surrogate.rs`: two
//! probes 10 and 20 mm apart, three on a line). The solver runs on the 1 mm grid the calibration
//! was made on (at 2 mm the solver itself is not converged near a 2.4 mm probe: its single-probe
//! −20 °C zone differs from the 1 mm one by a Dice of 0.74), so the comparison takes minutes of
//! CPU and runs when `CRYOSEED_TEST_SLOW=1` is set (`.ci/run` sets it). The Dice values are
//! printed (`--nocapture`).
//!
//! Measured on this machine (−20 / 0 / −40 °C): 1 probe 0.994 / 0.985 / 0.997; 2 probes 15 mm
//! apart 0.978 / 0.904 / 0.960; triangle of side 20 mm 0.951 / 0.884 / 0.972; square of side
//! 20 mm 0.912 / 0.852 / 0.946; square of side 15 mm 0.950 / 0.843 / 0.977. The widest layout
//! (20 mm square) is the closest to the limit: the p-norm slightly overstates the cold at the
//! centre of a wide layout. The 0 °C edge is the least accurate, which is why the planner's
//! ice–OAR distances are re-measured by the solver (`verify_plan`).
#![allow(clippy::print_stderr, reason = "prints the measured Dice values")]

use crate::grid;
use cryoseed_core::{Celsius, Mm, Organ, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::isotherm::isotherm_mask;
use cryoseed_cryo::surrogate::{SurrogateLibrary, dice};
use cryoseed_cryo::{
    BioheatConfig, CryoError, Medium, PlacedProbe, ProbeCatalogue, SurrogateModel, simulate_freeze_thaw,
};

fn liver_model() -> (SurrogateModel, BioheatConfig) {
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let medium = Medium::from_tissue(&protocol.cryo.tissue_for(Organ::Liver)).unwrap();
    let phases = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let model = SurrogateLibrary::shipped()
        .find(&class, &medium, &phases, BioheatConfig::BODY_TEMPERATURE, protocol.cryo.probe_surface_temperature_c)
        .unwrap()
        .clone();
    (model, BioheatConfig { medium, baseline: BioheatConfig::BODY_TEMPERATURE, snapshot_times: vec![] })
}

fn probes_at(xy: &[[f64; 2]], tip_z: f64, direction: [f64; 3]) -> Vec<PlacedProbe> {
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    xy.iter()
        .enumerate()
        .map(|(n, p)| {
            PlacedProbe::new(n, class.clone(), PatientPoint([p[0], p[1], tip_z]), PatientVector(direction)).unwrap()
        })
        .collect()
}

/// Dice of the −20, 0 and −40 °C isotherms, surrogate vs solver, for parallel probes along z
/// at `xy` (mm) in a grid of spacing `h` with 30 mm of tissue around them (the 0 °C edge is
/// within 20 mm of a probe).
fn compare(xy: &[[f64; 2]], h: f64) -> [f64; 3] {
    let protocol = Protocol::shipped();
    let (model, config) = liver_model();
    let n = |span: f64| (span / h).ceil() as usize + 1;
    let span = [0, 1].map(|a| {
        xy.iter().map(|p| p[a]).fold(f64::NEG_INFINITY, f64::max)
            - xy.iter().map(|p| p[a]).fold(f64::INFINITY, f64::min)
    });
    let g = grid([n(span[0] + 60.0), n(span[1] + 60.0), n(40.0 + 60.0)], h);
    let shift: Vec<[f64; 2]> = xy
        .iter()
        .map(|p| [0, 1].map(|a| p[a] - xy.iter().map(|q| q[a]).fold(f64::INFINITY, f64::min) + 30.0))
        .collect();
    let probes = probes_at(&shift, 70.0, [0.0, 0.0, 1.0]);
    let phases = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let solved =
        simulate_freeze_thaw(&g, &probes, &phases, protocol.cryo.probe_surface_temperature_c, &config).unwrap();
    let isotherms = [Celsius(-20.0), Celsius(0.0), Celsius(-40.0)];
    let masks = model.isotherm_masks(&g, &probes, &isotherms).unwrap();
    std::array::from_fn(|k| dice(&masks[k], &isotherm_mask(&solved.min_temperature, isotherms[k])))
}

#[test]
fn surrogate_matches_the_solver_on_the_planner_layouts() {
    if std::env::var_os("CRYOSEED_TEST_SLOW").is_none_or(|v| v != "1") {
        eprintln!("surrogate_matches_the_solver_on_the_planner_layouts: skipped (set CRYOSEED_TEST_SLOW=1)");
        return;
    }
    let h = 20.0 * 3.0_f64.sqrt() / 2.0;
    let layouts: [(&str, Vec<[f64; 2]>); 5] = [
        ("1 probe", vec![[0.0, 0.0]]),
        ("2 probes 15 mm apart", vec![[0.0, 0.0], [15.0, 0.0]]),
        ("3 probes, triangle of side 20 mm", vec![[0.0, 0.0], [20.0, 0.0], [10.0, h]]),
        ("4 probes, square of side 20 mm", vec![[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]]),
        ("4 probes, square of side 15 mm", vec![[0.0, 0.0], [15.0, 0.0], [0.0, 15.0], [15.0, 15.0]]),
    ];
    for (name, xy) in layouts {
        let [d20, d0, d40] = compare(&xy, 1.0);
        eprintln!("{name}: Dice -20 °C {d20:.3}, 0 °C {d0:.3}, -40 °C {d40:.3}");
        // Tolerance: issue 4's acceptance, Dice >= 0.9 for the -20 °C isotherm.
        assert!(d20 >= 0.9, "{name}: Dice of the -20 °C isotherm {d20:.3} < 0.9");
    }
}

#[test]
fn surrogate_is_deterministic_and_its_field_agrees_with_its_masks() {
    let (model, _) = liver_model();
    let g = grid([100, 100, 120], 1.0);
    let probes = probes_at(&[[42.0, 50.0], [57.0, 50.0]], 80.0, [0.0, 0.0, 1.0]);
    let a = model.min_temperature(&g, &probes).unwrap();
    let b = model.min_temperature(&g, &probes).unwrap();
    assert_eq!(a.as_slice(), b.as_slice());
    let mask = model.isotherm_masks(&g, &probes, &[Celsius(-20.0)]).unwrap().remove(0);
    let from_field = isotherm_mask(&a, Celsius(-20.0));
    // The mask compares powered sums, the field takes a root: they may differ only at rounding.
    assert!(dice(&mask, &from_field) > 0.999);
    // The coldest voxel is the probe's temperature; far away, body temperature.
    let min = a.as_slice().iter().copied().fold(f32::INFINITY, f32::min);
    assert!((min + 150.0).abs() < 1.0, "{min}");
    assert_eq!(a.at([0, 0, 0]), 37.0);
}

#[test]
fn probe_direction_does_not_change_the_shape() {
    // The same single probe along z and along x gives the same isotherm volume (table is
    // axisymmetric, each probe uses its own axis): within 2 % (voxelisation of a tilted shape).
    let (model, _) = liver_model();
    let g = grid([90, 90, 90], 1.0);
    let z = probes_at(&[[45.0, 45.0]], 65.0, [0.0, 0.0, 1.0]);
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let x = vec![PlacedProbe::new(0, class, PatientPoint([65.0, 45.0, 45.0]), PatientVector([1.0, 0.0, 0.0])).unwrap()];
    let vz = model.isotherm_masks(&g, &z, &[Celsius(-20.0)]).unwrap()[0].count() as f64;
    let vx = model.isotherm_masks(&g, &x, &[Celsius(-20.0)]).unwrap()[0].count() as f64;
    assert!((vz - vx).abs() / vz < 0.02, "{vz} vs {vx}");
}

#[test]
fn calibration_round_trips_and_is_refused_for_other_conditions() {
    let (model, config) = liver_model();
    let again = SurrogateModel::from_csv_str(&model.to_csv_string()).unwrap();
    assert_eq!(again.exponent, model.exponent);
    assert_eq!(again.table_c, model.table_c);
    assert_eq!(again.conditions, model.conditions);
    let protocol = Protocol::shipped();
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let phases = protocol.cryo.freeze_thaw("10-8-10").unwrap().phases.clone();
    let mut warmer = config.medium;
    warmer.perfusion_per_s *= 2.0;
    let err = SurrogateLibrary::shipped()
        .find(&class, &warmer, &phases, BioheatConfig::BODY_TEMPERATURE, Celsius(-150.0))
        .unwrap_err();
    assert!(err.to_string().contains("no calibration for class `2.4mm-argon`"), "{err}");
    let rod = ProbeCatalogue::shipped().class("17g-rod").unwrap().clone();
    assert!(SurrogateLibrary::shipped().find(&rod, &config.medium, &phases, Celsius(37.0), Celsius(-150.0)).is_err());
    // A probe of another class is refused by the model.
    let p = PlacedProbe::new(0, rod, PatientPoint([10.0, 10.0, 50.0]), PatientVector([0.0, 0.0, 1.0])).unwrap();
    assert!(matches!(model.min_temperature(&grid([20, 20, 60], 1.0), &[p]), Err(CryoError::Probe { .. })));
    // A malformed file names the line.
    let text = model.to_csv_string();
    let lines = text.lines().count();
    let err = SurrogateModel::from_csv_str(&format!("{text}1000,abc\n")).unwrap_err();
    assert!(err.to_string().contains(&format!("line {}", lines + 1)), "{err}");
    let err = SurrogateModel::from_csv_str(&text.replace("# exponent:", "# exp:")).unwrap_err();
    assert!(err.to_string().contains("missing header `# exponent:`"), "{err}");
    let _ = Mm(0.0);
}
