//! Whole-patient plans on the synthetic scenarios: the planner's decisions and the protocol
//! verdicts the issue names, determinism, control arms and refusals.

use cryoseed_anatomy::Case;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Mm, Modality};
use cryoseed_plan::{AllocationDecision, ArmPlan, PatientPlan, PlanRequest, PlannerSettings, plan_patient};
use cryoseed_sim::{IntendedAllocation, PhantomConfig, Scenario, phantom};

fn case(scenario: Scenario, seed: u64) -> Case {
    phantom(scenario, &PhantomConfig { spacing: [Mm(2.0); 3] }, seed).unwrap()
}

fn plan(case: &Case, arm: ArmPlan, seed: u64, protocol: &Protocol) -> PatientPlan {
    let request = PlanRequest { case, arm, overrides: vec![], protocol, settings: PlannerSettings::default(), seed };
    plan_patient(&request).unwrap()
}

fn verdict<'a>(p: &'a PatientPlan, scope: &str, constraint_start: &str) -> &'a cryoseed_plan::Verdict {
    p.record
        .evaluation
        .verdicts
        .iter()
        .find(|v| v.scope == scope && v.constraint.starts_with(constraint_start))
        .unwrap_or_else(|| panic!("no verdict {scope} {constraint_start}: {:#?}", p.record.evaluation.verdicts))
}

fn failures(p: &PatientPlan) -> Vec<String> {
    p.record
        .evaluation
        .verdicts
        .iter()
        .filter(|v| !v.pass)
        .map(|v| format!("{} {}: {:.1} {} (limit {:.1})", v.scope, v.constraint, v.value, v.unit, v.limit))
        .collect()
}

#[test]
fn every_scenario_is_allocated_as_designed_and_its_named_verdicts_hold() {
    let protocol = Protocol::shipped();
    for scenario in Scenario::ALL {
        let case = case(scenario, 1);
        let p = plan(&case, ArmPlan::Experimental, 1, &protocol);
        let context = format!("{scenario}: {:?}", failures(&p));
        for lesion in scenario.lesions() {
            let a = p.record.allocations.iter().find(|a| a.lesion_id.as_str() == lesion.lesion_id);
            let want = match lesion.intended {
                IntendedAllocation::NotTarget => None,
                IntendedAllocation::Cryo => Some(AllocationDecision::Cryo),
                IntendedAllocation::Seeds { .. } => Some(AllocationDecision::Seeds),
                IntendedAllocation::Zoned => Some(AllocationDecision::Zoned),
            };
            assert_eq!(a.map(|a| a.decision), want, "{context} lesion {}", lesion.lesion_id);
        }
        // Every seeded lesion has a seed plan, every cryo lesion probes.
        for a in &p.record.allocations {
            let seeded = p.record.seed_plans.iter().any(|s| s.lesion_id == a.lesion_id);
            let frozen = p.record.cryo_plans.iter().any(|c| c.lesion_id == a.lesion_id);
            match a.decision {
                AllocationDecision::Seeds => assert!(seeded && !frozen, "{context}"),
                AllocationDecision::Cryo => assert!(frozen && !seeded, "{context}"),
                AllocationDecision::Zoned => assert!(seeded, "{context}"),
            }
        }
        let bulky = p.record.allocations.iter().find(|a| a.decision == AllocationDecision::Zoned).unwrap();
        let b = bulky.lesion_id.as_str();
        match scenario {
            Scenario::PelvicBulkyBowel => {
                assert!(verdict(&p, b, "margin D90").pass, "{context}");
                assert!(verdict(&p, "Bowel", "D2cc").pass, "{context}");
                assert!(verdict(&p, b, "0 °C ice edge ≥ 10 mm from Bowel").pass, "{context}");
            }
            Scenario::ParaspinalBulkyCord => {
                assert!(verdict(&p, "SpinalCord", "D0.1cc").pass, "{context}");
            }
            Scenario::LungSmallAorta => {
                let small = p.record.allocations.iter().find(|a| a.decision == AllocationDecision::Seeds).unwrap();
                assert!(small.reason.contains("A_Aorta"), "{}", small.reason);
            }
            Scenario::LiverSmallSeparated | Scenario::BoneMet => {}
        }
        // Every cryo lesion's ice keeps its distance from every OAR.
        for l in p.record.evaluation.lesions.iter().filter(|l| l.decision == AllocationDecision::Cryo) {
            for v in p
                .record
                .evaluation
                .verdicts
                .iter()
                .filter(|v| v.scope == l.lesion_id.as_str() && v.constraint.contains("ice edge"))
            {
                assert!(v.pass, "{context}");
            }
        }
    }
}

#[test]
fn the_same_inputs_and_seed_give_a_byte_identical_plan_and_another_seed_still_meets_the_goals() {
    let protocol = Protocol::shipped();
    let case = case(Scenario::LiverSmallSeparated, 1);
    let a = serde_json::to_string(&plan(&case, ArmPlan::Experimental, 5, &protocol).record).unwrap();
    let b = serde_json::to_string(&plan(&case, ArmPlan::Experimental, 5, &protocol).record).unwrap();
    assert_eq!(a, b);
    let other = plan(&case, ArmPlan::Experimental, 6, &protocol);
    assert_ne!(serde_json::to_string(&other.record).unwrap(), a);
    assert!(other.record.evaluation.all_pass, "{:?}", failures(&other));
}

#[test]
fn control_arms_treat_every_target_with_the_centres_modality_and_report_what_cannot_be_met() {
    let protocol = Protocol::shipped();
    let case = case(Scenario::LiverSmallSeparated, 2);
    let seeds = plan(&case, ArmPlan::Control(Modality::Seeds), 1, &protocol);
    assert!(seeds.record.allocations.iter().all(|a| a.decision == AllocationDecision::Seeds));
    assert!(seeds.record.cryo_plans.is_empty());
    assert!(seeds.zones.is_none());
    let cryo = plan(&case, ArmPlan::Control(Modality::Cryo), 1, &protocol);
    assert!(cryo.record.allocations.iter().all(|a| a.decision == AllocationDecision::Cryo));
    assert!(cryo.record.seed_plans.is_empty());
    assert_eq!(cryo.record.total_seeds, 0);
    // Whole-lesion cryo of the bulky lesion is planned, and whatever it cannot meet is a verdict
    // with its shortfall, never silently dropped.
    for v in cryo.record.evaluation.verdicts.iter().filter(|v| !v.pass) {
        assert!(v.shortfall.is_some_and(|s| s > 0.0), "{v:?}");
    }
}

#[test]
fn a_gtv_overlapping_an_organ_at_risk_is_refused_by_name() {
    use cryoseed_anatomy::Structure;
    let protocol = Protocol::shipped();
    let base = case(Scenario::LiverSmallSeparated, 1);
    // Grow the bowel (if any) or the aorta into the small cryo lesion.
    let l1 = base.structure("GTV_L1").unwrap().mask.clone();
    let structures: Vec<Structure> = base
        .structures()
        .iter()
        .cloned()
        .map(|mut s| {
            if s.name == "A_Aorta" {
                s.mask = s.mask.union(&l1).unwrap();
            }
            s
        })
        .collect();
    let case = Case::new(base.patient_id().clone(), *base.grid(), structures).unwrap();
    let request = PlanRequest {
        case: &case,
        arm: ArmPlan::Experimental,
        overrides: vec![],
        protocol: &protocol,
        settings: PlannerSettings::default(),
        seed: 1,
    };
    let err = plan_patient(&request).unwrap_err().to_string();
    assert!(err.contains("L1") && err.contains("A_Aorta"), "{err}");
}
