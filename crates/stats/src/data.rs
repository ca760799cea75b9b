//! Validated right-censored survival data.

use crate::error::{Result, StatsError};

/// Right-censored observations: a time (≥ 0, finite, in the data's own unit — days, weeks or
/// months; every time-valued result is in that same unit) and whether the event was observed.
/// Built once with [`SurvivalData::new`]; estimators take it as given.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalData {
    time: Vec<f64>,
    event: Vec<bool>,
}

impl SurvivalData {
    /// Validates `time` (finite, ≥ 0) and pairs it with `event` (true = event observed).
    pub fn new(time: Vec<f64>, event: Vec<bool>) -> Result<Self> {
        if event.len() != time.len() {
            return Err(StatsError::LengthMismatch { what: "event", expected: time.len(), found: event.len() });
        }
        for (index, &t) in time.iter().enumerate() {
            if !t.is_finite() {
                return Err(invalid(index, "time", format!("not a finite number: {t}")));
            }
            if t < 0.0 {
                return Err(invalid(index, "time", format!("negative time {t}")));
            }
        }
        Ok(SurvivalData { time, event })
    }

    /// Observed times.
    pub fn time(&self) -> &[f64] {
        &self.time
    }

    /// Event indicators.
    pub fn event(&self) -> &[bool] {
        &self.event
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.time.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }

    /// Number of observed events.
    pub fn events(&self) -> usize {
        self.event.iter().filter(|&&e| e).count()
    }

    /// The observations whose index is in `rows`, in that order.
    pub fn subset(&self, rows: &[usize]) -> SurvivalData {
        SurvivalData {
            time: rows.iter().map(|&i| self.time[i]).collect(),
            event: rows.iter().map(|&i| self.event[i]).collect(),
        }
    }
}

pub(crate) fn invalid(index: usize, field: &str, problem: String) -> StatsError {
    StatsError::InvalidObservation { index, field: field.to_owned(), problem }
}

/// Indices of `time` sorted by increasing time (stable, so input order breaks ties).
pub(crate) fn order_by_time(time: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..time.len()).collect();
    idx.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
    idx
}

/// Distinct group labels in order of first sort (lexicographic), and each observation's group index.
pub(crate) fn group_codes(labels: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut levels: Vec<String> = labels.to_vec();
    levels.sort();
    levels.dedup();
    let codes = labels.iter().map(|l| levels.binary_search(l).unwrap_or(0)).collect();
    (levels, codes)
}

/// The grouping of a K-sample test: group labels in sorted order, each observation's group and
/// stratum index, and the number of strata.
pub(crate) struct Grouping {
    pub levels: Vec<String>,
    pub codes: Vec<usize>,
    pub strata_codes: Vec<usize>,
    pub n_strata: usize,
}

/// Checks that `group` (and `strata`, when given) have one label per observation and that there
/// are at least two groups; `test` names the test in the error.
pub(crate) fn k_sample_grouping(n: usize, group: &[String], strata: Option<&[String]>, test: &str) -> Result<Grouping> {
    if group.len() != n {
        return Err(StatsError::LengthMismatch { what: "group", expected: n, found: group.len() });
    }
    if let Some(s) = strata
        && s.len() != n
    {
        return Err(StatsError::LengthMismatch { what: "strata", expected: n, found: s.len() });
    }
    let (levels, codes) = group_codes(group);
    if levels.len() < 2 {
        return Err(StatsError::NotEstimable(format!("{test} needs at least two groups, found {}", levels.len())));
    }
    let strata_codes = strata.map_or_else(|| vec![0; n], |s| group_codes(s).1);
    let n_strata = strata_codes.iter().copied().max().unwrap_or(0) + 1;
    Ok(Grouping { levels, codes, strata_codes, n_strata })
}
