//! Property tests standing in for a long fuzzing run (the cargo-fuzz targets in `fuzz/` cover the
//! same ground): marching squares then even–odd filling gives back any mask; the rasterizer
//! takes any contours without panicking; corrupted RT files give errors, never panics.

use cryoseed_core::{Mm, PatientPoint};
use cryoseed_imaging::dicom::contour::{fill_even_odd, slice_contours};
use cryoseed_imaging::dicom::{rasterize_planar_contours, read_rtdose, read_structure_set};
use cryoseed_volume::Grid;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn contours_of_any_mask_fill_back_to_it(nx in 1usize..20, ny in 1usize..20, bits in prop::collection::vec(any::<bool>(), 400)) {
        let mask: Vec<bool> = bits[..nx * ny].to_vec();
        let c = slice_contours(&mask, nx, ny);
        prop_assert_eq!(fill_even_odd(&c, nx, ny), mask);
    }

    #[test]
    fn the_rasterizer_takes_any_contours(points in prop::collection::vec((-1e6f64..1e6, -1e6f64..1e6), 0..40), z in 0usize..4, split in 1usize..10) {
        let grid = Grid::new([12, 9, 4], [Mm(1.5), Mm(0.5), Mm(2.0)], PatientPoint([-3.0, -2.0, 0.0])).unwrap();
        let polys: Vec<Vec<[f64; 3]>> = points.chunks(split).map(|c| c.iter().map(|&(x, y)| [x, y, 2.0 * z as f64]).collect()).collect();
        let _ = rasterize_planar_contours("p", &polys, &grid);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20, ..ProptestConfig::default() })]

    #[test]
    fn corrupted_rt_files_give_errors_not_panics(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let files = exported();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let mut b = bytes.clone();
            for (at, v) in &flips {
                let i = at.index(b.len());
                b[i] ^= v;
            }
            b.truncate(cut.index(b.len()) + 1);
            let path = dir.path().join(name);
            std::fs::write(&path, &b).unwrap();
            if let Err(e) = read_rtdose(&path) {
                prop_assert!(e.to_string().contains(name.as_str()), "{}", e);
            }
            let grid = Grid::new([8, 8, 4], [Mm(2.0); 3], PatientPoint([0.0; 3])).unwrap();
            if let Err(e) = read_structure_set(&path, &grid) {
                prop_assert!(e.to_string().contains(name.as_str()), "{}", e);
            }
        }
    }
}

/// A small export (RTSTRUCT with a ring, RTPLAN, RTDOSE), built once.
fn exported() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let export = super::dicom_export::scene_small_with_ring();
        let summary = cryoseed_imaging::dicom::build_dicom(&export).unwrap();
        summary.files.into_iter().map(|f| (f.path.to_string_lossy().into_owned(), f.bytes)).collect()
    })
}
