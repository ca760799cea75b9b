//! Lesion features and case validation on analytic anatomy whose answers are known by
//! construction (voxel-centre inclusion at 1 mm; tolerances stated per check).

use cryoseed_anatomy::{Case, CaseError, LesionInfo, Structure, lesion_features};
use cryoseed_core::protocol::{BulkyCriterion, Protocol};
use cryoseed_core::{CriticalOar, LesionId, LesionSite, Mm, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_volume::{Grid, Mask};

fn grid() -> Grid {
    Grid::new([120, 100, 90], [Mm(1.0); 3], PatientPoint([-60.0, -50.0, -45.0])).unwrap()
}

fn ball(c: [f64; 3], r: f64) -> Mask {
    Mask::from_fn(grid(), move |p| (p - PatientPoint(c)).length().0 <= r)
}

/// A tube along z through (x, y) with radius r.
fn tube(x: f64, y: f64, r: f64) -> Mask {
    Mask::from_fn(grid(), move |p| ((p.x().0 - x).powi(2) + (p.y().0 - y).powi(2)).sqrt() <= r)
}

fn gtv(name: &str, id: &str, organ: Organ, mask: Mask, bulky: bool) -> Structure {
    Structure {
        name: name.into(),
        role: StructureRole::Gtv,
        organ,
        lesion: Some(LesionInfo { lesion_id: LesionId::parse(id).unwrap(), is_target: true, is_bulky_index: bulky }),
        mask,
    }
}

fn other(name: &str, role: StructureRole, organ: Organ, mask: Mask) -> Structure {
    Structure { name: name.into(), role, organ, lesion: None, mask }
}

/// L1: a 30 mm sphere centred at the origin; bowel tube (r 12) whose surface is 10 mm from it;
/// aorta tube (15 mm diameter, a great vessel) whose surface is 19.5 mm from it; a 2 mm vessel
/// that is too small to count. L2: a 12 mm lung sphere.
fn case() -> Case {
    let structures = vec![
        other("External", StructureRole::Body, Organ::Body, Mask::from_fn(grid(), |_| true)),
        gtv("GTV_L1", "L1", Organ::Liver, ball([0.0, 0.0, 0.0], 15.0), false),
        gtv("GTV_L2", "L2", Organ::Lung, ball([-40.0, 30.0, 20.0], 6.0), false),
        // Bowel axis at x = 37: surface at 25, lesion surface at 15 -> 10 mm.
        other("Bowel", StructureRole::Oar, Organ::Bowel, tube(37.0, 0.0, 12.0)),
        // Aorta axis (0, -42), radius 7.5: surface at y = -34.5, lesion surface at y = -15.
        other("A_Aorta", StructureRole::Oar, Organ::Aorta, tube(0.0, -42.0, 7.5)),
        other("V_small", StructureRole::Vessel, Organ::OtherVessel, tube(-30.0, -20.0, 1.0)),
    ];
    Case::new(PatientId::parse("T-1").unwrap(), grid(), structures).unwrap()
}

#[test]
fn features_match_the_construction() {
    let features = lesion_features(&case(), &Protocol::shipped());
    assert_eq!(features.len(), 2);
    let l1 = &features[0];
    assert_eq!(l1.lesion_id.as_str(), "L1");
    assert_eq!(l1.site, LesionSite::Liver);
    // Sphere of radius 15 mm: volume 14.137 mL; at 1 mm sampling within 1 %.
    let exact_ml = 4.0 / 3.0 * std::f64::consts::PI * 15.0f64.powi(3) / 1000.0;
    assert!((l1.volume.0 - exact_ml).abs() / exact_ml < 0.01, "volume {}", l1.volume);
    // Voxel centres on the lattice reach the sphere's poles: diameters are 30 mm exactly.
    assert!((l1.longest_axial_diameter.0 - 30.0).abs() < 0.3, "LD {}", l1.longest_axial_diameter);
    assert!((l1.short_axis.0 - 30.0).abs() < 1.0, "SA {}", l1.short_axis);
    assert!((l1.max_3d_diameter.0 - 30.0).abs() < 0.3, "3D {}", l1.max_3d_diameter);
    assert!(l1.is_measurable);
    assert_eq!(l1.bulky, None);
    // Surface-to-surface distances between voxel centres: within 1 mm (one voxel) of the
    // construction, and never more than the construction.
    let bowel = l1.nearest_oar(CriticalOar::Bowel).unwrap();
    assert!(bowel.distance.0 >= 9.0 && bowel.distance.0 <= 11.0, "bowel {}", bowel.distance);
    let aorta = l1.nearest_oar(CriticalOar::HeartGreatVessels).unwrap();
    assert!(aorta.distance.0 >= 19.0 && aorta.distance.0 <= 20.5, "aorta {}", aorta.distance);
    assert_eq!(l1.oar_distances[0].structure, "Bowel", "nearest first");
    // The aorta (15 mm) counts as a vessel; the 2 mm vessel is below the 3 mm heat-sink size.
    assert_eq!(l1.large_vessels.len(), 1);
    let v = l1.nearest_large_vessel().unwrap();
    assert_eq!(v.structure, "A_Aorta");
    assert!((v.diameter.0 - 15.0).abs() <= 1.0, "aorta diameter {}", v.diameter);
    assert!(l1.largest_vessel_within(Mm(10.0)).is_none());
    assert!(l1.largest_vessel_within(Mm(21.0)).is_some());
    assert!(features[1].is_measurable, "12 mm lung lesion is measurable (>= 10 mm)");
}

#[test]
fn bulky_by_volume_is_reported_with_its_criterion() {
    // A 60 mm sphere: 113 mL >= 100 mL, longest diameter 60 < 70 mm -> bulky by volume.
    let structures = vec![gtv("GTV_L1", "L1", Organ::Pelvis, ball([0.0, 0.0, 0.0], 30.0), true)];
    let case = Case::new(PatientId::parse("T-2").unwrap(), grid(), structures).unwrap();
    let f = &lesion_features(&case, &Protocol::shipped())[0];
    assert_eq!(f.bulky, Some(BulkyCriterion::Volume));
    assert!(f.oar_distances.is_empty() && f.large_vessels.is_empty());
}

#[test]
fn invalid_cases_are_refused() {
    let check = |structures: Vec<Structure>, expected: &str| {
        let err: CaseError = Case::new(PatientId::parse("T-3").unwrap(), grid(), structures).unwrap_err();
        assert_eq!(err.to_string(), expected);
    };
    let lesion = || gtv("GTV_L1", "L1", Organ::Liver, ball([0.0; 3], 5.0), false);
    check(vec![lesion(), lesion()], "structure name \"GTV_L1\" is used twice");
    let mut twin = lesion();
    twin.name = "GTV_twin".into();
    check(vec![lesion(), twin], "lesion id L1 is used by two GTVs");
    let mut no_info = lesion();
    no_info.lesion = None;
    check(vec![no_info], "structure \"GTV_L1\": a GTV needs lesion data");
    check(
        vec![other("Bowel", StructureRole::Oar, Organ::Bowel, Mask::empty(grid()))],
        "structure \"Bowel\": mask is empty",
    );
    let small = Grid::new([10, 10, 10], [Mm(1.0); 3], PatientPoint([0.0; 3])).unwrap();
    check(
        vec![other("Bowel", StructureRole::Oar, Organ::Bowel, Mask::from_fn(small, |_| true))],
        "structure \"Bowel\": mask grid differs from the case grid",
    );
}
