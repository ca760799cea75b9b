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
