//! The checking stage: recorded values in, a consistent record plus findings out.
//!
//! Everything downstream ([`crate::recist`], [`crate::ltp`], [`crate::burden`]) works on the
//! [`Record`] built here and may rely on it: lesion codes are unique and sorted (so no verdict
//! depends on input order), time points are in date order with distinct dates, every observation
//! refers to a baseline lesion, and every number is finite and non-negative.

use crate::date::Date;
use crate::findings::{Findings, Severity};
use crate::model::{
    Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, PatientAssessments, ReaderId,
    VolumeFindings,
};
use cryoseed_core::LesionId;
use cryoseed_core::protocol::Protocol;
use std::collections::{BTreeMap, BTreeSet};

/// A time point after checking.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TimePointInfo {
    pub label: String,
    pub date: Date,
}

impl TimePointInfo {
    /// `label (date)`, as findings and reasons name it.
    pub fn name(&self) -> String {
        format!("{} ({})", self.label, self.date)
    }
}

/// One reader's read of one time point after checking.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct CleanRead {
    pub observations: BTreeMap<LesionId, Observation>,
    pub new_lesions: Vec<NewLesion>,
}

/// A patient's record after checking.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Record {
    /// Baseline lesions, unique codes, sorted by code.
    pub lesions: Vec<Lesion>,
    /// Time points in date order, distinct dates; `[0]` is the baseline.
    pub time_points: Vec<TimePointInfo>,
    /// Readers (at most two), in the order given.
    pub readers: Vec<ReaderId>,
    /// `reads[reader][time point]`.
    pub reads: Vec<Vec<Option<CleanRead>>>,
    /// `targets[reader]`: the target lesions with a usable baseline measurement for that reader.
    pub targets: Vec<Vec<LesionId>>,
    pub therapy_start: Date,
}

impl Record {
    pub fn lesion(&self, lesion_id: &LesionId) -> Option<&Lesion> {
        self.lesions.binary_search_by(|l| l.lesion_id.cmp(lesion_id)).ok().map(|i| &self.lesions[i])
    }
}

/// Checks a patient's assessments; returns the usable record and every finding.
pub(crate) fn check(input: &PatientAssessments, protocol: &Protocol, findings: &mut Findings) -> Record {
    let lesions = check_lesions(input, protocol, findings);
    let time_points_sorted = check_time_points(input, findings);
    let readers = check_readers(input, findings);

    let mut reads: Vec<Vec<Option<CleanRead>>> = vec![vec![None; time_points_sorted.len()]; readers.len()];
    for (tp_index, (info, original)) in time_points_sorted.iter().enumerate() {
        let time_point = &input.time_points[*original];
        for read in &time_point.reads {
            let Some(r) = readers.iter().position(|reader| *reader == read.reader) else {
                findings.push(
                    Severity::Error,
                    Some(&read.reader),
                    Some(info.name()),
                    None,
                    "read by a reader who is not one of the patient's readers; ignored",
                );
                continue;
            };
            if reads[r][tp_index].is_some() {
                findings.push(
                    Severity::Error,
                    Some(&read.reader),
                    Some(info.name()),
                    None,
                    "a second read by the same reader at this time point; the first is used",
                );
                continue;
            }
            let clean = check_read(read, &lesions, tp_index == 0, info, findings);
            reads[r][tp_index] = Some(clean);
        }
    }

    let time_points: Vec<TimePointInfo> = time_points_sorted.into_iter().map(|(info, _)| info).collect();
    let mut targets = Vec::with_capacity(readers.len());
    for (r, reader) in readers.iter().enumerate() {
        targets.push(check_baseline(reader, &lesions, &time_points, &reads[r], protocol, findings));
        for (tp_index, info) in time_points.iter().enumerate().skip(1) {
            match &reads[r][tp_index] {
                None => findings.push(
                    Severity::Warning,
                    Some(reader),
                    Some(info.name()),
                    None,
                    "no read by this reader at this time point",
                ),
                Some(read) => {
                    for lesion in &lesions {
                        if !read.observations.contains_key(&lesion.lesion_id) {
                            findings.push(
                                Severity::Warning,
                                Some(reader),
                                Some(info.name()),
                                Some(lesion.lesion_id.as_str()),
                                "not assessed at this time point (counts as not evaluated)",
                            );
                        }
                    }
                }
            }
        }
    }
    Record { lesions, time_points, readers, reads, targets, therapy_start: input.therapy_start }
}

fn check_lesions(input: &PatientAssessments, protocol: &Protocol, findings: &mut Findings) -> Vec<Lesion> {
    let mut seen = BTreeSet::new();
    let mut lesions = Vec::new();
    for lesion in &input.lesions {
        if !seen.insert(lesion.lesion_id.clone()) {
            findings.push(
                Severity::Error,
                None,
                None,
                Some(lesion.lesion_id.as_str()),
                "lesion id listed twice; the first entry is used",
            );
            continue;
        }
        lesions.push(lesion.clone());
    }
    lesions.sort_by(|a, b| a.lesion_id.cmp(&b.lesion_id));

    let bulky: Vec<&Lesion> = lesions.iter().filter(|l| l.is_bulky_index).collect();
    if bulky.len() > 1 {
        let ids: Vec<&str> = bulky.iter().map(|l| l.lesion_id.as_str()).collect();
        findings.push(
            Severity::Warning,
            None,
            None,
            None,
            format!("{} lesions are marked bulky index ({}); the first is used", bulky.len(), ids.join(", ")),
        );
    }

    if let Some(first) = bulky.first()
        && first.role != LesionRole::Target
    {
        findings.push(
            Severity::Warning,
            None,
            None,
            Some(first.lesion_id.as_str()),
            "the bulky index lesion is not a target lesion (DESIGN.md: it is one of the prespecified targets); its \
             volumes are still used for tumour burden",
        );
    }

    // RECIST 1.1 §4.2: at most 5 targets, at most 2 per organ (all nodes are one organ).
    let m = &protocol.eligibility.measurability;
    let targets: Vec<&Lesion> = lesions.iter().filter(|l| l.role == LesionRole::Target).collect();
    if targets.len() > m.max_targets as usize {
        findings.push(
            Severity::Warning,
            None,
            None,
            None,
            format!(
                "{} target lesions; RECIST 1.1 §4.2 allows at most {} (all are evaluated)",
                targets.len(),
                m.max_targets
            ),
        );
    }
    let mut per_organ: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for lesion in &targets {
        per_organ.entry(lesion.organ.to_string()).or_default().push(lesion.lesion_id.as_str());
    }
    for (organ, ids) in per_organ {
        if ids.len() > m.max_targets_per_organ as usize {
            findings.push(
                Severity::Warning,
                None,
                None,
                None,
                format!(
                    "{} target lesions in {organ} ({}); RECIST 1.1 §4.2 allows at most {} per organ (all are evaluated)",
                    ids.len(),
                    ids.join(", "),
                    m.max_targets_per_organ
                ),
            );
        }
    }
    lesions
}

/// Time points sorted by date (stable), with their index in the input; same-date duplicates
/// dropped.
fn check_time_points(input: &PatientAssessments, findings: &mut Findings) -> Vec<(TimePointInfo, usize)> {
    let mut order: Vec<usize> = (0..input.time_points.len()).collect();
    for pair in input.time_points.windows(2) {
        if pair[1].date < pair[0].date {
            findings.push(
                Severity::Warning,
                None,
                Some(format!("{} ({})", pair[1].label, pair[1].date)),
                None,
                format!(
                    "dated before the preceding time point {} ({}); time points are evaluated in date order",
                    pair[0].label, pair[0].date
                ),
            );
        }
    }
    order.sort_by_key(|&i| input.time_points[i].date);
    let mut out: Vec<(TimePointInfo, usize)> = Vec::new();
    for i in order {
        let tp = &input.time_points[i];
        let info = TimePointInfo { label: tp.label.clone(), date: tp.date };
        if let Some((previous, _)) = out.last()
            && previous.date == tp.date
        {
            findings.push(
                Severity::Error,
                None,
                Some(info.name()),
                None,
                format!("same date as time point {}; this time point is ignored", previous.label),
            );
            continue;
        }
        out.push((info, i));
    }
    if let Some((baseline, _)) = out.first()
        && baseline.date > input.therapy_start
    {
        findings.push(
            Severity::Warning,
            None,
            Some(baseline.name()),
            None,
            format!("the baseline scan is after the start of therapy ({})", input.therapy_start),
        );
    }
    for (info, _) in out.iter().skip(1) {
        if info.date <= input.therapy_start {
            findings.push(
                Severity::Warning,
                None,
                Some(info.name()),
                None,
                format!("follow-up scan on or before the start of therapy ({})", input.therapy_start),
            );
        }
    }
    if out.is_empty() {
        findings.push(Severity::Error, None, None, None, "no time points: nothing to assess");
    }
    out
}

fn check_readers(input: &PatientAssessments, findings: &mut Findings) -> Vec<ReaderId> {
    let mut readers: Vec<ReaderId> = Vec::new();
    for reader in &input.readers {
        if readers.contains(reader) {
            findings.push(Severity::Error, Some(reader), None, None, "reader listed twice; listed once");
            continue;
        }
        readers.push(reader.clone());
    }
    if readers.len() > 2 {
        for reader in &readers[2..] {
            findings.push(
                Severity::Error,
                Some(reader),
                None,
                None,
                "more than two blinded readers; the reads of this reader are ignored",
            );
        }
        readers.truncate(2);
    }
    if readers.is_empty() {
        findings.push(Severity::Error, None, None, None, "no readers listed: nothing to assess");
    }
    readers
}

fn check_read(
    read: &crate::model::Read,
    lesions: &[Lesion],
    is_baseline: bool,
    info: &TimePointInfo,
    findings: &mut Findings,
) -> CleanRead {
    let reader = Some(&read.reader);
    let name = || Some(info.name());
    let mut clean = CleanRead::default();
    for observation in &read.observations {
        let id = observation.lesion_id.as_str();
        let Some(lesion) = lesions.iter().find(|l| l.lesion_id == observation.lesion_id) else {
            findings.push(
                Severity::Error,
                reader,
                name(),
                Some(id),
                "this lesion was never seen at baseline (it is not in the patient's lesion list); the \
                 measurement is ignored. A lesion that appeared after baseline belongs under new_lesions",
            );
            continue;
        };
        if clean.observations.contains_key(&observation.lesion_id) {
            findings.push(
                Severity::Error,
                reader,
                name(),
                Some(id),
                "measured twice in the same read; the first measurement is used",
            );
            continue;
        }
        let mut error = |message: String| findings.push(Severity::Error, reader, name(), Some(id), message);
        let status = check_status(&observation.status, lesion, lesions, &mut error);
        let local = check_local(&observation.local, lesion, &mut error);
        let volumes = check_volumes(&observation.volumes, &mut error);
        if lesion.treated_on.is_none() && observation.local != LocalFindings::default() {
            let has_flags = observation.local.margin_enhancement
                || observation.local.residual_tumour
                || observation.local.biopsy_viable_tumour
                || observation.local.reintervention;
            if has_flags {
                findings.push(
                    Severity::Warning,
                    reader,
                    name(),
                    Some(id),
                    "treatment-zone findings on a lesion without protocol therapy are not used for local progression",
                );
            }
        }
        let observation = Observation { lesion_id: observation.lesion_id.clone(), status, local, volumes };
        clean.observations.insert(observation.lesion_id.clone(), observation);
    }
    let mut new_ids = BTreeSet::new();
    for new_lesion in &read.new_lesions {
        let id = new_lesion.new_lesion_id.as_str();
        if is_baseline {
            findings.push(
                Severity::Error,
                reader,
                name(),
                Some(id),
                "a new lesion at baseline is not possible; record it as a baseline lesion. Ignored",
            );
            continue;
        }
        if id.trim().is_empty() {
            findings.push(Severity::Error, reader, name(), None, "a new lesion without a code; ignored");
            continue;
        }
        if lesions.iter().any(|l| l.lesion_id.as_str() == id) {
            findings.push(
                Severity::Error,
                reader,
                name(),
                Some(id),
                "a new lesion with the code of a baseline lesion; ignored",
            );
            continue;
        }
        if !new_ids.insert(id.to_owned()) {
            findings.push(Severity::Error, reader, name(), Some(id), "new lesion listed twice; listed once");
            continue;
        }
        clean.new_lesions.push(new_lesion.clone());
    }
    clean.new_lesions.sort_by(|a, b| a.new_lesion_id.cmp(&b.new_lesion_id));
    clean
}

fn valid_length(value: f64) -> bool {
    value.is_finite() && value >= 0.0
}

fn check_status(
    status: &LesionStatus,
    lesion: &Lesion,
    lesions: &[Lesion],
    error: &mut impl FnMut(String),
) -> LesionStatus {
    use LesionStatus as S;
    match status {
        S::Measured(d) if !valid_length(d.value()) => {
            error(format!("diameter {} mm is negative or not a number; not evaluated at this time point", d.value()));
            S::NotEvaluated
        }
        S::Split(fragments) if fragments.is_empty() || fragments.iter().any(|d| !valid_length(d.value())) => {
            let values: Vec<String> = fragments.iter().map(|d| d.value().to_string()).collect();
            error(format!(
                "split lesion fragments [{}] mm must be one or more non-negative numbers; not evaluated at this time point",
                values.join(", ")
            ));
            S::NotEvaluated
        }
        S::MergedInto(other) if lesion.role == LesionRole::Target => {
            let partner = lesions.iter().find(|l| l.lesion_id == *other);
            match partner {
                _ if *other == lesion.lesion_id => {
                    error("merged into itself; not evaluated at this time point".to_owned());
                    S::NotEvaluated
                }
                Some(p) if p.role == LesionRole::Target => status.clone(),
                Some(_) => {
                    error(format!(
                        "merged into {other}, which is not a target lesion: the coalesced diameter must be measured \
                         on a target (RECIST 1.1 §4.3.2); not evaluated at this time point"
                    ));
                    S::NotEvaluated
                }
                None => {
                    error(format!(
                        "merged into {other}, which is not a baseline lesion; not evaluated at this time point"
                    ));
                    S::NotEvaluated
                }
            }
        }
        S::Present | S::UnequivocalProgression if lesion.role == LesionRole::Target => {
            error(
                "a target lesion needs a measurement (or too small / disappeared / split / merged), not a \
                 non-target status; not evaluated at this time point"
                    .to_owned(),
            );
            S::NotEvaluated
        }
        _ => status.clone(),
    }
}

fn check_local(local: &LocalFindings, lesion: &Lesion, error: &mut impl FnMut(String)) -> LocalFindings {
    let mut local = local.clone();
    if let Some(d) = local.ablation_zone_diameter
        && !valid_length(d.value())
    {
        error(format!("ablation zone diameter {} mm is negative or not a number; ignored", d.value()));
        local.ablation_zone_diameter = None;
    }
    if local.failure_zone.is_some() && !lesion.is_bulky_index {
        error("a failure zone is only recorded for the bulky index lesion; ignored".to_owned());
        local.failure_zone = None;
    }
    local
}

fn check_volumes(volumes: &VolumeFindings, error: &mut impl FnMut(String)) -> VolumeFindings {
    let mut volumes = volumes.clone();
    for (name, value) in [
        ("volume", &mut volumes.volume),
        ("core volume", &mut volumes.core_volume),
        ("margin volume", &mut volumes.margin_volume),
    ] {
        if let Some(v) = *value
            && !valid_length(v.value())
        {
            error(format!("{name} {} mL is negative or not a number; ignored", v.value()));
            *value = None;
        }
    }
    if let Some(p) = volumes.non_enhancing
        && !(p.value().is_finite() && (0.0..=100.0).contains(&p.value()))
    {
        error(format!("non-enhancing fraction {} % must be in [0, 100]; ignored", p.value()));
        volumes.non_enhancing = None;
    }
    volumes
}

/// Baseline checks of one reader: every target measured and measurable (RECIST 1.1 §3.1), nodes
/// at least pathological. Returns the targets usable for the sum of diameters.
fn check_baseline(
    reader: &ReaderId,
    lesions: &[Lesion],
    time_points: &[TimePointInfo],
    reads: &[Option<CleanRead>],
    protocol: &Protocol,
    findings: &mut Findings,
) -> Vec<LesionId> {
    let Some(baseline_info) = time_points.first() else {
        return Vec::new();
    };
    let name = || Some(baseline_info.name());
    let Some(baseline) = reads.first().and_then(Option::as_ref) else {
        findings.push(
            Severity::Error,
            Some(reader),
            name(),
            None,
            "no baseline read: this reader's follow-up reads cannot be assessed",
        );
        return Vec::new();
    };
    let m = &protocol.eligibility.measurability;
    let normal = protocol.response.recist.node_normal_short_axis_mm;
    let mut targets = Vec::new();
    for lesion in lesions {
        let id = lesion.lesion_id.as_str();
        let observation = baseline.observations.get(&lesion.lesion_id);
        match (lesion.role, observation.map(|o| &o.status)) {
            (LesionRole::Target, Some(LesionStatus::Measured(d))) if d.value() > 0.0 => {
                let (minimum, axis, rule) = if lesion.is_node() {
                    (m.min_nodal_short_axis_mm, "short axis", "a measurable node")
                } else {
                    (m.min_non_nodal_longest_diameter_mm, "longest diameter", "a measurable lesion")
                };
                if *d < minimum {
                    findings.push(
                        Severity::Warning,
                        Some(reader),
                        name(),
                        Some(id),
                        format!(
                            "target {axis} {} mm at baseline is below {} mm, the minimum for {rule} (RECIST 1.1 §3.1); \
                             kept as a target",
                            d.value(),
                            minimum.value()
                        ),
                    );
                }
                targets.push(lesion.lesion_id.clone());
            }
            (LesionRole::Target, status) => {
                let what = match status {
                    None => "not measured".to_owned(),
                    Some(s) => format!("recorded as {}", status_name(s)),
                };
                findings.push(
                    Severity::Error,
                    Some(reader),
                    name(),
                    Some(id),
                    format!(
                        "target lesion {what} at baseline; a target needs a baseline measurement > 0 mm. Left out of \
                         this reader's sum of diameters at every time point"
                    ),
                );
            }
            (LesionRole::NonTarget, Some(LesionStatus::Measured(d))) if lesion.is_node() && *d < normal => {
                findings.push(
                    Severity::Warning,
                    Some(reader),
                    name(),
                    Some(id),
                    format!(
                        "non-target node with short axis {} mm at baseline is below {} mm, i.e. normal \
                         (RECIST 1.1 §3.1)",
                        d.value(),
                        normal.value()
                    ),
                );
            }
            (LesionRole::NonTarget, None) => findings.push(
                Severity::Warning,
                Some(reader),
                name(),
                Some(id),
                "non-target lesion not recorded at baseline",
            ),
            _ => {}
        }
    }
    targets
}

/// The status as written in the exchange format.
pub(crate) fn status_name(status: &LesionStatus) -> String {
    match status {
        LesionStatus::Measured(d) => format!("{} mm", d.value()),
        LesionStatus::TooSmallToMeasure => "too small to measure".to_owned(),
        LesionStatus::Disappeared => "disappeared".to_owned(),
        LesionStatus::Split(_) => "split".to_owned(),
        LesionStatus::MergedInto(other) => format!("merged into {other}"),
        LesionStatus::Present => "present".to_owned(),
        LesionStatus::UnequivocalProgression => "unequivocal progression".to_owned(),
        LesionStatus::NotEvaluated => "not evaluated".to_owned(),
    }
}
