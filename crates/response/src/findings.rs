//! Findings: problems in the recorded data, each naming where it is.
//!
//! Bad input is normal in a reading workflow (a lesion measured under the wrong code, a typo in a
//! date), so it does not stop the assessment: the offending value is set aside, a [`Finding`]
//! says which reader, time point and lesion it concerns and what was done, and everything else is
//! still evaluated.

use crate::model::ReaderId;
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The value could not be used and was set aside (the finding says how).
    Error,
    /// The value was used, but it breaks a rule a reviewer should look at.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem in the recorded data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Error (value set aside) or warning (value used).
    pub severity: Severity,
    /// The reader whose read it is, if it concerns one read.
    pub reader: Option<ReaderId>,
    /// The time point, as `label (date)`, if it concerns one.
    pub time_point: Option<String>,
    /// The lesion (baseline or new lesion code), if it concerns one.
    pub lesion: Option<String>,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity)?;
        let mut place = Vec::new();
        if let Some(reader) = &self.reader {
            place.push(format!("reader {reader}"));
        }
        if let Some(time_point) = &self.time_point {
            place.push(format!("time point {time_point}"));
        }
        if let Some(lesion) = &self.lesion {
            place.push(format!("lesion {lesion}"));
        }
        if !place.is_empty() {
            write!(f, "{}: ", place.join(", "))?;
        }
        f.write_str(&self.message)
    }
}

/// Collects findings with a fluent "where" builder.
#[derive(Debug, Default)]
pub(crate) struct Findings(pub(crate) Vec<Finding>);

impl Findings {
    pub(crate) fn push(
        &mut self,
        severity: Severity,
        reader: Option<&ReaderId>,
        time_point: Option<String>,
        lesion: Option<&str>,
        message: impl Into<String>,
    ) {
        self.0.push(Finding {
            severity,
            reader: reader.cloned(),
            time_point,
            lesion: lesion.map(str::to_owned),
            message: message.into(),
        });
    }
}
