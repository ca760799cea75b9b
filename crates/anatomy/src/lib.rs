//! A patient's anatomy on a grid — the *case* — and the lesion features the planner and the
//! eligibility rules read from it.
//!
//! A [`Case`] is a [`Grid`](cryoseed_volume::Grid) plus named [`Structure`]s, each a mask with a role (GTV, critical OAR,
//! vessel, organ, body) and an organ. Synthetic phantoms (`cryoseed-sim`) and image importers
//! (`cryoseed-imaging`) produce cases; [`features`] turns one into per-lesion measurements.
//!
//! The key design decision: a `Case` is validated once, when it is built (one grid, unique names
//! and lesion ids, lesion data exactly on GTVs, no empty mask), so measuring code can rely on it.
//!
//! ```
//! use cryoseed_anatomy::{lesion_features, Case, LesionInfo, Structure};
//! use cryoseed_core::{protocol::Protocol, LesionId, Mm, Organ, PatientId, PatientPoint, StructureRole};
//! use cryoseed_volume::{Grid, Mask};
//!
//! let grid = Grid::new([60, 60, 60], [Mm(1.0); 3], PatientPoint([-30.0; 3])).unwrap();
//! let ball = Mask::from_fn(grid, |p| (p - PatientPoint([0.0; 3])).length().0 <= 12.0);
//! let gtv = Structure {
//!     name: "GTV_L1".into(),
//!     role: StructureRole::Gtv,
//!     organ: Organ::Liver,
//!     lesion: Some(LesionInfo { lesion_id: LesionId::parse("L1").unwrap(), is_target: true, is_bulky_index: false }),
//!     mask: ball,
//! };
//! let case = Case::new(PatientId::parse("P-1").unwrap(), grid, vec![gtv]).unwrap();
//! let features = lesion_features(&case, &Protocol::shipped());
//! assert!((features[0].longest_axial_diameter.value() - 24.0).abs() < 0.5);
//! ```

pub mod case;
pub mod features;

pub use case::{Case, CaseError, LesionInfo, Structure};
pub use features::{LesionFeatures, OarDistance, VesselDistance, lesion_features};
