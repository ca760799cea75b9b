//! The voxel grid and the arrays that live on it.

use cryoseed_core::{Ml, Mm, PatientPoint, VoxelPoint};

/// Why a grid or an array on it cannot be built or used: the one error type of this crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// A dimension is zero or the voxel count overflows.
    #[error("grid dimensions {0:?} must all be at least 1 and the voxel count must fit in memory")]
    BadDims([usize; 3]),
    /// A spacing is not a positive finite number.
    #[error("grid spacing {0:?} mm must be positive and finite on every axis")]
    BadSpacing([f64; 3]),
    /// The origin is not finite.
    #[error("grid origin {0:?} mm must be finite")]
    BadOrigin([f64; 3]),
    /// The data length does not match the grid.
    #[error("array has {got} values but the grid has {expected} voxels")]
    LengthMismatch {
        /// Voxels in the grid.
        expected: usize,
        /// Values supplied.
        got: usize,
    },
    /// Two arrays were combined but live on different grids.
    #[error("arrays live on different grids")]
    GridMismatch,
    /// A computation needs at least one voxel inside the mask (a dose–volume histogram of nothing
    /// has no D90).
    #[error("the structure mask has no voxel inside")]
    EmptyMask,
    /// A value that must be a finite number is NaN or infinite.
    #[error("value at voxel {voxel:?} is not a finite number")]
    NonFinite {
        /// The voxel `(i, j, k)` holding the value.
        voxel: [usize; 3],
    },
}

/// An axis-aligned voxel grid in patient coordinates.
///
/// Voxel `(i, j, k)` has its centre at `origin + (i·sx, j·sy, k·sz)` mm: the axes are the patient
/// axes (DICOM LPS, identity direction cosines), spacing may differ per axis (CT slices are often
/// thicker than pixels). Arrays on the grid are stored x-fastest: `index = i + nx·(j + ny·k)`.
/// Importers of oblique or flipped images resample or reorder into this form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Grid {
    dims: [usize; 3],
    spacing: [f64; 3],
    origin: [f64; 3],
}

impl Grid {
    /// A grid with `dims` voxels per axis, `spacing` between voxel centres and the first voxel's
    /// centre at `origin`.
    pub fn new(dims: [usize; 3], spacing: [Mm; 3], origin: PatientPoint) -> Result<Grid, GridError> {
        let spacing = spacing.map(|s| s.0);
        if dims.contains(&0)
            || dims[0]
                .checked_mul(dims[1])
                .and_then(|n| n.checked_mul(dims[2]))
                .is_none_or(|n| n > isize::MAX as usize / 8)
        {
            return Err(GridError::BadDims(dims));
        }
        if spacing.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(GridError::BadSpacing(spacing));
        }
        if origin.0.iter().any(|o| !o.is_finite()) {
            return Err(GridError::BadOrigin(origin.0));
        }
        Ok(Grid { dims, spacing, origin: origin.0 })
    }

    /// Voxels per axis `[nx, ny, nz]`.
    #[inline]
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Distance between voxel centres per axis.
    #[inline]
    pub fn spacing(&self) -> [Mm; 3] {
        self.spacing.map(Mm)
    }

    /// Spacing as raw millimetres, for inner loops.
    #[inline]
    pub fn spacing_mm(&self) -> [f64; 3] {
        self.spacing
    }

    /// Centre of voxel `(0, 0, 0)`.
    #[inline]
    pub fn origin(&self) -> PatientPoint {
        PatientPoint(self.origin)
    }

    /// Number of voxels.
    #[inline]
    pub fn len(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// Always false: a grid has at least one voxel.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Volume of one voxel.
    #[inline]
    pub fn voxel_volume(&self) -> Ml {
        Ml::from_mm3(self.spacing[0] * self.spacing[1] * self.spacing[2])
    }

    /// Linear index of voxel `(i, j, k)`. Panics in debug builds if out of range.
    #[inline]
    pub fn index(&self, [i, j, k]: [usize; 3]) -> usize {
        debug_assert!(i < self.dims[0] && j < self.dims[1] && k < self.dims[2]);
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Voxel `(i, j, k)` of a linear index.
    #[inline]
    pub fn ijk(&self, index: usize) -> [usize; 3] {
        let [nx, ny, _] = self.dims;
        [index % nx, (index / nx) % ny, index / (nx * ny)]
    }

    /// Centre of voxel `(i, j, k)` in the patient frame.
    #[inline]
    pub fn voxel_centre(&self, [i, j, k]: [usize; 3]) -> PatientPoint {
        self.patient_from_voxel(VoxelPoint([i as f64, j as f64, k as f64]))
    }

    /// Voxel frame → patient frame.
    #[inline]
    pub fn patient_from_voxel(&self, p: VoxelPoint) -> PatientPoint {
        PatientPoint(std::array::from_fn(|a| self.origin[a] + p.0[a] * self.spacing[a]))
    }

    /// Patient frame → voxel frame.
    #[inline]
    pub fn voxel_from_patient(&self, p: PatientPoint) -> VoxelPoint {
        VoxelPoint(std::array::from_fn(|a| (p.0[a] - self.origin[a]) / self.spacing[a]))
    }

    /// The voxel whose centre is nearest to `p`, or `None` if `p` is outside the grid's voxels.
    pub fn nearest_voxel(&self, p: PatientPoint) -> Option<[usize; 3]> {
        let v = self.voxel_from_patient(p).0;
        let mut out = [0usize; 3];
        for a in 0..3 {
            let r = v[a].round();
            if !(r >= 0.0 && r < self.dims[a] as f64) {
                return None;
            }
            out[a] = r as usize;
        }
        Some(out)
    }

    /// Whether another grid has the same geometry (to within 1e-6 mm).
    pub fn same_geometry(&self, other: &Grid) -> bool {
        self.dims == other.dims
            && (0..3).all(|a| {
                (self.spacing[a] - other.spacing[a]).abs() < 1e-6 && (self.origin[a] - other.origin[a]).abs() < 1e-6
            })
    }
}

/// A binary mask on a grid: `true` for voxels inside a structure (voxel-centre inclusion).
#[derive(Clone, Debug, PartialEq)]
pub struct Mask {
    grid: Grid,
    data: Vec<bool>,
}

impl Mask {
    /// An all-false mask.
    pub fn empty(grid: Grid) -> Mask {
        Mask { grid, data: vec![false; grid.len()] }
    }

    /// A mask from x-fastest data.
    pub fn from_vec(grid: Grid, data: Vec<bool>) -> Result<Mask, GridError> {
        if data.len() != grid.len() {
            return Err(GridError::LengthMismatch { expected: grid.len(), got: data.len() });
        }
        Ok(Mask { grid, data })
    }

    /// A mask of the voxels whose centre satisfies `inside`.
    pub fn from_fn(grid: Grid, mut inside: impl FnMut(PatientPoint) -> bool) -> Mask {
        let data = (0..grid.len()).map(|n| inside(grid.voxel_centre(grid.ijk(n)))).collect();
        Mask { grid, data }
    }

    /// The grid this mask lives on.
    #[inline]
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Voxel values, x-fastest.
    #[inline]
    pub fn as_slice(&self) -> &[bool] {
        &self.data
    }

    /// Mutable voxel values, x-fastest.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [bool] {
        &mut self.data
    }

    /// Whether voxel `(i, j, k)` is inside.
    #[inline]
    pub fn at(&self, ijk: [usize; 3]) -> bool {
        self.data[self.grid.index(ijk)]
    }

    /// Sets voxel `(i, j, k)`.
    #[inline]
    pub fn set(&mut self, ijk: [usize; 3], inside: bool) {
        let n = self.grid.index(ijk);
        self.data[n] = inside;
    }

    /// Number of voxels inside.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }

    /// Whether no voxel is inside.
    pub fn is_empty(&self) -> bool {
        !self.data.iter().any(|&b| b)
    }

    /// Volume inside (voxel count × voxel volume).
    pub fn volume(&self) -> Ml {
        Ml(self.count() as f64 * self.grid.voxel_volume().0)
    }

    /// Voxel-wise union.
    pub fn union(&self, other: &Mask) -> Result<Mask, GridError> {
        self.zip_with(other, |a, b| a || b)
    }

    /// Voxel-wise intersection.
    pub fn intersection(&self, other: &Mask) -> Result<Mask, GridError> {
        self.zip_with(other, |a, b| a && b)
    }

    /// Voxels in `self` and not in `other`.
    pub fn difference(&self, other: &Mask) -> Result<Mask, GridError> {
        self.zip_with(other, |a, b| a && !b)
    }

    /// Voxel-wise complement.
    pub fn complement(&self) -> Mask {
        Mask { grid: self.grid, data: self.data.iter().map(|b| !b).collect() }
    }

    fn zip_with(&self, other: &Mask, f: impl Fn(bool, bool) -> bool) -> Result<Mask, GridError> {
        if !self.grid.same_geometry(&other.grid) {
            return Err(GridError::GridMismatch);
        }
        let data = self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect();
        Ok(Mask { grid: self.grid, data })
    }

    /// The smallest box of voxels holding every voxel inside, or `None` for an empty mask.
    ///
    /// Lesions and organs are small next to a CT grid, so the measurements, the DVH and the
    /// morphology of this crate restrict their work to this box.
    pub fn bounding_box(&self) -> Option<VoxelBox> {
        let [nx, ny, _] = self.grid.dims;
        let mut found: Option<VoxelBox> = None;
        for (row_index, row) in self.data.chunks_exact(nx).enumerate() {
            // A branch-free OR over the row vectorises; most rows of a CT grid are empty.
            if !row.iter().fold(false, |any, &b| any | b) {
                continue;
            }
            let (Some(first_i), Some(last_i)) = (row.iter().position(|&b| b), row.iter().rposition(|&b| b)) else {
                continue;
            };
            let (j, k) = (row_index % ny, row_index / ny);
            let row_box = VoxelBox { first: [first_i, j, k], last: [last_i, j, k] };
            found = Some(found.map_or(row_box, |b| b.union(&row_box)));
        }
        found
    }

    /// Indices `(i, j, k)` of the voxels inside, in storage order.
    pub fn voxels(&self) -> impl Iterator<Item = [usize; 3]> + '_ {
        self.data.iter().enumerate().filter(|&(_, &b)| b).map(|(n, _)| self.grid.ijk(n))
    }
}

/// An axis-aligned box of voxel indices, inclusive at both ends: voxel `(i, j, k)` is in the box
/// when `first[a] ≤ index[a] ≤ last[a]` on every axis `a`. Never empty: `first ≤ last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoxelBox {
    first: [usize; 3],
    last: [usize; 3],
}

impl VoxelBox {
    /// The lowest index on each axis.
    #[inline]
    pub fn first(&self) -> [usize; 3] {
        self.first
    }

    /// The highest index on each axis.
    #[inline]
    pub fn last(&self) -> [usize; 3] {
        self.last
    }

    /// Voxels per axis.
    #[inline]
    pub fn dims(&self) -> [usize; 3] {
        std::array::from_fn(|a| self.last[a] - self.first[a] + 1)
    }

    /// Number of voxels in the box.
    #[inline]
    pub fn len(&self) -> usize {
        let [nx, ny, nz] = self.dims();
        nx * ny * nz
    }

    /// Always false: a box holds at least one voxel.
    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The smallest box holding both boxes.
    pub fn union(&self, other: &VoxelBox) -> VoxelBox {
        VoxelBox {
            first: std::array::from_fn(|a| self.first[a].min(other.first[a])),
            last: std::array::from_fn(|a| self.last[a].max(other.last[a])),
        }
    }

    /// The box grown by `by[a]` voxels on both sides of each axis, clipped to a grid of `dims`.
    pub fn grown(&self, by: [usize; 3], dims: [usize; 3]) -> VoxelBox {
        VoxelBox {
            first: std::array::from_fn(|a| self.first[a].saturating_sub(by[a])),
            last: std::array::from_fn(|a| self.last[a].saturating_add(by[a]).min(dims[a] - 1)),
        }
    }
}

/// A scalar field on a grid (dose in Gy, temperature in °C, distance in mm…).
///
/// The unit of the values is the caller's type parameter `T`'s business: `Field<f64>` for raw
/// working fields, documented where it is produced; public compute results wrap it with the unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Field<T> {
    grid: Grid,
    data: Vec<T>,
}

impl<T: Copy> Field<T> {
    /// A field with every voxel set to `value`.
    pub fn filled(grid: Grid, value: T) -> Field<T> {
        Field { grid, data: vec![value; grid.len()] }
    }

    /// A field from x-fastest data.
    pub fn from_vec(grid: Grid, data: Vec<T>) -> Result<Field<T>, GridError> {
        if data.len() != grid.len() {
            return Err(GridError::LengthMismatch { expected: grid.len(), got: data.len() });
        }
        Ok(Field { grid, data })
    }

    /// A field whose value at each voxel centre is `f(centre)`.
    pub fn from_fn(grid: Grid, mut f: impl FnMut(PatientPoint) -> T) -> Field<T> {
        let data = (0..grid.len()).map(|n| f(grid.voxel_centre(grid.ijk(n)))).collect();
        Field { grid, data }
    }

    /// The grid this field lives on.
    #[inline]
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Values, x-fastest.
    #[inline]
    pub fn as_slice(&self) -> &[T] {
        &self.data
    }

    /// Mutable values, x-fastest.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The values, consuming the field.
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }

    /// Value at voxel `(i, j, k)`.
    #[inline]
    pub fn at(&self, ijk: [usize; 3]) -> T {
        self.data[self.grid.index(ijk)]
    }

    /// Sets the value at voxel `(i, j, k)`.
    #[inline]
    pub fn set(&mut self, ijk: [usize; 3], value: T) {
        let n = self.grid.index(ijk);
        self.data[n] = value;
    }

    /// The voxels where `pred(value)` holds, as a mask.
    pub fn threshold(&self, pred: impl Fn(T) -> bool) -> Mask {
        Mask { grid: self.grid, data: self.data.iter().map(|&v| pred(v)).collect() }
    }
}
