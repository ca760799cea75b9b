//! The formalism at the published nodes.

use crate::{g_l_oracle, models};
use cryoseed_core::{Cm, U};
use cryoseed_dose::tg43::{self, Formalism};
use std::f64::consts::FRAC_PI_2;

/// Relative tolerance for identities evaluated in double precision (a few ulps of arithmetic).
const EXACT: f64 = 1e-12;

#[test]
fn dose_rate_at_reference_point_is_lambda_for_every_model() {
    for model in models() {
        let lambda = model.dose_rate_constant_cgy_per_h_per_u();
        let line = tg43::dose_rate_line_cgy_per_h(&model, U(1.0), Cm(1.0), FRAC_PI_2);
        assert!((line - lambda).abs() <= EXACT * lambda, "{}: line {line} vs Λ {lambda}", model.id());
        // The 1-D form at 1 cm is Λ·φ_an(1 cm).
        let point = tg43::dose_rate_point_cgy_per_h(&model, U(1.0), Cm(1.0));
        let expected = lambda * model.anisotropy_factor(Cm(1.0));
        assert!((point - expected).abs() <= EXACT * expected, "{}: point {point} vs {expected}", model.id());
        // Linear in S_K.
        let two = tg43::dose_rate_line_cgy_per_h(&model, U(2.5), Cm(1.0), FRAC_PI_2);
        assert!((two - 2.5 * lambda).abs() <= EXACT * lambda);
    }
}

/// At every tabulated F node the computed dose rate is Λ·[G_L/G_L(r0,θ0)]·g_L·F with the
/// tabulated g_L and F: no interpolation error.
#[test]
fn every_f_node_is_reproduced_without_interpolation_error() {
    let mut nodes = 0;
    for model in models() {
        let l = model.active_length().0;
        let lambda = model.dose_rate_constant_cgy_per_h_per_u();
        let g_table = model.radial_dose_table();
        let f = model.anisotropy_table();
        for (i, &r) in f.radii_cm().iter().enumerate() {
            let gi = g_table.radii_cm().iter().position(|&x| x == r).expect("F radii are g_L radii in these tables");
            let g = g_table.values()[gi];
            for (a, &theta_deg) in f.angles_deg().iter().enumerate() {
                let theta = theta_deg.to_radians();
                let expected = lambda * g_l_oracle(r, theta, l) / g_l_oracle(1.0, FRAC_PI_2, l) * g * f.value(a, i);
                for t in [theta, std::f64::consts::PI - theta] {
                    let got = tg43::dose_rate_line_cgy_per_h(&model, U(1.0), Cm(r), t);
                    assert!(
                        (got - expected).abs() <= 1e-9 * expected,
                        "{} r = {r} θ = {}: {got} vs {expected}",
                        model.id(),
                        t.to_degrees()
                    );
                }
                nodes += 1;
            }
        }
    }
    assert_eq!(nodes, 6 * 11 + 6 * 12 + 7 * 11 + 6 * 11);
}

/// Transverse-axis g_L nodes, including those below the smallest F radius (F(r, 90°) = 1).
#[test]
fn every_g_l_node_on_the_transverse_axis() {
    for model in models() {
        let l = model.active_length().0;
        let lambda = model.dose_rate_constant_cgy_per_h_per_u();
        let t = model.radial_dose_table();
        for (&r, &g) in t.radii_cm().iter().zip(t.values()) {
            let expected = lambda * g_l_oracle(r, FRAC_PI_2, l) / g_l_oracle(1.0, FRAC_PI_2, l) * g;
            let got = tg43::dose_rate_line_cgy_per_h(&model, U(1.0), Cm(r), FRAC_PI_2);
            assert!((got - expected).abs() <= 1e-9 * expected, "{} r = {r}: {got} vs {expected}", model.id());
            // And the 1-D form at the φ_an nodes.
            let phi = model.anisotropy_factor(Cm(r));
            let point = tg43::dose_rate_point_cgy_per_h(&model, U(1.0), Cm(r));
            assert!((point - expected * phi).abs() <= 1e-9 * expected, "{} r = {r}", model.id());
        }
    }
}

#[test]
fn geometry_function_matches_the_report_definition() {
    for &(r, theta_deg) in &[(0.5, 0.0), (0.5, 5.0), (1.0, 45.0), (2.0, 90.0), (0.2, 90.0), (5.0, 1.0), (0.3, 170.0)] {
        let theta = f64::to_radians(theta_deg);
        let got = tg43::geometry_function_line(Cm(r), theta, Cm(0.3));
        let want = g_l_oracle(r, theta, 0.3);
        assert!((got - want).abs() <= 1e-9 * want, "r {r} θ {theta_deg}: {got} vs {want}");
    }
    // Far from the source the line tends to a point: G_L → 1/r².
    let far = tg43::geometry_function_line(Cm(50.0), 0.7, Cm(0.3));
    assert!((far * 2500.0 - 1.0).abs() < 1e-4);
}

#[test]
fn the_near_source_rule_keeps_dose_finite_and_continuous() {
    let model = cryoseed_dose::builtin_model("6711").unwrap();
    // On the active line and at the centre: finite, equal to the value on the 0.5 mm surface.
    let centre = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.0, 0.0, 0.0]);
    let surface = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.05, 0.0, 0.0]);
    assert!(centre.is_finite() && (centre - surface).abs() <= 1e-12 * surface);
    let on_line = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.0, 0.0, 0.1]);
    let end_cap = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.0, 0.0, 0.2]);
    assert!(on_line.is_finite() && (on_line - end_cap).abs() <= 1e-9 * end_cap, "{on_line} vs {end_cap}");
    // Continuity across the 0.5 mm surface (transverse, 1 µm either side).
    let inside = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.0499, 0.0, 0.0]);
    let outside = tg43::dose_rate_at_cgy_per_h(&model, Formalism::Line, U(1.0), [0.0501, 0.0, 0.0]);
    assert!((inside - outside).abs() / outside < 0.01);
}
