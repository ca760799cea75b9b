//! Lesion features: what the eligibility rules, the allocation rules and the reviewers read from
//! a case (PROTOCOL.md, "Lesion allocation": "features computed from the images").
//!
//! Conventions (from `cryoseed-volume`): a voxel belongs to a structure when its centre does;
//! diameters and distances are measured between voxel centres. Distances between structures are
//! surface-to-surface minima (0 when they touch or overlap).

use crate::case::{Case, Structure};
use cryoseed_core::protocol::{BulkyCriterion, Protocol};
use cryoseed_core::{CriticalOar, LesionId, LesionSite, Ml, Mm, Organ, PatientPoint, StructureRole};
use cryoseed_volume::measure;
use rayon::prelude::*;

/// Distance from a lesion to one organ-at-risk structure.
#[derive(Clone, Debug, PartialEq)]
pub struct OarDistance {
    /// The OAR structure's name.
    pub structure: String,
    /// Its organ.
    pub organ: Organ,
    /// Its critical-OAR class.
    pub class: CriticalOar,
    /// Minimum surface-to-surface distance from the GTV.
    pub distance: Mm,
}

/// Distance from a lesion to one vessel, with the vessel's measured diameter.
#[derive(Clone, Debug, PartialEq)]
pub struct VesselDistance {
    /// The vessel structure's name.
    pub structure: String,
    /// Its organ (aorta, vena cava, other vessel).
    pub organ: Organ,
    /// Diameter of the largest inscribed sphere of the vessel mask.
    pub diameter: Mm,
    /// Minimum surface-to-surface distance from the GTV.
    pub distance: Mm,
}

/// Everything measured about one lesion.
#[derive(Clone, Debug, PartialEq)]
pub struct LesionFeatures {
    /// Lesion code.
    pub lesion_id: LesionId,
    /// GTV structure name.
    pub structure: String,
    /// Organ the lesion is in.
    pub organ: Organ,
    /// Prescription site derived from the organ.
    pub site: LesionSite,
    /// Declared a target lesion.
    pub is_target: bool,
    /// Declared the bulky index lesion.
    pub is_bulky_index: bool,
    /// GTV volume.
    pub volume: Ml,
    /// GTV centroid.
    pub centroid: PatientPoint,
    /// Maximum 3-D (Feret) diameter.
    pub max_3d_diameter: Mm,
    /// RECIST 1.1 longest diameter in an axial slice.
    pub longest_axial_diameter: Mm,
    /// Longest diameter perpendicular to it in the same slice.
    pub short_axis: Mm,
    /// z of the axial slice where the longest diameter was measured.
    pub longest_diameter_slice_z: Mm,
    /// Measurable by RECIST 1.1 (non-nodal: longest diameter; node: short axis).
    pub is_measurable: bool,
    /// Which bulky criterion it meets, if any.
    pub bulky: Option<BulkyCriterion>,
    /// Distance to every critical OAR structure, nearest first.
    pub oar_distances: Vec<OarDistance>,
    /// Distance to every vessel at least as wide as the protocol's heat-sink diameter, nearest
    /// first.
    pub large_vessels: Vec<VesselDistance>,
}

impl LesionFeatures {
    /// The nearest structure of a critical-OAR class, if the case has one.
    pub fn nearest_oar(&self, class: CriticalOar) -> Option<&OarDistance> {
        self.oar_distances.iter().find(|d| d.class == class)
    }

    /// The nearest vessel at least as wide as the heat-sink diameter.
    pub fn nearest_large_vessel(&self) -> Option<&VesselDistance> {
        self.large_vessels.first()
    }

    /// The widest large vessel within `radius` of the GTV (PROTOCOL.md: "largest vessel within
    /// 10 mm").
    pub fn largest_vessel_within(&self, radius: Mm) -> Option<&VesselDistance> {
        self.large_vessels
            .iter()
            .filter(|v| v.distance <= radius)
            .max_by(|a, b| a.diameter.0.total_cmp(&b.diameter.0).then_with(|| b.distance.0.total_cmp(&a.distance.0)))
    }
}

/// Whether a structure acts as a blood vessel: vessels proper, and the great vessels that are
/// contoured as organs at risk (aorta, vena cava).
pub fn is_vessel(structure: &Structure) -> bool {
    structure.role == StructureRole::Vessel
        || matches!(structure.organ, Organ::Aorta | Organ::VenaCava | Organ::OtherVessel)
}

/// Measures every lesion (GTV) of the case, in the case's structure order.
pub fn lesion_features(case: &Case, protocol: &Protocol) -> Vec<LesionFeatures> {
    let oars: Vec<(&Structure, CriticalOar)> = case
        .structures()
        .iter()
        .filter(|s| s.role == StructureRole::Oar)
        .filter_map(|s| s.organ.critical_oar().map(|class| (s, class)))
        .collect();
    let min_vessel = protocol.allocation.heat_sink_min_vessel_diameter_mm;
    // A vessel's diameter does not depend on the lesion: measure each once.
    let vessels: Vec<(&Structure, Mm)> = case
        .structures()
        .par_iter()
        .filter(|s| is_vessel(s))
        .filter_map(|s| measure::max_inscribed_diameter(&s.mask).map(|d| (s, d)))
        .filter(|(_, d)| *d >= min_vessel)
        .collect();

    let lesions: Vec<_> = case.lesions().collect();
    lesions
        .par_iter()
        .map(|(gtv, info)| {
            let mask = &gtv.mask;
            let axial = measure::longest_axial_diameter(mask).expect("a case has no empty mask");
            let feret = measure::max_feret_diameter(mask).expect("a case has no empty mask");
            let volume = mask.volume();
            let m = &protocol.eligibility.measurability;
            let is_measurable = if gtv.organ == Organ::LymphNode {
                axial.short_axis >= m.min_nodal_short_axis_mm
            } else {
                axial.longest >= m.min_non_nodal_longest_diameter_mm
            };
            // Case::new guarantees one grid and no empty mask, so both failure modes are excluded.
            let distance = |other: &Structure| {
                measure::min_surface_distance(mask, &other.mask)
                    .expect("structures of a case share its grid")
                    .expect("a case has no empty mask")
            };
            let mut oar_distances: Vec<OarDistance> = oars
                .iter()
                .map(|(s, class)| OarDistance {
                    structure: s.name.clone(),
                    organ: s.organ,
                    class: *class,
                    distance: distance(s),
                })
                .collect();
            oar_distances
                .sort_by(|a, b| a.distance.0.total_cmp(&b.distance.0).then_with(|| a.structure.cmp(&b.structure)));
            let mut large_vessels: Vec<VesselDistance> = vessels
                .iter()
                .map(|(s, diameter)| VesselDistance {
                    structure: s.name.clone(),
                    organ: s.organ,
                    diameter: *diameter,
                    distance: distance(s),
                })
                .collect();
            large_vessels
                .sort_by(|a, b| a.distance.0.total_cmp(&b.distance.0).then_with(|| a.structure.cmp(&b.structure)));
            LesionFeatures {
                lesion_id: info.lesion_id.clone(),
                structure: gtv.name.clone(),
                organ: gtv.organ,
                site: gtv.organ.lesion_site(),
                is_target: info.is_target,
                is_bulky_index: info.is_bulky_index,
                volume,
                centroid: measure::centroid(mask).expect("a case has no empty mask"),
                max_3d_diameter: feret.length,
                longest_axial_diameter: axial.longest,
                short_axis: axial.short_axis,
                longest_diameter_slice_z: Mm(case.grid().voxel_centre([0, 0, axial.slice_k]).z().0),
                is_measurable,
                // The protocol's "longest diameter" is the RECIST (axial) one, as measured at screening.
                bulky: protocol.eligibility.bulky.criterion_met(Some(axial.longest), Some(volume)),
                oar_distances,
                large_vessels,
            }
        })
        .collect()
}
