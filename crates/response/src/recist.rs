//! RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228–247): target, non-target and
//! new-lesion assessment, the time-point response (Tables 1 and 2), and the best overall response
//! with and without confirmation (§4.4.3, Table 3; §4.6).
//!
//! Section numbers refer to that paper. Thresholds come from `[response.recist]` of the protocol.
//! Every verdict carries the rule that decided it and the numbers it compared, as text meant for
//! the reviewer.

use crate::clean::{CleanRead, Record};
use crate::date::Date;
use crate::model::{LesionRole, LesionStatus};
use cryoseed_core::protocol::{RecistThresholds, ResponseRules};
use cryoseed_core::{LesionId, Mm, Percent};
use std::fmt;

/// Floating-point slack in threshold comparisons, so that a change of exactly 30 % or exactly
/// 5 mm (e.g. 50 → 35 mm) meets the threshold as RECIST intends (`≥`), whatever the rounding.
const EPSILON: f64 = 1e-9;

/// Target-lesion response at one time point (§4.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetResponse {
    /// Complete response: all non-nodal targets disappeared, all target nodes below 10 mm short axis.
    Cr,
    /// Partial response: sum at least 30 % below the baseline sum.
    Pr,
    /// Stable disease: neither PR nor PD.
    Sd,
    /// Progressive disease: sum at least 20 % and 5 mm above the nadir.
    Pd,
    /// Not evaluable: a target was not assessed and the others do not already show PD (§4.4.2).
    Ne,
}

/// Non-target response at one time point (§4.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NonTargetResponse {
    /// Every non-target lesion absent, every node normal (< 10 mm short axis).
    Cr,
    /// Persistence of one or more non-target lesions.
    NonCrNonPd,
    /// Unequivocal progression of existing non-target lesions.
    Pd,
    /// Not all non-target lesions evaluated (and none progressing).
    Ne,
}

/// New lesions at one time point (§4.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NewLesionStatus {
    /// No new lesion.
    Absent,
    /// Only equivocal new lesions: not progression until confirmed.
    Equivocal,
    /// At least one unequivocal new lesion: progression.
    Present,
}

/// Overall response at a time point, and best overall response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OverallResponse {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease.
    Sd,
    /// Non-CR/non-PD: patients with non-target disease only (Table 2).
    NonCrNonPd,
    /// Progressive disease.
    Pd,
    /// Not evaluable.
    Ne,
}

impl OverallResponse {
    /// Every category, in reporting order.
    pub const ALL: [OverallResponse; 6] = [Self::Cr, Self::Pr, Self::Sd, Self::NonCrNonPd, Self::Pd, Self::Ne];

    /// The abbreviation used in reports (`CR`, `non-CR/non-PD`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Cr => "CR",
            Self::Pr => "PR",
            Self::Sd => "SD",
            Self::NonCrNonPd => "non-CR/non-PD",
            Self::Pd => "PD",
            Self::Ne => "NE",
        }
    }

    /// Whether the response is at least stable (CR, PR, SD, non-CR/non-PD).
    pub fn is_disease_control(self) -> bool {
        matches!(self, Self::Cr | Self::Pr | Self::Sd | Self::NonCrNonPd)
    }

    /// Rank for "at least this good" comparisons in confirmation: CR 3, PR 2, other controlled 1,
    /// PD 0. NE has no rank.
    fn rank(self) -> Option<u8> {
        match self {
            Self::Cr => Some(3),
            Self::Pr => Some(2),
            Self::Sd | Self::NonCrNonPd => Some(1),
            Self::Pd => Some(0),
            Self::Ne => None,
        }
    }
}

macro_rules! display_code {
    ($($t:ty => [$($v:ident = $s:literal),*]),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$v => $s),* })
            }
        }
    )*};
}
display_code!(
    TargetResponse => [Cr = "CR", Pr = "PR", Sd = "SD", Pd = "PD", Ne = "NE"],
    NonTargetResponse => [Cr = "CR", NonCrNonPd = "non-CR/non-PD", Pd = "PD", Ne = "NE"],
    NewLesionStatus => [Absent = "no", Equivocal = "equivocal", Present = "yes"]
);

impl fmt::Display for OverallResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A number of millimetres for reason texts: at most two decimals, no trailing zeros.
pub(crate) fn mm(value: Mm) -> String {
    number(value.value())
}

pub(crate) fn number(value: f64) -> String {
    let text = format!("{:.2}", value);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".to_owned() } else { text.to_owned() }
}

pub(crate) fn percent(value: f64) -> String {
    format!("{value:.1} %")
}

/// The time-point response of Table 1 (patients with target disease) or Table 2 (non-target
/// disease only), with the table cell that decided it.
///
/// `target` is `None` when the patient has no target lesions, `non_target` when there are no
/// non-target lesions (then the target response decides alone). `new_lesions` counts only
/// unequivocal new lesions; equivocal ones are not progression (§4.3.5).
pub fn overall_response(
    target: Option<TargetResponse>,
    non_target: Option<NonTargetResponse>,
    new_lesions: bool,
) -> (OverallResponse, String) {
    use NonTargetResponse as N;
    use OverallResponse as O;
    use TargetResponse as T;
    let new_text = if new_lesions { "new lesions" } else { "no new lesions" };
    let nt_text = non_target.map_or("no non-target lesions".to_owned(), |n| format!("non-target {n}"));
    match target {
        Some(t) => {
            let response = match (t, non_target) {
                _ if new_lesions => O::Pd,
                (T::Pd, _) | (_, Some(N::Pd)) => O::Pd,
                (T::Cr, None | Some(N::Cr)) => O::Cr,
                (T::Cr, Some(N::NonCrNonPd | N::Ne)) => O::Pr,
                (T::Pr, _) => O::Pr,
                (T::Sd, _) => O::Sd,
                (T::Ne, _) => O::Ne,
            };
            (response, format!("RECIST 1.1 Table 1: target {t}, {nt_text}, {new_text} → {response}"))
        }
        None => match non_target {
            Some(n) => {
                let response = match n {
                    _ if new_lesions => O::Pd,
                    N::Pd => O::Pd,
                    N::Cr => O::Cr,
                    N::NonCrNonPd => O::NonCrNonPd,
                    N::Ne => O::Ne,
                };
                (response, format!("RECIST 1.1 Table 2 (non-target disease only): {nt_text}, {new_text} → {response}"))
            }
            None => {
                let response = if new_lesions { O::Pd } else { O::Ne };
                (response, format!("no target or non-target lesion at baseline, {new_text} → {response}"))
            }
        },
    }
}

/// One target lesion's contribution at a time point.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetLesionValue {
    /// Which target.
    pub lesion_id: LesionId,
    /// Whether it is a node (CR needs short axis < the normal size rather than 0 mm).
    pub is_node: bool,
    /// The diameter entering the sum (0 for disappeared or merged away, the default for too small,
    /// the fragments' sum for a split lesion); `None` when not evaluated.
    pub diameter: Option<Mm>,
}

/// Target-lesion assessment at one time point, with its numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetAssessment {
    /// The response.
    pub response: TargetResponse,
    /// Sum of diameters of the assessed targets (all of them when `not_evaluated` is empty).
    pub sum: Mm,
    /// Targets not evaluated at this time point.
    pub not_evaluated: Vec<LesionId>,
    /// Baseline sum of diameters.
    pub baseline_sum: Mm,
    /// Smallest complete sum before this time point, baseline included: the reference for PD.
    pub nadir: Mm,
    /// Change of the sum from baseline, % (of the assessed sum when incomplete).
    pub change_from_baseline: Option<Percent>,
    /// Change of the sum from the nadir, % (`None` when the nadir is 0 mm).
    pub change_from_nadir: Option<Percent>,
    /// Why: the rule and the numbers.
    pub reason: String,
}

impl TargetAssessment {
    /// Whether every target was evaluated.
    pub fn is_complete(&self) -> bool {
        self.not_evaluated.is_empty()
    }
}

fn relative_change(value: Mm, reference: Mm) -> Option<Percent> {
    (reference.value() > 0.0).then(|| Percent((value.value() - reference.value()) / reference.value() * 100.0))
}

/// Target response (§4.3.1, §4.3.2, §4.4.2) from each target's diameter.
///
/// Order of the rules: CR (every non-nodal target 0 mm, every node below the normal short axis:
/// a node that stays below it has not reappeared, EORTC RECIST FAQ "abnormal lymph node"), then
/// PD (sum ≥ 20 % and ≥ 5 mm above the nadir; or, after an overall CR at the previous time point,
/// any target reappearing — EORTC RECIST FAQ "does a new lesion always result in PD?"), then PR
/// (sum ≥ 30 % below baseline), else SD. With targets missing, PD is still declared when the
/// assessed targets alone meet it (§4.4.2); otherwise NE.
pub fn target_response(
    values: &[TargetLesionValue],
    baseline_sum: Mm,
    nadir: Mm,
    after_complete_response: bool,
    thresholds: &RecistThresholds,
) -> TargetAssessment {
    let normal = thresholds.node_normal_short_axis_mm;
    let sum = values.iter().filter_map(|v| v.diameter).fold(Mm(0.0), |a, b| a + b);
    let not_evaluated: Vec<LesionId> =
        values.iter().filter(|v| v.diameter.is_none()).map(|v| v.lesion_id.clone()).collect();
    let change_from_baseline = relative_change(sum, baseline_sum);
    let change_from_nadir = relative_change(sum, nadir);
    let increase = sum - nadir;
    let pd_percent = thresholds.progression_min_increase_percent.value();
    let pd_mm = thresholds.progression_min_increase_mm;
    let meets_pd = increase.value() >= pd_mm.value() - EPSILON
        && change_from_nadir.is_none_or(|c| c.value() >= pd_percent - EPSILON)
        && increase.value() > 0.0;
    let reappeared: Vec<String> = values
        .iter()
        .filter_map(|v| {
            let d = v.diameter?;
            let is_disease = if v.is_node { d.value() >= normal.value() - EPSILON } else { d.value() > 0.0 };
            is_disease.then(|| format!("{} {} mm", v.lesion_id, mm(d)))
        })
        .collect();
    let pd_numbers = || {
        format!(
            "sum {} mm is {} mm and {} {} the nadir {} mm (PD needs ≥ {} mm and ≥ {})",
            mm(sum),
            mm(increase.abs()),
            change_from_nadir.map_or("infinitely".to_owned(), |c| percent(c.value().abs())),
            if increase.value() < 0.0 { "below" } else { "above" },
            mm(nadir),
            mm(pd_mm),
            percent(pd_percent)
        )
    };
    let missing = not_evaluated.iter().map(LesionId::as_str).collect::<Vec<_>>().join(", ");
    let (response, reason) = if !not_evaluated.is_empty() {
        if meets_pd {
            (
                TargetResponse::Pd,
                format!(
                    "PD although {missing} not evaluated (RECIST 1.1 §4.4.2): the assessed targets alone already meet \
                     PD: {}",
                    pd_numbers()
                ),
            )
        } else if after_complete_response && !reappeared.is_empty() {
            (
                TargetResponse::Pd,
                format!(
                    "PD although {missing} not evaluated: after a CR, target disease reappeared ({})",
                    reappeared.join(", ")
                ),
            )
        } else {
            (
                TargetResponse::Ne,
                format!(
                    "NE (RECIST 1.1 §4.4.2): {missing} not evaluated, and the assessed targets (sum {} mm) do not \
                     already show PD over the nadir {} mm",
                    mm(sum),
                    mm(nadir)
                ),
            )
        }
    } else if reappeared.is_empty() {
        let nodes: Vec<String> = values
            .iter()
            .filter(|v| v.is_node)
            .filter_map(|v| v.diameter.map(|d| format!("{} {} mm", v.lesion_id, mm(d))))
            .collect();
        let node_text = if nodes.is_empty() { String::new() } else { format!(" (target nodes: {})", nodes.join(", ")) };
        (
            TargetResponse::Cr,
            format!(
                "CR (RECIST 1.1 §4.3.1): every non-nodal target has disappeared and every target node is below {} mm \
                 short axis{node_text}; sum {} mm",
                mm(normal),
                mm(sum)
            ),
        )
    } else if meets_pd {
        (TargetResponse::Pd, format!("PD (RECIST 1.1 §4.3.1): {}", pd_numbers()))
    } else if after_complete_response {
        (
            TargetResponse::Pd,
            format!(
                "PD: after a CR at the previous time point, target disease reappeared ({}) (EORTC RECIST 1.1 FAQ: \
                 reappearance after CR is progression)",
                reappeared.join(", ")
            ),
        )
    } else {
        let pr_percent = thresholds.partial_response_min_decrease_percent.value();
        let from_baseline = change_from_baseline.map_or(0.0, |c| c.value());
        let baseline_text = format!(
            "sum {} mm is {} {} baseline {} mm",
            mm(sum),
            percent(from_baseline.abs()),
            if from_baseline <= 0.0 { "below" } else { "above" },
            mm(baseline_sum)
        );
        if from_baseline <= -pr_percent + EPSILON {
            (
                TargetResponse::Pr,
                format!(
                    "PR (RECIST 1.1 §4.3.1): {baseline_text} (PR needs ≥ {} below); not PD: {}",
                    percent(pr_percent),
                    pd_numbers()
                ),
            )
        } else {
            (
                TargetResponse::Sd,
                format!(
                    "SD (RECIST 1.1 §4.3.1): {baseline_text} (PR needs ≥ {} below); not PD: {}",
                    percent(pr_percent),
                    pd_numbers()
                ),
            )
        }
    };
    TargetAssessment {
        response,
        sum,
        not_evaluated,
        baseline_sum,
        nadir,
        change_from_baseline,
        change_from_nadir,
        reason,
    }
}

/// Non-target assessment at one time point.
#[derive(Clone, Debug, PartialEq)]
pub struct NonTargetAssessment {
    /// The response.
    pub response: NonTargetResponse,
    /// Why.
    pub reason: String,
}

/// New-lesion assessment at one time point.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLesionAssessment {
    /// Absent, equivocal only, or present.
    pub status: NewLesionStatus,
    /// Codes of the unequivocal new lesions.
    pub unequivocal: Vec<String>,
    /// Codes of the equivocal new lesions.
    pub equivocal: Vec<String>,
}

/// The response of one reader at one follow-up time point.
#[derive(Clone, Debug, PartialEq)]
pub struct TimePointResponse {
    /// Time point label.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// Target assessment (`None`: no target lesions).
    pub target: Option<TargetAssessment>,
    /// Non-target assessment (`None`: no non-target lesions).
    pub non_target: Option<NonTargetAssessment>,
    /// New lesions.
    pub new_lesions: NewLesionAssessment,
    /// Overall response as read at this time point (Table 1 or 2).
    pub as_read: OverallResponse,
    /// The table cell that decided `as_read`.
    pub rule: String,
    /// Final response: `as_read`, or PD when an equivocal new lesion seen here was confirmed later
    /// (§4.3.5: progression dated from the first scan that showed it).
    pub response: OverallResponse,
    /// Why the response was back-dated to PD, when it was.
    pub back_dated: Option<String>,
}

/// The best overall response (§4.4.3).
#[derive(Clone, Debug, PartialEq)]
pub struct BestResponse {
    /// The category.
    pub response: OverallResponse,
    /// Label and date of the time point that gave it, if any.
    pub time_point: Option<(String, Date)>,
    /// Why.
    pub reason: String,
}

/// The date and rule of the first progression.
#[derive(Clone, Debug, PartialEq)]
pub struct Progression {
    /// Time point label.
    pub label: String,
    /// Date of progression (the first scan that showed it).
    pub date: Date,
    /// Why.
    pub reason: String,
}

/// One reader's RECIST assessment of one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct RecistSeries {
    /// Targets entering the sum of diameters (those with a baseline measurement).
    pub targets: Vec<LesionId>,
    /// Baseline sum of diameters (`None` without targets).
    pub baseline_sum: Option<Mm>,
    /// One entry per follow-up time point this reader read, in date order.
    pub time_points: Vec<TimePointResponse>,
    /// Best overall response without confirmation.
    pub best_unconfirmed: BestResponse,
    /// Best overall response with confirmation of CR/PR (Table 3).
    pub best_confirmed: BestResponse,
    /// First progression, if any.
    pub progression: Option<Progression>,
}

impl RecistSeries {
    /// The best overall response the protocol asks for (`response.require_confirmation`).
    pub fn best(&self, rules: &ResponseRules) -> &BestResponse {
        if rules.require_confirmation { &self.best_confirmed } else { &self.best_unconfirmed }
    }
}

/// The diameter a target contributes (§4.3.2), or `None` when it is not evaluated.
fn target_diameter(read: &CleanRead, lesion_id: &LesionId, targets: &[LesionId], too_small: Mm) -> Option<Mm> {
    let status = &read.observations.get(lesion_id)?.status;
    match status {
        LesionStatus::Measured(d) => Some(*d),
        LesionStatus::TooSmallToMeasure => Some(too_small),
        LesionStatus::Disappeared => Some(Mm(0.0)),
        LesionStatus::Split(fragments) => Some(fragments.iter().fold(Mm(0.0), |a, &b| a + b)),
        LesionStatus::MergedInto(other) => {
            // The coalesced lesion is measured on `other`; this one counts 0 mm when that
            // measurement exists.
            let partner_ok = targets.contains(other)
                && read.observations.get(other).is_some_and(|o| {
                    matches!(
                        o.status,
                        LesionStatus::Measured(_) | LesionStatus::TooSmallToMeasure | LesionStatus::Split(_)
                    )
                });
            partner_ok.then_some(Mm(0.0))
        }
        LesionStatus::Present | LesionStatus::UnequivocalProgression | LesionStatus::NotEvaluated => None,
    }
}

/// Non-target response (§4.3.3): unequivocal progression → PD; any not evaluated → NE; all absent
/// (nodes below the normal short axis) → CR; else non-CR/non-PD. After an overall CR at the previous
/// time point, a non-target lesion present again is PD (EORTC RECIST 1.1 FAQ, "does a new lesion
/// always result in PD?").
fn non_target_assessment(
    record: &Record,
    read: &CleanRead,
    thresholds: &RecistThresholds,
    after_complete_response: bool,
) -> Option<NonTargetAssessment> {
    let normal = thresholds.node_normal_short_axis_mm;
    let too_small = thresholds.too_small_to_measure_mm;
    let mut progressing = Vec::new();
    let mut present = Vec::new();
    let mut missing = Vec::new();
    let mut any = false;
    for lesion in record.lesions.iter().filter(|l| l.role == LesionRole::NonTarget) {
        any = true;
        let id = lesion.lesion_id.as_str().to_owned();
        let status = read.observations.get(&lesion.lesion_id).map(|o| &o.status);
        match status {
            None | Some(LesionStatus::NotEvaluated) => missing.push(id),
            Some(LesionStatus::UnequivocalProgression) => progressing.push(id),
            Some(LesionStatus::Disappeared) => {}
            Some(LesionStatus::Measured(d)) if lesion.is_node() && *d < normal => {}
            Some(LesionStatus::TooSmallToMeasure) if lesion.is_node() && too_small < normal => {}
            Some(_) => present.push(id),
        }
    }
    if !any {
        return None;
    }
    let (response, reason) = if !progressing.is_empty() {
        (
            NonTargetResponse::Pd,
            format!("PD (RECIST 1.1 §4.3.3): unequivocal progression of {}", progressing.join(", ")),
        )
    } else if after_complete_response && !present.is_empty() {
        (
            NonTargetResponse::Pd,
            format!(
                "PD: after a CR at the previous time point, {} present again (EORTC RECIST 1.1 FAQ: reappearance after \
                 CR is progression)",
                present.join(", ")
            ),
        )
    } else if !missing.is_empty() {
        (NonTargetResponse::Ne, format!("NE: {} not evaluated", missing.join(", ")))
    } else if present.is_empty() {
        (
            NonTargetResponse::Cr,
            format!("CR (RECIST 1.1 §4.3.3): every non-target lesion absent, nodes below {} mm", mm(normal)),
        )
    } else {
        (NonTargetResponse::NonCrNonPd, format!("non-CR/non-PD (RECIST 1.1 §4.3.3): {} present", present.join(", ")))
    };
    Some(NonTargetAssessment { response, reason })
}

fn new_lesion_assessment(read: &CleanRead) -> NewLesionAssessment {
    let unequivocal: Vec<String> =
        read.new_lesions.iter().filter(|n| !n.is_equivocal).map(|n| n.new_lesion_id.clone()).collect();
    let equivocal: Vec<String> =
        read.new_lesions.iter().filter(|n| n.is_equivocal).map(|n| n.new_lesion_id.clone()).collect();
    let status = if !unequivocal.is_empty() {
        NewLesionStatus::Present
    } else if !equivocal.is_empty() {
        NewLesionStatus::Equivocal
    } else {
        NewLesionStatus::Absent
    };
    NewLesionAssessment { status, unequivocal, equivocal }
}

/// One reader's RECIST series for a checked record.
pub(crate) fn evaluate_reader(record: &Record, reader: usize, rules: &ResponseRules) -> RecistSeries {
    let thresholds = &rules.recist;
    let targets = record.targets[reader].clone();
    let reads = &record.reads[reader];
    let baseline_read = reads.first().and_then(Option::as_ref);
    let baseline_sum = match baseline_read {
        Some(read) if !targets.is_empty() => Some(
            targets
                .iter()
                .filter_map(|id| target_diameter(read, id, &targets, thresholds.too_small_to_measure_mm))
                .fold(Mm(0.0), |a, b| a + b),
        ),
        _ => None,
    };
    let mut nadir = baseline_sum;
    let mut previous_cr = false;
    let mut time_points: Vec<TimePointResponse> = Vec::new();
    let mut read_indices = Vec::new();
    if baseline_read.is_some() {
        for (tp, info) in record.time_points.iter().enumerate().skip(1) {
            let Some(read) = reads[tp].as_ref() else { continue };
            let target = baseline_sum.map(|baseline| {
                let values: Vec<TargetLesionValue> = targets
                    .iter()
                    .map(|id| TargetLesionValue {
                        lesion_id: id.clone(),
                        is_node: record.lesion(id).is_some_and(|l| l.is_node()),
                        diameter: target_diameter(read, id, &targets, thresholds.too_small_to_measure_mm),
                    })
                    .collect();
                let nadir_now = nadir.unwrap_or(baseline);
                target_response(&values, baseline, nadir_now, previous_cr, thresholds)
            });
            if let Some(t) = &target
                && t.is_complete()
            {
                nadir = Some(nadir.map_or(t.sum, |n| n.min(t.sum)));
            }
            let non_target = non_target_assessment(record, read, thresholds, previous_cr);
            let new_lesions = new_lesion_assessment(read);
            let (as_read, rule) = overall_response(
                target.as_ref().map(|t| t.response),
                non_target.as_ref().map(|n| n.response),
                new_lesions.status == NewLesionStatus::Present,
            );
            previous_cr = as_read == OverallResponse::Cr;
            time_points.push(TimePointResponse {
                label: info.label.clone(),
                date: info.date,
                target,
                non_target,
                new_lesions,
                as_read,
                rule,
                response: as_read,
                back_dated: None,
            });
            read_indices.push(tp);
        }
    }
    back_date_equivocal_new_lesions(&mut time_points);

    let responses: Vec<(Date, OverallResponse)> = time_points.iter().map(|t| (t.date, t.response)).collect();
    let labels: Vec<String> = time_points.iter().map(|t| t.label.clone()).collect();
    let has_targets = baseline_sum.is_some();
    let best_unconfirmed = best_overall_response(&responses, &labels, record.therapy_start, rules, false, has_targets);
    let best_confirmed = best_overall_response(&responses, &labels, record.therapy_start, rules, true, has_targets);
    let progression = time_points.iter().find(|t| t.response == OverallResponse::Pd).map(|t| Progression {
        label: t.label.clone(),
        date: t.date,
        reason: t.back_dated.clone().unwrap_or_else(|| t.rule.clone()),
    });
    RecistSeries { targets, baseline_sum, time_points, best_unconfirmed, best_confirmed, progression }
}

/// §4.3.5: "If a new lesion is equivocal ... and repeat scans confirm there is definitely a new
/// lesion, then progression should be declared using the date of the initial scan." Every time
/// point from the first sighting of the equivocal lesion up to its confirmation becomes PD.
fn back_date_equivocal_new_lesions(time_points: &mut [TimePointResponse]) {
    for j in 0..time_points.len() {
        let confirmed = time_points[j].new_lesions.unequivocal.clone();
        let label_j = time_points[j].label.clone();
        let date_j = time_points[j].date;
        for id in confirmed {
            for tp in time_points[..j].iter_mut() {
                if tp.new_lesions.equivocal.contains(&id) && tp.response != OverallResponse::Pd {
                    tp.response = OverallResponse::Pd;
                    tp.back_dated = Some(format!(
                        "PD back-dated (RECIST 1.1 §4.3.5): equivocal new lesion {id} seen here was confirmed as a new \
                         lesion at {label_j} ({date_j}); as read: {}",
                        tp.as_read
                    ));
                }
            }
        }
    }
}

/// Best overall response (§4.4.3) from the final time-point responses in date order.
///
/// Only time points up to the first PD count. Without confirmation the best is CR, else PR, else
/// SD (non-CR/non-PD for non-target disease only) when a stable-or-better response was seen at
/// least `min_stable_disease_days` after the start of therapy (§4.6.3), else PD if progression was
/// seen, else NE. With confirmation (Table 3, §4.6.1) a CR or PR counts only when the next
/// evaluable assessment at least `confirmation_min_interval_days` later, and every evaluable
/// assessment in between, is at least as good as PR (the confirmed level is the lowest of them:
/// CR then PR gives a confirmed PR, the footnote's reading of Table 3); an unconfirmed CR or PR
/// counts as stable disease when it meets the minimum duration; and a CR followed by a worse
/// response that is not PD, without the SD duration, is PD (Table 3: "CR, SD → SD provided
/// minimum criteria for SD duration met, otherwise PD").
pub fn best_overall_response(
    responses: &[(Date, OverallResponse)],
    labels: &[String],
    therapy_start: Date,
    rules: &ResponseRules,
    with_confirmation: bool,
    has_targets: bool,
) -> BestResponse {
    use OverallResponse as O;
    let end = responses.iter().position(|(_, r)| *r == O::Pd).map_or(responses.len(), |i| i + 1);
    let seq = &responses[..end];
    let label = |i: usize| labels.get(i).cloned().unwrap_or_else(|| format!("#{}", i + 1));
    let at = |i: usize| Some((label(i), seq[i].0));
    let min_sd = rules.min_stable_disease_days;
    let sd_category = if has_targets { O::Sd } else { O::NonCrNonPd };
    let basis = if with_confirmation {
        format!("confirmation ≥ {} days required", number(rules.confirmation_min_interval_days.value()))
    } else {
        "no confirmation required".to_owned()
    };

    // CR, then PR.
    for level in [O::Cr, O::Pr] {
        for (i, &(date, response)) in seq.iter().enumerate() {
            if response.rank() < level.rank() || response.rank().is_none() {
                continue;
            }
            if !with_confirmation {
                if response == level {
                    return BestResponse {
                        response: level,
                        time_point: at(i),
                        reason: format!("{level} at {} ({date}); {basis} (RECIST 1.1 §4.4.3)", label(i)),
                    };
                }
                continue;
            }
            if let Some((j, confirmed)) = confirmation(seq, i, rules)
                && confirmed.rank() >= level.rank()
            {
                return BestResponse {
                    response: level,
                    time_point: at(i),
                    reason: format!(
                        "{level} at {} ({date}) confirmed by {} at {} ({}), {} days later (RECIST 1.1 §4.6.1, Table 3; \
                         ≥ {} days required)",
                        label(i),
                        seq[j].1,
                        label(j),
                        seq[j].0,
                        number(seq[j].0.days_since(date).value()),
                        number(rules.confirmation_min_interval_days.value())
                    ),
                };
            }
        }
    }

    // Stable disease: any stable-or-better response after the minimum duration.
    if let Some(i) = seq
        .iter()
        .position(|&(date, r)| r.is_disease_control() && date.days_since(therapy_start).value() >= min_sd.value())
    {
        let (date, response) = seq[i];
        let unconfirmed =
            if matches!(response, O::Cr | O::Pr) { format!(" (unconfirmed {response})") } else { String::new() };
        return BestResponse {
            response: sd_category,
            time_point: at(i),
            reason: format!(
                "{sd_category}: {response}{unconfirmed} at {} ({date}), {} days after the start of therapy, meets the \
                 minimum of {} days (RECIST 1.1 §4.6.3); {basis}",
                label(i),
                number(date.days_since(therapy_start).value()),
                number(min_sd.value())
            ),
        };
    }
    let early = seq.iter().any(|(_, r)| r.is_disease_control());
    let early_text = if early {
        format!(
            "; stable-or-better responses were seen only before the minimum of {} days (RECIST 1.1 §4.6.3)",
            number(min_sd.value())
        )
    } else {
        String::new()
    };
    if let Some(i) = seq.iter().position(|(_, r)| *r == O::Pd) {
        return BestResponse {
            response: O::Pd,
            time_point: at(i),
            reason: format!("PD at {} ({}){early_text}", label(i), seq[i].0),
        };
    }
    if with_confirmation
        && let Some(i) = seq.iter().position(|(_, r)| *r == O::Cr)
        && let Some(j) = (i + 1..seq.len()).find(|&j| !matches!(seq[j].1, O::Cr | O::Ne))
    {
        return BestResponse {
            response: O::Pd,
            time_point: at(j),
            reason: format!(
                "PD: CR at {} was followed by {} at {} without the minimum SD duration (RECIST 1.1 Table 3){early_text}",
                label(i),
                seq[j].1,
                label(j)
            ),
        };
    }
    let reason = if seq.is_empty() {
        "NE: no follow-up assessment".to_owned()
    } else {
        format!("NE: no response could be established{early_text}")
    };
    BestResponse { response: O::Ne, time_point: None, reason }
}

/// The confirming assessment of the response at `i`: the first evaluable assessment at least the
/// confirmation interval later, and the lowest response from `i` up to it (evaluable ones only).
fn confirmation(seq: &[(Date, OverallResponse)], i: usize, rules: &ResponseRules) -> Option<(usize, OverallResponse)> {
    let (date_i, response_i) = seq[i];
    let mut lowest = response_i;
    for (j, &(date, response)) in seq.iter().enumerate().skip(i + 1) {
        if response == OverallResponse::Ne {
            continue;
        }
        if response.rank() < lowest.rank() {
            lowest = response;
        }
        if date.days_since(date_i).value() >= rules.confirmation_min_interval_days.value() {
            return Some((j, lowest));
        }
    }
    None
}
