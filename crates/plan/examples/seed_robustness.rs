//! Prints the seed plan of every scenario's seed targets (whole-patient planner, experimental arm,
//! 2 mm phantoms, plan seed 1) for the given phantom seeds: volume, seeds, needles, candidates,
//! rounds, D90 (Gy) / V100 / V150 / V200 (%), each OAR's metric and margin (Gy), the verdict, and
//! the wall time of `plan_patient`. The figures in BENCHMARKS.md ("plan") come from it.
//!
//!     cargo run --release -p cryoseed-plan --example seed_robustness -- 1,2,3 [SCENARIO]
#![allow(clippy::print_stdout, reason = "an example that reports plans on the terminal")]
use cryoseed_core::Mm;
use cryoseed_core::protocol::Protocol;
use cryoseed_plan::{ArmPlan, PlanRequest, PlannerSettings, plan_patient};
use cryoseed_sim::{PhantomConfig, Scenario, phantom};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seeds: Vec<u64> = args.get(1).map_or(vec![1, 2, 3], |s| s.split(',').map(|x| x.parse().unwrap()).collect());
    let only = args.get(2).cloned();
    let protocol = Protocol::shipped();
    for seed in seeds {
        for scenario in Scenario::ALL {
            if only.as_deref().is_some_and(|o| o != scenario.name()) {
                continue;
            }
            let case = phantom(scenario, &PhantomConfig { spacing: [Mm(2.0); 3] }, seed).unwrap();
            let request = PlanRequest {
                case: &case,
                arm: ArmPlan::Experimental,
                overrides: vec![],
                protocol: &protocol,
                settings: PlannerSettings::default(),
                seed: 1,
            };
            let t = std::time::Instant::now();
            let plan = plan_patient(&request).unwrap();
            let dt = t.elapsed().as_secs_f64();
            for sp in &plan.record.seed_plans {
                let p = &sp.plan;
                let e = &p.evaluation;
                let g: Vec<String> = e.goals.iter().map(|g| format!("{:.1}", g.value)).collect();
                let o: Vec<String> = e
                    .oars
                    .iter()
                    .filter(|o| o.limit.is_some())
                    .map(|o| {
                        format!(
                            "{}={:.1}/{:.1}",
                            o.name,
                            o.value.map_or(f64::NAN, |v| v.0),
                            o.margin.map_or(f64::NAN, |m| m.0)
                        )
                    })
                    .collect();
                println!(
                    "seed {seed} {:<22} {:<4} {:<16} vol {:>6.1} seeds {:>3} needles {:>2} cand {:>5} rounds {} goals [{}] oars [{}] {}",
                    scenario.name(),
                    sp.lesion_id.to_string(),
                    sp.target,
                    e.target.volume.0,
                    p.planned_seed_count(),
                    p.needles.len(),
                    p.candidates.candidates,
                    p.optimizer.rounds,
                    g.join(" "),
                    o.join(" "),
                    match &p.verdict {
                        cryoseed_plan::seeds::SeedPlanVerdict::MeetsGoals => "OK".to_string(),
                        cryoseed_plan::seeds::SeedPlanVerdict::Infeasible { reasons } =>
                            format!("FAIL {}", reasons.join("; ")),
                    }
                );
            }
            println!("seed {seed} {:<22} plan_patient {dt:.1} s", scenario.name());
        }
    }
}
