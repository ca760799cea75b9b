//! Building blocks of the DICOM writers: value formatting (DS, IS), deterministic UIDs and
//! element constructors.
//!
//! dicom-rs writes whatever string it is given, so the value representations' length rules are
//! ours to keep: a Decimal String (DS) is at most 16 characters (PS3.5 Table 6.2-1), an Integer
//! String (IS) at most 12. UIDs are derived from a SHA-256 digest of the exported content, so the
//! same inputs always give the same UIDs and the same bytes.

use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_object::InMemDicomObject;
use sha2::{Digest, Sha256};

/// Longest Decimal String value (PS3.5 Table 6.2-1).
pub const DS_MAX_LEN: usize = 16;

/// Formats `v` as a DICOM Decimal String of at most 16 characters, as close to `v` as that
/// length allows (fixed point when it keeps more digits, scientific otherwise); `None` for
/// non-finite values, which DS cannot carry.
pub fn format_ds(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some("0".to_owned());
    }
    let shortest = format!("{v}");
    if shortest.len() <= DS_MAX_LEN {
        return Some(shortest);
    }
    let fixed = (0..=15usize).rev().map(|d| trim_fraction(format!("{v:.d$}"))).find(|s| s.len() <= DS_MAX_LEN);
    let scientific = (0..=15usize).rev().map(|p| format!("{v:.p$e}")).find(|s| s.len() <= DS_MAX_LEN);
    let err = |s: &Option<String>| s.as_ref().and_then(|s| s.parse::<f64>().ok()).map(|p| (p - v).abs());
    match (err(&fixed), err(&scientific)) {
        (Some(a), Some(b)) if b < a => scientific,
        (Some(_), _) => fixed,
        (None, _) => scientific,
    }
}

fn trim_fraction(s: String) -> String {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
}

/// Several values as one backslash-separated DS value; `None` if any value is not finite.
pub fn format_ds_multi(values: &[f64]) -> Option<String> {
    let parts: Option<Vec<String>> = values.iter().map(|&v| format_ds(v)).collect();
    parts.map(|p| p.join("\\"))
}

/// Digest of everything an export depends on, from which every UID is derived.
#[derive(Clone, Debug)]
pub struct UidSource {
    hasher: Sha256,
}

impl UidSource {
    /// An empty digest under a name space (e.g. `"cryoseed-export-v1"`).
    pub fn new(namespace: &str) -> UidSource {
        let mut hasher = Sha256::new();
        hasher.update(namespace.as_bytes());
        UidSource { hasher }
    }

    /// Adds bytes (length-prefixed, so concatenations cannot collide).
    pub fn update(&mut self, bytes: &[u8]) {
        self.hasher.update((bytes.len() as u64).to_le_bytes());
        self.hasher.update(bytes);
    }

    /// The UID of one role (`"study"`, `"series/rtstruct"`, `"sop/ct/12"`) for this content:
    /// `2.25.` followed by the decimal form of a 128-bit UUID (version 8, PS3.5 B.2) built from
    /// SHA-256(content digest, role).
    pub fn uid(&self, role: &str) -> String {
        let mut h = self.hasher.clone();
        h.update(b"\x00uid:");
        h.update(role.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        // RFC 9562 version 8 (custom) and variant 10.
        b[6] = (b[6] & 0x0f) | 0x80;
        b[8] = (b[8] & 0x3f) | 0x80;
        format!("2.25.{}", u128::from_be_bytes(b))
    }
}

/// A text element.
pub fn text(tag: Tag, vr: VR, value: &str) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(value))
}

/// An empty (zero-length) element, for Type 2 attributes without a value.
pub fn empty(tag: Tag, vr: VR) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::Empty)
}

/// An Integer String element.
pub fn is(tag: Tag, value: i64) -> DataElement<InMemDicomObject> {
    text(tag, VR::IS, &value.to_string())
}

/// An unsigned short element.
pub fn us(tag: Tag, value: u16) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::US, PrimitiveValue::from(value))
}

/// A Decimal String element from already formatted text (see [`format_ds`]).
pub fn ds(tag: Tag, formatted: String) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::DS, PrimitiveValue::from(formatted))
}

/// A sequence element.
pub fn seq(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: f64, want: &str) {
        let got = format_ds(v).unwrap();
        assert_eq!(got, want, "{v}");
        assert!(got.len() <= DS_MAX_LEN);
    }

    #[test]
    fn ds_values_fit_sixteen_characters() {
        check(0.0, "0");
        check(-0.0, "0");
        check(1.5, "1.5");
        check(-123.456, "-123.456");
        check(0.1 + 0.2, "0.3");
        check(-249.49999999999997, "-249.5");
        check(1e-6, "0.000001");
        check(1.234567890123e-9, "1.23456789012e-9");
        check(123456789012345678.0, "1.23456789012e17");
        check(-0.000123456789012345, "-1.2345678901e-4");
        assert_eq!(format_ds(f64::NAN), None);
        for v in [std::f64::consts::PI * 1e5, -std::f64::consts::E * 1e-7, 9.99999999999999e15, 4.2e-300, -1.7e308] {
            let s = format_ds(v).unwrap();
            assert!(s.len() <= DS_MAX_LEN, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!(((back - v) / v).abs() < 1e-9, "{v} -> {s}");
        }
    }

    #[test]
    fn uids_are_stable_valid_and_distinct() {
        let mut a = UidSource::new("t");
        a.update(b"case");
        let (s1, s2) = (a.uid("study"), a.uid("series"));
        assert_ne!(s1, s2);
        assert_eq!(s1, a.clone().uid("study"));
        for u in [&s1, &s2] {
            assert!(u.len() <= 64 && u.starts_with("2.25.") && !u[5..].starts_with('0'), "{u}");
            assert!(u[5..].bytes().all(|c| c.is_ascii_digit()));
        }
        let mut b = UidSource::new("t");
        b.update(b"casf");
        assert_ne!(b.uid("study"), s1);
    }
}
