//! Mask → closed planar contours, one axial slice at a time (marching squares).
//!
//! The contour of a slice is the 0.5 level line of the mask's indicator, sampled at voxel
//! centres: its vertices are midpoints between an inside and an outside voxel centre, and every
//! segment cuts off exactly one corner of a square of four centres. A voxel centre is therefore
//! never on a contour and lies inside the contours (by the even–odd rule) exactly when the voxel
//! is in the mask, which is the importer's rule ([`super::rtstruct`]): rasterizing the exported
//! contours gives back the mask voxel for voxel.
//!
//! Each boundary is one closed contour: islands and holes come out as separate contours (holes
//! run clockwise, islands counter-clockwise, in the x–y plane), to be combined by the even–odd
//! rule. Where two inside voxels touch only at a corner, they get separate contours (inside is
//! 4-connected). Vertices on straight runs are dropped.

/// A closed contour on one slice, as points in voxel-index units of the slice plane
/// (`[i, j]`, half-integers on one axis), first point not repeated at the end.
pub type SliceContour = Vec<[f64; 2]>;

/// Contours of the inside region of a `nx × ny` slice (`inside[i + nx * j]`).
///
/// The loops start at the first boundary edge in row-major order of the edge table, so the
/// output is a pure function of the slice.
///
/// # Panics
/// If `inside.len() != nx * ny`.
pub fn slice_contours(inside: &[bool], nx: usize, ny: usize) -> Vec<SliceContour> {
    assert_eq!(inside.len(), nx * ny, "slice of {nx}×{ny} voxels");
    let at = |i: isize, j: isize| -> bool {
        i >= 0 && j >= 0 && (i as usize) < nx && (j as usize) < ny && inside[i as usize + nx * j as usize]
    };
    // Edge points: H(i, j) between centres (i, j) and (i+1, j), i in -1..nx, j in 0..ny;
    // V(i, j) between (i, j) and (i, j+1), i in 0..nx, j in -1..ny.
    let h_count = (nx + 1) * ny;
    let h_id = |i: isize, j: isize| ((i + 1) as usize) + (nx + 1) * j as usize;
    let v_id = |i: isize, j: isize| h_count + i as usize + nx * ((j + 1) as usize);
    let total = h_count + nx * (ny + 1);
    const NONE: u32 = u32::MAX;
    let mut next = vec![NONE; total];
    let mut starts = Vec::new();
    for cj in -1..ny as isize {
        for ci in -1..nx as isize {
            // Corners counter-clockwise: BL, BR, TR, TL; edge k joins corner k and k+1.
            let corner = [at(ci, cj), at(ci + 1, cj), at(ci + 1, cj + 1), at(ci, cj + 1)];
            if corner.iter().all(|&c| c) || !corner.iter().any(|&c| c) {
                continue;
            }
            // Only crossed edges are looked up: those always lie inside the edge tables.
            let edge = |k: usize| match k {
                0 => h_id(ci, cj),
                1 => v_id(ci + 1, cj),
                2 => h_id(ci, cj + 1),
                _ => v_id(ci, cj),
            };
            for k in 0..4 {
                // An exit (inside → outside going counter-clockwise) joins the previous entry,
                // which keeps the inside on the left and separates diagonal inside corners.
                if corner[k] && !corner[(k + 1) % 4] {
                    let mut e = (k + 3) % 4;
                    while corner[e] || !corner[(e + 1) % 4] {
                        e = (e + 3) % 4;
                    }
                    next[edge(k)] = edge(e) as u32;
                    starts.push(edge(k));
                }
            }
        }
    }
    starts.sort_unstable();
    let point = |id: usize| -> [i64; 2] {
        // Doubled lattice coordinates, exact.
        if id < h_count {
            let (i, j) = ((id % (nx + 1)) as i64 - 1, (id / (nx + 1)) as i64);
            [2 * i + 1, 2 * j]
        } else {
            let r = id - h_count;
            let (i, j) = ((r % nx) as i64, (r / nx) as i64 - 1);
            [2 * i, 2 * j + 1]
        }
    };
    let mut contours = Vec::new();
    let mut visited = vec![false; total];
    let mut ring: Vec<[i64; 2]> = Vec::new();
    for &s in &starts {
        if visited[s] {
            continue;
        }
        ring.clear();
        let mut id = s;
        while !visited[id] {
            visited[id] = true;
            ring.push(point(id));
            id = next[id] as usize;
        }
        let n = ring.len();
        let contour: SliceContour = (0..n)
            .filter(|&m| {
                let (a, b, c) = (ring[(m + n - 1) % n], ring[m], ring[(m + 1) % n]);
                (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) != 0
            })
            .map(|m| [ring[m][0] as f64 / 2.0, ring[m][1] as f64 / 2.0])
            .collect();
        contours.push(contour);
    }
    contours
}

/// Even–odd fill of contours in voxel-index units on a `nx × ny` slice: a voxel is inside when
/// a ray from its centre towards +i crosses the contours an odd number of times (edges half-open
/// in j). This is the importer's rule, restated for tests and fuzzing on index coordinates.
pub fn fill_even_odd(contours: &[SliceContour], nx: usize, ny: usize) -> Vec<bool> {
    let mut out = vec![false; nx * ny];
    let mut xs = Vec::new();
    for j in 0..ny {
        let y = j as f64;
        xs.clear();
        for c in contours {
            for e in 0..c.len() {
                let (a, b) = (c[e], c[(e + 1) % c.len()]);
                if (a[1] > y) != (b[1] > y) {
                    xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            for (i, v) in out[nx * j..nx * (j + 1)].iter_mut().enumerate() {
                let x = i as f64;
                if pair[0] <= x && x < pair[1] {
                    *v = !*v;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(rows: &[&str]) -> (Vec<bool>, usize, usize) {
        // Rows are given top (largest j) first, as drawn.
        let ny = rows.len();
        let nx = rows[0].len();
        let mut v = vec![false; nx * ny];
        for (r, row) in rows.iter().enumerate() {
            for (i, c) in row.chars().enumerate() {
                v[i + nx * (ny - 1 - r)] = c == '#';
            }
        }
        (v, nx, ny)
    }

    fn check(rows: &[&str], contours: usize) {
        let (mask, nx, ny) = parse(rows);
        let c = slice_contours(&mask, nx, ny);
        assert_eq!(c.len(), contours, "{rows:?}: {c:?}");
        assert_eq!(fill_even_odd(&c, nx, ny), mask, "{rows:?}");
    }

    #[test]
    fn contours_give_back_the_mask() {
        check(&["..", ".."], 0);
        check(&["#"], 1);
        check(&["###", "#.#", "###"], 2);
        check(&["#.", ".#"], 2);
        check(&[".#", "#."], 2);
        check(&["#####", "#...#", "#.#.#", "#...#", "#####"], 3);
        check(&["##..##", "##..##", "......", "..##.."], 3);
        check(&["####", "####"], 1);
    }

    #[test]
    fn straight_runs_are_one_segment() {
        let (mask, nx, ny) = parse(&["####", "####", "####"]);
        let c = slice_contours(&mask, nx, ny);
        // A rectangle's marching-squares outline is an octagon (cut corners).
        assert_eq!(c[0].len(), 8, "{c:?}");
    }
}
