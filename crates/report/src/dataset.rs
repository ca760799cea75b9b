//! Tabular datasets for exports: one [`Table`] is written as CSV, as a member of a SAS transport
//! file ([`crate::xpt`]) and described in a data dictionary (variables, labels, types,
//! codelists), so the three can never disagree.
//!
//! Cells are text or numbers (`None` = missing). Numbers are written in CSV with Rust's shortest
//! round-trip form (`3`, `0.125`), so the CSV and the XPT hold the same values.

use crate::xpt::{self, Column, XptError};
use serde::Serialize;

/// The type of a variable (SAS transport has only these two).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Character.
    Text,
    /// Numeric (8-byte float).
    Number,
}

/// A variable's definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Spec {
    /// Name (≤ 8 characters, upper case).
    pub name: &'static str,
    /// Label (≤ 40 characters).
    pub label: &'static str,
    /// Type.
    pub kind: Kind,
    /// Controlled terminology or format, when one applies (`RECIST 1.1 response (RSSTRESC)`,
    /// `ISO 8601 date`, `SAS date (days since 1960-01-01)`).
    pub codelist: Option<&'static str>,
}

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Text (empty = missing).
    Text(String),
    /// Number (`None` = missing).
    Number(Option<f64>),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Cell {
        Cell::Text(s.unwrap_or_default())
    }
}

impl From<f64> for Cell {
    fn from(x: f64) -> Cell {
        Cell::Number(Some(x))
    }
}

impl From<Option<f64>> for Cell {
    fn from(x: Option<f64>) -> Cell {
        Cell::Number(x)
    }
}

impl From<i64> for Cell {
    fn from(x: i64) -> Cell {
        Cell::Number(Some(x as f64))
    }
}

impl From<Option<i64>> for Cell {
    fn from(x: Option<i64>) -> Cell {
        Cell::Number(x.map(|v| v as f64))
    }
}

/// A dataset: name, label, variables and rows (each row one cell per variable).
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Dataset name (`DM`, `ADSL`, `patients`).
    pub name: String,
    /// Dataset label.
    pub label: String,
    /// The variables, in order.
    pub specs: Vec<Spec>,
    /// The rows.
    pub rows: Vec<Vec<Cell>>,
}

/// A shorthand for a text variable.
pub const fn text(name: &'static str, label: &'static str) -> Spec {
    Spec { name, label, kind: Kind::Text, codelist: None }
}

/// A shorthand for a numeric variable.
pub const fn num(name: &'static str, label: &'static str) -> Spec {
    Spec { name, label, kind: Kind::Number, codelist: None }
}

impl Spec {
    /// The same variable with a codelist or format.
    pub const fn coded(self, codelist: &'static str) -> Spec {
        Spec { codelist: Some(codelist), ..self }
    }
}

impl Table {
    /// An empty table.
    pub fn new(name: &str, label: &str, specs: Vec<Spec>) -> Table {
        Table { name: name.to_owned(), label: label.to_owned(), specs, rows: Vec::new() }
    }

    /// Appends a row; panics when the row does not match the variables (a programming error in
    /// the builders, caught by their tests).
    pub fn push(&mut self, row: Vec<Cell>) {
        assert_eq!(
            row.len(),
            self.specs.len(),
            "{}: row of {} cells for {} variables",
            self.name,
            row.len(),
            self.specs.len()
        );
        for (cell, spec) in row.iter().zip(&self.specs) {
            let ok = matches!((cell, spec.kind), (Cell::Text(_), Kind::Text) | (Cell::Number(_), Kind::Number));
            assert!(ok, "{}.{}: cell {cell:?} does not match the variable's type", self.name, spec.name);
        }
        self.rows.push(row);
    }

    /// The index of a variable.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.specs.iter().position(|s| s.name == name)
    }

    /// The text values of a variable (numbers formatted as in the CSV).
    pub fn values(&self, name: &str) -> Vec<String> {
        let Some(i) = self.column(name) else { return Vec::new() };
        self.rows.iter().map(|r| cell_text(&r[i])).collect()
    }

    /// CSV (RFC 4180, `\n` line ends, a header of variable names).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.specs.iter().map(|s| quote(s.name)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| quote(&cell_text(c))).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// The table as a transport-file member. Character lengths are the longest value (≥ 1).
    pub fn to_xpt(&self) -> xpt::Dataset {
        let variables = self
            .specs
            .iter()
            .enumerate()
            .map(|(i, spec)| xpt::Variable {
                name: spec.name.to_owned(),
                label: spec.label.to_owned(),
                column: match spec.kind {
                    Kind::Number => Column::Numeric(
                        self.rows
                            .iter()
                            .map(|r| match &r[i] {
                                Cell::Number(x) => *x,
                                Cell::Text(_) => None,
                            })
                            .collect(),
                    ),
                    Kind::Text => Column::text(
                        self.rows
                            .iter()
                            .map(|r| match &r[i] {
                                Cell::Text(s) => s.clone(),
                                Cell::Number(_) => String::new(),
                            })
                            .collect(),
                    ),
                },
            })
            .collect();
        xpt::Dataset { name: self.name.clone(), label: self.label.clone(), variables }
    }

    /// The table alone as a transport file (one dataset per file, as FDA submissions expect).
    pub fn xpt_bytes(&self, timestamp: &str) -> Result<Vec<u8>, XptError> {
        xpt::write_xpt(&[self.to_xpt()], timestamp)
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => s.clone(),
        Cell::Number(Some(x)) => format!("{x}"),
        Cell::Number(None) => String::new(),
    }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// One line of a data dictionary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DictionaryEntry {
    /// Dataset.
    pub dataset: String,
    /// Dataset label.
    pub dataset_label: String,
    /// Position of the variable (1-based).
    pub order: usize,
    /// Variable name.
    pub variable: &'static str,
    /// Label.
    pub label: &'static str,
    /// `text` or `number`.
    #[serde(rename = "type")]
    pub kind: Kind,
    /// Stored length in bytes (text: the longest value; numbers: 8).
    pub length: usize,
    /// Codelist or format.
    pub codelist: Option<&'static str>,
}

/// The data dictionary of a set of tables (define-like: every variable with label, type, length
/// and codelist).
pub fn dictionary(tables: &[Table]) -> Vec<DictionaryEntry> {
    let mut out = Vec::new();
    for t in tables {
        for (i, s) in t.specs.iter().enumerate() {
            let length = match s.kind {
                Kind::Number => 8,
                Kind::Text => t
                    .rows
                    .iter()
                    .map(|r| match &r[i] {
                        Cell::Text(v) => v.len(),
                        Cell::Number(_) => 0,
                    })
                    .max()
                    .unwrap_or(1)
                    .max(1),
            };
            out.push(DictionaryEntry {
                dataset: t.name.clone(),
                dataset_label: t.label.clone(),
                order: i + 1,
                variable: s.name,
                label: s.label,
                kind: s.kind,
                length,
                codelist: s.codelist,
            });
        }
    }
    out
}

/// The dictionary as CSV.
pub fn dictionary_csv(entries: &[DictionaryEntry]) -> String {
    let mut out = String::from("dataset,dataset_label,order,variable,label,type,length,codelist\n");
    for e in entries {
        let kind = match e.kind {
            Kind::Text => "text",
            Kind::Number => "number",
        };
        let cells = [
            quote(&e.dataset),
            quote(&e.dataset_label),
            e.order.to_string(),
            quote(e.variable),
            quote(e.label),
            kind.to_owned(),
            e.length.to_string(),
            quote(e.codelist.unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// The dictionary as pretty JSON (`{"format": "cryoseed-dictionary", "version": 1, ...}`).
pub fn dictionary_json(entries: &[DictionaryEntry], standard: &str) -> String {
    let doc = serde_json::json!({
        "format": "cryoseed-dictionary",
        "version": 1,
        "standard": standard,
        "variables": entries,
    });
    serde_json::to_string_pretty(&doc).expect("dictionary serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_formats_numbers_like_the_transport_values() {
        let mut t = Table::new("X", "Test", vec![text("A", "Text"), num("B", "Number")]);
        t.push(vec!["a,\"b\"".into(), 0.125.into()]);
        t.push(vec!["".into(), Cell::Number(None)]);
        t.push(vec!["c".into(), 3.0.into()]);
        assert_eq!(t.to_csv(), "A,B\n\"a,\"\"b\"\"\",0.125\n,\n3\n".replace("\n3\n", "\nc,3\n"));
        let d = dictionary(&[t]);
        // The longest text value, `a,"b"`, is 5 bytes (its CSV quoting is not stored).
        assert_eq!(d[0].length, 5);
        assert_eq!(d[1].length, 8);
    }
}
