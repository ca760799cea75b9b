//! Benchmark of a whole experimental-arm plan, named after its size: a ≈ 300 mL bulky lesion
//! beside bowel (the seed benchmark's lesion) and three small targets far from organs at risk.
//!
//! Run with `cargo bench -p cryoseed-plan --bench patient`; figures in BENCHMARKS.md (`plan`).

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_plan::{ArmPlan, PlanRequest, PlannerSettings, plan_patient};
use cryoseed_volume::Mask;
use std::hint::black_box;
use std::time::Duration;
mod common;

/// The bulky lesion of `common` plus three 18 mm spherical targets in the body, far from the
/// bowel and from each other.
fn patient() -> Case {
    let (gtv, _target, _core, body, bowel) = common::bulky_300ml(3);
    let grid = *gtv.grid();
    let lesion = |id: &str, bulky: bool| LesionInfo {
        lesion_id: LesionId::parse(id).unwrap(),
        is_target: true,
        is_bulky_index: bulky,
    };
    let mut structures = vec![
        Structure { name: "External".into(), role: StructureRole::Body, organ: Organ::Body, lesion: None, mask: body },
        Structure { name: "Bowel".into(), role: StructureRole::Oar, organ: Organ::Bowel, lesion: None, mask: bowel },
        Structure {
            name: "GTV_L1".into(),
            role: StructureRole::Gtv,
            organ: Organ::SoftTissue,
            lesion: Some(lesion("L1", true)),
            mask: gtv,
        },
    ];
    for (k, centre) in [[60.0, 190.0, 60.0], [260.0, 190.0, 60.0], [160.0, 225.0, 130.0]].into_iter().enumerate() {
        let id = format!("L{}", k + 2);
        let mask = Mask::from_fn(grid, |p| p.distance_to(PatientPoint(centre)).0 <= 9.0);
        structures.push(Structure {
            name: format!("GTV_{id}"),
            role: StructureRole::Gtv,
            organ: Organ::SoftTissue,
            lesion: Some(lesion(&id, false)),
            mask,
        });
    }
    Case::new(PatientId::parse("BENCH-300ML").unwrap(), grid, structures).unwrap()
}

fn full_plan_experimental_300ml_bulky_3_small(c: &mut Criterion) {
    let protocol = Protocol::shipped();
    let case = patient();
    let request = PlanRequest {
        case: &case,
        arm: ArmPlan::Experimental,
        overrides: vec![],
        protocol: &protocol,
        settings: PlannerSettings::default(),
        seed: 1,
    };
    let plan = plan_patient(&request).unwrap();
    assert_eq!(plan.record.allocations.len(), 4);
    c.bench_function("full_plan_experimental_300ml_bulky_3_small", |b| {
        b.iter(|| plan_patient(black_box(&request)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(30));
    targets = full_plan_experimental_300ml_bulky_3_small
}
criterion_main!(benches);
