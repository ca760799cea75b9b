//! Straight percutaneous access paths: does a needle or cryoprobe reach a lesion from the skin
//! without passing an obstacle? (PROTOCOL.md, "Lesion allocation": "whether a straight probe
//! path exists".)
//!
//! The search, for one lesion:
//! - the **target point** is the deepest voxel of the GTV (largest distance to its surface; ties
//!   to the lowest voxel index), so that a path to it runs through the lesion's bulk;
//! - **directions** are [`AccessSettings::directions`] points of a Fibonacci sphere, kept when
//!   their angle out of the axial plane is at most [`AccessSettings::max_craniocaudal_angle_deg`]
//!   (CT-guided punctures are planned on axial slices, with limited cranio-caudal angulation);
//! - each path is **marched** from the target point in steps of half the smallest voxel spacing
//!   until it leaves the body outline (the entry point) — a path that reaches the edge of the grid
//!   still inside the body, or is longer than [`AccessSettings::max_length_mm`], is refused;
//! - along the part of the path outside the lesion's own GTV, the distance to the nearest
//!   **obstacle** must stay at least [`AccessSettings::clearance_mm`]. Obstacles are the critical
//!   organs at risk other than skin (which every path crosses), every vessel (vessel structures
//!   and the great vessels contoured as organs at risk), and bone — except for a lesion that lies
//!   in bone, which is reached through it (transpedicular or trans-osseous access);
//! - of the acceptable paths the one with the largest clearance is chosen, ties to the shortest,
//!   then to the first direction.
//!
//! Distances are read from one exact distance transform of the obstacles, at the voxel nearest to
//! each sample point (an error of at most half a voxel diagonal, which the clearance must absorb;
//! the default 3 mm clearance is larger than the diagonal of the 2 mm grids used for planning).

use crate::PlanError;
use crate::zoning::union_into;
use cryoseed_anatomy::features::is_vessel;
use cryoseed_anatomy::{Case, Structure};
use cryoseed_core::{Mm, Organ, PatientPoint, StructureRole};
use cryoseed_volume::{Field, Mask, distance_to};
use serde::{Deserialize, Serialize};

/// Settings of the access-path search (recorded with every plan).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessSettings {
    /// Minimum distance from the path (outside the lesion) to any obstacle, mm.
    pub clearance_mm: Mm,
    /// Longest usable path from skin to the target point, mm (usable length of a 17.5–20 cm
    /// cryoprobe or seed needle, less the part held outside the body).
    pub max_length_mm: Mm,
    /// Largest angle of a path out of the axial plane, degrees.
    pub max_craniocaudal_angle_deg: f64,
    /// Number of directions tried (points of a Fibonacci sphere, before the angle filter).
    pub directions: usize,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            clearance_mm: Mm(3.0),
            max_length_mm: Mm(160.0),
            max_craniocaudal_angle_deg: 30.0,
            directions: 2048,
        }
    }
}

/// A straight path from the skin to a lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessPath {
    /// Where the path crosses the body outline.
    pub entry: PatientPoint,
    /// The deepest point of the lesion, where the path ends.
    pub target: PatientPoint,
    /// Unit direction from the target point towards the entry point.
    pub direction: [f64; 3],
    /// Length from entry to target, mm.
    pub length: Mm,
    /// Smallest distance from the path (outside the lesion) to an obstacle, mm.
    pub clearance: Mm,
}

/// Why no path was accepted: the best refused path and what refused it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoAccess {
    /// One sentence for the allocation table.
    pub reason: String,
    /// The largest clearance achieved by any path that reached the skin within the length limit,
    /// mm, if there was one.
    pub best_clearance: Option<Mm>,
    /// The obstacle nearest to that best path, if any.
    pub nearest_obstacle: Option<String>,
}

/// The outcome of the search for one lesion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Access {
    /// A path exists; the best one.
    Path(AccessPath),
    /// No acceptable path.
    None(NoAccess),
}

impl Access {
    /// The path, if one exists.
    pub fn path(&self) -> Option<&AccessPath> {
        match self {
            Access::Path(path) => Some(path),
            Access::None(_) => None,
        }
    }
}

/// The obstacles of a case and their distance map, computed once for all lesions of a case.
#[derive(Debug)]
pub struct AccessMap<'a> {
    case: &'a Case,
    body: &'a Mask,
    /// Distance to the nearest soft-tissue obstacle (OARs other than skin, vessels).
    soft: Field<f64>,
    /// Distance to the nearest bone structure (+∞ when the case has none).
    bone: Field<f64>,
    settings: AccessSettings,
}

impl<'a> AccessMap<'a> {
    /// Prepares the search for `case`. Needs the body outline (a structure with role `body`).
    pub fn new(case: &'a Case, settings: AccessSettings) -> Result<AccessMap<'a>, PlanError> {
        validate_settings(&settings)?;
        let body = case.with_role(StructureRole::Body).next().map(|s| &s.mask).ok_or_else(|| PlanError::Structure {
            name: "body".into(),
            message:
                "the case has no body outline (a structure with role body); it is needed to find skin entry points"
                    .into(),
        })?;
        let grid = *case.grid();
        let mut soft = Mask::empty(grid);
        let mut bone = Mask::empty(grid);
        for s in case.structures() {
            if is_soft_obstacle(s) {
                union_into(&mut soft, &s.mask);
            } else if is_bone(s) {
                union_into(&mut bone, &s.mask);
            }
        }
        Ok(AccessMap { case, body, soft: distance_to(&soft), bone: distance_to(&bone), settings })
    }

    /// The settings in use.
    pub fn settings(&self) -> &AccessSettings {
        &self.settings
    }

    /// Searches a path to the lesion whose GTV is `gtv`.
    pub fn search(&self, gtv: &Structure) -> Access {
        let grid = *self.case.grid();
        let through_bone = gtv.organ == Organ::Bone;
        let (target, target_index) = self.deepest_voxel(gtv);
        let max_sin = self.settings.max_craniocaudal_angle_deg.to_radians().sin();
        let max_len = self.settings.max_length_mm.0;
        let clearance = self.settings.clearance_mm.0;

        let mut best: Option<AccessPath> = None;
        let mut best_refused: Option<(f64, usize)> = None; // (clearance, index of closest sample)
        let mut reached_skin = false;
        for direction in fibonacci_sphere(self.settings.directions) {
            if direction[2].abs() > max_sin {
                continue;
            }
            let (entry, min_clear, min_at) = self.trace(gtv, target, target_index, direction, through_bone);
            let Some((entry, length)) = entry else { continue };
            if length > max_len {
                continue;
            }
            reached_skin = true;
            if min_clear >= clearance {
                let candidate = AccessPath { entry, target, direction, length: Mm(length), clearance: Mm(min_clear) };
                let better = match &best {
                    None => true,
                    Some(b) => {
                        min_clear.min(1e9) > b.clearance.0.min(1e9) + 1e-9
                            || ((min_clear.min(1e9) - b.clearance.0.min(1e9)).abs() <= 1e-9 && length < b.length.0)
                    }
                };
                if better {
                    best = Some(candidate);
                }
            } else if best_refused.is_none_or(|(c, _)| min_clear > c) {
                best_refused = Some((min_clear, min_at));
            }
        }
        if let Some(path) = best {
            return Access::Path(path);
        }
        let (best_clearance, nearest_obstacle) = match best_refused {
            Some((c, at)) => (Some(Mm(c)), self.nearest_obstacle(grid.voxel_centre(grid.ijk(at)), through_bone)),
            None => (None, None),
        };
        let reason = if !reached_skin {
            format!(
                "no straight path reaches the skin within {:.0} mm at ≤ {:.0}° cranio-caudal angulation",
                max_len, self.settings.max_craniocaudal_angle_deg
            )
        } else {
            format!(
                "every straight path passes within {:.1} mm of {} (clearance needed {:.1} mm)",
                best_clearance.map_or(0.0, |c| c.0),
                nearest_obstacle.as_deref().unwrap_or("an obstacle"),
                clearance
            )
        };
        Access::None(NoAccess { reason, best_clearance, nearest_obstacle })
    }

    /// Marches from `target` along `direction` until the path leaves the body: the entry point
    /// and path length (if it leaves the body within the length limit and inside the grid), the
    /// smallest obstacle distance outside the GTV, and the voxel where it occurs.
    fn trace(
        &self,
        gtv: &Structure,
        target: PatientPoint,
        target_index: usize,
        direction: [f64; 3],
        through_bone: bool,
    ) -> (Option<(PatientPoint, f64)>, f64, usize) {
        let grid = *self.case.grid();
        let step = grid.spacing_mm().into_iter().fold(f64::INFINITY, f64::min) / 2.0;
        let max_len = self.settings.max_length_mm.0;
        let mut min_clear = f64::INFINITY;
        let mut min_at = target_index;
        let mut t = 0.0;
        while t <= max_len + step {
            let p = PatientPoint([
                target.0[0] + direction[0] * t,
                target.0[1] + direction[1] * t,
                target.0[2] + direction[2] * t,
            ]);
            let Some(ijk) = grid.nearest_voxel(p) else { break };
            let index = grid.index(ijk);
            if !self.body.as_slice()[index] {
                return (Some((p, t)), min_clear, min_at);
            }
            if !gtv.mask.as_slice()[index] {
                let mut d = self.soft.as_slice()[index];
                if !through_bone {
                    d = d.min(self.bone.as_slice()[index]);
                }
                if d < min_clear {
                    min_clear = d;
                    min_at = index;
                }
            }
            t += step;
        }
        (None, min_clear, min_at)
    }

    /// The straight path to `target` (the deepest point of `gtv`, [`AccessMap::target_point`] or
    /// a search result's `target`) entering along `insertion` (from the skin towards the target),
    /// if it keeps the clearance and the length and angulation limits.
    pub fn path_along(&self, gtv: &Structure, target: PatientPoint, insertion: [f64; 3]) -> Option<AccessPath> {
        let n = (insertion[0] * insertion[0] + insertion[1] * insertion[1] + insertion[2] * insertion[2]).sqrt();
        if !(n.is_finite() && n > 0.0) {
            return None;
        }
        let direction = [-insertion[0] / n, -insertion[1] / n, -insertion[2] / n];
        if direction[2].abs() > self.settings.max_craniocaudal_angle_deg.to_radians().sin() + 1e-12 {
            return None;
        }
        let grid = self.case.grid();
        let target_index = grid.index(grid.nearest_voxel(target)?);
        let (entry, min_clear, _) = self.trace(gtv, target, target_index, direction, gtv.organ == Organ::Bone);
        let (entry, length) = entry?;
        (length <= self.settings.max_length_mm.0 && min_clear >= self.settings.clearance_mm.0).then_some(AccessPath {
            entry,
            target,
            direction,
            length: Mm(length),
            clearance: Mm(min_clear),
        })
    }

    /// The deepest point of the GTV (the voxel farthest from its surface, ties to the lowest
    /// index): where every access path ends.
    pub fn target_point(&self, gtv: &Structure) -> PatientPoint {
        self.deepest_voxel(gtv).0
    }

    /// The deepest voxel of the GTV (ties to the lowest index) and its index.
    fn deepest_voxel(&self, gtv: &Structure) -> (PatientPoint, usize) {
        let grid = *self.case.grid();
        let depth = distance_to(&gtv.mask.complement());
        let index = gtv
            .mask
            .as_slice()
            .iter()
            .enumerate()
            .filter(|(_, inside)| **inside)
            .max_by(|a, b| depth.as_slice()[a.0].total_cmp(&depth.as_slice()[b.0]).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
            .expect("a case has no empty mask");
        (grid.voxel_centre(grid.ijk(index)), index)
    }

    /// The obstacle structure nearest to `p` (by the distance to its nearest voxel centre).
    fn nearest_obstacle(&self, p: PatientPoint, through_bone: bool) -> Option<String> {
        let grid = *self.case.grid();
        let reach = self.settings.clearance_mm.0 + grid.spacing_mm().into_iter().fold(0.0, f64::max) * 2.0;
        let spacing = grid.spacing_mm();
        let dims = grid.dims();
        let centre = grid.voxel_from_patient(p).0;
        let lo: Vec<usize> = (0..3).map(|a| (centre[a] - reach / spacing[a]).floor().max(0.0) as usize).collect();
        let hi: Vec<usize> =
            (0..3).map(|a| ((centre[a] + reach / spacing[a]).ceil().max(0.0) as usize).min(dims[a] - 1)).collect();
        let mut best: Option<(f64, &str)> = None;
        for s in self.case.structures() {
            if !(is_soft_obstacle(s) || (!through_bone && is_bone(s))) {
                continue;
            }
            for k in lo[2]..=hi[2] {
                for j in lo[1]..=hi[1] {
                    for i in lo[0]..=hi[0] {
                        if s.mask.at([i, j, k]) {
                            let d = grid.voxel_centre([i, j, k]).distance_to(p).0;
                            if best.is_none_or(|(bd, _)| d < bd) {
                                best = Some((d, s.name.as_str()));
                            }
                        }
                    }
                }
            }
        }
        best.map(|(_, name)| name.to_owned())
    }
}

fn validate_settings(s: &AccessSettings) -> Result<(), PlanError> {
    let bad = |field, message: &str| Err(PlanError::Input { field, message: message.to_owned() });
    if !(s.clearance_mm.0.is_finite() && s.clearance_mm.0 >= 0.0) {
        return bad("access.clearance_mm", "must be a finite distance ≥ 0");
    }
    if !(s.max_length_mm.0.is_finite() && s.max_length_mm.0 > 0.0) {
        return bad("access.max_length_mm", "must be a finite distance > 0");
    }
    if !(0.0..=90.0).contains(&s.max_craniocaudal_angle_deg) {
        return bad("access.max_craniocaudal_angle_deg", "must be between 0 and 90 degrees");
    }
    if !(16..=100_000).contains(&s.directions) {
        return bad("access.directions", "must be between 16 and 100000");
    }
    Ok(())
}

/// Critical OARs other than skin, and vessels.
fn is_soft_obstacle(s: &Structure) -> bool {
    let critical = s.role == StructureRole::Oar && s.organ.critical_oar().is_some() && s.organ != Organ::Skin;
    critical || is_vessel(s)
}

fn is_bone(s: &Structure) -> bool {
    s.organ == Organ::Bone && s.role != StructureRole::Gtv
}

/// `n` nearly uniform unit vectors (the golden-angle spiral), in a fixed order.
fn fibonacci_sphere(n: usize) -> impl Iterator<Item = [f64; 3]> {
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    (0..n).map(move |i| {
        let z = 1.0 - 2.0 * (i as f64 + 0.5) / n as f64;
        let r = (1.0 - z * z).sqrt();
        let phi = golden * i as f64;
        [r * phi.cos(), r * phi.sin(), z]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fibonacci_directions_are_unit_and_spread() {
        let dirs: Vec<_> = fibonacci_sphere(500).collect();
        for d in &dirs {
            assert!(((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() - 1.0).abs() < 1e-12);
        }
        // Roughly half point up.
        let up = dirs.iter().filter(|d| d[2] > 0.0).count();
        assert_eq!(up, 250);
    }
}
