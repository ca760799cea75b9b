//! The combined evaluation on a hand-built case whose answers are known by construction.

use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Mm, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_plan::{AllocationDecision, EvaluationSettings, LesionIce, LesionInput, evaluate};
use cryoseed_volume::{Field, Grid, Mask};

fn case() -> Case {
    let grid = Grid::new([61, 61, 61], [Mm(1.0); 3], PatientPoint([-30.0; 3])).unwrap();
    let r = |p: PatientPoint| p.distance_to(PatientPoint([0.0; 3])).0;
    let gtv = Structure {
        name: "GTV_L1".into(),
        role: StructureRole::Gtv,
        organ: Organ::Liver,
        lesion: Some(LesionInfo { lesion_id: LesionId::parse("L1").unwrap(), is_target: true, is_bulky_index: false }),
        mask: Mask::from_fn(grid, |p| r(p) <= 10.0),
    };
    let bowel = Structure {
        name: "Bowel".into(),
        role: StructureRole::Oar,
        organ: Organ::Bowel,
        lesion: None,
        mask: Mask::from_fn(grid, |p| p.x().0 >= 22.0),
    };
    let body = Structure {
        name: "External".into(),
        role: StructureRole::Body,
        organ: Organ::Body,
        lesion: None,
        mask: Mask::from_fn(grid, |_| true),
    };
    Case::new(PatientId::parse("P-EVAL").unwrap(), grid, vec![gtv, bowel, body]).unwrap()
}

#[test]
fn seed_lesion_indices_and_oar_limit_match_the_construction() {
    let case = case();
    let protocol = Protocol::shipped();
    let rx = protocol.seeds.prescription_gy.liver.0; // 120 Gy
    // 2·Rx inside r ≤ 12 mm, 0.5·Rx elsewhere except 3·Rx in the bowel.
    let dose = Field::from_fn(*case.grid(), |p| {
        let r = p.distance_to(PatientPoint([0.0; 3])).0;
        if p.x().0 >= 22.0 {
            (3.0 * rx) as f32
        } else if r <= 12.0 {
            (2.0 * rx) as f32
        } else {
            (0.5 * rx) as f32
        }
    });
    let gtv = case.structure("GTV_L1").unwrap();
    let input = [LesionInput {
        lesion_id: LesionId::parse("L1").unwrap(),
        gtv,
        decision: AllocationDecision::Seeds,
        zones: None,
        seed_target: None,
        ice: None,
    }];
    let e = evaluate(&case, &input, &dose, &protocol, &EvaluationSettings::default()).unwrap();
    let idx = e.lesions[0].seed_target.unwrap();
    // Seed target = voxels within 5 mm of a GTV voxel centre (brute force; no OAR inside it:
    // the bowel starts at x = 22).
    let grid = case.grid();
    let gtv_points: Vec<PatientPoint> = gtv.mask.voxels().map(|v| grid.voxel_centre(v)).collect();
    let target: Vec<_> = (0..grid.len())
        .filter(|&i| {
            let p = grid.voxel_centre(grid.ijk(i));
            p.distance_to(PatientPoint([0.0; 3])).0 <= 16.0
                && gtv_points.iter().any(|q| q.distance_to(p).0 <= 5.0 + 1e-9)
        })
        .collect();
    let hot = target
        .iter()
        .filter(|&&i| grid.voxel_centre(grid.ijk(i)).distance_to(PatientPoint([0.0; 3])).0 <= 12.0)
        .count();
    let v100 = 100.0 * hot as f64 / target.len() as f64;
    assert!((idx.v100.0 - v100).abs() < 1e-9);
    assert!((idx.v200.0 - v100).abs() < 1e-9, "2·Rx counts as ≥ 200 %");
    assert_eq!(idx.d90.0, 0.5 * rx, "fewer than 90 % are hot, so D90 is the cold dose");
    let v = |c: &str| e.verdicts.iter().find(|v| v.constraint.starts_with(c)).unwrap();
    let d90 = v("seed target D90");
    assert!(!d90.pass);
    assert!((d90.shortfall.unwrap() - 0.5 * rx).abs() < 1e-6);
    let v100v = v("seed target V100");
    assert!((v100v.shortfall.unwrap() - (90.0 - v100)).abs() < 1e-9);
    // Bowel D2cc = 3·Rx = 360 Gy > 100 Gy: fails by 260 Gy.
    let bowel = e.verdicts.iter().find(|v| v.scope == "Bowel").unwrap();
    assert_eq!(bowel.constraint, "D2cc ≤ 100 Gy");
    assert!(!bowel.pass);
    assert!((bowel.shortfall.unwrap() - (3.0 * rx - 100.0)).abs() < 1e-3);
    assert!(!e.all_pass);
    // The whole GTV is inside r ≤ 12: fully covered by the prescription isodose.
    assert_eq!(e.lesions[0].gtv_covered_percent, 100.0);
}

#[test]
fn cryo_lesion_coverage_and_ice_edge_distance() {
    let case = case();
    let protocol = Protocol::shipped();
    let grid = *case.grid();
    let r = |p: PatientPoint| p.distance_to(PatientPoint([0.0; 3])).0;
    let ice = LesionIce { edge: Mask::from_fn(grid, |p| r(p) <= 20.0), lethal: Mask::from_fn(grid, |p| r(p) <= 16.0) };
    let gtv = case.structure("GTV_L1").unwrap();
    let input = [LesionInput {
        lesion_id: LesionId::parse("L1").unwrap(),
        gtv,
        decision: AllocationDecision::Cryo,
        zones: None,
        seed_target: None,
        ice: Some(&ice),
    }];
    let dose = Field::filled(grid, 0.0f32);
    let e = evaluate(&case, &input, &dose, &protocol, &EvaluationSettings::default()).unwrap();
    // Cryo target = r ≤ 15 ⊂ lethal r ≤ 16: 100 % covered.
    assert_eq!(e.lesions[0].lethal_coverage_percent, Some(100.0));
    // Ice edge reaches x = 20, the bowel starts at x = 22: 2 mm < 5 mm, fails by 3 mm.
    let d = &e.lesions[0].ice_to_oar[0];
    assert_eq!(d.structure, "Bowel");
    assert!((d.distance.0 - 2.0).abs() < 1e-9);
    let v = e.verdicts.iter().find(|v| v.constraint.contains("from Bowel")).unwrap();
    assert!(!v.pass);
    assert!((v.shortfall.unwrap() - 3.0).abs() < 1e-9);
    assert_eq!(e.lesions[0].gtv_covered_percent, 100.0);
}
