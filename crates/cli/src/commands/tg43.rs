//! `cryoseed tg43`: TG-43U1 dose rates of one seed at points given in the seed frame.

use crate::output;
use anyhow::{Context, anyhow, bail};
use cryoseed_core::U;
use cryoseed_dose::tg43::{self, Formalism};
use cryoseed_dose::{SeedModel, builtin_model, decay};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `cryoseed tg43`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seed model: a built-in id (6711, 6702, best2301, iai125a) or a directory holding
    /// <id>_meta.csv, <id>_gL.csv, <id>_F.csv and optionally <id>_phi_an.csv (the layout of
    /// crates/dose/data/tg43; without phi_an it is derived from F).
    #[arg(long, value_name = "ID|DIR")]
    model: String,
    /// TG-43U1 form: `line` (2-D line source, Eq. 1) or `point` (1-D with phi_an, Eq. 11, for
    /// seeds of unknown orientation).
    #[arg(long, value_enum, default_value_t = FormalismArg::Line)]
    formalism: FormalismArg,
    /// CSV of points with the header x_cm,y_cm,z_cm: seed centre at the origin, long axis +z.
    #[arg(long, value_name = "FILE.csv")]
    points: PathBuf,
    /// Add the column total_dose_gy_per_u: total dose of a permanent implant (1.4427·T½·Ḋ0).
    #[arg(long)]
    total: bool,
}

/// `--formalism` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormalismArg {
    /// 2-D line source (TG-43U1 Eq. 1).
    Line,
    /// 1-D with the line-source geometry function and phi_an (TG-43U1 Eq. 11).
    Point,
}

/// Loads a model: a built-in id, or a directory of CSV files in the shipped layout.
pub fn load_model(spec: &str) -> anyhow::Result<SeedModel> {
    let path = Path::new(spec);
    if path.is_dir() {
        return model_from_csv_dir(path);
    }
    builtin_model(spec).map_err(|e| anyhow!("--model: {e} (or give a directory of model CSV files)"))
}

/// A model from `<dir>/<id>_meta.csv`, `<id>_gL.csv`, `<id>_F.csv` and optionally
/// `<id>_phi_an.csv`; `<id>` is taken from the one `*_meta.csv` in the directory.
pub fn model_from_csv_dir(dir: &Path) -> anyhow::Result<SeedModel> {
    let mut metas: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read model directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix("_meta.csv")).map(str::to_owned))
        .collect();
    metas.sort();
    let id = match metas.as_slice() {
        [id] => id.clone(),
        [] => bail!("{}: no <id>_meta.csv file", dir.display()),
        many => bail!("{}: several models ({}); keep one per directory", dir.display(), many.join(", ")),
    };
    let read = |suffix: &str| {
        let file = dir.join(format!("{id}_{suffix}.csv"));
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))
    };
    let phi_file = dir.join(format!("{id}_phi_an.csv"));
    let phi = if phi_file.exists() { Some(read("phi_an")?) } else { None };
    SeedModel::parse(&id, &read("meta")?, &read("gL")?, &read("F")?, phi.as_deref())
        .with_context(|| format!("invalid seed model in {} (files {id}_*.csv)", dir.display()))
}

/// Writes a warning line to standard error (a closed stderr is ignored).
pub fn warn(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "warning: {text}");
}

/// Prints the dose-rate table.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let model = load_model(&args.model)?;
    if let Some(caveat) = model.caveat() {
        warn(caveat);
    }
    let formalism = match args.formalism {
        FormalismArg::Line => Formalism::Line,
        FormalismArg::Point => Formalism::Point,
    };
    let name =
        args.points.file_name().map_or_else(|| args.points.display().to_string(), |n| n.to_string_lossy().into());
    let text =
        std::fs::read_to_string(&args.points).with_context(|| format!("cannot read {}", args.points.display()))?;
    let points = parse_points(&name, &text)?;
    let hours = decay::mean_life_hours(model.half_life());
    let mut out = String::from("x_cm,y_cm,z_cm,dose_rate_cgy_per_h_per_u");
    out.push_str(if args.total { ",total_dose_gy_per_u\n" } else { "\n" });
    for (raw, p) in &points {
        let rate = tg43::dose_rate_at_cgy_per_h(&model, formalism, U(1.0), *p);
        let _ = write!(out, "{},{},{},{rate}", raw[0], raw[1], raw[2]);
        if args.total {
            let _ = write!(out, ",{}", rate * hours / 100.0);
        }
        out.push('\n');
    }
    output::print(&out)
}

/// Rows of `x_cm,y_cm,z_cm`: the text as given (echoed) and the numbers.
type Points = Vec<([String; 3], [f64; 3])>;

fn parse_points(name: &str, text: &str) -> anyhow::Result<Points> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{name} line 1: cannot read the header"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != ["x_cm", "y_cm", "z_cm"] {
        bail!("{name} line 1: header must be x_cm,y_cm,z_cm, got {}", header.join(","));
    }
    let mut points = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| anyhow!("{name}: {e}"))?;
        let line = rec.position().map_or(0, |p| p.line());
        let mut raw: [String; 3] = Default::default();
        let mut p = [0.0; 3];
        for (a, column) in header.iter().enumerate() {
            let field = rec.get(a).unwrap_or("");
            let v: f64 = field.parse().map_err(|_| anyhow!("{name} line {line}: {column}: not a number: {field:?}"))?;
            if !v.is_finite() {
                bail!("{name} line {line}: {column}: must be finite, got {field}");
            }
            raw[a] = field.to_owned();
            p[a] = v;
        }
        points.push((raw, p));
    }
    Ok(points)
}
