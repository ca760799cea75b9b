//! Tumour zoning of the bulky index lesion (PROTOCOL.md, "Tumour zoning").
//!
//! - **core** = GTV voxels more than `zoning.core_depth_mm` (10 mm) inside the GTV surface and at
//!   least `zoning.core_min_oar_distance_mm` (20 mm) from every critical OAR — debulked by cryo;
//! - **margin** (PTV_margin, the seed target) = (GTV expanded by `zoning.margin_expansion_mm`
//!   (5 mm), clipped to the body, excluding critical OARs) minus the core;
//! - **high-risk** = GTV voxels within `zoning.high_risk_distance_mm` (10 mm) of a critical OAR
//!   or of a vessel at least `zoning.high_risk_min_vessel_diameter_mm` (3 mm) wide — always
//!   seeds, never ice. High-risk voxels are part of the margin (they are never core: a voxel
//!   10 mm from an OAR is closer than the core's 20 mm).
//!
//! Conventions of `cryoseed-volume`: a voxel is in a structure when its centre is; distances are
//! exact Euclidean distances between voxel centres. "Inside the surface by more than d" is the
//! erosion by d (lattice points beyond the grid count as outside).

use crate::PlanError;
use cryoseed_anatomy::features::is_vessel;
use cryoseed_anatomy::{Case, Structure};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Ml, StructureRole};
use cryoseed_volume::{Mask, dilate, distance_to, erode, measure};
use serde::Serialize;

/// The zones of a bulky index lesion.
#[derive(Clone, Debug)]
pub struct Zones {
    /// The zoned lesion's GTV structure name.
    pub structure: String,
    /// Cryo core.
    pub core: Mask,
    /// Seed target (PTV_margin).
    pub margin: Mask,
    /// High-risk sub-volume of the GTV (inside the margin).
    pub high_risk: Mask,
    /// What the zoning found, for the plan record.
    pub summary: ZoningSummary,
}

/// Volumes and reasons of a zoning, for the plan record and report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoningSummary {
    /// GTV volume.
    pub gtv_volume: Ml,
    /// Core volume.
    pub core_volume: Ml,
    /// Margin (seed target) volume.
    pub margin_volume: Ml,
    /// High-risk volume.
    pub high_risk_volume: Ml,
    /// Core as a share of the GTV, %.
    pub core_fraction_percent: f64,
    /// Structures that made GTV voxels high-risk (critical OARs and large vessels within reach).
    pub high_risk_sources: Vec<String>,
    /// Why the core is empty, when it is.
    pub empty_core_reason: Option<String>,
}

/// Zones the lesion whose GTV structure is `gtv` in `case`.
pub fn zone(case: &Case, gtv: &Structure, protocol: &Protocol) -> Result<Zones, PlanError> {
    if gtv.role != StructureRole::Gtv {
        return Err(PlanError::Structure { name: gtv.name.clone(), message: "only a GTV can be zoned".into() });
    }
    let rules = &protocol.zoning;
    let grid = *case.grid();
    let body = case.with_role(StructureRole::Body).next().map(|s| &s.mask);

    let oars: Vec<&Structure> =
        case.structures().iter().filter(|s| s.role == StructureRole::Oar && s.organ.critical_oar().is_some()).collect();
    let mut oar_union = Mask::empty(grid);
    for s in &oars {
        union_into(&mut oar_union, &s.mask);
    }
    let oar_distance = distance_to(&oar_union);

    // Core: deep and far from every OAR.
    let deep = erode(&gtv.mask, rules.core_depth_mm);
    let mut core = deep.clone();
    for (i, c) in core.as_mut_slice().iter_mut().enumerate() {
        *c = *c && oar_distance.as_slice()[i] >= rules.core_min_oar_distance_mm.0;
    }

    // Margin: GTV + 5 mm, clipped to the body, minus OARs, minus core.
    let mut margin = dilate(&gtv.mask, rules.margin_expansion_mm);
    for (i, m) in margin.as_mut_slice().iter_mut().enumerate() {
        let in_body = body.is_none_or(|b| b.as_slice()[i]);
        *m = *m && in_body && !oar_union.as_slice()[i] && !core.as_slice()[i];
    }

    // High-risk: GTV near a critical OAR or a large vessel.
    let reach = rules.high_risk_distance_mm;
    let mut sources = Vec::new();
    let mut near = Mask::empty(grid);
    for s in &oars {
        let d = measure::min_surface_distance(&gtv.mask, &s.mask)
            .map_err(|e| PlanError::Structure { name: s.name.clone(), message: e.to_string() })?;
        if d.is_some_and(|d| d <= reach) {
            sources.push(s.name.clone());
            union_into(&mut near, &s.mask);
        }
    }
    for s in case.structures().iter().filter(|s| is_vessel(s) && !oars.iter().any(|o| o.name == s.name)) {
        let wide =
            measure::max_inscribed_diameter(&s.mask).is_some_and(|d| d >= rules.high_risk_min_vessel_diameter_mm);
        if !wide {
            continue;
        }
        let d = measure::min_surface_distance(&gtv.mask, &s.mask)
            .map_err(|e| PlanError::Structure { name: s.name.clone(), message: e.to_string() })?;
        if d.is_some_and(|d| d <= reach) {
            sources.push(s.name.clone());
            union_into(&mut near, &s.mask);
        }
    }
    let near_reach = dilate(&near, reach);
    let high_risk = gtv.mask.intersection(&near_reach).expect("one grid");

    let gtv_volume = gtv.mask.volume();
    let core_volume = core.volume();
    let empty_core_reason = if core.is_empty() {
        Some(if deep.is_empty() {
            format!("no GTV voxel lies more than {:.0} mm inside the GTV surface", rules.core_depth_mm.0)
        } else {
            format!(
                "every GTV voxel more than {:.0} mm deep is within {:.0} mm of a critical OAR",
                rules.core_depth_mm.0, rules.core_min_oar_distance_mm.0
            )
        })
    } else {
        None
    };
    let summary = ZoningSummary {
        gtv_volume,
        core_volume,
        margin_volume: margin.volume(),
        high_risk_volume: high_risk.volume(),
        core_fraction_percent: 100.0 * core_volume.0 / gtv_volume.0,
        high_risk_sources: sources,
        empty_core_reason,
    };
    Ok(Zones { structure: gtv.name.clone(), core, margin, high_risk, summary })
}

/// The 0 °C confinement of the core's ice: GTV expanded by `zoning.ice_edge_max_beyond_gtv_mm`.
pub fn ice_confinement(gtv: &Mask, protocol: &Protocol) -> Mask {
    dilate(gtv, protocol.zoning.ice_edge_max_beyond_gtv_mm)
}

pub(crate) fn union_into(acc: &mut Mask, other: &Mask) {
    for (a, b) in acc.as_mut_slice().iter_mut().zip(other.as_slice()) {
        *a |= *b;
    }
}
