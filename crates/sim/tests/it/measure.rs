//! Brute-force measurements on masks: slow but obviously right, which is what a test needs
//! (the `cryoseed-volume` measurement functions are tested separately and are not used here).

use cryoseed_anatomy::Case;
use cryoseed_volume::Mask;
use sha2::{Digest, Sha256};

/// SHA-256 over the grid and every structure's name, role, organ, lesion data and mask bytes.
pub fn case_digest(case: &Case) -> [u8; 32] {
    let mut h = Sha256::new();
    let g = case.grid();
    h.update(case.patient_id().as_str());
    for a in 0..3 {
        h.update((g.dims()[a] as u64).to_le_bytes());
        h.update(g.spacing_mm()[a].to_le_bytes());
        h.update(g.origin().0[a].to_le_bytes());
    }
    for s in case.structures() {
        h.update(s.name.as_bytes());
        h.update(format!("{}/{}/{:?}", s.role, s.organ, s.lesion).as_bytes());
        let bytes: Vec<u8> = s.mask.as_slice().iter().map(|&b| u8::from(b)).collect();
        h.update(&bytes);
    }
    h.finalize().into()
}

/// Voxels of `mask` with a 6-neighbour outside it (grid edges count as inside).
pub fn boundary(mask: &Mask) -> Vec<[usize; 3]> {
    let [nx, ny, nz] = mask.grid().dims();
    mask.voxels()
        .filter(|&[i, j, k]| {
            (i > 0 && !mask.at([i - 1, j, k]))
                || (i + 1 < nx && !mask.at([i + 1, j, k]))
                || (j > 0 && !mask.at([i, j - 1, k]))
                || (j + 1 < ny && !mask.at([i, j + 1, k]))
                || (k > 0 && !mask.at([i, j, k - 1]))
                || (k + 1 < nz && !mask.at([i, j, k + 1]))
        })
        .collect()
}

/// Smallest distance between a voxel centre of `a` and one of `b`, in mm, if it is at most
/// `cap` mm. Searches a ball of offsets around each boundary voxel of `a`, nearest first.
pub fn distance_within(a: &Mask, b: &Mask, cap: f64) -> Option<f64> {
    let g = a.grid();
    let s = g.spacing_mm();
    let dims = g.dims().map(|d| d as isize);
    let reach: [isize; 3] = std::array::from_fn(|i| (cap / s[i]).floor() as isize);
    let mut offsets = Vec::new();
    for dk in -reach[2]..=reach[2] {
        for dj in -reach[1]..=reach[1] {
            for di in -reach[0]..=reach[0] {
                let d = ((di as f64 * s[0]).powi(2) + (dj as f64 * s[1]).powi(2) + (dk as f64 * s[2]).powi(2)).sqrt();
                if d <= cap {
                    offsets.push((d, [di, dj, dk]));
                }
            }
        }
    }
    offsets.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut best: Option<f64> = None;
    for v in boundary(a) {
        for &(d, o) in &offsets {
            if best.is_some_and(|b| d >= b) {
                break;
            }
            let w: [isize; 3] = std::array::from_fn(|i| v[i] as isize + o[i]);
            if (0..3).all(|i| w[i] >= 0 && w[i] < dims[i]) && b.at(w.map(|c| c as usize)) {
                best = Some(d);
                break;
            }
        }
    }
    best
}

/// Largest distance between two voxel centres of the mask, mm (≥ the RECIST longest diameter).
pub fn max_extent(mask: &Mask) -> f64 {
    let g = mask.grid();
    let pts: Vec<[f64; 3]> = boundary(mask).into_iter().map(|v| g.voxel_centre(v).0).collect();
    let mut best = 0.0f64;
    for (n, p) in pts.iter().enumerate() {
        for q in &pts[n + 1..] {
            best = best.max((0..3).map(|a| (p[a] - q[a]).powi(2)).sum::<f64>());
        }
    }
    best.sqrt()
}

/// Per axial slice that the mask crosses, the diameter of the circle of equal area, mm.
pub fn slice_equivalent_diameters(mask: &Mask) -> Vec<f64> {
    let g = mask.grid();
    let [nx, ny, _] = g.dims();
    let pixel_area = g.spacing_mm()[0] * g.spacing_mm()[1];
    mask.as_slice()
        .chunks(nx * ny)
        .map(|slice| slice.iter().filter(|&&b| b).count())
        .filter(|&n| n > 0)
        .map(|n| 2.0 * (n as f64 * pixel_area / std::f64::consts::PI).sqrt())
        .collect()
}
