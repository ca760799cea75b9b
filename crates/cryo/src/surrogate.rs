//! The fast surrogate of the bioheat solver: isotherm masks of a probe set in milliseconds, for
//! the placement search.
//!
//! # Model
//!
//! One probe's minimum-temperature field is axisymmetric around its active segment: a table
//! `T₁(s, r)` over the distance `s` back from the tip along the axis and the radial distance `r`
//! from it, sampled from a solver run of one probe ([`SurrogateModel::from_single_probe_field`]).
//! Several probes combine through their cold *deficits* `Dᵢ = T_b − T₁(sᵢ, rᵢ)` (baseline minus
//! temperature), by a p-norm:
//!
//! `T = T_b − min((Σᵢ Dᵢᵖ)^(1/p), T_b − T_probe)`
//!
//! With `p = 1` this is linear superposition (exact for linear steady conduction), with `p → ∞` the
//! union of single-probe shapes (no synergy). Phase change and the frozen tissue's higher
//! conductivity put the truth in between; `p` is fitted against multi-probe solver runs
//! ([`fit_exponent`]). One probe is reproduced exactly (up to the table's interpolation), any
//! direction works (each probe uses its own axis), and the result is deterministic.
//!
//! The shipped calibrations (`data/surrogate/*.csv`, provenance in `data/surrogate/README.md`)
//! were produced by `cargo run --release -p cryoseed-cryo --example calibrate_surrogate`; each
//! records the tissue properties, sequence, probe temperature and fitted exponent it is valid
//! for, and [`SurrogateLibrary::find`] refuses a request that differs.
//!
//! # Speed
//!
//! The table stores `Dᵖ` directly, so an isotherm mask is a sum and a comparison per probe and
//! voxel (`Σ Dᵢᵖ ≥ (T_b − T_iso)ᵖ`), no power function. Each probe touches only the voxels within
//! the table's reach of its segment, and z-slabs run in parallel. Sums and thresholds cover only
//! the box the probes reach (the rest of the grid is baseline), so a call costs ≈ 60 ms of CPU
//! for four probes on a 150³ grid (`BENCHMARKS.md`).

use crate::{CryoError, Medium, PlacedProbe};
use cryoseed_core::Celsius;
use cryoseed_core::protocol::{FreezeThawPhase, PhaseKind};
use cryoseed_volume::{Field, Grid, Mask};
use rayon::prelude::*;

/// The shipped calibrations, one CSV per (probe class, tissue, sequence).
pub const SHIPPED_CALIBRATIONS: [(&str, &str); 2] = [
    (
        "2.4mm-argon_default-tissue_10-8-10.csv",
        include_str!("../data/surrogate/2.4mm-argon_default-tissue_10-8-10.csv"),
    ),
    ("2.4mm-argon_lung_10-8-10.csv", include_str!("../data/surrogate/2.4mm-argon_lung_10-8-10.csv")),
];

/// Conditions a calibration is valid for.
#[derive(Clone, Debug, PartialEq)]
pub struct SurrogateConditions {
    /// Probe class name.
    pub class: String,
    /// Active length of that class, mm (the table's `s` runs over it).
    pub active_length_mm: f64,
    /// Label of the tissue (free text, e.g. `default` or `lung`).
    pub tissue_label: String,
    /// The medium simulated.
    pub medium: Medium,
    /// Freeze–thaw sequence name.
    pub freeze_thaw: String,
    /// Its phases.
    pub phases: Vec<FreezeThawPhase>,
    /// Baseline (body) temperature, °C.
    pub baseline: Celsius,
    /// Probe surface temperature during freezes, °C.
    pub surface: Celsius,
}

/// A calibrated surrogate: single-probe table and p-norm exponent.
#[derive(Clone, Debug, PartialEq)]
pub struct SurrogateModel {
    /// What the calibration is valid for.
    pub conditions: SurrogateConditions,
    /// Exponent `p` of the deficit p-norm.
    pub exponent: f64,
    /// First `s` of the table (negative: beyond the tip), mm.
    pub s_start_mm: f64,
    /// Table step along `s` and `r`, mm.
    pub step_mm: f64,
    /// Number of `s` rows.
    pub ns: usize,
    /// Number of `r` columns (r = 0, step, …).
    pub nr: usize,
    /// Single-probe minimum temperature, °C, row-major `[s][r]`.
    pub table_c: Vec<f32>,
    /// Free-text provenance (how the table and exponent were obtained).
    pub provenance: String,
    /// `Dᵖ` per table entry.
    powered: Vec<f32>,
}

impl SurrogateModel {
    /// A model from a table (see the fields); checks the shape and values.
    #[allow(clippy::too_many_arguments, reason = "plain data of a calibration")]
    pub fn new(
        conditions: SurrogateConditions,
        exponent: f64,
        s_start_mm: f64,
        step_mm: f64,
        ns: usize,
        nr: usize,
        table_c: Vec<f32>,
        provenance: String,
    ) -> Result<SurrogateModel, CryoError> {
        let bad = |message: String| CryoError::Surrogate(message);
        if !(exponent.is_finite() && exponent >= 1.0) {
            return Err(bad(format!("exponent must be >= 1, got {exponent}")));
        }
        if !(step_mm.is_finite() && step_mm > 0.0 && s_start_mm.is_finite()) {
            return Err(bad(format!("table step must be > 0 mm, got {step_mm}")));
        }
        if ns < 2 || nr < 2 || table_c.len() != ns * nr {
            return Err(bad(format!("table must be {ns} x {nr} >= 2 x 2 values, got {}", table_c.len())));
        }
        if table_c.iter().any(|t| !t.is_finite()) {
            return Err(bad("table has a non-finite temperature".into()));
        }
        let mut model = SurrogateModel {
            conditions,
            exponent,
            s_start_mm,
            step_mm,
            ns,
            nr,
            table_c,
            provenance,
            powered: Vec::new(),
        };
        model.powered = model.powered_table(exponent);
        Ok(model)
    }

    fn powered_table(&self, exponent: f64) -> Vec<f32> {
        let tb = self.conditions.baseline.0;
        self.table_c.iter().map(|&t| (tb - f64::from(t)).max(0.0).powf(exponent) as f32).collect()
    }

    /// The same table with another exponent (used by [`fit_exponent`]).
    pub fn with_exponent(&self, exponent: f64) -> Result<SurrogateModel, CryoError> {
        SurrogateModel::new(
            self.conditions.clone(),
            exponent,
            self.s_start_mm,
            self.step_mm,
            self.ns,
            self.nr,
            self.table_c.clone(),
            self.provenance.clone(),
        )
    }

    /// Builds the table from the minimum-temperature field of a solver run of `probe` alone:
    /// `T₁(s, r)` is the mean over 16 azimuths of the trilinear interpolation of `field` at
    /// distance `s` back from the tip and `r` from the axis, for `s` from `−reach` to
    /// `active_length + reach` and `r` from 0 to `reach`, every `step_mm` (points outside the
    /// field take the baseline).
    pub fn from_single_probe_field(
        conditions: SurrogateConditions,
        probe: &PlacedProbe,
        field: &Field<f32>,
        reach_mm: f64,
        step_mm: f64,
        provenance: String,
    ) -> Result<SurrogateModel, CryoError> {
        let dir = probe.direction;
        let helper = if dir[0].abs() < 0.9 { [1.0, 0.0, 0.0] } else { [0.0, 1.0, 0.0] };
        let u = normalise(cross(dir, helper));
        let v = cross(dir, u);
        let ns = ((probe.class.active_length.0 + 2.0 * reach_mm) / step_mm).round() as usize + 1;
        let nr = (reach_mm / step_mm).round() as usize + 1;
        let s_start = -reach_mm;
        const AZIMUTHS: usize = 16;
        let tb = conditions.baseline.0;
        let mut table = Vec::with_capacity(ns * nr);
        for is in 0..ns {
            let s = s_start + is as f64 * step_mm;
            for ir in 0..nr {
                let r = ir as f64 * step_mm;
                let mut sum = 0.0;
                for k in 0..AZIMUTHS {
                    let angle = std::f64::consts::TAU * k as f64 / AZIMUTHS as f64;
                    let (sn, cs) = angle.sin_cos();
                    let p =
                        std::array::from_fn(|a| probe.tip_in_patient.0[a] - s * dir[a] + r * (cs * u[a] + sn * v[a]));
                    sum += crate::isotherm::sample_trilinear(field, cryoseed_core::PatientPoint(p)).unwrap_or(tb);
                }
                table.push((sum / AZIMUTHS as f64) as f32);
            }
        }
        SurrogateModel::new(conditions, 1.0, s_start, step_mm, ns, nr, table, provenance)
    }

    /// Largest distance from a probe's active segment at which it cools anything, mm.
    pub fn reach_mm(&self) -> f64 {
        (self.nr - 1) as f64 * self.step_mm
    }

    /// `Dᵖ` of one probe at `(s, r)`, bilinear in the table; 0 outside it.
    #[inline]
    fn powered_deficit(&self, s: f64, r: f64) -> f32 {
        let fs = (s - self.s_start_mm) / self.step_mm;
        let fr = r / self.step_mm;
        if !(fs >= 0.0 && fr >= 0.0) {
            return 0.0;
        }
        let (is, ir) = (fs as usize, fr as usize);
        if is + 1 >= self.ns || ir + 1 >= self.nr {
            return 0.0;
        }
        let (ws, wr) = ((fs - is as f64) as f32, (fr - ir as f64) as f32);
        let row = is * self.nr + ir;
        let t = &self.powered;
        let a = t[row] + wr * (t[row + 1] - t[row]);
        let b = t[row + self.nr] + wr * (t[row + self.nr + 1] - t[row + self.nr]);
        a + ws * (b - a)
    }

    /// Checks that every probe is of the calibrated class.
    fn check_probes(&self, probes: &[PlacedProbe]) -> Result<(), CryoError> {
        if probes.is_empty() {
            return Err(CryoError::NoSource);
        }
        for (index, p) in probes.iter().enumerate() {
            if p.class.name != self.conditions.class || p.class.active_length.0 != self.conditions.active_length_mm {
                return Err(CryoError::Probe {
                    index,
                    class: p.class.name.clone(),
                    message: format!(
                        "the surrogate is calibrated for class `{}` ({} mm active length)",
                        self.conditions.class, self.conditions.active_length_mm
                    ),
                });
            }
        }
        Ok(())
    }

    /// Σ `Dᵢᵖ` over the probes on the voxels of `grid` some probe reaches: the box of voxel
    /// indices `lo..hi` (the union of the probes' boxes; 0 everywhere outside it) and the sums in
    /// it, x fastest.
    fn powered_sum(&self, grid: &Grid, probes: &[PlacedProbe]) -> ([usize; 3], [usize; 3], Vec<f32>) {
        let dims = grid.dims();
        let reach = self.reach_mm();
        let h = grid.spacing_mm();
        let o = grid.origin().0;
        // Per probe: voxel-index bounding box of everything within reach of its segment.
        let boxes: Vec<([usize; 3], [usize; 3])> = probes
            .iter()
            .map(|p| {
                let (a, b) = (p.tip_in_patient.0, p.active_end_in_patient().0);
                let lo: [usize; 3] = std::array::from_fn(|k| {
                    (((a[k].min(b[k]) - reach - o[k]) / h[k]).floor().max(0.0) as usize).min(dims[k])
                });
                let hi: [usize; 3] = std::array::from_fn(|k| {
                    let v = ((a[k].max(b[k]) + reach - o[k]) / h[k]).ceil();
                    if v < 0.0 { 0 } else { (v as usize + 1).min(dims[k]) }
                });
                (lo, hi)
            })
            .collect();
        let lo: [usize; 3] = std::array::from_fn(|k| boxes.iter().map(|b| b.0[k]).min().unwrap_or(0));
        let hi: [usize; 3] = std::array::from_fn(|k| boxes.iter().map(|b| b.1[k]).max().unwrap_or(0).max(lo[k]));
        let (bx, by) = (hi[0] - lo[0], hi[1] - lo[1]);
        let plane = bx * by;
        let mut sum = vec![0f32; plane * (hi[2] - lo[2])];
        if plane == 0 {
            return (lo, hi, sum);
        }
        sum.par_chunks_mut(plane).enumerate().for_each(|(dz, slab)| {
            let z = lo[2] + dz;
            for (p, &(plo, phi)) in probes.iter().zip(&boxes) {
                if z < plo[2] || z >= phi[2] {
                    continue;
                }
                let tip = p.tip_in_patient.0;
                let d = p.direction;
                let pz = o[2] + z as f64 * h[2];
                for y in plo[1]..phi[1] {
                    let py = o[1] + y as f64 * h[1];
                    let row = &mut slab[(y - lo[1]) * bx..(y - lo[1] + 1) * bx];
                    let (dy, dz) = (tip[1] - py, tip[2] - pz);
                    let s_yz = dy * d[1] + dz * d[2];
                    let q_yz = dy * dy + dz * dz;
                    for x in plo[0]..phi[0] {
                        let dx = tip[0] - (o[0] + x as f64 * h[0]);
                        let s = s_yz + dx * d[0];
                        let r = (dx * dx + q_yz - s * s).max(0.0).sqrt();
                        row[x - lo[0]] += self.powered_deficit(s, r);
                    }
                }
            }
        });
        (lo, hi, sum)
    }

    /// A full-grid vector of `outside` with `f` of each powered sum written into the box of
    /// [`SurrogateModel::powered_sum`].
    fn fill<T: Copy + Send + Sync>(
        grid: &Grid,
        (lo, hi, sum): &([usize; 3], [usize; 3], Vec<f32>),
        outside: T,
        f: impl Fn(f32) -> T + Sync,
    ) -> Vec<T> {
        let [nx, ny, _] = grid.dims();
        let mut data = vec![outside; grid.len()];
        let bx = hi[0] - lo[0];
        let plane = bx * (hi[1] - lo[1]);
        if plane == 0 {
            return data;
        }
        data[lo[2] * nx * ny..hi[2] * nx * ny].par_chunks_mut(nx * ny).zip(sum.par_chunks(plane)).for_each(
            |(slab, box_slab)| {
                for (y, box_row) in (lo[1]..hi[1]).zip(box_slab.chunks(bx)) {
                    let row = &mut slab[y * nx + lo[0]..y * nx + hi[0]];
                    row.iter_mut().zip(box_row).for_each(|(out, &s)| *out = f(s));
                }
            },
        );
        data
    }

    /// The predicted minimum temperature over the sequence at every voxel, °C.
    pub fn min_temperature(&self, grid: &Grid, probes: &[PlacedProbe]) -> Result<Field<f32>, CryoError> {
        self.check_probes(probes)?;
        let tb = self.conditions.baseline.0;
        let max_deficit = tb - self.conditions.surface.0;
        let inv_p = 1.0 / self.exponent;
        let sum = self.powered_sum(grid, probes);
        let data = SurrogateModel::fill(grid, &sum, tb as f32, |s| {
            if s > 0.0 { (tb - f64::from(s).powf(inv_p).min(max_deficit)) as f32 } else { tb as f32 }
        });
        Ok(Field::from_vec(*grid, data).expect("one value per voxel"))
    }

    /// The voxels at or below each of `isotherms` (same order), from one evaluation.
    pub fn isotherm_masks(
        &self,
        grid: &Grid,
        probes: &[PlacedProbe],
        isotherms: &[Celsius],
    ) -> Result<Vec<Mask>, CryoError> {
        self.check_probes(probes)?;
        let sum = self.powered_sum(grid, probes);
        Ok(isotherms
            .iter()
            .map(|&iso| {
                let limit = self.powered_limit(iso);
                // Outside the box the sum is 0, inside only where no probe reaches.
                let data = SurrogateModel::fill(grid, &sum, 0.0 >= limit, |s| s >= limit);
                Mask::from_vec(*grid, data).expect("one value per voxel")
            })
            .collect())
    }

    /// `(T_b − iso)ᵖ`: the powered sum at or above which a voxel is at or below `iso`
    /// (`+∞` when `iso` is below the probe temperature, 0 when at or above the baseline).
    pub(crate) fn powered_limit(&self, iso: Celsius) -> f32 {
        let tb = self.conditions.baseline.0;
        if iso.0 < self.conditions.surface.0 {
            return f32::INFINITY;
        }
        let deficit = tb - iso.0;
        if deficit <= 0.0 { f32::MIN } else { deficit.powf(self.exponent) as f32 }
    }

    /// Σ `Dᵢᵖ` at one point (for the placement search, which samples sparse voxels).
    pub(crate) fn powered_sum_at(&self, probes: &[PlacedProbe], p: [f64; 3]) -> f32 {
        let mut sum = 0.0;
        for probe in probes {
            let (s, r) = probe.axial_radial(cryoseed_core::PatientPoint(p));
            sum += self.powered_deficit(s, r);
        }
        sum
    }

    /// Parses a calibration CSV (see `data/surrogate/README.md`): `# key: value` header lines,
    /// then a table with columns `s_mm` and one per radius.
    pub fn from_csv_str(text: &str) -> Result<SurrogateModel, CryoError> {
        let bad = |line: usize, message: String| CryoError::Surrogate(format!("line {line}: {message}"));
        let mut meta: Vec<(String, String)> = Vec::new();
        let mut rows: Vec<(usize, &str)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            if let Some(rest) = line.strip_prefix('#') {
                if let Some((k, v)) = rest.split_once(':') {
                    meta.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            } else if !line.trim().is_empty() {
                rows.push((line_no, line));
            }
        }
        let get = |key: &str| -> Result<&str, CryoError> {
            meta.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .ok_or_else(|| CryoError::Surrogate(format!("missing header `# {key}:`")))
        };
        let num = |key: &str| -> Result<f64, CryoError> {
            let v = get(key)?;
            v.parse::<f64>().map_err(|_| CryoError::Surrogate(format!("header `{key}`: not a number: `{v}`")))
        };
        let phases = parse_phases(get("phases")?)?;
        let conditions = SurrogateConditions {
            class: get("class")?.to_owned(),
            active_length_mm: num("active_length_mm")?,
            tissue_label: get("tissue")?.to_owned(),
            medium: Medium {
                conductivity_unfrozen_w_per_m_k: num("conductivity_unfrozen_w_per_m_k")?,
                conductivity_frozen_w_per_m_k: num("conductivity_frozen_w_per_m_k")?,
                heat_capacity_unfrozen_j_per_m3_k: num("heat_capacity_unfrozen_j_per_m3_k")?,
                heat_capacity_frozen_j_per_m3_k: num("heat_capacity_frozen_j_per_m3_k")?,
                latent_heat_j_per_m3: num("latent_heat_j_per_m3")?,
                solidus: Celsius(num("solidus_c")?),
                liquidus: Celsius(num("liquidus_c")?),
                perfusion_per_s: num("perfusion_per_s")?,
                blood_heat_capacity_j_per_m3_k: num("blood_heat_capacity_j_per_m3_k")?,
            },
            freeze_thaw: get("freeze_thaw")?.to_owned(),
            phases,
            baseline: Celsius(num("baseline_c")?),
            surface: Celsius(num("surface_c")?),
        };
        let provenance = get("provenance")?.to_owned();
        let exponent = num("exponent")?;
        let step = num("step_mm")?;
        let Some(&(header_line, header)) = rows.first() else {
            return Err(CryoError::Surrogate("no table".into()));
        };
        let columns: Vec<&str> = header.split(',').collect();
        if columns.first() != Some(&"s_mm") || columns.len() < 3 {
            return Err(bad(header_line, "header must be `s_mm,r_0,...`".into()));
        }
        let nr = columns.len() - 1;
        let mut table = Vec::with_capacity((rows.len() - 1) * nr);
        let mut s_start = None;
        for (i, &(line, row)) in rows[1..].iter().enumerate() {
            let cells: Vec<&str> = row.split(',').collect();
            if cells.len() != nr + 1 {
                return Err(bad(line, format!("expected {} values, got {}", nr + 1, cells.len())));
            }
            let parse = |c: &str| c.trim().parse::<f64>().map_err(|_| bad(line, format!("not a number: `{c}`")));
            let s = parse(cells[0])?;
            let start = *s_start.get_or_insert(s);
            if (s - (start + i as f64 * step)).abs() > 1e-6 {
                return Err(bad(line, format!("s_mm {s} breaks the step of {step} mm")));
            }
            for c in &cells[1..] {
                table.push(parse(c)? as f32);
            }
        }
        let ns = rows.len() - 1;
        SurrogateModel::new(conditions, exponent, s_start.unwrap_or(0.0), step, ns, nr, table, provenance)
    }

    /// Writes the model in the layout [`SurrogateModel::from_csv_str`] reads (temperatures to
    /// 0.01 °C).
    pub fn to_csv_string(&self) -> String {
        use std::fmt::Write as _;
        let c = &self.conditions;
        let m = &c.medium;
        let mut out = String::new();
        let mut kv = |k: &str, v: String| {
            let _ = writeln!(out, "# {k}: {v}");
        };
        kv("format", "cryoseed-surrogate-calibration 1".into());
        kv("class", c.class.clone());
        kv("active_length_mm", c.active_length_mm.to_string());
        kv("tissue", c.tissue_label.clone());
        kv("conductivity_unfrozen_w_per_m_k", m.conductivity_unfrozen_w_per_m_k.to_string());
        kv("conductivity_frozen_w_per_m_k", m.conductivity_frozen_w_per_m_k.to_string());
        kv("heat_capacity_unfrozen_j_per_m3_k", m.heat_capacity_unfrozen_j_per_m3_k.to_string());
        kv("heat_capacity_frozen_j_per_m3_k", m.heat_capacity_frozen_j_per_m3_k.to_string());
        kv("latent_heat_j_per_m3", m.latent_heat_j_per_m3.to_string());
        kv("solidus_c", m.solidus.0.to_string());
        kv("liquidus_c", m.liquidus.0.to_string());
        kv("perfusion_per_s", m.perfusion_per_s.to_string());
        kv("blood_heat_capacity_j_per_m3_k", m.blood_heat_capacity_j_per_m3_k.to_string());
        kv("freeze_thaw", c.freeze_thaw.clone());
        kv("phases", format_phases(&c.phases));
        kv("baseline_c", c.baseline.0.to_string());
        kv("surface_c", c.surface.0.to_string());
        kv("exponent", self.exponent.to_string());
        kv("step_mm", self.step_mm.to_string());
        kv("provenance", self.provenance.clone());
        out.push_str("s_mm");
        for ir in 0..self.nr {
            let _ = write!(out, ",r_{}", ir as f64 * self.step_mm);
        }
        out.push('\n');
        for is in 0..self.ns {
            let _ = write!(out, "{}", self.s_start_mm + is as f64 * self.step_mm);
            for ir in 0..self.nr {
                let _ = write!(out, ",{:.2}", self.table_c[is * self.nr + ir]);
            }
            out.push('\n');
        }
        out
    }

    /// Whether this calibration applies to these conditions (class, medium, sequence, baseline,
    /// probe temperature; the tissue label is not compared).
    pub fn applies_to(
        &self,
        class: &crate::ProbeClass,
        medium: &Medium,
        phases: &[FreezeThawPhase],
        baseline: Celsius,
        surface: Celsius,
    ) -> bool {
        let c = &self.conditions;
        c.class == class.name
            && c.active_length_mm == class.active_length.0
            && c.medium == *medium
            && c.phases == phases
            && c.baseline == baseline
            && c.surface == surface
    }
}

fn format_phases(phases: &[FreezeThawPhase]) -> String {
    phases
        .iter()
        .map(|p| format!("{} {}", if p.kind == PhaseKind::Freeze { "freeze" } else { "thaw" }, p.minutes.0))
        .collect::<Vec<_>>()
        .join("; ")
}

fn parse_phases(text: &str) -> Result<Vec<FreezeThawPhase>, CryoError> {
    text.split(';')
        .map(|part| {
            let mut it = part.split_whitespace();
            let (Some(kind), Some(minutes), None) = (it.next(), it.next(), it.next()) else {
                return Err(CryoError::Surrogate(format!("phases: `{part}` is not `freeze|thaw MINUTES`")));
            };
            let kind = match kind {
                "freeze" => PhaseKind::Freeze,
                "thaw" => PhaseKind::Thaw,
                other => return Err(CryoError::Surrogate(format!("phases: unknown kind `{other}`"))),
            };
            let minutes = minutes
                .parse::<f64>()
                .map_err(|_| CryoError::Surrogate(format!("phases: `{minutes}` is not a number of minutes")))?;
            Ok(FreezeThawPhase { kind, minutes: cryoseed_core::Minutes(minutes) })
        })
        .collect()
}

/// A set of calibrations, searched by conditions.
#[derive(Clone, Debug, PartialEq)]
pub struct SurrogateLibrary {
    models: Vec<SurrogateModel>,
}

impl SurrogateLibrary {
    /// The shipped calibrations ([`SHIPPED_CALIBRATIONS`]).
    pub fn shipped() -> SurrogateLibrary {
        SurrogateLibrary {
            models: SHIPPED_CALIBRATIONS
                .iter()
                .map(|(name, text)| {
                    SurrogateModel::from_csv_str(text)
                        .unwrap_or_else(|e| panic!("shipped surrogate calibration {name} is invalid: {e}"))
                })
                .collect(),
        }
    }

    /// A library of the given models.
    pub fn new(models: Vec<SurrogateModel>) -> SurrogateLibrary {
        SurrogateLibrary { models }
    }

    /// The models, in order.
    pub fn models(&self) -> &[SurrogateModel] {
        &self.models
    }

    /// The first model calibrated for exactly these conditions; otherwise an error listing what
    /// exists.
    pub fn find(
        &self,
        class: &crate::ProbeClass,
        medium: &Medium,
        phases: &[FreezeThawPhase],
        baseline: Celsius,
        surface: Celsius,
    ) -> Result<&SurrogateModel, CryoError> {
        self.models.iter().find(|m| m.applies_to(class, medium, phases, baseline, surface)).ok_or_else(|| {
            let known: Vec<String> = self
                .models
                .iter()
                .map(|m| format!("{} in {} tissue, {}", m.conditions.class, m.conditions.tissue_label, m.conditions.freeze_thaw))
                .collect();
            CryoError::Surrogate(format!(
                "no calibration for class `{}` with these tissue properties, sequence and temperatures (calibrated: {}); \
                 run the calibrate_surrogate example for them",
                class.name,
                known.join("; ")
            ))
        })
    }
}

/// Dice similarity `2|A∩B| / (|A| + |B|)` of two masks on the same grid (1 for two empty masks).
pub fn dice(a: &Mask, b: &Mask) -> f64 {
    let (x, y) = (a.as_slice(), b.as_slice());
    let both = x.iter().zip(y).filter(|(p, q)| **p && **q).count();
    let total = a.count() + b.count();
    if total == 0 { 1.0 } else { 2.0 * both as f64 / total as f64 }
}

/// One multi-probe solver run used to fit the exponent.
#[derive(Clone, Debug)]
pub struct FitCase {
    /// The probes.
    pub probes: Vec<PlacedProbe>,
    /// The solver's minimum-temperature field.
    pub min_temperature: Field<f32>,
}

/// The exponent in `candidates` that maximises the mean Dice of the surrogate's isotherms with
/// the solver's over `cases` and `isotherms` (the first candidate wins ties), with that mean.
pub fn fit_exponent(
    model: &SurrogateModel,
    cases: &[FitCase],
    isotherms: &[Celsius],
    candidates: &[f64],
) -> Result<(f64, f64), CryoError> {
    let mut best: Option<(f64, f64)> = None;
    for &p in candidates {
        let m = model.with_exponent(p)?;
        let mut total = 0.0;
        let mut n = 0usize;
        for case in cases {
            let grid = case.min_temperature.grid();
            let masks = m.isotherm_masks(grid, &case.probes, isotherms)?;
            for (mask, &iso) in masks.iter().zip(isotherms) {
                total += dice(mask, &crate::isotherm::isotherm_mask(&case.min_temperature, iso));
                n += 1;
            }
        }
        let mean = total / n.max(1) as f64;
        if best.is_none_or(|(_, b)| mean > b) {
            best = Some((p, mean));
        }
    }
    best.ok_or_else(|| CryoError::Surrogate("no candidate exponent".into()))
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

fn normalise(a: [f64; 3]) -> [f64; 3] {
    let n = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    a.map(|v| v / n)
}
