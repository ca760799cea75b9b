//! Tumour burden (% change in the sum of diameters and in bulky-lesion volume at the protocol
//! time points), zonal response of the bulky lesion (core vs margin volume, non-enhancing
//! fraction), and patterns of failure.

use crate::clean::Record;
use crate::date::Date;
use crate::ltp::LtpAssessment;
use crate::model::{LesionRole, LesionStatus};
use crate::recist::{RecistSeries, mm, number, percent};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Ml, Mm, Months, Organ, Percent, Zone};

const EPSILON: f64 = 1e-9;

/// Tumour burden and zonal volumes at one time point (baseline included).
#[derive(Clone, Debug, PartialEq)]
pub struct BurdenPoint {
    /// Time point label.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// Sum of target diameters, when every target was evaluated.
    pub sum_of_diameters: Option<Mm>,
    /// Its change from baseline, %.
    pub sum_change: Option<Percent>,
    /// Bulky index lesion volume.
    pub bulky_volume: Option<Ml>,
    /// Its change from baseline, %.
    pub bulky_volume_change: Option<Percent>,
    /// Core zone volume of the bulky lesion.
    pub core_volume: Option<Ml>,
    /// Its change from baseline, %.
    pub core_volume_change: Option<Percent>,
    /// Margin zone volume of the bulky lesion.
    pub margin_volume: Option<Ml>,
    /// Its change from baseline, %.
    pub margin_volume_change: Option<Percent>,
    /// Necrotic / non-enhancing share of the bulky lesion, %.
    pub non_enhancing: Option<Percent>,
}

/// Tumour burden at a protocol time point (`endpoints.tumour_burden_months`).
#[derive(Clone, Debug, PartialEq)]
pub struct BurdenAtMonth {
    /// Months after the start of therapy.
    pub months: Months,
    /// The nominal date.
    pub nominal_date: Date,
    /// The assessment used: the nearest within the window (label, date).
    pub time_point: Option<(String, Date)>,
    /// % change in the sum of diameters from baseline.
    pub sum_change: Option<Percent>,
    /// % change in bulky-lesion volume from baseline.
    pub bulky_volume_change: Option<Percent>,
    /// Which assessment was used and why, or why none.
    pub reason: String,
}

/// Tumour burden of one reader.
#[derive(Clone, Debug, PartialEq)]
pub struct TumourBurden {
    /// Every time point read.
    pub series: Vec<BurdenPoint>,
    /// At each protocol time point.
    pub at_protocol_months: Vec<BurdenAtMonth>,
}

fn change(value: Option<f64>, reference: Option<f64>) -> Option<Percent> {
    let (value, reference) = (value?, reference?);
    (reference > 0.0).then(|| Percent((value - reference) / reference * 100.0))
}

pub(crate) fn evaluate_reader(
    record: &Record,
    reader: usize,
    recist: &RecistSeries,
    protocol: &Protocol,
) -> TumourBurden {
    let reads = &record.reads[reader];
    let bulky = record.lesions.iter().find(|l| l.is_bulky_index).map(|l| l.lesion_id.clone());
    let mut series = Vec::new();
    let volumes_at = |tp: usize| {
        let observation = bulky.as_ref().and_then(|id| reads[tp].as_ref()?.observations.get(id));
        observation.map(|o| o.volumes.clone()).unwrap_or_default()
    };
    let Some(baseline_info) = record.time_points.first() else {
        return TumourBurden { series, at_protocol_months: Vec::new() };
    };
    let baseline_volumes = volumes_at(0);
    if reads.first().is_some_and(Option::is_some) {
        series.push(BurdenPoint {
            label: baseline_info.label.clone(),
            date: baseline_info.date,
            sum_of_diameters: recist.baseline_sum,
            sum_change: recist.baseline_sum.filter(|s| s.value() > 0.0).map(|_| Percent(0.0)),
            bulky_volume: baseline_volumes.volume,
            bulky_volume_change: baseline_volumes.volume.filter(|v| v.value() > 0.0).map(|_| Percent(0.0)),
            core_volume: baseline_volumes.core_volume,
            core_volume_change: baseline_volumes.core_volume.filter(|v| v.value() > 0.0).map(|_| Percent(0.0)),
            margin_volume: baseline_volumes.margin_volume,
            margin_volume_change: baseline_volumes.margin_volume.filter(|v| v.value() > 0.0).map(|_| Percent(0.0)),
            non_enhancing: baseline_volumes.non_enhancing,
        });
    }
    for (tp, info) in record.time_points.iter().enumerate().skip(1) {
        if reads[tp].is_none() {
            continue;
        }
        let response = recist.time_points.iter().find(|t| t.date == info.date);
        let sum = response.and_then(|r| r.target.as_ref()).filter(|t| t.is_complete()).map(|t| t.sum);
        let v = volumes_at(tp);
        series.push(BurdenPoint {
            label: info.label.clone(),
            date: info.date,
            sum_of_diameters: sum,
            sum_change: change(sum.map(Mm::value), recist.baseline_sum.map(Mm::value)),
            bulky_volume: v.volume,
            bulky_volume_change: change(v.volume.map(Ml::value), baseline_volumes.volume.map(Ml::value)),
            core_volume: v.core_volume,
            core_volume_change: change(v.core_volume.map(Ml::value), baseline_volumes.core_volume.map(Ml::value)),
            margin_volume: v.margin_volume,
            margin_volume_change: change(v.margin_volume.map(Ml::value), baseline_volumes.margin_volume.map(Ml::value)),
            non_enhancing: v.non_enhancing,
        });
    }

    let window = protocol.response.tumour_burden_window_days.value();
    let at_protocol_months = protocol
        .endpoints
        .tumour_burden_months
        .iter()
        .map(|&months| {
            let nominal_days = months.to_days().value().round() as i32;
            let nominal_date = record.therapy_start.plus_days(nominal_days);
            let nearest = series
                .iter()
                .skip(1)
                .map(|p| (p, p.date.days_since(nominal_date).value().abs()))
                .filter(|(_, distance)| *distance <= window + EPSILON)
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.date.cmp(&b.0.date)));
            match nearest {
                Some((point, distance)) => BurdenAtMonth {
                    months,
                    nominal_date,
                    time_point: Some((point.label.clone(), point.date)),
                    sum_change: point.sum_change,
                    bulky_volume_change: point.bulky_volume_change,
                    reason: format!(
                        "{} ({}) is the assessment nearest to {} months ({nominal_date}), {} day{} away (window ± {} days)",
                        point.label,
                        point.date,
                        number(months.value()),
                        number(distance),
                        if distance == 1.0 { "" } else { "s" },
                        number(window)
                    ),
                },
                None => BurdenAtMonth {
                    months,
                    nominal_date,
                    time_point: None,
                    sum_change: None,
                    bulky_volume_change: None,
                    reason: format!(
                        "no assessment within ± {} days of {} months ({nominal_date})",
                        number(window),
                        number(months.value())
                    ),
                },
            }
        })
        .collect();
    TumourBurden { series, at_protocol_months }
}

/// Where a failure happened.
#[derive(Clone, Debug, PartialEq)]
pub enum FailureSite {
    /// Local tumour progression of a lesion treated by protocol therapy.
    TreatedLesion {
        /// The lesion.
        lesion_id: LesionId,
        /// Whether it is the bulky index lesion.
        is_bulky_index: bool,
        /// For the bulky lesion: core or margin, when known.
        zone: Option<Zone>,
    },
    /// Progression of a baseline lesion that received no protocol therapy.
    UntreatedLesion {
        /// The lesion.
        lesion_id: LesionId,
    },
    /// A new lesion.
    NewLesion {
        /// The reader's code.
        new_lesion_id: String,
        /// Organ, when given.
        organ: Option<Organ>,
    },
}

impl FailureSite {
    /// `treated lesion`, `untreated lesion` or `new lesion`.
    pub fn kind(&self) -> &'static str {
        match self {
            FailureSite::TreatedLesion { .. } => "treated lesion",
            FailureSite::UntreatedLesion { .. } => "untreated lesion",
            FailureSite::NewLesion { .. } => "new lesion",
        }
    }

    /// Whether this is systemic failure (new lesion or untreated disease), as opposed to local.
    pub fn is_systemic(&self) -> bool {
        !matches!(self, FailureSite::TreatedLesion { .. })
    }
}

/// One failure with its date of first evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct FailureEvent {
    /// Where.
    pub site: FailureSite,
    /// Time point of first evidence.
    pub label: String,
    /// Date of first evidence.
    pub date: Date,
    /// Why.
    pub reason: String,
}

/// Every failure of one reader's assessment, in date order.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternsOfFailure {
    /// Failures, by date then site kind then code.
    pub events: Vec<FailureEvent>,
}

impl PatternsOfFailure {
    /// The earliest systemic failure (new lesion or progression of untreated disease): the event
    /// of time to systemic progression.
    pub fn first_systemic(&self) -> Option<&FailureEvent> {
        self.events.iter().find(|e| e.site.is_systemic())
    }

    /// The kinds of the earliest failures (several when they share the first date).
    pub fn first_kinds(&self) -> Vec<&'static str> {
        let Some(first) = self.events.first() else { return Vec::new() };
        let mut kinds: Vec<&'static str> =
            self.events.iter().filter(|e| e.date == first.date).map(|e| e.site.kind()).collect();
        kinds.dedup();
        kinds
    }
}

pub(crate) fn patterns_of_failure(
    record: &Record,
    reader: usize,
    recist: &RecistSeries,
    local: &[LtpAssessment],
    protocol: &Protocol,
) -> PatternsOfFailure {
    let mut events = Vec::new();
    for assessment in local {
        if let Some(p) = &assessment.progression {
            let zone_text = p.zone_reason.as_ref().map_or(String::new(), |z| format!("; zone {z}"));
            events.push(FailureEvent {
                site: FailureSite::TreatedLesion {
                    lesion_id: assessment.lesion_id.clone(),
                    is_bulky_index: assessment.is_bulky_index,
                    zone: p.zone,
                },
                label: p.label.clone(),
                date: p.date,
                reason: format!("local tumour progression: {}{zone_text}", p.criteria.join("; ")),
            });
        }
    }
    // Untreated lesions: a target growing by the RECIST PD thresholds over its own nadir, or a
    // non-target with unequivocal progression.
    let thresholds = &protocol.response.recist;
    let reads = &record.reads[reader];
    for lesion in record.lesions.iter().filter(|l| l.treated_on.is_none()) {
        let mut nadir: Option<Mm> = None;
        for (tp, info) in record.time_points.iter().enumerate() {
            let Some(observation) = reads[tp].as_ref().and_then(|r| r.observations.get(&lesion.lesion_id)) else {
                continue;
            };
            let reason = match (lesion.role, &observation.status) {
                (LesionRole::NonTarget, LesionStatus::UnequivocalProgression) if tp > 0 => {
                    Some("unequivocal progression of a non-target lesion (RECIST 1.1 §4.3.3)".to_owned())
                }
                (LesionRole::Target, status) => {
                    let d = match status {
                        LesionStatus::Measured(d) => Some(*d),
                        LesionStatus::TooSmallToMeasure => Some(thresholds.too_small_to_measure_mm),
                        LesionStatus::Disappeared => Some(Mm(0.0)),
                        LesionStatus::Split(f) => Some(f.iter().fold(Mm(0.0), |a, &b| a + b)),
                        _ => None,
                    };
                    let mut reason = None;
                    if let (Some(d), Some(n)) = (d, nadir) {
                        let growth = d - n;
                        let relative = (n.value() > 0.0).then(|| growth.value() / n.value() * 100.0);
                        if growth.value() > 0.0
                            && growth.value() >= thresholds.progression_min_increase_mm.value() - EPSILON
                            && relative
                                .is_none_or(|r| r >= thresholds.progression_min_increase_percent.value() - EPSILON)
                        {
                            reason = Some(format!(
                                "untreated target grew to {} mm, {} mm and {} over its nadir {} mm (RECIST PD thresholds \
                                 applied to the lesion)",
                                mm(d),
                                mm(growth),
                                relative.map_or("infinitely".to_owned(), percent),
                                mm(n)
                            ));
                        }
                    }
                    if let Some(d) = d {
                        nadir = Some(nadir.map_or(d, |n| n.min(d)));
                    }
                    reason
                }
                _ => None,
            };
            if let Some(reason) = reason {
                events.push(FailureEvent {
                    site: FailureSite::UntreatedLesion { lesion_id: lesion.lesion_id.clone() },
                    label: info.label.clone(),
                    date: info.date,
                    reason,
                });
                break;
            }
        }
    }
    // New lesions: dated from their first sighting (equivocal sightings count once confirmed).
    let mut seen: Vec<String> = Vec::new();
    for (j, tp) in recist.time_points.iter().enumerate() {
        for id in &tp.new_lesions.unequivocal {
            if seen.contains(id) {
                continue;
            }
            seen.push(id.clone());
            let first =
                recist.time_points[..j].iter().find(|earlier| earlier.new_lesions.equivocal.contains(id)).unwrap_or(tp);
            let organ = record.time_points.iter().enumerate().find_map(|(index, info)| {
                (info.date == tp.date)
                    .then(|| reads[index].as_ref())
                    .flatten()
                    .and_then(|r| r.new_lesions.iter().find(|n| &n.new_lesion_id == id))
                    .and_then(|n| n.organ)
            });
            let reason = if first.date == tp.date {
                "new lesion (RECIST 1.1 §4.3.5)".to_owned()
            } else {
                format!(
                    "new lesion, equivocal at {} and confirmed at {} (dated from the first sighting)",
                    first.label, tp.label
                )
            };
            events.push(FailureEvent {
                site: FailureSite::NewLesion { new_lesion_id: id.clone(), organ },
                label: first.label.clone(),
                date: first.date,
                reason,
            });
        }
    }
    let kind_rank = |s: &FailureSite| match s {
        FailureSite::TreatedLesion { .. } => 0,
        FailureSite::UntreatedLesion { .. } => 1,
        FailureSite::NewLesion { .. } => 2,
    };
    let code = |s: &FailureSite| match s {
        FailureSite::TreatedLesion { lesion_id, .. } | FailureSite::UntreatedLesion { lesion_id } => {
            lesion_id.as_str().to_owned()
        }
        FailureSite::NewLesion { new_lesion_id, .. } => new_lesion_id.clone(),
    };
    events.sort_by(|a, b| {
        a.date.cmp(&b.date).then(kind_rank(&a.site).cmp(&kind_rank(&b.site))).then(code(&a.site).cmp(&code(&b.site)))
    });
    PatternsOfFailure { events }
}
