//! Randomization through the store: atomic under concurrency, identical to the pure trial
//! sequence, balanced per stratum.

use crate::common::{ADMIN, DM, Engine, INV, R1, STAT, protocol, screen_eligible, setup, site_ids};
use crate::on_both;
use cryoseed_core::protocol::RandomizationMethod;
use cryoseed_core::{Arm, Ecog, PatientId, SiteId};
use cryoseed_store::StoreError;
use cryoseed_trial::TrialError;
use cryoseed_trial::randomization::{RandomizationRequest, RandomizationState, allocate, generate_permuted_blocks};
use std::collections::BTreeMap;

on_both!(
    concurrent_randomizations_are_distinct_and_gap_free,
    store_follows_the_pure_sequence,
    randomization_refusals,
    minimization_replays_from_the_seed
);

/// 64 concurrent requests → 64 distinct slots, and per stratum exactly 1..n.
async fn concurrent_randomizations_are_distinct_and_gap_free(engine: &Engine) {
    let store = engine.fresh(16).await;
    setup(&store, 2, true).await;
    let ids = screen_eligible(&store, 64, 2, 11).await;
    store.generate_list(STAT, &protocol(), &site_ids(2), 64, 2026).await.unwrap();
    let mut tasks = Vec::new();
    for id in ids.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move { store.randomize(INV, &id, "2026-01-10", &protocol()).await }));
    }
    let mut by_stratum: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for t in tasks {
        let a = t.await.unwrap().expect("every request is served");
        by_stratum.entry(a.stratum.to_string()).or_default().push(a.sequence_number);
    }
    let total: usize = by_stratum.values().map(Vec::len).sum();
    assert_eq!(total, 64);
    for (stratum, mut seqs) in by_stratum {
        seqs.sort();
        let expected: Vec<u32> = (1..=seqs.len() as u32).collect();
        assert_eq!(seqs, expected, "stratum {stratum}: distinct and gap-free");
    }
    // What was stored agrees with what was answered, and the chain is intact.
    assert_eq!(store.allocations().await.unwrap().len(), 64);
    assert!(store.verify_audit().await.unwrap().is_intact());
}

/// Sequential allocation through the store equals the pure `trial` allocation on the same list:
/// the balance the method promises (tested on 10 000 enrolments in `pure_balance_10000`) carries over.
async fn store_follows_the_pure_sequence(engine: &Engine) {
    let store = engine.fresh(4).await;
    setup(&store, 3, true).await;
    let n = 150;
    let ids = screen_eligible(&store, n, 3, 5).await;
    let p = protocol();
    store.generate_list(STAT, &p, &site_ids(3), 100, 77).await.unwrap();
    let list = generate_permuted_blocks(&p.randomization, &site_ids(3), 100, 77).unwrap();
    let mut state = RandomizationState::default();
    let records = cryoseed_sim::cohort(&cryoseed_sim::CohortConfig { patients: n, sites: 3, mix: Vec::new() }, 5);
    let mut counts: BTreeMap<String, [i32; 2]> = BTreeMap::new();
    for (id, r) in ids.iter().zip(&records) {
        let stored = store.randomize(INV, id, "2026-02-01", &p).await.unwrap();
        let request =
            RandomizationRequest { patient_id: r.patient_id.clone(), site_id: Some(r.site_id.clone()), ecog: r.ecog };
        let pure = allocate(&list, &mut state, &p.randomization, &request).unwrap();
        assert_eq!(stored, pure, "patient {id}");
        counts.entry(stored.stratum.to_string()).or_default()[usize::from(stored.arm == Arm::Control)] += 1;
    }
    // Permuted blocks of 2 and 4 at 1:1: within a stratum |E − C| ≤ 2 at any time.
    for (stratum, [e, c]) in counts {
        assert!((e - c).abs() <= 2, "stratum {stratum}: {e} vs {c}");
    }
}

async fn randomization_refusals(engine: &Engine) {
    let store = engine.fresh(4).await;
    setup(&store, 2, false).await;
    let ids = screen_eligible(&store, 4, 2, 3).await;
    let p = protocol();
    // The site has not declared its control-arm modality.
    let err = store.randomize(INV, &ids[0], "2026-02-01", &p).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "control_modality"), "{err}");
    for site in ["SITE-01", "SITE-02"] {
        store.set_control_modality(ADMIN, site, cryoseed_core::Modality::Cryo, "declared at initiation").await.unwrap();
    }
    // No list yet.
    let err = store.randomize(INV, &ids[0], "2026-02-01", &p).await.unwrap_err();
    assert!(err.to_string().contains("no allocation list"), "{err}");
    // Only the statistician generates the list.
    let err = store.generate_list(INV, &p, &site_ids(2), 10, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::Forbidden { .. }), "{err}");
    store.generate_list(STAT, &p, &site_ids(2), 10, 1).await.unwrap();
    let err = store.generate_list(STAT, &p, &site_ids(2), 10, 2).await.unwrap_err();
    assert!(err.to_string().contains("never replaced"), "{err}");
    // A reader may not randomize; an impossible date is named.
    assert!(matches!(store.randomize(R1, &ids[0], "2026-02-01", &p).await, Err(StoreError::Forbidden { .. })));
    let err = store.randomize(INV, &ids[0], "2026-02-30", &p).await.unwrap_err();
    assert!(matches!(&err, StoreError::Invalid { field, .. } if field == "randomized_on"), "{err}");
    let a = store.randomize(INV, &ids[0], "2026-02-01", &p).await.unwrap();
    // Re-randomization is refused.
    let err = store.randomize(INV, &ids[0], "2026-02-02", &p).await.unwrap_err();
    assert!(matches!(err, StoreError::Trial(TrialError::AlreadyRandomized { .. })), "{err}");
    // Unblinding needs a reason, and is audited.
    assert!(store.unblind(INV, &ids[0], " ", "2026-03-01").await.is_err());
    let record = store.unblind(INV, &ids[0], "suspected SUSAR", "2026-03-01").await.unwrap();
    assert_eq!(record.allocation, a);
    let log = store.audit_log(Some(&ids[0]), 0, 1000).await.unwrap();
    assert!(log.iter().any(|e| e.action == "randomize"));
    assert!(log.iter().any(|e| e.action == "unblind" && e.reason.as_deref() == Some("suspected SUSAR")));
    // The list's arms and seed are never in the audit trail.
    let list_entry =
        store.audit_log(None, 0, 10_000).await.unwrap().into_iter().find(|e| e.action == "generate_list").unwrap();
    let text = list_entry.new_value.unwrap();
    assert!(!text.contains("experimental") && !text.contains("\"seed\""), "{text}");
    // A locked patient cannot be randomized.
    store.lock(DM, &ids[1], "query pending").await.unwrap();
    assert!(matches!(store.randomize(INV, &ids[1], "2026-02-01", &p).await, Err(StoreError::Locked { .. })));
}

/// With `method = "minimization"` the store replays the recorded seed over the stored allocations
/// and gives exactly what the pure `Minimization` gives.
async fn minimization_replays_from_the_seed(engine: &Engine) {
    let store = engine.fresh(4).await;
    setup(&store, 2, true).await;
    let ids = screen_eligible(&store, 40, 2, 9).await;
    let mut p = protocol();
    p.randomization.method = RandomizationMethod::Minimization;
    store.generate_list(STAT, &p, &site_ids(2), 1, 99).await.unwrap();
    let mut pure = cryoseed_trial::randomization::Minimization::new(&p.randomization, &site_ids(2), 99).unwrap();
    let records = cryoseed_sim::cohort(&cryoseed_sim::CohortConfig { patients: 40, sites: 2, mix: Vec::new() }, 9);
    for (id, r) in ids.iter().zip(&records) {
        let stored = store.randomize(INV, id, "2026-02-01", &p).await.unwrap();
        let request =
            RandomizationRequest { patient_id: r.patient_id.clone(), site_id: Some(r.site_id.clone()), ecog: r.ecog };
        assert_eq!(stored, pure.allocate(&request).unwrap());
    }
}

/// 10 000 simulated enrolments on the pure state (the store was shown above to hand out exactly
/// this sequence): every stratum within half the largest block of perfect balance at the end and
/// at every step.
#[test]
fn pure_balance_10000() {
    let p = protocol();
    let sites: Vec<SiteId> = (1..=4).map(|i| SiteId::parse(format!("SITE-{i:02}")).unwrap()).collect();
    let list = generate_permuted_blocks(&p.randomization, &sites, 5_000, 123).unwrap();
    let mut state = RandomizationState::default();
    let mut counts: BTreeMap<String, [i64; 2]> = BTreeMap::new();
    use rand::{RngExt as _, SeedableRng as _};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    for i in 0..10_000 {
        let request = RandomizationRequest {
            patient_id: PatientId::parse(format!("P{i:05}")).unwrap(),
            site_id: Some(sites[rng.random_range(0..4)].clone()),
            ecog: Some(Ecog::new(rng.random_range(0..3)).unwrap()),
        };
        let a = allocate(&list, &mut state, &p.randomization, &request).unwrap();
        let c = counts.entry(a.stratum.to_string()).or_default();
        c[usize::from(a.arm == Arm::Control)] += 1;
        assert!((c[0] - c[1]).abs() <= 2, "stratum {} after {i}: {c:?}", a.stratum);
    }
    assert_eq!(counts.len(), 8);
    assert_eq!(counts.values().map(|c| c[0] + c[1]).sum::<i64>(), 10_000);
}
