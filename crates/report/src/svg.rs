//! A minimal SVG writer: escaped text, numbers printed with a fixed number of decimals (so the
//! same figure is byte-identical on every machine), and the colour palette every plot shares.
//!
//! Plot code draws onto an [`Svg`], which records [`Shape`]s; [`Svg::finish`] gives the
//! [`Figure`], a display list that is written out as SVG text ([`Figure::to_svg`]) for the HTML
//! reports and painted as vector graphics into the PDF report ([`crate::pdf`]). One plot
//! function therefore feeds both documents.

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

/// Where a text's anchor point sits on the text (SVG `text-anchor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// The text starts at the point.
    Start,
    /// The text is centred on the point.
    Middle,
    /// The text ends at the point.
    End,
}

impl Anchor {
    /// The SVG keyword; anything but `middle` and `end` is `start`.
    pub fn parse(keyword: &str) -> Anchor {
        match keyword {
            "middle" => Anchor::Middle,
            "end" => Anchor::End,
            _ => Anchor::Start,
        }
    }

    /// The SVG keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// One drawing operation of a [`Figure`], in figure units (pixels at 100 %, y pointing down).
/// Colours are SVG colour strings (`#rgb`, `#rrggbb` or `none`); dashes are SVG dash arrays.
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// A straight line.
    Line { from: (f64, f64), to: (f64, f64), stroke: String, width: f64, dash: Option<String> },
    /// An open polyline (at least two points).
    Polyline { points: Vec<(f64, f64)>, stroke: String, width: f64, dash: Option<String> },
    /// A path from path data with absolute `M`, `L` and `Z` commands (see [`path_commands`]).
    Path { d: String, stroke: String, width: f64, fill: String, dash: Option<String> },
    /// A filled path without stroke, with a fill opacity (e.g. a confidence band).
    Area { d: String, fill: String, opacity: f64 },
    /// A rectangle, top-left corner and size.
    Rect { x: f64, y: f64, w: f64, h: f64, fill: String, stroke: Option<String> },
    /// A circle.
    Circle { centre: (f64, f64), r: f64, fill: String, stroke: String },
    /// Text with its baseline anchored at `at`.
    Text { at: (f64, f64), text: String, size: f64, anchor: Anchor, fill: String },
    /// Text rotated by −90° about `at` (reads bottom to top), centred on it, black.
    VerticalText { at: (f64, f64), text: String, size: f64 },
}

/// A finished drawing: its size, accessible title and shapes in painting order.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// Width in figure units.
    pub width: f64,
    /// Height in figure units.
    pub height: f64,
    /// The accessible title (SVG `<title>`).
    pub title: String,
    /// Shapes, painted in order.
    pub shapes: Vec<Shape>,
}

/// A drawing being made; [`Svg::finish`] gives the [`Figure`].
#[derive(Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    shapes: Vec<Shape>,
}

impl Svg {
    /// A blank drawing of `width` × `height` user units (pixels at 100 %).
    pub fn new(width: f64, height: f64) -> Svg {
        Svg { width, height, shapes: Vec::new() }
    }

    /// A line.
    #[allow(clippy::too_many_arguments)] // the SVG element's own attribute list
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64, dash: Option<&str>) {
        self.shapes.push(Shape::Line {
            from: (x1, y1),
            to: (x2, y2),
            stroke: stroke.to_owned(),
            width,
            dash: dash.map(str::to_owned),
        });
    }

    /// A polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, dash: Option<&str>) {
        if points.len() < 2 {
            return;
        }
        self.shapes.push(Shape::Polyline {
            points: points.to_vec(),
            stroke: stroke.to_owned(),
            width,
            dash: dash.map(str::to_owned),
        });
    }

    /// A path from path data (absolute `M`, `L`, `Z`, numbers formatted with [`num`]).
    pub fn path(&mut self, d: &str, stroke: &str, width: f64, fill: &str, dash: Option<&str>) {
        if d.is_empty() {
            return;
        }
        self.shapes.push(Shape::Path {
            d: d.to_owned(),
            stroke: stroke.to_owned(),
            width,
            fill: fill.to_owned(),
            dash: dash.map(str::to_owned),
        });
    }

    /// A filled area (no stroke) with an opacity, e.g. a confidence band.
    pub fn area(&mut self, d: &str, fill: &str, opacity: f64) {
        if d.is_empty() {
            return;
        }
        self.shapes.push(Shape::Area { d: d.to_owned(), fill: fill.to_owned(), opacity });
    }

    /// A rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, stroke: Option<&str>) {
        self.shapes.push(Shape::Rect { x, y, w, h, fill: fill.to_owned(), stroke: stroke.map(str::to_owned) });
    }

    /// A circle.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: &str, stroke: &str) {
        self.shapes.push(Shape::Circle { centre: (cx, cy), r, fill: fill.to_owned(), stroke: stroke.to_owned() });
    }

    /// Text anchored at (x, y); `anchor` is `start`, `middle` or `end`.
    pub fn text(&mut self, x: f64, y: f64, text: &str, size: f64, anchor: &str, fill: &str) {
        self.shapes.push(Shape::Text {
            at: (x, y),
            text: text.to_owned(),
            size,
            anchor: Anchor::parse(anchor),
            fill: fill.to_owned(),
        });
    }

    /// Text rotated by −90° about (x, y) (a vertical axis label).
    pub fn vertical_text(&mut self, x: f64, y: f64, text: &str, size: f64) {
        self.shapes.push(Shape::VerticalText { at: (x, y), text: text.to_owned(), size });
    }

    /// The finished figure, with an accessible title.
    pub fn finish(self, title: &str) -> Figure {
        Figure { width: self.width, height: self.height, title: title.to_owned(), shapes: self.shapes }
    }
}

fn dash_attr(dash: &Option<String>) -> String {
    dash.as_ref().map(|d| format!(" stroke-dasharray=\"{d}\"")).unwrap_or_default()
}

impl Figure {
    /// The SVG document.
    pub fn to_svg(&self) -> String {
        let mut body = String::new();
        for shape in &self.shapes {
            write_shape(&mut body, shape);
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
             font-family=\"{FONT}\" role=\"img\" aria-label=\"{t}\">\n<title>{t}</title>\n{body}</svg>\n",
            w = num(self.width),
            h = num(self.height),
            t = escape(&self.title),
        )
    }
}

fn write_shape(body: &mut String, shape: &Shape) {
    let _ = match shape {
        Shape::Line { from, to, stroke, width, dash } => writeln!(
            body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\" stroke-width=\"{}\"{}/>",
            num(from.0),
            num(from.1),
            num(to.0),
            num(to.1),
            num(*width),
            dash_attr(dash)
        ),
        Shape::Polyline { points, stroke, width, dash } => {
            let pts: Vec<String> = points.iter().map(|(x, y)| format!("{},{}", num(*x), num(*y))).collect();
            writeln!(
                body,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{}\"{}/>",
                pts.join(" "),
                num(*width),
                dash_attr(dash)
            )
        }
        Shape::Path { d, stroke, width, fill, dash } => writeln!(
            body,
            "<path d=\"{d}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"{}/>",
            num(*width),
            dash_attr(dash)
        ),
        Shape::Area { d, fill, opacity } => {
            writeln!(body, "<path d=\"{d}\" fill=\"{fill}\" fill-opacity=\"{}\" stroke=\"none\"/>", num(*opacity))
        }
        Shape::Rect { x, y, w, h, fill, stroke } => writeln!(
            body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"{}/>",
            num(*x),
            num(*y),
            num(*w),
            num(*h),
            stroke.as_ref().map(|s| format!(" stroke=\"{s}\"")).unwrap_or_default()
        ),
        Shape::Circle { centre, r, fill, stroke } => writeln!(
            body,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\" stroke=\"{stroke}\"/>",
            num(centre.0),
            num(centre.1),
            num(*r)
        ),
        Shape::Text { at, text, size, anchor, fill } => writeln!(
            body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{fill}\">{}</text>",
            num(at.0),
            num(at.1),
            num(*size),
            anchor.keyword(),
            escape(text)
        ),
        Shape::VerticalText { at, text, size } => writeln!(
            body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 {} {})\">{}</text>",
            num(at.0),
            num(at.1),
            num(*size),
            num(at.0),
            num(at.1),
            escape(text)
        ),
    };
}

/// One command of path data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PathCommand {
    /// Start a subpath at the point.
    MoveTo(f64, f64),
    /// A straight segment to the point.
    LineTo(f64, f64),
    /// Close the current subpath.
    Close,
}

/// The commands of path data as this module's plots write it: absolute `M`, `L` (with implicit
/// repetition), `H`, `V` and `Z`, numbers separated by spaces or commas. `None` for anything
/// else (relative or curve commands, a malformed number), so a caller never paints half a path.
pub fn path_commands(d: &str) -> Option<Vec<PathCommand>> {
    let mut out = Vec::new();
    let mut rest = d.trim_start();
    let mut command = None;
    let mut current = (0.0, 0.0);
    let number = |s: &mut &str| -> Option<f64> {
        let t = s.trim_start_matches([' ', ',', '\n', '\t']);
        let end = t
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == 'e' || ((c == '-' || c == '+') && i == 0)))
            .map_or(t.len(), |(i, _)| i);
        let value = t[..end].parse().ok()?;
        *s = &t[end..];
        Some(value)
    };
    loop {
        rest = rest.trim_start_matches([' ', ',', '\n', '\t']);
        let Some(c) = rest.chars().next() else { break };
        if c.is_ascii_alphabetic() {
            command = Some(c);
            rest = &rest[1..];
            if c == 'Z' || c == 'z' {
                out.push(PathCommand::Close);
                command = None;
            }
            continue;
        }
        match command? {
            'M' => {
                current = (number(&mut rest)?, number(&mut rest)?);
                out.push(PathCommand::MoveTo(current.0, current.1));
                command = Some('L');
            }
            'L' => {
                current = (number(&mut rest)?, number(&mut rest)?);
                out.push(PathCommand::LineTo(current.0, current.1));
            }
            'H' => {
                current.0 = number(&mut rest)?;
                out.push(PathCommand::LineTo(current.0, current.1));
            }
            'V' => {
                current.1 = number(&mut rest)?;
                out.push(PathCommand::LineTo(current.0, current.1));
            }
            _ => return None,
        }
    }
    Some(out)
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

    #[test]
    fn figures_write_the_svg_elements_in_drawing_order() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.rect(0.0, 0.0, 100.0, 50.0, "#ffffff", None);
        svg.line(1.0, 2.0, 3.0, 4.5, "#000", 1.0, Some("4 3"));
        svg.polyline(&[(0.0, 0.0)], "#000", 1.0, None);
        svg.area("M1 2L3 4Z", "#0072B2", 0.2);
        svg.text(5.0, 6.0, "a<b", 11.0, "end", "#000");
        svg.vertical_text(7.0, 8.0, "y", 12.0);
        let figure = svg.finish("T & U");
        assert_eq!(
            figure.to_svg(),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\" viewBox=\"0 0 100 50\" \
             font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" role=\"img\" aria-label=\"T &amp; U\">\n\
             <title>T &amp; U</title>\n\
             <rect x=\"0\" y=\"0\" width=\"100\" height=\"50\" fill=\"#ffffff\"/>\n\
             <line x1=\"1\" y1=\"2\" x2=\"3\" y2=\"4.5\" stroke=\"#000\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n\
             <path d=\"M1 2L3 4Z\" fill=\"#0072B2\" fill-opacity=\"0.2\" stroke=\"none\"/>\n\
             <text x=\"5\" y=\"6\" font-size=\"11\" text-anchor=\"end\" fill=\"#000\">a&lt;b</text>\n\
             <text x=\"7\" y=\"8\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 7 8)\">y</text>\n\
             </svg>\n"
        );
    }

    #[test]
    fn path_data_parses_into_commands() {
        use PathCommand::*;
        let check = |d: &str, expected: Option<Vec<PathCommand>>| assert_eq!(path_commands(d), expected, "{d}");
        check("M1 2L3 4Z", Some(vec![MoveTo(1.0, 2.0), LineTo(3.0, 4.0), Close]));
        check("M1.5 -2L3 4 5,6", Some(vec![MoveTo(1.5, -2.0), LineTo(3.0, 4.0), LineTo(5.0, 6.0)]));
        check("M0 0 1 1H5V7", Some(vec![MoveTo(0.0, 0.0), LineTo(1.0, 1.0), LineTo(5.0, 1.0), LineTo(5.0, 7.0)]));
        check("M0 0L1 1M2 2L3 3", Some(vec![MoveTo(0.0, 0.0), LineTo(1.0, 1.0), MoveTo(2.0, 2.0), LineTo(3.0, 3.0)]));
        check("", Some(vec![]));
        check("M0 0C1 1 2 2 3 3", None);
        check("M0 x", None);
        check("0 0", None);
    }
}
