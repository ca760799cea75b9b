//! Combined evaluation of a patient's plan against the protocol: zonal coverage, seed-target
//! dose–volume indices, organ-at-risk doses, ice-edge distances, and a verdict per constraint
//! that says by how much a failed constraint is missed.
//!
//! Targets (PROTOCOL.md):
//! - a **seeds** lesion: the seed target is the GTV expanded by `zoning.margin_expansion_mm`
//!   (5 mm), clipped to the body and excluding critical OARs ([`seed_target`]); goals D90 ≥ Rx,
//!   V100 ≥ 90 %, V150 ≤ 60 %, V200 ≤ 30 % (`seeds.plan_goals`);
//! - a **cryo** lesion: the cryo target is the GTV expanded by `cryo.ablative_margin_mm` (5 mm),
//!   clipped the same way ([`cryo_target`]); the lethal isotherm must cover at least
//!   [`EvaluationSettings::min_cryo_coverage_percent`] of it, and the 0 °C ice edge stay at least
//!   `allocation.min_ice_to_oar_mm` (5 mm) from every critical OAR;
//! - the **zoned** bulky lesion: the core is covered (same threshold) by the lethal isotherm where
//!   ice can reach it safely and by the prescription isodose elsewhere (the planner shrinks the
//!   lethal target when no probe plan keeps every safety rule, and the uncovered core joins the
//!   seed target; the lethal share is reported),
//!   the margin meets the seed goals, the 0 °C edge stays inside GTV + `zoning.ice_edge_max_beyond_gtv_mm`
//!   (3 mm) and `zoning.ice_edge_min_oar_distance_mm` (10 mm) from every critical OAR, no lethal
//!   ice is relied on in the high-risk zone ("always seeds, never ice": the zone is part of the
//!   seed target, and its lethal-ice volume must be 0 mL — the non-lethal 0 °C edge is governed
//!   by the OAR-distance and confinement rules); and the whole GTV's share covered by lethal ice
//!   ∪ seed V100 is reported.
//!
//! Organs at risk: each critical OAR with a protocol limit `D{v}cc ≤ X Gy` is checked on the
//! patient's total seed dose (all seeded lesions together).
//!
//! Voxel conventions of `cryoseed-volume`: a voxel counts when its centre is in the structure;
//! dose ≥ threshold counts as receiving it; distances are between voxel centres.

use crate::zoning::{Zones, union_into};
use crate::{AllocationDecision, PlanError};
use cryoseed_anatomy::{Case, Structure};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{CriticalOar, Gy, LesionId, Mm, Percent, StructureRole};
use cryoseed_volume::{Dvh, Field, Mask, dilate, measure};
use serde::{Deserialize, Serialize};

/// Settings of the evaluation that the protocol does not fix.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvaluationSettings {
    /// Share of a cryo target (or of the zoned core) the lethal isotherm must cover, %.
    pub min_cryo_coverage_percent: f64,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        EvaluationSettings { min_cryo_coverage_percent: 95.0 }
    }
}

/// The ice of one cryoablated lesion (or zoned core): the region reaching 0 °C and the region
/// reaching the lethal isotherm.
#[derive(Clone, Debug)]
pub struct LesionIce {
    /// Voxels whose minimum temperature reached 0 °C.
    pub edge: Mask,
    /// Voxels whose minimum temperature reached the lethal isotherm.
    pub lethal: Mask,
}

/// What the evaluation needs for one allocated lesion.
#[derive(Clone, Debug)]
pub struct LesionInput<'a> {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Its GTV.
    pub gtv: &'a Structure,
    /// What it received.
    pub decision: AllocationDecision,
    /// Its zones (zoned lesion only).
    pub zones: Option<&'a Zones>,
    /// The seed target actually planned, when it differs from the default (a zoned lesion's
    /// margin plus any core the lethal ice does not cover); `None`: the default for the decision.
    pub seed_target: Option<&'a Mask>,
    /// Its ice (cryo lesions and the zoned core), if any probe was placed.
    pub ice: Option<&'a LesionIce>,
}

/// Dose–volume indices of a seed target.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedTargetIndices {
    /// Prescription, Gy.
    pub prescription: Gy,
    /// Target volume, mL.
    pub volume_ml: f64,
    /// D90, Gy.
    pub d90: Gy,
    /// V100, % of the target.
    pub v100: Percent,
    /// V150, % of the target.
    pub v150: Percent,
    /// V200, % of the target.
    pub v200: Percent,
}

/// Distance from the 0 °C ice edge to one organ at risk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IceDistance {
    /// OAR structure.
    pub structure: String,
    /// Its class.
    pub class: CriticalOar,
    /// Smallest distance between ice and OAR voxel centres (0 when they overlap), mm.
    pub distance: Mm,
}

/// The evaluation of one lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LesionEvaluation {
    /// The lesion.
    pub lesion_id: LesionId,
    /// What it received.
    pub decision: AllocationDecision,
    /// Seed target indices (seeds lesion: GTV + 5 mm; zoned: the margin).
    pub seed_target: Option<SeedTargetIndices>,
    /// Share of the cryo target (cryo lesion: GTV + 5 mm; zoned: the core) inside the lethal
    /// isotherm, %.
    pub lethal_coverage_percent: Option<f64>,
    /// Share of the zoned core covered by lethal ice or by the prescription isodose, %.
    pub core_covered_percent: Option<f64>,
    /// Share of the GTV covered by lethal ice or by the prescription isodose, %.
    pub gtv_covered_percent: f64,
    /// Ice volume (0 °C) outside GTV + the allowed excess (zoned lesion), mL.
    pub ice_outside_confinement_ml: Option<f64>,
    /// Lethal ice volume inside the high-risk zone (zoned lesion), mL.
    pub ice_in_high_risk_ml: Option<f64>,
    /// 0 °C edge distance to each critical OAR (lesions with ice).
    pub ice_to_oar: Vec<IceDistance>,
}

/// Dose to one organ at risk against its protocol limit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OarDose {
    /// OAR structure.
    pub structure: String,
    /// Its class.
    pub class: CriticalOar,
    /// Volume of the limit's metric, cm³.
    pub volume_cc: f64,
    /// Dose to the hottest `volume_cc` (`None` when the organ is smaller than that), Gy.
    pub dose: Option<Gy>,
    /// Maximum voxel dose, Gy.
    pub dmax: Gy,
    /// The limit, Gy.
    pub limit: Gy,
}

/// One constraint of the protocol, checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What it applies to: a lesion id, an OAR structure, or `patient`.
    pub scope: String,
    /// The constraint in words (`margin D90 ≥ 110 Gy`).
    pub constraint: String,
    /// The achieved value.
    pub value: f64,
    /// The limit.
    pub limit: f64,
    /// Unit of value and limit (`Gy`, `%`, `mm`, `mL`).
    pub unit: String,
    /// Whether the constraint holds.
    pub pass: bool,
    /// How far the value is from the limit when it fails (always ≥ 0), in `unit`.
    pub shortfall: Option<f64>,
}

impl Verdict {
    fn at_least(scope: &str, constraint: String, value: f64, limit: f64, unit: &str) -> Verdict {
        let pass = value >= limit - 1e-9;
        Verdict {
            scope: scope.to_owned(),
            constraint,
            value,
            limit,
            unit: unit.to_owned(),
            pass,
            shortfall: (!pass).then_some(limit - value),
        }
    }

    fn at_most(scope: &str, constraint: String, value: f64, limit: f64, unit: &str) -> Verdict {
        let pass = value <= limit + 1e-9;
        Verdict {
            scope: scope.to_owned(),
            constraint,
            value,
            limit,
            unit: unit.to_owned(),
            pass,
            shortfall: (!pass).then_some(value - limit),
        }
    }
}

/// The evaluation of a patient's plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Per lesion, in allocation order.
    pub lesions: Vec<LesionEvaluation>,
    /// OAR doses against their limits.
    pub oars: Vec<OarDose>,
    /// Every constraint checked.
    pub verdicts: Vec<Verdict>,
    /// Whether every constraint holds.
    pub all_pass: bool,
}

/// The seed target of a whole lesion: GTV ⊕ `zoning.margin_expansion_mm`, clipped to the body,
/// excluding critical OARs.
pub fn seed_target(case: &Case, gtv: &Mask, protocol: &Protocol) -> Mask {
    clipped_expansion(case, gtv, protocol.zoning.margin_expansion_mm)
}

/// The cryo target of a whole lesion: GTV ⊕ `cryo.ablative_margin_mm`, clipped to the body,
/// excluding critical OARs.
pub fn cryo_target(case: &Case, gtv: &Mask, protocol: &Protocol) -> Mask {
    clipped_expansion(case, gtv, protocol.cryo.ablative_margin_mm)
}

fn clipped_expansion(case: &Case, gtv: &Mask, by: Mm) -> Mask {
    let mut m = dilate(gtv, by);
    let body = case.with_role(StructureRole::Body).next().map(|s| &s.mask);
    let oars = critical_oars(case);
    for (i, v) in m.as_mut_slice().iter_mut().enumerate() {
        *v = *v && body.is_none_or(|b| b.as_slice()[i]) && !oars.iter().any(|(s, _)| s.mask.as_slice()[i]);
    }
    m
}

/// The case's critical OAR structures with their class.
pub fn critical_oars(case: &Case) -> Vec<(&Structure, CriticalOar)> {
    case.structures()
        .iter()
        .filter(|s| s.role == StructureRole::Oar)
        .filter_map(|s| s.organ.critical_oar().map(|c| (s, c)))
        .collect()
}

/// Evaluates a plan: `dose` is the patient's total seed dose (Gy), `lesions` every allocated
/// lesion with its ice.
pub fn evaluate(
    case: &Case,
    lesions: &[LesionInput<'_>],
    dose: &Field<f32>,
    protocol: &Protocol,
    settings: &EvaluationSettings,
) -> Result<Evaluation, PlanError> {
    if !dose.grid().same_geometry(case.grid()) {
        return Err(PlanError::Input { field: "dose", message: "the dose grid is not the case's grid".into() });
    }
    let goals = protocol.seeds.plan_goals;
    let oars = critical_oars(case);
    let mut verdicts = Vec::new();
    let mut out = Vec::new();
    for l in lesions {
        let scope = l.lesion_id.to_string();
        let rx = protocol.prescription(l.gtv.organ.lesion_site());
        let mut eval = LesionEvaluation {
            lesion_id: l.lesion_id.clone(),
            decision: l.decision,
            seed_target: None,
            lethal_coverage_percent: None,
            core_covered_percent: None,
            gtv_covered_percent: 0.0,
            ice_outside_confinement_ml: None,
            ice_in_high_risk_ml: None,
            ice_to_oar: Vec::new(),
        };
        let seed_region = match (l.decision, l.zones) {
            (AllocationDecision::Seeds, _) => Some((
                "seed target",
                l.seed_target.cloned().unwrap_or_else(|| seed_target(case, &l.gtv.mask, protocol)),
            )),
            (AllocationDecision::Zoned, Some(z)) => {
                Some(("margin", l.seed_target.cloned().unwrap_or_else(|| z.margin.clone())))
            }
            (AllocationDecision::Zoned, None) => {
                return Err(PlanError::Lesion { lesion: scope, message: "a zoned lesion needs its zones".into() });
            }
            (AllocationDecision::Cryo, _) => None,
        };
        if let Some((name, region)) = &seed_region {
            if region.is_empty() {
                return Err(PlanError::Lesion { lesion: scope, message: format!("the {name} is empty") });
            }
            let dvh = Dvh::compute(dose, region).expect("same grid, non-empty");
            let idx = SeedTargetIndices {
                prescription: rx,
                volume_ml: dvh.volume().0,
                d90: dvh.d_percent(Percent(90.0)),
                v100: dvh.v_percent_of(rx, Percent(100.0)),
                v150: dvh.v_percent_of(rx, Percent(150.0)),
                v200: dvh.v_percent_of(rx, Percent(200.0)),
            };
            let d90_limit = rx.0 * goals.min_d90_percent_rx.0 / 100.0;
            // (metric, value, limit, unit, at least?)
            let goals_checked = [
                ("D90", idx.d90.0, d90_limit, "Gy", true),
                ("V100", idx.v100.0, goals.min_v100_percent.0, "%", true),
                ("V150", idx.v150.0, goals.max_v150_percent.0, "%", false),
                ("V200", idx.v200.0, goals.max_v200_percent.0, "%", false),
            ];
            for (metric, value, limit, unit, at_least) in goals_checked {
                let sign = if at_least { "≥" } else { "≤" };
                let constraint = format!("{name} {metric} {sign} {} {unit}", fmt(limit));
                verdicts.push(if at_least {
                    Verdict::at_least(&scope, constraint, value, limit, unit)
                } else {
                    Verdict::at_most(&scope, constraint, value, limit, unit)
                });
            }
            eval.seed_target = Some(idx);
        }

        let cryo_region = match (l.decision, l.zones) {
            (AllocationDecision::Cryo, _) => Some(("cryo target", cryo_target(case, &l.gtv.mask, protocol))),
            (AllocationDecision::Zoned, Some(z)) if !z.core.is_empty() => Some(("core", z.core.clone())),
            _ => None,
        };
        if let Some((name, region)) = &cryo_region {
            let covered = match l.ice {
                Some(ice) => region.intersection(&ice.lethal).expect("one grid").count(),
                None => 0,
            };
            let pct = 100.0 * covered as f64 / region.count().max(1) as f64;
            eval.lethal_coverage_percent = Some(pct);
            if l.decision == AllocationDecision::Zoned {
                // The core is treated by lethal ice where ice can safely reach, by seeds elsewhere.
                let both = region
                    .as_slice()
                    .iter()
                    .enumerate()
                    .filter(|(i, inside)| {
                        **inside
                            && (l.ice.is_some_and(|ice| ice.lethal.as_slice()[*i])
                                || f64::from(dose.as_slice()[*i]) >= rx.0)
                    })
                    .count();
                let pct_both = 100.0 * both as f64 / region.count().max(1) as f64;
                eval.core_covered_percent = Some(pct_both);
                verdicts.push(Verdict::at_least(
                    &scope,
                    format!(
                        "core inside the lethal isotherm or the prescription isodose ≥ {} %",
                        fmt(settings.min_cryo_coverage_percent)
                    ),
                    pct_both,
                    settings.min_cryo_coverage_percent,
                    "%",
                ));
            } else {
                verdicts.push(Verdict::at_least(
                    &scope,
                    format!("{name} inside the lethal isotherm ≥ {} %", fmt(settings.min_cryo_coverage_percent)),
                    pct,
                    settings.min_cryo_coverage_percent,
                    "%",
                ));
            }
        }

        // Ice edges.
        if let Some(ice) = l.ice {
            let min_distance = match l.decision {
                AllocationDecision::Zoned => protocol.zoning.ice_edge_min_oar_distance_mm,
                _ => protocol.allocation.min_ice_to_oar_mm,
            };
            for (s, class) in &oars {
                let d = measure::min_surface_distance(&ice.edge, &s.mask)
                    .map_err(|e| PlanError::Structure { name: s.name.clone(), message: e.to_string() })?;
                let Some(d) = d else { continue };
                eval.ice_to_oar.push(IceDistance { structure: s.name.clone(), class: *class, distance: d });
                verdicts.push(Verdict::at_least(
                    &scope,
                    format!("0 °C ice edge ≥ {} mm from {}", fmt(min_distance.0), s.name),
                    d.0,
                    min_distance.0,
                    "mm",
                ));
            }
            if let (AllocationDecision::Zoned, Some(z)) = (l.decision, l.zones) {
                let confinement = dilate(&l.gtv.mask, protocol.zoning.ice_edge_max_beyond_gtv_mm);
                let outside = ice.edge.difference(&confinement).expect("one grid").volume().0;
                eval.ice_outside_confinement_ml = Some(outside);
                verdicts.push(Verdict::at_most(
                    &scope,
                    format!("0 °C ice outside GTV + {} mm", fmt(protocol.zoning.ice_edge_max_beyond_gtv_mm.0)),
                    outside,
                    0.0,
                    "mL",
                ));
                let in_hr = ice.lethal.intersection(&z.high_risk).expect("one grid").volume().0;
                eval.ice_in_high_risk_ml = Some(in_hr);
                verdicts.push(Verdict::at_most(&scope, "lethal ice in the high-risk zone".into(), in_hr, 0.0, "mL"));
            }
        }

        // Whole-GTV coverage by lethal ice ∪ prescription isodose.
        let mut covered = 0usize;
        for (i, inside) in l.gtv.mask.as_slice().iter().enumerate() {
            if *inside && (f64::from(dose.as_slice()[i]) >= rx.0 || l.ice.is_some_and(|ice| ice.lethal.as_slice()[i])) {
                covered += 1;
            }
        }
        eval.gtv_covered_percent = 100.0 * covered as f64 / l.gtv.mask.count() as f64;
        out.push(eval);
    }

    // OAR doses.
    let mut oar_doses = Vec::new();
    for (s, class) in &oars {
        let Some(limit) = protocol.seeds.oar_limit(*class) else { continue };
        let dvh = Dvh::compute(dose, &s.mask).expect("same grid, non-empty");
        let d = dvh.d_volume(limit.volume_cc);
        oar_doses.push(OarDose {
            structure: s.name.clone(),
            class: *class,
            volume_cc: limit.volume_cc.0,
            dose: d,
            dmax: dvh.max(),
            limit: limit.max_dose_gy,
        });
        // An organ smaller than the metric's volume is judged on its maximum dose.
        let value = d.unwrap_or(dvh.max()).0;
        verdicts.push(Verdict::at_most(
            &s.name,
            format!("D{}cc ≤ {} Gy", fmt(limit.volume_cc.0), fmt(limit.max_dose_gy.0)),
            value,
            limit.max_dose_gy.0,
            "Gy",
        ));
    }
    let all_pass = verdicts.iter().all(|v| v.pass);
    Ok(Evaluation { lesions: out, oars: oar_doses, verdicts, all_pass })
}

/// The union of several lesions' ice, for pictures and patient-level checks.
pub fn union_ice(ices: &[&LesionIce], grid: cryoseed_volume::Grid) -> LesionIce {
    let mut edge = Mask::empty(grid);
    let mut lethal = Mask::empty(grid);
    for ice in ices {
        union_into(&mut edge, &ice.edge);
        union_into(&mut lethal, &ice.lethal);
    }
    LesionIce { edge, lethal }
}

fn fmt(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}
