//! Points and vectors with their frame in the type.
//!
//! Patient coordinates follow DICOM: millimetres, x to the patient's left, y posterior, z
//! superior (LPS). Voxel coordinates are continuous indices, `(0,0,0)` at the first voxel's centre.

use crate::units::Mm;
use serde::{Deserialize, Serialize};
use std::ops::{Add, Sub};

/// A point in the patient frame, millimetres (DICOM LPS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientPoint(pub [f64; 3]);

/// A displacement in the patient frame, millimetres.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PatientVector(pub [f64; 3]);

/// A continuous position in the voxel frame (fractional indices, voxel centres at integers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct VoxelPoint(pub [f64; 3]);

impl PatientPoint {
    /// Builds a point from millimetre coordinates.
    pub const fn new(x: Mm, y: Mm, z: Mm) -> Self {
        Self([x.0, y.0, z.0])
    }

    /// The x coordinate (towards the patient's left).
    pub fn x(self) -> Mm {
        Mm(self.0[0])
    }

    /// The y coordinate (towards the patient's back).
    pub fn y(self) -> Mm {
        Mm(self.0[1])
    }

    /// The z coordinate (towards the patient's head).
    pub fn z(self) -> Mm {
        Mm(self.0[2])
    }

    /// Euclidean distance to another point.
    pub fn distance_to(self, other: PatientPoint) -> Mm {
        (other - self).length()
    }
}

impl PatientVector {
    /// Euclidean length.
    pub fn length(self) -> Mm {
        Mm(self.dot(self).sqrt())
    }

    /// Dot product, in mm².
    pub fn dot(self, other: PatientVector) -> f64 {
        self.0[0] * other.0[0] + self.0[1] * other.0[1] + self.0[2] * other.0[2]
    }

    /// Cross product, in mm².
    pub fn cross(self, other: PatientVector) -> PatientVector {
        let [a0, a1, a2] = self.0;
        let [b0, b1, b2] = other.0;
        PatientVector([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])
    }

    /// The unit vector in the same direction, or `None` for the zero vector.
    pub fn normalized(self) -> Option<[f64; 3]> {
        let len = self.length().0;
        (len > 0.0).then(|| [self.0[0] / len, self.0[1] / len, self.0[2] / len])
    }
}

impl Sub for PatientPoint {
    type Output = PatientVector;
    fn sub(self, rhs: PatientPoint) -> PatientVector {
        PatientVector([self.0[0] - rhs.0[0], self.0[1] - rhs.0[1], self.0[2] - rhs.0[2]])
    }
}

impl Add<PatientVector> for PatientPoint {
    type Output = PatientPoint;
    fn add(self, rhs: PatientVector) -> PatientPoint {
        PatientPoint([self.0[0] + rhs.0[0], self.0[1] + rhs.0[1], self.0[2] + rhs.0[2]])
    }
}
