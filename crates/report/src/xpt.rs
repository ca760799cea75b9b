//! SAS transport files, version 5 (XPORT), the format regulators take CDISC datasets in
//! (SAS Institute, "The record layout of a data set in SAS transport (XPORT) format", TS-140).
//!
//! Layout: 80-byte records. A library header (3 records), then per dataset a member header, a
//! descriptor header, two member records, a namestr header with the variable count, one
//! 140-byte *namestr* per variable (padded to a whole record), an observation header, and the
//! observations, each the variables' bytes in order, padded with blanks to a whole record at the
//! end. Numbers are 8-byte IBM System/360 hexadecimal floating point, big-endian; a missing
//! number is `.` followed by seven zero bytes; character values are blank-padded.
//!
//! IEEE doubles convert to IBM exactly (IBM keeps 56 fraction bits, IEEE 53): the only
//! refusals are magnitudes outside IBM's range (about 5.4e-79 to 7.2e75), NaN and infinities.
//!
//! Names are at most 8 characters (letters, digits, underscore, not starting with a digit),
//! labels at most 40, character values at most 200 bytes, as version 5 requires.

use std::fmt;

/// One column of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// Numeric values (`None` is missing).
    Numeric(Vec<Option<f64>>),
    /// Character values, stored with the given byte length.
    Character {
        /// Stored length in bytes (1–200).
        length: usize,
        /// The values (ASCII; shorter ones are blank-padded).
        values: Vec<String>,
    },
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Character { values, .. } => values.len(),
        }
    }

    fn width(&self) -> usize {
        match self {
            Column::Numeric(_) => 8,
            Column::Character { length, .. } => *length,
        }
    }

    /// A character column as wide as its longest value (at least 1).
    pub fn text(values: Vec<String>) -> Column {
        let length = values.iter().map(String::len).max().unwrap_or(1).max(1);
        Column::Character { length, values }
    }
}

/// A variable: name, label, column.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// Name (≤ 8 characters, upper-cased when written).
    pub name: String,
    /// Label (≤ 40 characters).
    pub label: String,
    /// The values.
    pub column: Column,
}

/// A dataset (a member of the library).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Name (≤ 8 characters), e.g. `ADSL`.
    pub name: String,
    /// Label (≤ 40 characters).
    pub label: String,
    /// Variables, in order.
    pub variables: Vec<Variable>,
}

/// Why a dataset cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XptError {
    /// Dataset, and variable or row where it applies (`ADSL.AGE row 3`).
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for XptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for XptError {}

/// Writes `datasets` as one transport file. `timestamp` is the creation and modification time
/// written in the headers, as `ddMMMyy:hh:mm:ss` (e.g. `28NOV26:00:00:00`): the caller passes the
/// data snapshot's time so that the file is a function of the data only.
pub fn write_xpt(datasets: &[Dataset], timestamp: &str) -> Result<Vec<u8>, XptError> {
    let stamp = check_timestamp(timestamp)?;
    let mut out = Vec::new();
    record(&mut out, b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000");
    let mut r2 = Vec::new();
    r2.extend_from_slice(b"SAS     SAS     SASLIB  9.4     ");
    r2.extend_from_slice(b"cryoseed");
    r2.extend_from_slice(&[b' '; 24]);
    r2.extend_from_slice(stamp.as_bytes());
    record(&mut out, &r2);
    let mut r3 = stamp.as_bytes().to_vec();
    r3.extend_from_slice(&[b' '; 64]);
    record(&mut out, &r3);
    for ds in datasets {
        write_member(&mut out, ds, &stamp)?;
    }
    Ok(out)
}

fn check_timestamp(t: &str) -> Result<String, XptError> {
    let ok = t.len() == 16
        && t.is_ascii()
        && t.as_bytes()[7] == b':'
        && t.as_bytes()[10] == b':'
        && t.as_bytes()[13] == b':';
    if ok {
        Ok(t.to_owned())
    } else {
        Err(XptError { location: "timestamp".into(), message: format!("{t:?} is not ddMMMyy:hh:mm:ss") })
    }
}

fn record(out: &mut Vec<u8>, bytes: &[u8]) {
    debug_assert!(bytes.len() <= 80);
    out.extend_from_slice(bytes);
    out.extend(std::iter::repeat_n(b' ', 80 - bytes.len()));
}

fn padded(text: &str, width: usize) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    b.resize(width, b' ');
    b
}

fn check_name(name: &str, location: &str) -> Result<String, XptError> {
    let valid = !name.is_empty()
        && name.len() <= 8
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(name.to_ascii_uppercase())
    } else {
        Err(XptError {
            location: location.to_owned(),
            message: format!("name {name:?} must be 1–8 letters, digits or underscores, not starting with a digit"),
        })
    }
}

fn check_label(label: &str, location: &str) -> Result<(), XptError> {
    if label.len() > 40 || !label.is_ascii() {
        return Err(XptError {
            location: location.to_owned(),
            message: format!("label {label:?} must be ASCII, ≤ 40 characters"),
        });
    }
    Ok(())
}

fn write_member(out: &mut Vec<u8>, ds: &Dataset, stamp: &str) -> Result<(), XptError> {
    let name = check_name(&ds.name, &format!("dataset {}", ds.name))?;
    check_label(&ds.label, &name)?;
    if ds.variables.is_empty() {
        return Err(XptError { location: name, message: "a dataset needs at least one variable".into() });
    }
    let rows = ds.variables[0].column.len();
    let mut names = Vec::new();
    for v in &ds.variables {
        let loc = format!("{name}.{}", v.name);
        let vname = check_name(&v.name, &loc)?;
        if names.contains(&vname) {
            return Err(XptError { location: loc, message: "duplicate variable name".into() });
        }
        names.push(vname);
        check_label(&v.label, &loc)?;
        if v.column.len() != rows {
            return Err(XptError {
                location: loc,
                message: format!("{} values, but the first variable has {rows}", v.column.len()),
            });
        }
        if let Column::Character { length, values } = &v.column {
            if !(1..=200).contains(length) {
                return Err(XptError { location: loc, message: format!("character length {length} must be 1–200") });
            }
            for (i, s) in values.iter().enumerate() {
                if s.len() > *length || !s.is_ascii() {
                    return Err(XptError {
                        location: format!("{loc} row {}", i + 1),
                        message: format!("value {s:?} must be ASCII and at most {length} bytes"),
                    });
                }
            }
        }
    }

    record(out, b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140");
    record(out, b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!000000000000000000000000000000");
    let mut m1 = b"SAS     ".to_vec();
    m1.extend(padded(&name, 8));
    m1.extend_from_slice(b"SASDATA 9.4     cryoseed");
    m1.extend_from_slice(&[b' '; 24]);
    m1.extend_from_slice(stamp.as_bytes());
    record(out, &m1);
    let mut m2 = stamp.as_bytes().to_vec();
    m2.extend_from_slice(&[b' '; 16]);
    m2.extend(padded(&ds.label, 40));
    m2.extend(padded("", 8));
    record(out, &m2);
    record(
        out,
        format!("HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000{:04}00000000000000000000", ds.variables.len())
            .as_bytes(),
    );
    let mut namestrs = Vec::new();
    let mut position = 0u32;
    for (i, (v, vname)) in ds.variables.iter().zip(&names).enumerate() {
        let mut n = Vec::with_capacity(140);
        let ntype: i16 = if matches!(v.column, Column::Numeric(_)) { 1 } else { 2 };
        n.extend_from_slice(&ntype.to_be_bytes());
        n.extend_from_slice(&0i16.to_be_bytes()); // nhfun
        n.extend_from_slice(&(v.column.width() as i16).to_be_bytes());
        n.extend_from_slice(&((i + 1) as i16).to_be_bytes());
        n.extend(padded(vname, 8));
        n.extend(padded(&v.label, 40));
        n.extend(padded("", 8)); // nform
        n.extend_from_slice(&[0u8; 6]); // nfl, nfd, nfj
        n.extend_from_slice(&[0u8; 2]); // nfill
        n.extend(padded("", 8)); // niform
        n.extend_from_slice(&[0u8; 4]); // nifl, nifd
        n.extend_from_slice(&position.to_be_bytes());
        n.extend_from_slice(&[0u8; 52]);
        debug_assert_eq!(n.len(), 140);
        namestrs.extend(n);
        position += v.column.width() as u32;
    }
    pad_to_record(&mut namestrs, b' ');
    out.extend(namestrs);
    record(out, b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!000000000000000000000000000000");
    let mut data = Vec::with_capacity(rows * position as usize);
    for row in 0..rows {
        for v in &ds.variables {
            match &v.column {
                Column::Numeric(values) => {
                    let bytes = match values[row] {
                        None => missing(),
                        Some(x) => ibm_double(x).map_err(|m| XptError {
                            location: format!("{name}.{} row {}", v.name, row + 1),
                            message: m,
                        })?,
                    };
                    data.extend_from_slice(&bytes);
                }
                Column::Character { length, values } => data.extend(padded(&values[row], *length)),
            }
        }
    }
    pad_to_record(&mut data, b' ');
    out.extend(data);
    Ok(())
}

fn pad_to_record(bytes: &mut Vec<u8>, with: u8) {
    let rem = bytes.len() % 80;
    if rem != 0 {
        bytes.extend(std::iter::repeat_n(with, 80 - rem));
    }
}

/// The IBM encoding of a missing number (`.`).
fn missing() -> [u8; 8] {
    [0x2e, 0, 0, 0, 0, 0, 0, 0]
}

/// IEEE double → IBM System/360 double (exact; module docs).
pub fn ibm_double(x: f64) -> Result<[u8; 8], String> {
    if !x.is_finite() {
        return Err(format!("{x} cannot be stored (use a missing value)"));
    }
    if x == 0.0 {
        return Ok([0; 8]);
    }
    let bits = x.to_bits();
    let sign = (bits >> 63) as u8;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let (mantissa, e) = if biased == 0 {
        // Subnormal: normalise.
        let m = bits & ((1u64 << 52) - 1);
        let shift = m.leading_zeros() as i32 - 11;
        (m << shift, -1022 - shift + 1)
    } else {
        ((bits & ((1u64 << 52) - 1)) | (1u64 << 52), biased - 1022)
    };
    // x = (mantissa / 2^53) · 2^e with mantissa / 2^53 in [0.5, 1).
    let exp16 = e.div_euclid(4) + i32::from(e.rem_euclid(4) != 0);
    let shift = 4 * exp16 - e; // 0..=3
    let fraction = mantissa << (3 - shift); // 56 bits
    let biased16 = exp16 + 64;
    if !(0..=127).contains(&biased16) {
        return Err(format!("{x:e} is outside the range of IBM floating point (about 5.4e-79 to 7.2e75)"));
    }
    let mut out = [0u8; 8];
    out[0] = (sign << 7) | biased16 as u8;
    out[1..].copy_from_slice(&fraction.to_be_bytes()[1..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// IBM → IEEE, for the round trip.
    fn from_ibm(b: [u8; 8]) -> f64 {
        if b[1..].iter().all(|v| *v == 0) {
            return 0.0;
        }
        let sign = if b[0] & 0x80 != 0 { -1.0 } else { 1.0 };
        let exp = i32::from(b[0] & 0x7f) - 64;
        let mut f = 0u64;
        for v in &b[1..] {
            f = (f << 8) | u64::from(*v);
        }
        sign * (f as f64) / 2f64.powi(56) * 16f64.powi(exp)
    }

    #[test]
    fn known_encodings() {
        // 1.0 = 0x41 10 00 00 00 00 00 00; −118.625 = 0xC2 76 A0 00 … (the classic IBM example).
        assert_eq!(ibm_double(1.0).unwrap(), [0x41, 0x10, 0, 0, 0, 0, 0, 0]);
        assert_eq!(ibm_double(-118.625).unwrap(), [0xC2, 0x76, 0xA0, 0, 0, 0, 0, 0]);
        assert_eq!(ibm_double(0.0).unwrap(), [0; 8]);
    }

    #[test]
    fn round_trip_is_exact() {
        for x in [1.0, -1.0, 0.1, 1e-10, 123456.789, -3.5e20, 2f64.powi(-200), 1e-70, 65.0] {
            assert_eq!(from_ibm(ibm_double(x).unwrap()), x, "{x}");
        }
        assert!(ibm_double(1e300).is_err());
        assert!(ibm_double(f64::NAN).is_err());
    }

    #[test]
    fn file_is_whole_records() {
        let ds = Dataset {
            name: "dm".into(),
            label: "Demographics".into(),
            variables: vec![
                Variable {
                    name: "USUBJID".into(),
                    label: "Subject".into(),
                    column: Column::text(vec!["A-1".into(), "A-2".into()]),
                },
                Variable { name: "AGE".into(), label: "Age".into(), column: Column::Numeric(vec![Some(64.0), None]) },
            ],
        };
        let bytes = write_xpt(&[ds], "28NOV26:00:00:00").unwrap();
        assert_eq!(bytes.len() % 80, 0);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("NAMESTR HEADER RECORD!!!!!!!000000000200000000000000000000"));
        assert!(text.contains("SAS     DM      SASDATA"));
    }

    #[test]
    fn bad_names_and_lengths_are_refused() {
        let bad = Dataset {
            name: "ADSL".into(),
            label: String::new(),
            variables: vec![Variable {
                name: "TOOLONGNAME".into(),
                label: String::new(),
                column: Column::Numeric(vec![]),
            }],
        };
        let e = write_xpt(&[bad], "28NOV26:00:00:00").unwrap_err();
        assert!(e.to_string().starts_with("ADSL.TOOLONGNAME"), "{e}");
    }
}
