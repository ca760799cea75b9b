//! `cryoseed cryo simulate`: the 3-D bioheat simulation of a probe set through a freeze–thaw
//! sequence, written as NIfTI images and `isotherms.json`.
//!
//! `cryoseed cryo plan`: probe placement for a target structure of a case directory (fast
//! surrogate search, then verification with the bioheat solver), written as `probes.json` (the
//! layout `cryo simulate --probes` reads), `coverage.json` and isotherm masks.

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
    /// Place probes so that the lethal isotherm covers a target structure (with a margin) while
    /// the ice edge keeps its distance from every critical OAR; verify with the bioheat solver.
    /// Writes probes.json, coverage.json and isotherm masks (NIfTI).
    Plan(PlanArgs),
}

/// Flags of `cryoseed cryo plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// Case directory (as written by `cryoseed phantom` or `cryoseed import`).
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// Name of the structure to ablate (e.g. GTV_L1).
    #[arg(long, value_name = "NAME")]
    target: String,
    /// Margin added around the target structure, mm (default: the protocol's
    /// `cryo.ablative_margin_mm`, 5).
    #[arg(long, value_name = "MM")]
    margin_mm: Option<f64>,
    /// Lethal isotherm, °C (default: the protocol's `cryo.lethal_isotherm_c`, -20).
    #[arg(long, value_name = "C", allow_hyphen_values = true)]
    lethal_c: Option<f64>,
    /// Minimum fraction of the target inside the lethal isotherm.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.95)]
    coverage: f64,
    /// Minimum distance from the 0 °C ice edge to every critical OAR, mm (default: the protocol's
    /// `allocation.min_ice_to_oar_mm`, 5). Critical OARs are the case's structures of role `oar`
    /// whose organ is a protocol critical-OAR class.
    #[arg(long, value_name = "MM")]
    oar_distance_mm: Option<f64>,
    /// Structure the ice edge must stay inside (grown by --confine-margin-mm), e.g. the GTV when
    /// the target is a bulky lesion's core.
    #[arg(long, value_name = "NAME")]
    confine_to: Option<String>,
    /// Margin around --confine-to, mm (default: the protocol's `zoning.ice_edge_max_beyond_gtv_mm`, 3).
    #[arg(long, value_name = "MM", requires = "confine_to")]
    confine_margin_mm: Option<f64>,
    /// Direction of parallel probes, from the skin entry towards the tip, as x,y,z in the
    /// patient frame (LPS); the default 0,1,0 is an anterior approach.
    #[arg(long, value_name = "X,Y,Z", default_value = "0,1,0", conflicts_with = "entry")]
    direction: String,
    /// Skin entry point x,y,z (mm, patient frame); repeat for several. Each probe is aimed from
    /// the nearest entry point instead of being parallel.
    #[arg(long, value_name = "X,Y,Z")]
    entry: Vec<String>,
    /// Probe class of the catalogue.
    #[arg(long, value_name = "CLASS", default_value = "2.4mm-argon")]
    class: String,
    /// Probe catalogue CSV of the site instead of the shipped catalogue.
    #[arg(long, value_name = "FILE")]
    catalogue: Option<PathBuf>,
    /// Freeze–thaw sequence, by its name in the protocol (default: `cryo.default_freeze_thaw`).
    #[arg(long, value_name = "NAME")]
    freeze_thaw: Option<String>,
    /// Skip the verification of the plan with the bioheat solver (which takes tens of seconds to
    /// minutes).
    #[arg(long)]
    no_verify: bool,
    /// Voxel spacing of the verification simulation, mm. The surrogate is calibrated at 1 mm;
    /// coarser grids run faster but under-resolve the cold next to a probe (less lethal ice).
    #[arg(long, value_name = "MM", default_value_t = 1.0)]
    verify_spacing_mm: f64,
    /// Output directory (must not exist, or be empty); written in full or not at all.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
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
        CryoCommand::Plan(args) => plan(args, protocol),
    }
}

fn load_catalogue(path: Option<&Path>) -> anyhow::Result<ProbeCatalogue> {
    Ok(match path {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read catalogue {}", path.display()))?;
            ProbeCatalogue::from_csv_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?
        }
        None => ProbeCatalogue::shipped(),
    })
}

fn simulate(args: &SimulateArgs, protocol: &Protocol) -> anyhow::Result<()> {
    let catalogue = load_catalogue(args.catalogue.as_deref())?;
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
    crate::output::write_dir_atomically(dir, "--out", |staging| {
        cryoseed_imaging::nifti::write_field_f32(&staging.join(doc.min_temperature_file), &result.min_temperature)?;
        for &(t, _) in isotherms {
            cryoseed_imaging::nifti::write_mask(
                &staging.join(isotherm_file(t)),
                &isotherm_mask(&result.min_temperature, t),
            )?;
        }
        write_json(&staging.join("isotherms.json"), doc)
    })
}

fn write_json(path: &Path, doc: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Version of `coverage.json`.
pub const COVERAGE_FORMAT_VERSION: u32 = 1;

/// `probes.json`: the layout `cryoseed cryo simulate --probes` reads.
#[derive(Serialize)]
pub(crate) struct ProbesOut<'a> {
    pub(crate) format: &'static str,
    pub(crate) version: u32,
    pub(crate) probes: &'a [cryoseed_cryo::placement::PlannedProbe],
}

#[derive(Serialize)]
struct CoverageDoc<'a> {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    case_patient_id: String,
    target_structure: String,
    margin_mm: f64,
    confinement: Option<ConfinementDoc>,
    tissue: String,
    freeze_thaw: String,
    feasible: bool,
    verified: bool,
    plan: &'a cryoseed_cryo::placement::ProbePlan,
    files: Vec<String>,
}

#[derive(Serialize)]
struct ConfinementDoc {
    structure: String,
    margin_mm: f64,
}

fn parse_xyz(flag: &str, text: &str) -> anyhow::Result<[f64; 3]> {
    let parts: Vec<&str> = text.split(',').map(str::trim).collect();
    let values: Vec<f64> = parts.iter().filter_map(|p| p.parse::<f64>().ok()).filter(|v| v.is_finite()).collect();
    if parts.len() != 3 || values.len() != 3 {
        bail!("{flag}: expected three numbers x,y,z, got `{text}`");
    }
    Ok([values[0], values[1], values[2]])
}

fn plan(args: &PlanArgs, protocol: &Protocol) -> anyhow::Result<()> {
    use cryoseed_core::StructureRole;
    use cryoseed_cryo::placement::{OarConstraint, PlacementRequest, ProbeDirections, plan_probes, verify_plan};
    use cryoseed_cryo::surrogate::SurrogateLibrary;

    crate::output::check_out_dir(&args.out, "--out")?;
    if !(args.coverage > 0.0 && args.coverage <= 1.0) {
        bail!("--coverage: must be in (0, 1], got {}", args.coverage);
    }
    let non_negative = |flag: &str, v: Option<f64>, default: f64| -> anyhow::Result<f64> {
        let v = v.unwrap_or(default);
        if !(v.is_finite() && v >= 0.0) {
            bail!("{flag}: must be >= 0 mm, got {v}");
        }
        Ok(v)
    };
    let margin = non_negative("--margin-mm", args.margin_mm, protocol.cryo.ablative_margin_mm.0)?;
    let oar_distance =
        non_negative("--oar-distance-mm", args.oar_distance_mm, protocol.allocation.min_ice_to_oar_mm.0)?;
    let confine_margin =
        non_negative("--confine-margin-mm", args.confine_margin_mm, protocol.zoning.ice_edge_max_beyond_gtv_mm.0)?;
    if !(args.verify_spacing_mm.is_finite() && args.verify_spacing_mm > 0.0) {
        bail!("--verify-spacing-mm: must be > 0, got {}", args.verify_spacing_mm);
    }
    let lethal = Celsius(args.lethal_c.unwrap_or(protocol.cryo.lethal_isotherm_c.0));
    if !(lethal.0.is_finite() && lethal.0 < 0.0) {
        bail!("--lethal-c: must be below 0 °C (the ice edge), got {}", lethal.0);
    }
    let catalogue = load_catalogue(args.catalogue.as_deref())?;
    let class = catalogue.class(&args.class).map_err(|e| anyhow!("--class: {e}"))?.clone();
    let directions = if args.entry.is_empty() {
        ProbeDirections::Parallel(PatientVector(parse_xyz("--direction", &args.direction)?))
    } else {
        ProbeDirections::FromEntryPoints(
            args.entry.iter().map(|e| parse_xyz("--entry", e).map(PatientPoint)).collect::<anyhow::Result<_>>()?,
        )
    };

    let loaded = cryoseed_imaging::read_case(&args.case)
        .with_context(|| format!("cannot read the case directory {}", args.case.display()))?;
    let case = loaded.case;
    let structure = case.structure(&args.target).ok_or_else(|| {
        let names: Vec<&str> = case.structures().iter().map(|s| s.name.as_str()).collect();
        anyhow!(
            "--target: no structure `{}` in {} (structures: {})",
            args.target,
            args.case.display(),
            names.join(", ")
        )
    })?;
    let organ = structure.organ;
    let target = cryoseed_volume::dilate(&structure.mask, Mm(margin));
    let oars: Vec<OarConstraint> = case
        .with_role(StructureRole::Oar)
        .filter(|s| s.organ.critical_oar().is_some() && s.name != args.target)
        .map(|s| OarConstraint { name: s.name.clone(), mask: s.mask.clone(), min_ice_distance: Mm(oar_distance) })
        .collect();
    let confinement = match &args.confine_to {
        Some(name) => {
            let s = case
                .structure(name)
                .ok_or_else(|| anyhow!("--confine-to: no structure `{name}` in {}", args.case.display()))?;
            Some(cryoseed_volume::dilate(&s.mask, Mm(confine_margin)))
        }
        None => None,
    };
    let mut request = PlacementRequest::from_protocol(&protocol.cryo, target, class.clone(), directions);
    request.oars = oars;
    request.confinement = confinement;
    request.lethal_isotherm = lethal;
    request.min_coverage = args.coverage;

    let name = args.freeze_thaw.clone().unwrap_or_else(|| protocol.cryo.default_freeze_thaw.clone());
    let sequence = protocol.cryo.freeze_thaw(&name).ok_or_else(|| {
        let known: Vec<&str> = protocol.cryo.freeze_thaw.iter().map(|p| p.name.as_str()).collect();
        anyhow!("--freeze-thaw: no sequence `{name}` in the protocol (known: {})", known.join(", "))
    })?;
    let medium = Medium::from_tissue(&protocol.cryo.tissue_for(organ)).context("protocol cryo.tissue")?;
    let surface = protocol.cryo.probe_surface_temperature_c;
    let library = SurrogateLibrary::shipped();
    let model = library
        .find(&class, &medium, &sequence.phases, BioheatConfig::BODY_TEMPERATURE, class.surface_temperature_or(surface))
        .map_err(|e| anyhow!("{organ} tissue, --class {}, --freeze-thaw {name}: {e}", class.name))?;
    let mut plan = plan_probes(&request, model).map_err(|e| anyhow!("{e}"))?;
    let mut verification = None;
    if !args.no_verify {
        let config = BioheatConfig { medium, baseline: BioheatConfig::BODY_TEMPERATURE, snapshot_times: vec![] };
        let v = verify_plan(&request, model, &plan, &sequence.phases, surface, &config, Mm(args.verify_spacing_mm))
            .map_err(|e| anyhow!("verification: {e}"))?;
        plan.physics = Some(v.metrics.clone());
        verification = Some(v);
    }
    let probes = plan.placed_probes(&class).map_err(|e| anyhow!("{e}"))?;
    let isotherms = [Celsius(0.0), lethal];
    let masks = model.isotherm_masks(case.grid(), &probes, &isotherms).map_err(|e| anyhow!("{e}"))?;
    let mut files = vec!["probes.json".to_owned(), "coverage.json".to_owned()];
    files.extend(isotherms.iter().map(|&t| format!("surrogate_{}", isotherm_file(t))));
    if verification.is_some() {
        files.push("physics_min_temperature_c.nii.gz".into());
        files.extend(isotherms.iter().map(|&t| format!("physics_{}", isotherm_file(t))));
    }
    let doc = CoverageDoc {
        format: "cryoseed-cryo-plan",
        version: COVERAGE_FORMAT_VERSION,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        case_patient_id: case.patient_id().to_string(),
        target_structure: args.target.clone(),
        margin_mm: margin,
        confinement: args
            .confine_to
            .as_ref()
            .map(|s| ConfinementDoc { structure: s.clone(), margin_mm: confine_margin }),
        tissue: organ.to_string(),
        freeze_thaw: sequence.name.clone(),
        feasible: plan.feasible && plan.physics.as_ref().is_none_or(|p| p.feasible()),
        verified: plan.physics.is_some(),
        plan: &plan,
        files,
    };
    crate::output::write_dir_atomically(&args.out, "--out", |staging| {
        write_json(
            &staging.join("probes.json"),
            &ProbesOut { format: PROBES_FORMAT, version: PROBES_FORMAT_VERSION, probes: &plan.probes },
        )?;
        write_json(&staging.join("coverage.json"), &doc)?;
        for (mask, &t) in masks.iter().zip(&isotherms) {
            cryoseed_imaging::nifti::write_mask(&staging.join(format!("surrogate_{}", isotherm_file(t))), mask)?;
        }
        if let Some(v) = &verification {
            cryoseed_imaging::nifti::write_field_f32(
                &staging.join("physics_min_temperature_c.nii.gz"),
                &v.min_temperature,
            )?;
            for &t in &isotherms {
                cryoseed_imaging::nifti::write_mask(
                    &staging.join(format!("physics_{}", isotherm_file(t))),
                    &isotherm_mask(&v.min_temperature, t),
                )?;
            }
        }
        Ok(())
    })?;

    let mut text = format!(
        "{} probe(s) of {} for {} + {margin} mm ({} in {}, lethal {} °C): {}\n",
        plan.probes.len(),
        class.name,
        args.target,
        sequence.name,
        organ,
        lethal.0,
        if doc.feasible { "meets every constraint" } else { "DOES NOT meet every constraint" }
    );
    for p in &plan.probes {
        let _ = writeln!(text, "  probe tip {:?} mm, direction {:?}", p.tip_mm, p.direction);
    }
    for metrics in std::iter::once(&plan.surrogate).chain(plan.physics.as_ref()) {
        let _ = writeln!(text, "{}: lethal coverage {:.1} %", metrics.model, 100.0 * metrics.coverage);
        for o in &metrics.oars {
            let _ = writeln!(
                text,
                "  ice edge to {}: {} (required >= {} mm){}",
                o.name,
                o.ice_distance_mm
                    .map_or_else(|| format!("> {} mm", plan.evaluated_margin_mm), |d| format!("{d:.1} mm")),
                o.required_mm,
                if o.pass { "" } else { "  BROKEN" }
            );
        }
        if let Some(c) = &metrics.confinement {
            let _ = writeln!(text, "  ice beyond the confinement: {:.1} mm", c.max_beyond_mm);
        }
        for b in &metrics.broken {
            let _ = writeln!(
                text,
                "  broken: {} (required {}, achieved {}, missed by {} {})",
                b.constraint, b.required, b.achieved, b.by, b.unit
            );
        }
    }
    let _ = writeln!(text, "wrote {}", args.out.display());
    output::print(&text)
}
