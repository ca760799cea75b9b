//! Marching squares on the values at voxel centres of one slice, shared by the SVG slices of
//! [`crate::plot`] and the vector slices of [`crate::review`]; and the chaining of its segments
//! into polylines.

use cryoseed_volume::Grid;
use std::collections::HashMap;

/// The storage index of in-plane indices `(a, b)` on the slice `fixed` of the fixed axis, for
/// in-plane axes `horizontal` and `vertical` of the grid.
pub fn slice_index(
    grid: &Grid,
    [horizontal, vertical, fixed_axis]: [usize; 3],
    fixed: usize,
) -> impl Fn(usize, usize) -> usize + '_ {
    move |a, b| {
        let mut ijk = [0usize; 3];
        ijk[horizontal] = a;
        ijk[vertical] = b;
        ijk[fixed_axis] = fixed;
        grid.index(ijk)
    }
}

/// The part of a slice to contour, in 2-D slice indices and millimetres.
#[derive(Debug)]
pub struct Window {
    /// First cell corner per in-plane axis (inclusive).
    pub lo: [usize; 2],
    /// Last cell corner per in-plane axis (inclusive).
    pub hi: [usize; 2],
    /// Position of index 0 per axis, mm.
    pub origin: [f64; 2],
    /// Spacing per axis, mm.
    pub spacing: [f64; 2],
}

/// Marching squares: line segments (in slice millimetres) where `value` crosses `level`, over the
/// cells of `window`. Saddle cells are resolved by the cell-centre average.
pub fn march(window: &Window, level: f64, value: impl Fn(usize, usize) -> f64) -> Vec<[(f64, f64); 2]> {
    let mut out = Vec::new();
    if window.hi[0] <= window.lo[0] || window.hi[1] <= window.lo[1] {
        return out;
    }
    let pos = |a: f64, b: f64| (window.origin[0] + a * window.spacing[0], window.origin[1] + b * window.spacing[1]);
    for b in window.lo[1]..window.hi[1] {
        for a in window.lo[0]..window.hi[0] {
            // Corners counter-clockwise from (a, b).
            let v = [value(a, b), value(a + 1, b), value(a + 1, b + 1), value(a, b + 1)];
            let c = [
                (a as f64, b as f64),
                (a as f64 + 1.0, b as f64),
                (a as f64 + 1.0, b as f64 + 1.0),
                (a as f64, b as f64 + 1.0),
            ];
            let above: Vec<bool> = v.iter().map(|x| *x >= level).collect();
            let count = above.iter().filter(|x| **x).count();
            if count == 0 || count == 4 {
                continue;
            }
            // Crossing point on edge e (corner e → corner e+1).
            let cross = |e: usize| {
                let (i, j) = (e, (e + 1) % 4);
                let t =
                    if (v[j] - v[i]).abs() < 1e-12 { 0.5 } else { ((level - v[i]) / (v[j] - v[i])).clamp(0.0, 1.0) };
                pos(c[i].0 + t * (c[j].0 - c[i].0), c[i].1 + t * (c[j].1 - c[i].1))
            };
            let edges: Vec<usize> = (0..4).filter(|&e| above[e] != above[(e + 1) % 4]).collect();
            if edges.len() == 2 {
                out.push([cross(edges[0]), cross(edges[1])]);
            } else {
                // Saddle: four crossings. Pair them so that the centre's side is connected.
                let centre_above = v.iter().sum::<f64>() / 4.0 >= level;
                if above[0] == centre_above {
                    out.push([cross(0), cross(1)]);
                    out.push([cross(2), cross(3)]);
                } else {
                    out.push([cross(3), cross(0)]);
                    out.push([cross(1), cross(2)]);
                }
            }
        }
    }
    out
}

/// Joins segments that share an end point (after `key`, e.g. rounding to the stored precision)
/// into polylines, in the order of the segments' first appearance; a closed outline comes back
/// with its first point repeated at the end. Each polyline is a list of keys.
pub fn chain<K: Copy + Eq + std::hash::Hash>(
    segments: &[[(f64, f64); 2]],
    key: impl Fn((f64, f64)) -> K,
) -> Vec<Vec<K>> {
    let keyed: Vec<[K; 2]> = segments.iter().map(|[a, b]| [key(*a), key(*b)]).filter(|[a, b]| a != b).collect();
    // Which segments touch each point (the map is only looked up, never iterated, so its order
    // cannot reach the output).
    let mut touching: HashMap<K, Vec<usize>> = HashMap::new();
    for (i, [a, b]) in keyed.iter().enumerate() {
        touching.entry(*a).or_default().push(i);
        touching.entry(*b).or_default().push(i);
    }
    let mut used = vec![false; keyed.len()];
    let next_from = |point: K, used: &mut [bool]| -> Option<K> {
        let i = *touching.get(&point)?.iter().find(|&&i| !used[i])?;
        used[i] = true;
        let [a, b] = keyed[i];
        Some(if a == point { b } else { a })
    };
    let mut lines = Vec::new();
    for start in 0..keyed.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let mut line = vec![keyed[start][0], keyed[start][1]];
        while let Some(p) = next_from(*line.last().expect("two points"), &mut used) {
            line.push(p);
        }
        let mut back = Vec::new();
        while let Some(p) = next_from(*back.last().unwrap_or(&line[0]), &mut used) {
            back.push(p);
        }
        if !back.is_empty() {
            back.reverse();
            back.extend(line);
            line = back;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marching_squares_outlines_a_disc_half_way_between_voxel_centres() {
        // A disc of radius 5 on a unit grid: every segment endpoint lies half-way between an
        // inside and an outside centre, so within 0.5 + √2/2 of the radius.
        let window = Window { lo: [0, 0], hi: [20, 20], origin: [0.0, 0.0], spacing: [1.0, 1.0] };
        let inside = |a: usize, b: usize| ((a as f64 - 10.0).powi(2) + (b as f64 - 10.0).powi(2)).sqrt() <= 5.0;
        let segs = march(&window, 0.5, |a, b| if inside(a, b) { 1.0 } else { 0.0 });
        assert!(segs.len() > 20);
        for s in &segs {
            for (x, y) in s {
                let r = ((x - 10.0).powi(2) + (y - 10.0).powi(2)).sqrt();
                assert!((r - 5.0).abs() <= 1.0, "{r}");
            }
        }
    }

    #[test]
    fn chained_disc_outline_is_one_closed_polyline() {
        let window = Window { lo: [0, 0], hi: [20, 20], origin: [0.0, 0.0], spacing: [1.0, 1.0] };
        let inside = |a: usize, b: usize| ((a as f64 - 10.0).powi(2) + (b as f64 - 10.0).powi(2)).sqrt() <= 5.0;
        let segs = march(&window, 0.5, |a, b| if inside(a, b) { 1.0 } else { 0.0 });
        let lines = chain(&segs, |(x, y)| ((x * 10.0).round() as i64, (y * 10.0).round() as i64));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].len(), segs.len() + 1);
        assert_eq!(lines[0].first(), lines[0].last());
    }

    #[test]
    fn chained_open_line_keeps_its_ends() {
        let segs = [[(1.0, 0.0), (2.0, 0.0)], [(0.0, 0.0), (1.0, 0.0)], [(2.0, 0.0), (3.0, 0.0)]];
        let lines = chain(&segs, |(x, _)| x as i64);
        assert_eq!(lines, vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn marching_squares_interpolates_a_linear_field_exactly() {
        let window = Window { lo: [0, 0], hi: [10, 10], origin: [0.0, 0.0], spacing: [2.0, 2.0] };
        // value = x (in mm); the 7 mm isoline is the vertical line x = 7.
        let segs = march(&window, 7.0, |a, _| a as f64 * 2.0);
        assert_eq!(segs.len(), 10);
        for s in &segs {
            for (x, _) in s {
                assert!((x - 7.0).abs() < 1e-12);
            }
        }
    }
}
