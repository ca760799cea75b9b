//! `cryoseed stats km|logrank|cox|cif|binom|gee|power`: the statistics engine on a CSV file.
//!
//! Every command reads a CSV file with a header row and prints a JSON document. Row numbers in
//! error messages are line numbers of the file (the header is row 1), so `rossi.csv row 12` is
//! the 12th line in an editor or spreadsheet. Times are in the file's own unit; defaults (level,
//! KM transform, Cox ties, GEE correlation, landmarks, power assumptions) come from the protocol.

use crate::output;
use anyhow::{Context, anyhow, bail};
use cryoseed_core::Months;
use cryoseed_core::protocol::{CoxTies, GeeCorrelation, KmCiTransform, Multiplicity, Protocol};
use cryoseed_stats as st;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The `stats` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum StatsCommand {
    /// Kaplan–Meier survival table, median with Brookmeyer–Crowley CI, landmarks and RMST.
    Km(KmArgs),
    /// Log-rank (or Fleming–Harrington weighted) test across groups, optionally stratified.
    Logrank(LogrankArgs),
    /// Cox proportional hazards regression (Efron or Breslow ties, strata, robust SE, PH test).
    Cox(CoxArgs),
    /// Aalen–Johansen cumulative incidence of one cause, and Gray's test across groups.
    Cif(CifArgs),
    /// Proportions: Clopper–Pearson, Wilson, Agresti–Coull; Newcombe difference; Fisher; CMH.
    Binom(BinomArgs),
    /// GEE for a clustered binary outcome (lesions within patients), robust SE, cluster bootstrap.
    Gee(GeeArgs),
    /// Power of the trial's primary endpoints: Schoenfeld's formula and a seeded simulation.
    Power(PowerArgs),
}

/// Input file and the survival columns shared by km, logrank and cox.
#[derive(Debug, clap::Args)]
pub struct SurvivalColumns {
    /// CSV file with a header row.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Column holding the follow-up time (≥ 0, in the file's unit).
    #[arg(long, value_name = "COL")]
    time: String,
    /// Column holding the event indicator: 1 = event, 0 = censored.
    #[arg(long, value_name = "COL")]
    event: String,
}

/// Flags of `cryoseed stats km`.
#[derive(Debug, clap::Args)]
pub struct KmArgs {
    #[command(flatten)]
    columns: SurvivalColumns,
    /// Column defining groups: one curve per distinct value (sorted as text).
    #[arg(long, value_name = "COL")]
    group: Option<String>,
    /// Pointwise CI transform: log-log (lifelines' and SAS's default), log (R survfit's default)
    /// or plain (R conf.type = "plain"). Default: the protocol's analysis.km_ci_transform.
    #[arg(long, value_name = "TYPE", value_parser = ["log-log", "log", "plain"])]
    conf_type: Option<String>,
    /// Confidence level (default: the protocol's analysis.ci_level).
    #[arg(long, value_name = "LEVEL")]
    level: Option<f64>,
    /// Landmark times for S(t) with CI, comma-separated, in the file's time unit (default: the
    /// protocol's analysis.landmark_months, meaningful when times are in months).
    #[arg(long, value_name = "T,T,..", value_delimiter = ',')]
    landmarks: Option<Vec<f64>>,
    /// Horizon τ of the restricted mean survival time (default: the largest observed time).
    #[arg(long, value_name = "TAU")]
    rmst_tau: Option<f64>,
}

/// Flags of `cryoseed stats logrank`.
#[derive(Debug, clap::Args)]
pub struct LogrankArgs {
    #[command(flatten)]
    columns: SurvivalColumns,
    /// Column defining the groups to compare (two or more distinct values).
    #[arg(long, value_name = "COL")]
    group: String,
    /// Column defining strata: the test is summed over strata.
    #[arg(long, value_name = "COL")]
    strata: Option<String>,
    /// Fleming–Harrington ρ: weight Ŝ(t−)^ρ (0 with --fh-gamma 0 is the log-rank test).
    #[arg(long, value_name = "RHO", default_value_t = 0.0)]
    fh_rho: f64,
    /// Fleming–Harrington γ: weight (1 − Ŝ(t−))^γ.
    #[arg(long, value_name = "GAMMA", default_value_t = 0.0)]
    fh_gamma: f64,
}

/// Flags of `cryoseed stats cox`.
#[derive(Debug, clap::Args)]
pub struct CoxArgs {
    #[command(flatten)]
    columns: SurvivalColumns,
    /// Numeric covariate columns, comma-separated.
    #[arg(long, value_name = "A,B,..", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
    /// Tie handling (default: the protocol's analysis.cox_ties).
    #[arg(long, value_name = "TIES", value_parser = ["efron", "breslow"])]
    ties: Option<String>,
    /// Column defining strata (separate baseline hazards).
    #[arg(long, value_name = "COL")]
    strata: Option<String>,
    /// Column defining clusters: robust (sandwich) standard errors summed within clusters.
    #[arg(long, value_name = "COL")]
    cluster: Option<String>,
    /// Robust standard errors with each row its own cluster.
    #[arg(long)]
    robust: bool,
    /// Also test proportional hazards (Grambsch–Therneau, scaled Schoenfeld residuals) on this
    /// time scale: km (1 − KM), rank, identity or log.
    #[arg(long, value_name = "SCALE", value_parser = ["km", "rank", "identity", "log"])]
    ph_test: Option<String>,
    /// Confidence level of hazard-ratio intervals (default: the protocol's analysis.ci_level).
    #[arg(long, value_name = "LEVEL")]
    level: Option<f64>,
}

/// Flags of `cryoseed stats cif`.
#[derive(Debug, clap::Args)]
pub struct CifArgs {
    /// CSV file with a header row.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Column holding the time (≥ 0).
    #[arg(long, value_name = "COL")]
    time: String,
    /// Column holding the status: 0 = censored, k = failure from cause k (whole number ≥ 1).
    #[arg(long, value_name = "COL")]
    status: String,
    /// Cause of interest.
    #[arg(long, value_name = "K", default_value_t = 1)]
    cause: u32,
    /// Column defining groups: one curve per group and Gray's test across them.
    #[arg(long, value_name = "COL")]
    group: Option<String>,
    /// Column defining strata for Gray's test.
    #[arg(long, value_name = "COL")]
    strata: Option<String>,
    /// Confidence level (default: the protocol's analysis.ci_level).
    #[arg(long, value_name = "LEVEL")]
    level: Option<f64>,
}

/// Flags of `cryoseed stats binom`.
#[derive(Debug, clap::Args)]
pub struct BinomArgs {
    /// CSV file with a header row (with --outcome); or give counts with --successes/--trials.
    #[arg(long, value_name = "FILE", requires = "outcome", conflicts_with_all = ["successes", "trials"])]
    input: Option<PathBuf>,
    /// Column holding the binary outcome (1 = success, e.g. local control; 0 = failure).
    #[arg(long, value_name = "COL", requires = "input")]
    outcome: Option<String>,
    /// Column defining the groups (two groups: difference, Fisher and, with --strata, CMH).
    #[arg(long, value_name = "COL", requires = "input")]
    group: Option<String>,
    /// Column defining strata for the Cochran–Mantel–Haenszel test.
    #[arg(long, value_name = "COL", requires = "group")]
    strata: Option<String>,
    /// Successes per group (counts mode), comma-separated: one or two groups.
    #[arg(long, value_name = "X,..", value_delimiter = ',', requires = "trials")]
    successes: Option<Vec<u64>>,
    /// Trials per group (counts mode), comma-separated, same order as --successes.
    #[arg(long, value_name = "N,..", value_delimiter = ',', requires = "successes")]
    trials: Option<Vec<u64>>,
    /// Confidence level (default: the protocol's analysis.ci_level).
    #[arg(long, value_name = "LEVEL")]
    level: Option<f64>,
}

/// Flags of `cryoseed stats gee`.
#[derive(Debug, clap::Args)]
pub struct GeeArgs {
    /// CSV file with a header row, one row per lesion.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Column holding the binary outcome (1/0).
    #[arg(long, value_name = "COL")]
    outcome: String,
    /// Numeric covariate columns, comma-separated (an intercept is added).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',', required = true)]
    covariates: Vec<String>,
    /// Column identifying the cluster (the patient).
    #[arg(long, value_name = "COL")]
    cluster: String,
    /// Link: logit (log odds ratios) or identity (risk differences).
    #[arg(long, value_name = "LINK", default_value = "logit", value_parser = ["logit", "identity"])]
    link: String,
    /// Working correlation (default: the protocol's analysis.gee_working_correlation).
    #[arg(long, value_name = "CORR", value_parser = ["exchangeable", "independence"])]
    correlation: Option<String>,
    /// Cluster bootstrap replicates (0 = none).
    #[arg(long, value_name = "N", default_value_t = 0)]
    bootstrap: usize,
    /// Seed of the cluster bootstrap.
    #[arg(long, value_name = "SEED", default_value_t = 20261128)]
    seed: u64,
    /// Confidence level (default: the protocol's analysis.ci_level).
    #[arg(long, value_name = "LEVEL")]
    level: Option<f64>,
}

/// Flags of `cryoseed stats power`; every design value defaults to the protocol's [power] and
/// [analysis] sections.
#[derive(Debug, clap::Args)]
pub struct PowerArgs {
    /// Simulated trials.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    trials: usize,
    /// Seed of the first simulated trial (trial t uses seed + t).
    #[arg(long, value_name = "SEED", default_value_t = 20261128)]
    seed: u64,
    /// Patients per arm.
    #[arg(long, value_name = "N")]
    patients_per_arm: Option<u32>,
    /// Fewest treated target lesions per patient.
    #[arg(long, value_name = "N")]
    min_lesions: Option<u32>,
    /// Most treated target lesions per patient.
    #[arg(long, value_name = "N")]
    max_lesions: Option<u32>,
    /// Local control rate in the control arm (proportion).
    #[arg(long, value_name = "P")]
    lcr_control: Option<f64>,
    /// Local control rate in the experimental arm (proportion).
    #[arg(long, value_name = "P")]
    lcr_experimental: Option<f64>,
    /// Intra-patient correlation of lesion outcomes, in [0, 1).
    #[arg(long, value_name = "RHO")]
    icc: Option<f64>,
    /// Median LPFS of the control arm, months.
    #[arg(long, value_name = "MONTHS")]
    lpfs_control_median: Option<f64>,
    /// LPFS hazard ratio experimental / control.
    #[arg(long, value_name = "HR")]
    lpfs_hazard_ratio: Option<f64>,
    /// Accrual period, months.
    #[arg(long, value_name = "MONTHS")]
    accrual: Option<f64>,
    /// Minimum follow-up after the last randomization, months.
    #[arg(long, value_name = "MONTHS")]
    min_follow_up: Option<f64>,
    /// One-sided significance level per primary endpoint.
    #[arg(long, value_name = "ALPHA")]
    alpha: Option<f64>,
}

/// Runs one `stats` subcommand.
pub fn run(command: &StatsCommand, protocol: &Protocol) -> anyhow::Result<()> {
    match command {
        StatsCommand::Km(a) => km(a, protocol),
        StatsCommand::Logrank(a) => logrank(a),
        StatsCommand::Cox(a) => cox(a, protocol),
        StatsCommand::Cif(a) => cif(a, protocol),
        StatsCommand::Binom(a) => binom(a, protocol),
        StatsCommand::Gee(a) => gee(a, protocol),
        StatsCommand::Power(a) => power(a, protocol),
    }
}

// ---------------------------------------------------------------------------------------------
// CSV input
// ---------------------------------------------------------------------------------------------

/// A CSV file read as text cells, with the line number of each record.
struct Table {
    file: String,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    lines: Vec<u64>,
}

impl Table {
    fn read(path: &Path) -> anyhow::Result<Table> {
        let file = path.file_name().map_or_else(|| path.display().to_string(), |f| f.to_string_lossy().into_owned());
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let headers: Vec<String> = reader
            .headers()
            .with_context(|| format!("{file}: cannot read the header row"))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| match e.position() {
                Some(p) => anyhow!("{file} row {}: {e}", p.line()),
                None => anyhow!("{file}: {e}"),
            })?;
            lines.push(record.position().map_or(rows.len() as u64 + 2, |p| p.line()));
            rows.push(record.iter().map(|c| c.trim().to_owned()).collect());
        }
        if rows.is_empty() {
            bail!("{file}: no data rows after the header");
        }
        Ok(Table { file, headers, rows, lines })
    }

    fn index(&self, column: &str) -> anyhow::Result<usize> {
        self.headers
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| anyhow!("{}: unknown column {column:?} (columns: {})", self.file, self.headers.join(", ")))
    }

    fn cells(&self, column: &str) -> anyhow::Result<Vec<(u64, &str)>> {
        let j = self.index(column)?;
        Ok(self.rows.iter().zip(&self.lines).map(|(r, &line)| (line, r.get(j).map_or("", String::as_str))).collect())
    }

    fn err(&self, line: u64, column: &str, problem: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{} row {line}, column {column}: {problem}", self.file)
    }

    fn numbers(&self, column: &str) -> anyhow::Result<Vec<f64>> {
        self.cells(column)?
            .into_iter()
            .map(|(line, cell)| {
                if cell.is_empty() {
                    return Err(self.err(line, column, "missing value"));
                }
                match cell.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(v),
                    _ => Err(self.err(line, column, format!("not a number: {cell:?}"))),
                }
            })
            .collect()
    }

    fn times(&self, column: &str) -> anyhow::Result<Vec<f64>> {
        let values = self.numbers(column)?;
        for (&v, &line) in values.iter().zip(&self.lines) {
            if v < 0.0 {
                return Err(self.err(line, column, format!("negative time {v}")));
            }
        }
        Ok(values)
    }

    fn binary(&self, column: &str, what: &str) -> anyhow::Result<Vec<f64>> {
        let values = self.numbers(column)?;
        for (&v, &line) in values.iter().zip(&self.lines) {
            if v != 0.0 && v != 1.0 {
                return Err(self.err(line, column, format!("{what} must be 0 or 1, got {v}")));
            }
        }
        Ok(values)
    }

    fn events(&self, column: &str) -> anyhow::Result<Vec<bool>> {
        Ok(self.binary(column, "event")?.into_iter().map(|v| v == 1.0).collect())
    }

    fn labels(&self, column: &str) -> anyhow::Result<Vec<String>> {
        self.cells(column)?
            .into_iter()
            .map(
                |(line, cell)| {
                    if cell.is_empty() { Err(self.err(line, column, "missing value")) } else { Ok(cell.to_owned()) }
                },
            )
            .collect()
    }

    fn survival(&self, time: &str, event: &str) -> anyhow::Result<st::SurvivalData> {
        Ok(st::SurvivalData::new(self.times(time)?, self.events(event)?)?)
    }

    fn covariates(&self, names: &[String]) -> anyhow::Result<st::Covariates> {
        let columns = names.iter().map(|n| Ok((n.clone(), self.numbers(n)?))).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(st::Covariates::new(columns)?)
    }
}

fn level_or(level: Option<f64>, protocol: &Protocol) -> anyhow::Result<f64> {
    let level = level.unwrap_or(protocol.analysis.ci_level);
    if !(level > 0.0 && level < 1.0) {
        bail!("--level must be in (0, 1), got {level}");
    }
    Ok(level)
}

/// Distinct values in sorted order and the rows of each.
fn split(labels: &[String]) -> Vec<(String, Vec<usize>)> {
    let mut levels: Vec<String> = labels.to_vec();
    levels.sort();
    levels.dedup();
    levels
        .into_iter()
        .map(|l| {
            let rows = labels.iter().enumerate().filter(|(_, v)| **v == l).map(|(i, _)| i).collect();
            (l, rows)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// km
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct KmDoc {
    conf_type: &'static str,
    conf_level: f64,
    groups: Vec<KmGroupDoc>,
}

#[derive(Serialize)]
struct KmGroupDoc {
    group: Option<String>,
    n: usize,
    events: usize,
    median: Option<f64>,
    median_ci: [Option<f64>; 2],
    quantiles: Vec<QuantileDoc>,
    landmarks: Vec<LandmarkDoc>,
    rmst: RmstDoc,
    table: Vec<KmRowDoc>,
}

#[derive(Serialize)]
struct QuantileDoc {
    p: f64,
    time: Option<f64>,
    ci: [Option<f64>; 2],
}

#[derive(Serialize)]
struct LandmarkDoc {
    time: f64,
    survival: f64,
    std_err: Option<f64>,
    ci: [Option<f64>; 2],
}

#[derive(Serialize)]
struct RmstDoc {
    tau: f64,
    rmst: f64,
    std_err: f64,
    ci: [f64; 2],
}

#[derive(Serialize)]
struct KmRowDoc {
    time: f64,
    n_risk: usize,
    n_event: usize,
    n_censor: usize,
    survival: f64,
    std_err: Option<f64>,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
}

fn transform_name(t: KmCiTransform) -> &'static str {
    match t {
        KmCiTransform::LogLog => "log-log",
        KmCiTransform::Log => "log",
        KmCiTransform::Plain => "plain",
    }
}

fn km(args: &KmArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let table = Table::read(&args.columns.input)?;
    let data = table.survival(&args.columns.time, &args.columns.event)?;
    let transform = match args.conf_type.as_deref() {
        Some("log") => KmCiTransform::Log,
        Some("plain") => KmCiTransform::Plain,
        Some(_) => KmCiTransform::LogLog,
        None => protocol.analysis.km_ci_transform,
    };
    let level = level_or(args.level, protocol)?;
    let landmarks: Vec<f64> = args
        .landmarks
        .clone()
        .unwrap_or_else(|| protocol.analysis.landmark_months.iter().map(|m: &Months| m.value()).collect());
    let groups: Vec<(Option<String>, Vec<usize>)> = match &args.group {
        Some(col) => split(&table.labels(col)?).into_iter().map(|(g, rows)| (Some(g), rows)).collect(),
        None => vec![(None, (0..data.len()).collect())],
    };
    let max_time = data.time().iter().copied().fold(0.0, f64::max);
    let tau = args.rmst_tau.unwrap_or(max_time);
    let mut docs = Vec::new();
    for (group, rows) in groups {
        let sub = data.subset(&rows);
        let fit = st::kaplan_meier(&sub, transform, level)?;
        let median = fit.median();
        let quantiles = [0.25, 0.5, 0.75]
            .iter()
            .map(|&p| {
                let q = fit.quantile(p)?;
                Ok(QuantileDoc { p, time: q.time, ci: [q.ci_lower, q.ci_upper] })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let rmst = if tau > 0.0 {
            let r = fit.rmst(tau)?;
            RmstDoc { tau, rmst: r.estimate, std_err: r.std_err, ci: [r.ci_lower, r.ci_upper] }
        } else {
            RmstDoc { tau, rmst: 0.0, std_err: 0.0, ci: [0.0, 0.0] }
        };
        docs.push(KmGroupDoc {
            group,
            n: fit.n,
            events: fit.events,
            median: median.time,
            median_ci: [median.ci_lower, median.ci_upper],
            quantiles,
            landmarks: fit
                .landmarks(&landmarks)
                .into_iter()
                .map(|e| LandmarkDoc {
                    time: e.time,
                    survival: e.survival,
                    std_err: e.std_err,
                    ci: [e.ci_lower, e.ci_upper],
                })
                .collect(),
            rmst,
            table: fit
                .table
                .iter()
                .map(|r| KmRowDoc {
                    time: r.time,
                    n_risk: r.n_risk,
                    n_event: r.n_event,
                    n_censor: r.n_censor,
                    survival: r.survival,
                    std_err: r.std_err,
                    ci_lower: r.ci_lower,
                    ci_upper: r.ci_upper,
                })
                .collect(),
        });
    }
    output::json(&KmDoc { conf_type: transform_name(transform), conf_level: level, groups: docs })
}

// ---------------------------------------------------------------------------------------------
// logrank
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct LogrankDoc {
    chi2: f64,
    df: usize,
    p_value: f64,
    weight: String,
    stratified: bool,
    groups: Vec<LogrankGroupDoc>,
}

#[derive(Serialize)]
struct LogrankGroupDoc {
    group: String,
    n: usize,
    observed: usize,
    expected: f64,
}

fn logrank(args: &LogrankArgs) -> anyhow::Result<()> {
    let table = Table::read(&args.columns.input)?;
    let data = table.survival(&args.columns.time, &args.columns.event)?;
    let group = table.labels(&args.group)?;
    let strata = args.strata.as_deref().map(|s| table.labels(s)).transpose()?;
    let (weight, name) = if args.fh_rho == 0.0 && args.fh_gamma == 0.0 {
        (st::LogRankWeight::LogRank, "log-rank".to_owned())
    } else {
        (
            st::LogRankWeight::FlemingHarrington { rho: args.fh_rho, gamma: args.fh_gamma },
            format!("Fleming-Harrington({}, {})", args.fh_rho, args.fh_gamma),
        )
    };
    let t = st::logrank_test(&data, &group, strata.as_deref(), weight)?;
    output::json(&LogrankDoc {
        chi2: t.chi2,
        df: t.df,
        p_value: t.p_value,
        weight: name,
        stratified: strata.is_some(),
        groups: t
            .groups
            .into_iter()
            .map(|g| LogrankGroupDoc { group: g.group, n: g.n, observed: g.observed, expected: g.expected })
            .collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// cox
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct CoxDoc {
    coefficients: Vec<CoxCoefDoc>,
    log_likelihood: f64,
    concordance: f64,
    n: usize,
    events: usize,
    ties: &'static str,
    robust: bool,
    tests: CoxTestsDoc,
    converged: bool,
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ph_test: Option<PhTestDoc>,
}

#[derive(Serialize)]
struct PhTestDoc {
    time_scale: String,
    terms: Vec<PhTermDoc>,
    global: TestDoc,
}

#[derive(Serialize)]
struct PhTermDoc {
    name: String,
    chi2: f64,
    df: usize,
    p_value: f64,
}

#[derive(Serialize)]
struct CoxCoefDoc {
    name: String,
    coef: f64,
    se: f64,
    z: f64,
    p_value: f64,
    hr: f64,
    hr_ci: [f64; 2],
}

#[derive(Serialize)]
struct TestDoc {
    chi2: f64,
    df: usize,
    p_value: f64,
}

#[derive(Serialize)]
struct CoxTestsDoc {
    likelihood_ratio: TestDoc,
    wald: TestDoc,
    score: TestDoc,
}

fn test_doc(t: st::ChiSquareTest) -> TestDoc {
    TestDoc { chi2: t.chi2, df: t.df, p_value: t.p_value }
}

fn cox(args: &CoxArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let table = Table::read(&args.columns.input)?;
    let data = table.survival(&args.columns.time, &args.columns.event)?;
    let x = table.covariates(&args.covariates)?;
    let strata = args.strata.as_deref().map(|s| table.labels(s)).transpose()?;
    let cluster = args.cluster.as_deref().map(|s| table.labels(s)).transpose()?;
    let ties = match args.ties.as_deref() {
        Some("breslow") => CoxTies::Breslow,
        Some(_) => CoxTies::Efron,
        None => protocol.analysis.cox_ties,
    };
    let config = st::CoxConfig { ties, level: level_or(args.level, protocol)?, ..st::CoxConfig::default() };
    let fit = st::fit_cox(&data, &x, strata.as_deref(), cluster.as_deref(), args.robust, &config)?;
    let ph_test = match args.ph_test.as_deref() {
        None => None,
        Some(scale) => {
            let transform = match scale {
                "rank" => st::PhTransform::Rank,
                "identity" => st::PhTransform::Identity,
                "log" => st::PhTransform::Log,
                _ => st::PhTransform::Km,
            };
            let t = st::proportional_hazards_test(&data, &x, strata.as_deref(), &fit, transform)?;
            Some(PhTestDoc {
                time_scale: scale.to_owned(),
                terms: t
                    .terms
                    .into_iter()
                    .map(|(name, c)| PhTermDoc { name, chi2: c.chi2, df: c.df, p_value: c.p_value })
                    .collect(),
                global: test_doc(t.global),
            })
        }
    };
    output::json(&CoxDoc {
        coefficients: fit
            .coefficients
            .iter()
            .map(|c| CoxCoefDoc {
                name: c.name.clone(),
                coef: c.coef,
                se: c.se,
                z: c.z,
                p_value: c.p_value,
                hr: c.hr,
                hr_ci: [c.hr_ci.0, c.hr_ci.1],
            })
            .collect(),
        log_likelihood: fit.log_likelihood,
        concordance: fit.concordance,
        n: fit.n,
        events: fit.events,
        ties: if ties == CoxTies::Efron { "efron" } else { "breslow" },
        robust: fit.robust,
        tests: CoxTestsDoc {
            likelihood_ratio: test_doc(fit.lr_test),
            wald: test_doc(fit.wald_test),
            score: test_doc(fit.score_test),
        },
        converged: fit.converged,
        warnings: fit.warnings,
        ph_test,
    })
}

// ---------------------------------------------------------------------------------------------
// cif
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct CifDoc {
    cause: u32,
    conf_level: f64,
    groups: Vec<CifGroupDoc>,
    gray_test: Option<TestDoc>,
}

#[derive(Serialize)]
struct CifGroupDoc {
    group: Option<String>,
    n: usize,
    events: usize,
    competing_events: usize,
    table: Vec<CifRowDoc>,
}

#[derive(Serialize)]
struct CifRowDoc {
    time: f64,
    n_risk: usize,
    n_event: usize,
    n_competing: usize,
    n_censor: usize,
    cif: f64,
    std_err: Option<f64>,
    ci_lower: Option<f64>,
    ci_upper: Option<f64>,
}

fn cif(args: &CifArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let table = Table::read(&args.input)?;
    let time = table.times(&args.time)?;
    let status = table
        .numbers(&args.status)?
        .into_iter()
        .zip(&table.lines)
        .map(|(v, &line)| {
            if v >= 0.0 && v.fract() == 0.0 && v < 1e6 {
                Ok(v as u32)
            } else {
                Err(table.err(line, &args.status, format!("status must be 0 (censored) or a cause 1, 2, …, got {v}")))
            }
        })
        .collect::<anyhow::Result<Vec<u32>>>()?;
    if args.cause == 0 {
        bail!("--cause must be ≥ 1 (0 means censored)");
    }
    let level = level_or(args.level, protocol)?;
    let data = st::CompetingRisksData::new(time, status)?;
    let group_labels = args.group.as_deref().map(|g| table.labels(g)).transpose()?;
    let groups: Vec<(Option<String>, Vec<usize>)> = match &group_labels {
        Some(l) => split(l).into_iter().map(|(g, rows)| (Some(g), rows)).collect(),
        None => vec![(None, (0..data.len()).collect())],
    };
    let mut docs = Vec::new();
    for (group, rows) in groups {
        let sub = st::CompetingRisksData::new(
            rows.iter().map(|&i| data.time()[i]).collect(),
            rows.iter().map(|&i| data.status()[i]).collect(),
        )?;
        let fit = st::aalen_johansen(&sub, args.cause, level)?;
        docs.push(CifGroupDoc {
            group,
            n: sub.len(),
            events: sub.status().iter().filter(|&&s| s == args.cause).count(),
            competing_events: sub.status().iter().filter(|&&s| s != 0 && s != args.cause).count(),
            table: fit
                .table
                .iter()
                .map(|r| CifRowDoc {
                    time: r.time,
                    n_risk: r.n_risk,
                    n_event: r.n_event,
                    n_competing: r.n_competing,
                    n_censor: r.n_censor,
                    cif: r.cif,
                    std_err: r.variance.map(f64::sqrt),
                    ci_lower: r.ci_lower,
                    ci_upper: r.ci_upper,
                })
                .collect(),
        });
    }
    let strata = args.strata.as_deref().map(|s| table.labels(s)).transpose()?;
    let gray_test = match &group_labels {
        Some(l) => {
            let t = st::gray_test(&data, l, strata.as_deref(), args.cause, 0.0)?;
            Some(TestDoc { chi2: t.chi2, df: t.df, p_value: t.p_value })
        }
        None => None,
    };
    output::json(&CifDoc { cause: args.cause, conf_level: level, groups: docs, gray_test })
}

// ---------------------------------------------------------------------------------------------
// binom
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct BinomDoc {
    conf_level: f64,
    groups: Vec<ProportionDoc>,
    difference: Option<DifferenceDoc>,
    cmh: Option<CmhDoc>,
}

#[derive(Serialize)]
struct ProportionDoc {
    group: Option<String>,
    successes: u64,
    trials: u64,
    proportion: f64,
    clopper_pearson: [f64; 2],
    wilson: [f64; 2],
    agresti_coull: [f64; 2],
}

#[derive(Serialize)]
struct DifferenceDoc {
    /// first group − second group
    groups: [String; 2],
    difference: f64,
    newcombe_ci: [f64; 2],
    fisher_odds_ratio: f64,
    fisher_p_two_sided: f64,
    fisher_p_greater: f64,
    fisher_p_less: f64,
}

#[derive(Serialize)]
struct CmhDoc {
    strata: usize,
    chi2: f64,
    p_value: f64,
    chi2_continuity_corrected: f64,
    p_value_continuity_corrected: f64,
    mh_odds_ratio: f64,
    mh_odds_ratio_ci: [f64; 2],
}

fn proportion_doc(group: Option<String>, x: u64, n: u64, level: f64) -> anyhow::Result<ProportionDoc> {
    let cp = st::clopper_pearson(x, n, level)?;
    let w = st::wilson(x, n, level)?;
    let ac = st::agresti_coull(x, n, level)?;
    Ok(ProportionDoc {
        group,
        successes: x,
        trials: n,
        proportion: x as f64 / n as f64,
        clopper_pearson: [cp.lower, cp.upper],
        wilson: [w.lower, w.upper],
        agresti_coull: [ac.lower, ac.upper],
    })
}

fn difference_doc(a: &ProportionDoc, b: &ProportionDoc, level: f64) -> anyhow::Result<DifferenceDoc> {
    let ci = st::newcombe_difference(a.successes, a.trials, b.successes, b.trials, level)?;
    let f = st::fisher_exact([[a.successes, a.trials - a.successes], [b.successes, b.trials - b.successes]]);
    let name = |d: &ProportionDoc, k: usize| d.group.clone().unwrap_or_else(|| format!("group {k}"));
    Ok(DifferenceDoc {
        groups: [name(a, 1), name(b, 2)],
        difference: a.proportion - b.proportion,
        newcombe_ci: [ci.lower, ci.upper],
        fisher_odds_ratio: f.odds_ratio,
        fisher_p_two_sided: f.p_two_sided,
        fisher_p_greater: f.p_greater,
        fisher_p_less: f.p_less,
    })
}

fn binom(args: &BinomArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let level = level_or(args.level, protocol)?;
    let mut cmh = None;
    let groups: Vec<ProportionDoc> = if let (Some(x), Some(n)) = (&args.successes, &args.trials) {
        if x.len() != n.len() || x.is_empty() || x.len() > 2 {
            bail!(
                "--successes and --trials need the same number of values, one or two (got {} and {})",
                x.len(),
                n.len()
            );
        }
        x.iter()
            .zip(n)
            .enumerate()
            .map(|(k, (&x, &n))| proportion_doc(Some(format!("group {}", k + 1)), x, n, level))
            .collect::<anyhow::Result<_>>()?
    } else {
        let (Some(input), Some(outcome)) = (&args.input, &args.outcome) else {
            bail!("give either --input FILE --outcome COL, or --successes X --trials N");
        };
        let table = Table::read(input)?;
        let y = table.binary(outcome, "outcome")?;
        let labels = match &args.group {
            Some(g) => table.labels(g)?,
            None => vec![String::new(); y.len()],
        };
        let parts = split(&labels);
        if parts.len() > 2 && args.group.is_some() {
            bail!(
                "column {}: binom compares at most two groups, found {}",
                args.group.as_deref().unwrap_or(""),
                parts.len()
            );
        }
        if let Some(strata_col) = &args.strata {
            if parts.len() != 2 {
                bail!("--strata needs exactly two groups");
            }
            let strata = table.labels(strata_col)?;
            let tables: Vec<[[u64; 2]; 2]> = split(&strata)
                .into_iter()
                .map(|(_, rows)| {
                    let mut t = [[0u64; 2]; 2];
                    for i in rows {
                        let g = usize::from(labels[i] != parts[0].0);
                        let col = usize::from(y[i] == 0.0);
                        t[g][col] += 1;
                    }
                    t
                })
                .collect();
            let plain = st::cochran_mantel_haenszel(&tables, false, level)?;
            let corrected = st::cochran_mantel_haenszel(&tables, true, level)?;
            cmh = Some(CmhDoc {
                strata: tables.len(),
                chi2: plain.chi2,
                p_value: plain.p_value,
                chi2_continuity_corrected: corrected.chi2,
                p_value_continuity_corrected: corrected.p_value,
                mh_odds_ratio: plain.odds_ratio,
                mh_odds_ratio_ci: [plain.odds_ratio_ci.lower, plain.odds_ratio_ci.upper],
            });
        }
        parts
            .into_iter()
            .map(|(g, rows)| {
                let x = rows.iter().filter(|&&i| y[i] == 1.0).count() as u64;
                proportion_doc(args.group.as_ref().map(|_| g), x, rows.len() as u64, level)
            })
            .collect::<anyhow::Result<_>>()?
    };
    let difference = if groups.len() == 2 { Some(difference_doc(&groups[0], &groups[1], level)?) } else { None };
    output::json(&BinomDoc { conf_level: level, groups, difference, cmh })
}

// ---------------------------------------------------------------------------------------------
// gee
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct GeeDoc {
    link: String,
    correlation: &'static str,
    coefficients: Vec<GeeCoefDoc>,
    working_correlation: f64,
    n: usize,
    clusters: usize,
    max_cluster_size: usize,
    converged: bool,
    bootstrap: Option<BootstrapDoc>,
}

#[derive(Serialize)]
struct GeeCoefDoc {
    name: String,
    coef: f64,
    se: f64,
    z: f64,
    p_value: f64,
    ci: [f64; 2],
    /// exp(coef) and its interval for the logit link (odds ratio); absent for identity.
    odds_ratio: Option<f64>,
    odds_ratio_ci: Option<[f64; 2]>,
}

#[derive(Serialize)]
struct BootstrapDoc {
    replicates: usize,
    failed: usize,
    seed: u64,
    std_err: Vec<f64>,
    percentile_ci: Vec<[f64; 2]>,
}

fn gee(args: &GeeArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let table = Table::read(&args.input)?;
    let y = table.binary(&args.outcome, "outcome")?;
    let x = table.covariates(&args.covariates)?;
    let cluster = table.labels(&args.cluster)?;
    let link = if args.link == "identity" { st::GeeLink::Identity } else { st::GeeLink::Logit };
    let correlation = match args.correlation.as_deref() {
        Some("independence") => GeeCorrelation::Independence,
        Some(_) => GeeCorrelation::Exchangeable,
        None => protocol.analysis.gee_working_correlation,
    };
    let level = level_or(args.level, protocol)?;
    let fit = st::fit_gee(&y, &x, &cluster, link, correlation, level)?;
    let bootstrap = if args.bootstrap > 0 {
        let p = x.width();
        let stat = |rows: &[usize], ids: &[usize]| {
            let yy: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
            let cols = (0..p).map(|j| (x.names()[j].clone(), rows.iter().map(|&i| x.row(i)[j]).collect())).collect();
            let xx = st::Covariates::new(cols).ok()?;
            let cl: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            let f = st::fit_gee(&yy, &xx, &cl, link, correlation, level).ok()?;
            Some(f.coefficients.iter().map(|c| c.coef).collect())
        };
        let b = st::cluster_bootstrap(&cluster, args.bootstrap, args.seed, level, stat)?;
        Some(BootstrapDoc {
            replicates: b.replicates,
            failed: b.failed,
            seed: args.seed,
            std_err: b.std_err,
            percentile_ci: b.percentile_ci.into_iter().map(|(l, u)| [l, u]).collect(),
        })
    } else {
        None
    };
    let logit = link == st::GeeLink::Logit;
    output::json(&GeeDoc {
        link: args.link.clone(),
        correlation: if correlation == GeeCorrelation::Exchangeable { "exchangeable" } else { "independence" },
        coefficients: fit
            .coefficients
            .iter()
            .map(|c| GeeCoefDoc {
                name: c.name.clone(),
                coef: c.coef,
                se: c.se,
                z: c.z,
                p_value: c.p_value,
                ci: [c.ci.0, c.ci.1],
                odds_ratio: logit.then(|| c.coef.exp()),
                odds_ratio_ci: logit.then(|| [c.ci.0.exp(), c.ci.1.exp()]),
            })
            .collect(),
        working_correlation: fit.working_correlation,
        n: fit.n,
        clusters: fit.n_clusters,
        max_cluster_size: fit.max_cluster_size,
        converged: fit.converged,
        bootstrap,
    })
}

// ---------------------------------------------------------------------------------------------
// power
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct PowerDoc {
    protocol_version: String,
    protocol_sha256: String,
    design: DesignDoc,
    trials: usize,
    seed: u64,
    local_control: EndpointPowerDoc,
    lpfs: EndpointPowerDoc,
    both_primary_endpoints: f64,
    at_least_one_primary_endpoint: f64,
    monte_carlo_se: f64,
    mean_lesions_per_trial: f64,
    mean_lpfs_events_per_trial: f64,
    failed_local_control_fits: usize,
    schoenfeld: SchoenfeldDoc,
}

#[derive(Serialize)]
struct DesignDoc {
    patients_per_arm: u32,
    lesions_per_patient: [u32; 2],
    lcr_control: f64,
    lcr_experimental: f64,
    intra_patient_correlation: f64,
    lpfs_control_median_months: f64,
    lpfs_hazard_ratio: f64,
    accrual_months: f64,
    min_follow_up_months: f64,
    alpha_one_sided: f64,
    multiplicity: &'static str,
    gee_working_correlation: &'static str,
}

#[derive(Serialize)]
struct EndpointPowerDoc {
    power: f64,
    power_adjusted: f64,
}

#[derive(Serialize)]
struct SchoenfeldDoc {
    expected_events: f64,
    power: f64,
    events_for_80_percent_power: f64,
}

/// `cryoseed power` and `cryoseed stats power`: the design's power, as JSON on standard output.
pub fn power(args: &PowerArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let mut d = st::TrialDesign::from_protocol(protocol);
    if let Some(v) = args.patients_per_arm {
        d.patients_per_arm = v;
    }
    if let Some(v) = args.min_lesions {
        d.min_lesions = v;
    }
    if let Some(v) = args.max_lesions {
        d.max_lesions = v;
    }
    if let Some(v) = args.lcr_control {
        d.lcr_control = v;
    }
    if let Some(v) = args.lcr_experimental {
        d.lcr_experimental = v;
    }
    if let Some(v) = args.icc {
        d.icc = v;
    }
    if let Some(v) = args.lpfs_control_median {
        d.lpfs_control_median = Months(v);
    }
    if let Some(v) = args.lpfs_hazard_ratio {
        d.lpfs_hazard_ratio = v;
    }
    if let Some(v) = args.accrual {
        d.accrual = Months(v);
    }
    if let Some(v) = args.min_follow_up {
        d.min_follow_up = Months(v);
    }
    if let Some(v) = args.alpha {
        d.alpha_one_sided = v;
    }
    if args.trials == 0 {
        bail!("--trials must be ≥ 1");
    }
    let sim = st::simulate_power(&d, args.trials, args.seed)?;
    let events_80 = if d.lpfs_hazard_ratio == 1.0 {
        f64::INFINITY
    } else {
        st::schoenfeld_events(d.lpfs_hazard_ratio, d.alpha_one_sided, 0.8, 0.5)?
    };
    output::json(&PowerDoc {
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        design: DesignDoc {
            patients_per_arm: d.patients_per_arm,
            lesions_per_patient: [d.min_lesions, d.max_lesions],
            lcr_control: d.lcr_control,
            lcr_experimental: d.lcr_experimental,
            intra_patient_correlation: d.icc,
            lpfs_control_median_months: d.lpfs_control_median.value(),
            lpfs_hazard_ratio: d.lpfs_hazard_ratio,
            accrual_months: d.accrual.value(),
            min_follow_up_months: d.min_follow_up.value(),
            alpha_one_sided: d.alpha_one_sided,
            multiplicity: match d.multiplicity {
                Multiplicity::Holm => "holm",
                Multiplicity::Bonferroni => "bonferroni",
                Multiplicity::None => "none",
            },
            gee_working_correlation: if d.gee_correlation == GeeCorrelation::Exchangeable {
                "exchangeable"
            } else {
                "independence"
            },
        },
        trials: sim.trials,
        seed: sim.seed,
        local_control: EndpointPowerDoc {
            power: sim.local_control_power,
            power_adjusted: sim.local_control_power_adjusted,
        },
        lpfs: EndpointPowerDoc { power: sim.lpfs_power, power_adjusted: sim.lpfs_power_adjusted },
        both_primary_endpoints: sim.both_power_adjusted,
        at_least_one_primary_endpoint: sim.any_power_adjusted,
        monte_carlo_se: sim.monte_carlo_se,
        mean_lesions_per_trial: sim.mean_lesions,
        mean_lpfs_events_per_trial: sim.mean_lpfs_events,
        failed_local_control_fits: sim.failed_local_control_fits,
        schoenfeld: SchoenfeldDoc {
            expected_events: sim.schoenfeld_expected_events,
            power: sim.schoenfeld_power,
            events_for_80_percent_power: events_80,
        },
    })
}
