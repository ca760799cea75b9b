//! Integration tests of `cryoseed-dose`: the published TG-43U1 data as oracle, hand-computed
//! plan indices, and the errors a user meets. Every tolerance is stated with its reason.

mod decay;
mod grid;
mod implant;
mod metrics;
mod model;
mod tg43;

use cryoseed_dose::SeedModel;

/// The published tables as shipped, for tests that read them directly.
pub fn shipped(file: &str) -> String {
    std::fs::read_to_string(format!("{}/data/tg43/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// All built-in models.
pub fn models() -> Vec<SeedModel> {
    cryoseed_dose::builtin_models()
}

/// Independent line-source geometry function (TG-43U1 Eq. 4), written from the report's
/// definition with β the angle between the rays to the two ends of the active line.
pub fn g_l_oracle(r: f64, theta: f64, l: f64) -> f64 {
    let (rho, z) = (r * theta.sin(), r * theta.cos());
    if theta.sin().abs() < 1e-12 {
        return 1.0 / (r * r - l * l / 4.0);
    }
    let a = [-rho, l / 2.0 - z];
    let b = [-rho, -l / 2.0 - z];
    let na = (a[0] * a[0] + a[1] * a[1]).sqrt();
    let nb = (b[0] * b[0] + b[1] * b[1]).sqrt();
    let beta = ((a[0] * b[0] + a[1] * b[1]) / (na * nb)).clamp(-1.0, 1.0).acos();
    beta / (l * r * theta.sin())
}
