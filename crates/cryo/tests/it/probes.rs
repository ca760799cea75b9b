//! Probe sets: rasterisation, and the errors a user meets (outside the grid, overlap, zero
//! direction, no probe).

use crate::{grid, probe_z};
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_core::{Celsius, Minutes, Mm, PatientPoint, PatientVector, Protocol};
use cryoseed_cryo::isotherm::{isotherm_extent, isotherm_mask};
use cryoseed_cryo::{BioheatConfig, CryoError, Medium, PlacedProbe, ProbeCatalogue, simulate_freeze_thaw};

#[test]
fn cold_voxels_follow_the_active_segment() {
    let g = grid([41, 41, 61], 1.0);
    let probe = probe_z(0, "2.4mm-argon", [20.0, 20.0, 50.0]);
    let mask = probe.cold_voxels(&g);
    // Radius 1.2 mm on a 1 mm grid centred on a voxel line: the centre and its 4 neighbours per
    // slice; 41 slices from z = 10 (tip − 40 mm) to z = 50.
    assert_eq!(mask.count(), 5 * 41);
    let extent = isotherm_extent(&mask, probe.direction).unwrap();
    assert_eq!(extent.along_axis, Mm(41.0));
    // Across: 3 voxels along x or y; oblique calipers add the voxel's projected width
    // (|cos θ| + |sin θ|) h, up to 3.16 mm at θ = atan(1/3); the narrowest is diagonal, 2√2.
    assert!(
        (extent.across_axis.0 - (2.0 * 0.9f64.sqrt() + 0.4f64.sqrt() * 2.0)).abs() < 1e-3,
        "{:?}",
        extent.across_axis
    );
    assert!((extent.across_axis_min.0 - 8.0_f64.sqrt()).abs() < 1e-9, "{:?}", extent.across_axis_min);
    // A thin probe between voxel centres still covers a continuous line of voxels.
    let thin = probe_z(0, "17g-rod", [20.5, 20.5, 50.0]);
    let mask = thin.cold_voxels(&g);
    assert_eq!(mask.count(), 4 * 41);
    // An oblique probe: every voxel within the radius of the segment, none beyond.
    let class = ProbeCatalogue::shipped().class("2.4mm-argon").unwrap().clone();
    let oblique = PlacedProbe::new(0, class, PatientPoint([30.0, 30.0, 45.0]), PatientVector([1.0, 1.0, 1.0])).unwrap();
    let mask = oblique.cold_voxels(&g);
    for ijk in mask.voxels() {
        assert!(oblique.distance_to_axis(g.voxel_centre(ijk)).0 <= 1.2 + 1e-9);
    }
    assert!(mask.count() > 100);
}

#[test]
fn bad_probe_sets_are_refused_with_the_probe_named() {
    let protocol = Protocol::shipped();
    let g = grid([41, 41, 61], 1.0);
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue).unwrap(),
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![],
    };
    let freeze = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(1.0) }];
    let run = |probes: &[PlacedProbe]| {
        simulate_freeze_thaw(&g, probes, &freeze, Celsius(-150.0), &config).unwrap_err().to_string()
    };
    // The active end (tip − 40 mm) leaves the grid at z = −5.
    let err = run(&[probe_z(0, "2.4mm-argon", [20.0, 20.0, 35.0])]);
    assert!(err.starts_with("probe 0 (2.4mm-argon): active end at [20.0, 20.0, -5.0] mm is outside the grid"), "{err}");
    let err = run(&[probe_z(0, "2.4mm-argon", [20.0, 20.0, 50.0]), probe_z(1, "2.4mm-argon", [45.0, 20.0, 50.0])]);
    assert!(err.starts_with("probe 1 (2.4mm-argon): tip at [45.0, 20.0, 50.0] mm is outside the grid"), "{err}");
    // Two 2.4 mm probes 2 mm apart overlap (radii sum 2.4 mm).
    let err = run(&[probe_z(0, "2.4mm-argon", [20.0, 20.0, 50.0]), probe_z(1, "2.4mm-argon", [22.0, 20.0, 50.0])]);
    assert_eq!(err, "probes 0 and 1 overlap: their active segments are 2 mm apart, less than 2.4 mm");
    assert_eq!(run(&[]), CryoError::NoSource.to_string());
    let class = ProbeCatalogue::shipped().class("17g-rod").unwrap().clone();
    let err = PlacedProbe::new(3, class, PatientPoint([1.0, 2.0, 3.0]), PatientVector([0.0; 3])).unwrap_err();
    assert_eq!(err.to_string(), "probe 3 (17g-rod): direction [0.0, 0.0, 0.0] has no length");
    // A sequence must have positive phases; snapshots must fall inside it.
    let probe = probe_z(0, "2.4mm-argon", [20.0, 20.0, 50.0]);
    let bad = [FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(0.0) }];
    let err = simulate_freeze_thaw(&g, std::slice::from_ref(&probe), &bad, Celsius(-150.0), &config).unwrap_err();
    assert!(err.to_string().contains("phase durations must be > 0 min"), "{err}");
    let late = BioheatConfig { snapshot_times: vec![Minutes(2.0)], ..config.clone() };
    let err = simulate_freeze_thaw(&g, &[probe], &freeze, Celsius(-150.0), &late).unwrap_err();
    assert_eq!(err.to_string(), "snapshot at 2 min is outside the sequence (0 to 1 min)");
}

/// Freeze then passive thaw: snapshots come at the requested times, the probe warms once it is
/// no longer cooled, and the minimum temperature never rises.
#[test]
fn thaw_releases_the_probe_and_the_minimum_is_kept() {
    let protocol = Protocol::shipped();
    let g = grid([41, 41, 61], 1.0);
    let probe = probe_z(0, "2.4mm-argon", [20.0, 20.0, 50.0]);
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue).unwrap(),
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![Minutes(3.0), Minutes(0.0), Minutes(5.0)],
    };
    let phases = [
        FreezeThawPhase { kind: PhaseKind::Freeze, minutes: Minutes(3.0) },
        FreezeThawPhase { kind: PhaseKind::Thaw, minutes: Minutes(2.0) },
    ];
    let result = simulate_freeze_thaw(&g, &[probe], &phases, Celsius(-150.0), &config).unwrap();
    let times: Vec<f64> = result.snapshots.iter().map(|s| s.time.0).collect();
    assert_eq!(times, [0.0, 3.0, 5.0]);
    let centre = [20, 20, 30];
    assert_eq!(result.snapshots[0].temperature.at(centre), 37.0);
    assert_eq!(result.snapshots[1].temperature.at(centre), -150.0);
    assert!(result.snapshots[2].temperature.at(centre) > -100.0, "the probe warms during the thaw");
    assert_eq!(result.min_temperature.at(centre), -150.0);
    let ice_end_of_freeze = isotherm_mask(&result.snapshots[1].temperature, Celsius(0.0)).count();
    let ice_ever = isotherm_mask(&result.min_temperature, Celsius(0.0)).count();
    assert!(ice_ever >= ice_end_of_freeze);
    for (m, t) in result.min_temperature.as_slice().iter().zip(result.final_temperature.as_slice()) {
        assert!(m <= t);
    }
    // 28 mm from the active segment the tissue cooled slightly but never froze.
    let corner = result.min_temperature.at([0, 0, 0]);
    assert!(corner > 30.0 && corner < 37.0, "{corner}");
}
