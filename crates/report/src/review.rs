//! The plan-review bundle (`review.json`, format `cryoseed-plan-review`): what the web service's
//! plan-review screen draws, as data rather than pictures. Cumulative DVH curves of the targets,
//! zones and organs at risk, and stacks of axial, coronal and sagittal slices through the region
//! of the targets with structure outlines (zones included), isodose lines, isotherms and seeds,
//! all as vectors in patient millimetres (DICOM LPS), plus the cryoprobes in 3-D.
//!
//! Lines come from the same marching squares as the report's SVG slices ([`crate::contour`]),
//! chained into polylines and stored in tenths of a millimetre as integers, delta-encoded
//! (`[u0, v0, du1, dv1, du2, dv2, …]`): a patient's bundle is a few hundred kilobytes where the
//! coordinates as decimals would be several times that. The bundle names the plan it belongs to
//! (`plan_sha256` of the `plan.json` bytes, `patient_id`, `case_sha256`), so that a service can
//! refuse a bundle uploaded with another plan.
//!
//! In-plane axes per orientation, drawn in the radiological convention of [`crate::plot`]:
//! axial `u = x, v = y` (patient's left on the right, posterior at the bottom), coronal
//! `u = x, v = z` (superior at the top), sagittal `u = y, v = z` (anterior on the left, superior
//! at the top).

use crate::contour::{Window, chain, march, slice_index};
use cryoseed_anatomy::Case;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Gy, StructureRole};
use cryoseed_plan::{AllocationDecision, PatientPlan, ProtocolRef};
use cryoseed_volume::{Dvh, Field, Grid, Mask, VoxelBox};
use serde::Serialize;

/// Format name of the bundle.
pub const REVIEW_FORMAT: &str = "cryoseed-plan-review";
/// Version of the bundle's layout.
pub const REVIEW_VERSION: u32 = 1;
/// Isodose levels drawn, percent of the prescription.
pub const ISODOSE_PERCENTS: [f64; 4] = [50.0, 100.0, 150.0, 200.0];
/// DVH samples from 0 Gy to the plotted maximum dose.
const DVH_SAMPLES: usize = 100;

/// How the slices are cut.
#[derive(Clone, Copy, Debug)]
pub struct ReviewSettings {
    /// Distance between stored slices, mm (rounded to whole grid slices, at least one).
    pub step_mm: f64,
    /// Margin around the targets' bounding box, mm.
    pub margin_mm: f64,
}

impl Default for ReviewSettings {
    /// Every 4 mm (every other slice of a 2 mm grid), 20 mm around the targets.
    fn default() -> Self {
        ReviewSettings { step_mm: 4.0, margin_mm: 20.0 }
    }
}

/// The bundle (module docs).
#[derive(Debug, Serialize)]
pub struct PlanReview {
    /// Always [`REVIEW_FORMAT`].
    pub format: &'static str,
    /// Always [`REVIEW_VERSION`].
    pub version: u32,
    /// Version of the software that made the plan.
    pub software_version: &'static str,
    /// The protocol the plan was made under.
    pub protocol: ProtocolRef,
    /// The patient.
    pub patient_id: String,
    /// SHA-256 of the case the plan was made on (as in `plan.json`).
    pub case_sha256: String,
    /// SHA-256 of the `plan.json` this bundle belongs to.
    pub plan_sha256: String,
    /// The seed prescription the isodoses and the DVH's Rx line refer to, Gy (`None` without
    /// seeds).
    pub prescription_gy: Option<f64>,
    /// DVH curves and their dose axis.
    pub dvh: DvhData,
    /// What the slices' lines are: structures, isodoses, isotherms (lines name their layer by
    /// index).
    pub layers: Vec<Layer>,
    /// Cryoprobes as (tip, 60 mm back along the shaft) in tenths of a millimetre, to be projected
    /// onto every slice.
    pub probes: Vec<[[i64; 3]; 2]>,
    /// Axial, coronal and sagittal stacks.
    pub planes: Vec<PlaneStack>,
}

/// Cumulative DVHs sampled at `0, step, 2·step, …` Gy.
#[derive(Debug, Serialize)]
pub struct DvhData {
    /// Dose between samples, Gy.
    pub dose_step_gy: f64,
    /// Per structure.
    pub curves: Vec<DvhCurveData>,
}

/// One structure's cumulative DVH.
#[derive(Debug, Serialize)]
pub struct DvhCurveData {
    /// Structure name.
    pub name: String,
    /// `target`, `zone` or `oar`.
    pub kind: &'static str,
    /// Volume receiving at least each sampled dose, tenths of a percent; trailing zeros dropped.
    pub volume_permille: Vec<u16>,
}

/// One kind of line on the slices.
#[derive(Debug, Serialize)]
pub struct Layer {
    /// `target`, `zone`, `oar`, `vessel`, `body`, `isodose` or `isotherm`.
    pub kind: &'static str,
    /// Structure name, or the level as a label (`100 %`, `-20 °C`).
    pub name: String,
    /// Isodose: Gy; isotherm: °C.
    pub level: Option<f64>,
    /// Isodose: percent of the prescription.
    pub percent: Option<f64>,
}

/// The slices of one orientation.
#[derive(Debug, Serialize)]
pub struct PlaneStack {
    /// `axial`, `coronal` or `sagittal`.
    pub plane: &'static str,
    /// The patient axes `[u, v, fixed]` (`x`, `y`, `z`).
    pub axes: [&'static str; 3],
    /// The field of view `[u_min, u_max, v_min, v_max]`, mm (the region of interest).
    pub view_mm: [f64; 4],
    /// Distance between stored slices, mm.
    pub step_mm: f64,
    /// Slices in increasing position.
    pub slices: Vec<Slice>,
}

/// One slice.
#[derive(Debug, Serialize)]
pub struct Slice {
    /// Position along the fixed axis, mm (a voxel-centre plane of the grid).
    pub position_mm: f64,
    /// `(layer index, delta-encoded polyline in tenths of a millimetre)`.
    pub lines: Vec<(usize, Vec<i64>)>,
    /// Seeds within half a step of the slice, `[u, v]` in tenths of a millimetre.
    pub seeds: Vec<[i64; 2]>,
}

/// What one layer contours: a mask or a field at a level.
enum Source<'a> {
    Mask(&'a Mask),
    Field(&'a Field<f32>, f64),
}

fn tenths(mm: f64) -> i64 {
    (mm * 10.0).round() as i64
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Builds the bundle of a plan. `plan_sha256` is the SHA-256 of the `plan.json` bytes the bundle
/// goes with.
pub fn plan_review(
    case: &Case,
    plan: &PatientPlan,
    protocol: &Protocol,
    plan_sha256: &str,
    settings: &ReviewSettings,
) -> PlanReview {
    let r = &plan.record;
    let prescription = r.seed_plans.first().map(|p| p.plan.settings.prescription);
    let zones = plan.zones.as_ref().filter(|_| r.allocations.iter().any(|a| a.decision == AllocationDecision::Zoned));

    // Layers: structures first (targets, zones, OARs, vessels, body), then isodoses, isotherms.
    let mut layers: Vec<(Layer, Source<'_>)> = Vec::new();
    let structure_layer =
        |kind: &'static str, name: &str| Layer { kind, name: name.to_owned(), level: None, percent: None };
    let targets: Vec<_> = r.allocations.iter().filter_map(|a| case.structure(&a.structure)).collect();
    for s in &targets {
        layers.push((structure_layer("target", &s.name), Source::Mask(&s.mask)));
    }
    if let Some(z) = zones {
        for (name, mask) in [("core", &z.core), ("margin (PTV)", &z.margin), ("high-risk", &z.high_risk)] {
            layers.push((structure_layer("zone", name), Source::Mask(mask)));
        }
    }
    for (role, kind) in [(StructureRole::Oar, "oar"), (StructureRole::Vessel, "vessel"), (StructureRole::Body, "body")]
    {
        for s in case.structures().iter().filter(|s| s.role == role) {
            layers.push((structure_layer(kind, &s.name), Source::Mask(&s.mask)));
        }
    }
    if let Some(rx) = prescription {
        for percent in ISODOSE_PERCENTS {
            let gy = rx.0 * percent / 100.0;
            layers.push((
                Layer { kind: "isodose", name: format!("{percent} %"), level: Some(gy), percent: Some(percent) },
                Source::Field(&plan.dose, gy),
            ));
        }
    }
    if !r.cryo_plans.is_empty() {
        let c = &protocol.cryo;
        let mut levels = vec![0.0, c.lethal_isotherm_c.0, c.conservative_lethal_isotherm_c.0];
        levels.dedup();
        for celsius in levels {
            layers.push((
                Layer { kind: "isotherm", name: format!("{celsius} °C"), level: Some(celsius), percent: None },
                Source::Field(&plan.min_temperature, celsius),
            ));
        }
    }

    let grid = case.grid();
    let roi = region_of_interest(grid, targets.iter().map(|s| &s.mask), settings.margin_mm);
    let seeds: Vec<[f64; 3]> =
        r.seed_plans.iter().flat_map(|p| p.plan.seeds.iter().map(|s| s.centre_in_patient.0)).collect();
    let planes = match roi {
        Some(roi) => ["axial", "coronal", "sagittal"]
            .into_iter()
            .map(|plane| plane_stack(grid, roi, plane, &layers, &seeds, settings.step_mm))
            .collect(),
        None => Vec::new(),
    };
    let probes = r
        .cryo_plans
        .iter()
        .flat_map(|c| c.plan.probes.iter())
        .map(|p| [p.tip_mm.map(tenths), std::array::from_fn(|a| tenths(p.tip_mm[a] - 60.0 * p.direction[a]))])
        .collect();

    PlanReview {
        format: REVIEW_FORMAT,
        version: REVIEW_VERSION,
        software_version: r.software_version,
        protocol: r.protocol.clone(),
        patient_id: r.inputs.patient_id.to_string(),
        case_sha256: r.inputs.case_sha256.clone(),
        plan_sha256: plan_sha256.to_owned(),
        prescription_gy: prescription.map(|p| p.0),
        dvh: dvh_data(case, plan, prescription),
        layers: layers.into_iter().map(|(l, _)| l).collect(),
        probes,
        planes,
    }
}

/// The targets' bounding box grown by the margin, clipped to the grid.
fn region_of_interest<'a>(grid: &Grid, targets: impl Iterator<Item = &'a Mask>, margin_mm: f64) -> Option<VoxelBox> {
    let spacing = grid.spacing_mm();
    let by = std::array::from_fn(|a| (margin_mm / spacing[a]).ceil().max(0.0) as usize);
    targets.filter_map(Mask::bounding_box).reduce(|a, b| a.union(&b)).map(|b| b.grown(by, grid.dims()))
}

fn plane_stack(
    grid: &Grid,
    roi: VoxelBox,
    plane: &'static str,
    layers: &[(Layer, Source<'_>)],
    seeds: &[[f64; 3]],
    step_mm: f64,
) -> PlaneStack {
    let (ha, va, fa) = match plane {
        "axial" => (0, 1, 2),
        "coronal" => (0, 2, 1),
        _ => (1, 2, 0),
    };
    const AXES: [&str; 3] = ["x", "y", "z"];
    let spacing = grid.spacing_mm();
    let origin = grid.origin().0;
    let (first, last) = (roi.first(), roi.last());
    let window = Window {
        lo: [first[ha], first[va]],
        hi: [last[ha], last[va]],
        origin: [origin[ha], origin[va]],
        spacing: [spacing[ha], spacing[va]],
    };
    let at = |axis: usize, i: usize| origin[axis] + i as f64 * spacing[axis];
    let every = ((step_mm / spacing[fa]).round() as usize).max(1);
    let step = every as f64 * spacing[fa];
    let slices = (first[fa]..=last[fa])
        .step_by(every)
        .map(|fixed| {
            let position = at(fa, fixed);
            let index = slice_index(grid, [ha, va, fa], fixed);
            let mut lines = Vec::new();
            for (n, (_, source)) in layers.iter().enumerate() {
                let segments = match source {
                    Source::Mask(mask) => {
                        let inside = mask.as_slice();
                        march(&window, 0.5, |a, b| if inside[index(a, b)] { 1.0 } else { 0.0 })
                    }
                    Source::Field(field, level) => {
                        let values = field.as_slice();
                        march(&window, *level, |a, b| f64::from(values[index(a, b)]))
                    }
                };
                for polyline in chain(&segments, |(u, v)| (tenths(u), tenths(v))) {
                    lines.push((n, delta_encode(&polyline)));
                }
            }
            let seeds = seeds
                .iter()
                .filter(|s| (s[fa] - position).abs() <= step / 2.0 + 1e-9)
                .map(|s| [tenths(s[ha]), tenths(s[va])])
                .collect();
            Slice { position_mm: round1(position), lines, seeds }
        })
        .collect();
    PlaneStack {
        plane,
        axes: [AXES[ha], AXES[va], AXES[fa]],
        view_mm: [
            round1(at(ha, first[ha])),
            round1(at(ha, last[ha])),
            round1(at(va, first[va])),
            round1(at(va, last[va])),
        ],
        step_mm: round1(step),
        slices,
    }
}

fn delta_encode(points: &[(i64, i64)]) -> Vec<i64> {
    let mut out = Vec::with_capacity(2 * points.len());
    let mut previous = (0, 0);
    for &(u, v) in points {
        out.push(u - previous.0);
        out.push(v - previous.1);
        previous = (u, v);
    }
    out
}

/// DVHs of the targets, the seed targets (zones included) and the evaluated organs at risk, on
/// the total seed dose, sampled up to twice the prescription or the highest dose, whichever is
/// higher but never past four times the prescription (the report's DVH axis).
fn dvh_data(case: &Case, plan: &PatientPlan, prescription: Option<Gy>) -> DvhData {
    let r = &plan.record;
    let Some(rx) = prescription else { return DvhData { dose_step_gy: 0.0, curves: Vec::new() } };
    let mut dvhs: Vec<(String, &'static str, Dvh)> = Vec::new();
    for a in &r.allocations {
        if let Some(s) = case.structure(&a.structure)
            && let Ok(d) = Dvh::compute(&plan.dose, &s.mask)
        {
            dvhs.push((s.name.clone(), "target", d));
        }
    }
    for (id, target) in &plan.seed_targets {
        if let Ok(d) = Dvh::compute(&plan.dose, target) {
            dvhs.push((format!("{id} seed target"), "zone", d));
        }
    }
    if let Some(z) =
        plan.zones.as_ref().filter(|_| r.allocations.iter().any(|a| a.decision == AllocationDecision::Zoned))
    {
        for (name, mask) in [("core", &z.core), ("high-risk", &z.high_risk)] {
            if let Ok(d) = Dvh::compute(&plan.dose, mask) {
                dvhs.push((name.to_owned(), "zone", d));
            }
        }
    }
    for o in &r.evaluation.oars {
        if let Some(s) = case.structure(&o.structure)
            && let Ok(d) = Dvh::compute(&plan.dose, &s.mask)
        {
            dvhs.push((s.name.clone(), "oar", d));
        }
    }
    let highest = dvhs.iter().map(|(_, _, d)| d.max().0).fold(2.0 * rx.0, f64::max);
    let top = highest.min(4.0 * rx.0).max(1.0);
    let step = (top / DVH_SAMPLES as f64 * 1000.0).round() / 1000.0;
    let curves = dvhs
        .into_iter()
        .map(|(name, kind, dvh)| {
            let mut volume_permille: Vec<u16> =
                (0..=DVH_SAMPLES).map(|k| (dvh.v_dose_percent(Gy(k as f64 * step)).0 * 10.0).round() as u16).collect();
            while volume_permille.len() > 1 && volume_permille.last() == Some(&0) {
                volume_permille.pop();
            }
            DvhCurveData { name, kind, volume_permille }
        })
        .collect();
    DvhData { dose_step_gy: step, curves }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoseed_core::{Cm, Mm, PatientPoint, U};
    use cryoseed_dose::{builtin_model, decay, tg43};

    fn grid(n: usize, spacing: f64) -> Grid {
        let half = (n as f64 - 1.0) * spacing / 2.0;
        Grid::new([n; 3], [Mm(spacing); 3], PatientPoint([-half; 3])).unwrap()
    }

    fn whole(grid: &Grid) -> VoxelBox {
        Mask::from_fn(*grid, |_| true).bounding_box().unwrap()
    }

    fn decode(deltas: &[i64]) -> Vec<(f64, f64)> {
        let mut at = (0, 0);
        deltas
            .chunks_exact(2)
            .map(|d| {
                at = (at.0 + d[0], at.1 + d[1]);
                (at.0 as f64 / 10.0, at.1 as f64 / 10.0)
            })
            .collect()
    }

    /// Every point of every line of `layer` on the slice nearest `position`, with that slice's
    /// position.
    fn points_near(stack: &PlaneStack, layer: usize, position: f64) -> (f64, Vec<(f64, f64)>) {
        let slice = stack
            .slices
            .iter()
            .min_by(|a, b| (a.position_mm - position).abs().total_cmp(&(b.position_mm - position).abs()))
            .unwrap();
        let points = slice.lines.iter().filter(|(n, _)| *n == layer).flat_map(|(_, d)| decode(d)).collect();
        (slice.position_mm, points)
    }

    #[test]
    fn sphere_outline_lies_at_its_radius_within_a_voxel_in_every_orientation() {
        let spacing = 2.0;
        let g = grid(31, spacing);
        let centre = [1.0, -2.0, 3.0];
        let radius = 15.0;
        let sphere = Mask::from_fn(g, |p| (0..3).map(|a| (p.0[a] - centre[a]).powi(2)).sum::<f64>().sqrt() <= radius);
        let layers =
            vec![(Layer { kind: "target", name: "GTV_L1".into(), level: None, percent: None }, Source::Mask(&sphere))];
        for (plane, (ha, va, fa)) in [("axial", (0, 1, 2)), ("coronal", (0, 2, 1)), ("sagittal", (1, 2, 0))] {
            let stack = plane_stack(&g, whole(&g), plane, &layers, &[], 4.0);
            assert_eq!(stack.step_mm, 4.0);
            let (position, points) = points_near(&stack, 0, centre[fa]);
            let in_plane = (radius.powi(2) - (position - centre[fa]).powi(2)).sqrt();
            assert!(points.len() > 30, "{plane}: {} points", points.len());
            for (u, v) in points {
                let r = ((u - centre[ha]).powi(2) + (v - centre[va]).powi(2)).sqrt();
                assert!((r - in_plane).abs() <= spacing, "{plane}: point at {r} mm, radius {in_plane} mm");
            }
        }
    }

    #[test]
    fn isodose_of_one_seed_lies_at_the_tg43_distance() {
        // One 6711 seed of 1 U, total dose of the permanent implant (1-D point-source formalism,
        // TG-43U1 Eq. 11) on a 1 mm grid; the seed sits between voxel centres.
        let model = builtin_model("6711").unwrap();
        let total_gy = |r_mm: f64| {
            let rate = tg43::dose_rate_point_cgy_per_h(&model, U(1.0), Cm(r_mm / 10.0)) / 100.0;
            decay::total_dose(cryoseed_core::GyPerHour(rate), model.half_life()).0
        };
        let g = grid(41, 1.0);
        let seed = [0.5, 0.5, 0.5];
        let distance = |p: &PatientPoint| (0..3).map(|a| (p.0[a] - seed[a]).powi(2)).sum::<f64>().sqrt();
        let values: Vec<f32> = (0..g.len()).map(|i| total_gy(distance(&g.voxel_centre(g.ijk(i)))) as f32).collect();
        let dose = Field::from_vec(g, values).unwrap();
        let level = 30.0;
        // The distance at which the dose falls to the level, by bisection on the formalism.
        let (mut near, mut far) = (2.0, 20.0);
        for _ in 0..60 {
            let mid = (near + far) / 2.0;
            if total_gy(mid) > level { near = mid } else { far = mid }
        }
        let expected = near;
        assert!((6.0..12.0).contains(&expected), "{expected}");
        let layers = vec![(
            Layer { kind: "isodose", name: "30 Gy".into(), level: Some(level), percent: None },
            Source::Field(&dose, level),
        )];
        let stack = plane_stack(&g, whole(&g), "axial", &layers, &[seed], 1.0);
        let (position, points) = points_near(&stack, 0, 0.0);
        let in_plane = (expected.powi(2) - (position - seed[2]).powi(2)).sqrt();
        assert!(points.len() > 30);
        for (u, v) in points {
            let r = ((u - seed[0]).powi(2) + (v - seed[1]).powi(2)).sqrt();
            assert!((r - in_plane).abs() <= 0.25, "isodose at {r} mm, expected {in_plane} mm");
        }
        // The seed is drawn on the slices within half a step of it.
        let with_seed: Vec<f64> = stack.slices.iter().filter(|s| !s.seeds.is_empty()).map(|s| s.position_mm).collect();
        assert_eq!(with_seed, vec![0.0, 1.0]);
        assert_eq!(stack.slices.iter().find(|s| s.position_mm == 0.0).unwrap().seeds, vec![[5, 5]]);
    }

    #[test]
    fn polylines_are_delta_encoded_in_tenths_of_a_millimetre() {
        assert_eq!(delta_encode(&[(12, -3), (15, -3), (15, 4)]), vec![12, -3, 3, 0, 0, 7]);
    }
}
