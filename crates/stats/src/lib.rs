//! `cryoseed-stats`: the trial's statistics engine — survival (Kaplan–Meier, log-rank, Cox,
//! competing risks), proportions and clustered binary outcomes, and power — as pure functions
//! validated against R `survival` conventions and lifelines / statsmodels / SciPy.
//!
//! Main types and how they connect:
//! - [`SurvivalData`] (validated times and event flags) feeds [`kaplan_meier`] →
//!   [`KaplanMeier`] (table, [`KaplanMeier::quantile`], [`KaplanMeier::landmarks`],
//!   [`KaplanMeier::rmst`]), [`logrank_test`] and, with [`Covariates`], [`fit_cox`] → [`CoxFit`];
//! - [`CompetingRisksData`] feeds [`aalen_johansen`] and [`gray_test`];
//! - counts feed the proportion intervals ([`clopper_pearson`], [`wilson`], [`agresti_coull`],
//!   [`newcombe_difference`]), [`fisher_exact`] and [`cochran_mantel_haenszel`]; a 0/1 outcome
//!   with [`Covariates`] feeds [`fit_logistic`] and, with clusters, [`fit_gee`] and
//!   [`cluster_bootstrap`];
//! - [`TrialDesign`] (from the protocol) feeds [`simulate_power`]; [`schoenfeld_events`] and
//!   [`schoenfeld_power`] are the closed forms.
//!
//! Key design decision: every estimator states which reference convention it follows (R's
//! `survival`, lifelines, statsmodels or SciPy) where they differ, and the integration tests hold
//! it to that package's output on public data sets to 1e-6 relative. The crate does no I/O and
//! holds no global state; times are in the data's own unit (survival data sets come in days,
//! weeks or months), and whatever is random takes an explicit seed.
//!
//! ```
//! use cryoseed_stats::{SurvivalData, kaplan_meier};
//! use cryoseed_core::protocol::KmCiTransform;
//!
//! let data = SurvivalData::new(vec![1.0, 2.0, 2.0, 3.0, 4.0], vec![true, true, false, true, false]).unwrap();
//! let km = kaplan_meier(&data, KmCiTransform::LogLog, 0.95).unwrap();
//! assert_eq!(km.table.len(), 4);
//! assert!((km.table[1].survival - 0.6).abs() < 1e-12);
//! assert_eq!(km.median().time, Some(3.0));
//! ```

// Index loops mirror the subscripts of the formulas they implement (Σⱼ xᵢⱼ βⱼ, Vₖₗ…).
#![allow(clippy::needless_range_loop)]

pub mod binary;
pub mod cif;
pub mod cox;
pub mod data;
pub mod dist;
pub mod error;
pub mod glm;
pub mod km;
pub mod linalg;
pub mod logrank;
pub mod power;

pub use binary::{
    CmhTest, FisherTest, Interval, agresti_coull, clopper_pearson, cochran_mantel_haenszel, fisher_exact,
    newcombe_difference, wilson,
};
pub use cif::{CifRow, CompetingRisksData, CumulativeIncidence, GrayTest, aalen_johansen, gray_test};
pub use cox::{
    ChiSquareTest, Covariates, CoxCoefficient, CoxConfig, CoxFit, PhTest, PhTransform, SchoenfeldResidual, fit_cox,
    harrell_c, proportional_hazards_test,
};
pub use data::SurvivalData;
pub use error::{Result, StatsError};
pub use glm::{
    BootstrapSummary, GeeFit, GeeLink, GlmCoefficient, LogisticFit, cluster_bootstrap, fit_gee, fit_logistic,
};
pub use km::{KaplanMeier, KmRow, Rmst, SurvivalEstimate, SurvivalQuantile, kaplan_meier, survival_ci};
pub use logrank::{LogRankGroup, LogRankTest, LogRankWeight, logrank_test};
pub use power::{
    PowerSimulation, TrialDesign, probability_of_event, schoenfeld_events, schoenfeld_power, simulate_power,
};
