//! The planning region: the target's box grown by a margin, with the structures cropped to it and
//! the distance maps the placement rules need.

use super::{SeedPlanConfig, SeedSettings, SeedStructures};
use crate::PlanError;
use cryoseed_core::{CriticalOar, Mm, PatientPoint};
use cryoseed_volume::{Field, Grid, Mask, VoxelBox, distance_to};

/// Margin around the target's (and don't-care region's) box, mm: covers the normal-tissue shell
/// (10 mm), the OAR points the optimizer watches (25 mm) and the hot part of every OAR.
pub(crate) const REGION_MARGIN_MM: f64 = 30.0;

/// Validates the structures: non-empty target on one grid with everything else, no overlap of
/// the target with a critical OAR or the don't-care region, target inside the body.
pub(crate) fn check_structures(s: &SeedStructures<'_>) -> Result<(), PlanError> {
    let grid = s.target.grid();
    let structure = |name: &str, message: String| PlanError::Structure { name: name.to_owned(), message };
    if s.target.is_empty() {
        return Err(structure("target", "seed target is empty".to_owned()));
    }
    let mut masks: Vec<(&str, &Mask)> = vec![("body", s.body)];
    if let Some(d) = s.dont_care {
        masks.push(("dont_care", d));
    }
    masks.extend(s.oars.iter().map(|o| (o.name.as_str(), o.mask)));
    masks.extend(s.needle_obstacles.iter().map(|o| (o.name.as_str(), o.mask)));
    for (name, mask) in &masks {
        if !mask.grid().same_geometry(grid) {
            return Err(structure(name, "mask is not on the target's grid".to_owned()));
        }
    }
    let vox = grid.voxel_volume().0;
    let overlap = |m: &Mask| s.target.as_slice().iter().zip(m.as_slice()).filter(|(a, b)| **a && **b).count();
    for oar in &s.oars {
        let n = overlap(oar.mask);
        if n > 0 {
            return Err(structure(
                &oar.name,
                format!(
                    "seed target overlaps this critical OAR in {n} voxels ({:.2} mL); remove the OAR from the target",
                    n as f64 * vox
                ),
            ));
        }
    }
    if let Some(d) = s.dont_care {
        let n = overlap(d);
        if n > 0 {
            return Err(structure(
                "dont_care",
                format!("overlaps the seed target in {n} voxels ({:.2} mL); the two must be disjoint", n as f64 * vox),
            ));
        }
    }
    let outside = s.target.as_slice().iter().zip(s.body.as_slice()).filter(|(t, b)| **t && !**b).count();
    if outside > 0 {
        return Err(structure(
            "target",
            format!(
                "{outside} target voxels ({:.2} mL) lie outside the body; clip the target to the body",
                outside as f64 * vox
            ),
        ));
    }
    Ok(())
}

/// Structures cropped to the planning region, with distance maps.
#[derive(Debug)]
pub(crate) struct PlanningRegion {
    /// The case grid.
    pub full_grid: Grid,
    /// The region's grid (same spacing; origin at the box's first voxel).
    pub grid: Grid,
    /// Target, cropped.
    pub target: Mask,
    /// Don't-care region, cropped (empty if none).
    pub dont_care: Mask,
    /// Body, cropped.
    pub body: Mask,
    /// Every OAR, cropped, in request order.
    pub oars: Vec<Mask>,
    /// Distance to the target's voxels, mm.
    pub to_target: Field<f64>,
    /// Distance to the nearest critical OAR other than skin, mm.
    pub to_oar: Field<f64>,
    /// Distance to the skin (outside of the body, or a skin-class OAR), mm.
    pub to_skin: Field<f64>,
}

impl PlanningRegion {
    pub(crate) fn new(
        s: &SeedStructures<'_>,
        _settings: &SeedSettings,
        _config: &SeedPlanConfig,
    ) -> Result<PlanningRegion, PlanError> {
        let full_grid = *s.target.grid();
        let mut bx = s.target.bounding_box().expect("checked non-empty");
        if let Some(d) = s.dont_care.and_then(|d| d.bounding_box()) {
            bx = bx.union(&d);
        }
        let spacing = full_grid.spacing_mm();
        let bx = bx.grown(spacing.map(|h| (REGION_MARGIN_MM / h).ceil() as usize), full_grid.dims());
        let grid = cryoseed_dose::region_grid(&full_grid, &bx)
            .map_err(|e| PlanError::Input { field: "target", message: e.to_string() })?;
        let target = crop(s.target, &bx, grid);
        let dont_care = s.dont_care.map_or_else(|| Mask::empty(grid), |d| crop(d, &bx, grid));
        let body = crop(s.body, &bx, grid);
        let oars: Vec<Mask> = s.oars.iter().map(|o| crop(o.mask, &bx, grid)).collect();
        let mut critical = Mask::empty(grid);
        let mut skin = body.complement();
        for (oar, mask) in s.oars.iter().zip(&oars) {
            let into = if oar.class == CriticalOar::Skin { &mut skin } else { &mut critical };
            for (a, &b) in into.as_mut_slice().iter_mut().zip(mask.as_slice()) {
                *a |= b;
            }
        }
        let (to_target, (to_oar, to_skin)) =
            rayon::join(|| distance_to(&target), || rayon::join(|| distance_to(&critical), || distance_to(&skin)));
        Ok(PlanningRegion { full_grid, grid, target, dont_care, body, oars, to_target, to_oar, to_skin })
    }

    /// The region voxel nearest to `p`, if `p` is inside the region's grid.
    pub(crate) fn nearest(&self, p: PatientPoint) -> Option<[usize; 3]> {
        self.grid.nearest_voxel(p)
    }

    /// A lower bound on the distance from `p` to the structure of `map`: the map's value at the
    /// nearest voxel minus the distance from `p` to that voxel's centre.
    pub(crate) fn distance_lower_bound(&self, map: &Field<f64>, p: PatientPoint, voxel: [usize; 3]) -> Mm {
        Mm(map.at(voxel) - p.distance_to(self.grid.voxel_centre(voxel)).0)
    }
}

/// `mask` restricted to the box, on the box's grid.
pub(crate) fn crop(mask: &Mask, bx: &VoxelBox, grid: Grid) -> Mask {
    let full = mask.grid();
    let [nx, ny, nz] = bx.dims();
    let f = bx.first();
    let mut data = Vec::with_capacity(nx * ny * nz);
    for k in 0..nz {
        for j in 0..ny {
            let start = full.index([f[0], f[1] + j, f[2] + k]);
            data.extend_from_slice(&mask.as_slice()[start..start + nx]);
        }
    }
    Mask::from_vec(grid, data).expect("one value per voxel of the box")
}
