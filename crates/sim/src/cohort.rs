//! Synthetic screening cohorts: baseline covariates, labs, exclusions and declared lesions of
//! candidate trial patients, with a controlled share failing eligibility for realistic reasons.
//!
//! Each patient is first drawn eligible, then given at most one designed defect (its
//! [`ScreeningProfile`]), so every ineligible patient fails for exactly one known reason and the
//! eligibility rules can be tested against the profile. How many patients get each profile is
//! fixed by [`CohortConfig::mix`] (shares rounded to whole patients, not random), and which
//! patients get them is a seeded shuffle. The defects are designed against the default
//! protocol's thresholds (PROTOCOL.md); under a protocol with other numbers the same records may
//! be judged differently.
//!
//! Default mix of 120 patients (PROTOCOL.md, "Eligibility"):
//!
//! | profile | share | patients | what is wrong |
//! |---|---|---|---|
//! | `NoBulkyLesion` | 6 % | 7 | largest lesion 50–65 mm and < 100 mL |
//! | `TooFewMetastases` | 4 % | 5 | 2 metastases in total |
//! | `Ecog3` | 3 % | 4 | ECOG 3 |
//! | `LowPlatelets` | 3 % | 4 | platelets 20–45 ×10⁹/L |
//! | `HighInr` | 2 % | 2 | INR 1.6–2.4 |
//! | `LowCreatinineClearance` | 3 % | 4 | creatinine clearance 15–28 mL/min |
//! | `UncontrolledCns` | 2 % | 2 | uncontrolled CNS metastases |
//! | `PriorTherapyToBulky` | 3 % | 4 | prior local therapy to the bulky index lesion |
//! | `NonMeasurableTarget` | 3 % | 4 | one of its two targets is 5–9 mm (not measurable) |
//! | `Minor` | 1 % | 1 | age 16–17 |
//! | `MissingInr` | 3 % | 4 | INR not yet available (cannot be decided yet) |
//! | `UnansweredExclusion` | 2 % | 2 | effusion/ascites question unanswered (cannot be decided yet) |
//!
//! so 37 of 120 (31 %) are ineligible and 6 (5 %) cannot be decided yet.

use crate::rng::Stream;
use cryoseed_core::patient::{DeclaredLesion, Exclusions, Labs, ScreeningRecord};
use cryoseed_core::{Ecog, LesionId, Ml, Mm, Organ, PatientId, SiteId};

/// What a synthetic patient was designed to be at screening.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScreeningProfile {
    /// Meets every criterion.
    Eligible,
    /// Largest lesion 50–65 mm and under 100 mL: no bulky lesion (it is still designated).
    NoBulkyLesion,
    /// Only two metastases (both targets).
    TooFewMetastases,
    /// ECOG performance status 3.
    Ecog3,
    /// Platelets below 50 ×10⁹/L.
    LowPlatelets,
    /// INR above 1.5.
    HighInr,
    /// Creatinine clearance below 30 mL/min.
    LowCreatinineClearance,
    /// Uncontrolled CNS metastases.
    UncontrolledCns,
    /// Prior local therapy to the bulky index lesion.
    PriorTherapyToBulky,
    /// Two targets, one of them under 10 mm: fewer than two measurable targets.
    NonMeasurableTarget,
    /// Younger than 18.
    Minor,
    /// INR not yet available: eligibility cannot be decided yet.
    MissingInr,
    /// The effusion/ascites exclusion is not yet answered: eligibility cannot be decided yet.
    UnansweredExclusion,
}

impl ScreeningProfile {
    /// `Some(true)` if eligible by design, `Some(false)` if ineligible, `None` if the record is
    /// incomplete so that eligibility cannot be decided yet.
    pub fn is_eligible(self) -> Option<bool> {
        match self {
            ScreeningProfile::Eligible => Some(true),
            ScreeningProfile::MissingInr | ScreeningProfile::UnansweredExclusion => None,
            _ => Some(false),
        }
    }
}

/// How a cohort is drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct CohortConfig {
    /// Number of patients.
    pub patients: usize,
    /// Number of sites (`SITE-01`, `SITE-02`, …; at least one is used); recruitment is uneven,
    /// as in real trials.
    pub sites: usize,
    /// Share of patients given each non-eligible profile. Each count is `share × patients`
    /// rounded to the nearest whole patient (negative or non-finite shares count as zero); if
    /// the counts exceed `patients`, the later entries get what remains. Everyone else is
    /// eligible.
    pub mix: Vec<(ScreeningProfile, f64)>,
}

impl CohortConfig {
    /// The default mix of designed screening failures (see the module table).
    pub fn default_mix() -> Vec<(ScreeningProfile, f64)> {
        use ScreeningProfile::*;
        vec![
            (NoBulkyLesion, 0.06),
            (TooFewMetastases, 0.04),
            (Ecog3, 0.03),
            (LowPlatelets, 0.03),
            (HighInr, 0.02),
            (LowCreatinineClearance, 0.03),
            (UncontrolledCns, 0.02),
            (PriorTherapyToBulky, 0.03),
            (NonMeasurableTarget, 0.03),
            (Minor, 0.01),
            (MissingInr, 0.03),
            (UnansweredExclusion, 0.02),
        ]
    }
}

impl Default for CohortConfig {
    /// 120 patients at 4 sites with [`CohortConfig::default_mix`].
    fn default() -> CohortConfig {
        CohortConfig { patients: 120, sites: 4, mix: CohortConfig::default_mix() }
    }
}

/// A synthetic patient: the screening record and the profile it was designed to have.
#[derive(Clone, Debug, PartialEq)]
pub struct CohortPatient {
    /// What the investigator would enter at screening.
    pub record: ScreeningRecord,
    /// The designed outcome (ground truth for eligibility tests).
    pub profile: ScreeningProfile,
}

/// A cohort of screening records (see [`cohort_with_profiles`]).
pub fn cohort(config: &CohortConfig, seed: u64) -> Vec<ScreeningRecord> {
    cohort_with_profiles(config, seed).into_iter().map(|p| p.record).collect()
}

/// A cohort of `config.patients` synthetic patients with their designed profiles, in patient-id
/// order (`SIM-0001`, …). The same config and seed give the same cohort.
pub fn cohort_with_profiles(config: &CohortConfig, seed: u64) -> Vec<CohortPatient> {
    let n = config.patients;
    let mut profiles = Vec::with_capacity(n);
    for &(profile, share) in &config.mix {
        let wanted = if share.is_finite() && share > 0.0 { (share * n as f64).round() as usize } else { 0 };
        let count = wanted.min(n - profiles.len());
        profiles.extend(std::iter::repeat_n(profile, count));
    }
    profiles.resize(n, ScreeningProfile::Eligible);
    Stream::new(seed, "cohort/profiles").shuffle(&mut profiles);
    // Uneven recruitment: site j (from 0) recruits in proportion to 1 / (j + 2).
    let site_weights: Vec<f64> = (0..config.sites.max(1)).map(|j| 1.0 / (j as f64 + 2.0)).collect();
    profiles
        .into_iter()
        .enumerate()
        .map(|(index, profile)| {
            // One stream per patient: a patient's record depends only on the seed, its index
            // and its profile.
            let mut rng = Stream::new(seed, &format!("cohort/patient/{index}"));
            let site = rng.weighted(&site_weights) + 1;
            let record = screening_record(&mut rng, index + 1, site, profile);
            CohortPatient { record, profile }
        })
        .collect()
}

/// Organs of bulky lesions and how often each occurs.
const BULKY_ORGANS: [(Organ, f64); 6] = [
    (Organ::Liver, 0.25),
    (Organ::SoftTissue, 0.2),
    (Organ::Pelvis, 0.15),
    (Organ::Lung, 0.15),
    (Organ::Bone, 0.15),
    (Organ::LymphNode, 0.1),
];

/// Organs of the other lesions and how often each occurs.
const OTHER_ORGANS: [(Organ, f64); 6] = [
    (Organ::Lung, 0.25),
    (Organ::Liver, 0.25),
    (Organ::Bone, 0.2),
    (Organ::LymphNode, 0.15),
    (Organ::SoftTissue, 0.1),
    (Organ::Kidney, 0.05),
];

fn pick_organ(rng: &mut Stream, table: &[(Organ, f64)]) -> Organ {
    let weights: Vec<f64> = table.iter().map(|&(_, w)| w).collect();
    table[rng.weighted(&weights)].0
}

/// A declared lesion with consistent measurements: RECIST longest axial diameter, short axis,
/// and the volume of the ellipsoid with those axes and the given craniocaudal extent (mm).
fn lesion(number: usize, organ: Organ, [longest, short, craniocaudal]: [f64; 3]) -> DeclaredLesion {
    let volume = std::f64::consts::PI / 6.0 * longest * short * craniocaudal / 1000.0;
    DeclaredLesion {
        lesion_id: LesionId::parse(format!("L{number}")).expect("L<n> is a valid lesion id"),
        organ,
        is_nodal: organ == Organ::LymphNode,
        longest_diameter: Some(Mm(round1(longest))),
        short_axis: Some(Mm(round1(short))),
        volume: Some(Ml(round1(volume))),
        is_target: false,
        is_bulky_index: false,
    }
}

/// Axes of a lesion with a longest diameter of `longest`: the short axis a fraction
/// `short_ratio` of it and a craniocaudal extent between the two.
fn axes(rng: &mut Stream, longest: f64, short_ratio: [f64; 2]) -> [f64; 3] {
    let short = longest * rng.uniform(short_ratio[0], short_ratio[1]);
    [longest, short, rng.uniform(short, longest)]
}

/// Rounds to 0.1, as measurements are entered.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn screening_record(rng: &mut Stream, number: usize, site: usize, profile: ScreeningProfile) -> ScreeningRecord {
    use ScreeningProfile as P;
    let age = match profile {
        P::Minor => rng.int(16, 17),
        _ => rng.normal_in(63.0, 10.0, 35.0, 85.0).round() as u32,
    };
    let ecog = match profile {
        P::Ecog3 => 3,
        _ => [0, 1, 2][rng.weighted(&[0.4, 0.45, 0.15])],
    };
    let lesions = declared_lesions(rng, profile);
    let declared = lesions.len() as u32;
    // Metastases seen on imaging but not declared; at least enough for three in total unless
    // the profile is about having too few.
    let metastatic_lesion_count = match profile {
        P::TooFewMetastases => declared,
        _ => declared + rng.int(3u32.saturating_sub(declared), 8),
    };
    let labs = Labs {
        platelets_e9_per_l: Some(match profile {
            P::LowPlatelets => rng.uniform(20.0, 45.0).round(),
            _ => rng.normal_in(240.0, 70.0, 60.0, 450.0).round(),
        }),
        inr: match profile {
            P::MissingInr => None,
            P::HighInr => Some(round2(rng.uniform(1.6, 2.4))),
            _ => Some(round2(rng.normal_in(1.05, 0.1, 0.85, 1.4))),
        },
        anc_e9_per_l: Some(round1(rng.normal_in(4.0, 1.5, 1.6, 9.0))),
        haemoglobin_g_per_l: Some(rng.normal_in(120.0, 15.0, 85.0, 165.0).round()),
        bilirubin_x_uln: Some(round2(rng.normal_in(0.6, 0.25, 0.2, 1.8))),
        ast_x_uln: Some(round2(rng.normal_in(0.9, 0.5, 0.3, 4.0))),
        alt_x_uln: Some(round2(rng.normal_in(0.9, 0.5, 0.3, 4.0))),
        creatinine_clearance_ml_per_min: Some(match profile {
            P::LowCreatinineClearance => rng.uniform(15.0, 28.0).round(),
            _ => rng.normal_in(85.0, 25.0, 35.0, 150.0).round(),
        }),
    };
    let exclusions = Exclusions {
        emergent_intervention: Some(false),
        target_not_accessible: Some(false),
        uncontrolled_infection: Some(false),
        uncontrolled_effusion: if profile == P::UnansweredExclusion { None } else { Some(false) },
        severe_cardiopulmonary: Some(false),
        prior_local_therapy_bulky: Some(profile == P::PriorTherapyToBulky),
        uncontrolled_cns: Some(profile == P::UncontrolledCns),
        investigator_judgement: None,
        investigator_judgement_answered: true,
    };
    ScreeningRecord {
        patient_id: PatientId::parse(format!("SIM-{number:04}")).expect("SIM-<n> is a valid patient id"),
        site_id: SiteId::parse(format!("SITE-{site:02}")).expect("SITE-<n> is a valid site id"),
        age_years: Some(age),
        ecog: Some(Ecog::new(ecog).expect("scores drawn are 0-3")),
        histology_confirmed: Some(true),
        metastatic: Some(true),
        not_amenable_to_curative_therapy: Some(true),
        metastatic_lesion_count: Some(metastatic_lesion_count),
        lesions,
        labs,
        exclusions,
    }
}

/// Rounds to 0.01, as lab values are reported.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The declared lesions: the bulky index lesion (L1), further targets, and up to two declared
/// non-targets.
fn declared_lesions(rng: &mut Stream, profile: ScreeningProfile) -> Vec<DeclaredLesion> {
    use ScreeningProfile as P;
    let bulky_organ = pick_organ(rng, &BULKY_ORGANS);
    let bulky_axes = match profile {
        // At most 65 × 49 × 55 mm: under 100 mL (≤ 92 mL).
        P::NoBulkyLesion => {
            let longest = rng.uniform(50.0, 65.0);
            let short = longest * rng.uniform(0.6, 0.75);
            [longest, short, rng.uniform(short, longest * 0.85)]
        }
        // One in five bulky lesions qualifies by volume only: 62–69 mm across but ≥ 100 mL
        // (at least 62 × 52.7 × 62 mm = 106 mL).
        _ if rng.chance(0.2) => {
            let longest = rng.uniform(62.0, 69.0);
            [longest, longest * rng.uniform(0.85, 0.95), longest * rng.uniform(1.0, 1.1)]
        }
        _ => {
            let longest = rng.normal_in(90.0, 15.0, 70.0, 140.0);
            axes(rng, longest, [0.55, 0.9])
        }
    };
    let mut bulky = lesion(1, bulky_organ, bulky_axes);
    bulky.is_target = true;
    bulky.is_bulky_index = true;
    let (targets, non_targets) = match profile {
        P::TooFewMetastases | P::NonMeasurableTarget => (2, 0),
        _ => (rng.int(2, 5) as usize, rng.int(0, 2) as usize),
    };
    let mut lesions = vec![bulky];
    for number in 2..=targets + non_targets {
        let is_target = number <= targets;
        let (organ, lesion_axes) = if profile == P::NonMeasurableTarget && number == 2 {
            let longest = rng.uniform(5.0, 9.5);
            (Organ::Lung, axes(rng, longest, [0.7, 0.95]))
        } else {
            let organ = pick_organ(rng, &OTHER_ORGANS);
            if organ == Organ::LymphNode {
                // A measurable node has a short axis of at least 15 mm (RECIST 1.1).
                let short = rng.uniform(15.0, 30.0);
                let longest = short / rng.uniform(0.6, 0.9);
                (organ, [longest, short, rng.uniform(short, longest)])
            } else {
                let longest = if is_target { rng.uniform(12.0, 45.0) } else { rng.uniform(6.0, 25.0) };
                (organ, axes(rng, longest, [0.6, 0.95]))
            }
        };
        let mut l = lesion(number, organ, lesion_axes);
        l.is_target = is_target;
        lesions.push(l);
    }
    lesions
}
