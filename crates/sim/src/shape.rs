//! Analytic solids in patient millimetres: the building blocks a phantom is rasterized from.
//!
//! Each solid answers "is this point inside?" and gives axis-aligned bounds, so rasterization
//! only visits the voxels that can be inside. Points are raw `[x, y, z]` millimetre arrays in the
//! patient frame (DICOM LPS) because these are inner-loop values.

use crate::rng::Stream;

/// A point or displacement in the patient frame, millimetres (x left, y posterior, z superior).
pub(crate) type P3 = [f64; 3];

/// Axis-aligned bounds in the patient frame, millimetres.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bounds {
    /// Smallest corner.
    pub(crate) lo: P3,
    /// Largest corner.
    pub(crate) hi: P3,
}

impl Bounds {
    /// The box `centre ± half`.
    pub(crate) fn around(centre: P3, half: P3) -> Bounds {
        Bounds { lo: std::array::from_fn(|a| centre[a] - half[a]), hi: std::array::from_fn(|a| centre[a] + half[a]) }
    }

    /// The box grown by `margin` on every side.
    pub(crate) fn grown(self, margin: f64) -> Bounds {
        Bounds { lo: self.lo.map(|v| v - margin), hi: self.hi.map(|v| v + margin) }
    }
}

fn dot(a: P3, b: P3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn sub(a: P3, b: P3) -> P3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Squared distance from `p` to the segment `a`–`b`.
fn segment_distance2(p: P3, a: P3, b: P3) -> f64 {
    let ab = sub(b, a);
    let len2 = dot(ab, ab);
    let t = if len2 > 0.0 { (dot(sub(p, a), ab) / len2).clamp(0.0, 1.0) } else { 0.0 };
    let d = sub(p, [a[0] + t * ab[0], a[1] + t * ab[1], a[2] + t * ab[2]]);
    dot(d, d)
}

/// Depth of `(dx, dy)` inside the axis-aligned ellipse with semi-axes `a`, `b` centred at the
/// origin, in mm (negative outside).
///
/// First-order distance estimate `(1 − ρ) / |∇ρ|` with `ρ² = (x/a)² + (y/b)²`: exact on both axes
/// and accurate to well under a millimetre within a few centimetres of the contour, which is
/// where it is used (skin shell, abdominal-wall clearance).
pub(crate) fn ellipse_depth(dx: f64, dy: f64, a: f64, b: f64) -> f64 {
    let rho = ((dx / a).powi(2) + (dy / b).powi(2)).sqrt();
    let grad = ((dx / (a * a)).powi(2) + (dy / (b * b)).powi(2)).sqrt();
    if grad <= 0.0 { a.min(b) } else { (1.0 - rho) * rho / grad }
}

/// One smooth undulation of a blob's surface: `amplitude · cos(frequency · u + phase)` over unit
/// directions `u` (a random Fourier term on the sphere).
#[derive(Clone, Copy, Debug)]
struct Ripple {
    frequency: P3,
    phase: f64,
    amplitude: f64,
}

/// An ellipsoid whose radius is modulated by a smooth random function of direction: the shape of
/// a metastasis or an organ.
///
/// A point `p` is inside when `ρ ≤ 1 + Σ aₖ cos(ωₖ·u + φₖ)`, where `q` is `p` in the blob's
/// rotated frame divided by the semi-axes, `ρ = |q|` and `u = q/ρ`. With `1.5 ≤ |ωₖ| ≤ 4` the
/// surface has a few lobes rather than noise, and `Σ|aₖ|` (the irregularity) bounds the radius to
/// `[1 − Σ|aₖ|, 1 + Σ|aₖ|]` times the ellipsoid's.
#[derive(Clone, Debug)]
pub(crate) struct Blob {
    centre: P3,
    semi: P3,
    /// The blob's local axes as unit vectors in the patient frame.
    axes: [P3; 3],
    ripples: Vec<Ripple>,
    irregularity: f64,
}

impl Blob {
    /// An irregular blob: the ellipsoid turned by a random yaw (about z, within `±max_yaw`
    /// radians) and a small random tilt, its radius modulated by five random ripples whose
    /// amplitudes add up to `irregularity`.
    pub(crate) fn irregular(rng: &mut Stream, centre: P3, semi: P3, irregularity: f64, max_yaw: f64) -> Blob {
        let yaw = rng.uniform(-max_yaw, max_yaw);
        let tilt = rng.uniform(-0.15, 0.15);
        let (sy, cy) = yaw.sin_cos();
        let (st, ct) = tilt.sin_cos();
        let e1 = [cy, sy, 0.0];
        let e2 = [-sy * ct, cy * ct, st];
        let e3 = [sy * st, -cy * st, ct];
        let weights: Vec<f64> = (0..5).map(|_| rng.uniform(0.5, 1.0)).collect();
        let total: f64 = weights.iter().sum();
        let ripples = weights
            .iter()
            .map(|w| {
                let dir = rng.direction();
                let magnitude = rng.uniform(1.5, 4.0);
                Ripple {
                    frequency: dir.map(|c| c * magnitude),
                    phase: rng.uniform(0.0, std::f64::consts::TAU),
                    amplitude: irregularity * w / total,
                }
            })
            .collect();
        Blob { centre, semi, axes: [e1, e2, e3], ripples, irregularity }
    }

    /// Axis-aligned bounds that contain the blob.
    pub(crate) fn bounds(&self) -> Bounds {
        let reach = 1.0 + self.irregularity;
        let half = std::array::from_fn(|k| {
            reach * (0..3).map(|i| (self.axes[i][k] * self.semi[i]).powi(2)).sum::<f64>().sqrt()
        });
        Bounds::around(self.centre, half)
    }

    /// Whether `p` is inside.
    pub(crate) fn contains(&self, p: P3) -> bool {
        let d = sub(p, self.centre);
        let q: P3 = std::array::from_fn(|i| dot(self.axes[i], d) / self.semi[i]);
        let rho2 = dot(q, q);
        let (inner, outer) = (1.0 - self.irregularity, 1.0 + self.irregularity);
        if rho2 <= inner * inner {
            return true;
        }
        if rho2 > outer * outer {
            return false;
        }
        let rho = rho2.sqrt();
        let u = q.map(|c| c / rho);
        let radius =
            1.0 + self.ripples.iter().map(|r| r.amplitude * (dot(r.frequency, u) + r.phase).cos()).sum::<f64>();
        rho <= radius
    }
}

/// A tube of constant radius around a polyline (a chain of capsules): vessels, cord, bowel loops.
///
/// Segments are bucketed in a coarse uniform grid so that a point is tested against the few
/// segments near it, not the whole centreline.
#[derive(Clone, Debug)]
pub(crate) struct Tube {
    points: Vec<P3>,
    radius: f64,
    bounds: Bounds,
    cell: f64,
    cell_dims: [usize; 3],
    /// Per cell, the indices of the segments `points[s]–points[s+1]` that come within `radius`.
    cells: Vec<Vec<u32>>,
}

impl Tube {
    /// The tube of `radius` around the centreline `points` (at least one point).
    pub(crate) fn new(points: Vec<P3>, radius: f64) -> Tube {
        let mut points = points;
        if points.len() == 1 {
            // A single point is a sphere: a zero-length segment.
            points.push(points[0]);
        }
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for p in &points {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        let bounds = Bounds { lo, hi }.grown(radius);
        let cell = (2.0 * radius).max(8.0);
        let cell_dims: [usize; 3] =
            std::array::from_fn(|a| ((bounds.hi[a] - bounds.lo[a]) / cell).floor() as usize + 1);
        let mut cells = vec![Vec::new(); cell_dims[0] * cell_dims[1] * cell_dims[2]];
        for (s, pair) in points.windows(2).enumerate() {
            let cell_range = |a: usize| {
                let lo = pair[0][a].min(pair[1][a]) - radius;
                let hi = pair[0][a].max(pair[1][a]) + radius;
                let first = ((lo - bounds.lo[a]) / cell).floor().max(0.0) as usize;
                let last = (((hi - bounds.lo[a]) / cell).floor() as usize).min(cell_dims[a] - 1);
                first..=last
            };
            for k in cell_range(2) {
                for j in cell_range(1) {
                    for i in cell_range(0) {
                        cells[i + cell_dims[0] * (j + cell_dims[1] * k)].push(s as u32);
                    }
                }
            }
        }
        Tube { points, radius, bounds, cell, cell_dims, cells }
    }

    /// Axis-aligned bounds that contain the tube.
    pub(crate) fn bounds(&self) -> Bounds {
        self.bounds
    }

    /// Whether `p` is inside.
    pub(crate) fn contains(&self, p: P3) -> bool {
        let mut c = [0usize; 3];
        for a in 0..3 {
            let f = ((p[a] - self.bounds.lo[a]) / self.cell).floor();
            if !(f >= 0.0 && f < self.cell_dims[a] as f64) {
                return false;
            }
            c[a] = f as usize;
        }
        let r2 = self.radius * self.radius;
        self.cells[c[0] + self.cell_dims[0] * (c[1] + self.cell_dims[1] * c[2])].iter().any(|&s| {
            let s = s as usize;
            segment_distance2(p, self.points[s], self.points[s + 1]) <= r2
        })
    }
}

/// A flat bony plate seen in the axial plane as a tapered capsule (from `a` with half-thickness
/// `half_a` to `b` with `half_b`), extruded over `z`: an iliac wing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plate {
    pub(crate) a: [f64; 2],
    pub(crate) b: [f64; 2],
    pub(crate) half_a: f64,
    pub(crate) half_b: f64,
    pub(crate) z: [f64; 2],
}

impl Plate {
    /// Whether `p` is inside.
    pub(crate) fn contains(&self, p: P3) -> bool {
        if p[2] < self.z[0] || p[2] > self.z[1] {
            return false;
        }
        let ab = [self.b[0] - self.a[0], self.b[1] - self.a[1]];
        let ap = [p[0] - self.a[0], p[1] - self.a[1]];
        let t = ((ap[0] * ab[0] + ap[1] * ab[1]) / (ab[0] * ab[0] + ab[1] * ab[1])).clamp(0.0, 1.0);
        let d2 = (ap[0] - t * ab[0]).powi(2) + (ap[1] - t * ab[1]).powi(2);
        let half = self.half_a + t * (self.half_b - self.half_a);
        d2 <= half * half
    }
}

/// An axis-aligned ellipsoid a bowel centreline must stay out of (use a huge z semi-axis for a
/// vertical cylinder).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Keepout {
    pub(crate) centre: P3,
    pub(crate) semi: P3,
}

impl Keepout {
    /// `p` if it is outside; otherwise `p` moved radially (in the ellipsoid's normalized
    /// coordinates) onto the surface.
    pub(crate) fn push_out(&self, p: P3) -> P3 {
        let q: P3 = std::array::from_fn(|a| (p[a] - self.centre[a]) / self.semi[a]);
        let rho = dot(q, q).sqrt();
        if rho >= 1.0 {
            return p;
        }
        // At the exact centre any direction will do; anterior is where bowel lies.
        let u = if rho > 1e-9 { q.map(|c| c / rho) } else { [0.0, -1.0, 0.0] };
        std::array::from_fn(|a| self.centre[a] + u[a] * self.semi[a])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipse_depth_is_exact_on_the_axes() {
        assert!((ellipse_depth(167.0, 0.0, 170.0, 120.0) - 3.0).abs() < 1e-9);
        assert!((ellipse_depth(0.0, -115.0, 170.0, 120.0) - 5.0).abs() < 1e-9);
        assert!(ellipse_depth(0.0, 121.0, 170.0, 120.0) < 0.0);
    }

    #[test]
    fn blob_radius_stays_within_its_irregularity() {
        let mut rng = Stream::new(3, "blob");
        let blob = Blob::irregular(&mut rng, [0.0; 3], [20.0, 15.0, 10.0], 0.2, 0.5);
        for k in 0..200 {
            let t = k as f64 * 0.1;
            let u = [t.cos() * (0.3 * t).sin(), t.sin() * (0.3 * t).sin(), (0.3 * t).cos()];
            // Along any direction the surface lies between 0.8 and 1.2 of the ellipsoid radius;
            // the largest semi-axis bounds it from outside, the smallest from inside.
            assert!(blob.contains(u.map(|c| c * 10.0 * 0.79)));
            assert!(!blob.contains(u.map(|c| c * 20.0 * 1.21)));
        }
    }

    #[test]
    fn tube_contains_points_near_its_centreline_only() {
        let tube = Tube::new(vec![[0.0, 0.0, 0.0], [50.0, 0.0, 0.0], [50.0, 40.0, 0.0]], 5.0);
        assert!(tube.contains([25.0, 4.9, 0.0]));
        assert!(tube.contains([54.0, 20.0, 0.0]));
        assert!(!tube.contains([25.0, 5.1, 0.0]));
        assert!(!tube.contains([30.0, 20.0, 0.0]));
    }

    #[test]
    fn keepout_pushes_points_to_its_surface() {
        let k = Keepout { centre: [0.0; 3], semi: [10.0, 20.0, 30.0] };
        assert_eq!(k.push_out([0.0, 0.0, 40.0]), [0.0, 0.0, 40.0]);
        let p = k.push_out([0.0, 0.0, 15.0]);
        assert!((p[2] - 30.0).abs() < 1e-9);
    }
}
