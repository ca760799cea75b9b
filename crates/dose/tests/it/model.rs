//! Seed models against the published tables.

use crate::{models, shipped};
use cryoseed_core::Cm;
use cryoseed_dose::{DoseError, PhiAnSource, SeedModel, builtin_model, derive_phi_an};

#[test]
fn every_lambda_equals_the_consensus_table() {
    // Safigholi et al. 2020, Table II, consensus column; transcribed numbers, so exact.
    let table = shipped("consensus_lambda_I125.csv");
    let consensus = |name: &str| -> f64 {
        let line = table.lines().find(|l| l.starts_with(name)).unwrap();
        line.split(',').nth(1).unwrap().parse().unwrap()
    };
    for (id, name) in
        [("6711", "OncoSeed 6711"), ("6702", "OncoSeed 6702"), ("best2301", "Best 2301"), ("iai125a", "IAI-125A")]
    {
        let model = builtin_model(id).unwrap();
        assert_eq!(model.dose_rate_constant_cgy_per_h_per_u(), consensus(name), "{id}");
    }
}

#[test]
fn aliases_and_unknown_models() {
    for alias in ["6711", "OncoSeed-6711", " 6711 "] {
        assert_eq!(builtin_model(alias).unwrap().id(), "6711");
    }
    assert_eq!(builtin_model("Best 2301").unwrap().id(), "best2301");
    assert_eq!(builtin_model("IAI-125A").unwrap().id(), "iai125a");
    let err = builtin_model("9011").unwrap_err();
    assert!(matches!(err, DoseError::UnknownModel { .. }));
    assert!(err.to_string().contains("9011") && err.to_string().contains("6711, 6702, best2301, iai125a"), "{err}");
}

#[test]
fn caveats_mark_best_2301_unverified_and_iai_phi_an_derived() {
    let best = builtin_model("best2301").unwrap();
    assert!(best.caveat().unwrap().contains("unverified"));
    let iai = builtin_model("iai125a").unwrap();
    assert_eq!(iai.phi_an_source(), PhiAnSource::DerivedFromF);
    assert!(iai.caveat().unwrap().contains("derived"));
    assert!(builtin_model("6711").unwrap().caveat().is_none());
}

/// TG-43U1 Eq. 10 applied to the published F reproduces the published φ_an. Tolerance 0.5 %
/// (the issue's acceptance); the tables carry 3 digits, so agreement to ~0.2 % is what one can
/// expect (the data README reports 0.002).
#[test]
fn phi_an_from_f_reproduces_published_6711_and_6702() {
    let mut worst: f64 = 0.0;
    for id in ["6711", "6702"] {
        let model = builtin_model(id).unwrap();
        let t = model.anisotropy_factor_table();
        for (&r, &published) in t.radii_cm().iter().zip(t.values()) {
            let derived = derive_phi_an(&model, Cm(r));
            let rel = (derived - published).abs() / published;
            worst = worst.max(rel);
            assert!(rel <= 0.005, "{id} r = {r} cm: derived {derived:.4} vs published {published}");
        }
    }
    // Record what was achieved, so that a regression in the integration shows up.
    assert!(worst < 0.0025, "worst relative deviation {worst}");
}

#[test]
fn best_2301_f_table_does_not_integrate_to_its_published_phi_an() {
    // Documented in data/tg43/README.md: the integral gives 0.995 at 1 cm against 0.945. This
    // test pins the discrepancy that makes the model "unverified"; if the table is corrected,
    // it fails and the caveat must be revisited.
    let model = builtin_model("best2301").unwrap();
    let derived = derive_phi_an(&model, Cm(1.0));
    assert!((derived - 0.995).abs() < 0.003, "{derived}");
    assert_eq!(model.anisotropy_factor(Cm(1.0)), 0.945);
}

#[test]
fn iai125a_phi_an_is_derived_at_the_f_radii() {
    let model = builtin_model("iai125a").unwrap();
    let t = model.anisotropy_factor_table();
    assert_eq!(t.radii_cm(), model.anisotropy_table().radii_cm());
    for (&r, &v) in t.radii_cm().iter().zip(t.values()) {
        assert_eq!(v, derive_phi_an(&model, Cm(r)));
        // φ_an of I-125 seeds lies between 0.9 and 1.0 at these radii (TG-43U1 tables).
        assert!((0.9..1.0).contains(&v), "r = {r}: {v}");
    }
}

/// Interpolation rules, one line per case: (model, r cm, expected g_L, why).
#[test]
fn radial_dose_function_interpolation_rules() {
    let m = builtin_model("6711").unwrap();
    let exp_tail = 0.0803 * (0.0803f64 / 0.109).powf(2.0);
    let cases: [(f64, f64, &str); 6] = [
        (1.0, 1.0, "node"),
        (0.125, (1.055 + 1.078) / 2.0, "linear between 0.1 and 0.15"),
        (2.5, (0.814 + 0.632) / 2.0, "linear between 2 and 3"),
        (0.05, 1.055, "nearest below the first radius"),
        (12.0, exp_tail, "exponential through the last two points"),
        (10.0, 0.0803, "last node"),
    ];
    for (r, expected, why) in cases {
        let got = m.radial_dose_function(Cm(r));
        assert!((got - expected).abs() < 1e-12, "g_L({r}) = {got}, expected {expected}: {why}");
    }
}

#[test]
fn anisotropy_function_interpolation_rules() {
    let m = builtin_model("6711").unwrap();
    let deg = f64::to_radians;
    let cases: [(f64, f64, f64, &str); 6] = [
        (1.0, 0.0, 0.370, "node"),
        (1.5, 0.0, (0.370 + 0.442) / 2.0, "linear in r"),
        (1.0, 15.0, (0.537 + 0.705) / 2.0, "linear in theta"),
        (0.25, 30.0, 0.846, "nearest radius below the table"),
        (7.0, 30.0, 0.852, "nearest radius beyond the table"),
        (1.0, 180.0 - 20.0, 0.705, "mirrored about 90 degrees"),
    ];
    for (r, theta, expected, why) in cases {
        let got = m.anisotropy_function(Cm(r), deg(theta));
        assert!((got - expected).abs() < 1e-12, "F({r}, {theta}) = {got}, expected {expected}: {why}");
    }
    // Bilinear in the middle of a cell: mean of its four corners.
    let mid = m.anisotropy_function(Cm(1.5), deg(15.0));
    let corners = (0.537 + 0.705 + 0.58 + 0.727) / 4.0;
    assert!((mid - corners).abs() < 1e-12);
}

/// Bad tables: every error names the table and the line.
#[test]
fn malformed_tables_name_table_and_line() {
    let meta = shipped("6711_meta.csv");
    let gl = shipped("6711_gL.csv");
    let f = shipped("6711_F.csv");
    let check = |meta: &str, gl: &str, f: &str, phi: Option<&str>, expected: &str| {
        let err = SeedModel::parse("x", meta, gl, f, phi).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    };
    check(&meta, &gl.replace("1.5,0.908", "1.5,abc"), &f, None, "gL line 8: gL: not a number");
    check(&meta, &gl.replace("1.5,0.908", "0.9,0.908"), &f, None, "gL line 8: r_cm: must increase");
    check(&meta, &gl.replace("1.5,0.908", "1.5,-0.9"), &f, None, "gL line 8: gL: must be > 0");
    check(&meta.replace("Lambda,0.965", "Lambda,-0.965"), &gl, &f, None, "meta line 4: Lambda: must be > 0");
    check(&meta.replace("L_active,0.3,cm", "L_active,0.3,mm"), &gl, &f, None, "L_active: unit must be \"cm\"");
    check(&meta.replace("half_life", "halflife"), &gl, &f, None, "meta line 0: missing key half_life");
    check(&meta, &gl, &f.replace("20.0,0.716", "20.0,x"), None, "F line 5: F at r = 0.5 cm: not a number");
    check(&meta, &gl, &f.replace("90.0,1.0,1.0,1.0,1.0,1.0,1.0\n", ""), None, "theta_deg must run from 0 to 90");
    check(&meta, &gl, &f.replace("20.0,0.716,", "20.0,"), None, "F line 5: expected 7 fields, got 6");
    check(&meta, &gl, &f, Some("r,phi\n1,1\n"), "phi_an line 1: header must be r_cm,phi_an");
}

#[test]
fn a_model_from_csv_text_equals_the_builtin() {
    let parsed = SeedModel::parse(
        "6711",
        &shipped("6711_meta.csv"),
        &shipped("6711_gL.csv"),
        &shipped("6711_F.csv"),
        Some(&shipped("6711_phi_an.csv")),
    )
    .unwrap();
    assert_eq!(parsed, builtin_model("6711").unwrap());
    assert_eq!(models().len(), 4);
}
