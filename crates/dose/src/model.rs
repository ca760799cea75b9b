//! Seed models: the published TG-43U1 data of one seed model and the report's interpolation
//! rules on it.
//!
//! A [`SeedModel`] is parsed from CSV text (pure: no files), in the layout of
//! `data/tg43/` (see that folder's README): a `meta` table (`key,value,unit,source` with
//! `model`, `Lambda` in cGy h⁻¹ U⁻¹, `L_active` in cm, `half_life` in d), the line-source radial
//! dose function `r_cm,gL`, the 2-D anisotropy function (`theta_deg,r1,r2,…`, one row per polar
//! angle from 0° to 90°), and optionally the 1-D anisotropy function `r_cm,phi_an`. A model
//! without a published φ_an gets one derived from F by TG-43U1 Eq. 10 ([`derive_phi_an`]).
//!
//! # Interpolation and extrapolation (what is implemented, exactly)
//!
//! - g_L(r): linear in r between tabulated radii (TG-43U1 recommends linear interpolation of
//!   finely tabulated data); below the smallest tabulated radius the value at that radius
//!   (nearest neighbour); beyond the largest, the exponential through the last two points,
//!   g(r) = g_n·(g_n/g_{n−1})^((r−r_n)/(r_n−r_{n−1})) (TG-43U1 recommendations on extrapolation
//!   of g_L, as restated in the 2007 supplement).
//! - F(r, θ): bilinear in (r, θ) between tabulated nodes; for r outside the tabulated radii, F at
//!   the nearest tabulated radius (still linear in θ). The tables cover θ = 0°…90°; I-125 seeds
//!   are symmetric about their transverse plane, so F(r, θ) = F(r, 180° − θ).
//! - φ_an(r): linear in r; outside the tabulated radii, the value at the nearest radius.
//!
//! At every tabulated node these rules return the tabulated number itself: no interpolation
//! error (tested).

use crate::DoseError;
use cryoseed_core::{Cm, Days};

/// A function of r tabulated at increasing radii (cm).
#[derive(Clone, Debug, PartialEq)]
pub struct RadialTable {
    r_cm: Vec<f64>,
    values: Vec<f64>,
}

impl RadialTable {
    /// Radii (cm), strictly increasing.
    pub fn radii_cm(&self) -> &[f64] {
        &self.r_cm
    }

    /// Tabulated values, one per radius.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Index `i` with `r_i ≤ r < r_{i+1}` and the fraction, for `r` inside the table.
    fn bracket(&self, r: f64) -> (usize, f64) {
        bracket(&self.r_cm, r)
    }

    /// Linear interpolation; nearest value outside the table.
    fn linear_nearest(&self, r: f64) -> f64 {
        let (i, t) = self.bracket(r);
        if t == 0.0 { self.values[i] } else { self.values[i] + t * (self.values[i + 1] - self.values[i]) }
    }
}

/// `(i, t)` with `xs[i] ≤ x ≤ xs[i+1]`, `x = xs[i] + t·(xs[i+1] − xs[i])`; clamped to the ends
/// (`t = 0` at the first or last node).
fn bracket(xs: &[f64], x: f64) -> (usize, f64) {
    let n = xs.len();
    if n == 1 || x <= xs[0] {
        return (0, 0.0);
    }
    if x >= xs[n - 1] {
        return (n - 1, 0.0);
    }
    // First index whose radius exceeds x, minus one.
    let i = xs.partition_point(|&v| v <= x) - 1;
    let t = (x - xs[i]) / (xs[i + 1] - xs[i]);
    (i, t)
}

/// The 2-D anisotropy function F(r, θ) on its table: radii (cm) × polar angles (degrees, 0…90).
#[derive(Clone, Debug, PartialEq)]
pub struct AnisotropyTable {
    r_cm: Vec<f64>,
    theta_deg: Vec<f64>,
    /// `values[a][i]` = F(r_i, θ_a).
    values: Vec<Vec<f64>>,
}

impl AnisotropyTable {
    /// Radii (cm), strictly increasing.
    pub fn radii_cm(&self) -> &[f64] {
        &self.r_cm
    }

    /// Polar angles (degrees), strictly increasing from 0 to 90.
    pub fn angles_deg(&self) -> &[f64] {
        &self.theta_deg
    }

    /// The tabulated F(r_i, θ_a).
    pub fn value(&self, angle_index: usize, radius_index: usize) -> f64 {
        self.values[angle_index][radius_index]
    }

    /// F(r, θ) by the module's rules; `theta_deg` in 0…180.
    fn interpolate(&self, r: f64, theta_deg: f64) -> f64 {
        let theta = if theta_deg > 90.0 { 180.0 - theta_deg } else { theta_deg };
        let (i, u) = bracket(&self.r_cm, r);
        let (a, v) = bracket(&self.theta_deg, theta);
        let at = |a: usize| {
            let row = &self.values[a];
            if u == 0.0 { row[i] } else { row[i] + u * (row[i + 1] - row[i]) }
        };
        let lo = at(a);
        if v == 0.0 { lo } else { lo + v * (at(a + 1) - lo) }
    }
}

/// Where a model's 1-D anisotropy function comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhiAnSource {
    /// Transcribed from the consensus report.
    Published,
    /// Derived by integrating F over solid angle (TG-43U1 Eq. 10): no published table was given.
    DerivedFromF,
}

/// The published TG-43U1 data of one I-125 seed model.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedModel {
    id: String,
    name: String,
    report: String,
    dose_rate_constant: f64,
    active_length: Cm,
    half_life: Days,
    radial_dose: RadialTable,
    anisotropy: AnisotropyTable,
    anisotropy_factor: RadialTable,
    phi_an_source: PhiAnSource,
    caveat: Option<String>,
}

impl SeedModel {
    /// Parses a model from the CSV texts of its tables (layout in the module docs). `id` is the
    /// short name used on the command line and in seed lists (e.g. `6711`). Without `phi_an_csv`
    /// the 1-D anisotropy function is derived from F ([`derive_phi_an`]).
    pub fn parse(
        id: &str,
        meta_csv: &str,
        gl_csv: &str,
        f_csv: &str,
        phi_an_csv: Option<&str>,
    ) -> Result<SeedModel, DoseError> {
        if id.trim().is_empty() {
            return Err(DoseError::parameter("model id", "must not be empty"));
        }
        let meta = parse_meta(meta_csv)?;
        let radial_dose = parse_radial("gL", gl_csv, "gL")?;
        let anisotropy = parse_anisotropy(f_csv)?;
        let mut model = SeedModel {
            id: id.trim().to_owned(),
            name: meta.name,
            report: meta.report,
            dose_rate_constant: meta.lambda,
            active_length: Cm(meta.length_cm),
            half_life: Days(meta.half_life_d),
            radial_dose,
            anisotropy,
            anisotropy_factor: RadialTable { r_cm: vec![1.0], values: vec![1.0] },
            phi_an_source: PhiAnSource::Published,
            caveat: None,
        };
        match phi_an_csv {
            Some(text) => model.anisotropy_factor = parse_radial("phi_an", text, "phi_an")?,
            None => {
                let radii = model.anisotropy.r_cm.clone();
                let values = radii.iter().map(|&r| derive_phi_an(&model, Cm(r))).collect();
                model.anisotropy_factor = RadialTable { r_cm: radii, values };
                model.phi_an_source = PhiAnSource::DerivedFromF;
            }
        }
        Ok(model)
    }

    /// Marks the model with a caveat (e.g. "unverified") that every output using it must show.
    pub fn with_caveat(mut self, caveat: impl Into<String>) -> SeedModel {
        self.caveat = Some(caveat.into());
        self
    }

    /// Short id (`6711`, `6702`, `best2301`, `iai125a`, or the id given to [`SeedModel::parse`]).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Full model name from the meta table.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The consensus report the data come from.
    pub fn report(&self) -> &str {
        &self.report
    }

    /// Dose-rate constant Λ in cGy h⁻¹ U⁻¹ (TG-43U1 Eq. 3: dose rate at r0 = 1 cm, θ0 = 90° per
    /// unit air-kerma strength).
    pub fn dose_rate_constant_cgy_per_h_per_u(&self) -> f64 {
        self.dose_rate_constant
    }

    /// Active length L of the line source.
    pub fn active_length(&self) -> Cm {
        self.active_length
    }

    /// Half-life of the radionuclide.
    pub fn half_life(&self) -> Days {
        self.half_life
    }

    /// The g_L table.
    pub fn radial_dose_table(&self) -> &RadialTable {
        &self.radial_dose
    }

    /// The F(r, θ) table.
    pub fn anisotropy_table(&self) -> &AnisotropyTable {
        &self.anisotropy
    }

    /// The φ_an table (published or derived, see [`SeedModel::phi_an_source`]).
    pub fn anisotropy_factor_table(&self) -> &RadialTable {
        &self.anisotropy_factor
    }

    /// Whether φ_an was published or derived from F.
    pub fn phi_an_source(&self) -> PhiAnSource {
        self.phi_an_source
    }

    /// A caveat every output using this model must show (e.g. Best 2301: F table unverified).
    pub fn caveat(&self) -> Option<&str> {
        self.caveat.as_deref()
    }

    /// Line-source radial dose function g_L(r) (TG-43U1 Eq. 5 defines it; interpolation and
    /// extrapolation by the module's rules).
    pub fn radial_dose_function(&self, r: Cm) -> f64 {
        let t = &self.radial_dose;
        let n = t.r_cm.len();
        let r = r.0;
        if n >= 2 && r > t.r_cm[n - 1] {
            let (r1, r2) = (t.r_cm[n - 2], t.r_cm[n - 1]);
            let (g1, g2) = (t.values[n - 2], t.values[n - 1]);
            return g2 * (g2 / g1).powf((r - r2) / (r2 - r1));
        }
        t.linear_nearest(r)
    }

    /// 2-D anisotropy function F(r, θ) (TG-43U1, definition of F; bilinear, nearest radius
    /// outside the table, mirrored about 90°). `theta` in radians, 0…π.
    pub fn anisotropy_function(&self, r: Cm, theta_rad: f64) -> f64 {
        self.anisotropy.interpolate(r.0, theta_rad.to_degrees())
    }

    /// 1-D anisotropy function φ_an(r) (TG-43U1 Eq. 10 defines it; linear, nearest outside).
    pub fn anisotropy_factor(&self, r: Cm) -> f64 {
        self.anisotropy_factor.linear_nearest(r.0)
    }
}

/// φ_an(r) by TG-43U1 Eq. 10 from the model's F and the line-source geometry function:
///
/// φ_an(r) = ∫₀^π Ḋ(r,θ) sinθ dθ / (2 Ḋ(r,θ0)) = ½ ∫₀^π [G_L(r,θ)/G_L(r,θ0)] F(r,θ) sinθ dθ,
///
/// with F interpolated linearly in θ between its tabulated angles and mirrored about 90°. The
/// integral is evaluated by composite Simpson's rule on 0.05° steps (3600 intervals); with
/// G_L(r,θ)·sinθ = β/(L·r) the integrand is smooth, so this is exact far below the 3 digits of
/// the tables.
pub fn derive_phi_an(model: &SeedModel, r: Cm) -> f64 {
    const STEPS: usize = 3600;
    let l = model.active_length.0;
    let r_cm = r.0;
    let g_ref = crate::tg43::geometry_function_line(r, std::f64::consts::FRAC_PI_2, model.active_length);
    let integrand = |theta: f64| {
        // G_L·sinθ written as β/(L r) so that θ = 0 needs no special case.
        let (s, c) = theta.sin_cos();
        let rho = r_cm * s;
        let z = r_cm * c;
        let beta = (rho * l).atan2(rho * rho + z * z - l * l / 4.0);
        let g_sin = if l > 0.0 { beta / (l * r_cm) } else { s / (r_cm * r_cm) };
        g_sin / g_ref * model.anisotropy.interpolate(r_cm, theta.to_degrees())
    };
    let h = std::f64::consts::PI / STEPS as f64;
    let mut sum = integrand(0.0) + integrand(std::f64::consts::PI);
    for k in 1..STEPS {
        sum += integrand(k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 };
    }
    0.5 * sum * h / 3.0
}

struct Meta {
    name: String,
    report: String,
    lambda: f64,
    length_cm: f64,
    half_life_d: f64,
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(true).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes())
}

/// A CSV table: its header and its non-empty rows with their 1-based line numbers.
type Records = (Vec<String>, Vec<(usize, Vec<String>)>);

fn records(table: &'static str, text: &str) -> Result<Records, DoseError> {
    let mut rdr = reader(text);
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| DoseError::table(table, 1, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.map_err(|e| DoseError::table(table, line, format!("not valid CSV: {e}")))?;
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let line = rec.position().map_or(line, |p| p.line() as usize);
        rows.push((line, rec.iter().map(str::to_owned).collect()));
    }
    Ok((header, rows))
}

fn number(table: &'static str, line: usize, column: &str, text: &str) -> Result<f64, DoseError> {
    let v: f64 =
        text.parse().map_err(|_| DoseError::table(table, line, format!("{column}: not a number: {text:?}")))?;
    if !v.is_finite() {
        return Err(DoseError::table(table, line, format!("{column}: must be finite, got {text}")));
    }
    Ok(v)
}

fn parse_meta(text: &str) -> Result<Meta, DoseError> {
    let (header, rows) = records("meta", text)?;
    if header.len() < 2 || header[0] != "key" || header[1] != "value" {
        return Err(DoseError::table("meta", 1, format!("header must start with key,value; got {}", header.join(","))));
    }
    let find = |key: &str| rows.iter().find(|(_, r)| r[0] == key);
    let required = |key: &'static str, unit: &str| -> Result<f64, DoseError> {
        let (line, row) = find(key).ok_or_else(|| DoseError::table("meta", 0, format!("missing key {key}")))?;
        let value = number("meta", *line, key, row.get(1).map_or("", String::as_str))?;
        if let Some(u) = row.get(2)
            && !u.is_empty()
            && u != unit
        {
            return Err(DoseError::table("meta", *line, format!("{key}: unit must be {unit:?}, got {u:?}")));
        }
        if value <= 0.0 {
            return Err(DoseError::table("meta", *line, format!("{key}: must be > 0, got {value}")));
        }
        Ok(value)
    };
    let lambda = required("Lambda", "cGy h^-1 U^-1")?;
    let length_cm = required("L_active", "cm")?;
    let half_life_d = required("half_life", "d")?;
    let text_of = |key: &str| find(key).and_then(|(_, r)| r.get(1)).cloned().unwrap_or_default();
    Ok(Meta { name: text_of("model"), report: text_of("consensus_report"), lambda, length_cm, half_life_d })
}

fn parse_radial(table: &'static str, text: &str, value_column: &str) -> Result<RadialTable, DoseError> {
    let (header, rows) = records(table, text)?;
    if header.len() != 2 || header[0] != "r_cm" || header[1] != value_column {
        return Err(DoseError::table(
            table,
            1,
            format!("header must be r_cm,{value_column}; got {}", header.join(",")),
        ));
    }
    let mut r_cm = Vec::with_capacity(rows.len());
    let mut values = Vec::with_capacity(rows.len());
    for (line, row) in &rows {
        if row.len() != 2 {
            return Err(DoseError::table(table, *line, format!("expected 2 fields, got {}", row.len())));
        }
        let r = number(table, *line, "r_cm", &row[0])?;
        let v = number(table, *line, value_column, &row[1])?;
        if r <= 0.0 {
            return Err(DoseError::table(table, *line, format!("r_cm: must be > 0, got {r}")));
        }
        if let Some(&prev) = r_cm.last()
            && r <= prev
        {
            return Err(DoseError::table(table, *line, format!("r_cm: must increase, got {r} after {prev}")));
        }
        if v <= 0.0 {
            return Err(DoseError::table(table, *line, format!("{value_column}: must be > 0, got {v}")));
        }
        r_cm.push(r);
        values.push(v);
    }
    if r_cm.is_empty() {
        return Err(DoseError::table(table, 0, "no rows"));
    }
    Ok(RadialTable { r_cm, values })
}

fn parse_anisotropy(text: &str) -> Result<AnisotropyTable, DoseError> {
    let table = "F";
    let (header, rows) = records(table, text)?;
    if header.len() < 2 || header[0] != "theta_deg" {
        return Err(DoseError::table(table, 1, "header must be theta_deg,r1,r2,... (r in cm)"));
    }
    let mut r_cm = Vec::with_capacity(header.len() - 1);
    for h in &header[1..] {
        let r = number(table, 1, "radius", h)?;
        if r <= 0.0 || r_cm.last().is_some_and(|&p| r <= p) {
            return Err(DoseError::table(table, 1, format!("radii must be > 0 and increasing, got {h}")));
        }
        r_cm.push(r);
    }
    let mut theta_deg = Vec::with_capacity(rows.len());
    let mut values = Vec::with_capacity(rows.len());
    for (line, row) in &rows {
        if row.len() != header.len() {
            return Err(DoseError::table(table, *line, format!("expected {} fields, got {}", header.len(), row.len())));
        }
        let theta = number(table, *line, "theta_deg", &row[0])?;
        if theta_deg.last().is_some_and(|&p| theta <= p) || !(0.0..=90.0).contains(&theta) {
            return Err(DoseError::table(table, *line, format!("theta_deg: must increase within 0..90, got {theta}")));
        }
        let mut out = Vec::with_capacity(r_cm.len());
        for (k, f) in row[1..].iter().enumerate() {
            let v = number(table, *line, &format!("F at r = {} cm", r_cm[k]), f)?;
            if v < 0.0 {
                return Err(DoseError::table(table, *line, format!("F at r = {} cm: must be >= 0, got {v}", r_cm[k])));
            }
            out.push(v);
        }
        theta_deg.push(theta);
        values.push(out);
    }
    if theta_deg.first() != Some(&0.0) || theta_deg.last() != Some(&90.0) {
        return Err(DoseError::table(table, 0, "theta_deg must run from 0 to 90 (the seed is symmetric about 90°)"));
    }
    Ok(AnisotropyTable { r_cm, theta_deg, values })
}
