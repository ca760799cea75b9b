//! Allocation on every synthetic scenario: each lesion's decision matches the allocation the
//! scenario was designed to receive (crates/sim/src/scenario.rs), for several phantom seeds.

use cryoseed_anatomy::lesion_features;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Mm, Modality};
use cryoseed_plan::{
    Access, AccessMap, AccessSettings, AllocationDecision, AllocationRule, ArmPlan, Override, allocate,
};
use cryoseed_sim::{IntendedAllocation, PhantomConfig, Scenario, phantom};

fn config() -> PhantomConfig {
    PhantomConfig { spacing: [Mm(2.0); 3] }
}

fn access_for(case: &cryoseed_anatomy::Case, features: &[cryoseed_anatomy::LesionFeatures]) -> Vec<Access> {
    let map = AccessMap::new(case, AccessSettings::default()).unwrap();
    features.iter().map(|f| map.search(case.structure(&f.structure).unwrap())).collect()
}

#[test]
fn experimental_arm_follows_each_scenarios_design() {
    let protocol = Protocol::shipped();
    for scenario in Scenario::ALL {
        for seed in [1, 2, 3] {
            let case = phantom(scenario, &config(), seed).unwrap();
            let features = lesion_features(&case, &protocol);
            let access = access_for(&case, &features);
            let allocations = allocate(&features, &access, ArmPlan::Experimental, &[], &protocol).unwrap();
            for lesion in scenario.lesions() {
                let got = allocations.iter().find(|a| a.lesion_id.as_str() == lesion.lesion_id);
                let context = format!("{scenario} seed {seed} lesion {}: {got:?}", lesion.lesion_id);
                match lesion.intended {
                    IntendedAllocation::NotTarget => assert!(got.is_none(), "{context}"),
                    IntendedAllocation::Zoned => {
                        assert_eq!(got.unwrap().decision, AllocationDecision::Zoned, "{context}")
                    }
                    IntendedAllocation::Cryo => {
                        let a = got.unwrap();
                        assert_eq!(a.decision, AllocationDecision::Cryo, "{context}");
                        assert_eq!(a.rule, AllocationRule::AllCryoCriteriaMet, "{context}");
                        assert!(a.checks.iter().all(|c| c.met), "{context}");
                    }
                    IntendedAllocation::Seeds { near } => {
                        let a = got.unwrap();
                        assert_eq!(a.decision, AllocationDecision::Seeds, "{context}");
                        // The reason names the structure the scenario put the lesion against.
                        let failed: Vec<_> = a.checks.iter().filter(|c| !c.met).collect();
                        assert!(!failed.is_empty(), "{context}");
                        assert!(a.reason.starts_with("seeds: "), "{context}");
                        let near_name = format!("{near:?}").to_lowercase();
                        assert!(
                            failed
                                .iter()
                                .any(|c| c.rule == AllocationRule::HeatSink || c.rule == AllocationRule::OarDistance),
                            "{context} (designed near {near_name})"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn lung_lesion_beside_the_aorta_goes_to_seeds_for_the_heat_sink_or_oar_rule() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::LungSmallAorta, &config(), 7).unwrap();
    let features = lesion_features(&case, &protocol);
    let access = access_for(&case, &features);
    let allocations = allocate(&features, &access, ArmPlan::Experimental, &[], &protocol).unwrap();
    let small = allocations.iter().find(|a| a.decision == AllocationDecision::Seeds).expect("a seeded lesion");
    // The reason carries the measured value and the threshold.
    assert!(small.reason.contains("A_Aorta"), "{}", small.reason);
    assert!(small.reason.contains(" mm"), "{}", small.reason);
}

#[test]
fn control_arm_gives_every_target_the_centres_modality() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::PelvicBulkyBowel, &config(), 1).unwrap();
    let features = lesion_features(&case, &protocol);
    let access = access_for(&case, &features);
    for modality in [Modality::Seeds, Modality::Cryo] {
        let allocations = allocate(&features, &access, ArmPlan::Control(modality), &[], &protocol).unwrap();
        assert_eq!(allocations.len(), features.iter().filter(|f| f.is_target).count());
        for a in &allocations {
            assert_eq!(a.decision, AllocationDecision::from(modality));
            assert_eq!(a.rule, AllocationRule::ControlArmModality);
            assert!(!a.deviation);
        }
    }
}

#[test]
fn an_override_is_recorded_with_its_reason_and_counted_as_a_deviation() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::PelvicBulkyBowel, &config(), 1).unwrap();
    let features = lesion_features(&case, &protocol);
    let access = access_for(&case, &features);
    let cryo_lesion = allocate(&features, &access, ArmPlan::Experimental, &[], &protocol)
        .unwrap()
        .into_iter()
        .find(|a| a.decision == AllocationDecision::Cryo)
        .unwrap();
    let o = Override {
        lesion_id: cryo_lesion.lesion_id.clone(),
        decision: AllocationDecision::Seeds,
        reason: "patient declines general anaesthesia".into(),
    };
    let allocations = allocate(&features, &access, ArmPlan::Experimental, std::slice::from_ref(&o), &protocol).unwrap();
    let a = allocations.iter().find(|a| a.lesion_id == o.lesion_id).unwrap();
    assert_eq!(a.decision, AllocationDecision::Seeds);
    assert_eq!(a.protocol_decision, Some(AllocationDecision::Cryo));
    assert_eq!(a.rule, AllocationRule::InvestigatorOverride);
    assert!(a.deviation);
    assert!(a.reason.contains("patient declines general anaesthesia"), "{}", a.reason);

    // A blank reason, an unknown lesion and two overrides of one lesion are refused.
    let blank = Override { reason: "  ".into(), ..o.clone() };
    let err = allocate(&features, &access, ArmPlan::Experimental, &[blank], &protocol).unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let unknown = Override { lesion_id: LesionId::parse("L9").unwrap(), ..o.clone() };
    let err = allocate(&features, &access, ArmPlan::Experimental, &[unknown], &protocol).unwrap_err();
    assert!(err.to_string().starts_with("lesion L9:"), "{err}");
    let err = allocate(&features, &access, ArmPlan::Experimental, &[o.clone(), o], &protocol).unwrap_err();
    assert!(err.to_string().contains("more than one"), "{err}");
}

#[test]
fn experimental_arm_without_a_bulky_index_lesion_is_refused() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::LiverSmallSeparated, &config(), 1).unwrap();
    let mut features = lesion_features(&case, &protocol);
    for f in &mut features {
        f.is_bulky_index = false;
    }
    let access = access_for(&case, &features);
    let err = allocate(&features, &access, ArmPlan::Experimental, &[], &protocol).unwrap_err();
    assert!(err.to_string().contains("bulky index lesion"), "{err}");
}

#[test]
fn access_paths_reach_the_skin_and_keep_their_clearance() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::LiverSmallSeparated, &config(), 1).unwrap();
    let features = lesion_features(&case, &protocol);
    let settings = AccessSettings::default();
    for (f, a) in features.iter().zip(access_for(&case, &features)) {
        let path = a.path().unwrap_or_else(|| panic!("{}: {a:?}", f.lesion_id));
        assert!(path.clearance >= settings.clearance_mm);
        assert!(path.length <= settings.max_length_mm);
        // The entry lies outside the body outline, within a step of it.
        let body = &case.structure("External").unwrap().mask;
        let ijk = case.grid().nearest_voxel(path.entry);
        assert!(ijk.is_none_or(|ijk| !body.at(ijk)));
    }
    // With an impossible clearance, no path exists, and the reason names an obstacle.
    let strict = AccessSettings { clearance_mm: Mm(60.0), ..settings };
    let map = AccessMap::new(&case, strict).unwrap();
    let a = map.search(case.structure(&features[0].structure).unwrap());
    let Access::None(none) = a else { panic!("expected no path: {a:?}") };
    assert!(none.reason.contains("passes within"), "{}", none.reason);
    assert!(none.nearest_obstacle.is_some());
}
