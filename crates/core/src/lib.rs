//! The cryoseed domain: units, identifiers, clinical vocabulary and the versioned protocol.
//!
//! Every other crate speaks these types. Physical quantities are newtypes ([`Mm`], [`Gy`], [`U`],
//! …) so a unit is checked by the compiler; points carry their frame ([`PatientPoint`]). The
//! [`Protocol`] holds every clinical threshold of the trial, loaded from
//! `protocol.toml`, validated with key paths, and identified by the SHA-256 of its canonical form
//! so that every result can say which rules produced it.
//!
//! This crate does no I/O: the protocol is parsed from a string the caller has read.
//!
//! ```
//! use cryoseed_core::{Mm, U};
//! let margin = Mm(5.0) + Mm(5.0);
//! assert_eq!(margin.to_cm().value(), 1.0);
//! assert!((U::from_mci_apparent(0.6).value() - 0.762).abs() < 1e-12);
//! ```

pub mod domain;
pub mod geometry;
pub mod ids;
pub mod patient;
pub mod protocol;
pub mod units;

pub use domain::{Arm, CriticalOar, Ecog, LesionSite, Modality, Organ, StructureRole, Zone};
pub use geometry::{PatientPoint, PatientVector, VoxelPoint};
pub use ids::{IdError, LesionId, PatientId, SiteId};
pub use protocol::{Protocol, ProtocolError, ProtocolErrors, ProtocolHash};
pub use units::{Celsius, Cm, Days, Gy, GyPerHour, Minutes, Ml, Mm, Months, Percent, U};

/// The software version recorded with every result.
/// Kept equal to the `cryoseed` binary's package version (checked by a CLI test).
pub const SOFTWARE_VERSION: &str = "0.1.0";
