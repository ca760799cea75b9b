//! Concealed randomization (PROTOCOL.md, "Randomization"): stratified permuted blocks with
//! randomly chosen block sizes, and Pocock–Simon minimization with a biased coin, both from a
//! recorded seed; emergency unblinding with a mandatory reason.
//!
//! Concealment is a type boundary. An [`AllocationList`] holds the whole future sequence and is
//! meant for the statistician role only: it implements neither `Serialize` nor `Display`, and its
//! only exports are [`AllocationList::entries`] (for the statistician's CSV) and [`allocate`],
//! which hands out exactly one [`Allocation`] — the value a site sees — strictly in list order
//! per stratum. What has been handed out lives in a separate [`RandomizationState`].

use crate::error::{Result, TrialError};
use cryoseed_core::protocol::{ArmRatio, RandomizationDesign};
use cryoseed_core::{Arm, Ecog, PatientId, SiteId};
use cryoseed_response::Date;
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::fmt;

/// A randomization stratum: centre (when the protocol stratifies by centre) × ECOG group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stratum {
    /// The centre, when `stratify_by_centre`.
    pub site_id: Option<SiteId>,
    /// Index into the protocol's `ecog_strata`.
    pub ecog_group: usize,
}

impl fmt::Display for Stratum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.site_id {
            Some(site) => write!(f, "{site}/ECOG-group-{}", self.ecog_group + 1),
            None => write!(f, "ECOG-group-{}", self.ecog_group + 1),
        }
    }
}

/// What is needed to randomize one patient; the stratification values may still be missing on
/// the form, which is an error here, not a default.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomizationRequest {
    /// The patient.
    pub patient_id: PatientId,
    /// The enrolling centre.
    pub site_id: Option<SiteId>,
    /// ECOG performance status at randomization.
    pub ecog: Option<Ecog>,
}

/// The allocation a site sees: its sequence number within the stratum and the arm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The patient.
    pub patient_id: PatientId,
    /// The stratum the patient was randomized in.
    pub stratum: Stratum,
    /// 1-based position in the stratum's sequence (permuted blocks) or in the trial's sequence
    /// (minimization).
    pub sequence_number: u32,
    /// The arm.
    pub arm: Arm,
}

/// One slot of the concealed list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// 1-based position within the stratum.
    pub sequence_number: u32,
    /// 1-based block number within the stratum.
    pub block_number: u32,
    /// Size of the block this slot belongs to.
    pub block_size: u32,
    /// The arm.
    pub arm: Arm,
}

/// The concealed allocation list of a permuted-block randomization (statistician only).
///
/// Deliberately neither `Serialize` nor `Display`: a site-facing API cannot print it by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct AllocationList {
    seed: u64,
    sites: Vec<SiteId>,
    strata: BTreeMap<Stratum, Vec<ListEntry>>,
}

impl fmt::Debug for AllocationList {
    /// Shows the shape, never the arms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AllocationList")
            .field("sites", &self.sites)
            .field("strata", &self.strata.len())
            .finish_non_exhaustive()
    }
}

impl AllocationList {
    /// The seed the list was generated from (recorded with the list).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The sites the list covers, sorted.
    pub fn sites(&self) -> &[SiteId] {
        &self.sites
    }

    /// Every stratum with its full sequence, in stratum order (statistician export).
    pub fn entries(&self) -> impl Iterator<Item = (&Stratum, &[ListEntry])> {
        self.strata.iter().map(|(s, e)| (s, e.as_slice()))
    }
}

/// Which slots have been handed out, and to whom.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RandomizationState {
    used: BTreeMap<Stratum, usize>,
    allocations: BTreeMap<PatientId, Allocation>,
}

impl RandomizationState {
    /// The allocation of a patient, if randomized.
    pub fn allocation(&self, patient_id: &PatientId) -> Option<&Allocation> {
        self.allocations.get(patient_id)
    }

    /// Every allocation, by patient id.
    pub fn allocations(&self) -> impl Iterator<Item = &Allocation> {
        self.allocations.values()
    }
}

fn check_sites(sites: &[SiteId]) -> Result<Vec<SiteId>> {
    if sites.is_empty() {
        return Err(TrialError::InvalidParameter {
            parameter: "sites".into(),
            reason: "at least one site is needed".into(),
        });
    }
    let mut sorted = sites.to_vec();
    sorted.sort();
    if let Some(pair) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(TrialError::InvalidParameter {
            parameter: "sites".into(),
            reason: format!("site {} is listed twice", pair[0]),
        });
    }
    Ok(sorted)
}

fn check_design(design: &RandomizationDesign) -> Result<()> {
    let sum = design.ratio.sum();
    if sum == 0 || design.ratio.experimental == 0 || design.ratio.control == 0 {
        return Err(TrialError::InvalidParameter {
            parameter: "randomization.ratio".into(),
            reason: "both weights must be at least 1".into(),
        });
    }
    if design.block_sizes.is_empty() || design.block_sizes.iter().any(|&b| b == 0 || b % sum != 0) {
        return Err(TrialError::InvalidParameter {
            parameter: "randomization.block_sizes".into(),
            reason: format!("each block size must be a positive multiple of {sum}"),
        });
    }
    if design.ecog_strata.is_empty() {
        return Err(TrialError::InvalidParameter {
            parameter: "randomization.ecog_strata".into(),
            reason: "at least one ECOG group is needed".into(),
        });
    }
    Ok(())
}

/// The stratum of a request, checking that the site is set up and no stratification value is
/// missing.
pub fn stratum_of(request: &RandomizationRequest, design: &RandomizationDesign, sites: &[SiteId]) -> Result<Stratum> {
    let site_id = request.site_id.as_ref().ok_or_else(|| TrialError::MissingStratification {
        patient_id: request.patient_id.clone(),
        field: "site_id",
    })?;
    if !sites.contains(site_id) {
        return Err(TrialError::UnknownSite {
            site_id: site_id.clone(),
            known: sites.iter().map(SiteId::as_str).collect::<Vec<_>>().join(", "),
        });
    }
    let ecog = request
        .ecog
        .ok_or_else(|| TrialError::MissingStratification { patient_id: request.patient_id.clone(), field: "ecog" })?;
    let ecog_group = design
        .ecog_stratum(ecog)
        .ok_or_else(|| TrialError::EcogOutsideStrata { patient_id: request.patient_id.clone(), ecog: ecog.score() })?;
    Ok(Stratum { site_id: design.stratify_by_centre.then(|| site_id.clone()), ecog_group })
}

fn all_strata(design: &RandomizationDesign, sites: &[SiteId]) -> Vec<Stratum> {
    let centres: Vec<Option<SiteId>> =
        if design.stratify_by_centre { sites.iter().cloned().map(Some).collect() } else { vec![None] };
    centres
        .into_iter()
        .flat_map(|site_id| {
            (0..design.ecog_strata.len()).map(move |g| Stratum { site_id: site_id.clone(), ecog_group: g })
        })
        .collect()
}

/// One permuted block: `size × experimental / (experimental + control)` experimental slots, the
/// rest control, in a uniformly random order (Fisher–Yates).
fn permuted_block(size: u32, ratio: ArmRatio, rng: &mut ChaCha8Rng) -> Vec<Arm> {
    let experimental = size / ratio.sum() * ratio.experimental;
    let mut block: Vec<Arm> =
        (0..size).map(|i| if i < experimental { Arm::Experimental } else { Arm::Control }).collect();
    block.shuffle(rng);
    block
}

/// Largest list per stratum accepted (a Phase II trial randomizes about a hundred patients; this
/// bounds memory on a mistyped number).
pub const MAX_PER_STRATUM: u32 = 100_000;

/// Generates the concealed list: for every stratum (sites sorted, then ECOG groups in protocol
/// order) whole permuted blocks, each of a size drawn uniformly from `block_sizes`, until the
/// stratum has at least `per_stratum` slots (the last block is never cut, so no stratum ends
/// unbalanced). Stratum i draws from `ChaCha8Rng::seed_from_u64(seed)` on stream i, so the list is
/// a pure function of (design, sorted sites, per_stratum, seed).
pub fn generate_permuted_blocks(
    design: &RandomizationDesign,
    sites: &[SiteId],
    per_stratum: u32,
    seed: u64,
) -> Result<AllocationList> {
    check_design(design)?;
    let sites = check_sites(sites)?;
    if per_stratum == 0 || per_stratum > MAX_PER_STRATUM {
        return Err(TrialError::InvalidParameter {
            parameter: "per_stratum".into(),
            reason: format!("must be 1 to {MAX_PER_STRATUM}, got {per_stratum}"),
        });
    }
    let mut strata = BTreeMap::new();
    for (index, stratum) in all_strata(design, &sites).into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index as u64);
        let mut entries = Vec::new();
        let mut block_number = 0;
        while entries.len() < per_stratum as usize {
            block_number += 1;
            let size = design.block_sizes[rng.random_range(0..design.block_sizes.len())];
            for arm in permuted_block(size, design.ratio, &mut rng) {
                let sequence_number = entries.len() as u32 + 1;
                entries.push(ListEntry { sequence_number, block_number, block_size: size, arm });
            }
        }
        strata.insert(stratum, entries);
    }
    Ok(AllocationList { seed, sites, strata })
}

fn refuse_rerandomization(state_allocs: &BTreeMap<PatientId, Allocation>, patient_id: &PatientId) -> Result<()> {
    match state_allocs.get(patient_id) {
        Some(a) => Err(TrialError::AlreadyRandomized {
            patient_id: patient_id.clone(),
            stratum: a.stratum.to_string(),
            sequence_number: a.sequence_number,
        }),
        None => Ok(()),
    }
}

/// Hands out the next unused slot of the patient's stratum (strictly in list order).
pub fn allocate(
    list: &AllocationList,
    state: &mut RandomizationState,
    design: &RandomizationDesign,
    request: &RandomizationRequest,
) -> Result<Allocation> {
    refuse_rerandomization(&state.allocations, &request.patient_id)?;
    let stratum = stratum_of(request, design, &list.sites)?;
    let entries = list.strata.get(&stratum).ok_or_else(|| TrialError::InvalidParameter {
        parameter: "randomization".into(),
        reason: format!("the allocation list has no stratum {stratum} (was it generated with another protocol?)"),
    })?;
    let used = state.used.get(&stratum).copied().unwrap_or(0);
    let entry = entries.get(used).ok_or_else(|| TrialError::StratumExhausted { stratum: stratum.to_string(), used })?;
    let allocation = Allocation {
        patient_id: request.patient_id.clone(),
        stratum: stratum.clone(),
        sequence_number: entry.sequence_number,
        arm: entry.arm,
    };
    state.used.insert(stratum, used + 1);
    state.allocations.insert(request.patient_id.clone(), allocation.clone());
    Ok(allocation)
}

/// Pocock–Simon minimization (Pocock & Simon 1975, Biometrics 31:103) with the **range** as the
/// imbalance measure and equal factor weights.
///
/// Factors: centre (when `stratify_by_centre`) and ECOG group. For a new patient and each
/// candidate arm k, the counts of every arm in the patient's level of each factor are taken as if
/// the patient were given k, each divided by its ratio weight; the factor's imbalance is the range
/// (max − min) of these; G_k is their sum. The arm with the smaller G is given with probability
/// p = `minimization_biased_coin_p`, the other with 1 − p; a tie is broken at random in the
/// allocation ratio. Allocation n (1-based) draws from `ChaCha8Rng::seed_from_u64(seed)` on
/// stream n, so each allocation's draw is reproducible on its own from the recorded seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimization {
    seed: u64,
    design: RandomizationDesign,
    sites: Vec<SiteId>,
    /// (factor, level) → [experimental, control] counts; factor 0 = centre, 1 = ECOG group.
    counts: BTreeMap<(u8, usize), [u32; 2]>,
    allocations: BTreeMap<PatientId, Allocation>,
}

fn arm_index(arm: Arm) -> usize {
    match arm {
        Arm::Experimental => 0,
        Arm::Control => 1,
    }
}

impl Minimization {
    /// Sets up minimization for `sites` with the protocol's design and a recorded seed.
    pub fn new(design: &RandomizationDesign, sites: &[SiteId], seed: u64) -> Result<Minimization> {
        check_design(design)?;
        let p = design.minimization_biased_coin_p;
        if !(0.5..=1.0).contains(&p) {
            return Err(TrialError::InvalidParameter {
                parameter: "randomization.minimization_biased_coin_p".into(),
                reason: format!("must be in [0.5, 1], got {p}"),
            });
        }
        Ok(Minimization {
            seed,
            design: design.clone(),
            sites: check_sites(sites)?,
            counts: BTreeMap::new(),
            allocations: BTreeMap::new(),
        })
    }

    /// The recorded seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The allocation of a patient, if randomized.
    pub fn allocation(&self, patient_id: &PatientId) -> Option<&Allocation> {
        self.allocations.get(patient_id)
    }

    /// Counts [experimental, control] in one level of a factor (0 = centre index in the sorted
    /// sites, 1 = ECOG group).
    pub fn marginal_counts(&self, factor: u8, level: usize) -> [u32; 2] {
        self.counts.get(&(factor, level)).copied().unwrap_or([0, 0])
    }

    fn levels(&self, request: &RandomizationRequest) -> Result<(Stratum, Vec<(u8, usize)>)> {
        let stratum = stratum_of(request, &self.design, &self.sites)?;
        let mut levels = Vec::with_capacity(2);
        if self.design.stratify_by_centre {
            let site = request.site_id.as_ref().expect("checked by stratum_of");
            let index = self.sites.iter().position(|s| s == site).expect("checked by stratum_of");
            levels.push((0, index));
        }
        levels.push((1, stratum.ecog_group));
        Ok((stratum, levels))
    }

    /// Pocock–Simon total imbalance G_k if the patient with these factor levels got arm `k`.
    fn imbalance_if(&self, levels: &[(u8, usize)], k: usize) -> f64 {
        let weights = [f64::from(self.design.ratio.experimental), f64::from(self.design.ratio.control)];
        levels
            .iter()
            .map(|level| {
                let mut n = self.counts.get(level).copied().unwrap_or([0, 0]);
                n[k] += 1;
                let scaled = [f64::from(n[0]) / weights[0], f64::from(n[1]) / weights[1]];
                (scaled[0] - scaled[1]).abs()
            })
            .sum()
    }

    /// Allocates one patient (see the type's documentation for the method).
    pub fn allocate(&mut self, request: &RandomizationRequest) -> Result<Allocation> {
        refuse_rerandomization(&self.allocations, &request.patient_id)?;
        let (stratum, levels) = self.levels(request)?;
        let sequence_number = self.allocations.len() as u32 + 1;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(u64::from(sequence_number));
        let g = [self.imbalance_if(&levels, 0), self.imbalance_if(&levels, 1)];
        let u: f64 = rng.random();
        let arm = if (g[0] - g[1]).abs() < 1e-12 {
            let share = f64::from(self.design.ratio.experimental) / f64::from(self.design.ratio.sum());
            if u < share { Arm::Experimental } else { Arm::Control }
        } else {
            let (preferred, other) =
                if g[0] < g[1] { (Arm::Experimental, Arm::Control) } else { (Arm::Control, Arm::Experimental) };
            if u < self.design.minimization_biased_coin_p { preferred } else { other }
        };
        for level in levels {
            self.counts.entry(level).or_insert([0, 0])[arm_index(arm)] += 1;
        }
        let allocation = Allocation { patient_id: request.patient_id.clone(), stratum, sequence_number, arm };
        self.allocations.insert(request.patient_id.clone(), allocation.clone());
        Ok(allocation)
    }
}

/// Request to break the blind for one patient in an emergency.
#[derive(Clone, Debug, PartialEq)]
pub struct UnblindingRequest {
    /// The patient.
    pub patient_id: PatientId,
    /// Who asks (user name or role code).
    pub requested_by: String,
    /// Why; mandatory.
    pub reason: String,
    /// Date of the unblinding.
    pub date: Date,
}

/// The record of an emergency unblinding: what was revealed, to whom, why and when.
#[derive(Clone, Debug, PartialEq)]
pub struct UnblindingRecord {
    /// The patient.
    pub patient_id: PatientId,
    /// The revealed allocation.
    pub allocation: Allocation,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub date: Date,
}

/// Emergency unblinding: refuses an empty reason or requester and a patient without allocation.
pub fn unblind(allocation: Option<&Allocation>, request: &UnblindingRequest) -> Result<UnblindingRecord> {
    for (parameter, value) in [("reason", &request.reason), ("requested_by", &request.requested_by)] {
        if value.trim().is_empty() {
            return Err(TrialError::InvalidParameter {
                parameter: parameter.into(),
                reason: "is required for an emergency unblinding".into(),
            });
        }
    }
    let allocation = allocation
        .filter(|a| a.patient_id == request.patient_id)
        .ok_or_else(|| TrialError::NotRandomized { patient_id: request.patient_id.clone() })?;
    Ok(UnblindingRecord {
        patient_id: request.patient_id.clone(),
        allocation: allocation.clone(),
        requested_by: request.requested_by.trim().to_owned(),
        reason: request.reason.trim().to_owned(),
        date: request.date,
    })
}
