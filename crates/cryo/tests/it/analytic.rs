//! The analytic oracle itself (erf, Neumann's λ), then the 3-D solver on a slab against it.

use crate::grid;
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Protocol};
use cryoseed_cryo::analytic::{NeumannSolution, TwoPhaseMedium, erf, erfc};
use cryoseed_cryo::{BioheatConfig, ColdSource, Medium, solve_pennes_enthalpy};
use cryoseed_volume::Mask;

/// erf and erfc against values from Abramowitz & Stegun Table 7.1 and mpmath (50 digits),
/// to 1e-14 relative.
#[test]
#[allow(clippy::excessive_precision, reason = "reference values are quoted with every digit of the source")]
fn error_function_matches_reference_values() {
    let check = |x: f64, want_erf: f64, want_erfc: f64| {
        assert!((erf(x) - want_erf).abs() <= 1e-14 * want_erf.abs().max(1e-300), "erf({x}) = {}", erf(x));
        assert!((erfc(x) - want_erfc).abs() <= 1e-13 * want_erfc, "erfc({x}) = {}", erfc(x));
    };
    check(0.1, 0.1124629160182849, 0.8875370839817151);
    check(0.5, 0.5204998778130465, 0.4795001221869535);
    check(1.0, 0.8427007929497149, 0.15729920705028513);
    check(2.0, 0.9953222650189527, 0.004677734981047266);
    check(3.0, 0.9999779095030014, 2.209049699858544e-05);
    check(4.5, 0.9999999998033839, 1.966160441542887e-10);
    assert_eq!(erf(0.0), 0.0);
    assert!((erf(-1.0) + 0.8427007929497149).abs() < 1e-15);
}

/// λ against an independent root finder: SciPy 1.17.1 `brentq` (xtol 1e-15) with
/// `scipy.special.erf/erfc`, NumPy 2.4.6, run once by hand on the same equation:
///
/// - the one-phase limit (liquid at the freezing point), λ·e^{λ²}·erf(λ) = St/√π with
///   St = C_s(T_f − T_0)/L = 1 (Carslaw & Jaeger §11.2): λ = 0.6200626333135955;
/// - the slab test's tissue (k 2.0/0.5 W/m/K, C 1.8/3.6 MJ/m³/K, L 300 MJ/m³, −150 / −0.5 /
///   37 °C): λ = 0.49716524559834296.
///
/// Tolerance 1e-10 (bisection to machine precision; erf accurate to 1e-15).
#[test]
#[allow(clippy::excessive_precision, reason = "SciPy's values are quoted as printed")]
fn neumann_lambda_matches_scipy() {
    let medium = TwoPhaseMedium { k_solid: 1.0, c_solid: 1.0, k_liquid: 1.0, c_liquid: 1.0, latent_heat: 1.0 };
    let solution = NeumannSolution::new(medium, -1.0, 0.0, 0.0).unwrap();
    assert!((solution.lambda - 0.6200626333135955).abs() < 1e-10, "λ = {}", solution.lambda);
    let tissue = TwoPhaseMedium { k_solid: 2.0, c_solid: 1.8e6, k_liquid: 0.5, c_liquid: 3.6e6, latent_heat: 300e6 };
    let solution = NeumannSolution::new(tissue, -150.0, -0.5, 37.0).unwrap();
    assert!((solution.lambda - 0.49716524559834296).abs() < 1e-10, "λ = {}", solution.lambda);
}

/// The 3-D solver on a slab 3 × 3 voxels wide with insulated sides (so the problem is exactly
/// one-dimensional) and its first layer of voxels held at −150 °C, against Neumann's two-phase
/// solution. Tissue properties are the protocol's, without perfusion, with the phase change
/// narrowed to [−1, 0] °C and compared with Neumann at T_f = −0.5 °C (Neumann's problem has an
/// isothermal front).
///
/// Tolerances: front position within 0.5 mm (half the 1 mm voxel) at 5 and 10 min; temperature
/// within 1.0 °C at voxel centres more than 1.5 mm from the analytic front and within 2.5 °C at
/// the one or two voxels straddling it (the enthalpy method smears the front over a voxel, where
/// the analytic profile's slope is about 6 °C/mm on the ice side). The far face
/// (120 mm away) is insulated; at 10 min the analytic solution there differs from 37 °C by
/// erfc(120 mm / 2√(α_l t)) ≈ 1e-17, so the finite slab is semi-infinite for this test.
#[test]
fn slab_freezing_matches_neumann() {
    let tissue = Protocol::shipped().cryo.tissue;
    let medium = Medium {
        solidus: Celsius(-1.0),
        liquidus: Celsius(0.0),
        perfusion_per_s: 0.0,
        ..Medium::from_tissue(&tissue).unwrap()
    };
    let (surface, freezing, initial) = (-150.0, -0.5, 37.0);
    let neumann = NeumannSolution::new(
        TwoPhaseMedium {
            k_solid: medium.conductivity_frozen_w_per_m_k,
            c_solid: medium.heat_capacity_frozen_j_per_m3_k,
            k_liquid: medium.conductivity_unfrozen_w_per_m_k,
            c_liquid: medium.heat_capacity_unfrozen_j_per_m3_k,
            latent_heat: medium.latent_heat_j_per_m3,
        },
        surface,
        freezing,
        initial,
    )
    .unwrap();
    let g = grid([121, 3, 3], 1.0);
    let face = Mask::from_fn(g, |p| p.x().0 < 0.5);
    let config =
        BioheatConfig { medium, baseline: Celsius(initial), snapshot_times: vec![Minutes(5.0), Minutes(10.0)] };
    let freeze = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(10.0) }];
    let result =
        solve_pennes_enthalpy(&g, &[ColdSource { voxels: face, temperature: Celsius(surface) }], &freeze, &config)
            .unwrap();
    for snapshot in &result.snapshots {
        let t_s = snapshot.time.to_seconds();
        let line: Vec<f64> = (0..121).map(|i| f64::from(snapshot.temperature.at([i, 1, 1]))).collect();
        let crossing = line.windows(2).position(|w| w[0] <= freezing && w[1] > freezing).unwrap();
        let front_mm = crossing as f64 + (freezing - line[crossing]) / (line[crossing + 1] - line[crossing]);
        let want_mm = neumann.front_position_m(t_s) * 1e3;
        assert!((front_mm - want_mm).abs() <= 0.5, "front at {front_mm} mm, Neumann {want_mm} mm");
        for (i, &t) in line.iter().enumerate().skip(1) {
            let error = (t - neumann.temperature(i as f64 * 1e-3, t_s)).abs();
            let tolerance = if (i as f64 - want_mm).abs() > 1.5 { 1.0 } else { 2.5 };
            assert!(error <= tolerance, "t = {}: {error} °C off at {i} mm (front {want_mm} mm)", snapshot.time);
        }
    }
}
