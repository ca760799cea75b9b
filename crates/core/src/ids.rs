//! Identifiers. Each is parsed once at the boundary (`PatientId::parse`) and is then known to be
//! a short, printable code that is safe in file names, URLs, CSV cells and DICOM LO elements.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    /// Which identifier was being parsed (`patient id`, `lesion id`, …).
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Longest identifier accepted (DICOM LO allows 64 characters).
pub const MAX_ID_LEN: usize = 64;

fn check_id(kind: &'static str, value: &str) -> Result<(), IdError> {
    let err = |reason| IdError { kind, value: value.to_owned(), reason };
    if value.is_empty() {
        return Err(err("must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(err("must be at most 64 characters"));
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(err("may contain only ASCII letters, digits, '-', '_' and '.'"));
    }
    if value.starts_with('.') {
        return Err(err("must not start with '.'"));
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates an identifier.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_id($kind, &value)?;
                Ok(Self(value))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A trial participant's pseudonymous code (never a name or hospital number).
    PatientId,
    "patient id"
);
id_type!(
    /// A lesion's code, unique within its patient (e.g. `L1`).
    LesionId,
    "lesion id"
);
id_type!(
    /// A participating centre's code.
    SiteId,
    "site id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(PatientId::parse("SIM-0001").is_ok());
        assert!(LesionId::parse("L1").is_ok());
        let err = PatientId::parse("a/b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid patient id \"a/b\": may contain only ASCII letters, digits, '-', '_' and '.'"
        );
        assert!(SiteId::parse("").is_err());
        assert!(SiteId::parse("..").is_err());
        assert!(SiteId::parse("x".repeat(65)).is_err());
    }
}
