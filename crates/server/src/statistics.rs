//! The statistician's dashboard and downloads: enrolment by site over time, the CONSORT counts
//! and diagram, Kaplan–Meier curves by arm and the endpoint tables, and the SDTM, ADaM,
//! de-identified IPD and analysis-report exports as zip archives.
//!
//! Every number comes from `cryoseed-report` on the same inputs as `cryoseed report` (the
//! store's snapshot, analysis datasets and response assessments), so the dashboard shows the
//! report's numbers and the downloads hold the bytes `cryoseed report` / `cryoseed export --db`
//! write; only the words of the figures follow the user's language. Arm-level results are
//! unblinded data: each view is audited like the allocation list, each download as an `export`
//! entry naming its files and the data snapshot. The route table gives all of it to the
//! statistician alone (data managers run the data, not the comparison of the arms).

use crate::AppState;
use crate::auth::{Auth, Current};
use crate::error::{ApiError, ApiResult};
use crate::forms::JsonBody;
use crate::i18n::Tr;
use crate::pages::{Nav, nav, render};
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use cryoseed_core::Arm;
use cryoseed_report::svg::{PALETTE, Svg, num, ticks};
use cryoseed_report::{
    AnalysisSummary, ConsortLabels, KmGroup, KmLabels, TrialFigures, TrialInput, analysis_with_figures, bundle,
    consort_svg_labelled, km_svg_labelled,
};
use cryoseed_store::export::TrialDocument;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The software version printed in reports (the CLI's, too: every crate has the workspace's).
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs `f` on the trial as `cryoseed report` reads it (off the async workers: the analysis
/// fits models).
async fn with_trial<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&TrialInput<'_>) -> T + Send + 'static,
) -> ApiResult<T> {
    let doc = state.store.snapshot().await?;
    let (datasets, assessments) = state.store.analysis(&state.protocol).await?;
    let protocol = state.protocol.clone();
    tokio::task::spawn_blocking(move || {
        f(&TrialInput { doc: &doc, datasets: &datasets, assessments: &assessments, protocol: &protocol })
    })
    .await
    .map_err(|e| ApiError::internal(&e))
}

// ---------------------------------------------------------------- enrolment

/// One calendar month of enrolment.
#[derive(Clone, Debug, Serialize)]
pub struct EnrolmentMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Patients screened (registered) that month, per site.
    pub screened: BTreeMap<String, usize>,
    /// Patients randomized that month, per site.
    pub randomized: BTreeMap<String, usize>,
    /// Patients randomized up to the end of the month, per site.
    pub randomized_cumulative: BTreeMap<String, usize>,
}

/// Enrolment by site over time.
#[derive(Clone, Debug, Serialize)]
pub struct Enrolment {
    /// Every site, in order.
    pub sites: Vec<String>,
    /// Every month from the first screening to the last event, in order.
    pub months: Vec<EnrolmentMonth>,
}

fn month_of(date: &str) -> Option<String> {
    date.get(..7).filter(|m| m.len() == 7 && m.as_bytes()[4] == b'-').map(str::to_owned)
}

fn next_month(month: &str) -> Option<String> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (u32, u32) = (y.parse().ok()?, m.parse().ok()?);
    Some(if m >= 12 { format!("{:04}-01", y + 1) } else { format!("{y:04}-{:02}", m + 1) })
}

/// Screenings and randomizations per site and month (every month in between listed, even empty).
pub fn enrolment(doc: &TrialDocument) -> Enrolment {
    let sites: Vec<String> = doc.sites.iter().map(|s| s.site_id.clone()).collect();
    let site_of: BTreeMap<&str, &str> =
        doc.patients.iter().map(|p| (p.patient_id.as_str(), p.site_id.as_str())).collect();
    let screened: Vec<(String, &str)> =
        doc.patients.iter().filter_map(|p| Some((month_of(&p.enrolled_on)?, p.site_id.as_str()))).collect();
    let randomized: Vec<(String, &str)> = doc
        .allocations
        .iter()
        .filter_map(|a| Some((month_of(&a.randomized_on)?, *site_of.get(a.patient_id.as_str())?)))
        .collect();
    let all: BTreeSet<&String> = screened.iter().chain(&randomized).map(|(m, _)| m).collect();
    let mut months = Vec::new();
    let (Some(first), Some(last)) = (all.first(), all.last()) else { return Enrolment { sites, months } };
    let mut cumulative: BTreeMap<String, usize> = sites.iter().map(|s| (s.clone(), 0)).collect();
    let mut month = (*first).clone();
    while month.as_str() <= last.as_str() {
        let count = |rows: &[(String, &str)]| -> BTreeMap<String, usize> {
            sites
                .iter()
                .map(|s| (s.clone(), rows.iter().filter(|(m, site)| *m == month && site == s).count()))
                .collect()
        };
        let randomized_now = count(&randomized);
        for (s, n) in &randomized_now {
            *cumulative.entry(s.clone()).or_default() += n;
        }
        months.push(EnrolmentMonth {
            screened: count(&screened),
            randomized: randomized_now,
            randomized_cumulative: cumulative.clone(),
            month: month.clone(),
        });
        match next_month(&month) {
            Some(next) => month = next,
            None => break,
        }
    }
    Enrolment { sites, months }
}

/// `2026-01` as `Jan 2026` or `2026年1月`.
fn month_label(tr: Tr, month: &str) -> String {
    let day = tr.date(&format!("{month}-01"));
    match tr.locale {
        crate::i18n::Locale::En => day.split_once(' ').map_or(day.clone(), |(_, rest)| rest.to_owned()),
        crate::i18n::Locale::Zh => day.split_once('月').map_or(day.clone(), |(ym, _)| format!("{ym}月")),
    }
}

/// Cumulative randomizations per site by month, one step line per site.
fn enrolment_svg(tr: Tr, e: &Enrolment) -> String {
    let (w, h, left, top, pw, ph) = (640.0, 250.0, 50.0, 30.0, 440.0, 170.0);
    let n = e.months.len().max(1);
    let y_max = e.months.last().map_or(0, |m| m.randomized_cumulative.values().copied().max().unwrap_or(0)).max(1);
    let x = |i: usize| left + pw * (i as f64 + 0.5) / n as f64;
    let y = |v: f64| top + ph * (1.0 - v / y_max as f64);
    let mut svg = Svg::new(w, h);
    svg.rect(0.0, 0.0, w, h, "#ffffff", None);
    let title = tr.get("stats.enrolment_chart");
    svg.text(left, 18.0, title, 13.0, "start", "#000");
    for t in ticks(0.0, y_max as f64, 4) {
        svg.line(left, y(t), left + pw, y(t), "#e5e5e5", 1.0, None);
        svg.text(left - 6.0, y(t) + 4.0, &num(t), 11.0, "end", "#000");
    }
    svg.rect(left, top, pw, ph, "none", Some("#000"));
    let step = n.div_ceil(6).max(1);
    for (i, m) in e.months.iter().enumerate() {
        if i % step == 0 || i + 1 == n {
            svg.text(x(i), top + ph + 16.0, &month_label(tr, &m.month), 10.0, "middle", "#000");
        }
    }
    for (k, site) in e.sites.iter().enumerate() {
        let colour = PALETTE[k % PALETTE.len()];
        let mut points = vec![(left, y(0.0))];
        let mut prev = 0.0;
        for (i, m) in e.months.iter().enumerate() {
            let v = m.randomized_cumulative.get(site).copied().unwrap_or(0) as f64;
            points.push((x(i), y(prev)));
            points.push((x(i), y(v)));
            prev = v;
        }
        points.push((left + pw, y(prev)));
        svg.polyline(&points, colour, 2.0, None);
        let ly = top + 12.0 + 16.0 * k as f64;
        svg.line(left + pw + 12.0, ly - 4.0, left + pw + 32.0, ly - 4.0, colour, 2.0, None);
        svg.text(left + pw + 38.0, ly, &format!("{site} ({})", num(prev)), 11.0, "start", "#000");
    }
    svg.finish(title).to_svg()
}

// ---------------------------------------------------------------- CONSORT, endpoints

/// The CONSORT counts (the report's diagram's numbers).
#[derive(Clone, Debug, Serialize)]
pub struct ConsortCounts {
    /// Assessed for eligibility.
    pub screened: usize,
    /// Excluded, per reason.
    pub excluded: Vec<(String, usize)>,
    /// Randomized.
    pub randomized: usize,
    /// Per arm.
    pub arms: Vec<ConsortArmCounts>,
}

/// One arm's column.
#[derive(Clone, Debug, Serialize)]
pub struct ConsortArmCounts {
    /// `experimental` or `control`.
    pub arm: Arm,
    /// Allocated.
    pub allocated: usize,
    /// Received the allocated intervention.
    pub treated: usize,
    /// Lost to follow-up.
    pub lost: usize,
    /// Discontinued.
    pub discontinued: usize,
    /// Analysed.
    pub analysed: usize,
}

/// The arm of a CONSORT column (the report labels them with the CDISC arm names).
fn consort_arm(label: &str) -> Arm {
    if label == cryoseed_report::cdisc::arm_code(Arm::Experimental).1 { Arm::Experimental } else { Arm::Control }
}

fn consort_counts(figures: &TrialFigures) -> ConsortCounts {
    let c = &figures.consort;
    ConsortCounts {
        screened: c.screened,
        excluded: c.excluded.clone(),
        randomized: c.randomized,
        arms: c
            .arms
            .iter()
            .map(|a| ConsortArmCounts {
                arm: consort_arm(&a.label),
                allocated: a.allocated,
                treated: a.treated,
                lost: a.lost,
                discontinued: a.discontinued,
                analysed: a.analysed,
            })
            .collect(),
    }
}

/// An arm's short name for figures (`Experimental`, `Control`), where the tables' full names do
/// not fit.
fn arm_short(tr: Tr, arm: &str) -> String {
    match arm {
        a if a == Arm::Experimental.to_string() => tr.get("arm.short.experimental").to_owned(),
        a if a == Arm::Control.to_string() => tr.get("arm.short.control").to_owned(),
        other => other.to_owned(),
    }
}

fn arm_label(tr: Tr, arm: &str) -> String {
    match arm {
        a if a == Arm::Experimental.to_string() => tr.get("arm.experimental").to_owned(),
        a if a == Arm::Control.to_string() => tr.get("arm.control").to_owned(),
        other => other.to_owned(),
    }
}

/// An exclusion reason of the report (`not eligible: inclusion.ecog`, `eligibility pending`,
/// `eligible, not randomized`) in the user's language.
fn exclusion_label(tr: Tr, reason: &str) -> String {
    match reason.strip_prefix("not eligible: ") {
        Some("criteria") => tr.get("consort.not_eligible").to_owned(),
        Some(id) => format!("{}: {}", tr.get("consort.not_eligible"), tr.get(&format!("criterion.{id}"))),
        None if reason == "eligibility pending" => tr.get("consort.pending").to_owned(),
        None => tr.get("consort.not_randomized").to_owned(),
    }
}

fn consort_figure(tr: Tr, figures: &TrialFigures) -> String {
    let mut c = figures.consort.clone();
    for (reason, _) in &mut c.excluded {
        *reason = exclusion_label(tr, reason);
    }
    for a in &mut c.arms {
        a.label = arm_short(tr, &consort_arm(&a.label).to_string());
    }
    consort_svg_labelled(
        &c,
        &ConsortLabels {
            assessed: tr.get("consort.assessed"),
            excluded: tr.get("consort.excluded"),
            randomized: tr.get("consort.randomized"),
            allocated_to: tr.get("consort.allocated_to"),
            received: tr.get("consort.received"),
            lost: tr.get("consort.lost"),
            discontinued: tr.get("consort.discontinued"),
            analysed: tr.get("consort.analysed"),
            title: tr.get("consort.title"),
        },
    )
    .to_svg()
}

fn endpoint_key(code: &str) -> &'static str {
    match code {
        "LPFS" => "endpoint.lpfs",
        "PFS" => "endpoint.pfs",
        "TTSP" => "endpoint.ttsp",
        "TTSP_CR" => "endpoint.ttsp_cr",
        _ => "endpoint.os",
    }
}

fn km_figures(tr: Tr, figures: &TrialFigures) -> Vec<String> {
    figures
        .km
        .iter()
        .filter(|(_, fits)| !fits.is_empty())
        .map(|(endpoint, fits)| {
            let groups: Vec<KmGroup<'_>> =
                fits.iter().map(|(arm, km)| KmGroup { label: arm_short(tr, arm), km }).collect();
            km_svg_labelled(
                &groups,
                &KmLabels {
                    time: tr.get("stats.days_from_randomization"),
                    y: tr.get("stats.probability"),
                    title: tr.get(endpoint_key(endpoint)),
                    at_risk: tr.get("stats.at_risk"),
                    events: tr.get("stats.events"),
                },
            )
            .to_svg()
        })
        .collect()
}

/// What `GET /api/statistics` answers.
#[derive(Debug, Serialize)]
pub struct Dashboard {
    /// Enrolment by site and month.
    pub enrolment: Enrolment,
    /// The CONSORT counts.
    pub consort: ConsortCounts,
    /// Every number of the analysis report (`analysis.json` of `cryoseed report`).
    pub analysis: AnalysisSummary,
}

async fn dashboard(state: &AppState, current: &Current) -> ApiResult<(Dashboard, TrialFigures)> {
    let (enrolment, (analysis, figures)) =
        with_trial(state, |input| (enrolment(input.doc), analysis_with_figures(input, SOFTWARE_VERSION))).await?;
    state.store.record_view(&current.user.user_id, "analysis", "*", "statistics dashboard (results by arm)").await?;
    Ok((Dashboard { enrolment, consort: consort_counts(&figures), analysis }, figures))
}

/// `GET /api/statistics` (statistician; audited).
pub async fn statistics(State(state): State<AppState>, Auth(current): Auth) -> ApiResult<Json<Dashboard>> {
    Ok(Json(dashboard(&state, &current).await?.0))
}

// ---------------------------------------------------------------- the screen

struct EnrolmentRow {
    month: String,
    cells: Vec<String>,
    total: usize,
}

struct TableView {
    title: String,
    code: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    t: Tr,
    nav: Option<Nav>,
    title_key: &'static str,
    snapshot: String,
    data_cut: String,
    sites: Vec<String>,
    enrolment_rows: Vec<EnrolmentRow>,
    enrolment_totals: Vec<(String, usize, usize)>,
    enrolment_svg: String,
    consort_rows: Vec<(String, String)>,
    consort_svg: String,
    km_svgs: Vec<String>,
    tables: Vec<TableView>,
    exports: Vec<(&'static str, &'static str)>,
}

fn ci(tr: Tr, ci: [Option<f64>; 2], decimals: usize) -> String {
    match ci {
        [Some(lo), Some(hi)] => format!("{}–{}", tr.number(lo, decimals), tr.number(hi, decimals)),
        [Some(lo), None] => format!("{}–{}", tr.number(lo, decimals), tr.get("stats.not_reached")),
        _ => tr.get("stats.not_estimable").to_owned(),
    }
}

fn p_value(tr: Tr, p: Option<f64>) -> String {
    match p {
        Some(p) if p < 0.001 => "< 0.001".to_owned(),
        Some(p) => tr.number(p, 3),
        None => tr.get("stats.not_estimable").to_owned(),
    }
}

/// The cells of a proportion `x / n` and its confidence interval.
fn proportion(tr: Tr, x: u64, n: u64, interval: Option<[f64; 2]>) -> [String; 2] {
    let estimate = if n > 0 { tr.number(x as f64 / n as f64, 3) } else { tr.get("stats.not_estimable").to_owned() };
    let interval =
        interval.map_or_else(|| tr.get("stats.not_estimable").to_owned(), |c| ci(tr, [Some(c[0]), Some(c[1])], 3));
    [estimate, interval]
}

/// The endpoint tables: local control, time to event, binary endpoints.
fn endpoint_tables(tr: Tr, s: &AnalysisSummary) -> Vec<TableView> {
    let level = tr.number(100.0 * s.ci_level, 0);
    let ci_head = format!("{level}% {}", tr.get("stats.ci"));
    let mut tables = Vec::new();
    for (i, l) in s.lcr.iter().enumerate() {
        let mut notes = Vec::new();
        if let (Some(d), Some(c)) = (l.gee_difference, l.gee_ci) {
            notes.push(format!(
                "{}: {} ({ci_head} {}), p = {}",
                tr.get("stats.gee_difference"),
                tr.number(d, 3),
                ci(tr, [Some(c[0]), Some(c[1])], 3),
                p_value(tr, l.gee_p)
            ));
        }
        tables.push(TableView {
            title: tr.get(if i == 0 { "stats.lcr_primary" } else { "stats.lcr_sensitivity" }).to_owned(),
            code: String::new(),
            headers: vec![
                tr.get("allocation.arm").to_owned(),
                tr.get("stats.controlled").to_owned(),
                tr.get("stats.lesions").to_owned(),
                tr.get("stats.patients").to_owned(),
                tr.get("stats.proportion").to_owned(),
                ci_head.clone(),
            ],
            rows: l
                .arms
                .iter()
                .map(|(arm, x, n, patients, c)| {
                    vec![arm_label(tr, arm), x.to_string(), n.to_string(), patients.to_string()]
                        .into_iter()
                        .chain(proportion(tr, *x, *n, *c))
                        .collect()
                })
                .collect(),
            notes,
        });
    }
    for t in &s.time_to_event {
        let mut notes = Vec::new();
        if t.logrank_p.is_some() {
            notes.push(format!("{}: p = {}", tr.get("stats.logrank"), p_value(tr, t.logrank_p)));
        }
        if let (Some(hr), Some(c)) = (t.cox_hr, t.cox_hr_ci) {
            notes.push(format!(
                "{}: {} ({ci_head} {}), p = {}",
                tr.get("stats.cox_hr"),
                tr.number(hr, 2),
                ci(tr, [Some(c[0]), Some(c[1])], 2),
                p_value(tr, t.cox_p)
            ));
        }
        let marks: Vec<f64> = t.arms.first().map(|a| a.landmarks.iter().map(|l| l.0).collect()).unwrap_or_default();
        let mut headers = vec![
            tr.get("allocation.arm").to_owned(),
            tr.get("stats.patients").to_owned(),
            tr.get("stats.events_heading").to_owned(),
            tr.get("stats.median_days").to_owned(),
            ci_head.clone(),
        ];
        headers.extend(marks.iter().map(|m| format!("{} {}", tr.number(*m, 0), tr.get("stats.months_survival"))));
        tables.push(TableView {
            title: tr.get(endpoint_key(&t.endpoint)).to_owned(),
            code: t.endpoint.clone(),
            headers,
            rows: t
                .arms
                .iter()
                .map(|a| {
                    let mut row = vec![
                        arm_label(tr, &a.arm),
                        a.n.to_string(),
                        a.events.to_string(),
                        a.median.map_or_else(|| tr.get("stats.not_reached").to_owned(), |m| tr.number(m, 0)),
                        ci(tr, a.median_ci, 0),
                    ];
                    row.extend(
                        a.landmarks
                            .iter()
                            .map(|(_, _, surv, c)| format!("{} ({})", tr.number(*surv, 3), ci(tr, *c, 3))),
                    );
                    row
                })
                .collect(),
            notes,
        });
    }
    for (i, b) in s.binary.iter().enumerate() {
        let mut notes = Vec::new();
        if let Some(c) = b.newcombe_ci {
            notes.push(format!("{}: {ci_head} {}", tr.get("stats.newcombe"), ci(tr, [Some(c[0]), Some(c[1])], 3)));
        }
        if b.fisher_p.is_some() {
            notes.push(format!("{}: p = {}", tr.get("stats.fisher"), p_value(tr, b.fisher_p)));
        }
        tables.push(TableView {
            title: tr.get(["stats.orr", "stats.technical_success", "stats.reintervention"][i.min(2)]).to_owned(),
            code: String::new(),
            headers: vec![
                tr.get("allocation.arm").to_owned(),
                tr.get("stats.responders").to_owned(),
                tr.get("stats.analysed").to_owned(),
                tr.get("stats.proportion").to_owned(),
                ci_head.clone(),
            ],
            rows: b
                .arms
                .iter()
                .map(|(arm, x, n, c)| {
                    vec![arm_label(tr, arm), x.to_string(), n.to_string()]
                        .into_iter()
                        .chain(proportion(tr, *x, *n, *c))
                        .collect()
                })
                .collect(),
            notes,
        });
    }
    tables
}

/// `GET /statistics`: the dashboard (statistician; audited).
pub async fn statistics_page(State(state): State<AppState>, Auth(current): Auth) -> ApiResult<Response> {
    let tr = current.tr();
    let (d, figures) = dashboard(&state, &current).await?;
    let sites = d.enrolment.sites.clone();
    let enrolment_rows = d
        .enrolment
        .months
        .iter()
        .map(|m| EnrolmentRow {
            month: month_label(tr, &m.month),
            cells: sites
                .iter()
                .map(|s| {
                    format!(
                        "{} / {} ({})",
                        m.screened.get(s).copied().unwrap_or(0),
                        m.randomized.get(s).copied().unwrap_or(0),
                        m.randomized_cumulative.get(s).copied().unwrap_or(0)
                    )
                })
                .collect(),
            total: m.randomized_cumulative.values().sum(),
        })
        .collect();
    let enrolment_totals = sites
        .iter()
        .map(|s| {
            let screened = d.enrolment.months.iter().map(|m| m.screened.get(s).copied().unwrap_or(0)).sum();
            let randomized =
                d.enrolment.months.last().and_then(|m| m.randomized_cumulative.get(s).copied()).unwrap_or(0);
            (s.clone(), screened, randomized)
        })
        .collect();
    let mut consort_rows = vec![(tr.get("consort.assessed").to_owned(), d.consort.screened.to_string())];
    consort_rows.extend(
        d.consort
            .excluded
            .iter()
            .map(|(r, n)| (format!("{}: {}", tr.get("consort.excluded"), exclusion_label(tr, r)), n.to_string())),
    );
    consort_rows.push((tr.get("consort.randomized").to_owned(), d.consort.randomized.to_string()));
    for a in &d.consort.arms {
        let arm = arm_label(tr, &a.arm.to_string());
        for (key, n) in [
            ("consort.allocated_to", a.allocated),
            ("consort.received", a.treated),
            ("consort.lost", a.lost),
            ("consort.discontinued", a.discontinued),
            ("consort.analysed", a.analysed),
        ] {
            consort_rows.push((format!("{arm}: {}", tr.get(key)), n.to_string()));
        }
    }
    Ok(render(&StatisticsPage {
        t: tr,
        nav: nav(&current),
        title_key: "stats.title",
        snapshot: d.analysis.snapshot_sha256.chars().take(16).collect(),
        data_cut: d.analysis.data_cut.as_deref().map_or_else(|| tr.get("stats.no_data").to_owned(), |c| tr.date(c)),
        enrolment_svg: enrolment_svg(tr, &d.enrolment),
        consort_svg: consort_figure(tr, &figures),
        km_svgs: km_figures(tr, &figures),
        tables: endpoint_tables(tr, &d.analysis),
        sites,
        enrolment_rows,
        enrolment_totals,
        consort_rows,
        exports: vec![
            ("sdtm", "export.sdtm"),
            ("adam", "export.adam"),
            ("ipd", "export.ipd"),
            ("report", "export.report"),
        ],
    }))
}

// ---------------------------------------------------------------- exports

/// Options of a download.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportBody {
    /// Seed of the IPD's random participant codes (required for `ipd`; keep it secret): a whole
    /// number, or a string of digits (browsers cannot send every 64-bit number exactly).
    #[serde(default)]
    pub ipd_seed: Option<serde_json::Value>,
}

/// The IPD seed of `value`, or the field error in the user's language.
fn ipd_seed(tr: Tr, value: Option<&serde_json::Value>) -> ApiResult<u64> {
    let seed = match value {
        None | Some(serde_json::Value::Null) => {
            return Err(ApiError::field("ipd_seed", tr.get("export.seed_required")));
        }
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            s.trim().parse().ok()
        }
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => {
            return Err(ApiError::field("ipd_seed", tr.get("export.seed_required")));
        }
        Some(_) => None,
    };
    seed.ok_or_else(|| ApiError::field("ipd_seed", tr.get("export.seed_invalid")))
}

/// `POST /api/exports/{dataset}` (`sdtm`, `adam`, `ipd`, `report`): a zip of the files
/// `cryoseed export --db` / `cryoseed report` write; audited as an export.
pub async fn export(
    State(state): State<AppState>,
    Auth(current): Auth,
    Path(dataset): Path<String>,
    JsonBody(body): JsonBody<ExportBody>,
) -> ApiResult<Response> {
    let tr = current.tr();
    if !matches!(dataset.as_str(), "sdtm" | "adam" | "ipd" | "report") {
        return Err(ApiError::not_found("export"));
    }
    let seed = if dataset == "ipd" { ipd_seed(tr, body.ipd_seed.as_ref())? } else { 0 };
    let which = dataset.clone();
    let (files, snapshot) = with_trial(&state, move |input| {
        let files = match which.as_str() {
            "sdtm" => bundle::sdtm_files(input),
            "adam" => bundle::adam_files(input),
            "ipd" => Ok(bundle::ipd_files(input, seed)),
            _ => Ok(bundle::report_files(input, SOFTWARE_VERSION).0),
        };
        (files, input.snapshot_sha256())
    })
    .await?;
    let files = files.map_err(|e| ApiError::internal(&e))?;
    let archive = crate::zip::zip(&files).map_err(|e| ApiError::internal(&e))?;
    let detail = serde_json::json!({
        "files": files.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "snapshot_sha256": snapshot,
        "bytes": archive.len(),
    });
    state.store.record_export(&current.user.user_id, &dataset, &detail.to_string()).await?;
    let name = format!("cryoseed-{dataset}-{}.zip", &snapshot[..12.min(snapshot.len())]);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        archive,
    )
        .into_response())
}
