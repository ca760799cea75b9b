//! The verdict on the voxels: target metrics (TG-137 D90, V100, V150, V200 and the conformity
//! indices of `cryoseed_dose::metrics`), the protocol's goals and each OAR's `DXcc` against its
//! limit, every check with its margin.

use super::{SeedSettings, SeedStructures};
use crate::PlanError;
use cryoseed_core::{CriticalOar, Gy, Ml, Percent};
use cryoseed_dose::{oar_metrics, target_metrics, volume_at_least};
use cryoseed_volume::{Dvh, Field};
use serde::Serialize;

/// Dose metrics of the seed target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetDose {
    /// Target volume.
    pub volume: Ml,
    /// D90: minimum dose to the hottest 90 % of the target.
    pub d90: Gy,
    /// D100: minimum target dose.
    pub d100: Gy,
    /// V100, % of the target volume.
    pub v100: Percent,
    /// V150, %.
    pub v150: Percent,
    /// V200, %.
    pub v200: Percent,
    /// Nakamura conformity index V_Rx/TV (body ∪ target at ≥ Rx over target volume).
    pub conformity_index: f64,
    /// COIN (Baltas 1998, no OAR factor).
    pub coin: Option<f64>,
}

/// One plan goal on the target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GoalCheck {
    /// The goal as a physicist writes it, e.g. `D90 >= 100 % Rx (110.0 Gy)`.
    pub goal: String,
    /// The measured value (Gy for D90, % of the target volume for Vx).
    pub value: f64,
    /// The goal's threshold, same unit.
    pub threshold: f64,
    /// Whether the goal is met.
    pub passed: bool,
    /// How far inside the goal the value is (negative: by how much it misses), same unit.
    pub margin: f64,
}

/// One OAR against its limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OarCheck {
    /// Structure name.
    pub name: String,
    /// Critical-OAR class.
    pub class: CriticalOar,
    /// Volume evaluated (the OAR inside the dose grid).
    pub volume: Ml,
    /// Maximum voxel dose.
    pub dmax: Gy,
    /// The limited metric, e.g. `D2cc <= 100.0 Gy`, if the protocol limits this class.
    pub limit: Option<String>,
    /// The metric's value (Dmax when the organ is smaller than the metric's volume).
    pub value: Option<Gy>,
    /// Whether the limit holds (true when there is no limit).
    pub passed: bool,
    /// Limit minus value (negative: over the limit by that much), Gy.
    pub margin: Option<Gy>,
}

/// Everything the verdict rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedPlanEvaluation {
    /// Prescription.
    pub prescription: Gy,
    /// Target metrics.
    pub target: TargetDose,
    /// D90, V100, V150, V200 goals.
    pub goals: Vec<GoalCheck>,
    /// Every OAR, in request order.
    pub oars: Vec<OarCheck>,
}

impl SeedPlanEvaluation {
    /// One line per failed goal or limit, with the amount.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .goals
            .iter()
            .filter(|g| !g.passed)
            .map(|g| format!("{}: got {:.1}, misses by {:.1}", g.goal, g.value, -g.margin))
            .collect();
        for o in self.oars.iter().filter(|o| !o.passed) {
            out.push(format!(
                "{} {}: got {:.1} Gy, over by {:.1} Gy",
                o.name,
                o.limit.as_deref().unwrap_or(""),
                o.value.map_or(f64::NAN, |v| v.0),
                o.margin.map_or(f64::NAN, |m| -m.0)
            ));
        }
        out
    }

    /// Whether every goal and limit holds.
    pub fn passes(&self) -> bool {
        self.goals.iter().all(|g| g.passed) && self.oars.iter().all(|o| o.passed)
    }
}

/// Whether a plan meets the protocol, and if not, why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum SeedPlanVerdict {
    /// Every goal and OAR limit holds on the voxels.
    MeetsGoals,
    /// At least one does not: each reason names the goal or limit and the amount.
    Infeasible {
        /// One line per reason.
        reasons: Vec<String>,
    },
}

/// Evaluates a dose (Gy) against the target's goals and the OAR limits. The structures must be on
/// the dose's grid; OAR volumes outside it are not seen.
pub fn evaluate_seed_dose(
    dose: &Field<f32>,
    structures: &SeedStructures<'_>,
    settings: &SeedSettings,
) -> Result<SeedPlanEvaluation, PlanError> {
    let grid_error = |name: &str, e: String| PlanError::Structure { name: name.to_owned(), message: e };
    let rx = settings.prescription;
    let target_dvh = Dvh::compute(dose, structures.target).map_err(|e| grid_error("target", e.to_string()))?;
    let body_or_target = structures.body.union(structures.target).map_err(|e| grid_error("body", e.to_string()))?;
    let v_rx = volume_at_least(dose, Some(&body_or_target), rx).map_err(|e| grid_error("body", e.to_string()))?;
    let m = target_metrics(&target_dvh, rx, v_rx)
        .map_err(|e| PlanError::Input { field: "prescription", message: e.to_string() })?;
    let target = TargetDose {
        volume: m.volume,
        d90: m.d90,
        d100: m.d100,
        v100: m.v100,
        v150: m.v150,
        v200: m.v200,
        conformity_index: m.conformity_index,
        coin: m.coin,
    };
    let g = settings.goals;
    let d90_goal = rx.0 * g.min_d90_percent_rx.0 / 100.0;
    let at_least = |goal: String, value: f64, threshold: f64| GoalCheck {
        goal,
        value,
        threshold,
        passed: value >= threshold,
        margin: value - threshold,
    };
    let at_most = |goal: String, value: f64, threshold: f64| GoalCheck {
        goal,
        value,
        threshold,
        passed: value <= threshold,
        margin: threshold - value,
    };
    let goals = vec![
        at_least(format!("D90 >= {} % Rx ({:.1} Gy)", g.min_d90_percent_rx.0, d90_goal), m.d90.0, d90_goal),
        at_least(format!("V100 >= {} %", g.min_v100_percent.0), m.v100.0, g.min_v100_percent.0),
        at_most(format!("V150 <= {} %", g.max_v150_percent.0), m.v150.0, g.max_v150_percent.0),
        at_most(format!("V200 <= {} %", g.max_v200_percent.0), m.v200.0, g.max_v200_percent.0),
    ];
    let mut oars = Vec::with_capacity(structures.oars.len());
    for oar in &structures.oars {
        if oar.mask.is_empty() {
            oars.push(OarCheck {
                name: oar.name.clone(),
                class: oar.class,
                volume: Ml(0.0),
                dmax: Gy(0.0),
                limit: oar.limit.map(|l| format!("D{}cc <= {:.1} Gy", l.volume_cc.0, l.max_dose_gy.0)),
                value: oar.limit.map(|_| Gy(0.0)),
                passed: true,
                margin: oar.limit.map(|l| l.max_dose_gy),
            });
            continue;
        }
        let dvh = Dvh::compute(dose, oar.mask).map_err(|e| grid_error(&oar.name, e.to_string()))?;
        let om = oar_metrics(&dvh);
        let (limit, value, passed, margin) = match oar.limit {
            None => (None, None, true, None),
            Some(l) => {
                let value = dvh.d_volume(l.volume_cc).unwrap_or(om.dmax);
                (
                    Some(format!("D{}cc <= {:.1} Gy", l.volume_cc.0, l.max_dose_gy.0)),
                    Some(value),
                    value.0 <= l.max_dose_gy.0,
                    Some(Gy(l.max_dose_gy.0 - value.0)),
                )
            }
        };
        oars.push(OarCheck {
            name: oar.name.clone(),
            class: oar.class,
            volume: om.volume,
            dmax: om.dmax,
            limit,
            value,
            passed,
            margin,
        });
    }
    Ok(SeedPlanEvaluation { prescription: rx, target, goals, oars })
}
