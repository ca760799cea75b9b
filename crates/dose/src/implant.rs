//! Seeds as placed in a patient, validated once.

use crate::{DoseError, SeedModel, builtin_model};
use cryoseed_core::{PatientPoint, U};

/// How a seed lies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SeedOrientation {
    /// Long axis along this direction in the patient frame (any non-zero length; normalised).
    Axis([f64; 3]),
    /// Unknown (e.g. seeds located on post-implant CT as points): the 1-D form is used.
    Unknown,
}

/// One seed as given by a plan or a post-implant reconstruction.
#[derive(Clone, Debug, PartialEq)]
pub struct Seed {
    /// Centre of the seed in the patient frame (mm).
    pub centre_in_patient: PatientPoint,
    /// Long-axis direction.
    pub orientation: SeedOrientation,
    /// Air-kerma strength S_K at implantation.
    pub air_kerma_strength: U,
    /// Model id or alias (see [`crate::builtin_model`]) or the id of a model passed to
    /// [`Implant::new`].
    pub model: String,
}

/// A validated seed: unit axis (or none), positive S_K, index of its model in the implant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlacedSeed {
    /// Centre in the patient frame (mm).
    pub centre_in_patient: PatientPoint,
    /// Unit long axis in the patient frame, `None` when unknown (1-D form).
    pub axis_in_patient: Option<[f64; 3]>,
    /// Air-kerma strength at implantation.
    pub air_kerma_strength: U,
    /// Index into [`Implant::models`].
    pub model_index: usize,
}

/// Seeds closer than this (mm) are reported as duplicates: two seeds cannot occupy one place.
pub const DUPLICATE_DISTANCE_MM: f64 = 0.01;

/// A set of seeds with their models, every seed checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Implant {
    models: Vec<SeedModel>,
    seeds: Vec<PlacedSeed>,
}

impl Implant {
    /// Validates `seeds`. A seed's model is looked up first among `extra_models` (by id), then
    /// among the built-in models. Errors name the seed's 0-based index and field: non-finite
    /// position, zero-length or non-finite direction, S_K not > 0, unknown model; and two seeds
    /// within [`DUPLICATE_DISTANCE_MM`] of each other.
    pub fn new(seeds: &[Seed], extra_models: &[SeedModel]) -> Result<Implant, DoseError> {
        let mut models: Vec<SeedModel> = Vec::new();
        let mut placed = Vec::with_capacity(seeds.len());
        for (index, seed) in seeds.iter().enumerate() {
            let err = |field: &'static str, message: String| DoseError::Seed { index, field, message };
            if seed.centre_in_patient.0.iter().any(|c| !c.is_finite()) {
                return Err(err("position", format!("must be finite, got {:?} mm", seed.centre_in_patient.0)));
            }
            let axis_in_patient = match seed.orientation {
                SeedOrientation::Unknown => None,
                SeedOrientation::Axis(d) => {
                    if d.iter().any(|c| !c.is_finite()) {
                        return Err(err("direction", format!("must be finite, got {d:?}")));
                    }
                    let len = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                    if len < 1e-9 {
                        return Err(err("direction", format!("must have non-zero length, got {d:?}")));
                    }
                    Some(d.map(|c| c / len))
                }
            };
            let sk = seed.air_kerma_strength.0;
            if !(sk.is_finite() && sk > 0.0) {
                return Err(err("sk_u", format!("must be > 0, got {sk}")));
            }
            let model_index = match models.iter().position(|m| m.id() == seed.model) {
                Some(i) => i,
                None => {
                    let model = match extra_models.iter().find(|m| m.id() == seed.model) {
                        Some(m) => m.clone(),
                        None => builtin_model(&seed.model).map_err(|e| err("model", e.to_string()))?,
                    };
                    match models.iter().position(|m| m.id() == model.id()) {
                        Some(i) => i,
                        None => {
                            models.push(model);
                            models.len() - 1
                        }
                    }
                }
            };
            placed.push(PlacedSeed {
                centre_in_patient: seed.centre_in_patient,
                axis_in_patient,
                air_kerma_strength: seed.air_kerma_strength,
                model_index,
            });
        }
        check_duplicates(&placed)?;
        Ok(Implant { models, seeds: placed })
    }

    /// The models the seeds use, each once.
    pub fn models(&self) -> &[SeedModel] {
        &self.models
    }

    /// The validated seeds, in input order.
    pub fn seeds(&self) -> &[PlacedSeed] {
        &self.seeds
    }

    /// Total air-kerma strength.
    pub fn total_air_kerma_strength(&self) -> U {
        U(self.seeds.iter().map(|s| s.air_kerma_strength.0).sum())
    }
}

/// Sorts by x and sweeps, so the check is fast for thousands of seeds.
fn check_duplicates(seeds: &[PlacedSeed]) -> Result<(), DoseError> {
    let mut order: Vec<usize> = (0..seeds.len()).collect();
    order.sort_by(|&a, &b| seeds[a].centre_in_patient.0[0].total_cmp(&seeds[b].centre_in_patient.0[0]).then(a.cmp(&b)));
    for (n, &a) in order.iter().enumerate() {
        let pa = seeds[a].centre_in_patient;
        for &b in &order[n + 1..] {
            let pb = seeds[b].centre_in_patient;
            if pb.0[0] - pa.0[0] > DUPLICATE_DISTANCE_MM {
                break;
            }
            let d = pa.distance_to(pb).0;
            if d <= DUPLICATE_DISTANCE_MM {
                let (first, second) = (a.min(b), a.max(b));
                return Err(DoseError::DuplicateSeed { first, second, distance_mm: d });
            }
        }
    }
    Ok(())
}
