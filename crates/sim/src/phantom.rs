//! Building a phantom: the body section of a scenario, its organs and its lesions, on a grid.
//!
//! The build runs in three steps:
//!
//! 1. **anatomy**: body, skin, bones, cord, vessels, heart, bowel, lungs or liver are rasterized
//!    from analytic solids, each from its own random stream;
//! 2. **settle**: every structure is clipped to the body, and the non-lesion structures are made
//!    disjoint, earlier ones winning (skin, then bone, cord, vessels, heart, bowel, organs);
//! 3. **lesions**: each GTV is an irregular blob clipped to the body (and to its organ, if it
//!    lies in one), carved to keep `gap` mm from every OAR and vessel, kept out of other organs,
//!    the spinal canal and the other lesions, and reduced to its largest connected piece.
//!
//! Organs (role `Organ`) contain the lesions that lie in them, as clinical contours do.

use crate::SimError;
use crate::raster::{VoxelBox, dilate, intersect, largest_component, mask_of, mask_where, subtract, unite};
use crate::rng::Stream;
use crate::scenario::{LesionSpec, Region, Scenario, lesion_specs};
use crate::shape::{Blob, Bounds, Keepout, P3, Plate, Tube, ellipse_depth};
use cryoseed_anatomy::{Case, LesionInfo, Structure};
use cryoseed_core::{LesionId, Mm, Organ, PatientId, PatientPoint, StructureRole};
use cryoseed_volume::{Grid, Mask};
use std::f64::consts::TAU;

/// How a phantom is sampled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhantomConfig {
    /// Distance between voxel centres along x, y and z; anisotropic spacing (thicker slices,
    /// e.g. `[1, 1, 2.5]` mm) is allowed. Each must lie in [`PhantomConfig::SPACING_RANGE`].
    pub spacing: [Mm; 3],
}

impl PhantomConfig {
    /// Supported spacing per axis, mm: finer grids would need gigabytes (one byte per voxel per
    /// structure), coarser ones lose the 10 mm spinal cord.
    pub const SPACING_RANGE: std::ops::RangeInclusive<f64> = 0.5..=4.0;
}

impl Default for PhantomConfig {
    /// Isotropic 1 mm voxels.
    fn default() -> PhantomConfig {
        PhantomConfig { spacing: [Mm(1.0); 3] }
    }
}

/// The case of a synthetic patient: `scenario` on a grid with `config`'s spacing, drawn from
/// `seed`. The same arguments give a byte-identical case.
///
/// The patient id is `PHANTOM-<scenario>-<seed>`. See the crate documentation for the anatomy
/// and the lesions of each scenario.
pub fn phantom(scenario: Scenario, config: &PhantomConfig, seed: u64) -> Result<Case, SimError> {
    let spacing = config.spacing.map(|s| s.0);
    if !spacing.iter().all(|s| PhantomConfig::SPACING_RANGE.contains(s)) {
        return Err(SimError::Spacing { spacing });
    }
    let region = scenario.region();
    let grid = section_grid(region, spacing)?;
    let mut builder = Builder::new(grid, seed, scenario, region);
    // The anatomy knows the nominal lesions: bowel loops are routed around (or against) them.
    let lesions = lesion_specs(scenario);
    match region {
        Region::Thorax => thorax(&mut builder),
        Region::UpperAbdomen => upper_abdomen(&mut builder, &lesions),
        Region::Lumbar => lumbar(&mut builder, &lesions),
        Region::Pelvis => pelvis(&mut builder, &lesions),
    }
    builder.settle();
    let hazards = builder.union_of(|s| matches!(s.role, StructureRole::Oar | StructureRole::Vessel));
    for spec in &lesions {
        builder.add_lesion(spec, &hazards);
    }
    // Scenario names and decimal seeds only use characters ids allow, and the longest id
    // ("PHANTOM-liver-small-separated-" + 20 digits) is 50 characters.
    let patient_id = PatientId::parse(format!("PHANTOM-{}-{seed}", scenario.name())).expect("phantom ids are valid");
    Ok(Case::new(patient_id, grid, builder.structures)?)
}

/// Nominal body cross-section (semi-axes, mm) and field of view along z of each section.
fn section(region: Region) -> ([f64; 2], [f64; 2]) {
    match region {
        // 320 × 230 mm chest.
        Region::Thorax => ([160.0, 115.0], [-75.0, 75.0]),
        // 330 × 240 mm upper abdomen.
        Region::UpperAbdomen => ([165.0, 120.0], [-85.0, 75.0]),
        // 340 × 240 mm abdomen.
        Region::Lumbar => ([170.0, 120.0], [-70.0, 70.0]),
        // 360 × 250 mm pelvis.
        Region::Pelvis => ([180.0, 125.0], [-75.0, 75.0]),
    }
}

/// The field of view: the body's nominal section plus room for its per-seed size variation
/// (≤ 4.5 %) and a few mm of air, and the section's z range.
fn section_grid(region: Region, spacing: [f64; 3]) -> Result<Grid, SimError> {
    let (semi, fov_z) = section(region);
    let half = semi.map(|s| (s * 1.05 + 5.0).ceil());
    let lo = [-half[0], -half[1], fov_z[0]];
    let extent = [2.0 * half[0], 2.0 * half[1], fov_z[1] - fov_z[0]];
    let dims = std::array::from_fn(|a| (extent[a] / spacing[a] + 1e-9).floor() as usize + 1);
    Ok(Grid::new(dims, spacing.map(Mm), PatientPoint(lo))?)
}

/// The body outline: an ellipse whose semi-axes swell gently along z.
#[derive(Clone, Debug)]
struct Body {
    /// Semi-axes per grid slice, mm.
    semi_by_slice: Vec<[f64; 2]>,
}

impl Body {
    /// Depth of a point of slice `k` inside the body, mm (negative outside).
    fn depth(&self, k: usize, p: P3) -> f64 {
        let [a, b] = self.semi_by_slice[k];
        ellipse_depth(p[0], p[1], a, b)
    }
}

/// A structure's place in the build: the grid, the seed and what is already there.
struct Builder {
    grid: Grid,
    seed: u64,
    scenario: Scenario,
    body: Body,
    /// The spinal (or sacral) canal: lesions do not invade it.
    canal: Mask,
    structures: Vec<Structure>,
}

impl Builder {
    /// Starts a phantom with its body outline and skin.
    fn new(grid: Grid, seed: u64, scenario: Scenario, region: Region) -> Builder {
        let (semi, _) = section(region);
        let mut rng = Stream::new(seed, &format!("phantom/{}/External", scenario.name()));
        let scale = [rng.uniform(0.97, 1.03), rng.uniform(0.97, 1.03)];
        let (swell, phase) = (rng.uniform(0.0, 0.015), rng.uniform(0.0, TAU));
        let semi_by_slice = (0..grid.dims()[2])
            .map(|k| {
                let z = grid.voxel_centre([0, 0, k]).0[2];
                let f = 1.0 + swell * (TAU * z / 400.0 + phase).sin();
                [semi[0] * scale[0] * f, semi[1] * scale[1] * f]
            })
            .collect();
        let body = Body { semi_by_slice };
        let mut builder = Builder { grid, seed, scenario, body, canal: Mask::empty(grid), structures: Vec::new() };
        let all = VoxelBox::whole(&grid);
        let external = mask_where(&grid, all, |_, [_, _, k], p| builder.body.depth(k, p) >= 0.0);
        // Skin: the outer 3 mm of the body (in the axial plane: the body continues beyond the
        // cranial and caudal faces of the field of view).
        let skin = mask_where(&grid, all, |_, [_, _, k], p| (0.0..3.0).contains(&builder.body.depth(k, p)));
        builder.push("External", StructureRole::Body, Organ::Body, external);
        builder.push("Skin", StructureRole::Oar, Organ::Skin, skin);
        builder
    }

    /// The random stream of one part of this phantom.
    fn stream(&self, part: &str) -> Stream {
        Stream::new(self.seed, &format!("phantom/{}/{part}", self.scenario.name()))
    }

    fn push(&mut self, name: &str, role: StructureRole, organ: Organ, mask: Mask) {
        self.structures.push(Structure { name: name.to_owned(), role, organ, lesion: None, mask });
    }

    fn mask(&self, name: &str) -> &Mask {
        &self.structures.iter().find(|s| s.name == name).expect("structure was added earlier in the build").mask
    }

    fn union_of(&self, pick: impl Fn(&Structure) -> bool) -> Mask {
        let mut out = Mask::empty(self.grid);
        for s in self.structures.iter().filter(|s| pick(s)) {
            unite(&mut out, &s.mask);
        }
        out
    }

    /// Field-of-view z range, mm, with a margin so that tubes do not end inside it.
    fn z_span(&self) -> [f64; 2] {
        let top = self.grid.voxel_centre([0, 0, self.grid.dims()[2] - 1]).0[2];
        [self.grid.origin().0[2] - 10.0, top + 10.0]
    }

    /// A vessel or the cord: a tube whose centre runs from `top` (at the top of the field) to
    /// `bottom` (at its bottom) in the axial plane, wobbling by up to `wobble` mm.
    fn running_tube(&self, part: &str, top: [f64; 2], bottom: [f64; 2], radius: [f64; 2], wobble: f64) -> Tube {
        let mut rng = self.stream(part);
        let radius = rng.uniform(radius[0], radius[1]);
        let waves: Vec<(f64, f64)> = (0..2).map(|_| (rng.uniform(120.0, 250.0), rng.uniform(0.0, TAU))).collect();
        let [z0, z1] = self.z_span();
        let steps = ((z1 - z0) / 5.0).ceil() as usize;
        let points = (0..=steps)
            .map(|n| {
                let z = z0 + (z1 - z0) * n as f64 / steps as f64;
                let t = (z1 - z) / (z1 - z0);
                std::array::from_fn(|a| match a {
                    2 => z,
                    _ => top[a] + t * (bottom[a] - top[a]) + wobble * (TAU * z / waves[a].0 + waves[a].1).sin(),
                })
            })
            .collect();
        Tube::new(points, radius)
    }

    fn add_tube(&mut self, name: &str, role: StructureRole, organ: Organ, tube: &Tube) {
        let mask = mask_of(&self.grid, tube.bounds(), |p| tube.contains(p));
        self.push(name, role, organ, mask);
    }

    /// Clips every structure to the body and makes the non-lesion structures disjoint, earlier
    /// ones keeping the shared voxels.
    fn settle(&mut self) {
        let body = self.structures[0].mask.clone();
        let mut claimed = Mask::empty(self.grid);
        for s in self.structures.iter_mut().skip(1) {
            intersect(&mut s.mask, &body);
            subtract(&mut s.mask, &claimed);
            unite(&mut claimed, &s.mask);
        }
    }

    /// The lesion's irregular shape, with its per-seed jitter of position (±1.5 mm per axis) and
    /// size (±5 %). Small lesions turn freely about z; a bulky lesion only by ±20°, because its
    /// semi-axes were chosen to fit its neighbours (and its axial diameter) in a given orientation.
    fn lesion_blob(&self, spec: &LesionSpec) -> Blob {
        let mut rng = self.stream(&format!("GTV_{}", spec.lesion.lesion_id));
        let centre = spec.centre.map(|c| c + rng.uniform(-1.5, 1.5));
        let semi = spec.semi.map(|s| s * rng.uniform(0.95, 1.05));
        let max_yaw = if spec.lesion.is_bulky_index { 20f64.to_radians() } else { std::f64::consts::PI };
        Blob::irregular(&mut rng, centre, semi, spec.irregularity, max_yaw)
    }

    fn add_lesion(&mut self, spec: &LesionSpec, hazards: &Mask) {
        let grid = self.grid;
        let blob = self.lesion_blob(spec);
        let vbox = VoxelBox::of_bounds(&grid, blob.bounds());
        let near_hazard = dilate(hazards, spec.gap, vbox);
        // Distinct lesions keep at least 2 mm of tissue between them.
        let near_lesion = dilate(&self.union_of(|s| s.role == StructureRole::Gtv), 2.0, vbox);
        let foreign = self.union_of(|s| s.role == StructureRole::Organ && s.organ != spec.lesion.organ);
        let within = spec.within.map(|name| self.mask(name));
        let (body, canal) = (&self.structures[0].mask, &self.canal);
        let raw = mask_where(&grid, vbox, |n, _, p| {
            let clear = |m: &Mask| !m.as_slice()[n];
            body.as_slice()[n]
                && within.is_none_or(|w| w.as_slice()[n])
                && clear(&near_hazard)
                && clear(&near_lesion)
                && clear(&foreign)
                && clear(canal)
                && blob.contains(p)
        });
        let lesion = &spec.lesion;
        self.structures.push(Structure {
            name: format!("GTV_{}", lesion.lesion_id),
            role: StructureRole::Gtv,
            organ: lesion.organ,
            lesion: Some(LesionInfo {
                lesion_id: LesionId::parse(lesion.lesion_id).expect("scenario lesion ids are valid"),
                is_target: lesion.is_target,
                is_bulky_index: lesion.is_bulky_index,
            }),
            mask: largest_component(&raw),
        });
    }

    /// Bowel: `loops` winding tubes of ≈ 25 mm diameter whose centrelines run in the box
    /// `lo`–`hi` outside `keepouts`, ≥ 10 mm inside the skin. `drape`, if given, starts the
    /// first loop at that point, heading along x, so that it lies against a lesion.
    fn add_bowel(&mut self, loops: usize, [lo, hi]: [P3; 2], keepouts: Vec<Keepout>, drape: Option<P3>) {
        let mut rng = self.stream("Bowel");
        let radius = rng.uniform(11.5, 13.0);
        // Steer by the narrowest body section, so that loops stay inside the body at every z.
        let body_semi =
            self.body.semi_by_slice.iter().fold([f64::INFINITY; 2], |m, s| [m[0].min(s[0]), m[1].min(s[1])]);
        let room = BowelRoom { lo, hi, keepouts, body_semi, clearance: radius + 12.0 };
        let tubes: Vec<Tube> = (0..loops)
            .map(|n| {
                let (start, heading) = match (n, drape) {
                    (0, Some(p)) => (p, [1.0, 0.0, 0.0]),
                    _ => (room.free_point(&mut rng), rng.direction()),
                };
                let length = rng.uniform(350.0, 500.0);
                Tube::new(room.winding_path(&mut rng, start, heading, length), radius)
            })
            .collect();
        // Keep-outs may push a centreline out of the box, so bound the tubes themselves.
        let nothing = Bounds { lo: [f64::INFINITY; 3], hi: [f64::NEG_INFINITY; 3] };
        let bounds = tubes.iter().map(Tube::bounds).fold(nothing, |u, b| Bounds {
            lo: std::array::from_fn(|a| u.lo[a].min(b.lo[a])),
            hi: std::array::from_fn(|a| u.hi[a].max(b.hi[a])),
        });
        let body = &self.body;
        let mask = mask_where(&self.grid, VoxelBox::of_bounds(&self.grid, bounds), |_, [_, _, k], p| {
            body.depth(k, p) >= 10.0 && tubes.iter().any(|t| t.contains(p))
        });
        self.push("Bowel", StructureRole::Oar, Organ::Bowel, mask);
    }
}

/// Where bowel centrelines may run: a box, inside the body by a clearance, outside keep-outs.
#[derive(Debug)]
struct BowelRoom {
    lo: P3,
    hi: P3,
    keepouts: Vec<Keepout>,
    /// Body semi-axes to steer by, mm.
    body_semi: [f64; 2],
    /// Smallest depth of a centreline point inside the body, mm.
    clearance: f64,
}

impl BowelRoom {
    fn depth(&self, p: P3) -> f64 {
        ellipse_depth(p[0], p[1], self.body_semi[0], self.body_semi[1])
    }

    /// A uniformly drawn point of the box that is deep enough and outside every keep-out.
    fn free_point(&self, rng: &mut Stream) -> P3 {
        loop {
            let p = std::array::from_fn(|a| rng.uniform(self.lo[a], self.hi[a]));
            if self.depth(p) >= self.clearance && self.keepouts.iter().all(|k| k.push_out(p) == p) {
                return p;
            }
        }
    }

    /// A bowel centreline: a persistent random walk (3 mm steps, its heading turned by a slowly
    /// varying random drift) steered back into the box and the body, and pushed out of the
    /// keep-outs.
    fn winding_path(&self, rng: &mut Stream, start: P3, heading: P3, length: f64) -> Vec<P3> {
        const STEP: f64 = 3.0;
        const LOOK_AHEAD: f64 = 20.0;
        let normalize = |v: P3| {
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-9);
            v.map(|c| c / len)
        };
        let [a, b] = self.body_semi;
        let (mut p, mut d, mut drift) = (start, heading, [0.0; 3]);
        let mut points = vec![p];
        for _ in 0..(length / STEP) as usize {
            drift = std::array::from_fn(|i| 0.85 * drift[i] + 0.5 * rng.normal());
            d = normalize(std::array::from_fn(|i| d[i] + 0.25 * drift[i]));
            let ahead: P3 = std::array::from_fn(|i| p[i] + LOOK_AHEAD * d[i]);
            for i in 0..3 {
                if ahead[i] < self.lo[i] {
                    d[i] += 0.6;
                } else if ahead[i] > self.hi[i] {
                    d[i] -= 0.6;
                }
            }
            if self.depth(ahead) < self.clearance {
                let inward = normalize([-ahead[0] / (a * a), -ahead[1] / (b * b), 0.0]);
                d = std::array::from_fn(|i| d[i] + 0.6 * inward[i]);
            }
            d = normalize(d);
            p = std::array::from_fn(|i| (p[i] + STEP * d[i]).clamp(self.lo[i], self.hi[i]));
            for k in &self.keepouts {
                p = k.push_out(p);
            }
            points.push(p);
        }
        points
    }
}

/// A vertebral column along z: vertebral bodies with discs between them, each with a neural arch
/// and spinous process around the canal.
#[derive(Clone, Copy, Debug)]
struct Spine {
    body_centre: [f64; 2],
    body_semi: [f64; 2],
    canal_centre: [f64; 2],
    canal_radius: f64,
    /// Outer semi-axes of the neural arch around the canal.
    arch_semi: [f64; 2],
    /// y range of the spinous process (half-width 4 mm).
    spinous_y: [f64; 2],
    /// Level pitch along z; vertebral bodies are centred at multiples of it.
    period: f64,
    /// Height of a vertebral body; the rest of the pitch is disc.
    height: f64,
}

impl Spine {
    fn in_canal(&self, p: P3) -> bool {
        (p[0] - self.canal_centre[0]).powi(2) + (p[1] - self.canal_centre[1]).powi(2) <= self.canal_radius.powi(2)
    }

    fn is_bone(&self, p: P3) -> bool {
        let level = (p[2] / self.period).round() * self.period;
        if (p[2] - level).abs() > self.height / 2.0 || self.in_canal(p) {
            return false;
        }
        let inside = |c: [f64; 2], s: [f64; 2]| ((p[0] - c[0]) / s[0]).powi(2) + ((p[1] - c[1]) / s[1]).powi(2) <= 1.0;
        let behind_body = p[1] >= self.body_centre[1] + self.body_semi[1];
        inside(self.body_centre, self.body_semi)
            || (behind_body && inside(self.canal_centre, self.arch_semi))
            || (p[0].abs() <= 4.0 && (self.spinous_y[0]..=self.spinous_y[1]).contains(&p[1]))
    }

    /// Rasterizes `Bone_Vertebra`, the spinal cord (≈ 10 mm) and the canal keep-out.
    fn add_to(&self, b: &mut Builder) {
        let [z0, z1] = b.z_span();
        let reach = self.arch_semi[0].max(self.body_semi[0]).max(4.0);
        let bounds =
            Bounds { lo: [-reach, self.body_centre[1] - self.body_semi[1], z0], hi: [reach, self.spinous_y[1], z1] };
        let bone = mask_of(&b.grid, bounds, |p| self.is_bone(p));
        b.push("Bone_Vertebra", StructureRole::Organ, Organ::Bone, bone);
        let c = self.canal_centre;
        let cord = b.running_tube("SpinalCord", c, c, [4.5, 5.5], 1.0);
        b.add_tube("SpinalCord", StructureRole::Oar, Organ::SpinalCord, &cord);
        let canal = Bounds::around([c[0], c[1], 0.0], [self.canal_radius, self.canal_radius, 1e4]);
        b.canal = mask_of(&b.grid, canal, |p| self.in_canal(p));
    }

    /// Bowel keep-out around the vertebral body, for a tube of `radius`.
    fn keepout(&self, radius: f64) -> Keepout {
        let c = self.body_centre;
        Keepout {
            centre: [c[0], c[1], 0.0],
            semi: [self.body_semi[0] + radius + 8.0, self.body_semi[1] + radius + 8.0, 1e6],
        }
    }
}

/// Bowel keep-out around a vertical vessel at `xy` of radius ≤ `vessel_radius`.
fn vessel_keepout(xy: [f64; 2], vessel_radius: f64, bowel_radius: f64) -> Keepout {
    let r = vessel_radius + bowel_radius + 6.0;
    Keepout { centre: [xy[0], xy[1], 0.0], semi: [r, r, 1e6] }
}

/// Bowel keep-outs around the nominal lesion ellipsoids, each grown by the bowel radius and the
/// lesion's `bowel_clearance`. Lobes that bulge past the nominal surface into bowel are carved
/// back by the lesion's own gap.
fn lesion_keepouts(lesions: &[LesionSpec], bowel_radius: f64) -> Vec<Keepout> {
    lesions
        .iter()
        .map(|spec| Keepout { centre: spec.centre, semi: spec.semi.map(|s| s + bowel_radius + spec.bowel_clearance) })
        .collect()
}

/// Largest bowel radius drawn (keep-outs are sized for it).
const BOWEL_RADIUS_MAX: f64 = 13.0;

/// Lower chest: thoracic spine and cord, descending aorta, heart, both lungs.
fn thorax(b: &mut Builder) {
    let spine = Spine {
        body_centre: [0.0, 42.0],
        body_semi: [17.0, 14.0],
        canal_centre: [0.0, 68.0],
        canal_radius: 8.0,
        arch_semi: [15.0, 14.0],
        spinous_y: [76.0, 95.0],
        period: 30.0,
        height: 23.0,
    };
    spine.add_to(b);
    let aorta = b.running_tube("A_Aorta", [30.0, 20.0], [30.0, 20.0], [11.0, 12.5], 1.5);
    b.add_tube("A_Aorta", StructureRole::Oar, Organ::Aorta, &aorta);
    let mut rng = b.stream("Heart");
    let heart = Blob::irregular(&mut rng, [22.0, -45.0, 35.0], [58.0, 42.0, 52.0], 0.06, 0.2);
    let heart = mask_of(&b.grid, heart.bounds(), |p| heart.contains(p));
    b.push("Heart", StructureRole::Oar, Organ::Heart, heart);
    // The lungs fill the chest 22 mm inside the skin, minus the mediastinum (a midline strip,
    // the paravertebral muscles) and 3 mm around the heart, aorta, spine and cord.
    let solid = b.union_of(|s| matches!(s.name.as_str(), "Bone_Vertebra" | "SpinalCord" | "A_Aorta" | "Heart"));
    let mediastinum = dilate(&solid, 3.0, VoxelBox::whole(&b.grid));
    for (name, side) in [("Lung_L", 1.0), ("Lung_R", -1.0)] {
        let body = &b.body;
        let lung = mask_where(&b.grid, VoxelBox::whole(&b.grid), |n, [_, _, k], p| {
            let x = side * p[0];
            x >= 12.0 && !(x < 35.0 && p[1] > 50.0) && body.depth(k, p) >= 22.0 && !mediastinum.as_slice()[n]
        });
        b.push(name, StructureRole::Organ, Organ::Lung, lung);
    }
}

/// The abdominal aorta and inferior vena cava; returns their bowel keep-outs.
fn abdominal_vessels(b: &mut Builder, aorta_xy: [f64; 2], ivc_xy: [f64; 2]) -> [Keepout; 2] {
    let aorta = b.running_tube("A_Aorta", aorta_xy, aorta_xy, [11.0, 12.5], 1.5);
    b.add_tube("A_Aorta", StructureRole::Oar, Organ::Aorta, &aorta);
    let ivc = b.running_tube("V_Venacava_I", ivc_xy, ivc_xy, [10.5, 12.0], 1.5);
    b.add_tube("V_Venacava_I", StructureRole::Oar, Organ::VenaCava, &ivc);
    [vessel_keepout(aorta_xy, 14.0, BOWEL_RADIUS_MAX), vessel_keepout(ivc_xy, 13.5, BOWEL_RADIUS_MAX)]
}

/// Upper abdomen (T11–T12): spine and cord, aorta, IVC, bowel below the liver, liver.
fn upper_abdomen(b: &mut Builder, lesions: &[LesionSpec]) {
    let spine = Spine {
        body_centre: [0.0, 30.0],
        body_semi: [21.0, 16.0],
        canal_centre: [0.0, 57.0],
        canal_radius: 8.5,
        arch_semi: [17.0, 15.0],
        spinous_y: [66.0, 92.0],
        period: 33.0,
        height: 26.0,
    };
    spine.add_to(b);
    let vessels = abdominal_vessels(b, [12.0, 0.0], [-26.0, -8.0]);
    let (liver_centre, liver_semi) = ([-55.0, -10.0, -5.0], [100.0, 80.0, 95.0]);
    let mut keepouts = lesion_keepouts(lesions, BOWEL_RADIUS_MAX);
    keepouts.extend(vessels);
    keepouts.push(spine.keepout(BOWEL_RADIUS_MAX));
    keepouts.push(Keepout { centre: liver_centre, semi: liver_semi.map(|s| s * 1.06 + BOWEL_RADIUS_MAX + 3.0) });
    b.add_bowel(3, [[15.0, -95.0, -80.0], [125.0, -35.0, -5.0]], keepouts, None);
    // The liver stays 12 mm inside the skin (abdominal wall) and 3 mm from every structure
    // already placed. The retroperitoneum around the spine and aorta (an ellipse from x = −43 to
    // 53 mm, y = −15 to 85 mm) stays free, so only the left lobe crosses the midline, in front
    // of the aorta, while the liver may still wrap around the IVC.
    let mut rng = b.stream("Liver");
    let shape = Blob::irregular(&mut rng, liver_centre, liver_semi, 0.06, 0.1);
    let vbox = VoxelBox::of_bounds(&b.grid, shape.bounds());
    let occupied = b.union_of(|s| !matches!(s.role, StructureRole::Body) && s.name != "Skin");
    let crowded = dilate(&occupied, 3.0, vbox);
    let body = &b.body;
    let liver = mask_where(&b.grid, vbox, |n, [_, _, k], p| {
        let retroperitoneal = ((p[0] - 5.0) / 48.0).powi(2) + ((p[1] - 35.0) / 50.0).powi(2) < 1.0;
        p[0] <= 60.0 && !retroperitoneal && body.depth(k, p) >= 12.0 && !crowded.as_slice()[n] && shape.contains(p)
    });
    b.push("Liver", StructureRole::Organ, Organ::Liver, liver);
}

/// Upper lumbar spine (L1–L2, conus level): spine and cord, aorta, IVC, bowel.
fn lumbar(b: &mut Builder, lesions: &[LesionSpec]) {
    let spine = Spine {
        body_centre: [0.0, 28.0],
        body_semi: [24.0, 17.0],
        canal_centre: [0.0, 56.0],
        canal_radius: 9.0,
        arch_semi: [19.0, 16.0],
        spinous_y: [66.0, 92.0],
        period: 36.0,
        height: 28.0,
    };
    spine.add_to(b);
    let vessels = abdominal_vessels(b, [16.0, -3.0], [-25.0, -3.0]);
    let mut keepouts = lesion_keepouts(lesions, BOWEL_RADIUS_MAX);
    keepouts.extend(vessels);
    keepouts.push(spine.keepout(BOWEL_RADIUS_MAX));
    b.add_bowel(4, [[-125.0, -100.0, -65.0], [125.0, -32.0, 65.0]], keepouts, None);
}

/// Upper pelvis: sacrum and iliac wings with the cauda equina in the sacral canal, common and
/// external iliac arteries and veins (the aorta and IVC divide above this field), bowel.
fn pelvis(b: &mut Builder, lesions: &[LesionSpec]) {
    let [z0, z1] = b.z_span();
    let (sacrum_centre, sacrum_semi) = ([0.0, 74.0], [46.0, 19.0]);
    let (canal_centre, canal_radius) = ([0.0, 80.0], 7.0);
    let wing =
        |side: f64| Plate { a: [side * 40.0, 68.0], b: [side * 140.0, -5.0], half_a: 13.0, half_b: 5.0, z: [z0, z1] };
    let wings = [wing(1.0), wing(-1.0)];
    let in_canal =
        |p: P3| (p[0] - canal_centre[0]).powi(2) + (p[1] - canal_centre[1]).powi(2) <= canal_radius * canal_radius;
    let bounds = Bounds { lo: [-153.0, -18.0, z0], hi: [153.0, 93.0, z1] };
    let bone = mask_of(&b.grid, bounds, |p| {
        let in_sacrum = ((p[0] - sacrum_centre[0]) / sacrum_semi[0]).powi(2)
            + ((p[1] - sacrum_centre[1]) / sacrum_semi[1]).powi(2)
            <= 1.0;
        (in_sacrum || wings.iter().any(|w| w.contains(p))) && !in_canal(p)
    });
    b.push("Bone_Pelvic", StructureRole::Organ, Organ::Bone, bone);
    let cauda = b.running_tube("CaudaEquina", canal_centre, canal_centre, [3.5, 4.5], 0.7);
    b.add_tube("CaudaEquina", StructureRole::Oar, Organ::Nerve, &cauda);
    b.canal = mask_of(
        &b.grid,
        Bounds::around([canal_centre[0], canal_centre[1], 0.0], [canal_radius, canal_radius, 1e4]),
        in_canal,
    );
    for (name, side) in [("L", 1.0), ("R", -1.0)] {
        let artery =
            b.running_tube(&format!("A_Iliac_{name}"), [side * 22.0, 20.0], [side * 62.0, 8.0], [4.5, 5.5], 1.5);
        b.add_tube(&format!("A_Iliac_{name}"), StructureRole::Vessel, Organ::OtherVessel, &artery);
        let vein =
            b.running_tube(&format!("V_Iliac_{name}"), [side * 10.0, 34.0], [side * 52.0, 24.0], [6.0, 7.0], 1.0);
        b.add_tube(&format!("V_Iliac_{name}"), StructureRole::Vessel, Organ::OtherVessel, &vein);
    }
    let keepouts = lesion_keepouts(lesions, BOWEL_RADIUS_MAX);
    // The bulky index lesion gets a bowel loop started against its anterior surface.
    let drape = lesions.iter().find(|spec| spec.lesion.is_bulky_index).map(|spec| {
        let reach = spec.semi[1] + BOWEL_RADIUS_MAX + spec.bowel_clearance;
        [spec.centre[0], spec.centre[1] - reach, spec.centre[2]]
    });
    b.add_bowel(4, [[-115.0, -105.0, -70.0], [115.0, -20.0, 70.0]], keepouts, drape);
}
