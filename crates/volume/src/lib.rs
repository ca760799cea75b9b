//! Geometry on CT-like voxel grids, in patient millimetres: masks, scalar fields, the exact
//! Euclidean distance transform, morphology by a distance, measurements and dose–volume histograms.
//!
//! A [`Grid`] maps voxel indices to patient coordinates (axis-aligned, anisotropic spacing). A
//! [`Mask`] and a [`Field`] are arrays on a grid, stored x-fastest. Everything here is pure
//! computation on values: no files, no clock, no randomness.

pub mod grid;

pub use grid::{Field, Grid, GridError, Mask};
