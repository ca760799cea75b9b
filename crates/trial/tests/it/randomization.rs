//! Randomization (PROTOCOL.md "Randomization"): balance over 10 000 simulated enrolments,
//! determinism per seed, concealment of the list, and every refusal.

use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Ecog, PatientId, SiteId};
use cryoseed_response::Date;
use cryoseed_trial::TrialError;
use cryoseed_trial::randomization::{
    Minimization, RandomizationRequest, RandomizationState, UnblindingRequest, allocate, generate_permuted_blocks,
    unblind,
};
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

fn sites(names: &[&str]) -> Vec<SiteId> {
    names.iter().map(|s| SiteId::parse(*s).unwrap()).collect()
}

fn request(patient: &str, site: Option<&str>, ecog: Option<u8>) -> RandomizationRequest {
    RandomizationRequest {
        patient_id: PatientId::parse(patient).unwrap(),
        site_id: site.map(|s| SiteId::parse(s).unwrap()),
        ecog: ecog.map(|e| Ecog::new(e).unwrap()),
    }
}

/// A seeded stream of enrolments over 3 centres and ECOG 0–2 (ECOG 2 rarer, as in practice).
fn enrolments(n: usize, seed: u64) -> Vec<RandomizationRequest> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = ["SITE-01", "SITE-02", "SITE-03"];
    (0..n)
        .map(|i| {
            let site = centres[rng.random_range(0..3usize)];
            let ecog = [0u8, 1, 1, 2][rng.random_range(0..4usize)];
            request(&format!("P-{i:05}"), Some(site), Some(ecog))
        })
        .collect()
}

fn arm_sign(arm: Arm) -> i64 {
    if arm == Arm::Experimental { 1 } else { -1 }
}

#[test]
fn permuted_blocks_stay_within_half_the_largest_block_in_every_stratum() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let max_block = i64::from(*design.block_sizes.iter().max().unwrap());
    let list = generate_permuted_blocks(design, &sites(&["SITE-01", "SITE-02", "SITE-03"]), 3000, 20261128).unwrap();
    let mut state = RandomizationState::default();
    let mut imbalance = std::collections::BTreeMap::new();
    for req in enrolments(10_000, 1) {
        let a = allocate(&list, &mut state, design, &req).unwrap();
        let d = imbalance.entry(a.stratum.clone()).or_insert(0i64);
        *d += arm_sign(a.arm);
        // The method's promise: within a stratum |E − C| ≤ (largest block) / 2 at every moment.
        assert!(d.abs() <= max_block / 2, "stratum {} imbalance {d} after seq {}", a.stratum, a.sequence_number);
    }
    assert_eq!(imbalance.len(), 6, "3 centres × 2 ECOG groups");
    // Every stratum's list balances exactly at each block end.
    for (stratum, entries) in list.entries() {
        let mut d = 0i64;
        for e in entries {
            d += arm_sign(e.arm);
            assert!(design.block_sizes.contains(&e.block_size));
            let last_in_block = entries.iter().rev().find(|x| x.block_number == e.block_number).unwrap();
            if last_in_block.sequence_number == e.sequence_number {
                assert_eq!(d, 0, "{stratum} block {} ends unbalanced", e.block_number);
            }
        }
        // Both block sizes are used (uniform choice: 3000 slots hold ~1000 blocks).
        for size in &design.block_sizes {
            assert!(entries.iter().any(|e| e.block_size == *size), "{stratum} never used block size {size}");
        }
    }
}

#[test]
fn allocations_follow_the_list_strictly_in_order_per_stratum() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let list = generate_permuted_blocks(design, &sites(&["SITE-02", "SITE-01"]), 8, 7).unwrap();
    let mut state = RandomizationState::default();
    let (stratum, entries) =
        list.entries().find(|(s, _)| s.site_id.as_ref().unwrap().as_str() == "SITE-02" && s.ecog_group == 1).unwrap();
    let stratum = stratum.clone();
    let expected: Vec<Arm> = entries.iter().map(|e| e.arm).collect();
    let mut got = Vec::new();
    for i in 0..expected.len() {
        // Interleave another stratum's patients: they must not consume SITE-02/ECOG 2 slots.
        allocate(&list, &mut state, design, &request(&format!("Q-{i}"), Some("SITE-01"), Some(0))).unwrap();
        let a = allocate(&list, &mut state, design, &request(&format!("P-{i}"), Some("SITE-02"), Some(2))).unwrap();
        assert_eq!(a.stratum, stratum);
        assert_eq!(a.sequence_number, i as u32 + 1);
        got.push(a.arm);
    }
    assert_eq!(got, expected);
    let err = allocate(&list, &mut state, design, &request("P-LAST", Some("SITE-02"), Some(2))).unwrap_err();
    assert_eq!(err, TrialError::StratumExhausted { stratum: stratum.to_string(), used: expected.len() });
    assert!(err.to_string().contains("SITE-02/ECOG-group-2 is exhausted"), "{err}");
}

#[test]
fn the_list_is_a_pure_function_of_its_seed() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let s = sites(&["SITE-01", "SITE-02"]);
    let arms = |seed| {
        let list = generate_permuted_blocks(design, &s, 40, seed).unwrap();
        list.entries().flat_map(|(_, e)| e.iter().map(|x| (x.arm, x.block_size))).collect::<Vec<_>>()
    };
    assert_eq!(arms(42), arms(42));
    assert_ne!(arms(42), arms(43));
    // Site order on the command line does not matter: sites are sorted.
    let a = generate_permuted_blocks(design, &sites(&["SITE-02", "SITE-01"]), 40, 42).unwrap();
    let b = generate_permuted_blocks(design, &s, 40, 42).unwrap();
    assert_eq!(a, b);
    // Debug output never shows arms.
    assert!(!format!("{a:?}").contains("Experimental"));
}

#[test]
fn randomization_refusals_name_the_problem() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let list = generate_permuted_blocks(design, &sites(&["SITE-01"]), 4, 1).unwrap();
    let mut state = RandomizationState::default();
    let check = |state: &mut RandomizationState, req: RandomizationRequest, fragment: &str| {
        let err = allocate(&list, state, design, &req).unwrap_err().to_string();
        assert!(err.contains(fragment), "expected {fragment:?} in {err:?}");
    };
    check(&mut state, request("P-1", None, Some(1)), "stratification value `site_id` is missing");
    check(&mut state, request("P-1", Some("SITE-01"), None), "stratification value `ecog` is missing");
    check(&mut state, request("P-1", Some("SITE-09"), Some(1)), "site SITE-09 is not set up for randomization");
    check(&mut state, request("P-1", Some("SITE-01"), Some(3)), "ECOG 3 is in none of the protocol's ECOG strata");
    allocate(&list, &mut state, design, &request("P-1", Some("SITE-01"), Some(1))).unwrap();
    check(&mut state, request("P-1", Some("SITE-01"), Some(2)), "P-1 is already randomized (sequence number 1");
    // Nothing was consumed by the refusals.
    assert_eq!(state.allocations().count(), 1);

    let gen_err = |s: &[&str], n| generate_permuted_blocks(design, &sites(s), n, 1).unwrap_err().to_string();
    assert!(gen_err(&["SITE-01", "SITE-01"], 4).contains("site SITE-01 is listed twice"));
    assert!(gen_err(&[], 4).contains("at least one site"));
    assert!(gen_err(&["SITE-01"], 0).contains("per_stratum"));
    assert!(gen_err(&["SITE-01"], 100_001).contains("must be 1 to 100000"));
    let mut odd = design.clone();
    odd.block_sizes = vec![3];
    assert!(
        generate_permuted_blocks(&odd, &sites(&["SITE-01"]), 4, 1).unwrap_err().to_string().contains("block_sizes")
    );
}

/// Minimization (range method, p = 0.8) over 10 000 enrolments.
///
/// Bound: with a biased coin p = 0.8 each marginal imbalance behaves like Efron's biased coin,
/// whose stationary |D| has geometric tails with ratio (1 − p)/p = 0.25; across 5 factor levels and
/// 10 000 steps an excursion beyond 10 has probability of order 10⁻³. Simple randomization
/// would leave a marginal imbalance of order √n ≈ 60 for the 3 333 patients of one centre. The run
/// is seeded, so the figures below are exact for this seed; the bound is what the method promises.
#[test]
fn minimization_keeps_every_marginal_imbalance_small() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let mut m = Minimization::new(design, &sites(&["SITE-01", "SITE-02", "SITE-03"]), 99).unwrap();
    let mut worst = 0i64;
    for req in enrolments(10_000, 2) {
        m.allocate(&req).unwrap();
        for (factor, levels) in [(0u8, 3usize), (1, 2)] {
            for level in 0..levels {
                let [e, c] = m.marginal_counts(factor, level);
                worst = worst.max((i64::from(e) - i64::from(c)).abs());
            }
        }
    }
    // Observed for this seed: 8.
    assert!(worst <= 10, "worst marginal imbalance {worst}");
    let total: u32 = (0..3).map(|l| m.marginal_counts(0, l).iter().sum::<u32>()).sum();
    assert_eq!(total, 10_000);
}

#[test]
fn minimization_is_reproducible_and_refuses_like_blocks() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let s = sites(&["SITE-01", "SITE-02"]);
    let run = |seed| {
        let mut m = Minimization::new(design, &s, seed).unwrap();
        enrolments(300, 5)
            .into_iter()
            .filter(|r| r.site_id.as_ref().unwrap().as_str() != "SITE-03")
            .map(|r| m.allocate(&r).unwrap().arm)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    let mut m = Minimization::new(design, &s, 1).unwrap();
    let a = m.allocate(&request("P-1", Some("SITE-01"), Some(0))).unwrap();
    assert_eq!(a.sequence_number, 1);
    let err = m.allocate(&request("P-1", Some("SITE-01"), Some(0))).unwrap_err();
    assert!(matches!(err, TrialError::AlreadyRandomized { .. }));
    let err = m.allocate(&request("P-2", Some("SITE-01"), None)).unwrap_err();
    assert!(matches!(err, TrialError::MissingStratification { field: "ecog", .. }));
    let mut bad = design.clone();
    bad.minimization_biased_coin_p = 0.3;
    assert!(Minimization::new(&bad, &s, 1).unwrap_err().to_string().contains("minimization_biased_coin_p"));
}

#[test]
fn emergency_unblinding_needs_a_reason_and_an_allocation() {
    let protocol = Protocol::shipped();
    let design = &protocol.randomization;
    let list = generate_permuted_blocks(design, &sites(&["SITE-01"]), 4, 3).unwrap();
    let mut state = RandomizationState::default();
    let a = allocate(&list, &mut state, design, &request("P-1", Some("SITE-01"), Some(0))).unwrap();
    let patient = PatientId::parse("P-1").unwrap();
    let req = |reason: &str| UnblindingRequest {
        patient_id: patient.clone(),
        requested_by: "dr.site01".into(),
        reason: reason.into(),
        date: Date::parse("2027-03-01").unwrap(),
    };
    let err = unblind(state.allocation(&patient), &req("  ")).unwrap_err().to_string();
    assert!(err.contains("reason: is required"), "{err}");
    let record = unblind(state.allocation(&patient), &req("Grade 4 haemorrhage, treating team needs the arm")).unwrap();
    assert_eq!(record.allocation, a);
    let other = PatientId::parse("P-2").unwrap();
    let err = unblind(state.allocation(&other), &UnblindingRequest { patient_id: other.clone(), ..req("x") });
    assert_eq!(err.unwrap_err(), TrialError::NotRandomized { patient_id: other });
}

#[test]
fn an_unequal_ratio_fills_every_block_in_that_ratio() {
    let mut design = Protocol::shipped().randomization;
    design.ratio.experimental = 2;
    design.ratio.control = 1;
    design.block_sizes = vec![3, 6];
    let list = generate_permuted_blocks(&design, &sites(&["SITE-01"]), 300, 11).unwrap();
    for (stratum, entries) in list.entries() {
        let blocks = entries.last().unwrap().block_number;
        for block in 1..=blocks {
            let arms: Vec<Arm> = entries.iter().filter(|e| e.block_number == block).map(|e| e.arm).collect();
            let experimental = arms.iter().filter(|a| **a == Arm::Experimental).count();
            assert_eq!(experimental * 3, arms.len() * 2, "{stratum} block {block}");
        }
    }
}
