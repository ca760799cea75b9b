//! Calibrates the fast surrogate against the bioheat solver and writes the shipped calibration
//! CSVs (`crates/cryo/data/surrogate/`).
//!
//! For each (probe class, tissue) below, with the protocol's 10-8-10 sequence and probe
//! temperature:
//! 1. one probe along z, 1 mm grid with 41 mm of tissue around the active segment: the table
//!    `T₁(s, r)` every 1 mm out to 35 mm from the segment ([`SurrogateModel::from_single_probe_field`]);
//! 2. three multi-probe runs on a 1 mm grid with 30 mm of tissue around the probes, distinct from
//!    the acceptance test's layouts
//!    (`tests/it/surrogate.rs`): two probes 10 mm apart, two probes 20 mm apart, three probes on a
//!    line 15 mm apart; the exponent p in 1.0, 1.1, …, 4.0 maximising the mean Dice of the 0, −20
//!    and −40 °C isotherms ([`fit_exponent`]).
//!
//! Run from the workspace root (about ten minutes of CPU per tissue):
//!
//!     cargo run --release -p cryoseed-cryo --example calibrate_surrogate -- crates/cryo/data/surrogate [TISSUE…]
//!
//! where TISSUE is `default-tissue` and/or `lung` (default: both). With `--refit` before the
//! directory, the table of the existing file is kept and only the exponent is fitted again.
#![allow(clippy::print_stdout, reason = "a command-line tool that reports its fit")]

use cryoseed_core::{Celsius, Mm, Organ, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::surrogate::{FitCase, SurrogateConditions, fit_exponent};
use cryoseed_cryo::{BioheatConfig, Medium, PlacedProbe, ProbeCatalogue, SurrogateModel, simulate_freeze_thaw};
use cryoseed_volume::Grid;
use std::path::PathBuf;

const REACH_MM: f64 = 35.0;
const MARGIN_MM: f64 = 41.0;
const FIT_MARGIN_MM: f64 = 30.0;
const FIT_SPACING_MM: f64 = 1.0;

fn probes_z(class: &cryoseed_cryo::ProbeClass, xy: &[[f64; 2]], tip_z: f64) -> Vec<PlacedProbe> {
    xy.iter()
        .enumerate()
        .map(|(n, p)| {
            PlacedProbe::new(n, class.clone(), PatientPoint([p[0], p[1], tip_z]), PatientVector([0.0, 0.0, 1.0]))
                .expect("valid probe")
        })
        .collect()
}

/// A grid of spacing `h` with `MARGIN_MM` around the layout (x, y) and the active segments (z),
/// and the tip height on it.
fn grid_for(xy: &[[f64; 2]], active_length: f64, h: f64, margin: f64) -> (Grid, f64) {
    let lo = [0, 1].map(|a| xy.iter().map(|p| p[a]).fold(f64::INFINITY, f64::min) - margin);
    let hi = [0, 1].map(|a| xy.iter().map(|p| p[a]).fold(f64::NEG_INFINITY, f64::max) + margin);
    let n = |span: f64| (span / h).ceil() as usize + 1;
    let dims = [n(hi[0] - lo[0]), n(hi[1] - lo[1]), n(active_length + 2.0 * margin)];
    let grid = Grid::new(dims, [Mm(h); 3], PatientPoint([lo[0], lo[1], 0.0])).expect("grid");
    (grid, margin + active_length)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let refit = args.first().is_some_and(|a| a == "--refit");
    if refit {
        args.remove(0);
    }
    let out = PathBuf::from(args.first().cloned().unwrap_or_else(|| "crates/cryo/data/surrogate".into()));
    let only: Vec<String> = args.iter().skip(1).cloned().collect();
    let protocol = Protocol::shipped();
    let catalogue = ProbeCatalogue::shipped();
    let sequence = protocol.cryo.freeze_thaw("10-8-10").expect("10-8-10 in the protocol");
    let surface = protocol.cryo.probe_surface_temperature_c;
    let runs = [("2.4mm-argon", "default-tissue", Organ::Liver), ("2.4mm-argon", "lung", Organ::Lung)];
    for (class_name, tissue_label, organ) in runs {
        if !only.is_empty() && !only.iter().any(|t| t == tissue_label) {
            continue;
        }
        let class = catalogue.class(class_name).expect("shipped class").clone();
        let medium = Medium::from_tissue(&protocol.cryo.tissue_for(organ)).expect("protocol tissue");
        let config = BioheatConfig { medium, baseline: BioheatConfig::BODY_TEMPERATURE, snapshot_times: vec![] };
        let l = class.active_length.0;
        let conditions = SurrogateConditions {
            class: class.name.clone(),
            active_length_mm: l,
            tissue_label: tissue_label.into(),
            medium,
            freeze_thaw: sequence.name.clone(),
            phases: sequence.phases.clone(),
            baseline: config.baseline,
            surface: class.surface_temperature_or(surface),
        };
        let path = out.join(format!("{class_name}_{tissue_label}_{}.csv", sequence.name));
        let fit_layouts: [(&str, Vec<[f64; 2]>); 3] = [
            ("2 probes 10 mm apart", vec![[-5.0, 0.0], [5.0, 0.0]]),
            ("2 probes 20 mm apart", vec![[-10.0, 0.0], [10.0, 0.0]]),
            ("3 probes on a line 15 mm apart", vec![[-15.0, 0.0], [0.0, 0.0], [15.0, 0.0]]),
        ];
        let provenance = format!(
            "cryoseed calibrate_surrogate example: table = single-probe solver run (simulate_freeze_thaw, 1 mm grid, \
             {MARGIN_MM} mm margin, mean of 16 azimuths); exponent fitted (max mean Dice of 0/-20/-40 C) on solver runs \
             at {FIT_SPACING_MM} mm with {FIT_MARGIN_MM} mm margin of: {}",
            fit_layouts.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
        );
        let model = if refit {
            let text = std::fs::read_to_string(&path).expect("existing calibration to refit");
            let mut model = SurrogateModel::from_csv_str(&text).expect("valid calibration");
            assert_eq!(
                model.conditions,
                conditions,
                "{}: conditions changed, recalibrate without --refit",
                path.display()
            );
            model.provenance = provenance;
            model
        } else {
            let (grid, tip_z) = grid_for(&[[0.0, 0.0]], l, 1.0, MARGIN_MM);
            let single = probes_z(&class, &[[0.0, 0.0]], tip_z);
            let result = simulate_freeze_thaw(&grid, &single, &sequence.phases, surface, &config).expect("single run");
            SurrogateModel::from_single_probe_field(
                conditions,
                &single[0],
                &result.min_temperature,
                REACH_MM,
                1.0,
                provenance,
            )
            .expect("table")
        };
        let isotherms = [Celsius(0.0), Celsius(-20.0), Celsius(-40.0)];
        let mut cases = Vec::new();
        for (name, xy) in &fit_layouts {
            let (grid, tip_z) = grid_for(xy, l, FIT_SPACING_MM, FIT_MARGIN_MM);
            let probes = probes_z(&class, xy, tip_z);
            let result = simulate_freeze_thaw(&grid, &probes, &sequence.phases, surface, &config).expect("fit run");
            println!("{class_name} {tissue_label}: solved {name}");
            cases.push(FitCase { probes, min_temperature: result.min_temperature });
        }
        let candidates: Vec<f64> = (0..=30).map(|k| 1.0 + 0.1 * f64::from(k)).collect();
        for (case, (name, _)) in cases.iter().zip(&fit_layouts) {
            let m = model.with_exponent(1.6).expect("exponent");
            let masks = m.isotherm_masks(case.min_temperature.grid(), &case.probes, &isotherms).expect("masks");
            let d: Vec<String> = masks
                .iter()
                .zip(&isotherms)
                .map(|(mask, &iso)| {
                    let solver = cryoseed_cryo::isotherm::isotherm_mask(&case.min_temperature, iso);
                    format!("{} C: {:.3}", iso.0, cryoseed_cryo::surrogate::dice(mask, &solver))
                })
                .collect();
            println!("  {name}, p = 1.6: Dice {}", d.join(", "));
        }
        let (p, mean) = fit_exponent(&model, &cases, &isotherms, &candidates).expect("fit");
        for &q in &candidates {
            let (_, m) = fit_exponent(&model, &cases, &isotherms, &[q]).expect("fit");
            println!("  p = {q:.1}: mean Dice {m:.4}");
        }
        println!("{class_name} {tissue_label}: exponent {p:.1}, mean Dice {mean:.4}");
        let mut model = model.with_exponent(p).expect("exponent");
        model.provenance = format!("{}; fitted exponent {p:.1} (mean Dice {mean:.4})", model.provenance);
        std::fs::write(&path, model.to_csv_string()).expect("write calibration");
        println!("wrote {}", path.display());
    }
}
