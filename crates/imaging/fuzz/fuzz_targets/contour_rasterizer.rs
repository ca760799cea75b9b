//! The contour rasterizer on arbitrary contours (any coordinates, degenerate and
//! self-intersecting polygons) must not panic; and marching squares followed by even–odd filling
//! must give back any mask exactly.
#![no_main]

use cryoseed_core::{Mm, PatientPoint};
use cryoseed_imaging::dicom::contour::{fill_even_odd, slice_contours};
use cryoseed_imaging::dicom::rasterize_planar_contours;
use cryoseed_volume::Grid;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    // Part 1: a mask of up to 24 × 24 from the bytes' bits.
    let (nx, ny) = (1 + data[0] as usize % 24, 1 + data[1] as usize % 24);
    let bits = &data[2..];
    let mask: Vec<bool> = (0..nx * ny).map(|n| bits.get(n / 8).is_some_and(|b| b >> (n % 8) & 1 == 1)).collect();
    let contours = slice_contours(&mask, nx, ny);
    assert_eq!(fill_even_odd(&contours, nx, ny), mask, "marching squares round trip");

    // Part 2: the bytes as f64 coordinates of contours on a small grid.
    let values: Vec<f64> = data[2..].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect();
    let grid = Grid::new([nx, ny, 4], [Mm(1.5), Mm(0.5), Mm(2.0)], PatientPoint([-3.0, -2.0, 0.0])).unwrap();
    let mut polys = Vec::new();
    for chunk in values.chunks(8) {
        let z = 2.0 * (data[3] % 4) as f64;
        polys.push(chunk.chunks_exact(2).map(|p| [p[0], p[1], z]).collect::<Vec<_>>());
    }
    let _ = rasterize_planar_contours("fuzz", &polys, &grid);
});
