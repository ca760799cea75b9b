//! AAPM TG-43U1 dosimetry of I-125 seeds: seed models from the published consensus data, the
//! line- and point-source dose-rate formalism, decay of a permanent implant, dose grids and
//! plan-quality indices.
//!
//! - [`SeedModel`] holds one model's published data (Λ, L, T½, g_L, F, φ_an) and applies the
//!   report's interpolation rules ([`model`] docs); [`builtin_model`] gives the four embedded
//!   models (6711, 6702, Best 2301 — marked unverified —, IAI-125A — φ_an derived from F).
//! - [`tg43`] evaluates TG-43U1 Eq. 1 (2-D line source) and Eq. 11 (1-D, unknown orientation).
//! - [`decay`] turns an initial dose rate into the total dose of a permanent implant
//!   (1.4427·T½·Ḋ0) or the dose between two times.
//! - An [`Implant`] is a validated list of seeds; [`dose_grid()`] puts its dose on a `Grid` as a
//!   `Field<f32>` in Gy, through per-model [`DoseKernel`]s.
//! - [`metrics`] computes D90, V100, CI, EI, HI, COIN for targets and D2cc etc. for OARs from the
//!   exact DVHs of `cryoseed-volume`.
//!
//! The key design decision is to keep the direct formalism as the single source of truth and to
//! derive everything fast from it: the lookup kernels are tabulations of the direct functions,
//! and their error against them is bounded by tests, not assumed. Everything is pure
//! computation on values (the tables are embedded with `include_str!`; models from other files
//! are parsed from strings that the caller read).
//!
//! ```
//! use cryoseed_core::{Cm, Days, GyPerHour, U};
//! use cryoseed_dose::{builtin_model, decay, tg43};
//!
//! let model = builtin_model("6711").unwrap();
//! // At the reference point the dose rate per U is Λ by definition.
//! let rate = tg43::dose_rate_line_cgy_per_h(&model, U(1.0), Cm(1.0), std::f64::consts::FRAC_PI_2);
//! assert!((rate - 0.965).abs() < 1e-12);
//! // Total dose of a permanent implant: 1.4427 · T½ · Ḋ0 = 1984.7 cGy per U.
//! let total = decay::total_dose(GyPerHour(rate / 100.0), model.half_life());
//! assert!((total.0 * 100.0 - 1984.7).abs() < 0.1);
//! ```

pub mod catalogue;
pub mod decay;
pub mod dose_grid;
mod error;
pub mod implant;
pub mod kernel;
pub mod metrics;
pub mod model;
pub mod tg43;

pub use catalogue::{BUILTIN_MODEL_IDS, builtin_model, builtin_models};
pub use dose_grid::{DoseGridConfig, DoseQuantity, GridMethod, ImplantKernels, dose_grid, dose_grid_with, region_grid};
pub use error::DoseError;
pub use implant::{Implant, PlacedSeed, Seed, SeedOrientation};
pub use kernel::DoseKernel;
pub use metrics::{OarMetrics, TargetMetrics, oar_metrics, target_metrics, volume_at_least};
pub use model::{AnisotropyTable, PhiAnSource, RadialTable, SeedModel, derive_phi_an};
pub use tg43::Formalism;
