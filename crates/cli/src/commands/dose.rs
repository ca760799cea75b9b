//! `cryoseed dose --case DIR --seeds SEEDS.csv --out DIR`: total permanent-implant dose of a seed
//! implant on a case, with plan metrics and DVHs.

use crate::commands::tg43::{model_from_csv_dir, warn};
use anyhow::{Context, anyhow, bail};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Gy, PatientPoint, StructureRole, U};
use cryoseed_dose::{
    DoseError, DoseGridConfig, Implant, Seed, SeedModel, SeedOrientation, dose_grid, oar_metrics, target_metrics,
    volume_at_least,
};
use cryoseed_volume::{Dvh, Mask};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `cryoseed dose`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case directory (case.json + masks/), e.g. written by `cryoseed phantom`.
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// Seeds CSV with the header x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model (patient mm; the
    /// direction of the long axis, or all three empty when unknown, which selects the 1-D form;
    /// S_K in U; model id).
    #[arg(long, value_name = "SEEDS.csv")]
    seeds: PathBuf,
    /// Output directory (must not exist, or be empty): dose.nii.gz (Gy), metrics.json, dvh.csv.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Extra seed-model directory (same CSV layout as `tg43 --model DIR`); seeds refer to it by its
    /// <id>. Repeatable.
    #[arg(long = "model-dir", value_name = "DIR")]
    model_dirs: Vec<PathBuf>,
    /// Dose bin width of the cumulative DVH CSV, Gy.
    #[arg(long, value_name = "GY", default_value_t = 1.0)]
    dvh_bin_gy: f64,
}

/// Version of metrics.json.
pub const METRICS_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct MetricsDoc {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    patient_id: String,
    dose_quantity: &'static str,
    dose_unit: &'static str,
    formalism: &'static str,
    seed_count: usize,
    total_air_kerma_strength_u: f64,
    models: Vec<ModelDoc>,
    structures: Vec<StructureDoc>,
}

#[derive(Serialize)]
struct ModelDoc {
    id: String,
    name: String,
    report: String,
    seeds: usize,
    dose_rate_constant_cgy_per_h_per_u: f64,
    half_life_days: f64,
    caveat: Option<String>,
}

#[derive(Serialize)]
struct StructureDoc {
    name: String,
    role: String,
    organ: String,
    volume_cc: f64,
    dmax_gy: f64,
    dmean_gy: f64,
    d0_1cc_gy: Option<f64>,
    d1cc_gy: Option<f64>,
    d2cc_gy: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<TargetDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    oar_limit: Option<LimitDoc>,
}

#[derive(Serialize)]
struct TargetDoc {
    lesion_id: String,
    site: String,
    prescription_gy: f64,
    d90_gy: f64,
    d100_gy: f64,
    v100_percent: f64,
    v150_percent: f64,
    v200_percent: f64,
    target_volume_at_rx_cc: f64,
    body_volume_at_rx_cc: f64,
    conformation_number_vant_riet: Option<f64>,
    conformity_index_nakamura: f64,
    external_index_percent: f64,
    homogeneity_index: Option<f64>,
    coin: Option<f64>,
    goals: Vec<GoalDoc>,
}

#[derive(Serialize)]
struct GoalDoc {
    rule: String,
    value: f64,
    met: bool,
}

#[derive(Serialize)]
struct LimitDoc {
    rule: String,
    value_gy: Option<f64>,
    met: Option<bool>,
}

/// Rounds to 4 decimals: keeps the JSON stable for diffs, far below dose uncertainty.
fn r4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// Computes, writes and summarizes.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    if !(args.dvh_bin_gy.is_finite() && args.dvh_bin_gy > 0.0) {
        bail!("--dvh-bin-gy: must be > 0, got {}", args.dvh_bin_gy);
    }
    crate::output::check_out_dir(&args.out, "--out")?;
    let loaded = cryoseed_imaging::read_case(&args.case)?;
    let case = loaded.case;
    let extra: Vec<SeedModel> = args.model_dirs.iter().map(|d| model_from_csv_dir(d)).collect::<anyhow::Result<_>>()?;
    let name = args.seeds.file_name().map_or_else(|| args.seeds.display().to_string(), |n| n.to_string_lossy().into());
    let text = std::fs::read_to_string(&args.seeds).with_context(|| format!("cannot read {}", args.seeds.display()))?;
    let (seeds, lines) = parse_seeds(&name, &text)?;
    if seeds.is_empty() {
        bail!("{name}: no seeds");
    }
    let implant = Implant::new(&seeds, &extra).map_err(|e| match e {
        DoseError::Seed { index, field, message } => anyhow!("{name} line {}: {field}: {message}", lines[index]),
        DoseError::DuplicateSeed { first, second, distance_mm } => {
            anyhow!("{name} line {}: same position as line {} ({distance_mm:.4} mm apart)", lines[second], lines[first])
        }
        other => anyhow!("{name}: {other}"),
    })?;
    for model in implant.models() {
        if let Some(caveat) = model.caveat() {
            warn(caveat);
        }
    }
    let dose = dose_grid(&implant, case.grid(), &DoseGridConfig::default()).context("dose grid")?;

    let body: Option<Mask> = {
        let mut bodies = case.with_role(StructureRole::Body);
        bodies.next().map(|b| b.mask.clone())
    };
    let mut structures = Vec::new();
    let mut dvh_csv = String::from("structure,dose_gy,volume_cc,volume_percent\n");
    for s in case.structures() {
        let dvh = Dvh::compute(&dose, &s.mask).with_context(|| format!("structure {}", s.name))?;
        let o = oar_metrics(&dvh);
        let target = match (&s.lesion, s.role) {
            (Some(lesion), StructureRole::Gtv) => {
                let site = s.organ.lesion_site();
                let rx = protocol.prescription(site);
                let region = match &body {
                    Some(b) => Some(b.union(&s.mask)?),
                    None => None,
                };
                let v_rx = volume_at_least(&dose, region.as_ref(), rx)?;
                let t = target_metrics(&dvh, rx, v_rx)?;
                let g = &protocol.seeds.plan_goals;
                let d90_goal = Gy(rx.0 * g.min_d90_percent_rx.0 / 100.0);
                let goals = vec![
                    GoalDoc {
                        rule: format!("D90 >= {} Gy", r4(d90_goal.0)),
                        value: r4(t.d90.0),
                        met: t.d90 >= d90_goal,
                    },
                    GoalDoc {
                        rule: format!("V100 >= {} %", g.min_v100_percent.0),
                        value: r4(t.v100.0),
                        met: t.v100 >= g.min_v100_percent,
                    },
                    GoalDoc {
                        rule: format!("V150 <= {} %", g.max_v150_percent.0),
                        value: r4(t.v150.0),
                        met: t.v150 <= g.max_v150_percent,
                    },
                    GoalDoc {
                        rule: format!("V200 <= {} %", g.max_v200_percent.0),
                        value: r4(t.v200.0),
                        met: t.v200 <= g.max_v200_percent,
                    },
                ];
                Some(TargetDoc {
                    lesion_id: lesion.lesion_id.to_string(),
                    site: site.to_string(),
                    prescription_gy: rx.0,
                    d90_gy: r4(t.d90.0),
                    d100_gy: r4(t.d100.0),
                    v100_percent: r4(t.v100.0),
                    v150_percent: r4(t.v150.0),
                    v200_percent: r4(t.v200.0),
                    target_volume_at_rx_cc: r4(t.target_volume_at_rx.0),
                    body_volume_at_rx_cc: r4(t.body_volume_at_rx.0),
                    conformation_number_vant_riet: t.conformation_number.map(r4),
                    conformity_index_nakamura: r4(t.conformity_index),
                    external_index_percent: r4(t.external_index.0),
                    homogeneity_index: t.homogeneity_index.map(r4),
                    coin: t.coin.map(r4),
                    goals,
                })
            }
            _ => None,
        };
        let oar_limit = (s.role == StructureRole::Oar)
            .then(|| s.organ.critical_oar().and_then(|c| protocol.oar_limit(c)))
            .flatten()
            .map(|limit| {
                let value = dvh.d_volume(limit.volume_cc);
                LimitDoc {
                    rule: format!("D{}cc <= {} Gy", limit.volume_cc.0, limit.max_dose_gy.0),
                    value_gy: value.map(|v| r4(v.0)),
                    met: value.map(|v| v <= limit.max_dose_gy),
                }
            });
        for p in dvh.cumulative(Gy(args.dvh_bin_gy)) {
            let _ = writeln!(dvh_csv, "{},{},{},{}", csv_field(&s.name), r4(p.dose.0), r4(p.volume.0), r4(p.percent.0));
        }
        structures.push(StructureDoc {
            name: s.name.clone(),
            role: s.role.to_string(),
            organ: s.organ.to_string(),
            volume_cc: r4(o.volume.0),
            dmax_gy: r4(o.dmax.0),
            dmean_gy: r4(o.dmean.0),
            d0_1cc_gy: o.d0_1cc.map(|d| r4(d.0)),
            d1cc_gy: o.d1cc.map(|d| r4(d.0)),
            d2cc_gy: o.d2cc.map(|d| r4(d.0)),
            target,
            oar_limit,
        });
    }
    let models = implant
        .models()
        .iter()
        .enumerate()
        .map(|(i, m)| ModelDoc {
            id: m.id().to_owned(),
            name: m.name().to_owned(),
            report: m.report().to_owned(),
            seeds: implant.seeds().iter().filter(|s| s.model_index == i).count(),
            dose_rate_constant_cgy_per_h_per_u: m.dose_rate_constant_cgy_per_h_per_u(),
            half_life_days: m.half_life().0,
            caveat: m.caveat().map(str::to_owned),
        })
        .collect();
    let doc = MetricsDoc {
        format: "cryoseed-dose-metrics",
        version: METRICS_FORMAT_VERSION,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        patient_id: case.patient_id().to_string(),
        dose_quantity: "total permanent-implant dose (initial dose rate x half-life / ln 2)",
        dose_unit: "Gy",
        formalism: "AAPM TG-43U1: 2-D line source (Eq. 1) for seeds with a direction, 1-D (Eq. 11) otherwise",
        seed_count: implant.seeds().len(),
        total_air_kerma_strength_u: r4(implant.total_air_kerma_strength().0),
        models,
        structures,
    };
    write_outputs(&args.out, &dose, &doc, &dvh_csv)?;
    let mut summary = format!(
        "{} seeds ({} U total) on {} voxels; wrote {}\n",
        implant.seeds().len(),
        r4(implant.total_air_kerma_strength().0),
        case.grid().len(),
        args.out.display()
    );
    for s in &doc.structures {
        let _ = write!(summary, "  {:<16} Dmax {:>9.2} Gy  Dmean {:>8.2} Gy", s.name, s.dmax_gy, s.dmean_gy);
        if let Some(t) = &s.target {
            let _ = write!(
                summary,
                "  D90 {:.2} Gy  V100 {:.1} %  (Rx {} Gy)",
                t.d90_gy, t.v100_percent, t.prescription_gy
            );
        }
        if let Some(l) = &s.oar_limit {
            let verdict = match l.met {
                Some(true) => "met",
                Some(false) => "NOT MET",
                None => "organ smaller than the volume",
            };
            let _ = write!(summary, "  {}: {verdict}", l.rule);
        }
        summary.push('\n');
    }
    crate::output::print(&summary)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// Writes into a hidden staging folder and renames it into place, so nothing is half-written.
fn write_outputs(
    dir: &Path,
    dose: &cryoseed_volume::Field<f32>,
    doc: &MetricsDoc,
    dvh_csv: &str,
) -> anyhow::Result<()> {
    crate::output::write_dir_atomically(dir, "--out", |staging| {
        cryoseed_imaging::nifti::write_field_f32(&staging.join("dose.nii.gz"), dose)?;
        let mut json = serde_json::to_string_pretty(doc)?;
        json.push('\n');
        std::fs::write(staging.join("metrics.json"), json).context("cannot write metrics.json")?;
        std::fs::write(staging.join("dvh.csv"), dvh_csv).context("cannot write dvh.csv")
    })
}

const SEED_HEADER: [&str; 8] = ["x_mm", "y_mm", "z_mm", "dir_x", "dir_y", "dir_z", "sk_u", "model"];

/// Seeds and the CSV line of each.
pub(crate) fn parse_seeds(name: &str, text: &str) -> anyhow::Result<(Vec<Seed>, Vec<u64>)> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .with_context(|| format!("{name} line 1: cannot read the header"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != SEED_HEADER {
        bail!("{name} line 1: header must be {}, got {}", SEED_HEADER.join(","), header.join(","));
    }
    let mut seeds = Vec::new();
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| anyhow!("{name}: {e}"))?;
        let line = rec.position().map_or(0, |p| p.line());
        let field = |a: usize| rec.get(a).unwrap_or("");
        let number = |a: usize| -> anyhow::Result<f64> {
            field(a)
                .parse::<f64>()
                .map_err(|_| anyhow!("{name} line {line}: {}: not a number: {:?}", SEED_HEADER[a], field(a)))
        };
        let centre = [number(0)?, number(1)?, number(2)?];
        let orientation = if (3..6).all(|a| field(a).is_empty()) {
            SeedOrientation::Unknown
        } else {
            SeedOrientation::Axis([number(3)?, number(4)?, number(5)?])
        };
        let sk = number(6)?;
        let model = field(7);
        if model.is_empty() {
            bail!("{name} line {line}: model: missing");
        }
        seeds.push(Seed {
            centre_in_patient: PatientPoint(centre),
            orientation,
            air_kerma_strength: U(sk),
            model: model.to_owned(),
        });
        lines.push(line);
    }
    Ok((seeds, lines))
}
