//! `cryoseed cryo simulate`: the 3-D bioheat simulation of a probe set through a freeze–thaw
//! sequence, written as NIfTI images and `isotherms.json`.

use crate::output;
use anyhow::{Context, anyhow, bail};
use cryoseed_core::protocol::{PhaseKind, Protocol};
use cryoseed_core::{Celsius, Mm, Organ, PatientPoint, PatientVector};
use cryoseed_cryo::isotherm::{isotherm_extent, isotherm_mask, probe_axis};
use cryoseed_cryo::{BioheatConfig, BioheatResult, Medium, PlacedProbe, ProbeCatalogue, simulate_freeze_thaw};
use cryoseed_volume::Grid;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Subcommands of `cryoseed cryo`.
#[derive(Debug, clap::Subcommand)]
pub enum CryoCommand {
    /// Simulate the ice ball of a probe set (3-D Pennes bioheat with phase change) and write the
    /// minimum temperature, isotherm masks (NIfTI) and isotherms.json.
    Simulate(SimulateArgs),
}

/// Tissue whose protocol properties (`cryo.tissue`, with the organ's overrides) are used.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TissueArg {
    /// Liver.
    Liver,
    /// Aerated lung (the protocol's lung override).
    Lung,
    /// Kidney.
    Kidney,
    /// Soft tissue (the protocol's default properties).
    SoftTissue,
    /// Bone.
    Bone,
}

impl TissueArg {
    fn organ(self) -> Organ {
        match self {
            TissueArg::Liver => Organ::Liver,
            TissueArg::Lung => Organ::Lung,
            TissueArg::Kidney => Organ::Kidney,
            TissueArg::SoftTissue => Organ::SoftTissue,
            TissueArg::Bone => Organ::Bone,
        }
    }
}

/// Flags of `cryoseed cryo simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Probe file (JSON, format `cryoseed-probes` version 1): probes with class, tip_mm and
    /// direction (from entry towards the tip), and optionally the grid.
    #[arg(long, value_name = "PROBES.json")]
    probes: PathBuf,
    /// Tissue whose thermal properties come from the protocol.
    #[arg(long, value_enum, default_value = "soft-tissue")]
    tissue: TissueArg,
    /// Freeze–thaw sequence, by its name in the protocol (default: the protocol's
    /// `cryo.default_freeze_thaw`, 10-8-10). Named `--freeze-thaw` because `--protocol` selects
    /// the protocol file.
    #[arg(long, value_name = "NAME")]
    freeze_thaw: Option<String>,
    /// Voxel spacing of the simulation grid in mm (default 1) when the probe file has no grid.
    #[arg(long, value_name = "MM")]
    spacing_mm: Option<f64>,
    /// Tissue simulated around the probes' active segments in every direction when the probe
    /// file has no grid, mm.
    #[arg(long, value_name = "MM", default_value_t = 40.0)]
    margin_mm: f64,
    /// Probe catalogue CSV of the site (vendor isotherm charts, layout of the shipped
    /// catalogue) instead of the shipped catalogue.
    #[arg(long, value_name = "FILE")]
    catalogue: Option<PathBuf>,
    /// Output directory (must not exist, or be empty); written in full or not at all.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Format name of probe files.
pub const PROBES_FORMAT: &str = "cryoseed-probes";
/// Version of probe files.
pub const PROBES_FORMAT_VERSION: u32 = 1;
/// Version of `isotherms.json`.
pub const ISOTHERMS_FORMAT_VERSION: u32 = 1;
/// Largest grid the command accepts (voxels), so a typo in a spacing does not exhaust memory.
const MAX_VOXELS: usize = 50_000_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbesFile {
    format: String,
    version: u32,
    #[serde(default)]
    grid: Option<GridFile>,
    probes: Vec<ProbeFile>,
}

#[derive(Deserialize, Serialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct GridFile {
    dims: [usize; 3],
    spacing_mm: [f64; 3],
    origin_mm: [f64; 3],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeFile {
    class: String,
    tip_mm: [f64; 3],
    direction: [f64; 3],
}

#[derive(Serialize)]
struct IsothermsDoc {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    tissue: String,
    freeze_thaw: FreezeThawDoc,
    baseline_c: f64,
    grid: GridFile,
    time_step_s: f64,
    steps: usize,
    probes: Vec<ProbeDoc>,
    probe_axis: [f64; 3],
    min_temperature_file: &'static str,
    min_temperature_c: f64,
    isotherms: Vec<IsothermDoc>,
}

#[derive(Serialize)]
struct FreezeThawDoc {
    name: String,
    phases: Vec<(String, f64)>,
}

#[derive(Serialize)]
struct ProbeDoc {
    class: String,
    tip_mm: [f64; 3],
    direction: [f64; 3],
    outer_diameter_mm: f64,
    active_length_mm: f64,
    surface_temperature_c: f64,
}

#[derive(Serialize)]
struct IsothermDoc {
    temperature_c: f64,
    role: &'static str,
    file: String,
    volume_ml: f64,
    extent_along_axis_mm: Option<f64>,
    extent_across_axis_mm: Option<f64>,
    extent_across_axis_min_mm: Option<f64>,
}

/// Rounds to 0.01: voxel measurements carry no more precision, and rounding keeps files stable.
fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Runs a `cryoseed cryo` subcommand.
pub fn run(command: &CryoCommand, protocol: &Protocol) -> anyhow::Result<()> {
    match command {
        CryoCommand::Simulate(args) => simulate(args, protocol),
    }
}

fn simulate(args: &SimulateArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let catalogue = match &args.catalogue {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read catalogue {}", path.display()))?;
            ProbeCatalogue::from_csv_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?
        }
        None => ProbeCatalogue::shipped(),
    };
    let file = read_probes(&args.probes)?;
    let at = |e: cryoseed_cryo::CryoError| anyhow!("{}: {e}", args.probes.display());
    let mut probes = Vec::with_capacity(file.probes.len());
    for (index, p) in file.probes.iter().enumerate() {
        let class =
            catalogue.class(&p.class).map_err(|e| anyhow!("{}: probes[{index}].class: {e}", args.probes.display()))?;
        probes.push(
            PlacedProbe::new(index, class.clone(), PatientPoint(p.tip_mm), PatientVector(p.direction)).map_err(at)?,
        );
    }
    if probes.is_empty() {
        bail!("{}: probes: the list is empty", args.probes.display());
    }
    let grid = match (&file.grid, args.spacing_mm) {
        (Some(_), Some(_)) => bail!("--spacing-mm: the probe file gives its own grid; remove one of the two"),
        (Some(g), None) => Grid::new(g.dims, g.spacing_mm.map(Mm), PatientPoint(g.origin_mm))
            .map_err(|e| anyhow!("{}: grid: {e}", args.probes.display()))?,
        (None, spacing) => grid_around(&probes, spacing.unwrap_or(1.0), args.margin_mm)?,
    };
    if grid.len() > MAX_VOXELS {
        bail!(
            "grid of {:?} voxels is larger than {MAX_VOXELS} voxels: use a coarser spacing or a smaller margin",
            grid.dims()
        );
    }
    let organ = args.tissue.organ();
    let name = args.freeze_thaw.clone().unwrap_or_else(|| protocol.cryo.default_freeze_thaw.clone());
    let sequence = protocol.cryo.freeze_thaw(&name).ok_or_else(|| {
        let known: Vec<&str> = protocol.cryo.freeze_thaw.iter().map(|p| p.name.as_str()).collect();
        anyhow!("--freeze-thaw: no sequence `{name}` in the protocol (known: {})", known.join(", "))
    })?;
    if !sequence.applies_to(organ.lesion_site()) {
        let sites: Vec<String> = sequence.sites.iter().map(ToString::to_string).collect();
        bail!("--freeze-thaw: `{name}` is for {} only, not {}", sites.join(", "), organ.lesion_site());
    }
    let config = BioheatConfig {
        medium: Medium::from_tissue(&protocol.cryo.tissue_for(organ)).context("protocol cryo.tissue")?,
        baseline: BioheatConfig::BODY_TEMPERATURE,
        snapshot_times: vec![],
    };
    let surface = protocol.cryo.probe_surface_temperature_c;
    let result = simulate_freeze_thaw(&grid, &probes, &sequence.phases, surface, &config).map_err(at)?;

    let axis = probe_axis(&probes).expect("at least one probe");
    let isotherms = [
        (Celsius(0.0), "ice edge"),
        (protocol.cryo.lethal_isotherm_c, "lethal"),
        (protocol.cryo.conservative_lethal_isotherm_c, "lethal (conservative)"),
    ];
    let doc = IsothermsDoc {
        format: "cryoseed-cryo-simulation",
        version: ISOTHERMS_FORMAT_VERSION,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        tissue: organ.to_string(),
        freeze_thaw: FreezeThawDoc {
            name: sequence.name.clone(),
            phases: sequence
                .phases
                .iter()
                .map(|p| (if p.kind == PhaseKind::Freeze { "freeze" } else { "thaw" }.to_owned(), p.minutes.0))
                .collect(),
        },
        baseline_c: config.baseline.0,
        grid: GridFile { dims: grid.dims(), spacing_mm: grid.spacing_mm(), origin_mm: grid.origin().0 },
        time_step_s: (result.time_step_s * 1e4).round() / 1e4,
        steps: result.steps,
        probes: probes
            .iter()
            .map(|p| ProbeDoc {
                class: p.class.name.clone(),
                tip_mm: p.tip_in_patient.0,
                direction: p.direction.map(|v| (v * 1e6).round() / 1e6),
                outer_diameter_mm: p.class.outer_diameter.0,
                active_length_mm: p.class.active_length.0,
                surface_temperature_c: p.class.surface_temperature_or(surface).0,
            })
            .collect(),
        probe_axis: axis.map(|v| (v * 1e6).round() / 1e6),
        min_temperature_file: "min_temperature_c.nii.gz",
        min_temperature_c: r2(f64::from(
            result.min_temperature.as_slice().iter().copied().fold(f32::INFINITY, f32::min),
        )),
        isotherms: isotherms
            .iter()
            .map(|&(t, role)| {
                let extent = isotherm_extent(&isotherm_mask(&result.min_temperature, t), axis);
                IsothermDoc {
                    temperature_c: t.0,
                    role,
                    file: isotherm_file(t),
                    volume_ml: extent.map_or(0.0, |e| (e.volume.0 * 1000.0).round() / 1000.0),
                    extent_along_axis_mm: extent.map(|e| r2(e.along_axis.0)),
                    extent_across_axis_mm: extent.map(|e| r2(e.across_axis.0)),
                    extent_across_axis_min_mm: extent.map(|e| r2(e.across_axis_min.0)),
                }
            })
            .collect(),
    };
    write_outputs(&args.out, &result, &isotherms, &doc)?;
    let mut text = format!(
        "simulated {} probe(s), {} in {}, grid {:?} at {:?} mm, {} steps of {:.3} s\n",
        probes.len(),
        sequence.name,
        organ,
        grid.dims(),
        grid.spacing_mm(),
        result.steps,
        result.time_step_s
    );
    for iso in &doc.isotherms {
        let _ = writeln!(
            text,
            "{:>6} °C {:<22} {:>8.2} mL  along {:>6} mm  across {:>6} mm",
            iso.temperature_c,
            iso.role,
            iso.volume_ml,
            iso.extent_along_axis_mm.map_or("-".into(), |v| format!("{v:.1}")),
            iso.extent_across_axis_mm.map_or("-".into(), |v| format!("{v:.1}")),
        );
    }
    let _ = writeln!(text, "wrote {}", args.out.display());
    output::print(&text)
}

fn read_probes(path: &Path) -> anyhow::Result<ProbesFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read probe file {}", path.display()))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let file: ProbesFile = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| anyhow!("{}: {}: {}", path.display(), e.path(), e.inner()))?;
    if file.format != PROBES_FORMAT {
        bail!("{}: format: expected `{PROBES_FORMAT}`, got `{}`", path.display(), file.format);
    }
    if file.version != PROBES_FORMAT_VERSION {
        bail!("{}: version: expected {PROBES_FORMAT_VERSION}, got {}", path.display(), file.version);
    }
    Ok(file)
}

/// A grid of spacing `h` around every probe's active segment with `margin` mm of tissue.
fn grid_around(probes: &[PlacedProbe], h: f64, margin: f64) -> anyhow::Result<Grid> {
    if !(h.is_finite() && h > 0.0) {
        bail!("--spacing-mm: must be > 0, got {h}");
    }
    if !(margin.is_finite() && margin >= 0.0) {
        bail!("--margin-mm: must be >= 0, got {margin}");
    }
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in probes {
        for point in [p.tip_in_patient, p.active_end_in_patient()] {
            for a in 0..3 {
                lo[a] = lo[a].min(point.0[a] - margin);
                hi[a] = hi[a].max(point.0[a] + margin);
            }
        }
    }
    let dims: [usize; 3] = std::array::from_fn(|a| ((hi[a] - lo[a]) / h).ceil() as usize + 1);
    Grid::new(dims, [Mm(h); 3], PatientPoint(lo)).map_err(|e| anyhow!("simulation grid: {e}"))
}

fn isotherm_file(t: Celsius) -> String {
    let magnitude = format!("{}", t.0.abs());
    if t.0 < 0.0 { format!("iso_minus{magnitude}c.nii.gz") } else { format!("iso_{magnitude}c.nii.gz") }
}

/// Writes everything into a hidden sibling folder, then renames it into place: an error leaves
/// nothing behind.
fn write_outputs(
    dir: &Path,
    result: &BioheatResult,
    isotherms: &[(Celsius, &str)],
    doc: &IsothermsDoc,
) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("--out {}", dir.display()))?;
        if entries.next().is_some() {
            bail!("--out {}: the directory is not empty; refusing to overwrite", dir.display());
        }
    }
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "cryo".into());
    let staging = dir.with_file_name(format!(".{name}.partial"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let write = || -> anyhow::Result<()> {
        std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        cryoseed_imaging::nifti::write_field_f32(&staging.join(doc.min_temperature_file), &result.min_temperature)?;
        for &(t, _) in isotherms {
            cryoseed_imaging::nifti::write_mask(
                &staging.join(isotherm_file(t)),
                &isotherm_mask(&result.min_temperature, t),
            )?;
        }
        let mut text = serde_json::to_string_pretty(doc)?;
        text.push('\n');
        let path = staging.join("isotherms.json");
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        if dir.exists() {
            std::fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
        }
        std::fs::rename(&staging, dir).with_context(|| format!("cannot rename into {}", dir.display()))
    };
    let outcome = write();
    if outcome.is_err() {
        // Best effort: the error being reported matters more than a failure to clean up.
        let _ = std::fs::remove_dir_all(&staging);
    }
    outcome
}
