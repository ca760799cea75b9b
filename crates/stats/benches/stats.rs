//! Benchmarks of `cryoseed-stats`, each named after its size.
//!
//! Run with `cargo bench -p cryoseed-stats --bench stats` (about a minute on 2 cores).
//! `benches/lifelines_cox.py` fits lifelines' CoxPHFitter to the identical data set as
//! `cox_efron_100000_rows_10_covariates` (both generate it with the SplitMix64 stream below);
//! figures in BENCHMARKS.md at the workspace root.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_core::protocol::{CoxTies, Protocol};
use cryoseed_stats::{Covariates, CoxConfig, SurvivalData, TrialDesign, fit_cox, simulate_power};
use std::hint::black_box;
use std::time::Duration;

/// SplitMix64 (Steele, Lea & Flood 2014): a generator simple enough to repeat bit for bit in the
/// Python script, so that both programs fit the same data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on (0, 1): 53 random bits, shifted off zero.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// n rows, p covariates: x standard normal (Box–Muller), true βⱼ = 0.5 (j − (p − 1)/2) / p, event
/// time exponential with rate 0.01 exp(xβ), rounded up to whole days (ties, so Efron matters),
/// censoring uniform on (0, 365) days.
fn cox_data(n: usize, p: usize, seed: u64) -> (SurvivalData, Covariates) {
    let mut rng = SplitMix64(seed);
    let beta: Vec<f64> = (0..p).map(|j| 0.5 * (j as f64 - (p as f64 - 1.0) / 2.0) / p as f64).collect();
    let mut columns = vec![Vec::with_capacity(n); p];
    let mut time = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    for _ in 0..n {
        let mut eta = 0.0;
        for (j, column) in columns.iter_mut().enumerate() {
            let (u1, u2) = (rng.uniform(), rng.uniform());
            let x = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            column.push(x);
            eta += beta[j] * x;
        }
        let t = (-rng.uniform().ln() / (0.01 * eta.exp())).ceil();
        let c = (rng.uniform() * 365.0).ceil();
        time.push(t.min(c));
        event.push(t <= c);
    }
    let names = (0..p).map(|j| format!("x{j}"));
    (SurvivalData::new(time, event).unwrap(), Covariates::new(names.zip(columns).collect()).unwrap())
}

fn cox_efron_100000_rows_10_covariates(c: &mut Criterion) {
    let (data, x) = cox_data(100_000, 10, 20261128);
    let config = CoxConfig { ties: CoxTies::Efron, ..CoxConfig::default() };
    c.bench_function("cox_efron_100000_rows_10_covariates", |b| {
        b.iter(|| fit_cox(black_box(&data), black_box(&x), None, None, false, &config).unwrap())
    });
}

fn power_10000_trials_90_patients(c: &mut Criterion) {
    let design = TrialDesign::from_protocol(&Protocol::shipped());
    assert_eq!(design.patients_per_arm, 45);
    c.bench_function("power_10000_trials_90_patients", |b| {
        b.iter(|| simulate_power(black_box(&design), 10_000, 20261128).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = cox_efron_100000_rows_10_covariates, power_10000_trials_90_patients
}
criterion_main!(benches);
