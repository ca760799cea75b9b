//! Probes placed in the patient: validation (direction, grid, overlap) and rasterisation of their
//! cold segments onto a grid.

use crate::{CryoError, ProbeClass};
use cryoseed_core::{Celsius, Mm, PatientPoint, PatientVector};
use cryoseed_volume::{Grid, Mask};

/// A probe of a catalogue class at a position in the patient.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedProbe {
    /// Its class (diameter, active length, surface temperature).
    pub class: ProbeClass,
    /// The tip, patient frame.
    pub tip_in_patient: PatientPoint,
    /// Unit vector of insertion (from the skin entry towards the tip), patient frame.
    pub direction: [f64; 3],
}

impl PlacedProbe {
    /// A probe with its direction normalised; `index` names it in errors (zero or non-finite
    /// direction or tip).
    pub fn new(
        index: usize,
        class: ProbeClass,
        tip_in_patient: PatientPoint,
        direction: PatientVector,
    ) -> Result<PlacedProbe, CryoError> {
        let error = |message: String| CryoError::Probe { index, class: class.name.clone(), message };
        if tip_in_patient.0.iter().any(|v| !v.is_finite()) {
            return Err(error(format!("tip {:?} mm is not finite", tip_in_patient.0)));
        }
        let Some(direction) = direction.normalized().filter(|d| d.iter().all(|v| v.is_finite())) else {
            return Err(error(format!("direction {:?} has no length", direction.0)));
        };
        Ok(PlacedProbe { class, tip_in_patient, direction })
    }

    /// The far (proximal) end of the active segment: `tip − active_length · direction`.
    pub fn active_end_in_patient(&self) -> PatientPoint {
        let l = self.class.active_length.0;
        PatientPoint(std::array::from_fn(|a| self.tip_in_patient.0[a] - l * self.direction[a]))
    }

    /// The centre of the active segment.
    pub fn active_centre_in_patient(&self) -> PatientPoint {
        let l = 0.5 * self.class.active_length.0;
        PatientPoint(std::array::from_fn(|a| self.tip_in_patient.0[a] - l * self.direction[a]))
    }

    /// Distance from `p` to the active segment's axis (to the nearest point of the segment).
    pub fn distance_to_axis(&self, p: PatientPoint) -> Mm {
        let (s, r) = self.axial_radial(p);
        let l = self.class.active_length.0;
        let axial_excess = if s < 0.0 {
            -s
        } else if s > l {
            s - l
        } else {
            0.0
        };
        Mm(axial_excess.hypot(r))
    }

    /// Position of `p` relative to the active segment: distance back from the tip along the axis
    /// (0 at the tip, `active_length` at the far end) and radial distance from the axis, mm.
    pub fn axial_radial(&self, p: PatientPoint) -> (f64, f64) {
        let d: [f64; 3] = std::array::from_fn(|a| self.tip_in_patient.0[a] - p.0[a]);
        let s = d[0] * self.direction[0] + d[1] * self.direction[1] + d[2] * self.direction[2];
        let r2 = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - s * s).max(0.0);
        (s, r2.sqrt())
    }

    /// The voxels of the active segment: centres at most `max(radius, half the largest in-plane
    /// voxel diagonal)` from the axis, between the tip and the far end. The lower bound on the
    /// radius keeps a thin probe continuous on a coarse grid (a 17 G probe on a 1 mm grid would
    /// otherwise miss voxels wherever its axis passes between voxel centres).
    pub fn cold_voxels(&self, grid: &Grid) -> Mask {
        let radius = self.rasterisation_radius(grid);
        let l = self.class.active_length.0;
        Mask::from_fn(*grid, |p| {
            let (s, r) = self.axial_radial(p);
            (0.0..=l).contains(&s) && r <= radius
        })
    }

    fn rasterisation_radius(&self, grid: &Grid) -> f64 {
        let mut h = grid.spacing_mm();
        h.sort_by(f64::total_cmp);
        self.class.radius().0.max(0.5 * h[1].hypot(h[2]))
    }
}

/// Checks a probe set against a grid: every active segment inside the grid (between the first
/// and last voxel centres), covering at least one voxel, and no two probes overlapping (active
/// segments closer than the sum of the radii).
pub fn validate_probes(probes: &[PlacedProbe], grid: &Grid) -> Result<(), CryoError> {
    let dims = grid.dims();
    for (index, probe) in probes.iter().enumerate() {
        for (end, p) in [("tip", probe.tip_in_patient), ("active end", probe.active_end_in_patient())] {
            let v = grid.voxel_from_patient(p).0;
            if (0..3).any(|a| v[a] < -1e-9 || v[a] > (dims[a] - 1) as f64 + 1e-9) {
                return Err(CryoError::Probe {
                    index,
                    class: probe.class.name.clone(),
                    message: format!(
                        "{end} at {:?} mm is outside the grid ({:?} mm to {:?} mm)",
                        p.0,
                        grid.origin().0,
                        grid.voxel_centre([dims[0] - 1, dims[1] - 1, dims[2] - 1]).0
                    ),
                });
            }
        }
    }
    for i in 0..probes.len() {
        for j in i + 1..probes.len() {
            let (a, b) = (&probes[i], &probes[j]);
            let distance = segment_distance(
                a.tip_in_patient.0,
                a.active_end_in_patient().0,
                b.tip_in_patient.0,
                b.active_end_in_patient().0,
            );
            let min_distance = a.class.radius() + b.class.radius();
            if distance < min_distance.0 {
                return Err(CryoError::OverlappingProbes {
                    first: i,
                    second: j,
                    distance: Mm((distance * 100.0).round() / 100.0),
                    min_distance,
                });
            }
        }
    }
    Ok(())
}

/// The cold sources of a probe set: one mask per probe with its surface temperature
/// (`protocol_default` when the class does not give one).
pub fn probe_sources(probes: &[PlacedProbe], grid: &Grid, protocol_default: Celsius) -> Vec<crate::ColdSource> {
    probes
        .iter()
        .map(|p| crate::ColdSource {
            voxels: p.cold_voxels(grid),
            temperature: p.class.surface_temperature_or(protocol_default),
        })
        .collect()
}

/// Closest distance between segments [p0, p1] and [q0, q1] (Eberly, "Distance between two line
/// segments", by clamped minimisation over the two segment parameters).
pub(crate) fn segment_distance(p0: [f64; 3], p1: [f64; 3], q0: [f64; 3], q1: [f64; 3]) -> f64 {
    let sub = |a: [f64; 3], b: [f64; 3]| -> [f64; 3] { std::array::from_fn(|i| a[i] - b[i]) };
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let (d1, d2, r) = (sub(p1, p0), sub(q1, q0), sub(p0, q0));
    let (a, e, f) = (dot(d1, d1), dot(d2, d2), dot(d2, r));
    let point = |s: f64, t: f64| -> f64 {
        let diff: [f64; 3] = std::array::from_fn(|i| (p0[i] + s * d1[i]) - (q0[i] + t * d2[i]));
        dot(diff, diff).sqrt()
    };
    // Sample-free exact solution: minimise over s with t clamped, evaluating the candidate
    // pairs of the clamped problem.
    let c = dot(d1, r);
    let b = dot(d1, d2);
    let denom = a * e - b * b;
    let mut s = if denom > 1e-12 { ((b * f - c * e) / denom).clamp(0.0, 1.0) } else { 0.0 };
    let mut t = if e > 0.0 { (b * s + f) / e } else { 0.0 };
    if t < 0.0 {
        t = 0.0;
        s = if a > 0.0 { (-c / a).clamp(0.0, 1.0) } else { 0.0 };
    } else if t > 1.0 {
        t = 1.0;
        s = if a > 0.0 { ((b - c) / a).clamp(0.0, 1.0) } else { 0.0 };
    }
    point(s, t)
}
