//! Seed plans of every scenario's seed targets across phantom seeds (issue 5: "a different seed
//! still meets the goals"). Each phantom seed draws different lesion shapes, sizes and distances
//! to the OARs; the whole-patient planner (`plan_patient`: allocation, zoning, template choice,
//! seed inverse planning) must meet D90 ≥ Rx, V100 ≥ 90 %, V150 ≤ 60 %, V200 ≤ 30 % and every OAR
//! limit on the voxels for every seed target, or — only where the protocol's placement rules make
//! it impossible — say which OAR limits the coverage.

use cryoseed_core::Mm;
use cryoseed_core::protocol::Protocol;
use cryoseed_plan::seeds::SeedPlanVerdict;
use cryoseed_plan::{ArmPlan, PlanRequest, PlannerSettings, plan_patient};
use cryoseed_sim::{PhantomConfig, Scenario, phantom};

/// The vertebral-body metastasis (bone-met L1, GTV + 5 mm) lies a few mm from the spinal cord
/// (D0.1cc ≤ 50 Gy, no seed within 5 mm): depending on the drawn geometry its cord side cannot
/// reach 110 Gy with the cord under 50 Gy. The verdict must then name the cord as the reason.
fn may_be_cord_limited(scenario: Scenario, lesion: &str) -> bool {
    scenario == Scenario::BoneMet && lesion == "L1"
}

#[test]
fn every_seed_target_meets_the_goals_for_phantom_seeds_1_to_3() {
    let protocol = Protocol::shipped();
    let mut failures = Vec::new();
    let mut planned = 0;
    for phantom_seed in 1..=3u64 {
        for scenario in Scenario::ALL {
            let case = phantom(scenario, &PhantomConfig { spacing: [Mm(2.0); 3] }, phantom_seed).unwrap();
            let request = PlanRequest {
                case: &case,
                arm: ArmPlan::Experimental,
                overrides: vec![],
                protocol: &protocol,
                settings: PlannerSettings::default(),
                seed: 1,
            };
            let plan = plan_patient(&request).unwrap();
            assert!(!plan.record.seed_plans.is_empty(), "{scenario:?}: no seed target");
            for sp in &plan.record.seed_plans {
                planned += 1;
                let p = &sp.plan;
                let label = format!("phantom seed {phantom_seed}, {} {}", scenario.name(), sp.lesion_id);
                // OAR limits hold for every plan, feasible or not.
                for o in p.evaluation.oars.iter().filter(|o| !o.passed) {
                    failures.push(format!("{label}: {} {:?} over its limit {:?}", o.name, o.value, o.limit));
                }
                let SeedPlanVerdict::Infeasible { reasons } = &p.verdict else { continue };
                if !may_be_cord_limited(scenario, &sp.lesion_id.to_string()) {
                    failures.push(format!("{label}: {reasons:?}"));
                    continue;
                }
                // Only the coverage goals may fail, and the verdict says the cord is why.
                let coverage_only = reasons
                    .iter()
                    .all(|r| r.starts_with("D90") || r.starts_with("V100") || r.starts_with("coverage is limited by"));
                let names_cord = reasons.iter().any(|r| r.starts_with("coverage is limited by SpinalCord"));
                if !(coverage_only && names_cord) {
                    failures.push(format!("{label}: not explained by the cord: {reasons:?}"));
                }
            }
        }
    }
    assert!(planned >= 30, "{planned} seed targets");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
