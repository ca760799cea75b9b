//! Lesion allocation (PROTOCOL.md, "Lesion allocation"): each target lesion → seeds or
//! cryoablation, with the rule that decided and the values it read.
//!
//! Experimental arm:
//! - the bulky index lesion is **zoned** (cryo core + seeded margin, [`crate::zoning`]);
//! - any other target goes to **cryo** when every cryo criterion holds — longest diameter ≤ 40 mm,
//!   GTV–critical-OAR distance ≥ 15 mm (the GTV + 5 mm lethal margin + ~5 mm non-lethal rim must
//!   stay ≥ 5 mm from the OAR), no vessel ≥ 3 mm within 5 mm (heat sink), a straight probe path
//!   exists — and to **seeds** otherwise, the first failed criterion (in that order) being the
//!   recorded reason and every failed one listed.
//!
//! Control arm: every target gets the centre's single modality (the bulky index lesion included,
//! whole-lesion).
//!
//! An investigator override replaces the decision, keeps the protocol's decision beside it, and
//! is marked as a deviation when the protocol says so (`allocation.override_is_deviation`).
//! Non-target lesions are not allocated.

use crate::PlanError;
use crate::access::Access;
use cryoseed_anatomy::LesionFeatures;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, CriticalOar, LesionId, Mm, Modality};
use serde::{Deserialize, Serialize};

/// What a target lesion receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationDecision {
    /// Whole-lesion seed implantation (target GTV + margin).
    Seeds,
    /// Whole-lesion cryoablation (lethal isotherm covers GTV + ablative margin).
    Cryo,
    /// The bulky index lesion on the experimental arm: cryo core, seeded margin and high-risk zone.
    Zoned,
}

impl AllocationDecision {
    /// The single modality of a non-zoned decision.
    pub fn modality(self) -> Option<Modality> {
        match self {
            AllocationDecision::Seeds => Some(Modality::Seeds),
            AllocationDecision::Cryo => Some(Modality::Cryo),
            AllocationDecision::Zoned => None,
        }
    }
}

impl From<Modality> for AllocationDecision {
    fn from(m: Modality) -> Self {
        match m {
            Modality::Seeds => AllocationDecision::Seeds,
            Modality::Cryo => AllocationDecision::Cryo,
        }
    }
}

/// One allocation rule of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllocationRule {
    /// Experimental arm, bulky index lesion: tumour zoning.
    BulkyIndexZoned,
    /// Control arm: the centre's single modality.
    ControlArmModality,
    /// Cryo criterion: longest diameter ≤ limit.
    LongestDiameter,
    /// Cryo criterion: GTV–critical-OAR distance ≥ limit.
    OarDistance,
    /// Cryo criterion: no large vessel near the GTV (heat sink).
    HeatSink,
    /// Cryo criterion: a straight probe path exists.
    ProbePath,
    /// Every cryo criterion holds.
    AllCryoCriteriaMet,
    /// An investigator override.
    InvestigatorOverride,
}

/// One criterion as evaluated for one lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriterionCheck {
    /// The criterion.
    pub rule: AllocationRule,
    /// Whether the lesion meets it (as a cryo criterion).
    pub met: bool,
    /// The measured value and the threshold, in words (`distance to Bowel 8.2 mm < 15 mm`).
    pub evidence: String,
}

/// An investigator's override of the protocol's allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The lesion it applies to.
    pub lesion_id: LesionId,
    /// What the investigator chose.
    pub decision: AllocationDecision,
    /// The typed reason (required, non-blank).
    pub reason: String,
}

/// The allocation of one target lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Its GTV structure.
    pub structure: String,
    /// What it receives (after any override).
    pub decision: AllocationDecision,
    /// The rule that decided.
    pub rule: AllocationRule,
    /// The reason in one line (`seeds: distance to Bowel 8.2 mm < 15 mm`).
    pub reason: String,
    /// Every criterion evaluated (empty when the arm or zoning decided).
    pub checks: Vec<CriterionCheck>,
    /// The protocol's decision when an override replaced it.
    pub protocol_decision: Option<AllocationDecision>,
    /// The override's reason, if any.
    pub override_reason: Option<String>,
    /// Whether this allocation is a protocol deviation.
    pub deviation: bool,
}

/// The arm a patient was randomized to, with what the control arm gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "arm", content = "modality", rename_all = "snake_case")]
pub enum ArmPlan {
    /// Lesion allocation plus tumour zoning.
    Experimental,
    /// Every target gets this modality (the centre's declared control modality).
    Control(Modality),
}

impl ArmPlan {
    /// The randomized arm.
    pub fn arm(self) -> Arm {
        match self {
            ArmPlan::Experimental => Arm::Experimental,
            ArmPlan::Control(_) => Arm::Control,
        }
    }
}

/// Allocates every target lesion of `features` (in their order). `access` gives the probe-path
/// search result per lesion (same order as `features`; only read on the experimental arm).
pub fn allocate(
    features: &[LesionFeatures],
    access: &[Access],
    arm: ArmPlan,
    overrides: &[Override],
    protocol: &Protocol,
) -> Result<Vec<Allocation>, PlanError> {
    if access.len() != features.len() {
        return Err(PlanError::Input {
            field: "access",
            message: format!("{} access results for {} lesions", access.len(), features.len()),
        });
    }
    for o in overrides {
        if o.reason.trim().is_empty() {
            return Err(PlanError::Lesion {
                lesion: o.lesion_id.to_string(),
                message: "an allocation override needs a typed reason".into(),
            });
        }
        match features.iter().find(|f| f.lesion_id == o.lesion_id) {
            None => {
                return Err(PlanError::Lesion {
                    lesion: o.lesion_id.to_string(),
                    message: "override names a lesion the case does not have".into(),
                });
            }
            Some(f) if !f.is_target => {
                return Err(PlanError::Lesion {
                    lesion: o.lesion_id.to_string(),
                    message: "override names a non-target lesion; only targets are allocated".into(),
                });
            }
            Some(_) => {}
        }
        if overrides.iter().filter(|p| p.lesion_id == o.lesion_id).count() > 1 {
            return Err(PlanError::Lesion {
                lesion: o.lesion_id.to_string(),
                message: "more than one override for the same lesion".into(),
            });
        }
        if o.decision == AllocationDecision::Zoned && !matches!(arm, ArmPlan::Experimental) {
            return Err(PlanError::Lesion {
                lesion: o.lesion_id.to_string(),
                message:
                    "zoning is the experimental arm's strategy; a control-arm lesion cannot be overridden to zoned"
                        .into(),
            });
        }
    }
    if matches!(arm, ArmPlan::Experimental) {
        let bulky: Vec<_> = features.iter().filter(|f| f.is_target && f.is_bulky_index).collect();
        if bulky.is_empty() {
            return Err(PlanError::Input {
                field: "case",
                message: "the experimental arm zones the bulky index lesion, and this case marks no target lesion as \
                          the bulky index lesion"
                    .into(),
            });
        }
        if bulky.len() > 1 {
            return Err(PlanError::Input {
                field: "case",
                message: format!(
                    "the case marks {} lesions as the bulky index lesion ({}); exactly one is allowed",
                    bulky.len(),
                    bulky.iter().map(|f| f.lesion_id.to_string()).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }

    let mut out = Vec::new();
    for (f, a) in features.iter().zip(access) {
        if !f.is_target {
            continue;
        }
        let mut allocation = protocol_allocation(f, a, arm, protocol);
        if let Some(o) = overrides.iter().find(|o| o.lesion_id == f.lesion_id) {
            if o.decision != allocation.decision {
                allocation.protocol_decision = Some(allocation.decision);
                allocation.deviation = protocol.allocation.override_is_deviation;
                allocation.reason = format!(
                    "{}: investigator override ({}); protocol: {}",
                    decision_word(o.decision),
                    o.reason.trim(),
                    allocation.reason
                );
                allocation.decision = o.decision;
                allocation.rule = AllocationRule::InvestigatorOverride;
            }
            allocation.override_reason = Some(o.reason.trim().to_owned());
        }
        out.push(allocation);
    }
    Ok(out)
}

fn decision_word(d: AllocationDecision) -> &'static str {
    match d {
        AllocationDecision::Seeds => "seeds",
        AllocationDecision::Cryo => "cryo",
        AllocationDecision::Zoned => "zoned",
    }
}

fn protocol_allocation(f: &LesionFeatures, access: &Access, arm: ArmPlan, protocol: &Protocol) -> Allocation {
    let base = |decision, rule, reason: String, checks| Allocation {
        lesion_id: f.lesion_id.clone(),
        structure: f.structure.clone(),
        decision,
        rule,
        reason,
        checks,
        protocol_decision: None,
        override_reason: None,
        deviation: false,
    };
    match arm {
        ArmPlan::Control(modality) => base(
            modality.into(),
            AllocationRule::ControlArmModality,
            format!("{}: control arm, the centre's single modality", decision_word(modality.into())),
            Vec::new(),
        ),
        ArmPlan::Experimental if f.is_bulky_index => base(
            AllocationDecision::Zoned,
            AllocationRule::BulkyIndexZoned,
            "zoned: bulky index lesion (cryo core, seeded margin and high-risk zone)".into(),
            Vec::new(),
        ),
        ArmPlan::Experimental => {
            let checks = cryo_criteria(f, access, protocol);
            match checks.iter().find(|c| !c.met) {
                Some(failed) => {
                    base(AllocationDecision::Seeds, failed.rule, format!("seeds: {}", failed.evidence), checks)
                }
                None => base(
                    AllocationDecision::Cryo,
                    AllocationRule::AllCryoCriteriaMet,
                    "cryo: every cryo criterion holds".into(),
                    checks,
                ),
            }
        }
    }
}

/// The four cryo criteria, in protocol order.
pub fn cryo_criteria(f: &LesionFeatures, access: &Access, protocol: &Protocol) -> Vec<CriterionCheck> {
    let rules = &protocol.allocation;
    let mut checks = Vec::with_capacity(4);

    let d = f.longest_axial_diameter;
    let limit = rules.cryo_max_longest_diameter_mm;
    checks.push(CriterionCheck {
        rule: AllocationRule::LongestDiameter,
        met: d <= limit,
        evidence: format!("longest diameter {:.1} mm {} {:.0} mm", d.0, if d <= limit { "≤" } else { ">" }, limit.0),
    });

    let min_oar = rules.min_gtv_to_oar_mm;
    let nearest = f.oar_distances.iter().min_by(|a, b| a.distance.0.total_cmp(&b.distance.0));
    checks.push(match nearest {
        Some(o) => CriterionCheck {
            rule: AllocationRule::OarDistance,
            met: o.distance >= min_oar,
            evidence: format!(
                "distance to {} ({}) {:.1} mm {} {:.0} mm",
                o.structure,
                oar_word(o.class),
                o.distance.0,
                if o.distance >= min_oar { "≥" } else { "<" },
                min_oar.0
            ),
        },
        None => CriterionCheck {
            rule: AllocationRule::OarDistance,
            met: true,
            evidence: "no critical organ at risk contoured".into(),
        },
    });

    let vessel_reach = rules.heat_sink_max_distance_mm;
    let min_d = rules.heat_sink_min_vessel_diameter_mm;
    let sink = f
        .large_vessels
        .iter()
        .filter(|v| v.diameter >= min_d && v.distance <= vessel_reach)
        .min_by(|a, b| a.distance.0.total_cmp(&b.distance.0));
    checks.push(match sink {
        Some(v) => CriterionCheck {
            rule: AllocationRule::HeatSink,
            met: false,
            evidence: format!(
                "heat sink: {} ({:.1} mm wide ≥ {:.0} mm) {:.1} mm from the GTV ≤ {:.0} mm",
                v.structure, v.diameter.0, min_d.0, v.distance.0, vessel_reach.0
            ),
        },
        None => {
            let within: Option<&cryoseed_anatomy::VesselDistance> =
                f.largest_vessel_within(rules.vessel_search_radius_mm);
            CriterionCheck {
                rule: AllocationRule::HeatSink,
                met: true,
                evidence: match within {
                    Some(v) => format!(
                        "largest vessel within {:.0} mm: {} ({:.1} mm wide) at {:.1} mm > {:.0} mm",
                        rules.vessel_search_radius_mm.0, v.structure, v.diameter.0, v.distance.0, vessel_reach.0
                    ),
                    None => format!("no vessel ≥ {:.0} mm within {:.0} mm", min_d.0, vessel_reach.0),
                },
            }
        }
    });

    if rules.require_probe_path {
        checks.push(match access {
            Access::Path(p) => CriterionCheck {
                rule: AllocationRule::ProbePath,
                met: true,
                evidence: format!(
                    "straight probe path {:.0} mm long, clearance {:.1} mm",
                    p.length.0,
                    clearance(p.clearance)
                ),
            },
            Access::None(n) => CriterionCheck {
                rule: AllocationRule::ProbePath,
                met: false,
                evidence: format!("no probe path: {}", n.reason),
            },
        });
    }
    checks
}

fn clearance(c: Mm) -> f64 {
    if c.0.is_finite() { c.0 } else { 999.0 }
}

fn oar_word(class: CriticalOar) -> &'static str {
    match class {
        CriticalOar::SpinalCord => "spinal cord",
        CriticalOar::Bowel => "bowel",
        CriticalOar::MajorNerve => "major nerve",
        CriticalOar::HeartGreatVessels => "heart/great vessels",
        CriticalOar::CentralAirway => "central airway",
        CriticalOar::Skin => "skin",
    }
}
