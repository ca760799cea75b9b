//! Planning plots: cumulative DVHs, and slices through a case with structure outlines, isodose
//! and isotherm lines, seeds and probes.
//!
//! Slices are drawn in the radiological convention of the patient frame (DICOM LPS): axial
//! slices with the patient's left on the right of the picture and posterior at the bottom;
//! coronal slices with the patient's left on the right and superior at the top; sagittal slices
//! with anterior on the left and superior at the top. Outlines and isolines come from marching
//! squares on the values at voxel centres (for a mask, the 0.5 level between inside and outside
//! centres, i.e. half-way between them), so a drawn outline lies where the importer's voxel-centre
//! rule puts the boundary.

use crate::contour::{Window, march, slice_index};
use crate::svg::{Figure, PALETTE, Svg, num, ticks};
use cryoseed_core::{Gy, PatientPoint};
use cryoseed_volume::{Dvh, Field, Grid, Mask};

/// One curve of a DVH plot.
#[derive(Debug)]
pub struct DvhCurve<'a> {
    /// Legend label (structure name).
    pub label: String,
    /// The histogram.
    pub dvh: &'a Dvh,
    /// Dashed line (organs at risk), solid otherwise (targets).
    pub dashed: bool,
}

/// A cumulative DVH plot (volume % against dose, Gy) with the prescription marked.
pub fn dvh_svg(curves: &[DvhCurve<'_>], prescription: Option<Gy>, title: &str) -> Figure {
    let (w, h) = (640.0, 400.0);
    let (left, right, top, bottom) = (60.0, 170.0, 30.0, 50.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let max_dose = curves.iter().map(|c| c.dvh.max().0).fold(prescription.map_or(1.0, |p| p.0 * 2.0), f64::max);
    let max_dose = max_dose.min(prescription.map_or(f64::INFINITY, |p| p.0 * 4.0)).max(1.0);
    let x = |d: f64| left + pw * (d / max_dose).clamp(0.0, 1.0);
    let y = |v: f64| top + ph * (1.0 - v / 100.0);
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(left, 18.0, title, 14.0, "start", "#000");
    for t in ticks(0.0, max_dose, 6) {
        svg.line(x(t), top, x(t), top + ph, "#dddddd", 1.0, None);
        svg.text(x(t), top + ph + 16.0, &num(t), 11.0, "middle", "#000");
    }
    for t in ticks(0.0, 100.0, 5) {
        svg.line(left, y(t), left + pw, y(t), "#dddddd", 1.0, None);
        svg.text(left - 6.0, y(t) + 4.0, &num(t), 11.0, "end", "#000");
    }
    svg.rect(left, top, pw, ph, "none", Some("#000"));
    svg.text(left + pw / 2.0, h - 12.0, "Dose (Gy)", 12.0, "middle", "#000");
    svg.vertical_text(16.0, top + ph / 2.0, "Volume (%)", 12.0);
    if let Some(p) = prescription {
        svg.line(x(p.0), top, x(p.0), top + ph, "#666666", 1.0, Some("4 3"));
        svg.text(x(p.0) + 3.0, top + 12.0, &format!("Rx {} Gy", num(p.0)), 10.0, "start", "#444");
    }
    let bin = Gy(max_dose / 200.0);
    for (i, c) in curves.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = c
            .dvh
            .cumulative(bin)
            .iter()
            .map(|p| (x(p.dose.0), y(p.percent.0)))
            .filter(|(px, _)| *px <= left + pw)
            .collect();
        svg.polyline(&points, colour, 2.0, c.dashed.then_some("6 3"));
        let ly = top + 14.0 + 18.0 * i as f64;
        svg.line(left + pw + 12.0, ly - 4.0, left + pw + 36.0, ly - 4.0, colour, 2.0, c.dashed.then_some("6 3"));
        svg.text(left + pw + 42.0, ly, &c.label, 11.0, "start", "#000");
    }
    svg.finish(title)
}

/// The plane of a slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plane {
    /// Constant z.
    Axial,
    /// Constant y.
    Coronal,
    /// Constant x.
    Sagittal,
}

impl Plane {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Plane::Axial => "axial",
            Plane::Coronal => "coronal",
            Plane::Sagittal => "sagittal",
        }
    }

    /// (horizontal axis, vertical axis, fixed axis) in grid axes.
    fn axes(self) -> (usize, usize, usize) {
        match self {
            Plane::Axial => (0, 1, 2),
            Plane::Coronal => (0, 2, 1),
            Plane::Sagittal => (1, 2, 0),
        }
    }

    /// Whether the vertical grid axis points up on the page (z superior).
    fn vertical_up(self) -> bool {
        !matches!(self, Plane::Axial)
    }
}

/// A structure outline on a slice.
#[derive(Debug)]
pub struct Outline<'a> {
    /// Legend label.
    pub label: String,
    /// The structure.
    pub mask: &'a Mask,
    /// Stroke colour (`#rrggbb`).
    pub colour: String,
    /// Dashed stroke.
    pub dashed: bool,
}

/// Isolines of a scalar field (dose in Gy, or minimum temperature in °C) at given levels.
#[derive(Debug)]
pub struct Isolines<'a> {
    /// The field.
    pub field: &'a Field<f32>,
    /// (level, legend label, colour, dashed).
    pub levels: Vec<(f32, String, String, bool)>,
}

/// Point and line markers: seeds and cryoprobes.
#[derive(Debug, Default)]
pub struct Markers {
    /// Seed centres.
    pub seeds: Vec<PatientPoint>,
    /// Probes as (tip, far end of the active segment or entry) segments.
    pub probes: Vec<(PatientPoint, PatientPoint)>,
}

/// What to draw and where.
#[derive(Debug)]
pub struct SliceSpec {
    /// The plane.
    pub plane: Plane,
    /// A point the slice passes through (the nearest grid slice is drawn).
    pub through: PatientPoint,
    /// Half-width of the square field of view around `through`, mm.
    pub half_width_mm: f64,
    /// Picture width, pixels (the legend adds to it).
    pub size_px: f64,
}

/// A slice picture (SVG) with outlines, isolines, seeds (dots within half a slice of the plane)
/// and probes (projected, drawn where they cross the field of view).
pub fn slice_svg(
    grid: &Grid,
    spec: &SliceSpec,
    outlines: &[Outline<'_>],
    isolines: &[Isolines<'_>],
    markers: &Markers,
    title: &str,
) -> Figure {
    let (ha, va, fa) = spec.plane.axes();
    let dims = grid.dims();
    let spacing = grid.spacing_mm();
    let origin = grid.origin().0;
    let fixed = (((spec.through.0[fa] - origin[fa]) / spacing[fa]).round().max(0.0) as usize).min(dims[fa] - 1);
    let fixed_mm = origin[fa] + fixed as f64 * spacing[fa];
    let (cx, cy) = (spec.through.0[ha], spec.through.0[va]);
    let hw = spec.half_width_mm.max(1.0);
    let size = spec.size_px;
    let legend_w = 190.0;
    let (w, h) = (size + legend_w, size + 40.0);
    let scale = size / (2.0 * hw);
    let up = spec.plane.vertical_up();
    // Horizontal: sagittal puts anterior (−y) on the left, i.e. increasing y to the right;
    // axial/coronal put patient's left (+x) on the right. Both are increasing coordinate → right.
    let px = |u: f64| (u - (cx - hw)) * scale;
    let py = |v: f64| {
        let t = (v - (cy - hw)) * scale;
        30.0 + if up { size - t } else { t }
    };
    let in_view = |u: f64, v: f64| (u - cx).abs() <= hw && (v - cy).abs() <= hw;

    // The window of grid indices in view.
    let lo_h = (((cx - hw - origin[ha]) / spacing[ha]).floor().max(0.0)) as usize;
    let hi_h = ((((cx + hw - origin[ha]) / spacing[ha]).ceil().max(0.0)) as usize).min(dims[ha] - 1);
    let lo_v = (((cy - hw - origin[va]) / spacing[va]).floor().max(0.0)) as usize;
    let hi_v = ((((cy + hw - origin[va]) / spacing[va]).ceil().max(0.0)) as usize).min(dims[va] - 1);
    let index = slice_index(grid, [ha, va, fa], fixed);
    let to_path = |segments: &[[(f64, f64); 2]]| {
        let mut d = String::new();
        for [(u1, v1), (u2, v2)] in segments {
            if !(in_view(*u1, *v1) || in_view(*u2, *v2)) {
                continue;
            }
            d.push_str(&format!("M{} {}L{} {}", num(px(*u1)), num(py(*v1)), num(px(*u2)), num(py(*v2))));
        }
        d
    };
    let window = Window {
        lo: [lo_h, lo_v],
        hi: [hi_h, hi_v],
        origin: [origin[ha], origin[va]],
        spacing: [spacing[ha], spacing[va]],
    };

    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.rect(0.0, 30.0, size, size, "#111111", None);
    let plane_label = match spec.plane {
        Plane::Axial => format!("axial z = {} mm", num(fixed_mm)),
        Plane::Coronal => format!("coronal y = {} mm", num(fixed_mm)),
        Plane::Sagittal => format!("sagittal x = {} mm", num(fixed_mm)),
    };
    svg.text(0.0, 18.0, &format!("{title} — {plane_label}"), 13.0, "start", "#000");
    let mut legend: Vec<(String, String, bool, bool)> = Vec::new();
    for o in outlines {
        let segs = march(&window, 0.5, |a, b| if o.mask.as_slice()[index(a, b)] { 1.0 } else { 0.0 });
        svg.path(&to_path(&segs), &o.colour, 1.5, "none", o.dashed.then_some("4 2"));
        legend.push((o.label.clone(), o.colour.clone(), o.dashed, false));
    }
    for iso in isolines {
        for (level, label, colour, dashed) in &iso.levels {
            let segs = march(&window, f64::from(*level), |a, b| f64::from(iso.field.as_slice()[index(a, b)]));
            svg.path(&to_path(&segs), colour, 1.5, "none", dashed.then_some("2 2"));
            legend.push((label.clone(), colour.clone(), *dashed, false));
        }
    }
    for (tip, end) in &markers.probes {
        let (u1, v1, u2, v2) = (tip.0[ha], tip.0[va], end.0[ha], end.0[va]);
        if in_view(u1, v1) || in_view(u2, v2) {
            svg.line(px(u1), py(v1), px(u2), py(v2), "#00ffff", 2.5, None);
        }
    }
    if !markers.probes.is_empty() {
        legend.push(("cryoprobe (projected)".into(), "#00ffff".into(), false, false));
    }
    let half_slice = spacing[fa] / 2.0 + 1e-9;
    for s in &markers.seeds {
        if (s.0[fa] - fixed_mm).abs() <= half_slice && in_view(s.0[ha], s.0[va]) {
            svg.circle(px(s.0[ha]), py(s.0[va]), 3.0, "#ffff00", "#000000");
        }
    }
    if !markers.seeds.is_empty() {
        legend.push(("seed (in this slice)".into(), "#ffff00".into(), false, true));
    }
    // Scale bar: 10 mm.
    svg.line(10.0, 30.0 + size - 12.0, 10.0 + 10.0 * scale, 30.0 + size - 12.0, "#ffffff", 2.0, None);
    svg.text(10.0, 30.0 + size - 18.0, "10 mm", 10.0, "start", "#ffffff");
    for (i, (label, colour, dashed, dot)) in legend.iter().enumerate() {
        let ly = 44.0 + 16.0 * i as f64;
        if *dot {
            svg.circle(size + 22.0, ly - 4.0, 3.0, colour, "#000000");
        } else {
            svg.line(size + 10.0, ly - 4.0, size + 34.0, ly - 4.0, colour, 2.0, dashed.then_some("4 2"));
        }
        svg.text(size + 40.0, ly, label, 10.0, "start", "#000");
    }
    svg.finish(&format!("{title} — {plane_label}"))
}
