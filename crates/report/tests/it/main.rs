//! Integration tests of the plots.

use cryoseed_core::{Gy, Mm, PatientPoint};
use cryoseed_report::{DvhCurve, Isolines, Markers, Outline, Plane, SliceSpec, dvh_svg, slice_svg};
use cryoseed_volume::{Dvh, Field, Grid, Mask};

fn setup() -> (Grid, Mask, Field<f32>) {
    let grid = Grid::new([41, 41, 21], [Mm(1.0), Mm(1.0), Mm(2.0)], PatientPoint([-20.0, -20.0, -20.0])).unwrap();
    let ball = Mask::from_fn(grid, |p| p.distance_to(PatientPoint([0.0; 3])).0 <= 8.0);
    let dose = Field::from_fn(grid, |p| (200.0 / (1.0 + p.distance_to(PatientPoint([0.0; 3])).0 / 4.0)) as f32);
    (grid, ball, dose)
}

#[test]
fn dvh_plot_is_deterministic_and_labels_its_curves() {
    let (_, ball, dose) = setup();
    let dvh = Dvh::compute(&dose, &ball).unwrap();
    let curves = [DvhCurve { label: "PTV <margin>".into(), dvh: &dvh, dashed: false }];
    let a = dvh_svg(&curves, Some(Gy(110.0)), "DVH").to_svg();
    let b = dvh_svg(&curves, Some(Gy(110.0)), "DVH").to_svg();
    assert_eq!(a, b);
    assert!(a.starts_with("<svg"));
    assert!(a.contains("PTV &lt;margin&gt;"));
    assert!(a.contains("Rx 110 Gy"));
    assert!(a.contains("<polyline"));
}

#[test]
fn slice_shows_outlines_isodoses_and_seeds_in_their_planes() {
    let (grid, ball, dose) = setup();
    let spec = SliceSpec { plane: Plane::Axial, through: PatientPoint([0.0; 3]), half_width_mm: 20.0, size_px: 300.0 };
    let outlines = [Outline { label: "GTV".into(), mask: &ball, colour: "#ff0000".into(), dashed: false }];
    let iso = [Isolines { field: &dose, levels: vec![(100.0, "100 Gy".into(), "#00ff00".into(), false)] }];
    let markers = Markers {
        seeds: vec![PatientPoint([1.0, 2.0, 0.5]), PatientPoint([1.0, 2.0, 9.0])],
        probes: vec![(PatientPoint([0.0, 0.0, -5.0]), PatientPoint([0.0, -30.0, -5.0]))],
    };
    let svg = slice_svg(&grid, &spec, &outlines, &iso, &markers, "L1").to_svg();
    // Two paths (GTV and 100 Gy), one seed in the slice (the other is 9 mm away), one probe.
    assert_eq!(svg.matches("<path").count(), 2);
    assert_eq!(svg.matches("<circle").count(), 2, "one seed dot plus its legend dot");
    assert!(svg.contains("axial z = 0 mm"));
    // The 100 Gy isoline of 200/(1 + r/4) is the circle r = 4 mm: 4 mm × 7.5 px/mm = 30 px
    // from the centre (150, 180).
    let d = svg.split("<path d=\"").nth(2).unwrap().split('"').next().unwrap();
    let first: Vec<f64> = d[1..].split('L').next().unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
    let r = ((first[0] - 150.0).powi(2) + (first[1] - 180.0).powi(2)).sqrt();
    assert!((r - 30.0).abs() < 1.0, "{r}");
    for plane in [Plane::Coronal, Plane::Sagittal] {
        let s = slice_svg(&grid, &SliceSpec { plane, ..spec }, &outlines, &iso, &markers, "L1").to_svg();
        assert!(s.contains(plane.name()));
        assert_eq!(s.matches("<path").count(), 2);
    }
}

mod fixture;
mod pdf;
mod trial;
mod trial_plots;
mod xpt;
