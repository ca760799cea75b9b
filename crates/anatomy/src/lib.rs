//! A patient's anatomy on a grid — the *case* — and the lesion features the planner and the
//! eligibility rules read from it.
//!
//! A [`Case`] is a [`Grid`] plus named [`Structure`]s, each a mask with a role (GTV, critical OAR,
//! vessel, organ, body) and an organ. Synthetic phantoms (`cryoseed-sim`) and image importers
//! (`cryoseed-imaging`) produce cases; [`features`] turns one into per-lesion measurements.

pub mod case;
pub mod features;

pub use case::{Case, CaseError, LesionInfo, Structure};
pub use features::{LesionFeatures, OarDistance, VesselDistance, lesion_features};
