//! Paints a [`Figure`] (the display list every plot draws) on a PDF [`Page`] as vector graphics:
//! the same shapes the SVG shows, in Helvetica instead of the SVG's font stack.

use super::{Font, Page, Rgb};
use crate::svg::{Anchor, Figure, PathCommand, Shape, path_commands};

/// SVG dash array (`"4 3"`, `"4,3"`) as numbers; empty when absent or unreadable.
fn dash(d: &Option<String>) -> Vec<f64> {
    d.as_deref()
        .map(|d| d.split([' ', ',']).filter(|s| !s.is_empty()).map(str::parse).collect::<Result<Vec<f64>, _>>())
        .and_then(Result::ok)
        .unwrap_or_default()
}

fn path(page: &mut Page, commands: &[PathCommand]) {
    for c in commands {
        match *c {
            PathCommand::MoveTo(x, y) => page.move_to(x, y),
            PathCommand::LineTo(x, y) => page.line_to(x, y),
            PathCommand::Close => page.close(),
        }
    }
}

/// Sets the colours and stroke style of a shape and says what to paint.
fn style(page: &mut Page, fill: Option<&str>, stroke: Option<&str>, width: f64, dash: &[f64]) -> (bool, bool) {
    let fill = fill.and_then(Rgb::parse);
    let stroke = stroke.and_then(Rgb::parse);
    if let Some(c) = fill {
        page.fill_colour(c);
    }
    if let Some(c) = stroke {
        page.stroke_colour(c);
        page.stroke_style(width, dash);
    }
    (fill.is_some(), stroke.is_some())
}

/// Paints `figure` with its top-left corner at (`left`, `top`) in page points, `scale` points
/// per figure unit, clipped to the figure's box.
pub fn paint(page: &mut Page, figure: &Figure, left: f64, top: f64, scale: f64) {
    page.save();
    // Figure units have y pointing down: flip about the figure's top edge.
    page.transform([scale, 0.0, 0.0, -scale, left, top]);
    page.rect(0.0, 0.0, figure.width, figure.height);
    page.clip();
    for shape in &figure.shapes {
        page.save();
        paint_shape(page, shape);
        page.restore();
    }
    page.restore();
}

fn paint_shape(page: &mut Page, shape: &Shape) {
    match shape {
        Shape::Line { from, to, stroke, width, dash: d } => {
            if let (_, true) = style(page, None, Some(stroke.as_str()), *width, &dash(d)) {
                page.move_to(from.0, from.1);
                page.line_to(to.0, to.1);
                page.paint(false, true);
            }
        }
        Shape::Polyline { points, stroke, width, dash: d } => {
            if let (_, true) = style(page, None, Some(stroke.as_str()), *width, &dash(d)) {
                let commands: Vec<PathCommand> = points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| if i == 0 { PathCommand::MoveTo(p.0, p.1) } else { PathCommand::LineTo(p.0, p.1) })
                    .collect();
                path(page, &commands);
                page.paint(false, true);
            }
        }
        Shape::Path { d, stroke, width, fill, dash: dd } => {
            if let Some(commands) = path_commands(d) {
                let (f, s) = style(page, Some(fill.as_str()), Some(stroke.as_str()), *width, &dash(dd));
                if f || s {
                    path(page, &commands);
                    page.paint(f, s);
                }
            }
        }
        Shape::Area { d, fill, opacity } => {
            if let (Some(commands), Some(c)) = (path_commands(d), Rgb::parse(fill)) {
                page.fill_opacity(*opacity);
                page.fill_colour(c);
                path(page, &commands);
                page.paint(true, false);
            }
        }
        Shape::Rect { x, y, w, h, fill, stroke } => {
            let (f, s) = style(page, Some(fill.as_str()), stroke.as_deref(), 1.0, &[]);
            if f || s {
                page.rect(*x, *y, *w, *h);
                page.paint(f, s);
            }
        }
        Shape::Circle { centre, r, fill, stroke } => {
            let (f, s) = style(page, Some(fill.as_str()), Some(stroke.as_str()), 1.0, &[]);
            if f || s {
                page.circle(centre.0, centre.1, *r);
                page.paint(f, s);
            }
        }
        Shape::Text { at, text, size, anchor, fill } => {
            page.fill_colour(Rgb::parse(fill).unwrap_or(Rgb::BLACK));
            let w = Font::Regular.width(text, *size);
            let x = match anchor {
                Anchor::Start => at.0,
                Anchor::Middle => at.0 - w / 2.0,
                Anchor::End => at.0 - w,
            };
            // The text matrix flips the glyphs upright again inside the flipped figure space.
            page.text_with_matrix([1.0, 0.0, 0.0, -1.0, x, at.1], Font::Regular, *size, text);
        }
        Shape::VerticalText { at, text, size } => {
            page.fill_colour(Rgb::BLACK);
            let w = Font::Regular.width(text, *size);
            // Rotated by −90° on screen: the glyphs' x axis points up the figure (−y), their
            // y axis to the left (−x); centred on the anchor.
            page.text_with_matrix([0.0, -1.0, -1.0, 0.0, at.0, at.1 + w / 2.0], Font::Regular, *size, text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::svg::Svg;

    #[test]
    fn shapes_become_operators_in_the_flipped_figure_space() {
        let mut svg = Svg::new(200.0, 100.0);
        svg.rect(0.0, 0.0, 200.0, 100.0, "#ffffff", None);
        svg.line(10.0, 20.0, 30.0, 40.0, "#000", 1.5, Some("4 3"));
        svg.area("M0 0L10 0L10 10Z", "#0072B2", 0.2);
        svg.path("M0 0C1 1 2 2 3 3", "#000", 1.0, "none", None);
        svg.text(100.0, 50.0, "ab", 10.0, "end", "#000");
        svg.circle(5.0, 5.0, 2.0, "#ffffff", "none");
        let mut page = Page::new();
        paint(&mut page, &svg.finish("t"), 50.0, 800.0, 0.5);
        let ops = page.content();
        assert!(ops.starts_with("q\n0.5 0 0 -0.5 50 800 cm\n0 0 200 100 re\nW n\n"));
        assert!(ops.contains("1 1 1 rg\n0 0 200 100 re\nf\n"));
        assert!(ops.contains("0 0 0 RG\n1.5 w [4 3] 0 d\n10 20 m\n30 40 l\nS\n"));
        assert!(ops.contains("/GA20 gs\n0 0.447 0.698 rg\n0 0 m\n10 0 l\n10 10 l\nh\nf\n"));
        assert!(!ops.contains("3 3 l"), "a path with commands the parser does not know is left out");
        // "ab" is 556 + 556 units wide: 11.12 pt at 10 pt, ending at x = 100.
        assert!(ops.contains("BT /F1 10 Tf 1 0 0 -1 88.88 50 Tm (ab) Tj ET"));
        // A circle with fill and no stroke is filled only.
        assert!(ops.contains("7 5 m\n") && ops.trim_end().ends_with("h\nf\nQ\nQ"));
    }
}
