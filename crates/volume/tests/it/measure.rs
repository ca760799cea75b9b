//! Measurements against brute force and analytic shapes.

use crate::{grid, inside_centres, random_blobs, random_mask, relative_error};
use cryoseed_core::{Mm, PatientPoint};
use cryoseed_volume::{
    Grid, GridError, Mask, centroid, longest_axial_diameter, max_feret_diameter, max_inscribed_diameter,
    min_surface_distance,
};

/// The largest distance between two of `points`, by trying every pair.
fn brute_force_diameter(points: &[PatientPoint]) -> f64 {
    let mut best = 0.0f64;
    for (a, p) in points.iter().enumerate() {
        for q in &points[a..] {
            best = best.max(p.distance_to(*q).0);
        }
    }
    best
}

/// The longest in-plane diameter over the axial slices, by trying every pair of each slice.
fn brute_force_axial(mask: &Mask) -> f64 {
    (0..mask.grid().dims()[2])
        .map(|k| {
            let slice: Vec<PatientPoint> =
                mask.voxels().filter(|v| v[2] == k).map(|v| mask.grid().voxel_centre(v)).collect();
            brute_force_diameter(&slice)
        })
        .fold(0.0, f64::max)
}

#[test]
fn diameters_equal_brute_force_on_random_masks() {
    // Exact to 1e-9 mm: both algorithms return a distance between two voxel centres.
    let g = |dims, spacing| grid(dims, spacing);
    let masks = [
        random_mask(41, g([12, 10, 8], [1.0, 1.0, 1.0]), 0.05),
        random_mask(42, g([15, 9, 7], [0.7, 1.3, 2.5]), 0.2),
        random_mask(43, g([10, 14, 6], [0.8, 0.8, 2.0]), 0.6),
        random_mask(44, g([9, 9, 9], [1.0, 1.0, 1.0]), 0.003),
        random_mask(45, g([1, 12, 12], [1.0, 0.5, 0.7]), 0.3),
        random_blobs(46, g([18, 16, 10], [0.7, 1.3, 2.5]), 3),
        random_blobs(47, g([20, 20, 20], [1.0, 1.0, 1.0]), 2),
        random_blobs(48, g([16, 20, 12], [0.9, 0.6, 1.5]), 4),
    ];
    for (n, mask) in masks.iter().enumerate() {
        let Some(feret) = max_feret_diameter(mask) else {
            assert!(mask.is_empty(), "case {n}");
            continue;
        };
        let want = brute_force_diameter(&inside_centres(mask));
        assert!((feret.length.0 - want).abs() < 1e-9, "case {n}: Feret {} vs brute force {want}", feret.length);
        assert!((feret.from.distance_to(feret.to).0 - want).abs() < 1e-9, "case {n}: ends");
        assert!(mask.at(mask.grid().nearest_voxel(feret.from).unwrap()), "case {n}: end outside");

        let axial = longest_axial_diameter(mask).unwrap();
        let want = brute_force_axial(mask);
        assert!((axial.longest.0 - want).abs() < 1e-9, "case {n}: axial {} vs brute force {want}", axial.longest);
        assert_eq!(axial.long_from.z(), axial.long_to.z(), "case {n}: long axis leaves its slice");
        assert!(axial.short_axis <= axial.longest, "case {n}");
    }
    assert!(max_feret_diameter(&Mask::empty(g([3, 3, 3], [1.0; 3]))).is_none());
    assert!(longest_axial_diameter(&Mask::empty(g([3, 3, 3], [1.0; 3]))).is_none());
}

/// An analytic solid and what it measures.
struct Shape {
    name: &'static str,
    spacing: [f64; 3],
    dims: [usize; 3],
    inside: fn(PatientPoint) -> bool,
    volume_ml: f64,
    feret_mm: f64,
    axial_longest_mm: f64,
    axial_short_mm: f64,
    /// Allowed relative error of the volume, the Feret diameter and the axial longest diameter.
    tolerance: f64,
    /// Allowed error of the short axis, mm (its rule samples bands one pixel wide).
    short_axis_within_mm: f64,
}

fn ellipsoid(p: PatientPoint, centre: [f64; 3], semi_axes: [f64; 3]) -> bool {
    (0..3).map(|a| ((p.0[a] - centre[a]) / semi_axes[a]).powi(2)).sum::<f64>() <= 1.0
}

/// Volume and diameters as a voxel-centre sampling sees them, within the shape's tolerance.
fn check(shape: &Shape) {
    let g = grid(shape.dims, shape.spacing);
    let mask = Mask::from_fn(g, shape.inside);
    let volume = mask.volume().0;
    let feret = max_feret_diameter(&mask).unwrap().length.0;
    let axial = longest_axial_diameter(&mask).unwrap();
    for (what, got, want) in [
        ("volume mL", volume, shape.volume_ml),
        ("Feret mm", feret, shape.feret_mm),
        ("axial longest mm", axial.longest.0, shape.axial_longest_mm),
    ] {
        let error = relative_error(got, want);
        assert!(error <= shape.tolerance, "{}: {what} {got:.3} vs {want:.3} ({:.2} %)", shape.name, error * 100.0);
    }
    let short = axial.short_axis.0;
    assert!(
        (short - shape.axial_short_mm).abs() <= shape.short_axis_within_mm,
        "{}: short axis {short:.3} vs {:.3} mm",
        shape.name,
        shape.axial_short_mm
    );
}

#[test]
fn volumes_and_diameters_of_analytic_shapes() {
    use std::f64::consts::PI;
    let shapes = [
        // Acceptance: within 1 % at 1 mm (short axis: 1 % of it). The centre is a voxel centre, so
        // the poles are too and the diameters come out exact; the volume error is the sampling of
        // the surface.
        Shape {
            name: "sphere d = 60 mm, 1 mm",
            spacing: [1.0; 3],
            dims: [65, 65, 65],
            inside: |p| ellipsoid(p, [32.0; 3], [30.0; 3]),
            volume_ml: 4.0 / 3.0 * PI * 30.0f64.powi(3) / 1000.0,
            feret_mm: 60.0,
            axial_longest_mm: 60.0,
            axial_short_mm: 60.0,
            tolerance: 0.01,
            short_axis_within_mm: 0.6,
        },
        // Long axis along x (in the axial plane): Feret 80, RECIST long 80, short axis 50; 1 %.
        Shape {
            name: "ellipsoid 40 × 25 × 20 mm, 1 mm",
            spacing: [1.0; 3],
            dims: [85, 55, 45],
            inside: |p| ellipsoid(p, [42.0, 27.0, 22.0], [40.0, 25.0, 20.0]),
            volume_ml: 4.0 / 3.0 * PI * 40.0 * 25.0 * 20.0 / 1000.0,
            feret_mm: 80.0,
            axial_longest_mm: 80.0,
            axial_short_mm: 50.0,
            tolerance: 0.01,
            short_axis_within_mm: 0.5,
        },
        // The same ellipsoid turned 30° in the axial plane: no pole on a voxel centre, the short
        // axis is oblique to the grid. Within 1 %; the short axis within one pixel (1 mm), the
        // accuracy its band rule promises.
        Shape {
            name: "ellipsoid 40 × 25 × 20 mm turned 30° about z, 1 mm",
            spacing: [1.0; 3],
            dims: [85, 85, 45],
            inside: |p| {
                let (s, c) = 30f64.to_radians().sin_cos();
                let [x, y, z] = [p.0[0] - 42.0, p.0[1] - 42.0, p.0[2] - 22.0];
                ellipsoid(PatientPoint([c * x + s * y, -s * x + c * y, z]), [0.0; 3], [40.0, 25.0, 20.0])
            },
            volume_ml: 4.0 / 3.0 * PI * 40.0 * 25.0 * 20.0 / 1000.0,
            feret_mm: 80.0,
            axial_longest_mm: 80.0,
            axial_short_mm: 50.0,
            tolerance: 0.01,
            short_axis_within_mm: 1.0,
        },
        // Cylinder r = 20 mm along z, axis through voxel centres, flat ends at z = ±30.25 mm from
        // the centre slice (61 slices sample 60.5 mm). Feret: rim to opposite rim. Within 1 %
        // (short axis 1 % of 40 mm).
        Shape {
            name: "cylinder r = 20 mm, h = 60.5 mm, 1 mm",
            spacing: [1.0; 3],
            dims: [45, 45, 65],
            inside: |p| (p.0[0] - 22.0).powi(2) + (p.0[1] - 22.0).powi(2) <= 400.0 && (p.0[2] - 32.0).abs() <= 30.25,
            volume_ml: PI * 400.0 * 60.5 / 1000.0,
            feret_mm: (60.5f64.powi(2) + 40.0f64.powi(2)).sqrt(),
            axial_longest_mm: 40.0,
            axial_short_mm: 40.0,
            tolerance: 0.01,
            short_axis_within_mm: 0.4,
        },
        // Anisotropic CT-like grid, 0.8 × 0.8 × 2.0 mm, centre off the voxel centres. Volume
        // within 1 %; the diameters lose up to one in-plane spacing per end, 2 × 0.8 mm: 3 % of
        // 80 mm for the long ones, 1.6 mm for the short axis.
        Shape {
            name: "ellipsoid 40 × 25 × 20 mm on 0.8 × 0.8 × 2.0 mm",
            spacing: [0.8, 0.8, 2.0],
            dims: [110, 70, 25],
            inside: |p| ellipsoid(p, [43.3, 27.5, 23.1], [40.0, 25.0, 20.0]),
            volume_ml: 4.0 / 3.0 * PI * 40.0 * 25.0 * 20.0 / 1000.0,
            feret_mm: 80.0,
            axial_longest_mm: 80.0,
            axial_short_mm: 50.0,
            tolerance: 0.03,
            short_axis_within_mm: 1.6,
        },
    ];
    for shape in &shapes {
        check(shape);
    }
}

#[test]
fn the_short_axis_does_not_bridge_a_hole() {
    // A ring (outer radius 25 mm, inner 15 mm) in one axial slice at 1 mm: the long axis is an
    // outer diameter (50 mm), and the longest perpendicular chord that stays in the ring is tangent
    // to the hole, 2·√(25² − 15²) = 40 mm; a chord bridging the hole would measure 50 mm.
    // Tolerance: one pixel per end (the band rule), 2 mm.
    let g = grid([61, 61, 1], [1.0; 3]);
    let ring = Mask::from_fn(g, |p| (15.0..=25.0).contains(&p.distance_to(PatientPoint([30.0, 30.0, 0.0])).0));
    let axial = longest_axial_diameter(&ring).unwrap();
    assert_eq!(axial.longest, Mm(50.0));
    assert!((axial.short_axis.0 - 40.0).abs() <= 2.0, "short axis {}", axial.short_axis);
}

#[test]
fn bounding_box_is_the_extent_of_the_inside_voxels() {
    // Exact: the smallest and largest index of any inside voxel on each axis.
    for (seed, fill) in [(61, 0.001), (62, 0.01), (63, 0.5)] {
        let mask = random_mask(seed, grid([17, 13, 11], [1.0; 3]), fill);
        let voxels: Vec<[usize; 3]> = mask.voxels().collect();
        let Some(bx) = mask.bounding_box() else {
            assert!(voxels.is_empty());
            continue;
        };
        let want_first: [usize; 3] = std::array::from_fn(|a| voxels.iter().map(|v| v[a]).min().unwrap());
        let want_last: [usize; 3] = std::array::from_fn(|a| voxels.iter().map(|v| v[a]).max().unwrap());
        assert_eq!((bx.first(), bx.last()), (want_first, want_last), "seed {seed}");
    }
    assert_eq!(Mask::empty(grid([4, 4, 4], [1.0; 3])).bounding_box(), None);
}

#[test]
fn centroid_of_a_symmetric_shape_is_its_centre() {
    // Exact to 1e-9 mm: the voxel set is symmetric about the centre.
    let g = Grid::new([41, 31, 21], [Mm(0.8), Mm(0.8), Mm(2.0)], PatientPoint([-10.0, 5.0, 100.0])).unwrap();
    let centre = g.voxel_centre([20, 15, 10]);
    let mask = Mask::from_fn(g, |p| ellipsoid(p, centre.0, [12.3, 9.1, 15.3]));
    let got = centroid(&mask).unwrap();
    assert!(got.distance_to(centre).0 < 1e-9, "{got:?} vs {centre:?}");
    assert!(centroid(&Mask::empty(g)).is_none());
}

#[test]
fn min_surface_distance_between_spheres_with_a_known_gap() {
    // Two balls of radius 10 mm whose surfaces are `gap` apart along `direction`. Voxel centres
    // lie inside the surfaces, so the answer is at least the gap and at most the gap plus one
    // voxel diagonal (half a diagonal at each surface).
    struct Case {
        spacing: [f64; 3],
        centre: [f64; 3],
        direction: [f64; 3],
        gap: f64,
    }
    let cases = [
        Case { spacing: [1.0; 3], centre: [20.0, 20.0, 20.0], direction: [1.0, 0.0, 0.0], gap: 10.0 },
        Case { spacing: [1.0; 3], centre: [20.3, 20.1, 20.4], direction: [1.0, 1.0, 0.5], gap: 5.0 },
        Case { spacing: [0.8, 0.8, 2.0], centre: [20.1, 21.7, 24.2], direction: [0.6, -0.3, 1.0], gap: 7.5 },
        Case { spacing: [0.7, 1.3, 2.5], centre: [22.0, 22.0, 22.0], direction: [0.0, 1.0, 1.0], gap: 0.0 },
    ];
    for Case { spacing, centre, direction, gap } in cases {
        let g = grid([70, 70, 45], spacing);
        let norm = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
        let other: [f64; 3] = std::array::from_fn(|a| centre[a] + direction[a] / norm * (20.0 + gap));
        let a = Mask::from_fn(g, |p| ellipsoid(p, centre, [10.0; 3]));
        let b = Mask::from_fn(g, |p| ellipsoid(p, other, [10.0; 3]));
        let diagonal = spacing.iter().map(|s| s * s).sum::<f64>().sqrt();
        let got = min_surface_distance(&a, &b).unwrap().unwrap().0;
        assert!(got >= gap - 1e-9 && got <= gap + diagonal, "spacing {spacing:?}: {got} for a gap of {gap}");
        // Exact against brute force over the voxel centres.
        let centres_b = inside_centres(&b);
        let want = inside_centres(&a)
            .iter()
            .flat_map(|p| centres_b.iter().map(|q| p.distance_to(*q).0))
            .fold(f64::INFINITY, f64::min);
        assert!((got - want).abs() < 1e-9, "{got} vs brute force {want}");
    }
    let g = grid([10, 10, 10], [1.0; 3]);
    let blob = random_blobs(51, g, 2);
    assert_eq!(min_surface_distance(&blob, &blob), Ok(Some(Mm(0.0))));
    assert_eq!(min_surface_distance(&blob, &Mask::empty(g)), Ok(None));
    let other_grid = Mask::empty(grid([10, 10, 10], [2.0; 3]));
    assert_eq!(min_surface_distance(&blob, &other_grid), Err(GridError::GridMismatch));
}

#[test]
fn max_inscribed_diameter_of_tubes_is_their_diameter_within_1_mm() {
    // Tubes at 1 mm spacing: (diameter, axis point in the axial plane, axis direction), centred
    // on voxel centres, midway between them (the worst case, +0.89 mm) and oblique. Acceptance:
    // within 1 mm.
    let tubes: [(f64, [f64; 2], [f64; 3]); 8] = [
        (4.0, [20.0, 20.0], [0.0, 0.0, 1.0]),
        (6.0, [20.5, 20.5], [0.0, 0.0, 1.0]),
        (7.5, [20.3, 20.1], [0.0, 0.0, 1.0]),
        (8.0, [20.2, 20.4], [0.3, 0.2, 1.0]),
        (10.0, [20.0, 20.0], [1.0, 1.0, 1.0]),
        (12.0, [20.5, 20.5], [0.0, 0.0, 1.0]),
        (13.3, [20.7, 20.9], [-0.4, 0.1, 1.0]),
        (16.0, [20.5, 20.0], [0.0, 0.0, 1.0]),
    ];
    let g = grid([41, 41, 41], [1.0; 3]);
    for (diameter, [x, y], direction) in tubes {
        let norm = direction.iter().map(|d| d * d).sum::<f64>().sqrt();
        let u = direction.map(|d| d / norm);
        let tube = Mask::from_fn(g, |p| {
            let v = [p.0[0] - x, p.0[1] - y, p.0[2] - 20.0];
            let along = v[0] * u[0] + v[1] * u[1] + v[2] * u[2];
            v.iter().map(|c| c * c).sum::<f64>() - along * along <= (diameter / 2.0).powi(2)
        });
        let got = max_inscribed_diameter(&tube).unwrap().0;
        assert!((got - diameter).abs() <= 1.0, "tube of {diameter} mm measured {got:.3} mm");
    }
    assert!(max_inscribed_diameter(&Mask::empty(g)).is_none());
}
