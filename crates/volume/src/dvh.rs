//! Dose–volume histograms, exact on the voxels of a structure.
//!
//! A [`Dvh`] keeps the dose of every voxel of the structure, sorted from the hottest down; each
//! voxel stands for one voxel volume (voxel-centre inclusion, no partial volumes). Every metric is
//! then an exact order statistic of those samples rather than a read-off from binned curves, and
//! the histograms for plots and exports are derived from the samples at whatever bin width the
//! caller asks for.
//!
//! Dose grids are `Field<f32>` in Gy: single precision is ample for dose (7 significant digits)
//! and halves the memory of a 6 M-voxel grid. Metrics are returned as [`Gy`] / [`Ml`] / [`Percent`]
//! in `f64`.
//!
//! # Rules
//!
//! With `n` voxels of volume `w`, doses sorted so that `d₁ ≥ d₂ ≥ … ≥ dₙ`:
//!
//! - **V(d)** ([`Dvh::v_dose`]) is the volume of the voxels receiving **at least** `d`:
//!   `w · #{i : dᵢ ≥ d}`. V(0) is the whole structure.
//! - **D(x %)** ([`Dvh::d_percent`]) is the minimum dose to the hottest `x %` of the volume: the
//!   dose `d_m` of the `m`-th hottest voxel with `m = ⌈x·n/100⌉` (at least 1), i.e. the highest
//!   dose `d` with `V(d) ≥ x %`. This is the "minimum dose received by the hottest x %" of the
//!   brachytherapy recommendations (GEC-ESTRO, Pötter et al. 2006, Radiother. Oncol. 78:67, for
//!   D90 and D2cc; AAPM TG-137, Nath et al. 2009, Med. Phys. 36:5310, for D90), taken on the voxels
//!   without interpolation between samples, so that D and V are exact inverses of each other.
//!   D(0 %) is the maximum, D(100 %) the minimum; `x` is clamped to `[0, 100]`.
//! - **D(v mL)** ([`Dvh::d_volume`], e.g. D2cc) is the same with `m = ⌈v / w⌉`. When the structure
//!   is smaller than `v` there is no hottest `v` and the answer is `None`: a D2cc of a 1 cc
//!   structure is undefined, not its minimum dose.
//! - **V(p % of prescription)** ([`Dvh::v_percent_of`], e.g. V100, V150) is V(p/100 · Rx) as a
//!   percentage of the structure volume.
//! - Counts are rounded up with a tolerance of 1e-9 voxel so that, e.g., D90 of 1000 voxels is the
//!   900th voxel despite `0.9 · 1000` not being exact in binary.

use crate::grid::{Field, GridError, Mask};
use cryoseed_core::{Gy, Ml, Percent};
use rayon::prelude::*;

/// Slack, in voxels, when turning a volume or a percentage into a voxel count.
const COUNT_TOLERANCE: f64 = 1e-9;

/// The dose–volume histogram of one structure: its voxel doses sorted from the hottest down.
#[derive(Clone, Debug, PartialEq)]
pub struct Dvh {
    /// Voxel doses in Gy, non-increasing; never empty.
    descending: Vec<f32>,
    voxel_volume: Ml,
}

/// One point of a cumulative DVH: the volume receiving at least `dose`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CumulativePoint {
    /// Dose threshold.
    pub dose: Gy,
    /// Volume receiving at least `dose`.
    pub volume: Ml,
    /// The same volume as a percentage of the structure.
    pub percent: Percent,
}

/// One bin of a differential DVH: the volume receiving a dose in `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DifferentialBin {
    /// Lower edge, included.
    pub from: Gy,
    /// Upper edge, excluded.
    pub to: Gy,
    /// Volume receiving a dose in the bin.
    pub volume: Ml,
}

impl Dvh {
    /// The DVH of `structure` under `dose` (Gy per voxel).
    ///
    /// Fails if the two live on different grids, if the structure is empty, or if a dose inside
    /// the structure is NaN or infinite.
    pub fn compute(dose: &Field<f32>, structure: &Mask) -> Result<Dvh, GridError> {
        let grid = dose.grid();
        if !grid.same_geometry(structure.grid()) {
            return Err(GridError::GridMismatch);
        }
        let bx = structure.bounding_box().ok_or(GridError::EmptyMask)?;
        let [nx, _, _] = bx.dims();
        let mut descending = Vec::new();
        for k in bx.first()[2]..=bx.last()[2] {
            for j in bx.first()[1]..=bx.last()[1] {
                let start = grid.index([bx.first()[0], j, k]);
                let inside = &structure.as_slice()[start..start + nx];
                let doses = &dose.as_slice()[start..start + nx];
                for (i, (&d, _)) in doses.iter().zip(inside).enumerate().filter(|(_, (_, is_inside))| **is_inside) {
                    if !d.is_finite() {
                        return Err(GridError::NonFinite { voxel: [bx.first()[0] + i, j, k] });
                    }
                    descending.push(d);
                }
            }
        }
        descending.sort_unstable_by(|a, b| b.total_cmp(a));
        Ok(Dvh { descending, voxel_volume: grid.voxel_volume() })
    }

    /// The DVHs of several structures under one dose grid, computed in parallel, in the order of
    /// `structures`. Fails on the first structure that [`Dvh::compute`] rejects.
    pub fn compute_many(dose: &Field<f32>, structures: &[&Mask]) -> Result<Vec<Dvh>, GridError> {
        structures.par_iter().map(|structure| Dvh::compute(dose, structure)).collect()
    }

    /// Number of voxels in the structure.
    pub fn voxel_count(&self) -> usize {
        self.descending.len()
    }

    /// Volume of the structure.
    pub fn volume(&self) -> Ml {
        self.voxels_to_volume(self.descending.len())
    }

    /// Lowest voxel dose.
    pub fn min(&self) -> Gy {
        Gy(f64::from(self.descending[self.descending.len() - 1]))
    }

    /// Highest voxel dose.
    pub fn max(&self) -> Gy {
        Gy(f64::from(self.descending[0]))
    }

    /// Volume-weighted mean dose (all voxels weigh the same).
    pub fn mean(&self) -> Gy {
        let sum: f64 = self.descending.iter().map(|&d| f64::from(d)).sum();
        Gy(sum / self.descending.len() as f64)
    }

    /// D(x %): the minimum dose to the hottest `x` % of the volume (module rules), e.g. D90.
    pub fn d_percent(&self, x: Percent) -> Gy {
        let x = x.0.clamp(0.0, 100.0);
        let m = voxel_count_up(x / 100.0 * self.descending.len() as f64).max(1);
        self.dose_of_rank(m)
    }

    /// D(v): the minimum dose to the hottest volume `v`, e.g. D2cc; `None` if the structure is
    /// smaller than `v`.
    pub fn d_volume(&self, v: Ml) -> Option<Gy> {
        let m = voxel_count_up(v.0.max(0.0) / self.voxel_volume.0).max(1);
        (m <= self.descending.len()).then(|| self.dose_of_rank(m))
    }

    /// V(d): the volume receiving at least `d`.
    pub fn v_dose(&self, d: Gy) -> Ml {
        self.voxels_to_volume(self.count_at_least(d))
    }

    /// V(d) as a percentage of the structure volume.
    pub fn v_dose_percent(&self, d: Gy) -> Percent {
        Percent(100.0 * self.count_at_least(d) as f64 / self.descending.len() as f64)
    }

    /// The percentage of the structure receiving at least `pct` % of `prescription`: V100 is
    /// `v_percent_of(rx, Percent(100.0))`.
    pub fn v_percent_of(&self, prescription: Gy, pct: Percent) -> Percent {
        self.v_dose_percent(Gy(prescription.0 * pct.0 / 100.0))
    }

    /// The cumulative DVH at doses `0, w, 2w, …` up to the first multiple of `bin_width` above the
    /// maximum dose (where the volume is 0), for plots and exports.
    ///
    /// # Panics
    ///
    /// If `bin_width` is not a positive finite number.
    pub fn cumulative(&self, bin_width: Gy) -> Vec<CumulativePoint> {
        let bins = self.bin_count(bin_width);
        (0..=bins)
            .map(|b| {
                let dose = Gy(b as f64 * bin_width.0);
                let count = self.count_at_least(dose);
                CumulativePoint {
                    dose,
                    volume: self.voxels_to_volume(count),
                    percent: Percent(100.0 * count as f64 / self.descending.len() as f64),
                }
            })
            .collect()
    }

    /// The differential DVH: volume per dose bin `[b·w, (b+1)·w)` from 0 up to the bin holding the
    /// maximum dose. Negative doses (none in practice) fall in the first bin.
    ///
    /// # Panics
    ///
    /// If `bin_width` is not a positive finite number.
    pub fn differential(&self, bin_width: Gy) -> Vec<DifferentialBin> {
        let bins = self.bin_count(bin_width);
        (0..bins)
            .map(|b| {
                let (from, to) = (Gy(b as f64 * bin_width.0), Gy((b + 1) as f64 * bin_width.0));
                let below_to = self.count_at_least(to);
                let count = if b == 0 { self.descending.len() } else { self.count_at_least(from) } - below_to;
                DifferentialBin { from, to, volume: self.voxels_to_volume(count) }
            })
            .collect()
    }

    /// Number of bins of width `bin_width` from 0 until the maximum dose is below the upper edge.
    fn bin_count(&self, bin_width: Gy) -> usize {
        assert!(bin_width.0.is_finite() && bin_width.0 > 0.0, "DVH bin width must be positive, got {bin_width}");
        let max = self.max().0.max(0.0);
        // The first upper edge strictly above the maximum.
        (max / bin_width.0).floor() as usize + 1
    }

    /// Number of voxels with dose ≥ `d` (the samples are sorted, so a binary search).
    fn count_at_least(&self, d: Gy) -> usize {
        self.descending.partition_point(|&x| f64::from(x) >= d.0)
    }

    /// Dose of the `m`-th hottest voxel, `1 ≤ m ≤ n`.
    fn dose_of_rank(&self, m: usize) -> Gy {
        Gy(f64::from(self.descending[m - 1]))
    }

    fn voxels_to_volume(&self, count: usize) -> Ml {
        Ml(count as f64 * self.voxel_volume.0)
    }
}

/// `⌈count⌉`, forgiving a rounding error of [`COUNT_TOLERANCE`] voxel.
fn voxel_count_up(count: f64) -> usize {
    (count - COUNT_TOLERANCE).ceil().max(0.0) as usize
}
