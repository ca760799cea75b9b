//! A minimal SVG writer: escaped text, numbers printed with a fixed number of decimals (so the
//! same figure is byte-identical on every machine), and the colour palette every plot shares.

use std::fmt::Write;

/// Colours used across the plots (colour-blind-safe, Okabe–Ito), in order of use.
pub const PALETTE: [&str; 8] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];

/// The font stack of every text element (no web fonts: reports must open offline).
pub const FONT: &str = "DejaVu Sans, Arial, Helvetica, sans-serif";

/// Escapes text for SVG/HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number with two decimals, trailing zeros and a negative zero removed.
pub fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// An SVG document being written.
#[derive(Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

impl Svg {
    /// A blank drawing of `width` × `height` user units (pixels at 100 %).
    pub fn new(width: f64, height: f64) -> Svg {
        Svg { width, height, body: String::new() }
    }

    /// A line.
    #[allow(clippy::too_many_arguments)] // the SVG element's own attribute list
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64, dash: Option<&str>) {
        let dash = dash.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash}/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            num(width)
        );
    }

    /// A polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: Option<&str>) {
        if points.len() < 2 {
            return;
        }
        let pts: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
        let dash = dash.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash}/>",
            pts.join(" "),
            num(width)
        );
    }

    /// A path from raw path data (already formatted).
    pub fn path(&mut self, d: &str, stroke: &str, width: f64, fill: &str, dash: Option<&str>) {
        if d.is_empty() {
            return;
        }
        let dash = dash.map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<path d=\"{d}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash}/>",
            num(width)
        );
    }

    /// A filled area (no stroke) with an opacity, e.g. a confidence band.
    pub fn area(&mut self, d: &str, fill: &str, opacity: f64) {
        if d.is_empty() {
            return;
        }
        let _ =
            writeln!(self.body, "<path d=\"{d}\" fill=\"{fill}\" fill-opacity=\"{}\" stroke=\"none\"/>", num(opacity));
    }

    /// A rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
        let stroke = stroke.map(|s| format!(" stroke=\"{s}\"")).unwrap_or_default();
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{stroke}/>",
            num(x),
            num(y),
            num(w),
            num(h)
        );
    }

    /// A circle.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: &str, stroke: &str) {
        let _ = writeln!(
            self.body,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
            num(cx),
            num(cy),
            num(r)
        );
    }

    /// Text anchored at (x, y); `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: &str, fill: &str) {
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{anchor}\" fill=\"{fill}\">{}</text>",
            num(x),
            num(y),
            num(size),
            escape(text)
        );
    }

    /// Text rotated by −90° about (x, y) (a vertical axis label).
    pub fn vertical_text(&mut self, x: f64, y: f64, text: &str, size: f64) {
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 {} {})\">{}</text>",
            num(x),
            num(y),
            num(size),
            num(x),
            num(y),
            escape(text)
        );
    }

    /// The finished document, with an accessible title.
    pub fn finish(self, title: &str) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             font-family=\"{FONT}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n{}</svg>\n",
            self.body,
            w = num(self.width),
            h = num(self.height),
            t = escape(title),
        )
    }
}

/// "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10ⁿ), about `target` of them.
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(120.5), "120.5");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 100.0, 5), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(0.0, 250.0, 5), vec![0.0, 50.0, 100.0, 150.0, 200.0, 250.0]);
    }
}
