//! Local tumour progression (LTP) of each treated lesion, PROTOCOL.md "Response and endpoints".
//!
//! LTP is the first of: new nodular or eccentric enhancing tissue at the treatment-zone margin
//! (reader flag); growth of the treated lesion / ablation zone by at least
//! `response.ltp_min_growth_percent` **and** `response.ltp_min_growth_mm` in longest diameter
//! over its smallest post-treatment measurement (the reference starts at the first
//! post-treatment scan); biopsy-proven viable tumour at the margin; re-intervention for
//! progression. Viable tumour at the **first** post-treatment scan is residual unablated tumour,
//! recorded separately and never LTP (Ahmed et al., Radiology 2014;273:241–260, "Image-guided
//! tumor ablation: standardization of terminology and reporting criteria — a 10-year update").

use crate::clean::{CleanRead, Record};
use crate::date::Date;
use crate::model::{LesionRole, LesionStatus, Observation};
use crate::recist::{mm, percent};
use cryoseed_core::protocol::ResponseRules;
use cryoseed_core::{LesionId, Ml, Mm, Zone};

const EPSILON: f64 = 1e-9;

/// Local status of a treated lesion at one post-treatment time point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LocalStatus {
    /// First post-treatment scan with viable tumour: residual unablated tumour (not LTP).
    Residual,
    /// No evidence of local progression.
    Controlled,
    /// Local tumour progression at or before this time point.
    Progression,
    /// The lesion was not assessed at this time point.
    NotEvaluated,
}

/// One post-treatment time point of a treated lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalTimePoint {
    /// Time point label.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// The growth measure (ablation zone or lesion longest diameter), when recorded.
    pub diameter: Option<Mm>,
    /// The smallest post-treatment diameter before this time point (the growth reference).
    pub reference: Option<Mm>,
    /// Status at this time point.
    pub status: LocalStatus,
}

/// Residual unablated tumour at the first post-treatment scan.
#[derive(Clone, Debug, PartialEq)]
pub struct ResidualTumour {
    /// Time point label.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// What showed it.
    pub reason: String,
}

/// Local tumour progression: when, by which criteria, and where in the bulky lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalProgression {
    /// Time point of first evidence.
    pub label: String,
    /// Date of first evidence.
    pub date: Date,
    /// Every LTP criterion met at that time point, with its numbers.
    pub criteria: Vec<String>,
    /// Zone of failure of the bulky lesion (reader's flag, or the zone whose volume grew most).
    pub zone: Option<Zone>,
    /// How the zone was decided.
    pub zone_reason: Option<String>,
}

/// The local outcome of one treated lesion for one reader.
#[derive(Clone, Debug, PartialEq)]
pub struct LtpAssessment {
    /// The treated lesion.
    pub lesion_id: LesionId,
    /// Date of protocol local therapy.
    pub treated_on: Date,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
    /// Residual unablated tumour at the first post-treatment scan.
    pub residual: Option<ResidualTumour>,
    /// Local tumour progression, if any.
    pub progression: Option<LocalProgression>,
    /// Every post-treatment time point read.
    pub time_points: Vec<LocalTimePoint>,
}

impl LtpAssessment {
    /// Whether LTP had been seen at or before `date`.
    pub fn has_progressed_by(&self, date: Date) -> bool {
        self.progression.as_ref().is_some_and(|p| p.date <= date)
    }

    /// The last post-treatment time point at which the lesion was evaluated.
    pub fn last_evaluated(&self) -> Option<&LocalTimePoint> {
        self.time_points.iter().rev().find(|t| t.status != LocalStatus::NotEvaluated)
    }
}

/// The LTP growth measure: the ablation-zone diameter, else the RECIST diameter of a non-nodal
/// target.
fn growth_diameter(observation: &Observation, role: LesionRole, is_node: bool, too_small: Mm) -> Option<Mm> {
    if let Some(d) = observation.local.ablation_zone_diameter {
        return Some(d);
    }
    if role != LesionRole::Target || is_node {
        return None;
    }
    match &observation.status {
        LesionStatus::Measured(d) => Some(*d),
        LesionStatus::TooSmallToMeasure => Some(too_small),
        LesionStatus::Disappeared => Some(Mm(0.0)),
        LesionStatus::Split(fragments) => Some(fragments.iter().fold(Mm(0.0), |a, &b| a + b)),
        _ => None,
    }
}

/// LTP of every treated lesion for one reader, in lesion order.
pub(crate) fn evaluate_reader(record: &Record, reader: usize, rules: &ResponseRules) -> Vec<LtpAssessment> {
    let reads = &record.reads[reader];
    let bulky = record.lesions.iter().find(|l| l.is_bulky_index).map(|l| l.lesion_id.clone());
    let mut out = Vec::new();
    for lesion in &record.lesions {
        let Some(treated_on) = lesion.treated_on else { continue };
        let is_bulky = bulky.as_ref() == Some(&lesion.lesion_id);
        let post: Vec<(usize, &CleanRead)> = record
            .time_points
            .iter()
            .enumerate()
            .filter(|(_, info)| info.date > treated_on)
            .filter_map(|(tp, _)| reads[tp].as_ref().map(|read| (tp, read)))
            .collect();
        let mut assessment = LtpAssessment {
            lesion_id: lesion.lesion_id.clone(),
            treated_on,
            is_bulky_index: is_bulky,
            residual: None,
            progression: None,
            time_points: Vec::new(),
        };
        let mut reference: Option<Mm> = None;
        let mut core_reference: Option<Ml> = None;
        let mut margin_reference: Option<Ml> = None;
        for (k, (tp, read)) in post.iter().enumerate() {
            let info = &record.time_points[*tp];
            let observation = read.observations.get(&lesion.lesion_id);
            let diameter = observation
                .and_then(|o| growth_diameter(o, lesion.role, lesion.is_node(), rules.recist.too_small_to_measure_mm));
            let evaluated = observation.is_some_and(|o| o.status != LesionStatus::NotEvaluated || diameter.is_some());
            let mut status = if evaluated { LocalStatus::Controlled } else { LocalStatus::NotEvaluated };
            if assessment.progression.is_some() {
                status = LocalStatus::Progression;
            } else if let Some(o) = observation.filter(|_| evaluated) {
                let local = &o.local;
                if k == 0 {
                    let mut signs = Vec::new();
                    if local.residual_tumour {
                        signs.push("residual tumour (reader)");
                    }
                    if local.margin_enhancement {
                        signs.push("enhancing tissue at the margin");
                    }
                    if local.biopsy_viable_tumour {
                        signs.push("biopsy-proven viable tumour");
                    }
                    if local.reintervention {
                        signs.push("re-intervention");
                    }
                    if !signs.is_empty() {
                        status = LocalStatus::Residual;
                        assessment.residual = Some(ResidualTumour {
                            label: info.label.clone(),
                            date: info.date,
                            reason: format!(
                                "residual unablated tumour at the first post-treatment scan ({}): recorded separately, \
                                 not local progression (PROTOCOL.md; Ahmed 2014)",
                                signs.join(", ")
                            ),
                        });
                    }
                } else {
                    let mut criteria = Vec::new();
                    if local.margin_enhancement {
                        criteria.push(
                            "new nodular/eccentric enhancing tissue at the treatment-zone margin (reader flag)"
                                .to_owned(),
                        );
                    }
                    if let (Some(d), Some(r)) = (diameter, reference) {
                        let growth = d - r;
                        let relative = (r.value() > 0.0).then(|| growth.value() / r.value() * 100.0);
                        let meets = growth.value() >= rules.ltp_min_growth_mm.value() - EPSILON
                            && growth.value() > 0.0
                            && relative.is_none_or(|p| p >= rules.ltp_min_growth_percent.value() - EPSILON);
                        if meets {
                            criteria.push(format!(
                                "growth to {} mm, {} mm and {} over the post-treatment nadir {} mm (LTP needs ≥ {} mm \
                                 and ≥ {})",
                                mm(d),
                                mm(growth),
                                relative.map_or("infinitely".to_owned(), percent),
                                mm(r),
                                mm(rules.ltp_min_growth_mm),
                                percent(rules.ltp_min_growth_percent.value())
                            ));
                        }
                    }
                    if local.biopsy_viable_tumour {
                        criteria.push("biopsy-proven viable tumour at the margin".to_owned());
                    }
                    if local.reintervention {
                        criteria.push("re-intervention for progression".to_owned());
                    }
                    if !criteria.is_empty() {
                        status = LocalStatus::Progression;
                        let (zone, zone_reason) =
                            if is_bulky { failure_zone(o, core_reference, margin_reference) } else { (None, None) };
                        assessment.progression = Some(LocalProgression {
                            label: info.label.clone(),
                            date: info.date,
                            criteria,
                            zone,
                            zone_reason,
                        });
                    }
                }
            }
            assessment.time_points.push(LocalTimePoint {
                label: info.label.clone(),
                date: info.date,
                diameter,
                reference,
                status,
            });
            if let Some(d) = diameter {
                reference = Some(reference.map_or(d, |r| r.min(d)));
            }
            if let Some(o) = observation {
                if let Some(v) = o.volumes.core_volume {
                    core_reference = Some(core_reference.map_or(v, |r| r.min(v)));
                }
                if let Some(v) = o.volumes.margin_volume {
                    margin_reference = Some(margin_reference.map_or(v, |r| r.min(v)));
                }
            }
        }
        out.push(assessment);
    }
    out
}

/// The failure zone of the bulky lesion: the reader's flag, else the zone whose volume grew more
/// over its post-treatment nadir (cryoseed rule, reported with its numbers).
fn failure_zone(o: &Observation, core_ref: Option<Ml>, margin_ref: Option<Ml>) -> (Option<Zone>, Option<String>) {
    if let Some(zone) = o.local.failure_zone {
        return (Some(zone), Some(format!("{zone}: recorded by the reader")));
    }
    let growth = |now: Option<Ml>, reference: Option<Ml>| -> Option<f64> {
        let (now, reference) = (now?, reference?);
        (reference.value() > 0.0).then(|| (now.value() - reference.value()) / reference.value() * 100.0)
    };
    let core = growth(o.volumes.core_volume, core_ref);
    let margin = growth(o.volumes.margin_volume, margin_ref);
    let text = |g: Option<f64>| g.map_or("not measured".to_owned(), |g| format!("{:+.1} %", g));
    let numbers =
        format!("core volume {} and margin volume {} over their post-treatment nadirs", text(core), text(margin));
    match (core, margin) {
        (Some(c), Some(m)) if c > 0.0 || m > 0.0 => {
            let zone = if c > m { Zone::Core } else { Zone::Margin };
            (Some(zone), Some(format!("{zone}: the zone that grew more ({numbers})")))
        }
        (Some(c), None) if c > 0.0 => (Some(Zone::Core), Some(format!("core: it grew ({numbers})"))),
        (None, Some(m)) if m > 0.0 => (Some(Zone::Margin), Some(format!("margin: it grew ({numbers})"))),
        _ => (None, Some(format!("not determined: no failure zone recorded and no zone grew ({numbers})"))),
    }
}

/// Local control of a treated lesion at the LCR assessment (PROTOCOL.md "LCR at 6 months").
#[derive(Clone, Debug, PartialEq)]
pub enum LocalControl {
    /// Free of LTP at an evaluated assessment inside the window.
    Controlled {
        /// The assessment used (label, date).
        time_point: (String, Date),
    },
    /// LTP before or inside the window.
    Failure {
        /// Date of first evidence of LTP.
        date: Date,
    },
    /// No LTP, and no evaluated assessment inside the window (primary analysis: not evaluable;
    /// sensitivity analysis: failure).
    NotEvaluable,
}

/// Local control of one treated lesion at the protocol's LCR time point, with its reason.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalControlVerdict {
    /// The treated lesion.
    pub lesion_id: LesionId,
    /// Controlled, failure or not evaluable.
    pub status: LocalControl,
    /// Nominal date of the assessment (completion of protocol therapy + `lcr_assessment_months`).
    pub nominal_date: Date,
    /// Why.
    pub reason: String,
}

/// Local control of each treated lesion at `response.lcr_assessment_months` after `completion`
/// (completion of protocol therapy), window ± `response.lcr_window_days` (PROTOCOL.md "LCR at 6
/// months"): LTP first seen before the window closes is a failure; otherwise an evaluated
/// assessment inside the window, the one nearest the nominal date, shows the lesion controlled;
/// otherwise it is not evaluable. Whether the patient died or left follow-up is not known here:
/// the endpoint derivation decides how a not-evaluable lesion counts in each analysis.
pub fn local_control(local: &[LtpAssessment], completion: Date, rules: &ResponseRules) -> Vec<LocalControlVerdict> {
    let nominal_days = rules.lcr_assessment_months.to_days().value().round() as i32;
    let nominal_date = completion.plus_days(nominal_days);
    let window = rules.lcr_window_days.value();
    let window_end = nominal_date.plus_days(window.floor() as i32);
    let months = crate::recist::number(rules.lcr_assessment_months.value());
    local
        .iter()
        .map(|l| {
            let (status, reason) = match &l.progression {
                Some(p) if p.date <= window_end => (
                    LocalControl::Failure { date: p.date },
                    format!(
                        "failure: LTP at {} ({}), before the {months}-month window closed ({window_end})",
                        p.label, p.date
                    ),
                ),
                _ => {
                    let nearest = l
                        .time_points
                        .iter()
                        .filter(|t| t.status != LocalStatus::NotEvaluated)
                        .map(|t| (t, t.date.days_since(nominal_date).value().abs()))
                        .filter(|(_, distance)| *distance <= window + EPSILON)
                        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.date.cmp(&b.0.date)));
                    match nearest {
                        Some((t, _)) => (
                            LocalControl::Controlled { time_point: (t.label.clone(), t.date) },
                            format!(
                                "controlled: no LTP at {} ({}), inside the {months}-month window {nominal_date} ± {} days",
                                t.label,
                                t.date,
                                crate::recist::number(window)
                            ),
                        ),
                        None => (
                            LocalControl::NotEvaluable,
                            format!(
                                "not evaluable: no LTP and no evaluated assessment inside the {months}-month window \
                                 {nominal_date} ± {} days",
                                crate::recist::number(window)
                            ),
                        ),
                    }
                }
            };
            LocalControlVerdict { lesion_id: l.lesion_id.clone(), status, nominal_date, reason }
        })
        .collect()
}
