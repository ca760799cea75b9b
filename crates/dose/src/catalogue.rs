//! The built-in seed models, embedded from `data/tg43/` (see its PROVENANCE.md).

use crate::{DoseError, SeedModel};

/// The Best 2301 caveat, shown wherever that model is used.
pub const BEST_2301_CAVEAT: &str = "Best 2301: F(r,theta) table unverified (its solid-angle integral gives \
     phi_an 0.995 at 1 cm against the published 0.945); check against TG-43U1 before clinical use";

/// Built-in model ids, in catalogue order.
pub const BUILTIN_MODEL_IDS: [&str; 4] = ["6711", "6702", "best2301", "iai125a"];

macro_rules! table {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/tg43/", $file))
    };
}

/// The built-in model with this id or alias (case-insensitive; `6711`, `oncoseed-6711`, `6702`,
/// `best2301`, `2301`, `best-2301`, `iai125a`, `iai-125a`).
pub fn builtin_model(name: &str) -> Result<SeedModel, DoseError> {
    let key: String = name.trim().to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let model = match key.as_str() {
        "6711" | "oncoseed6711" => SeedModel::parse(
            "6711",
            table!("6711_meta.csv"),
            table!("6711_gL.csv"),
            table!("6711_F.csv"),
            Some(table!("6711_phi_an.csv")),
        ),
        "6702" | "oncoseed6702" => SeedModel::parse(
            "6702",
            table!("6702_meta.csv"),
            table!("6702_gL.csv"),
            table!("6702_F.csv"),
            Some(table!("6702_phi_an.csv")),
        ),
        "best2301" | "2301" => SeedModel::parse(
            "best2301",
            table!("best2301_meta.csv"),
            table!("best2301_gL.csv"),
            table!("best2301_F.csv"),
            Some(table!("best2301_phi_an.csv")),
        )
        .map(|m| m.with_caveat(BEST_2301_CAVEAT)),
        "iai125a" => SeedModel::parse(
            "iai125a",
            table!("iai125a_meta.csv"),
            table!("iai125a_gL.csv"),
            table!("iai125a_F.csv"),
            None,
        )
        .map(|m| {
            m.with_caveat(
                "IAI-125A: phi_an derived from F by TG-43U1 Eq. 10 (no published table shipped); \
                     the 1-D (point) form uses the derived values",
            )
        }),
        _ => return Err(DoseError::UnknownModel { name: name.to_owned(), known: BUILTIN_MODEL_IDS.join(", ") }),
    };
    // The embedded tables are checked by the tests; a failure here is a build defect.
    model
}

/// All built-in models, in catalogue order.
pub fn builtin_models() -> Vec<SeedModel> {
    BUILTIN_MODEL_IDS.iter().map(|id| builtin_model(id).expect("embedded seed tables parse (tested)")).collect()
}

/// The consensus Λ table (Safigholi et al. 2020, Table II), embedded for cross-checks.
pub const CONSENSUS_LAMBDA_CSV: &str = table!("consensus_lambda_I125.csv");
