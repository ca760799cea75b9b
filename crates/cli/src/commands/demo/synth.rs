//! The synthetic trial's population: candidates screened at three centres over the accrual
//! period, each eligible-looking candidate's lesions measured on a seeded phantom of the
//! scenario matching its bulky lesion, and the concealed randomization of the eligible ones in
//! order of their randomization date (the same list and order the store replays).

use crate::output::Progress;
use anyhow::Context;
use cryoseed_anatomy::lesion_features;
use cryoseed_core::patient::{DeclaredLesion, ScreeningRecord};
use cryoseed_core::protocol::{Protocol, RandomizationMethod};
use cryoseed_core::{Arm, Mm, Modality, Organ, SiteId};
use cryoseed_response::Date;
use cryoseed_sim::{CohortConfig, PhantomConfig, Scenario, ScreeningProfile, accrual, cohort_with_profiles};
use cryoseed_trial::eligibility::{Assessment, Status, assess};
use cryoseed_trial::randomization::{
    Minimization, RandomizationRequest, RandomizationState, allocate, generate_permuted_blocks,
};
use rayon::prelude::*;

/// Centres of the synthetic trial, with their declared control-arm modality.
pub const SITES: [(&str, &str, Modality); 3] = [
    ("SITE-01", "Synthetic centre 1 (cryoablation unit)", Modality::Cryo),
    ("SITE-02", "Synthetic centre 2 (brachytherapy unit)", Modality::Seeds),
    ("SITE-03", "Synthetic centre 3 (brachytherapy unit)", Modality::Seeds),
];

/// First day of accrual (a Monday).
pub fn accrual_start() -> Date {
    Date::from_ymd(2023, 6, 5).expect("a real date")
}

/// Accrual period, days (PROTOCOL.md `[power]`: 24 months).
pub const ACCRUAL_DAYS: i32 = 730;

/// Follow-up after the last randomization before the data cutoff, days (PROTOCOL.md: LPFS
/// follow-up 12 months).
pub const MINIMUM_FOLLOW_UP_DAYS: i32 = 365;

/// One screened candidate.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// What the investigator enters.
    pub record: ScreeningRecord,
    /// The phantom the patient's anatomy comes from (candidates whose lesions are measured on
    /// imaging; `None` for the designed lesion defects, which keep the cohort's declared lesions).
    pub scenario: Option<Scenario>,
    /// Screening date.
    pub screened_on: Date,
    /// Date the patient would be randomized if eligible.
    pub randomize_on: Date,
    /// Eligibility.
    pub assessment: Assessment,
}

/// A randomized patient.
#[derive(Clone, Debug)]
pub struct Randomized {
    /// Index into the candidates.
    pub candidate: usize,
    /// Arm (as the store will allocate it).
    pub arm: Arm,
    /// Stratum text.
    pub stratum: String,
    /// The centre's control modality.
    pub control: Modality,
}

/// The synthetic population.
#[derive(Clone, Debug)]
pub struct Population {
    /// Every candidate, in screening order (`SIM-0001` first).
    pub candidates: Vec<Candidate>,
    /// The randomized patients, in randomization order.
    pub randomized: Vec<Randomized>,
    /// Eligible candidates not randomized because accrual had closed.
    pub eligible_not_randomized: usize,
    /// Data cutoff.
    pub cutoff: Date,
}

/// The scenario whose bulky lesion matches the candidate's declared bulky organ.
pub fn scenario_for(record: &ScreeningRecord) -> Scenario {
    let organ = record.lesions.iter().find(|l| l.is_bulky_index).map_or(Organ::SoftTissue, |l| l.organ);
    match organ {
        Organ::Liver => Scenario::LiverSmallSeparated,
        Organ::Lung => Scenario::LungSmallAorta,
        Organ::Pelvis => Scenario::PelvicBulkyBowel,
        Organ::Bone => Scenario::BoneMet,
        _ => Scenario::ParaspinalBulkyCord,
    }
}

/// The phantom seed of candidate `index` (0-based) under the demo's `seed`.
pub fn phantom_seed(seed: u64, index: usize) -> u64 {
    seed.wrapping_mul(1_000_003).wrapping_add(index as u64 + 1)
}

/// Phantom grid for the demo.
pub fn phantom_config(spacing_mm: f64) -> PhantomConfig {
    PhantomConfig { spacing: [Mm(spacing_mm); 3] }
}

/// The lesions a radiologist measures on the phantom, as declared at screening.
fn measured_lesions(
    scenario: Scenario,
    seed: u64,
    spacing_mm: f64,
    protocol: &Protocol,
) -> anyhow::Result<Vec<DeclaredLesion>> {
    let case = cryoseed_sim::phantom(scenario, &phantom_config(spacing_mm), seed)
        .with_context(|| format!("phantom {} (seed {seed})", scenario.name()))?;
    Ok(lesion_features(&case, protocol)
        .into_iter()
        .map(|f| DeclaredLesion {
            lesion_id: f.lesion_id,
            organ: f.organ,
            is_nodal: f.organ == Organ::LymphNode,
            longest_diameter: Some(Mm((f.longest_axial_diameter.0 * 10.0).round() / 10.0)),
            short_axis: Some(Mm((f.short_axis.0 * 10.0).round() / 10.0)),
            volume: Some(cryoseed_core::Ml((f.volume.0 * 10.0).round() / 10.0)),
            is_target: f.is_target,
            is_bulky_index: f.is_bulky_index,
        })
        .collect())
}

/// Whether a profile's defect is in the declared lesions (those keep the cohort's lesions).
fn lesion_defect(profile: ScreeningProfile) -> bool {
    matches!(
        profile,
        ScreeningProfile::NoBulkyLesion | ScreeningProfile::TooFewMetastases | ScreeningProfile::NonMeasurableTarget
    )
}

/// The smallest cohort whose designed-eligible share reaches `target` randomized patients.
fn cohort_size(target: usize) -> usize {
    let mix = CohortConfig::default_mix();
    (target..)
        .find(|&n| {
            let ineligible: usize = mix.iter().map(|(_, share)| (share * n as f64).round() as usize).sum();
            n.saturating_sub(ineligible) >= target
        })
        .expect("some cohort size reaches any target")
}

/// Draws, measures, screens and randomizes the population, with a progress bar over the
/// candidates.
pub fn population(target: usize, seed: u64, spacing_mm: f64, protocol: &Protocol) -> anyhow::Result<Population> {
    let size = cohort_size(target);
    let cohort =
        cohort_with_profiles(&CohortConfig { patients: size, sites: SITES.len(), ..CohortConfig::default() }, seed);
    let bar =
        Progress::new("demo", format!("screening at {} centres (lesions measured on phantoms)", SITES.len()), size);
    let dates = accrual(size, ACCRUAL_DAYS, seed);
    let start = accrual_start();
    let candidates = cohort
        .into_par_iter()
        .enumerate()
        .map(|(index, patient)| {
            let mut record = patient.record;
            let scenario = (!lesion_defect(patient.profile)).then(|| scenario_for(&record));
            if let Some(scenario) = scenario {
                let undeclared =
                    record.metastatic_lesion_count.unwrap_or(0).saturating_sub(record.lesions.len() as u32);
                record.lesions = measured_lesions(scenario, phantom_seed(seed, index), spacing_mm, protocol)?;
                record.metastatic_lesion_count = Some(record.lesions.len() as u32 + undeclared);
            }
            let assessment = assess(&record, protocol);
            bar.step(record.patient_id.as_str());
            let screened_on = start.plus_days(dates[index].screening_day);
            Ok(Candidate {
                record,
                scenario,
                screened_on,
                randomize_on: screened_on.plus_days(dates[index].randomization_delay_days),
                assessment,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    bar.finish();

    // Randomize the eligible candidates by date until the target is reached.
    let mut order: Vec<usize> =
        (0..candidates.len()).filter(|&i| candidates[i].assessment.status() == Status::Eligible).collect();
    order.sort_by_key(|&i| (candidates[i].randomize_on, i));
    let eligible = order.len();
    order.truncate(target);
    let sites: Vec<SiteId> = SITES.iter().map(|(id, _, _)| SiteId::parse(*id).expect("valid site ids")).collect();
    let design = &protocol.randomization;
    let mut randomized = Vec::with_capacity(order.len());
    let mut assign = |i: usize, allocation: cryoseed_trial::randomization::Allocation| {
        let site = candidates[i].record.site_id.to_string();
        let control = SITES.iter().find(|(id, _, _)| *id == site).map_or(Modality::Seeds, |(_, _, m)| *m);
        randomized.push(Randomized {
            candidate: i,
            arm: allocation.arm,
            stratum: allocation.stratum.to_string(),
            control,
        });
    };
    let request = |i: usize| RandomizationRequest {
        patient_id: candidates[i].record.patient_id.clone(),
        site_id: Some(candidates[i].record.site_id.clone()),
        ecog: candidates[i].record.ecog,
    };
    match design.method {
        RandomizationMethod::PermutedBlocks => {
            let list = generate_permuted_blocks(design, &sites, per_stratum(target), seed)?;
            let mut state = RandomizationState::default();
            for &i in &order {
                assign(i, allocate(&list, &mut state, design, &request(i))?);
            }
        }
        RandomizationMethod::Minimization => {
            let mut minimization = Minimization::new(design, &sites, seed)?;
            for &i in &order {
                assign(i, minimization.allocate(&request(i))?);
            }
        }
    }
    let last = randomized.last().map_or(start, |r| candidates[r.candidate].randomize_on);
    Ok(Population {
        eligible_not_randomized: eligible - randomized.len(),
        candidates,
        randomized,
        cutoff: last.plus_days(MINIMUM_FOLLOW_UP_DAYS),
    })
}

/// Slots per stratum of the concealed list: enough for every patient in one stratum.
pub fn per_stratum(target: usize) -> u32 {
    u32::try_from(target.max(1)).unwrap_or(u32::MAX)
}
