//! Trial plots: Kaplan–Meier by arm with confidence bands, censoring marks and a numbers-at-risk
//! table; cumulative incidence; forest plot; waterfall; swimmer; spider; CONSORT flow diagram.
//!
//! Inputs are the `stats` crate's estimates or plain values; every plot is a [`Figure`] from
//! [`crate::svg`], deterministic for the same input.

use crate::svg::{Figure, PALETTE, Svg, num, ticks};
use cryoseed_stats::{CumulativeIncidence, KaplanMeier};

/// Plot area margins shared by the time-axis plots.
const LEFT: f64 = 70.0;
const TOP: f64 = 34.0;

/// One group's Kaplan–Meier curve.
#[derive(Debug)]
pub struct KmGroup<'a> {
    /// Legend and at-risk row label (the arm).
    pub label: String,
    /// The estimate.
    pub km: &'a KaplanMeier,
}

/// Numbers at risk at time `t`: subjects with time ≥ t (the first table row at or after `t`
/// gives it; before any row, everyone).
pub fn at_risk(km: &KaplanMeier, t: f64) -> usize {
    km.table.iter().find(|r| r.time >= t).map_or(0, |r| r.n_risk)
}

/// The words of a Kaplan–Meier figure, for figures in another language than the report's.
#[derive(Clone, Copy, Debug)]
pub struct KmLabels<'a> {
    /// Time axis.
    pub time: &'a str,
    /// Vertical axis.
    pub y: &'a str,
    /// Title.
    pub title: &'a str,
    /// Heading of the numbers-at-risk table (`Number at risk`).
    pub at_risk: &'a str,
    /// The word after the legend's event count (`events`).
    pub events: &'a str,
}

/// Kaplan–Meier curves by group with pointwise confidence bands (the estimate's own transform
/// and level), `+` marks at censoring times, and the numbers at risk under the time axis.
pub fn km_svg(groups: &[KmGroup<'_>], time_label: &str, y_label: &str, title: &str) -> Figure {
    km_svg_labelled(
        groups,
        &KmLabels { time: time_label, y: y_label, title, at_risk: "Number at risk", events: "events" },
    )
}

/// [`km_svg`] with every word given (the web service draws it in the user's language).
pub fn km_svg_labelled(groups: &[KmGroup<'_>], labels: &KmLabels<'_>) -> Figure {
    let KmLabels { time: time_label, y: y_label, title, .. } = *labels;
    const LEFT: f64 = 110.0;
    let (w, ph, pw) = (900.0, 320.0, 520.0);
    let table_h = 22.0 + 18.0 * groups.len() as f64;
    let h = TOP + ph + 46.0 + table_h;
    let t_max = groups.iter().flat_map(|g| g.km.table.last().map(|r| r.time)).fold(1.0, f64::max);
    let x = |t: f64| LEFT + pw * (t / t_max).clamp(0.0, 1.0);
    let y = |s: f64| TOP + ph * (1.0 - s.clamp(0.0, 1.0));
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(LEFT, 20.0, title, 14.0, "start", "#000");
    let xt = ticks(0.0, t_max, 6);
    for t in &xt {
        svg.line(x(*t), TOP, x(*t), TOP + ph, "#e5e5e5", 1.0, None);
        svg.text(x(*t), TOP + ph + 16.0, &num(*t), 11.0, "middle", "#000");
    }
    for s in ticks(0.0, 1.0, 5) {
        svg.line(LEFT, y(s), LEFT + pw, y(s), "#e5e5e5", 1.0, None);
        svg.text(LEFT - 6.0, y(s) + 4.0, &num(s), 11.0, "end", "#000");
    }
    svg.rect(LEFT, TOP, pw, ph, "none", Some("#000"));
    svg.text(LEFT + pw / 2.0, TOP + ph + 34.0, time_label, 12.0, "middle", "#000");
    svg.vertical_text(18.0, TOP + ph / 2.0, y_label, 12.0);
    for (i, g) in groups.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        // Band: step polygon of the CI (rows without a CI are skipped).
        let mut upper = vec![(x(0.0), y(1.0))];
        let mut lower = vec![(x(0.0), y(1.0))];
        let mut line = vec![(x(0.0), y(1.0))];
        let mut prev = (1.0, 1.0, 1.0);
        for r in &g.km.table {
            if r.n_event > 0 {
                line.push((x(r.time), y(prev.0)));
                line.push((x(r.time), y(r.survival)));
                if let (Some(lo), Some(hi)) = (r.ci_lower, r.ci_upper) {
                    upper.push((x(r.time), y(prev.2)));
                    upper.push((x(r.time), y(hi)));
                    lower.push((x(r.time), y(prev.1)));
                    lower.push((x(r.time), y(lo)));
                    prev = (r.survival, lo, hi);
                } else {
                    prev.0 = r.survival;
                }
            }
        }
        let end = x(t_max);
        line.push((end, y(prev.0)));
        upper.push((end, y(prev.2)));
        lower.push((end, y(prev.1)));
        let mut band = String::new();
        for (k, (px, py)) in upper.iter().chain(lower.iter().rev()).enumerate() {
            band.push_str(&format!("{}{} {}", if k == 0 { "M" } else { "L" }, num(*px), num(*py)));
        }
        band.push('Z');
        svg.area(&band, colour, 0.2);
        svg.polyline(&line, colour, 2.0, None);
        for r in g.km.table.iter().filter(|r| r.n_censor > 0) {
            let (cx, cy) = (x(r.time), y(r.survival));
            svg.line(cx, cy - 4.0, cx, cy + 4.0, colour, 1.5, None);
            svg.line(cx - 4.0, cy, cx + 4.0, cy, colour, 1.5, None);
        }
        let ly = TOP + 14.0 + 16.0 * i as f64;
        svg.line(LEFT + pw + 14.0, ly - 4.0, LEFT + pw + 38.0, ly - 4.0, colour, 2.0, None);
        svg.text(
            LEFT + pw + 44.0,
            ly,
            &format!("{} (n={}, {}={})", g.label, g.km.n, labels.events, g.km.events),
            11.0,
            "start",
            "#000",
        );
        // Numbers at risk.
        let ry = TOP + ph + 66.0 + 18.0 * i as f64;
        svg.text(LEFT - 24.0, ry, &g.label, 11.0, "end", colour);
        for t in &xt {
            let n = if *t <= 0.0 { g.km.n } else { at_risk(g.km, *t) };
            svg.text(x(*t), ry, &n.to_string(), 11.0, "middle", "#000");
        }
    }
    svg.text(LEFT, TOP + ph + 50.0, labels.at_risk, 11.0, "start", "#000");
    svg.finish(title)
}

/// Cumulative incidence curves (step functions) by group.
pub fn cif_svg(groups: &[(String, &CumulativeIncidence)], time_label: &str, title: &str) -> Figure {
    let (w, ph, pw) = (860.0, 300.0, 520.0);
    let h = TOP + ph + 50.0;
    let t_max = groups.iter().flat_map(|(_, c)| c.table.last().map(|r| r.time)).fold(1.0, f64::max);
    let y_max =
        groups.iter().flat_map(|(_, c)| c.table.iter().map(|r| r.ci_upper.unwrap_or(r.cif))).fold(0.1, f64::max);
    let y_max = ticks(0.0, y_max, 5).last().copied().filter(|v| *v >= y_max).unwrap_or(1.0).min(1.0);
    let x = |t: f64| LEFT + pw * (t / t_max).clamp(0.0, 1.0);
    let y = |v: f64| TOP + ph * (1.0 - (v / y_max).clamp(0.0, 1.0));
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(LEFT, 20.0, title, 14.0, "start", "#000");
    for t in ticks(0.0, t_max, 6) {
        svg.line(x(t), TOP, x(t), TOP + ph, "#e5e5e5", 1.0, None);
        svg.text(x(t), TOP + ph + 16.0, &num(t), 11.0, "middle", "#000");
    }
    for v in ticks(0.0, y_max, 5) {
        svg.line(LEFT, y(v), LEFT + pw, y(v), "#e5e5e5", 1.0, None);
        svg.text(LEFT - 6.0, y(v) + 4.0, &num(v), 11.0, "end", "#000");
    }
    svg.rect(LEFT, TOP, pw, ph, "none", Some("#000"));
    svg.text(LEFT + pw / 2.0, TOP + ph + 36.0, time_label, 12.0, "middle", "#000");
    svg.vertical_text(18.0, TOP + ph / 2.0, "Cumulative incidence", 12.0);
    for (i, (label, c)) in groups.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let mut line = vec![(x(0.0), y(0.0))];
        let mut prev = 0.0;
        for r in &c.table {
            line.push((x(r.time), y(prev)));
            line.push((x(r.time), y(r.cif)));
            prev = r.cif;
        }
        line.push((x(t_max), y(prev)));
        svg.polyline(&line, colour, 2.0, None);
        let ly = TOP + 14.0 + 16.0 * i as f64;
        svg.line(LEFT + pw + 14.0, ly - 4.0, LEFT + pw + 38.0, ly - 4.0, colour, 2.0, None);
        svg.text(LEFT + pw + 44.0, ly, label, 11.0, "start", "#000");
    }
    svg.finish(title)
}

/// One row of a forest plot.
#[derive(Clone, Debug)]
pub struct ForestRow {
    /// Subgroup label.
    pub label: String,
    /// Point estimate.
    pub estimate: f64,
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
    /// Text at the right (e.g. `0.52 (0.31–0.88)`); built from the numbers when `None`.
    pub text: Option<String>,
}

/// A forest plot: estimates with confidence intervals per row, a reference line at `null_value`
/// (1 for ratios, 0 for differences), on a log axis when `log_scale` (ratios).
pub fn forest_svg(rows: &[ForestRow], null_value: f64, log_scale: bool, x_label: &str, title: &str) -> Figure {
    let (w, pw, label_w) = (760.0, 360.0, 200.0);
    let row_h = 24.0;
    let h = TOP + row_h * rows.len() as f64 + 60.0;
    let tf = |v: f64| if log_scale { v.max(1e-6).ln() } else { v };
    let lo = rows.iter().map(|r| tf(r.lower)).fold(tf(null_value), f64::min);
    let hi = rows.iter().map(|r| tf(r.upper)).fold(tf(null_value), f64::max);
    let pad = ((hi - lo) * 0.08).max(1e-3);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |v: f64| label_w + pw * ((tf(v) - lo) / (hi - lo)).clamp(0.0, 1.0);
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(10.0, 20.0, title, 14.0, "start", "#000");
    let bottom = TOP + row_h * rows.len() as f64;
    svg.line(x(null_value), TOP, x(null_value), bottom, "#666", 1.0, Some("4 3"));
    for (i, r) in rows.iter().enumerate() {
        let cy = TOP + row_h * (i as f64 + 0.5);
        svg.text(10.0, cy + 4.0, &r.label, 12.0, "start", "#000");
        svg.line(x(r.lower), cy, x(r.upper), cy, "#000", 1.5, None);
        svg.rect(x(r.estimate) - 4.0, cy - 4.0, 8.0, 8.0, PALETTE[0], None);
        let text = r.text.clone().unwrap_or_else(|| format!("{} ({}–{})", num(r.estimate), num(r.lower), num(r.upper)));
        svg.text(label_w + pw + 14.0, cy + 4.0, &text, 12.0, "start", "#000");
    }
    svg.line(label_w, bottom, label_w + pw, bottom, "#000", 1.0, None);
    let axis_ticks: Vec<f64> = if log_scale {
        [0.1f64, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0].into_iter().filter(|v| (lo..=hi).contains(&v.ln())).collect()
    } else {
        ticks(lo, hi, 6)
    };
    for t in axis_ticks {
        svg.line(x(t), bottom, x(t), bottom + 4.0, "#000", 1.0, None);
        svg.text(x(t), bottom + 16.0, &num(t), 11.0, "middle", "#000");
    }
    svg.text(label_w + pw / 2.0, bottom + 34.0, x_label, 12.0, "middle", "#000");
    svg.finish(title)
}

/// One bar of a waterfall plot.
#[derive(Clone, Debug)]
pub struct WaterfallBar {
    /// Patient (tooltip-free: shown under the plot only when few bars).
    pub label: String,
    /// Best % change from baseline (negative = shrinkage).
    pub percent_change: f64,
    /// Group index (colour; e.g. arm).
    pub group: usize,
}

/// Waterfall of best % change in target sum, sorted from largest increase to largest decrease,
/// with the RECIST +20 % and −30 % reference lines; `group_labels` names the colours.
pub fn waterfall_svg(bars: &[WaterfallBar], group_labels: &[String], title: &str) -> Figure {
    let (w, ph, pw) = (760.0, 300.0, 560.0);
    let h = TOP + ph + 40.0;
    let mut sorted: Vec<&WaterfallBar> = bars.iter().collect();
    sorted.sort_by(|a, b| b.percent_change.total_cmp(&a.percent_change).then_with(|| a.label.cmp(&b.label)));
    let hi = sorted.iter().map(|b| b.percent_change).fold(30.0, f64::max).min(200.0);
    let lo = -100.0;
    let y = |v: f64| TOP + ph * (1.0 - (v.clamp(lo, hi) - lo) / (hi - lo));
    let bw = pw / sorted.len().max(1) as f64;
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(LEFT, 20.0, title, 14.0, "start", "#000");
    for t in ticks(lo, hi, 6) {
        svg.line(LEFT, y(t), LEFT + pw, y(t), "#eeeeee", 1.0, None);
        svg.text(LEFT - 6.0, y(t) + 4.0, &format!("{}%", num(t)), 11.0, "end", "#000");
    }
    for (i, b) in sorted.iter().enumerate() {
        let (y0, y1) = (y(0.0), y(b.percent_change));
        svg.rect(
            LEFT + bw * i as f64 + bw * 0.1,
            y0.min(y1),
            bw * 0.8,
            (y1 - y0).abs().max(0.5),
            PALETTE[b.group % PALETTE.len()],
            None,
        );
    }
    svg.line(LEFT, y(20.0), LEFT + pw, y(20.0), "#a00000", 1.0, Some("5 3"));
    svg.line(LEFT, y(-30.0), LEFT + pw, y(-30.0), "#006400", 1.0, Some("5 3"));
    svg.text(LEFT + pw + 4.0, y(20.0) + 4.0, "+20 % (PD)", 10.0, "start", "#a00000");
    svg.text(LEFT + pw + 4.0, y(-30.0) + 4.0, "−30 % (PR)", 10.0, "start", "#006400");
    svg.line(LEFT, y(0.0), LEFT + pw, y(0.0), "#000", 1.0, None);
    svg.vertical_text(18.0, TOP + ph / 2.0, "Best change in target sum (%)", 12.0);
    for (i, g) in group_labels.iter().enumerate() {
        let lx = LEFT + 140.0 * i as f64;
        svg.rect(lx, TOP + ph + 20.0, 10.0, 10.0, PALETTE[i % PALETTE.len()], None);
        svg.text(lx + 14.0, TOP + ph + 29.0, g, 11.0, "start", "#000");
    }
    svg.finish(title)
}

/// One patient's lane in a swimmer plot.
#[derive(Clone, Debug)]
pub struct SwimmerLane {
    /// Patient label.
    pub label: String,
    /// Follow-up length (time units of the axis).
    pub length: f64,
    /// Group index (colour).
    pub group: usize,
    /// Events on the lane: (time, kind label). Kinds get distinct markers in legend order.
    pub events: Vec<(f64, String)>,
    /// Whether the patient is still on follow-up (arrow at the end).
    pub ongoing: bool,
}

/// A swimmer plot: one bar per patient with event markers (response, progression, death…).
pub fn swimmer_svg(lanes: &[SwimmerLane], time_label: &str, title: &str) -> Figure {
    let (w, pw, lw) = (760.0, 520.0, 110.0);
    let lane_h = 14.0;
    let ph = lane_h * lanes.len() as f64;
    let h = TOP + ph + 70.0;
    let t_max = lanes.iter().map(|l| l.length).fold(1.0, f64::max);
    let x = |t: f64| lw + pw * (t / t_max).clamp(0.0, 1.0);
    let mut kinds: Vec<&str> = Vec::new();
    for l in lanes {
        for (_, k) in &l.events {
            if !kinds.contains(&k.as_str()) {
                kinds.push(k);
            }
        }
    }
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(10.0, 20.0, title, 14.0, "start", "#000");
    for (i, l) in lanes.iter().enumerate() {
        let cy = TOP + lane_h * (i as f64 + 0.5);
        svg.text(lw - 6.0, cy + 4.0, &l.label, 9.0, "end", "#000");
        svg.rect(lw, cy - lane_h * 0.35, x(l.length) - lw, lane_h * 0.7, PALETTE[l.group % PALETTE.len()], None);
        if l.ongoing {
            svg.text(x(l.length) + 2.0, cy + 4.0, "→", 11.0, "start", "#000");
        }
        for (t, k) in &l.events {
            let idx = kinds.iter().position(|q| q == k).unwrap_or(0);
            marker(&mut svg, x(*t), cy, idx);
        }
    }
    let bottom = TOP + ph;
    svg.line(lw, bottom, lw + pw, bottom, "#000", 1.0, None);
    for t in ticks(0.0, t_max, 6) {
        svg.line(x(t), bottom, x(t), bottom + 4.0, "#000", 1.0, None);
        svg.text(x(t), bottom + 16.0, &num(t), 11.0, "middle", "#000");
    }
    svg.text(lw + pw / 2.0, bottom + 32.0, time_label, 12.0, "middle", "#000");
    // Legend entries laid out by their text length (about 6.5 px per character at 11 px).
    let mut lx = lw;
    for (i, k) in kinds.iter().enumerate() {
        marker(&mut svg, lx, bottom + 50.0, i);
        svg.text(lx + 8.0, bottom + 54.0, k, 11.0, "start", "#000");
        lx += 28.0 + 6.5 * k.chars().count() as f64;
    }
    svg.finish(title)
}

/// Six distinct markers: open circle, red triangle, black square, cross, black disc, diamond.
fn marker(svg: &mut Svg, x: f64, y: f64, kind: usize) {
    match kind % 6 {
        0 => svg.circle(x, y, 4.0, "#ffffff", "#000000"),
        1 => svg.path(
            &format!(
                "M{} {}L{} {}L{} {}Z",
                num(x),
                num(y - 5.0),
                num(x + 5.0),
                num(y + 4.0),
                num(x - 5.0),
                num(y + 4.0)
            ),
            "#000",
            1.0,
            "#ff0000",
            None,
        ),
        2 => svg.rect(x - 4.0, y - 4.0, 8.0, 8.0, "#000000", None),
        4 => svg.circle(x, y, 4.0, "#000000", "#000000"),
        5 => svg.path(
            &format!(
                "M{} {}L{} {}L{} {}L{} {}Z",
                num(x),
                num(y - 5.0),
                num(x + 5.0),
                num(y),
                num(x),
                num(y + 5.0),
                num(x - 5.0),
                num(y)
            ),
            "#000",
            1.0,
            "#ffd700",
            None,
        ),
        _ => {
            svg.line(x - 4.0, y - 4.0, x + 4.0, y + 4.0, "#000", 2.0, None);
            svg.line(x - 4.0, y + 4.0, x + 4.0, y - 4.0, "#000", 2.0, None);
        }
    }
}

/// One patient's trajectory in a spider plot: (time, % change from baseline) points.
#[derive(Clone, Debug)]
pub struct SpiderLine {
    /// Group index (colour).
    pub group: usize,
    /// Points in time order, starting at (0, 0).
    pub points: Vec<(f64, f64)>,
}

/// A spider plot of % change in target sum over time per patient, with the +20 / −30 % lines.
pub fn spider_svg(lines: &[SpiderLine], group_labels: &[String], time_label: &str, title: &str) -> Figure {
    let (w, ph, pw) = (760.0, 300.0, 560.0);
    let h = TOP + ph + 60.0;
    let t_max = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).fold(1.0, f64::max);
    let hi = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).fold(30.0, f64::max).min(200.0);
    let lo = -100.0;
    let x = |t: f64| LEFT + pw * (t / t_max).clamp(0.0, 1.0);
    let y = |v: f64| TOP + ph * (1.0 - (v.clamp(lo, hi) - lo) / (hi - lo));
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    svg.text(LEFT, 20.0, title, 14.0, "start", "#000");
    for t in ticks(lo, hi, 6) {
        svg.line(LEFT, y(t), LEFT + pw, y(t), "#eeeeee", 1.0, None);
        svg.text(LEFT - 6.0, y(t) + 4.0, &format!("{}%", num(t)), 11.0, "end", "#000");
    }
    for t in ticks(0.0, t_max, 6) {
        svg.text(x(t), TOP + ph + 16.0, &num(t), 11.0, "middle", "#000");
    }
    svg.line(LEFT, y(20.0), LEFT + pw, y(20.0), "#a00000", 1.0, Some("5 3"));
    svg.line(LEFT, y(-30.0), LEFT + pw, y(-30.0), "#006400", 1.0, Some("5 3"));
    svg.line(LEFT, y(0.0), LEFT + pw, y(0.0), "#000", 1.0, None);
    for l in lines {
        let pts: Vec<(f64, f64)> = l.points.iter().map(|(t, v)| (x(*t), y(*v))).collect();
        svg.polyline(&pts, PALETTE[l.group % PALETTE.len()], 1.2, None);
    }
    svg.text(LEFT + pw / 2.0, TOP + ph + 32.0, time_label, 12.0, "middle", "#000");
    svg.vertical_text(18.0, TOP + ph / 2.0, "Change in target sum (%)", 12.0);
    for (i, g) in group_labels.iter().enumerate() {
        let lx = LEFT + 140.0 * i as f64;
        svg.rect(lx, TOP + ph + 42.0, 10.0, 10.0, PALETTE[i % PALETTE.len()], None);
        svg.text(lx + 14.0, TOP + ph + 51.0, g, 11.0, "start", "#000");
    }
    svg.finish(title)
}

/// The counts of a two-arm CONSORT flow diagram.
#[derive(Clone, Debug)]
pub struct Consort {
    /// Assessed for eligibility.
    pub screened: usize,
    /// Excluded, with a count per reason (reason, count).
    pub excluded: Vec<(String, usize)>,
    /// Randomized.
    pub randomized: usize,
    /// Per arm: (label, allocated, received allocated intervention, lost to follow-up,
    /// discontinued, analysed).
    pub arms: Vec<ConsortArm>,
}

/// One arm's column of the CONSORT diagram.
#[derive(Clone, Debug)]
pub struct ConsortArm {
    /// Arm label.
    pub label: String,
    /// Allocated.
    pub allocated: usize,
    /// Received the allocated intervention.
    pub treated: usize,
    /// Lost to follow-up.
    pub lost: usize,
    /// Discontinued (withdrew, died before assessment…).
    pub discontinued: usize,
    /// Analysed.
    pub analysed: usize,
}

/// The words of the CONSORT diagram's boxes (each followed by `(n = N)`).
#[derive(Clone, Copy, Debug)]
pub struct ConsortLabels<'a> {
    /// `Assessed for eligibility`.
    pub assessed: &'a str,
    /// `Excluded`.
    pub excluded: &'a str,
    /// `Randomized`.
    pub randomized: &'a str,
    /// `Allocated to` (followed by the arm's label).
    pub allocated_to: &'a str,
    /// `Received allocated intervention`.
    pub received: &'a str,
    /// `Lost to follow-up`.
    pub lost: &'a str,
    /// `Discontinued`.
    pub discontinued: &'a str,
    /// `Analysed`.
    pub analysed: &'a str,
    /// The figure's title.
    pub title: &'a str,
}

impl ConsortLabels<'static> {
    /// The report's English words.
    pub const ENGLISH: ConsortLabels<'static> = ConsortLabels {
        assessed: "Assessed for eligibility",
        excluded: "Excluded",
        randomized: "Randomized",
        allocated_to: "Allocated to",
        received: "Received allocated intervention",
        lost: "Lost to follow-up",
        discontinued: "Discontinued",
        analysed: "Analysed",
        title: "CONSORT flow diagram",
    };
}

/// The CONSORT 2010 flow diagram (enrolment, allocation, follow-up, analysis).
pub fn consort_svg(c: &Consort) -> Figure {
    consort_svg_labelled(c, &ConsortLabels::ENGLISH)
}

/// [`consort_svg`] with every word given (the web service draws it in the user's language).
pub fn consort_svg_labelled(c: &Consort, labels: &ConsortLabels<'_>) -> Figure {
    let excluded_total: usize = c.excluded.iter().map(|(_, n)| n).sum();
    let n_arms = c.arms.len().max(1);
    let w = 300.0 * n_arms as f64 + 100.0;
    let ex_h = 36.0 + 14.0 * c.excluded.len() as f64;
    // Title box, gap, exclusions, randomized box, fork, then three stages per arm.
    let h = 14.0 + 25.0 + 30.0 + ex_h + 25.0 + 30.0 + 2.0 * 60.0 + 25.0 + 14.0;
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    let cx = w / 2.0;
    let boxed = |svg: &mut Svg, x: f64, y: f64, bw: f64, lines: &[String]| {
        let bh = 10.0 + 15.0 * lines.len() as f64;
        svg.rect(x - bw / 2.0, y, bw, bh, "#ffffff", Some("#000"));
        for (i, l) in lines.iter().enumerate() {
            svg.text(x, y + 18.0 + 15.0 * i as f64, l, 11.0, "middle", "#000");
        }
        bh
    };
    let mut y = 14.0;
    let bh = boxed(&mut svg, cx, y, 260.0, &[format!("{} (n = {})", labels.assessed, c.screened)]);
    svg.line(cx, y + bh, cx, y + bh + 30.0 + ex_h, "#000", 1.0, None);
    let mut ex_lines = vec![format!("{} (n = {excluded_total})", labels.excluded)];
    ex_lines.extend(c.excluded.iter().map(|(r, n)| format!("• {r} (n = {n})")));
    let ex_y = y + bh + 14.0;
    svg.line(cx, ex_y + ex_h / 2.0, cx + 40.0, ex_y + ex_h / 2.0, "#000", 1.0, None);
    let ex_w = (w / 2.0 - 50.0).max(220.0);
    let mut ey = ex_y;
    svg.rect(cx + 40.0, ey, ex_w, 10.0 + 14.0 * ex_lines.len() as f64, "#ffffff", Some("#000"));
    for l in &ex_lines {
        ey += 14.0;
        svg.text(cx + 48.0, ey + 2.0, l, 10.0, "start", "#000");
    }
    y = y + bh + 30.0 + ex_h;
    let bh = boxed(&mut svg, cx, y, 200.0, &[format!("{} (n = {})", labels.randomized, c.randomized)]);
    y += bh;
    let col = |i: usize| 50.0 + 300.0 * i as f64 + 150.0;
    svg.line(col(0), y + 15.0, col(n_arms - 1), y + 15.0, "#000", 1.0, None);
    svg.line(cx, y, cx, y + 15.0, "#000", 1.0, None);
    for (i, a) in c.arms.iter().enumerate() {
        let x = col(i);
        let mut yy = y + 30.0;
        svg.line(x, y + 15.0, x, yy, "#000", 1.0, None);
        let stages = [
            vec![
                format!("{} {} (n = {})", labels.allocated_to, a.label, a.allocated),
                format!("{} (n = {})", labels.received, a.treated),
            ],
            vec![
                format!("{} (n = {})", labels.lost, a.lost),
                format!("{} (n = {})", labels.discontinued, a.discontinued),
            ],
            vec![format!("{} (n = {})", labels.analysed, a.analysed)],
        ];
        for (k, lines) in stages.iter().enumerate() {
            let bh = boxed(&mut svg, x, yy, 270.0, lines);
            if k + 1 < stages.len() {
                svg.line(x, yy + bh, x, yy + bh + 20.0, "#000", 1.0, None);
            }
            yy += bh + 20.0;
        }
    }
    svg.finish(labels.title)
}
