//! Measuring isotherms of a temperature field: masks, volumes, and extents along and across the
//! probe axis.

use crate::PlacedProbe;
use cryoseed_core::{Celsius, Ml, Mm, PatientPoint};
use cryoseed_volume::{Field, Mask};

/// The voxels at or below `isotherm` (e.g. of the minimum-temperature field: tissue that got at
/// least that cold).
pub fn isotherm_mask(temperature: &Field<f32>, isotherm: Celsius) -> Mask {
    let limit = isotherm.0 as f32;
    temperature.threshold(|t| t <= limit)
}

/// Size of an isotherm volume relative to an axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsothermExtent {
    /// Volume of the voxels.
    pub volume: Ml,
    /// Extent along the axis: the span of the voxel centres' projections plus the width of one
    /// voxel projected on the axis (so a line of n voxels measures n·h).
    pub along_axis: Mm,
    /// Largest extent across the axis (caliper width over 180 directions perpendicular to it,
    /// measured the same way).
    pub across_axis: Mm,
    /// Smallest extent across the axis, same directions.
    pub across_axis_min: Mm,
}

/// The common axis of a probe set: the normalised sum of the probe directions (the first
/// probe's direction if they cancel out).
pub fn probe_axis(probes: &[PlacedProbe]) -> Option<[f64; 3]> {
    let first = probes.first()?.direction;
    let sum: [f64; 3] = std::array::from_fn(|a| probes.iter().map(|p| p.direction[a]).sum());
    let norm = (sum[0] * sum[0] + sum[1] * sum[1] + sum[2] * sum[2]).sqrt();
    Some(if norm > 1e-6 { sum.map(|v| v / norm) } else { first })
}

/// Two unit vectors completing `axis` to an orthonormal basis.
fn perpendicular_basis(axis: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let helper = if axis[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
    let cross =
        |a: [f64; 3], b: [f64; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let u = cross(axis, helper);
    let n = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    let u = u.map(|v| v / n);
    (u, cross(axis, u))
}

/// Volume and extents of `mask` along and across `axis` (a unit vector); `None` for an empty mask.
pub fn isotherm_extent(mask: &Mask, axis: [f64; 3]) -> Option<IsothermExtent> {
    extent_of(mask, axis, |_| true)
}

/// Extents of the part of `mask` in the slab one voxel thick (along `axis`) through `centre`,
/// perpendicular to `axis`: the cross-section in which published isotherm diameters are measured.
/// `volume` is that slab's volume.
pub fn cross_section_extent(mask: &Mask, axis: [f64; 3], centre: PatientPoint) -> Option<IsothermExtent> {
    let h = mask.grid().spacing_mm();
    let half = 0.5 * (0..3).map(|a| axis[a].abs() * h[a]).sum::<f64>();
    let dot = |p: PatientPoint| (0..3).map(|a| (p.0[a] - centre.0[a]) * axis[a]).sum::<f64>();
    extent_of(mask, axis, |p| dot(p).abs() <= half + 1e-9)
}

fn extent_of(mask: &Mask, axis: [f64; 3], keep: impl Fn(PatientPoint) -> bool) -> Option<IsothermExtent> {
    let grid = mask.grid();
    let h = grid.spacing_mm();
    let (u, v) = perpendicular_basis(axis);
    const DIRECTIONS: usize = 180;
    let across: Vec<[f64; 3]> = (0..DIRECTIONS)
        .map(|n| {
            let angle = std::f64::consts::PI * n as f64 / DIRECTIONS as f64;
            let (s, c) = angle.sin_cos();
            std::array::from_fn(|a| c * u[a] + s * v[a])
        })
        .collect();
    let mut along = (f64::INFINITY, f64::NEG_INFINITY);
    let mut spans = vec![(f64::INFINITY, f64::NEG_INFINITY); DIRECTIONS];
    let mut count = 0usize;
    let project = |p: PatientPoint, d: [f64; 3]| p.0[0] * d[0] + p.0[1] * d[1] + p.0[2] * d[2];
    for ijk in mask.voxels() {
        let p = grid.voxel_centre(ijk);
        if !keep(p) {
            continue;
        }
        count += 1;
        let s = project(p, axis);
        along = (along.0.min(s), along.1.max(s));
        for (span, &d) in spans.iter_mut().zip(&across) {
            let s = project(p, d);
            *span = (span.0.min(s), span.1.max(s));
        }
    }
    if count == 0 {
        return None;
    }
    let voxel_width = |d: [f64; 3]| (0..3).map(|a| d[a].abs() * h[a]).sum::<f64>();
    let widths: Vec<f64> = spans.iter().zip(&across).map(|(s, &d)| s.1 - s.0 + voxel_width(d)).collect();
    Some(IsothermExtent {
        volume: Ml(count as f64 * grid.voxel_volume().0),
        along_axis: Mm(along.1 - along.0 + voxel_width(axis)),
        across_axis: Mm(widths.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        across_axis_min: Mm(widths.iter().copied().fold(f64::INFINITY, f64::min)),
    })
}

/// Trilinear interpolation of `field` at `p`; `None` outside the voxel centres' hull.
pub fn sample_trilinear(field: &Field<f32>, p: PatientPoint) -> Option<f64> {
    let grid = field.grid();
    let v = grid.voxel_from_patient(p).0;
    let dims = grid.dims();
    let mut base = [0usize; 3];
    let mut frac = [0.0; 3];
    for a in 0..3 {
        if !(v[a] >= 0.0 && v[a] <= (dims[a] - 1) as f64) {
            return None;
        }
        let b = (v[a].floor() as usize).min(dims[a].saturating_sub(2));
        base[a] = b;
        frac[a] = if dims[a] == 1 { 0.0 } else { v[a] - b as f64 };
    }
    let mut value = 0.0;
    for corner in 0..8 {
        let mut weight = 1.0;
        let mut ijk = base;
        for a in 0..3 {
            let up = corner >> a & 1 == 1;
            if up {
                if dims[a] == 1 {
                    weight = 0.0;
                }
                ijk[a] += 1;
                weight *= frac[a];
            } else {
                weight *= 1.0 - frac[a];
            }
        }
        if weight != 0.0 {
            value += weight * f64::from(field.at(ijk));
        }
    }
    Some(value)
}

/// Distance from `start` along the unit vector `direction` to the first point where the
/// interpolated field rises above `isotherm` (marching in 0.01 mm steps, crossing located by
/// linear interpolation). `None` when `start` is not below the isotherm or no crossing is found
/// inside the grid.
pub fn isotherm_radius(field: &Field<f32>, start: PatientPoint, direction: [f64; 3], isotherm: Celsius) -> Option<Mm> {
    const STEP: f64 = 0.01;
    let at = |r: f64| sample_trilinear(field, PatientPoint(std::array::from_fn(|a| start.0[a] + r * direction[a])));
    let mut previous = at(0.0)?;
    if previous > isotherm.0 {
        return None;
    }
    let mut r = 0.0;
    loop {
        let next_r = r + STEP;
        let next = at(next_r)?;
        if next > isotherm.0 {
            return Some(Mm(r + STEP * (isotherm.0 - previous) / (next - previous)));
        }
        previous = next;
        r = next_r;
    }
}
