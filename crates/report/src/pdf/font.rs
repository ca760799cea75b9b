//! The two standard Type 1 fonts the PDF uses (Helvetica and Helvetica-Bold, never embedded:
//! every PDF reader has them), their WinAnsiEncoding and glyph widths, so that text can be
//! measured, centred, right-aligned and wrapped.
//!
//! Widths are the Adobe Core14 AFM metrics (`Helvetica.afm` and `Helvetica-Bold.afm`,
//! Copyright (c) 1985, 1987, 1989, 1990, 1997 Adobe Systems Incorporated, from Adobe's
//! `Core14_AFMs.zip`, which allows their use for any purpose), in 1/1000 em, indexed by
//! WinAnsiEncoding code (PDF 32000-1:2008, Annex D.2) from 32 to 255; the codes that
//! WinAnsiEncoding leaves undefined have width 0 and are never written.

/// A font of the PDF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Font {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Font {
    /// The resource name in content streams.
    pub fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    /// The PostScript name of the standard font.
    pub fn base_font(self) -> &'static str {
        match self {
            Font::Regular => "Helvetica",
            Font::Bold => "Helvetica-Bold",
        }
    }

    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        }
    }

    /// The width of encoded text at `size` points, in points.
    pub fn width_of_bytes(self, bytes: &[u8], size: f64) -> f64 {
        let widths = self.widths();
        let units: u32 = bytes.iter().map(|&b| u32::from(widths[usize::from(b.max(32)) - 32])).sum();
        f64::from(units) * size / 1000.0
    }

    /// The width of `text` at `size` points, in points, as [`encode`] will write it.
    pub fn width(self, text: &str, size: f64) -> f64 {
        self.width_of_bytes(&encode(text), size)
    }
}

/// Helvetica glyph widths by WinAnsiEncoding code, 32 to 255 (Helvetica.afm `WX`).
#[rustfmt::skip]
const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0x30
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // 0x50
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // 0x60
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 0, // 0x70
    556, 0, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, // 0xF0
];

/// Helvetica-Bold glyph widths by WinAnsiEncoding code, 32 to 255 (Helvetica-Bold.afm `WX`).
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // 0x20
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0x30
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // 0x40
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // 0x50
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // 0x60
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 0, // 0x70
    556, 0, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 0, 611, 0, // 0x80
    0, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 0, 500, 667, // 0x90
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, // 0xA0
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, // 0xB0
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, // 0xC0
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, // 0xD0
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, // 0xE0
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, // 0xF0
];

/// The characters of WinAnsiEncoding's codes 0x80 to 0x9F (PDF 32000-1:2008, Annex D.2);
/// codes 0xA0 to 0xFF are the Latin-1 characters of the same number.
const WIN_ANSI_HIGH: [(char, u8); 27] = [
    ('\u{20AC}', 0x80),
    ('\u{201A}', 0x82),
    ('\u{0192}', 0x83),
    ('\u{201E}', 0x84),
    ('\u{2026}', 0x85),
    ('\u{2020}', 0x86),
    ('\u{2021}', 0x87),
    ('\u{02C6}', 0x88),
    ('\u{2030}', 0x89),
    ('\u{0160}', 0x8A),
    ('\u{2039}', 0x8B),
    ('\u{0152}', 0x8C),
    ('\u{017D}', 0x8E),
    ('\u{2018}', 0x91),
    ('\u{2019}', 0x92),
    ('\u{201C}', 0x93),
    ('\u{201D}', 0x94),
    ('\u{2022}', 0x95),
    ('\u{2013}', 0x96),
    ('\u{2014}', 0x97),
    ('\u{02DC}', 0x98),
    ('\u{2122}', 0x99),
    ('\u{0161}', 0x9A),
    ('\u{203A}', 0x9B),
    ('\u{0153}', 0x9C),
    ('\u{017E}', 0x9E),
    ('\u{0178}', 0x9F),
];

/// Spellings for characters the reports use that WinAnsiEncoding lacks (mathematical signs and
/// Greek letters); any other such character is written as `?`, visibly.
const SPELLED: [(char, &str); 16] = [
    ('\u{2212}', "-"), // minus sign
    ('\u{2265}', ">="),
    ('\u{2264}', "<="),
    ('\u{2260}', "!="),
    ('\u{2248}', "~"),
    ('\u{2192}', "->"),
    ('\u{2190}', "<-"),
    ('\u{221E}', "inf"),
    ('\u{03B1}', "alpha"),
    ('\u{03B2}', "beta"),
    ('\u{03B3}', "gamma"),
    ('\u{03B4}', "delta"),
    ('\u{03BA}', "kappa"),
    ('\u{03BB}', "lambda"),
    ('\u{03C1}', "rho"),
    ('\u{03C7}', "chi"),
];

/// One character's WinAnsiEncoding code, if it has one (control characters have none).
fn code(c: char) -> Option<u8> {
    match u32::from(c) {
        0x20..=0x7E | 0xA0..=0xFF => u8::try_from(u32::from(c)).ok(),
        _ => WIN_ANSI_HIGH.iter().find(|(h, _)| *h == c).map(|(_, b)| *b),
    }
}

/// `text` in WinAnsiEncoding: tabs and line breaks become spaces, a few mathematical signs and
/// Greek letters their spelling (`≥` as `>=`, `κ` as `kappa`), and every other character the
/// encoding lacks `?`.
pub fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if let Some(b) = code(c) {
            out.push(b);
        } else if c == '\t' || c == '\n' || c == '\r' {
            out.push(b' ');
        } else if let Some((_, s)) = SPELLED.iter().find(|(k, _)| *k == c) {
            out.extend_from_slice(s.as_bytes());
        } else {
            out.push(b'?');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_the_afm_widths() {
        // Helvetica.afm: space 278, A 667, a 556, W 944, i 222; Helvetica-Bold.afm: i 278, W 944.
        let check = |font: Font, text: &str, width: f64| assert_eq!(font.width(text, 1000.0), width, "{text}");
        check(Font::Regular, " ", 278.0);
        check(Font::Regular, "Aa", 667.0 + 556.0);
        check(Font::Regular, "Wi", 944.0 + 222.0);
        check(Font::Bold, "Wi", 944.0 + 278.0);
        check(Font::Regular, "\u{2014}", 1000.0); // emdash
        check(Font::Regular, "\u{e9}", 556.0); // eacute
        check(Font::Bold, "0123456789", 5560.0);
    }

    #[test]
    fn text_outside_win_ansi_is_replaced_visibly() {
        let check = |text: &str, bytes: &[u8]| assert_eq!(encode(text), bytes, "{text}");
        check("D90 \u{2265} 110 Gy", b"D90 >= 110 Gy");
        check("\u{2212}30 %", b"-30 %");
        check("\u{3ba} = 0.8", b"kappa = 0.8");
        check("caf\u{e9} \u{2014} \u{b7}", &[b'c', b'a', b'f', 0xE9, b' ', 0x97, b' ', 0xB7]);
        check("\u{75c5}\u{4eba} \u{1F600}", b"?? ?");
        check("a\tb\nc\u{7}", b"a b c?");
    }
}
