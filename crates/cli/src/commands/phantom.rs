//! `cryoseed phantom`: synthetic patients as case directories.

use crate::output;
use anyhow::{Context, bail};
use cryoseed_core::Mm;
use cryoseed_sim::{PhantomConfig, Scenario};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `cryoseed phantom`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// List the scenarios with a one-line description each.
    #[arg(long, conflicts_with_all = ["scenario", "out"])]
    list: bool,
    /// Scenario name (see --list).
    #[arg(long, value_name = "NAME", required_unless_present = "list")]
    scenario: Option<String>,
    /// Output case directory (must not exist, or be empty).
    #[arg(long, value_name = "DIR", required_unless_present = "list")]
    out: Option<PathBuf>,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Voxel spacing in mm: one value for all axes, or three as X,Y,Z (e.g. 1,1,2.5).
    #[arg(long, value_name = "MM", default_value = "1", value_delimiter = ',', num_args = 1..=3)]
    spacing: Vec<f64>,
}

/// Lists scenarios or writes one.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.list {
        let mut s = String::new();
        for scenario in Scenario::ALL {
            let _ = writeln!(s, "{:<24} {}", scenario.name(), scenario.description());
        }
        return output::print(&s);
    }
    let (Some(name), Some(out)) = (&args.scenario, &args.out) else {
        bail!("--scenario and --out are required unless --list is given");
    };
    let scenario: Scenario = name.parse().map_err(|e| anyhow::anyhow!("--scenario: {e}"))?;
    let spacing = match args.spacing.as_slice() {
        [s] => [*s; 3],
        [x, y, z] => [*x, *y, *z],
        _ => bail!("--spacing: give one value or three (X,Y,Z), got {}", args.spacing.len()),
    };
    let config = PhantomConfig { spacing: spacing.map(Mm) };
    let case = cryoseed_sim::phantom(scenario, &config, args.seed).map_err(|e| match e {
        cryoseed_sim::SimError::Spacing { .. } => anyhow::anyhow!("--spacing: {e}"),
        other => anyhow::Error::new(other).context(format!("cannot build the {} phantom", scenario.name())),
    })?;
    let source = format!(
        "cryoseed-sim {} scenario {} seed {} spacing {:?} mm",
        cryoseed_core::SOFTWARE_VERSION,
        scenario.name(),
        args.seed,
        spacing
    );
    cryoseed_imaging::write_case(out, &case, Some(&source)).context("cannot write the case directory")?;
    let grid = case.grid();
    output::print(&format!(
        "wrote {} ({} structures, grid {:?} at {:?} mm) to {}\n",
        case.patient_id(),
        case.structures().len(),
        grid.dims(),
        grid.spacing_mm(),
        out.display()
    ))
}
