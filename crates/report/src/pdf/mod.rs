//! A small PDF writer: pages of vector graphics and text in the two standard Helvetica fonts,
//! written as a PDF 1.7 file (ISO 32000-1:2008) with a cross-reference table, and the layout of
//! a [`Document`](crate::Document) on A4 pages ([`Document::to_pdf`](crate::Document::to_pdf)).
//!
//! - [`font`]: Helvetica metrics and WinAnsiEncoding, so text can be measured and wrapped.
//! - [`Page`]: one page's content stream, drawn in points with the origin at the bottom left.
//! - [`figure`]: paints a [`Figure`](crate::svg::Figure) (the plots' display list) on a page,
//!   so every plot of the HTML report appears in the PDF as vector graphics.
//! - [`layout`]: flows titles, paragraphs, tables (rows continue on the next page under a
//!   repeated header row) and figures onto pages with a running header and footer.
//!
//! The key design decision: no fonts are embedded and nothing is compressed or dated, so the
//! file is small to write, readable as text, and byte-identical for the same document; the
//! trailer's `/ID` is derived from the file's own content. Like the rest of the crate, this
//! builds bytes; writing them is the caller's business.

pub mod figure;
pub mod font;
pub mod layout;

pub use font::Font;
pub use layout::RunningHead;

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt::Write;

/// A4 in points (210 × 297 mm).
pub const A4: (f64, f64) = (595.276, 841.89);

/// An RGB colour, components in 0–1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f64, pub f64, pub f64);

impl Rgb {
    /// Black.
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);

    /// An SVG colour: `#rgb`, `#rrggbb` or one of the basic colour names; `None` for `none`,
    /// `transparent` and anything unreadable (which is then not painted).
    pub fn parse(colour: &str) -> Option<Rgb> {
        let hex = |s: &str| u8::from_str_radix(s, 16).ok().map(|v| f64::from(v) / 255.0);
        let c = colour.trim();
        if let Some(h) = c.strip_prefix('#') {
            return match h.len() {
                3 => {
                    let d = |i: usize| hex(&h[i..=i].repeat(2));
                    Some(Rgb(d(0)?, d(1)?, d(2)?))
                }
                6 => Some(Rgb(hex(&h[0..2])?, hex(&h[2..4])?, hex(&h[4..6])?)),
                _ => None,
            };
        }
        let named = match c.to_ascii_lowercase().as_str() {
            "black" => "#000000",
            "white" => "#ffffff",
            "red" => "#ff0000",
            "green" => "#008000",
            "blue" => "#0000ff",
            "yellow" => "#ffff00",
            "cyan" => "#00ffff",
            "magenta" => "#ff00ff",
            "orange" => "#ffa500",
            "grey" | "gray" => "#808080",
            _ => return None,
        };
        Rgb::parse(named)
    }
}

/// A number for a content stream: at most three decimals, no exponent, no negative zero.
pub fn num(x: f64) -> String {
    let x = if x.is_finite() { x } else { 0.0 };
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// A PDF string literal of encoded bytes; bytes outside printable ASCII are octal escapes, so
/// the content stream stays plain ASCII.
fn string_literal(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// One page's content: drawing operators in points, origin at the bottom left of the page.
#[derive(Clone, Debug, Default)]
pub struct Page {
    content: String,
    opacities: BTreeSet<u16>,
}

impl Page {
    /// A blank page.
    pub fn new() -> Page {
        Page::default()
    }

    fn op(&mut self, op: &str) {
        self.content.push_str(op);
        self.content.push('\n');
    }

    /// Saves the graphics state (`q`); pair with [`Page::restore`].
    pub fn save(&mut self) {
        self.op("q");
    }

    /// Restores the graphics state saved last (`Q`).
    pub fn restore(&mut self) {
        self.op("Q");
    }

    /// Concatenates `[a b c d e f]` to the current transformation (`cm`).
    pub fn transform(&mut self, m: [f64; 6]) {
        let s: Vec<String> = m.iter().map(|v| num(*v)).collect();
        self.op(&format!("{} cm", s.join(" ")));
    }

    /// The colour of fills and text.
    pub fn fill_colour(&mut self, c: Rgb) {
        self.op(&format!("{} {} {} rg", num(c.0), num(c.1), num(c.2)));
    }

    /// The colour of strokes.
    pub fn stroke_colour(&mut self, c: Rgb) {
        self.op(&format!("{} {} {} RG", num(c.0), num(c.1), num(c.2)));
    }

    /// The stroke width and dash pattern (empty: solid).
    pub fn stroke_style(&mut self, width: f64, dash: &[f64]) {
        let d: Vec<String> = dash.iter().map(|v| num(*v)).collect();
        self.op(&format!("{} w [{}] 0 d", num(width), d.join(" ")));
    }

    /// The fill opacity (`ca` of an ExtGState named after it, e.g. `/GA20` for 0.2).
    pub fn fill_opacity(&mut self, alpha: f64) {
        let percent = (alpha.clamp(0.0, 1.0) * 100.0).round() as u16;
        self.opacities.insert(percent);
        self.op(&format!("/GA{percent} gs"));
    }

    /// Starts a subpath.
    pub fn move_to(&mut self, x: f64, y: f64) {
        self.op(&format!("{} {} m", num(x), num(y)));
    }

    /// A straight segment.
    pub fn line_to(&mut self, x: f64, y: f64) {
        self.op(&format!("{} {} l", num(x), num(y)));
    }

    /// A cubic Bézier segment.
    pub fn curve_to(&mut self, c1: (f64, f64), c2: (f64, f64), to: (f64, f64)) {
        self.op(&format!("{} {} {} {} {} {} c", num(c1.0), num(c1.1), num(c2.0), num(c2.1), num(to.0), num(to.1)));
    }

    /// Closes the subpath.
    pub fn close(&mut self) {
        self.op("h");
    }

    /// A rectangle subpath from its lower-left corner.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.op(&format!("{} {} {} {} re", num(x), num(y), num(w), num(h)));
    }

    /// A circle subpath (four Bézier arcs, control distance 0.5523 r).
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64) {
        let k = 0.552_284_75 * r;
        self.move_to(cx + r, cy);
        self.curve_to((cx + r, cy + k), (cx + k, cy + r), (cx, cy + r));
        self.curve_to((cx - k, cy + r), (cx - r, cy + k), (cx - r, cy));
        self.curve_to((cx - r, cy - k), (cx - k, cy - r), (cx, cy - r));
        self.curve_to((cx + k, cy - r), (cx + r, cy - k), (cx + r, cy));
        self.close();
    }

    /// Paints the current path: fill, stroke, both, or neither (ends the path).
    pub fn paint(&mut self, fill: bool, stroke: bool) {
        self.op(match (fill, stroke) {
            (true, true) => "B",
            (true, false) => "f",
            (false, true) => "S",
            (false, false) => "n",
        });
    }

    /// Clips to the current path (and ends it).
    pub fn clip(&mut self) {
        self.op("W n");
    }

    /// Text with its baseline starting at (x, y), in the fill colour.
    pub fn text(&mut self, x: f64, y: f64, font: Font, size: f64, text: &str) {
        self.text_with_matrix([1.0, 0.0, 0.0, 1.0, x, y], font, size, text);
    }

    /// Text placed by a text matrix `[a b c d e f]` (`Tm`: glyph x axis (a, b), y axis (c, d),
    /// origin (e, f)).
    pub fn text_with_matrix(&mut self, m: [f64; 6], font: Font, size: f64, text: &str) {
        let bytes = crate::pdf::font::encode(text);
        if bytes.is_empty() {
            return;
        }
        let s: Vec<String> = m.iter().map(|v| num(*v)).collect();
        self.op(&format!(
            "BT /{} {} Tf {} Tm {} Tj ET",
            font.resource(),
            num(size),
            s.join(" "),
            string_literal(&bytes)
        ));
    }

    /// The content stream.
    pub fn content(&self) -> &str {
        &self.content
    }
}

/// Document information written into the file.
#[derive(Clone, Debug)]
pub struct Info {
    /// `/Title`.
    pub title: String,
    /// `/Producer` (e.g. "cryoseed 0.1.0").
    pub producer: String,
}

/// A text string for the document information dictionary: UTF-16BE with a byte-order mark, in
/// hex, so any character survives.
fn text_string(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// The PDF file of `pages` (A4, portrait), in order.
///
/// Objects: 1 catalog, 2 page tree, 3 and 4 the fonts, 5 the shared resources, 6 the document
/// information, then each page and its content stream. The `/ID` is the first 16 bytes of the
/// SHA-256 of everything before the cross-reference table.
pub fn write_pdf(pages: &[Page], info: &Info) -> Vec<u8> {
    let first_page = 7;
    let object_count = first_page - 1 + 2 * pages.len();
    let mut out: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(object_count);
    // Objects are numbered in the order they are written, from 1.
    let object = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };

    object(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    object(
        &mut out,
        &mut offsets,
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).as_bytes(),
    );
    for font in [Font::Regular, Font::Bold] {
        let body =
            format!("<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>", font.base_font());
        object(&mut out, &mut offsets, body.as_bytes());
    }
    let opacities: BTreeSet<u16> = pages.iter().flat_map(|p| p.opacities.iter().copied()).collect();
    let states: Vec<String> =
        opacities.iter().map(|p| format!("/GA{p} << /Type /ExtGState /ca {} >>", num(f64::from(*p) / 100.0))).collect();
    object(
        &mut out,
        &mut offsets,
        format!(
            "<< /Font << /{} 3 0 R /{} 4 0 R >> /ExtGState << {} >> >>",
            Font::Regular.resource(),
            Font::Bold.resource(),
            states.join(" ")
        )
        .as_bytes(),
    );
    object(
        &mut out,
        &mut offsets,
        format!("<< /Title {} /Producer {} >>", text_string(&info.title), text_string(&info.producer)).as_bytes(),
    );
    for (i, page) in pages.iter().enumerate() {
        let contents = first_page + 2 * i + 1;
        object(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources 5 0 R /Contents {contents} 0 R >>",
                num(A4.0),
                num(A4.1)
            )
            .as_bytes(),
        );
        let stream = page.content();
        let mut body = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        body.extend_from_slice(stream.as_bytes());
        body.extend_from_slice(b"\nendstream");
        object(&mut out, &mut offsets, &body);
    }
    debug_assert_eq!(offsets.len(), object_count);

    let id: String = Sha256::digest(&out)[..16].iter().map(|b| format!("{b:02X}")).collect();
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", object_count + 1);
    for offset in &offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = writeln!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R /ID [<{id}> <{id}>] >>\nstartxref\n{xref}\n%%EOF",
        object_count + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The objects of a file written by [`write_pdf`], found through its cross-reference table:
    /// (number, body) in table order. Panics where the table does not point at `N 0 obj`.
    fn objects_via_xref(pdf: &[u8]) -> Vec<(usize, String)> {
        // One character per byte, so that string offsets are file offsets.
        let text: String = pdf.iter().map(|&b| if b.is_ascii() { char::from(b) } else { '?' }).collect();
        let tail = &text[text.rfind("startxref\n").unwrap() + 10..];
        let xref: usize = tail.lines().next().unwrap().parse().unwrap();
        assert!(text[xref..].starts_with("xref\n0 "), "startxref points at the table");
        let mut lines = text[xref..].lines().skip(1);
        let count: usize = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        assert_eq!(lines.next().unwrap(), "0000000000 65535 f ");
        (1..count)
            .map(|n| {
                let entry = lines.next().unwrap();
                assert_eq!(entry.len(), 19, "entries are 20 bytes with their line end: {entry:?}");
                let offset: usize = entry[..10].parse().unwrap();
                let header = format!("{n} 0 obj\n");
                assert!(text[offset..].starts_with(&header), "object {n} at {offset}");
                let end = text[offset..].find("\nendobj\n").unwrap();
                (n, text[offset + header.len()..offset + end].to_owned())
            })
            .collect()
    }

    fn two_pages() -> Vec<Page> {
        let mut a = Page::new();
        a.fill_colour(Rgb::BLACK);
        a.text(72.0, 720.0, Font::Bold, 12.0, "Title (draft) \\ \u{e9}");
        a.fill_opacity(0.2);
        a.rect(72.0, 600.0, 100.0, 50.0);
        a.paint(true, false);
        let mut b = Page::new();
        b.circle(100.0, 100.0, 10.0);
        b.paint(false, true);
        vec![a, b]
    }

    #[test]
    fn cross_reference_offsets_point_at_their_objects() {
        let info = Info { title: "Report — T".into(), producer: "cryoseed test".into() };
        let pdf = write_pdf(&two_pages(), &info);
        assert!(pdf.starts_with(b"%PDF-1.7\n"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let objects = objects_via_xref(&pdf);
        assert_eq!(objects.len(), 10, "6 shared objects and 2 per page");
        assert_eq!(objects[0].1, "<< /Type /Catalog /Pages 2 0 R >>");
        assert_eq!(objects[1].1, "<< /Type /Pages /Kids [7 0 R 9 0 R] /Count 2 >>");
        assert!(objects[2].1.contains("/BaseFont /Helvetica "));
        assert!(objects[3].1.contains("/BaseFont /Helvetica-Bold "));
        assert!(objects[4].1.contains("/GA20 << /Type /ExtGState /ca 0.2 >>"));
        // Each content stream's /Length is its byte count.
        for (_, body) in objects.iter().filter(|(_, b)| b.contains("stream\n")) {
            let length: usize = body["<< /Length ".len()..body.find(" >>").unwrap()].parse().unwrap();
            let start = body.find("stream\n").unwrap() + 7;
            let end = body.rfind("\nendstream").unwrap();
            assert_eq!(end - start, length);
        }
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(Title \\(draft\\) \\\\ \\351) Tj"), "escaped, é as octal");
        assert!(text.contains("/Title <FEFF005200650070006F007200740020201400200054>"));
    }

    #[test]
    fn the_same_pages_give_the_same_bytes_and_id() {
        let info = Info { title: "T".into(), producer: "P".into() };
        let a = write_pdf(&two_pages(), &info);
        assert_eq!(a, write_pdf(&two_pages(), &info));
        let b = write_pdf(&two_pages()[..1], &info);
        let id = |pdf: &[u8]| {
            let t = String::from_utf8_lossy(pdf).into_owned();
            t[t.find("/ID [<").unwrap()..].split('>').next().unwrap().to_owned()
        };
        assert_ne!(id(&a), id(&b), "the /ID follows the content");
    }

    #[test]
    fn colours_parse_like_svg() {
        let check = |s: &str, c: Option<Rgb>| assert_eq!(Rgb::parse(s), c, "{s}");
        check("#000", Some(Rgb::BLACK));
        check("#ffffff", Some(Rgb(1.0, 1.0, 1.0)));
        check("#ff0000", Some(Rgb(1.0, 0.0, 0.0)));
        check("white", Some(Rgb(1.0, 1.0, 1.0)));
        check("none", None);
        check("#12", None);
        check("#zzzzzz", None);
    }

    #[test]
    fn numbers_are_short_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(0.55228475), "0.552");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(f64::NAN), "0");
    }
}
