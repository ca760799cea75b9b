//! The course of a randomized patient through the trial, simulated: procedure dates, follow-up
//! imaging per the protocol's schedule, the true size of every lesion over time, local and
//! systemic progression, death and loss to follow-up, two blinded readers measuring with noise,
//! the adjudicator's choice, and adverse events with CTCAE v5.0 terms.
//!
//! Pure and seeded like the rest of the crate: [`simulate_course`] takes the patient (arm, ECOG,
//! lesions with their planned treatment and the plan's verdicts), a [`CourseConfig`] and a seed,
//! and returns a [`Course`]. Days count from randomization (day 0). Each part draws from its own
//! ChaCha8 stream keyed `course/<patient>/<part>` (`death`, `systemic`, `loss`, `frailty`,
//! `procedures`, `qa/<lesion>`, `ltp/<lesion>`, `size/<lesion>`, `scans`, `reader-1`,
//! `reader-2`, `new-lesions`, `adjudicator`, `ae/<lesion>/<modality>`), so changing how one part
//! is drawn leaves the others unchanged.
//!
//! # Assumptions and their sources
//!
//! Every number is a field of [`CourseConfig`] with this default; "assumption" marks a value
//! chosen to be plausible for high-burden metastatic patients, not fitted to any data set.
//!
//! | part | default | source |
//! |---|---|---|
//! | local-tumour-progression-free share at 6 months of an adequately treated lesion | control 65 %, experimental 85 % | PROTOCOL.md `[power]` (`lcr_control`, `lcr_experimental`): the design's effect |
//! | patient frailty (shared by the patient's lesions), gamma with mean 1 | variance 0.75 | assumption, chosen so that the intra-patient correlation of 6-month failure is ≈ 0.21 (control) and ≈ 0.10 (experimental), against the protocol's 0.2 (`[power]` `icc`) |
//! | hazard ratio of LTP when the delivered treatment missed its goal (post-implant D90 < prescription, or lethal ice not confirmed over the planned zone) | 2.0 | assumption (dose–response of I-125 implants and ablation-margin data point the same way; the size is not from one study) |
//! | LTP time, given the lesion's hazard | exponential from the day of its treatment, so that with the frailty the marginal share free at 6 months is exactly the table's | model choice |
//! | overall survival | exponential, median 20 months, ECOG 2 hazard × 1.8 | assumption |
//! | systemic progression (new lesions, non-target progression) | exponential, median 6 months, both arms | assumption (local therapy is not expected to change systemic disease) |
//! | non-target progression at systemic progression | half of the patients with a non-target lesion | assumption |
//! | loss to follow-up | 5 % per year | assumption |
//! | first procedure | 7–21 days after randomization (uniform) | assumption |
//! | sessions | at most 2 lesions per session, 7 days apart, the bulky index lesion first; a zoned lesion gets both modalities in one session | assumption |
//! | post-procedure QA | post-implant CT the next day, ablation-zone CT the same day (protocol: within 7 days) | PROTOCOL.md "technical success" |
//! | delivered D90 / planned D90 | normal, mean 0.97, SD 0.08, truncated to 0.5–1.3 | assumption (seed displacement and oedema lower D90 a little on average) |
//! | lethal ice confirmed over the planned zone | 95 % when the plan met its coverage, 40 % when it did not | assumption |
//! | imaging schedule (days after completion of protocol therapy) | baseline 3–14 days before randomization; W5 35, W15 105, W26 182, W37 259, W48 336, each ± 3 days (uniform), so the first scan falls 4–6 weeks after therapy, the later ones 8–12 weeks apart and W26 in the 6-month window; imaging ends after W48, survival contacts every 91 days to 24 months | PROTOCOL.md: 4–6 weeks post-procedure, then every 8–12 weeks; LPFS follow-up 12 months, OS 24 months; the jitter is an assumption |
//! | size of a controlled treated lesion | `D(t) = D0 (1 − s (1 − e^(−t/60 d)))`, shrinkage `s` uniform 20–60 % (seeds, zoned) or 30–70 % (cryo) | assumption |
//! | ablation zone (whole-lesion cryo) | `D0 + 10 mm` (5 mm margin each side), involuting by 40 % with time constant 120 days | assumption; margin from PROTOCOL.md "Cryoablation" |
//! | growth after LTP | 2–5 mm per month (uniform per lesion), of the lesion and its ablation zone | assumption |
//! | bulky lesion volume | `V0 (D / D0)³` | model choice |
//! | reader measurement | `true × (1 + ε_rel) + ε_abs`, ε_rel SD 5 %, ε_abs SD 1.0 mm, rounded to 1 mm; below 5 mm "too small to measure" | assumption, of the order of published inter-reader variability of unidimensional CT measurements |
//! | margin-enhancement flag | read at each post-treatment scan after LTP with sensitivity 80 %; false positive 2 % per lesion and scan before | assumption |
//! | new lesion after systemic progression | seen by each reader with probability 90 % per scan | assumption |
//! | adjudicator | accepts the reader whose LTP calls agree with the truth at more lesion-scans (ties: smaller total measurement error), with probability 90 % | assumption |
//! | adverse events | [`ADVERSE_EVENT_RATES`]: per treated lesion and modality, real CTCAE v5.0 terms, grade shares, onset and duration | assumption, of the order reported in percutaneous cryoablation and I-125 implantation series; grade ≥ 3 is serious (hospitalisation) |
//!
//! The effect in LPFS then emerges from the bulky lesion's LTP and death: for an adequately
//! treated ECOG 0–1 patient these defaults give a median LPFS of about 6.6 months on the control
//! arm and 11.5 months on the experimental arm (ratio of medians ≈ 0.57), where the protocol's
//! power calculation assumes a control median of 9 months and a hazard ratio of 0.5. The
//! protocol's two assumptions are not one model; the primary LCR endpoint is the one reproduced
//! exactly.

use crate::rng::Stream;
use cryoseed_core::{Arm, LesionId, Modality, Organ};

/// Days in a month (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Every tunable number of the course simulator (module table).
#[derive(Clone, Debug, PartialEq)]
pub struct CourseConfig {
    /// Share of adequately treated lesions free of LTP 6 months after treatment, control arm.
    pub ltp_free_6m_control: f64,
    /// Same, experimental arm.
    pub ltp_free_6m_experimental: f64,
    /// Variance of the gamma frailty shared by a patient's lesions (0: independent lesions).
    pub frailty_variance: f64,
    /// Hazard ratio of LTP when the delivered treatment missed its goal.
    pub missed_goal_hazard_ratio: f64,
    /// Median overall survival, months.
    pub median_os_months: f64,
    /// Hazard ratio of death for ECOG 2.
    pub ecog2_death_hazard_ratio: f64,
    /// Median time to systemic progression, months.
    pub median_systemic_months: f64,
    /// Share of patients with a non-target lesion whose non-targets progress at systemic
    /// progression.
    pub non_target_progression: f64,
    /// Loss to follow-up per year.
    pub loss_per_year: f64,
    /// First procedure, days after randomization (uniform, inclusive).
    pub first_procedure_days: (i32, i32),
    /// Lesions per session.
    pub lesions_per_session: usize,
    /// Days between sessions.
    pub session_gap_days: i32,
    /// Delivered / planned D90: mean, SD (truncated to 0.5–1.3).
    pub d90_ratio: (f64, f64),
    /// Probability that lethal ice is confirmed over the planned zone when the plan met its
    /// coverage, and when it did not.
    pub ice_confirmed: (f64, f64),
    /// Baseline scan, days before randomization (uniform, inclusive).
    pub baseline_days_before: (i32, i32),
    /// Follow-up scans: label and nominal day after completion of protocol therapy.
    pub scans: Vec<(&'static str, i32)>,
    /// Each scan's date varies by up to this many days either way (uniform).
    pub scan_jitter_days: i32,
    /// Survival contacts after imaging ends, every this many days.
    pub contact_interval_days: i32,
    /// Survival follow-up, days after randomization.
    pub survival_follow_up_days: i32,
    /// Shrinkage of a controlled lesion treated with seeds (also a zoned lesion), uniform range.
    pub seed_shrinkage: (f64, f64),
    /// Shrinkage of a controlled lesion treated with cryo, uniform range.
    pub cryo_shrinkage: (f64, f64),
    /// Time constant of the shrinkage, days.
    pub shrinkage_days: f64,
    /// Ablative margin each side, mm (the ablation zone starts at D0 + 2 × margin).
    pub ablation_margin_mm: f64,
    /// Involution of the ablation zone and its time constant, days.
    pub ablation_involution: (f64, f64),
    /// Growth after LTP, mm per month, uniform range.
    pub growth_mm_per_month: (f64, f64),
    /// Reader noise: relative SD and absolute SD (mm).
    pub reader_sd: (f64, f64),
    /// Smallest measurable diameter, mm.
    pub too_small_mm: f64,
    /// Margin-enhancement flag: sensitivity after LTP, false-positive rate before.
    pub flag_rates: (f64, f64),
    /// Probability that a reader sees a new lesion present at a scan.
    pub new_lesion_detection: f64,
    /// Probability that the adjudicator accepts the more accurate reader.
    pub adjudicator_accuracy: f64,
}

impl Default for CourseConfig {
    fn default() -> CourseConfig {
        CourseConfig {
            ltp_free_6m_control: 0.65,
            ltp_free_6m_experimental: 0.85,
            frailty_variance: 0.75,
            missed_goal_hazard_ratio: 2.0,
            median_os_months: 20.0,
            ecog2_death_hazard_ratio: 1.8,
            median_systemic_months: 6.0,
            non_target_progression: 0.5,
            loss_per_year: 0.05,
            first_procedure_days: (7, 21),
            lesions_per_session: 2,
            session_gap_days: 7,
            d90_ratio: (0.97, 0.08),
            ice_confirmed: (0.95, 0.40),
            baseline_days_before: (3, 14),
            scans: vec![("W5", 35), ("W15", 105), ("W26", 182), ("W37", 259), ("W48", 336)],
            scan_jitter_days: 3,
            contact_interval_days: 91,
            survival_follow_up_days: 730,
            seed_shrinkage: (0.2, 0.6),
            cryo_shrinkage: (0.3, 0.7),
            shrinkage_days: 60.0,
            ablation_margin_mm: 5.0,
            ablation_involution: (0.4, 120.0),
            growth_mm_per_month: (2.0, 5.0),
            reader_sd: (0.05, 1.0),
            too_small_mm: 5.0,
            flag_rates: (0.8, 0.02),
            new_lesion_detection: 0.9,
            adjudicator_accuracy: 0.9,
        }
    }
}

/// Days of the LCR horizon: 6 months.
pub const SIX_MONTHS_DAYS: f64 = 6.0 * DAYS_PER_MONTH;

impl CourseConfig {
    /// The baseline LTP hazard per day of an adequately treated lesion on `arm`, so that with
    /// the gamma frailty (variance θ) the marginal share free at 6 months is the configured one:
    /// `S(t) = (1 + θ λ t)^(−1/θ)` ⇒ `λ = (S^(−θ) − 1) / (θ t)` (exponential when θ = 0).
    pub fn ltp_hazard_per_day(&self, arm: Arm) -> f64 {
        let s = match arm {
            Arm::Control => self.ltp_free_6m_control,
            Arm::Experimental => self.ltp_free_6m_experimental,
        };
        let theta = self.frailty_variance;
        if theta <= 1e-12 { -s.ln() / SIX_MONTHS_DAYS } else { (s.powf(-theta) - 1.0) / (theta * SIX_MONTHS_DAYS) }
    }

    /// Death hazard per day for ECOG `ecog`.
    pub fn death_hazard_per_day(&self, ecog: u8) -> f64 {
        let base = std::f64::consts::LN_2 / (self.median_os_months * DAYS_PER_MONTH);
        if ecog >= 2 { base * self.ecog2_death_hazard_ratio } else { base }
    }
}

/// What a treated lesion was planned to receive, with the plan's verdicts.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedTreatment {
    /// Modalities (one; both for a zoned lesion).
    pub modalities: Vec<Modality>,
    /// Planned D90 of the seed target, Gy.
    pub planned_seed_d90_gy: Option<f64>,
    /// Seed prescription, Gy.
    pub prescription_gy: Option<f64>,
    /// Whether the plan's lethal isotherm covers its cryo target (coverage goal met).
    pub planned_coverage_met: Option<bool>,
}

/// A lesion of the patient at baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct CourseLesion {
    /// Lesion id.
    pub lesion_id: LesionId,
    /// Organ.
    pub organ: Organ,
    /// RECIST target lesion.
    pub is_target: bool,
    /// The bulky index lesion.
    pub is_bulky_index: bool,
    /// Baseline RECIST diameter (short axis for a lymph node), mm.
    pub baseline_mm: f64,
    /// Baseline volume, mL.
    pub baseline_volume_ml: f64,
    /// Protocol local therapy, if the lesion is treated.
    pub treatment: Option<PlannedTreatment>,
}

/// A randomized patient entering follow-up.
#[derive(Clone, Debug, PartialEq)]
pub struct CoursePatient {
    /// Patient id (the key of its random streams).
    pub patient_id: String,
    /// Randomized arm.
    pub arm: Arm,
    /// ECOG at screening.
    pub ecog: u8,
    /// Lesions.
    pub lesions: Vec<CourseLesion>,
    /// Days from randomization to the data cutoff: nothing later is observed.
    pub cutoff_day: i32,
}

/// One procedure on one lesion and its QA.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcedureEvent {
    /// Lesion.
    pub lesion_id: LesionId,
    /// Modality.
    pub modality: Modality,
    /// Day performed.
    pub day: i32,
    /// Day of the QA scan.
    pub qa_day: i32,
    /// Post-implant D90, Gy (seeds).
    pub seed_d90_gy: Option<f64>,
    /// Prescription, Gy (seeds).
    pub prescription_gy: Option<f64>,
    /// Lethal ice confirmed over the planned zone (cryo).
    pub lethal_covered: Option<bool>,
}

/// What a reader recorded for one lesion.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadStatus {
    /// Measured (`diameter_mm`).
    Measured(f64),
    /// Too small to measure.
    TooSmall,
    /// Non-target present.
    Present,
    /// Non-target unequivocal progression.
    UnequivocalProgression,
}

/// One reader's observation of one lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct LesionRead {
    /// Lesion.
    pub lesion_id: LesionId,
    /// Status or diameter.
    pub status: ReadStatus,
    /// Ablation-zone diameter, mm (whole-lesion cryo, after treatment).
    pub ablation_zone_mm: Option<f64>,
    /// Volume, mL (bulky index lesion).
    pub volume_ml: Option<f64>,
    /// New nodular enhancement at the treatment-zone margin.
    pub margin_enhancement: bool,
}

/// A new lesion as a reader reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLesionRead {
    /// `NL1`, …
    pub new_lesion_id: String,
    /// Organ.
    pub organ: Organ,
}

/// One reader's read of one scan.
#[derive(Clone, Debug, PartialEq)]
pub struct Read {
    /// Every lesion, in the patient's order.
    pub lesions: Vec<LesionRead>,
    /// New lesions.
    pub new_lesions: Vec<NewLesionRead>,
}

/// One imaging time point read by the two readers.
#[derive(Clone, Debug, PartialEq)]
pub struct Scan {
    /// `baseline`, `W5`, …
    pub label: String,
    /// Day.
    pub day: i32,
    /// Reader 1's and reader 2's reads.
    pub reads: [Read; 2],
}

/// What an adverse event is attributed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AeCause {
    /// The cryoablation procedure.
    Cryoablation,
    /// The seed implantation procedure.
    SeedImplantation,
    /// Radiation from the seeds.
    Radiation,
}

/// One row of the adverse-event model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdverseEventRate {
    /// CTCAE v5.0 term.
    pub term: &'static str,
    /// The modality whose procedure can cause it.
    pub modality: Modality,
    /// The organs of the treated lesion it applies to (empty: any).
    pub organs: &'static [Organ],
    /// Probability per treated lesion.
    pub probability: f64,
    /// Shares of grades 1, 2, 3.
    pub grades: [f64; 3],
    /// Onset, days after the procedure (inclusive range).
    pub onset_days: (i32, i32),
    /// Duration, days (inclusive range).
    pub duration_days: (i32, i32),
    /// Attribution.
    pub cause: AeCause,
}

const ANY: &[Organ] = &[];
const LUNG: &[Organ] = &[Organ::Lung];
const LIVER: &[Organ] = &[Organ::Liver];

/// The adverse-event model (assumptions, module docs): per treated lesion and modality.
pub const ADVERSE_EVENT_RATES: &[AdverseEventRate] = &[
    AdverseEventRate {
        term: "Pain",
        modality: Modality::Cryo,
        organs: ANY,
        probability: 0.30,
        grades: [0.60, 0.35, 0.05],
        onset_days: (0, 1),
        duration_days: (3, 14),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Fever",
        modality: Modality::Cryo,
        organs: ANY,
        probability: 0.10,
        grades: [0.80, 0.20, 0.0],
        onset_days: (1, 3),
        duration_days: (1, 5),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Hematoma",
        modality: Modality::Cryo,
        organs: ANY,
        probability: 0.05,
        grades: [0.50, 0.30, 0.20],
        onset_days: (0, 0),
        duration_days: (7, 28),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Burn",
        modality: Modality::Cryo,
        organs: ANY,
        probability: 0.02,
        grades: [0.70, 0.30, 0.0],
        onset_days: (0, 1),
        duration_days: (7, 21),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Pneumothorax",
        modality: Modality::Cryo,
        organs: LUNG,
        probability: 0.30,
        grades: [0.55, 0.35, 0.10],
        onset_days: (0, 0),
        duration_days: (2, 10),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Pleural effusion",
        modality: Modality::Cryo,
        organs: LUNG,
        probability: 0.10,
        grades: [0.70, 0.30, 0.0],
        onset_days: (1, 7),
        duration_days: (14, 42),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Hepatic hemorrhage",
        modality: Modality::Cryo,
        organs: LIVER,
        probability: 0.03,
        grades: [0.30, 0.40, 0.30],
        onset_days: (0, 0),
        duration_days: (7, 21),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Platelet count decreased",
        modality: Modality::Cryo,
        organs: LIVER,
        probability: 0.05,
        grades: [0.50, 0.30, 0.20],
        onset_days: (1, 2),
        duration_days: (3, 10),
        cause: AeCause::Cryoablation,
    },
    AdverseEventRate {
        term: "Pain",
        modality: Modality::Seeds,
        organs: ANY,
        probability: 0.20,
        grades: [0.70, 0.28, 0.02],
        onset_days: (0, 1),
        duration_days: (2, 10),
        cause: AeCause::SeedImplantation,
    },
    AdverseEventRate {
        term: "Hematoma",
        modality: Modality::Seeds,
        organs: ANY,
        probability: 0.03,
        grades: [0.60, 0.30, 0.10],
        onset_days: (0, 0),
        duration_days: (7, 28),
        cause: AeCause::SeedImplantation,
    },
    AdverseEventRate {
        term: "Nausea",
        modality: Modality::Seeds,
        organs: ANY,
        probability: 0.05,
        grades: [0.80, 0.20, 0.0],
        onset_days: (0, 2),
        duration_days: (1, 3),
        cause: AeCause::SeedImplantation,
    },
    AdverseEventRate {
        term: "Pneumothorax",
        modality: Modality::Seeds,
        organs: LUNG,
        probability: 0.20,
        grades: [0.60, 0.30, 0.10],
        onset_days: (0, 0),
        duration_days: (2, 10),
        cause: AeCause::SeedImplantation,
    },
    AdverseEventRate {
        term: "Fatigue",
        modality: Modality::Seeds,
        organs: ANY,
        probability: 0.10,
        grades: [0.70, 0.30, 0.0],
        onset_days: (3, 14),
        duration_days: (14, 60),
        cause: AeCause::Radiation,
    },
    AdverseEventRate {
        term: "Pneumonitis",
        modality: Modality::Seeds,
        organs: LUNG,
        probability: 0.05,
        grades: [0.40, 0.40, 0.20],
        onset_days: (30, 120),
        duration_days: (30, 90),
        cause: AeCause::Radiation,
    },
];

/// An adverse event drawn for a procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct AdverseEventDraw {
    /// CTCAE v5.0 term.
    pub term: &'static str,
    /// Grade 1–3.
    pub grade: u8,
    /// Attribution.
    pub cause: AeCause,
    /// The treated lesion.
    pub lesion_id: LesionId,
    /// Onset day.
    pub onset_day: i32,
    /// Resolution day (`None`: ongoing at death, loss or cutoff).
    pub resolution_day: Option<i32>,
    /// Grade ≥ 3: requires hospitalisation.
    pub serious: bool,
}

/// The unobserved truth behind a course (for tests and summaries; times may lie after the
/// cutoff).
#[derive(Clone, Debug, PartialEq)]
pub struct CourseTruth {
    /// Day of death.
    pub death_day: f64,
    /// Day of loss to follow-up.
    pub loss_day: f64,
    /// Day of systemic progression.
    pub systemic_day: f64,
    /// The patient's frailty.
    pub frailty: f64,
    /// Per treated lesion: whether the delivered treatment met its goal, and the day of LTP
    /// (from randomization).
    pub lesions: Vec<(LesionId, bool, f64)>,
}

/// A simulated course, as far as the data cutoff.
#[derive(Clone, Debug, PartialEq)]
pub struct Course {
    /// Procedures, by day then lesion.
    pub procedures: Vec<ProcedureEvent>,
    /// Completion of protocol therapy (last procedure), if any was done.
    pub therapy_completed_day: Option<i32>,
    /// Imaging time points, baseline first.
    pub scans: Vec<Scan>,
    /// Survival contacts after imaging ended.
    pub contacts: Vec<i32>,
    /// Death, if observed by the cutoff.
    pub death_day: Option<i32>,
    /// Loss to follow-up, if observed by the cutoff.
    pub lost_day: Option<i32>,
    /// Last day known alive.
    pub last_contact_day: i32,
    /// Reader (0 or 1) whose assessment the adjudicator accepts if the reads are discordant.
    pub adjudicator_accepts: usize,
    /// Adverse events, by onset.
    pub adverse_events: Vec<AdverseEventDraw>,
    /// The truth.
    pub truth: CourseTruth,
}

/// True state of one treated or untreated lesion, for the size model.
struct LesionModel {
    treated_day: Option<i32>,
    ltp_day: f64,
    shrinkage: f64,
    growth_per_day: f64,
    whole_cryo: bool,
}

impl LesionModel {
    fn diameter(&self, lesion: &CourseLesion, config: &CourseConfig, day: i32) -> f64 {
        let Some(t0) = self.treated_day else { return lesion.baseline_mm };
        let controlled = |d: f64| {
            let t = (d - f64::from(t0)).max(0.0);
            lesion.baseline_mm * (1.0 - self.shrinkage * (1.0 - (-t / config.shrinkage_days).exp()))
        };
        let d = f64::from(day);
        if d > self.ltp_day {
            controlled(self.ltp_day) + self.growth_per_day * (d - self.ltp_day)
        } else {
            controlled(d)
        }
    }

    fn ablation_zone(&self, lesion: &CourseLesion, config: &CourseConfig, day: i32) -> Option<f64> {
        let t0 = self.treated_day?;
        if !self.whole_cryo || day <= t0 {
            return None;
        }
        let (involution, tau) = config.ablation_involution;
        let zone = |d: f64| {
            let t = (d - f64::from(t0)).max(0.0);
            (lesion.baseline_mm + 2.0 * config.ablation_margin_mm) * (1.0 - involution * (1.0 - (-t / tau).exp()))
        };
        let d = f64::from(day);
        Some(if d > self.ltp_day { zone(self.ltp_day) + self.growth_per_day * (d - self.ltp_day) } else { zone(d) })
    }
}

fn day_in(rng: &mut Stream, (lo, hi): (i32, i32)) -> i32 {
    if hi <= lo { lo } else { lo + rng.below((hi - lo) as u64 + 1) as i32 }
}

fn measure(rng: &mut Stream, config: &CourseConfig, truth: f64) -> f64 {
    let (relative, absolute) = config.reader_sd;
    (truth * (1.0 + relative * rng.normal()) + absolute * rng.normal()).max(0.0).round()
}

/// Simulates the course of `patient` (module docs).
pub fn simulate_course(patient: &CoursePatient, config: &CourseConfig, seed: u64) -> Course {
    let key = |part: &str| format!("course/{}/{part}", patient.patient_id);
    let stream = |part: &str| Stream::new(seed, &key(part));

    let death_true = stream("death").exponential(config.death_hazard_per_day(patient.ecog));
    let loss_true = stream("loss").exponential(-(1.0 - config.loss_per_year).ln() / 365.25);
    let systemic_true =
        stream("systemic").exponential(std::f64::consts::LN_2 / (config.median_systemic_months * DAYS_PER_MONTH));
    let theta = config.frailty_variance;
    let frailty = if theta <= 1e-12 { 1.0 } else { stream("frailty").gamma(1.0 / theta, theta) };
    let cutoff = f64::from(patient.cutoff_day);
    // The patient leaves observation at the first of death, loss and cutoff.
    let end = death_true.min(loss_true).min(cutoff);
    let alive_on = |day: i32| f64::from(day) < death_true.min(loss_true);

    // Procedures: the bulky index lesion first, then the others in lesion order, in sessions.
    let mut order: Vec<usize> =
        (0..patient.lesions.len()).filter(|&i| patient.lesions[i].treatment.is_some()).collect();
    order.sort_by_key(|&i| (!patient.lesions[i].is_bulky_index, i));
    let mut rng = stream("procedures");
    let first = day_in(&mut rng, config.first_procedure_days);
    let mut procedures = Vec::new();
    let mut treated_day: Vec<Option<i32>> = vec![None; patient.lesions.len()];
    let mut goal_met: Vec<bool> = vec![true; patient.lesions.len()];
    for (session, chunk) in order.chunks(config.lesions_per_session.max(1)).enumerate() {
        let day = first + session as i32 * config.session_gap_days;
        if !alive_on(day) || f64::from(day) > cutoff {
            break;
        }
        for &i in chunk {
            let lesion = &patient.lesions[i];
            let plan = lesion.treatment.as_ref().expect("only treated lesions are ordered");
            let mut qa = stream(&format!("qa/{}", lesion.lesion_id));
            treated_day[i] = Some(day);
            for &modality in &plan.modalities {
                let event = match modality {
                    Modality::Seeds => {
                        let (mean, sd) = config.d90_ratio;
                        let ratio = qa.normal_in(mean, sd, 0.5, 1.3);
                        let d90 = plan.planned_seed_d90_gy.map(|d| (d * ratio * 10.0).round() / 10.0);
                        if let (Some(d90), Some(rx)) = (d90, plan.prescription_gy) {
                            goal_met[i] &= d90 >= rx;
                        }
                        ProcedureEvent {
                            lesion_id: lesion.lesion_id.clone(),
                            modality,
                            day,
                            qa_day: day + 1,
                            seed_d90_gy: d90,
                            prescription_gy: plan.prescription_gy,
                            lethal_covered: None,
                        }
                    }
                    Modality::Cryo => {
                        let p = if plan.planned_coverage_met.unwrap_or(true) {
                            config.ice_confirmed.0
                        } else {
                            config.ice_confirmed.1
                        };
                        let covered = qa.chance(p);
                        goal_met[i] &= covered;
                        ProcedureEvent {
                            lesion_id: lesion.lesion_id.clone(),
                            modality,
                            day,
                            qa_day: day,
                            seed_d90_gy: None,
                            prescription_gy: None,
                            lethal_covered: Some(covered),
                        }
                    }
                };
                procedures.push(event);
            }
        }
    }
    let therapy_completed_day = procedures.iter().map(|p| p.day).max();

    // Local progression and the size model of every lesion.
    let base_hazard = config.ltp_hazard_per_day(patient.arm);
    let mut models = Vec::with_capacity(patient.lesions.len());
    let mut truth_lesions = Vec::new();
    for (i, lesion) in patient.lesions.iter().enumerate() {
        let mut size = stream(&format!("size/{}", lesion.lesion_id));
        let whole_cryo =
            lesion.treatment.as_ref().is_some_and(|t| t.modalities == [Modality::Cryo]) && !lesion.is_bulky_index;
        let range = if whole_cryo { config.cryo_shrinkage } else { config.seed_shrinkage };
        let shrinkage = size.uniform(range.0, range.1);
        let growth_per_day = size.uniform(config.growth_mm_per_month.0, config.growth_mm_per_month.1) / DAYS_PER_MONTH;
        let ltp_day = match treated_day[i] {
            Some(t0) => {
                let hr = if goal_met[i] { 1.0 } else { config.missed_goal_hazard_ratio };
                let t = stream(&format!("ltp/{}", lesion.lesion_id)).exponential(base_hazard * frailty * hr);
                truth_lesions.push((lesion.lesion_id.clone(), goal_met[i], f64::from(t0) + t));
                f64::from(t0) + t
            }
            None => f64::INFINITY,
        };
        models.push(LesionModel { treated_day: treated_day[i], ltp_day, shrinkage, growth_per_day, whole_cryo });
    }

    // Imaging: baseline, then the schedule after completion, while the patient is followed.
    let mut timing = stream("scans");
    let mut scan_days: Vec<(String, i32)> =
        vec![("baseline".into(), -day_in(&mut timing, config.baseline_days_before))];
    if let Some(done) = therapy_completed_day {
        for &(label, nominal) in &config.scans {
            let jitter = day_in(&mut timing, (-config.scan_jitter_days, config.scan_jitter_days));
            let day = (done + nominal + jitter).max(done + 1);
            if f64::from(day) < end {
                scan_days.push((label.to_owned(), day));
            }
        }
    }
    let non_targets_progress =
        patient.lesions.iter().any(|l| !l.is_target) && stream("non-targets").chance(config.non_target_progression);
    let mut new_lesion_rng = stream("new-lesions");
    let new_organ = [Organ::Liver, Organ::Lung, Organ::Bone, Organ::LymphNode][new_lesion_rng.below(4) as usize];
    let mut readers = [stream("reader-1"), stream("reader-2")];
    let mut scans = Vec::new();
    // Accuracy of each reader against the truth: LTP calls that agree, total measurement error.
    let mut agreement = [0usize; 2];
    let mut error = [0.0f64; 2];
    for (label, day) in &scan_days {
        let post = |i: usize| models[i].treated_day.is_some_and(|t| *day > t);
        let systemic = f64::from(*day) > systemic_true;
        let reads: Vec<Read> = (0..2)
            .map(|r| {
                let rng = &mut readers[r];
                let lesions = patient
                    .lesions
                    .iter()
                    .enumerate()
                    .map(|(i, lesion)| {
                        let model = &models[i];
                        if !lesion.is_target {
                            let status = if systemic && non_targets_progress {
                                ReadStatus::UnequivocalProgression
                            } else {
                                ReadStatus::Present
                            };
                            return LesionRead {
                                lesion_id: lesion.lesion_id.clone(),
                                status,
                                ablation_zone_mm: None,
                                volume_ml: None,
                                margin_enhancement: false,
                            };
                        }
                        let true_d = model.diameter(lesion, config, *day);
                        let measured = measure(rng, config, true_d);
                        error[r] += (measured - true_d).abs();
                        let status = if measured < config.too_small_mm && lesion.organ != Organ::LymphNode {
                            ReadStatus::TooSmall
                        } else {
                            ReadStatus::Measured(measured)
                        };
                        let ablation_zone_mm =
                            model.ablation_zone(lesion, config, *day).map(|z| measure(rng, config, z).max(1.0));
                        let volume_ml = lesion.is_bulky_index.then(|| {
                            let ratio = measured.max(1.0) / lesion.baseline_mm.max(1.0);
                            (lesion.baseline_volume_ml * ratio.powi(3) * 10.0).round() / 10.0
                        });
                        let mut margin_enhancement = false;
                        if post(i) {
                            let progressed = f64::from(*day) > model.ltp_day;
                            let (sensitivity, false_positive) = config.flag_rates;
                            margin_enhancement = rng.chance(if progressed { sensitivity } else { false_positive });
                            if margin_enhancement == progressed {
                                agreement[r] += 1;
                            }
                        }
                        LesionRead {
                            lesion_id: lesion.lesion_id.clone(),
                            status,
                            ablation_zone_mm,
                            volume_ml,
                            margin_enhancement,
                        }
                    })
                    .collect();
                let new_lesions = if systemic && rng.chance(config.new_lesion_detection) {
                    vec![NewLesionRead { new_lesion_id: "NL1".into(), organ: new_organ }]
                } else {
                    Vec::new()
                };
                Read { lesions, new_lesions }
            })
            .collect();
        let [first_read, second_read]: [Read; 2] = reads.try_into().expect("two readers");
        scans.push(Scan { label: label.clone(), day: *day, reads: [first_read, second_read] });
    }
    let better = if agreement[0] != agreement[1] {
        usize::from(agreement[1] > agreement[0])
    } else {
        usize::from(error[1] < error[0])
    };
    let adjudicator_accepts =
        if stream("adjudicator").chance(config.adjudicator_accuracy) { better } else { 1 - better };

    // Survival contacts after the last scan, every interval, up to the survival follow-up.
    let last_scan = scans.last().map_or(0, |s| s.day).max(therapy_completed_day.unwrap_or(0));
    let horizon = end.min(f64::from(config.survival_follow_up_days));
    let mut contacts = Vec::new();
    let mut day = last_scan + config.contact_interval_days;
    while f64::from(day) < horizon {
        contacts.push(day);
        day += config.contact_interval_days;
    }
    let observed = |t: f64| (t <= cutoff && t <= f64::from(config.survival_follow_up_days)).then(|| t.floor() as i32);
    let death_day = if death_true <= loss_true { observed(death_true) } else { None };
    let lost_day = if loss_true < death_true { observed(loss_true) } else { None };
    let last_contact_day = contacts
        .last()
        .copied()
        .unwrap_or(last_scan)
        .max(death_day.unwrap_or(0))
        .max(procedures.iter().map(|p| p.qa_day).max().unwrap_or(0));

    // Adverse events of every procedure.
    let mut adverse_events = Vec::new();
    for p in &procedures {
        let lesion = patient.lesions.iter().find(|l| l.lesion_id == p.lesion_id).expect("procedures name lesions");
        let modality = match p.modality {
            Modality::Seeds => "seeds",
            Modality::Cryo => "cryo",
        };
        let mut rng = stream(&format!("ae/{}/{modality}", p.lesion_id));
        for rate in ADVERSE_EVENT_RATES.iter().filter(|r| r.modality == p.modality) {
            // Every row draws the same numbers whether or not it applies, so that adding an
            // organ to a row does not shift the others.
            let happens = rng.chance(rate.probability);
            let grade = rng.weighted(&rate.grades) as u8 + 1;
            let onset = p.day + day_in(&mut rng, rate.onset_days);
            let duration = day_in(&mut rng, rate.duration_days);
            let applies = rate.organs.is_empty() || rate.organs.contains(&lesion.organ);
            if !(happens && applies) || f64::from(onset) >= end {
                continue;
            }
            let resolution = onset + duration;
            adverse_events.push(AdverseEventDraw {
                term: rate.term,
                grade,
                cause: rate.cause,
                lesion_id: p.lesion_id.clone(),
                onset_day: onset,
                resolution_day: (f64::from(resolution) < end).then_some(resolution),
                serious: grade >= 3,
            });
        }
    }
    adverse_events
        .sort_by(|a, b| a.onset_day.cmp(&b.onset_day).then(a.lesion_id.cmp(&b.lesion_id)).then(a.term.cmp(b.term)));

    Course {
        procedures,
        therapy_completed_day,
        scans,
        contacts,
        death_day,
        lost_day,
        last_contact_day,
        adjudicator_accepts,
        adverse_events,
        truth: CourseTruth {
            death_day: death_true,
            loss_day: loss_true,
            systemic_day: systemic_true,
            frailty,
            lesions: truth_lesions,
        },
    }
}

/// When a synthetic trial's candidates are screened and, if eligible, randomized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accrual {
    /// Screening day, from the start of accrual.
    pub screening_day: i32,
    /// Days from screening to randomization (an eligible patient).
    pub randomization_delay_days: i32,
}

/// Screening days of `patients` candidates over `period_days` (a Poisson process conditioned on
/// the count: sorted uniform days, in candidate order) and each one's delay to randomization,
/// 3–10 days (uniform; an assumption). Stream `accrual` under `seed`.
pub fn accrual(patients: usize, period_days: i32, seed: u64) -> Vec<Accrual> {
    let mut rng = Stream::new(seed, "accrual");
    let mut days: Vec<i32> =
        (0..patients).map(|_| rng.below(u64::try_from(period_days.max(1)).unwrap_or(1)) as i32).collect();
    days.sort_unstable();
    days.into_iter()
        .map(|screening_day| Accrual { screening_day, randomization_delay_days: day_in(&mut rng, (3, 10)) })
        .collect()
}
