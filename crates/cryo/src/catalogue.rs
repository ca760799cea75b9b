//! The probe catalogue: probe classes as data (shipped CSV, or a site's vendor CSV in the same
//! layout).

use crate::CryoError;
use cryoseed_core::{Celsius, Mm};

/// The shipped catalogue (`data/catalogue.csv`; provenance in `data/README.md`).
pub const SHIPPED_CATALOGUE_CSV: &str = include_str!("../data/catalogue.csv");

/// The published measurements the shipped catalogue is calibrated to (`data/probes.csv`).
pub const MEASURED_ISOTHERMS_CSV: &str = include_str!("../data/probes.csv");

/// The isotherms the catalogue tabulates, °C, with their column stem.
pub const CATALOGUE_ISOTHERMS: [(f64, &str); 3] = [(0.0, "0c"), (-20.0, "minus20c"), (-40.0, "minus40c")];

/// Single-probe extent of one isotherm after the class's reference freeze.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReferenceIsotherm {
    /// The isotherm.
    pub temperature: Celsius,
    /// Extent along the probe axis, if published.
    pub length: Option<Mm>,
    /// Extent across the probe axis (diameter), if published.
    pub width: Option<Mm>,
}

/// One probe class of the catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeClass {
    /// Name used in probe files, e.g. `2.4mm-argon`.
    pub name: String,
    /// Free-text description.
    pub description: String,
    /// Outer diameter of the probe.
    pub outer_diameter: Mm,
    /// Length of the cold segment, measured back from the tip.
    pub active_length: Mm,
    /// Probe surface temperature during a freeze; `None` = the protocol's default.
    pub surface_temperature: Option<Celsius>,
    /// Conditions of the reference isotherms (freeze protocol).
    pub reference_freeze: String,
    /// Conditions of the reference isotherms (medium).
    pub reference_medium: String,
    /// Reference isotherms at 0, −20 and −40 °C (fields empty when not published).
    pub isotherms: Vec<ReferenceIsotherm>,
    /// Which measurements the numbers are calibrated to.
    pub calibrated_to: String,
    /// Which numbers are assumptions.
    pub assumptions: String,
}

impl ProbeClass {
    /// Radius of the probe (half the outer diameter).
    pub fn radius(&self) -> Mm {
        self.outer_diameter / 2.0
    }

    /// The surface temperature during a freeze: the catalogue's, else `protocol_default`
    /// (`cryo.probe_surface_temperature_c`).
    pub fn surface_temperature_or(&self, protocol_default: Celsius) -> Celsius {
        self.surface_temperature.unwrap_or(protocol_default)
    }

    /// The reference isotherm at `temperature`, if the catalogue tabulates it.
    pub fn reference_isotherm(&self, temperature: Celsius) -> Option<&ReferenceIsotherm> {
        self.isotherms.iter().find(|i| i.temperature == temperature)
    }
}

/// A set of probe classes, in file order, with unique names.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeCatalogue {
    classes: Vec<ProbeClass>,
}

const COLUMNS: [&str; 15] = [
    "class",
    "description",
    "outer_diameter_mm",
    "active_length_mm",
    "surface_temperature_c",
    "reference_freeze",
    "reference_medium",
    "iso_0c_length_mm",
    "iso_0c_width_mm",
    "iso_minus20c_length_mm",
    "iso_minus20c_width_mm",
    "iso_minus40c_length_mm",
    "iso_minus40c_width_mm",
    "calibrated_to",
    "assumptions",
];

impl ProbeCatalogue {
    /// The catalogue shipped with cryoseed (`data/catalogue.csv`).
    pub fn shipped() -> ProbeCatalogue {
        ProbeCatalogue::from_csv_str(SHIPPED_CATALOGUE_CSV).expect("the shipped catalogue is valid (tested)")
    }

    /// Parses a catalogue in the layout of `data/catalogue.csv` (header row with the columns
    /// listed in `data/README.md`, in any order; extra columns are ignored).
    ///
    /// Errors name the line and column: a missing column, an empty or non-numeric number, a
    /// non-positive diameter or length, a surface temperature not below the lowest tabulated
    /// isotherm, a duplicate class.
    pub fn from_csv_str(text: &str) -> Result<ProbeCatalogue, CryoError> {
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| CryoError::CatalogueCsv(e.to_string()))?.clone();
        let mut position = [0usize; COLUMNS.len()];
        for (slot, column) in position.iter_mut().zip(COLUMNS) {
            *slot = headers.iter().position(|h| h == column).ok_or(CryoError::CatalogueColumn { column })?;
        }
        let mut classes: Vec<ProbeClass> = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| CryoError::CatalogueCsv(e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |n: usize| record.get(position[n]).unwrap_or("");
            let row_error =
                |n: usize, message: String| CryoError::CatalogueRow { line, column: COLUMNS[n].to_owned(), message };
            let number = |n: usize| -> Result<Option<f64>, CryoError> {
                let text = field(n);
                if text.is_empty() {
                    return Ok(None);
                }
                match text.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Some(v)),
                    _ => Err(row_error(n, format!("not a number: `{text}`"))),
                }
            };
            let positive = |n: usize| -> Result<Mm, CryoError> {
                match number(n)? {
                    Some(v) if v > 0.0 => Ok(Mm(v)),
                    Some(v) => Err(row_error(n, format!("must be > 0, got {v}"))),
                    None => Err(row_error(n, "required".into())),
                }
            };
            let optional_length = |n: usize| -> Result<Option<Mm>, CryoError> {
                match number(n)? {
                    Some(v) if v <= 0.0 => Err(row_error(n, format!("must be > 0 when given, got {v}"))),
                    other => Ok(other.map(Mm)),
                }
            };
            let name = field(0).to_owned();
            if name.is_empty() {
                return Err(row_error(0, "required".into()));
            }
            if classes.iter().any(|c| c.name == name) {
                return Err(row_error(0, format!("duplicate class `{name}`")));
            }
            let surface_temperature = number(4)?.map(Celsius);
            if let Some(t) = surface_temperature
                && t.0 >= -40.0
            {
                return Err(row_error(4, format!("must be below -40 (the coldest tabulated isotherm), got {}", t.0)));
            }
            let isotherms = CATALOGUE_ISOTHERMS
                .iter()
                .enumerate()
                .map(|(i, &(t, _))| {
                    Ok(ReferenceIsotherm {
                        temperature: Celsius(t),
                        length: optional_length(7 + 2 * i)?,
                        width: optional_length(8 + 2 * i)?,
                    })
                })
                .collect::<Result<Vec<_>, CryoError>>()?;
            classes.push(ProbeClass {
                name,
                description: field(1).to_owned(),
                outer_diameter: positive(2)?,
                active_length: positive(3)?,
                surface_temperature,
                reference_freeze: field(5).to_owned(),
                reference_medium: field(6).to_owned(),
                isotherms,
                calibrated_to: field(13).to_owned(),
                assumptions: field(14).to_owned(),
            });
        }
        if classes.is_empty() {
            return Err(CryoError::CatalogueCsv("no probe class (the file has a header only)".into()));
        }
        Ok(ProbeCatalogue { classes })
    }

    /// The classes, in file order.
    pub fn classes(&self) -> &[ProbeClass] {
        &self.classes
    }

    /// The class called `name`, or an error listing the known classes.
    pub fn class(&self, name: &str) -> Result<&ProbeClass, CryoError> {
        self.classes.iter().find(|c| c.name == name).ok_or_else(|| CryoError::UnknownProbeClass {
            name: name.to_owned(),
            known: self.classes.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
}
