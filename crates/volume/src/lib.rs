//! Geometry on CT-like voxel grids, in patient millimetres: masks, scalar fields, the exact
//! Euclidean distance transform, morphology by a distance, measurements and dose–volume histograms.
//!
//! A [`Grid`] maps voxel indices to patient coordinates (axis-aligned, anisotropic spacing). A
//! [`Mask`] (a structure, voxel-centre inclusion) and a [`Field`] (dose, distance, temperature) are
//! arrays on a grid, stored x-fastest. On top of them:
//!
//! - [`edt`]: [`distance_to`] and [`signed_distance`], the exact Euclidean distance transform
//!   (Felzenszwalb & Huttenlocher 2012) with anisotropic spacing, parallel over lines;
//! - [`morphology`]: [`dilate`] and [`erode`] by a margin in mm, [`connected_components`];
//! - [`measure`]: [`centroid`], [`max_feret_diameter`], RECIST [`longest_axial_diameter`] with its
//!   short axis, [`min_surface_distance`], [`max_inscribed_diameter`];
//! - [`dvh`]: the [`Dvh`] of a structure under a dose grid, with D(x %), D(x cc), V(d).
//!
//! The key design decision is exactness on voxel centres: distances, diameters and DVH metrics
//! are exact functions of the voxel centres inside a mask (exact distance transform instead of a
//! chamfer, convex hulls instead of sampled directions, sorted voxel doses instead of binned
//! curves), so the only error left is the sampling of the anatomy by the grid, and tests can use
//! brute force as their oracle. Work is restricted to a mask's [`Mask::bounding_box`], because
//! lesions are small next to a CT grid.
//!
//! Everything here is pure computation on values: no files, no clock, no randomness; parallel
//! reductions are ordered, so results do not depend on thread scheduling.
//!
//! ```
//! use cryoseed_core::{Mm, PatientPoint};
//! use cryoseed_volume::{dilate, max_feret_diameter, Grid, Mask};
//!
//! let grid = Grid::new([41, 41, 41], [Mm(1.0); 3], PatientPoint::default()).unwrap();
//! let centre = PatientPoint::new(Mm(20.0), Mm(20.0), Mm(20.0));
//! let lesion = Mask::from_fn(grid, |p| p.distance_to(centre).value() <= 10.0);
//! assert_eq!(max_feret_diameter(&lesion).unwrap().length, Mm(20.0));
//!
//! // A 5 mm margin around a 20 mm sphere is a 30 mm sphere.
//! let margin = dilate(&lesion, Mm(5.0));
//! assert_eq!(max_feret_diameter(&margin).unwrap().length, Mm(30.0));
//! ```

pub mod dvh;
pub mod edt;
pub mod grid;
pub mod measure;
pub mod morphology;

pub use dvh::{CumulativePoint, DifferentialBin, Dvh};
pub use edt::{distance_to, signed_distance};
pub use grid::{Field, Grid, GridError, Mask, VoxelBox};
pub use measure::{
    AxialDiameters, FeretDiameter, centroid, longest_axial_diameter, max_feret_diameter, max_inscribed_diameter,
    min_surface_distance,
};
pub use morphology::{Components, connected_components, dilate, erode};
