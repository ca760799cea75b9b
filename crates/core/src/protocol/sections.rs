//! The sections of the protocol, one type per table of `protocol.toml`, in the order of
//! PROTOCOL.md.
//!
//! Field names carry their unit (`core_depth_mm`, `prescription_gy`) so that the TOML file reads
//! on its own; the Rust type carries it too ([`Mm`], [`Gy`], …), and both are plain numbers in the
//! file. Quantities that have no newtype (laboratory values, thermal properties, probabilities)
//! are `f64` whose name spells the unit (`min_platelets_e9_per_l`, `conductivity_frozen_w_per_m_k`).
//!
//! Ranges and cross-field consistency are checked by `Protocol::from_toml_str`, not by these types:
//! a value of these types built by hand is not known to be valid.

use crate::domain::{CriticalOar, Ecog, LesionSite, Organ};
use crate::units::{Celsius, Days, Gy, Minutes, Ml, Mm, Months, Percent, U};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `[protocol]`: what this document is. Recorded (with the hash) in every result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolInfo {
    /// Short name of the protocol (e.g. `cryoseed-phase2`).
    pub name: String,
    /// Version `MAJOR.MINOR.PATCH` (e.g. `1.0.0`); bumped with every amendment.
    pub version: String,
    /// One-line human description.
    pub description: String,
}

// ---------------------------------------------------------------------------------------------
// Eligibility
// ---------------------------------------------------------------------------------------------

/// `[eligibility]`: inclusion thresholds (PROTOCOL.md, "Eligibility").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EligibilityCriteria {
    /// Minimum age at screening, completed years (inclusive).
    pub min_age_years: u32,
    /// Eligible ECOG performance status, inclusive range.
    pub ecog: EcogRange,
    /// Minimum number of metastatic lesions on imaging (targets and non-targets), inclusive.
    pub min_metastatic_lesions: u32,
    /// Minimum number of target lesions that are measurable by RECIST 1.1, inclusive.
    pub min_measurable_targets: u32,
    /// Minimum number of prespecified target lesions for protocol local therapy, inclusive.
    pub min_targets: u32,
    /// Maximum number of prespecified target lesions for protocol local therapy, inclusive.
    pub max_targets: u32,
    /// What makes a lesion bulky (at least one bulky lesion is required).
    pub bulky: BulkyDefinition,
    /// Adequate organ function: laboratory thresholds.
    pub labs: LabThresholds,
    /// RECIST 1.1 measurability rules used at screening.
    pub measurability: RecistMeasurability,
}

/// An inclusive range of ECOG scores, written `{ min = 0, max = 1 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcogRange {
    /// Lowest score in the range (inclusive).
    pub min: Ecog,
    /// Highest score in the range (inclusive).
    pub max: Ecog,
}

impl EcogRange {
    /// Whether `ecog` lies in the range (bounds included).
    pub fn contains(self, ecog: Ecog) -> bool {
        self.min <= ecog && ecog <= self.max
    }
}

/// `[eligibility.bulky]`: a lesion is bulky when **either** threshold is reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkyDefinition {
    /// Longest diameter at or above which a lesion is bulky, mm.
    pub min_longest_diameter_mm: Mm,
    /// Volume at or above which a lesion is bulky, mL.
    pub min_volume_ml: Ml,
}

/// Which bulky criterion a lesion meets (the rule that decided it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkyCriterion {
    /// Longest diameter ≥ `eligibility.bulky.min_longest_diameter_mm`.
    LongestDiameter,
    /// Volume ≥ `eligibility.bulky.min_volume_ml` (and the diameter criterion not met or unknown).
    Volume,
}

impl BulkyDefinition {
    /// The criterion that makes a lesion bulky, if any. The longest diameter is checked first
    /// (it is the RECIST measurement, always available at screening); `None` means neither
    /// criterion is met by the known measurements.
    pub fn criterion_met(&self, longest_diameter: Option<Mm>, volume: Option<Ml>) -> Option<BulkyCriterion> {
        if longest_diameter.is_some_and(|d| d >= self.min_longest_diameter_mm) {
            Some(BulkyCriterion::LongestDiameter)
        } else if volume.is_some_and(|v| v >= self.min_volume_ml) {
            Some(BulkyCriterion::Volume)
        } else {
            None
        }
    }
}

/// `[eligibility.labs]`: adequate organ function. Field names match
/// [`Labs`](crate::patient::Labs); `min_*` are lower limits and `max_*` upper limits, both
/// inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabThresholds {
    /// Platelets, lower limit, 10⁹/L.
    pub min_platelets_e9_per_l: f64,
    /// International normalized ratio, upper limit (dimensionless).
    pub max_inr: f64,
    /// Absolute neutrophil count, lower limit, 10⁹/L.
    pub min_anc_e9_per_l: f64,
    /// Haemoglobin, lower limit, g/L.
    pub min_haemoglobin_g_per_l: f64,
    /// Total bilirubin, upper limit, multiple of the upper limit of normal.
    pub max_bilirubin_x_uln: f64,
    /// AST, upper limit, multiple of the upper limit of normal.
    pub max_ast_x_uln: f64,
    /// ALT, upper limit, multiple of the upper limit of normal.
    pub max_alt_x_uln: f64,
    /// Creatinine clearance, lower limit, mL/min.
    pub min_creatinine_clearance_ml_per_min: f64,
}

/// `[eligibility.measurability]`: RECIST 1.1 measurability at baseline (Eisenhauer 2009, §3.1
/// measurability and §4.2 target selection).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecistMeasurability {
    /// Minimum longest diameter of a measurable non-nodal lesion (CT), mm.
    pub min_non_nodal_longest_diameter_mm: Mm,
    /// Minimum short axis of a measurable (pathological) lymph node, mm.
    pub min_nodal_short_axis_mm: Mm,
    /// Maximum number of RECIST target lesions in total.
    pub max_targets: u32,
    /// Maximum number of RECIST target lesions per organ.
    pub max_targets_per_organ: u32,
}

// ---------------------------------------------------------------------------------------------
// Randomization
// ---------------------------------------------------------------------------------------------

/// `[randomization]`: the concealed randomization (PROTOCOL.md, "Randomization").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomizationDesign {
    /// Method used to generate the allocation sequence.
    pub method: RandomizationMethod,
    /// Allocation ratio experimental : control.
    pub ratio: ArmRatio,
    /// Block sizes chosen at random for permuted blocks (patients per block); each a multiple of
    /// the ratio's sum. Never shown to site roles.
    pub block_sizes: Vec<u32>,
    /// Whether the centre is a stratification factor (and a minimization factor).
    pub stratify_by_centre: bool,
    /// ECOG groups used as strata (and as a minimization factor): every eligible ECOG score falls
    /// in exactly one group, in this order.
    pub ecog_strata: Vec<EcogRange>,
    /// Pocock–Simon minimization: probability of assigning the arm that minimizes imbalance
    /// (biased coin), in [0.5, 1].
    pub minimization_biased_coin_p: f64,
}

impl RandomizationDesign {
    /// Index (into `ecog_strata`) of the stratum of an ECOG score, if it is in one.
    pub fn ecog_stratum(&self, ecog: Ecog) -> Option<usize> {
        self.ecog_strata.iter().position(|range| range.contains(ecog))
    }
}

/// How the allocation sequence is generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RandomizationMethod {
    /// Stratified permuted blocks with randomly chosen block sizes.
    PermutedBlocks,
    /// Pocock–Simon minimization with a biased coin (Pocock & Simon 1975).
    Minimization,
}

/// Allocation ratio between the arms, as integer weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArmRatio {
    /// Weight of the experimental arm.
    pub experimental: u32,
    /// Weight of the control arm.
    pub control: u32,
}

impl ArmRatio {
    /// Patients per smallest balanced block (`experimental + control`).
    pub fn sum(self) -> u32 {
        self.experimental.saturating_add(self.control)
    }
}

// ---------------------------------------------------------------------------------------------
// Lesion allocation
// ---------------------------------------------------------------------------------------------

/// `[allocation]`: seeds-or-cryo rules for non-bulky targets in the experimental arm
/// (PROTOCOL.md, "Lesion allocation"). A lesion gets cryo when every rule holds, seeds otherwise.
///
/// The planned ice ball is GTV + `cryo.ablative_margin_mm` (lethal margin) + `non_lethal_rim_mm`;
/// the lethal margin lives in `[cryo]` only, so that allocation and the cryo planner cannot
/// disagree about it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationRules {
    /// Largest longest diameter of a lesion eligible for cryo (inclusive), mm.
    pub cryo_max_longest_diameter_mm: Mm,
    /// Non-lethal frozen rim outside the lethal isotherm of the planned ice ball, mm.
    pub non_lethal_rim_mm: Mm,
    /// Minimum gap between the planned ice ball and every critical OAR, mm.
    pub min_ice_to_oar_mm: Mm,
    /// Minimum distance from the GTV surface to every critical OAR for cryo, mm. Stored (not
    /// derived) so that the rule is readable; validated to be ≥ `cryo.ablative_margin_mm` +
    /// `non_lethal_rim_mm` + `min_ice_to_oar_mm`.
    pub min_gtv_to_oar_mm: Mm,
    /// Vessel diameter at or above which a vessel is a heat sink, mm.
    pub heat_sink_min_vessel_diameter_mm: Mm,
    /// A heat-sink vessel within this distance of the GTV surface excludes cryo, mm.
    pub heat_sink_max_distance_mm: Mm,
    /// Radius around the GTV in which the largest vessel is reported as a lesion feature, mm.
    pub vessel_search_radius_mm: Mm,
    /// Whether cryo requires a straight percutaneous probe path.
    pub require_probe_path: bool,
    /// Whether an investigator override of the allocation is counted as a protocol deviation
    /// (it is always audited and needs a typed reason).
    pub override_is_deviation: bool,
}

// ---------------------------------------------------------------------------------------------
// Zoning
// ---------------------------------------------------------------------------------------------

/// `[zoning]`: sub-volumes of the bulky index lesion (PROTOCOL.md, "Tumour zoning").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoningRules {
    /// Core: GTV voxels at least this far inside the GTV surface, mm.
    pub core_depth_mm: Mm,
    /// Core: GTV voxels at least this far from every critical OAR, mm.
    pub core_min_oar_distance_mm: Mm,
    /// Margin (PTV_margin, the seed target): isotropic GTV expansion before clipping to the body,
    /// removing OARs and subtracting the core, mm.
    pub margin_expansion_mm: Mm,
    /// High-risk: GTV voxels within this distance of a critical OAR or of a large vessel, mm.
    pub high_risk_distance_mm: Mm,
    /// High-risk: vessel diameter at or above which a vessel makes nearby GTV high-risk, mm.
    pub high_risk_min_vessel_diameter_mm: Mm,
    /// Which lethal isotherm of `[cryo]` must cover the core.
    pub core_lethal_isotherm: IsothermChoice,
    /// Isotherm that defines the visible ice edge, °C.
    pub ice_edge_isotherm_c: Celsius,
    /// The ice edge must stay inside the GTV expanded by this distance, mm.
    pub ice_edge_max_beyond_gtv_mm: Mm,
    /// The ice edge must stay at least this far from every critical OAR, mm.
    pub ice_edge_min_oar_distance_mm: Mm,
}

/// Choice between the two lethal isotherms of `[cryo]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsothermChoice {
    /// `cryo.lethal_isotherm_c` (−20 °C by default).
    Standard,
    /// `cryo.conservative_lethal_isotherm_c` (−40 °C by default).
    Conservative,
}

// ---------------------------------------------------------------------------------------------
// Cryoablation
// ---------------------------------------------------------------------------------------------

/// `[cryo]`: cryoablation technique and thermal model inputs (PROTOCOL.md, "Cryoablation").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryoParameters {
    /// Lethal isotherm: tissue colder than this is assumed killed, °C.
    pub lethal_isotherm_c: Celsius,
    /// Conservative lethal isotherm (option), colder than `lethal_isotherm_c`, °C.
    pub conservative_lethal_isotherm_c: Celsius,
    /// Ablative margin: the lethal isotherm must extend this far beyond the tumour for
    /// whole-lesion cryo (also the lethal margin of the allocation ice ball), mm.
    pub ablative_margin_mm: Mm,
    /// Minimum distance between two probes, mm.
    pub min_probe_spacing_mm: Mm,
    /// Maximum distance between neighbouring probes, mm.
    pub max_probe_spacing_mm: Mm,
    /// Maximum distance of a probe inside the target edge, mm.
    pub max_probe_inset_mm: Mm,
    /// Maximum number of probes per lesion.
    pub max_probes: u32,
    /// Probe surface temperature during a freeze, unless the probe catalogue says otherwise, °C.
    pub probe_surface_temperature_c: Celsius,
    /// Name of the freeze–thaw protocol used unless another one is chosen; must apply to every
    /// site.
    pub default_freeze_thaw: String,
    /// Available freeze–thaw protocols.
    pub freeze_thaw: Vec<FreezeThawProtocol>,
    /// Default tissue properties for the bioheat model.
    pub tissue: TissueProperties,
    /// Per-organ replacements of some tissue properties (e.g. aerated lung conducts less heat).
    pub tissue_overrides: BTreeMap<Organ, TissueOverride>,
}

impl CryoParameters {
    /// The freeze–thaw protocol with this name.
    pub fn freeze_thaw(&self, name: &str) -> Option<&FreezeThawProtocol> {
        self.freeze_thaw.iter().find(|p| p.name == name)
    }

    /// The tissue properties of an organ: the defaults with its overrides applied.
    pub fn tissue_for(&self, organ: Organ) -> TissueProperties {
        match self.tissue_overrides.get(&organ) {
            Some(over) => over.apply(self.tissue),
            None => self.tissue,
        }
    }
}

/// A named freeze–thaw protocol: an ordered list of freeze and thaw phases.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeThawProtocol {
    /// Name used to select the protocol (e.g. `10-8-10`).
    pub name: String,
    /// Lesion sites where this protocol may be used; empty means every site.
    pub sites: Vec<LesionSite>,
    /// Phases in order; the first is a freeze and kinds alternate.
    pub phases: Vec<FreezeThawPhase>,
}

impl FreezeThawProtocol {
    /// Total freezing time, minutes.
    pub fn total_freeze(&self) -> Minutes {
        self.phases.iter().filter(|p| p.kind == PhaseKind::Freeze).map(|p| p.minutes).fold(Minutes(0.0), |a, b| a + b)
    }

    /// Whether this protocol may be used at `site`.
    pub fn applies_to(&self, site: LesionSite) -> bool {
        self.sites.is_empty() || self.sites.contains(&site)
    }
}

/// One phase of a freeze–thaw protocol.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreezeThawPhase {
    /// Freeze or thaw.
    pub kind: PhaseKind,
    /// Duration of the phase, minutes.
    pub minutes: Minutes,
}

/// Kind of a freeze–thaw phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// Probes cooled to `cryo.probe_surface_temperature_c`.
    Freeze,
    /// Passive thaw: probes not cooled (no active heating).
    Thaw,
}

/// `[cryo.tissue]`: thermal properties for the Pennes bioheat model with phase change.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TissueProperties {
    /// Thermal conductivity of unfrozen tissue, W/(m·K).
    pub conductivity_unfrozen_w_per_m_k: f64,
    /// Thermal conductivity of frozen tissue, W/(m·K).
    pub conductivity_frozen_w_per_m_k: f64,
    /// Volumetric heat capacity of unfrozen tissue, MJ/(m³·K).
    pub heat_capacity_unfrozen_mj_per_m3_k: f64,
    /// Volumetric heat capacity of frozen tissue, MJ/(m³·K).
    pub heat_capacity_frozen_mj_per_m3_k: f64,
    /// Volumetric latent heat of fusion, released over the phase-change interval, MJ/m³.
    pub latent_heat_mj_per_m3: f64,
    /// Lower (colder) end of the phase-change interval, °C.
    pub phase_change_lower_c: Celsius,
    /// Upper (warmer) end of the phase-change interval, °C.
    pub phase_change_upper_c: Celsius,
    /// Blood perfusion rate of unfrozen tissue, 1/s (volume of blood per volume of tissue per
    /// second); zero in frozen tissue.
    pub perfusion_per_s: f64,
}

/// `[cryo.tissue_overrides.<organ>]`: tissue properties that differ for one organ; absent fields
/// keep the default of `[cryo.tissue]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TissueOverride {
    /// See [`TissueProperties::conductivity_unfrozen_w_per_m_k`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conductivity_unfrozen_w_per_m_k: Option<f64>,
    /// See [`TissueProperties::conductivity_frozen_w_per_m_k`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conductivity_frozen_w_per_m_k: Option<f64>,
    /// See [`TissueProperties::heat_capacity_unfrozen_mj_per_m3_k`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heat_capacity_unfrozen_mj_per_m3_k: Option<f64>,
    /// See [`TissueProperties::heat_capacity_frozen_mj_per_m3_k`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heat_capacity_frozen_mj_per_m3_k: Option<f64>,
    /// See [`TissueProperties::latent_heat_mj_per_m3`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latent_heat_mj_per_m3: Option<f64>,
    /// See [`TissueProperties::phase_change_lower_c`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_change_lower_c: Option<Celsius>,
    /// See [`TissueProperties::phase_change_upper_c`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_change_upper_c: Option<Celsius>,
    /// See [`TissueProperties::perfusion_per_s`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perfusion_per_s: Option<f64>,
}

impl TissueOverride {
    /// `base` with the fields present in this override replaced.
    pub fn apply(&self, base: TissueProperties) -> TissueProperties {
        TissueProperties {
            conductivity_unfrozen_w_per_m_k: self
                .conductivity_unfrozen_w_per_m_k
                .unwrap_or(base.conductivity_unfrozen_w_per_m_k),
            conductivity_frozen_w_per_m_k: self
                .conductivity_frozen_w_per_m_k
                .unwrap_or(base.conductivity_frozen_w_per_m_k),
            heat_capacity_unfrozen_mj_per_m3_k: self
                .heat_capacity_unfrozen_mj_per_m3_k
                .unwrap_or(base.heat_capacity_unfrozen_mj_per_m3_k),
            heat_capacity_frozen_mj_per_m3_k: self
                .heat_capacity_frozen_mj_per_m3_k
                .unwrap_or(base.heat_capacity_frozen_mj_per_m3_k),
            latent_heat_mj_per_m3: self.latent_heat_mj_per_m3.unwrap_or(base.latent_heat_mj_per_m3),
            phase_change_lower_c: self.phase_change_lower_c.unwrap_or(base.phase_change_lower_c),
            phase_change_upper_c: self.phase_change_upper_c.unwrap_or(base.phase_change_upper_c),
            perfusion_per_s: self.perfusion_per_s.unwrap_or(base.perfusion_per_s),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// I-125 seeds
// ---------------------------------------------------------------------------------------------

/// `[seeds]`: I-125 permanent implant (PROTOCOL.md, "I-125 seeds").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedParameters {
    /// Seed model name as in the TG-43 seed catalogue (e.g. `6711`).
    pub model: String,
    /// Air-kerma strength S_K per seed, U.
    pub air_kerma_strength_u: U,
    /// Half-life of I-125 used for total permanent-implant dose, days.
    pub half_life_days: Days,
    /// Prescription (matched peripheral dose, total dose of a permanent implant) per lesion site.
    pub prescription_gy: SitePrescriptions,
    /// Dose–volume goals on the seed target.
    pub plan_goals: SeedPlanGoals,
    /// Distance between needles of the template grid, mm.
    pub needle_spacing_mm: Mm,
    /// Distance between consecutive seeds along a needle, mm.
    pub seed_spacing_mm: Mm,
    /// No seed closer than this to a critical OAR, mm.
    pub min_seed_to_oar_mm: Mm,
    /// No seed closer than this to the skin, mm.
    pub min_seed_to_skin_mm: Mm,
    /// Total-dose limits for organs at risk, at most one per OAR class.
    pub oar_limits: Vec<OarDoseLimit>,
}

impl SeedParameters {
    /// The dose limit of an OAR class, if the protocol sets one.
    pub fn oar_limit(&self, oar: CriticalOar) -> Option<&OarDoseLimit> {
        self.oar_limits.iter().find(|limit| limit.oar == oar)
    }
}

/// `[seeds.prescription_gy]`: prescription dose per [`LesionSite`], Gy. One field per site (keys
/// are the sites' names), so a missing site is an error when the file is read.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SitePrescriptions {
    /// Lung, Gy.
    pub lung: Gy,
    /// Liver, Gy.
    pub liver: Gy,
    /// Soft tissue and pelvis, Gy.
    pub soft_tissue: Gy,
    /// Bone and spine, Gy.
    pub bone: Gy,
}

impl SitePrescriptions {
    /// The prescription for `site`.
    pub fn get(&self, site: LesionSite) -> Gy {
        match site {
            LesionSite::Lung => self.lung,
            LesionSite::Liver => self.liver,
            LesionSite::SoftTissue => self.soft_tissue,
            LesionSite::Bone => self.bone,
        }
    }
}

/// `[seeds.plan_goals]`: dose–volume goals on the seed target (PTV_margin or whole GTV).
/// Percentages of the prescription dose (D90) or of the target volume (Vx).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPlanGoals {
    /// D90 (minimum dose to the hottest 90 % of the target) at least this, % of prescription.
    pub min_d90_percent_rx: Percent,
    /// V100 (target volume receiving ≥ 100 % of prescription) at least this, % of target volume.
    pub min_v100_percent: Percent,
    /// V150 at most this, % of target volume.
    pub max_v150_percent: Percent,
    /// V200 at most this, % of target volume.
    pub max_v200_percent: Percent,
}

/// A total-dose limit for an organ at risk: `D{volume_cc}cc ≤ max_dose_gy`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OarDoseLimit {
    /// The organ-at-risk class.
    pub oar: CriticalOar,
    /// Volume of the near-maximum dose metric (D0.1cc → 0.1), cm³ (= mL).
    pub volume_cc: Ml,
    /// Maximum allowed minimum dose to the hottest `volume_cc` of the OAR, Gy.
    pub max_dose_gy: Gy,
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

/// `[response]`: response and local-progression rules (PROTOCOL.md, "Response and endpoints").
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseRules {
    /// Whether RECIST CR/PR must be confirmed by a later assessment.
    pub require_confirmation: bool,
    /// Minimum interval between a response and its confirmation, days.
    pub confirmation_min_interval_days: Days,
    /// Minimum time from the start of protocol therapy for a best response of stable disease,
    /// days.
    pub min_stable_disease_days: Days,
    /// Local tumour progression: relative growth of the longest diameter over the post-treatment
    /// nadir, at least this, %.
    pub ltp_min_growth_percent: Percent,
    /// Local tumour progression: absolute growth over the post-treatment nadir, at least this
    /// (both growth criteria must hold), mm.
    pub ltp_min_growth_mm: Mm,
    /// Local control rate: time of the assessment after completion of protocol therapy, months.
    pub lcr_assessment_months: Months,
    /// Local control rate: half-width of the assessment window (± this), days.
    pub lcr_window_days: Days,
    /// Tumour burden: an assessment counts for a protocol time point (`endpoints.tumour_burden_months`)
    /// when it lies within ± this many days of it.
    pub tumour_burden_window_days: Days,
    /// The RECIST 1.1 response thresholds.
    pub recist: RecistThresholds,
    /// When two blinded readers go to adjudication.
    pub adjudication: AdjudicationTriggers,
    /// Imaging assessment schedule.
    pub schedule: AssessmentSchedule,
}

/// `[response.recist]`: the response thresholds of RECIST 1.1 (Eisenhauer et al., Eur J Cancer
/// 2009;45:228–247). They are the published standard, not trial choices, but live in the protocol
/// so that every verdict can name the numbers it applied and a protocol could adopt a variant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecistThresholds {
    /// Partial response: the target sum is at least this far below the baseline sum, % (§4.3.1).
    pub partial_response_min_decrease_percent: Percent,
    /// Progression: the target sum is at least this far above the nadir, % (§4.3.1) ...
    pub progression_min_increase_percent: Percent,
    /// ... and at least this much larger in absolute terms, mm (§4.3.1).
    pub progression_min_increase_mm: Mm,
    /// A lymph node whose short axis is below this is normal (target CR, non-target CR), mm
    /// (§3.1, §4.3.1).
    pub node_normal_short_axis_mm: Mm,
    /// The value recorded for a lesion that is present but too small to measure, mm (§4.3.2).
    pub too_small_to_measure_mm: Mm,
}

/// `[response.adjudication]`: reader discordance that sends a time point to the adjudicator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjudicationTriggers {
    /// Adjudicate when the readers disagree on local tumour progression of any treated lesion.
    pub on_ltp_disagreement: bool,
    /// Adjudicate when the readers disagree on the RECIST time-point response.
    pub on_response_disagreement: bool,
    /// Adjudicate when the readers' target sums differ by more than this, % of their mean.
    pub max_target_sum_difference_percent: Percent,
}

/// `[response.schedule]`: imaging assessment times.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessmentSchedule {
    /// First follow-up assessment, earliest, days after the procedure.
    pub first_follow_up_min_days: Days,
    /// First follow-up assessment, latest, days after the procedure.
    pub first_follow_up_max_days: Days,
    /// Later assessments, shortest interval between two, days.
    pub follow_up_interval_min_days: Days,
    /// Later assessments, longest interval between two, days.
    pub follow_up_interval_max_days: Days,
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

/// `[endpoints]`: follow-up horizons and windows of the endpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointWindows {
    /// Local progression-free survival of the bulky index lesion: follow-up, months from
    /// randomization.
    pub lpfs_follow_up_months: Months,
    /// Overall survival: follow-up, months from randomization.
    pub os_follow_up_months: Months,
    /// Objective response rate (CR + PR): best response within this time, months.
    pub orr_window_months: Months,
    /// Tumour burden (% change in SLD and bulky-lesion volume): assessment times, months,
    /// increasing.
    pub tumour_burden_months: Vec<Months>,
    /// Technical success: plan achieved within this time of the procedure, days.
    pub technical_success_window_days: Days,
    /// Re-intervention: counted within this time, months.
    pub reintervention_window_months: Months,
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

/// `[analysis]`: statistical analysis settings (PROTOCOL.md, "Analysis").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSettings {
    /// One-sided significance level per primary endpoint, in (0, 1).
    pub alpha_one_sided: f64,
    /// Multiplicity adjustment across the primary endpoints.
    pub multiplicity: Multiplicity,
    /// Confidence level of reported intervals, in (0, 1).
    pub ci_level: f64,
    /// Landmark times for survival rates, months, increasing.
    pub landmark_months: Vec<Months>,
    /// Kaplan–Meier confidence interval transform.
    pub km_ci_transform: KmCiTransform,
    /// Cox model tie handling.
    pub cox_ties: CoxTies,
    /// GEE working correlation for lesions clustered within patients.
    pub gee_working_correlation: GeeCorrelation,
}

/// Multiplicity adjustment across primary endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Multiplicity {
    /// Holm step-down (Holm 1979).
    Holm,
    /// Bonferroni.
    Bonferroni,
    /// No adjustment.
    None,
}

/// Transform used for Kaplan–Meier pointwise confidence intervals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KmCiTransform {
    /// Untransformed (plain) Greenwood interval.
    Plain,
    /// log S(t).
    Log,
    /// log(−log S(t)) (Kalbfleisch & Prentice).
    LogLog,
}

/// Tie handling in the Cox partial likelihood.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoxTies {
    /// Efron (1977) approximation.
    Efron,
    /// Breslow (1974) approximation.
    Breslow,
}

/// GEE working correlation structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeeCorrelation {
    /// Exchangeable: one common within-patient correlation.
    Exchangeable,
    /// Independence working model (robust variance only).
    Independence,
}

// ---------------------------------------------------------------------------------------------
// Power
// ---------------------------------------------------------------------------------------------

/// `[power]`: design assumptions, the defaults of the `power` command.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerAssumptions {
    /// Randomized patients per arm.
    pub patients_per_arm: u32,
    /// Fewest treated target lesions per patient.
    pub min_lesions_per_patient: u32,
    /// Most treated target lesions per patient.
    pub max_lesions_per_patient: u32,
    /// Local control rate at 6 months, control arm, proportion in (0, 1).
    pub lcr_control: f64,
    /// Local control rate at 6 months, experimental arm, proportion in (0, 1).
    pub lcr_experimental: f64,
    /// Intra-patient (intra-cluster) correlation of lesion outcomes, in [0, 1).
    pub intra_patient_correlation: f64,
    /// Median local progression-free survival, control arm, months.
    pub lpfs_control_median_months: Months,
    /// Hazard ratio experimental / control for local progression-free survival.
    pub lpfs_hazard_ratio: f64,
    /// Accrual period, months.
    pub accrual_months: Months,
    /// Minimum follow-up after the last randomization, months.
    pub min_follow_up_months: Months,
}
