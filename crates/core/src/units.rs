//! Physical quantities as newtypes, so that a unit is part of the type and never lives in a comment.
//!
//! Every quantity is an `f64` in the unit its type names. Conversions between units are explicit,
//! named methods (`Cm::to_mm`, `U::from_mci_apparent`). Arithmetic is offered only where it keeps
//! the unit (sum of two lengths, a length times a dimensionless factor).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

macro_rules! quantity {
    ($(#[$doc:meta])* $name:ident, $symbol:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// The unit symbol used when this quantity is displayed.
            pub const SYMBOL: &'static str = $symbol;

            /// The raw number, in this type's unit.
            #[inline]
            pub const fn value(self) -> f64 {
                self.0
            }

            /// Absolute value, same unit.
            #[inline]
            pub fn abs(self) -> Self {
                Self(self.0.abs())
            }

            /// The smaller of two quantities (NaN-propagating like `f64::min` is not: it ignores NaN).
            #[inline]
            pub fn min(self, other: Self) -> Self {
                Self(self.0.min(other.0))
            }

            /// The larger of two quantities.
            #[inline]
            pub fn max(self, other: Self) -> Self {
                Self(self.0.max(other.0))
            }

            /// Whether the number is finite (not NaN or infinite).
            #[inline]
            pub fn is_finite(self) -> bool {
                self.0.is_finite()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match f.precision() {
                    Some(p) => write!(f, "{:.*} {}", p, self.0, $symbol),
                    None => write!(f, "{} {}", self.0, $symbol),
                }
            }
        }

        impl Add for $name {
            type Output = Self;
            #[inline]
            fn add(self, rhs: Self) -> Self {
                Self(self.0 + rhs.0)
            }
        }

        impl AddAssign for $name {
            #[inline]
            fn add_assign(&mut self, rhs: Self) {
                self.0 += rhs.0;
            }
        }

        impl Sub for $name {
            type Output = Self;
            #[inline]
            fn sub(self, rhs: Self) -> Self {
                Self(self.0 - rhs.0)
            }
        }

        impl SubAssign for $name {
            #[inline]
            fn sub_assign(&mut self, rhs: Self) {
                self.0 -= rhs.0;
            }
        }

        impl Neg for $name {
            type Output = Self;
            #[inline]
            fn neg(self) -> Self {
                Self(-self.0)
            }
        }

        impl Mul<f64> for $name {
            type Output = Self;
            #[inline]
            fn mul(self, rhs: f64) -> Self {
                Self(self.0 * rhs)
            }
        }

        impl Div<f64> for $name {
            type Output = Self;
            #[inline]
            fn div(self, rhs: f64) -> Self {
                Self(self.0 / rhs)
            }
        }

        /// The ratio of two quantities of the same unit is dimensionless.
        impl Div for $name {
            type Output = f64;
            #[inline]
            fn div(self, rhs: Self) -> f64 {
                self.0 / rhs.0
            }
        }
    };
}

quantity!(
    /// Length in millimetres (patient coordinates are millimetres, as in DICOM).
    Mm,
    "mm"
);
quantity!(
    /// Length in centimetres (TG-43 tables are tabulated in cm).
    Cm,
    "cm"
);
quantity!(
    /// Volume in millilitres (1 mL = 1 cm³ = 1000 mm³).
    Ml,
    "mL"
);
quantity!(
    /// Absorbed dose in gray.
    Gy,
    "Gy"
);
quantity!(
    /// Absorbed dose rate in gray per hour.
    GyPerHour,
    "Gy/h"
);
quantity!(
    /// Air-kerma strength S_K in U (1 U = 1 µGy·m²·h⁻¹ = 1 cGy·cm²·h⁻¹), TG-43U1 §III.A.
    U,
    "U"
);
quantity!(
    /// Temperature in degrees Celsius.
    Celsius,
    "°C"
);
quantity!(
    /// Duration in days.
    Days,
    "d"
);
quantity!(
    /// Duration in months, as used by trial endpoints and statistics (follow-up, landmarks,
    /// medians). One month is 365.25 / 12 = 30.4375 days ([`DAYS_PER_MONTH`]).
    Months,
    "mo"
);
quantity!(
    /// Duration in minutes (freeze–thaw protocols).
    Minutes,
    "min"
);
quantity!(
    /// A percentage (0–100), e.g. V100 or a relative change.
    Percent,
    "%"
);

/// Millicuries per unit of air-kerma strength is not a physical identity but a labelled
/// convention: "1 mCi apparent activity = 1.270 U" for I-125 (PROTOCOL.md, "I-125 seeds";
/// TG-43U1 Appendix). Only [`U::from_mci_apparent`] and [`U::to_mci_apparent`] use it.
pub const U_PER_MCI_APPARENT_I125: f64 = 1.270;

impl U {
    /// Air-kerma strength from an apparent activity in mCi (I-125 convention, 1 mCi = 1.270 U).
    pub fn from_mci_apparent(mci: f64) -> U {
        U(mci * U_PER_MCI_APPARENT_I125)
    }

    /// Apparent activity in mCi for this air-kerma strength (I-125 convention, 1 mCi = 1.270 U).
    pub fn to_mci_apparent(self) -> f64 {
        self.0 / U_PER_MCI_APPARENT_I125
    }
}

impl Mm {
    /// The same length in centimetres.
    pub fn to_cm(self) -> Cm {
        Cm(self.0 / 10.0)
    }
}

impl Cm {
    /// The same length in millimetres.
    pub fn to_mm(self) -> Mm {
        Mm(self.0 * 10.0)
    }
}

impl Ml {
    /// Volume from cubic millimetres.
    pub fn from_mm3(mm3: f64) -> Ml {
        Ml(mm3 / 1000.0)
    }

    /// The same volume in cubic millimetres.
    pub fn to_mm3(self) -> f64 {
        self.0 * 1000.0
    }
}

/// Days per month: the mean Gregorian month, 365.25 / 12. A labelled convention (as in most trial
/// statistics software), used only by [`Months::to_days`] and [`Days::to_months`].
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

impl Days {
    /// The same duration in hours.
    pub fn to_hours(self) -> f64 {
        self.0 * 24.0
    }

    /// The same duration in months of [`DAYS_PER_MONTH`] days.
    pub fn to_months(self) -> Months {
        Months(self.0 / DAYS_PER_MONTH)
    }
}

impl Months {
    /// The same duration in days (one month = [`DAYS_PER_MONTH`] days).
    pub fn to_days(self) -> Days {
        Days(self.0 * DAYS_PER_MONTH)
    }
}

impl Minutes {
    /// The same duration in seconds.
    pub fn to_seconds(self) -> f64 {
        self.0 * 60.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_are_labelled_and_invertible() {
        assert_eq!(Cm(1.5).to_mm(), Mm(15.0));
        assert_eq!(Mm(15.0).to_cm(), Cm(1.5));
        assert!((U::from_mci_apparent(0.6).0 - 0.762).abs() < 1e-12);
        assert!((U(1.27).to_mci_apparent() - 1.0).abs() < 1e-12);
        assert_eq!(Ml::from_mm3(100_000.0), Ml(100.0));
        assert_eq!(format!("{:.1}", Mm(8.25)), "8.2 mm");
        assert_eq!(Mm(10.0) / Mm(4.0), 2.5);
        assert_eq!(Months(12.0).to_days(), Days(365.25));
        assert!((Days(182.625).to_months().0 - 6.0).abs() < 1e-12);
    }
}
