//! `cryoseed`: the command-line front of cryoseed.
//!
//! Each subcommand parses its flags into domain values, calls the compute crates, and prints a
//! human table or, with `--json`, a versioned JSON document. Errors name the file and field and
//! exit with status 1; usage errors exit with status 2.

mod commands;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Plan and run the randomized trial of I-125 seed implantation combined with cryoablation.
#[derive(Debug, Parser)]
#[command(name = "cryoseed", version, about, long_about = None)]
struct Cli {
    /// Protocol file to use instead of the shipped default (protocol.toml).
    #[arg(long, global = true, value_name = "FILE")]
    protocol: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show or check a protocol (the shipped default unless FILE is given).
    #[command(subcommand)]
    Protocol(ProtocolCommand),
    /// Write a synthetic patient (case directory) for a named scenario, or list the scenarios.
    Phantom(commands::phantom::Args),
    /// Measure every lesion of a case directory: diameters, volume, distances to OARs and vessels.
    Features(commands::features::Args),
    /// Plan a patient: allocation, zoning, seeds and cryoprobes, evaluation; plan.json, report.html, NIfTI.
    Plan(commands::plan::PlanArgs),
    /// Post-implant dosimetry: found seed positions against the plan, technical-success verdict.
    Postimplant(commands::plan::PostImplantArgs),
    /// Intra-operative re-planning: re-optimize the seeds still to place around those already placed.
    Replan(commands::plan::ReplanArgs),
    /// Cryoablation: simulate the ice ball of a probe set, or plan probes for a target.
    #[command(subcommand)]
    Cryo(commands::cryo::CryoCommand),
    /// Run the trial on a seeded synthetic cohort and print a summary (the README's main job).
    ///
    /// Every randomized patient is planned with the real planner on its phantom (`--spacing-mm`
    /// grid), patients in parallel, with the seed optimizer's annealing shortened to 3 000 moves
    /// per round (each plan records its settings; every verdict comes from the dose engine on the
    /// voxels, and the summary counts the plans meeting every protocol constraint). The default
    /// 90-patient trial takes a few minutes on 2 cores (BENCHMARKS.md, "demo").
    Demo(commands::demo::Args),
    /// Assess response from readers' measurements: RECIST 1.1, local progression, adjudication, burden.
    Response(commands::response::Args),
    /// Statistics on a CSV file (survival, proportions, clustered binary outcomes, power), as JSON.
    #[command(subcommand)]
    Stats(commands::stats::StatsCommand),
    /// The design's power by simulation: local control difference (lesions clustered in patients,
    /// ICC) and LPFS hazard ratio, with Schoenfeld's formula; the same as `cryoseed stats power`.
    Power(commands::stats::PowerArgs),
    /// TG-43U1 dose rate per U of one seed at points in the seed frame (CSV in, CSV out).
    Tg43(commands::tg43::Args),
    /// Dose of a seed implant on a case: NIfTI dose grid (Gy), metrics.json and a DVH CSV.
    Dose(commands::dose::Args),
    /// Concealed randomization: generate the allocation list (statistician only).
    #[command(subcommand)]
    Randomization(commands::randomization::RandomizationCommand),
    /// CTCAE v5.0 terms: search the catalogue, check a grade against a term.
    #[command(subcommand)]
    Ctcae(commands::ctcae::CtcaeCommand),
    /// Import a DICOM CT series and RT Structure Set into a case directory (with ct.nii.gz).
    Import(commands::import::Args),
    /// Export a case as DICOM RT (RTSTRUCT, RTPLAN, RTDOSE, CT), or the trial database as CDISC SDTM/ADaM and de-identified IPD.
    Export(commands::export::Args),
    /// Trial database: create the schema and first administrator, or apply new migrations.
    #[command(subcommand)]
    Db(commands::db::DbCommand),
    /// Audit trail of the trial database: verify the hash chain, print entries.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// A whole trial as one JSON document: export from, or import into, a trial database.
    #[command(subcommand)]
    Trial(commands::trial::TrialCommand),
    /// Randomize one screened, eligible patient from the list stored in the trial database.
    Randomize(commands::randomize::Args),
    /// Set a user's web sign-in password (read from standard input; stored as an Argon2id hash).
    Password(commands::password::Args),
    /// The trial's web service: JSON API and screens, sign-in, roles, blinding (--demo: a synthetic trial).
    Serve(commands::serve::Args),
    /// Analysis datasets (per patient, per time-to-event endpoint, per treated lesion, burden) as CSV.
    Endpoints(commands::endpoints::Args),
    /// Analysis report of the stored trial: every endpoint by arm, safety, concordance (analysis.html, analysis.pdf, analysis.json).
    Report(commands::analysis::ReportArgs),
}

#[derive(Debug, Subcommand)]
enum ProtocolCommand {
    /// Print the protocol with its version and SHA-256 identity.
    Show {
        /// Protocol file (default: the shipped protocol.toml).
        file: Option<PathBuf>,
        /// Print the canonical JSON form (the one that is hashed) instead of TOML.
        #[arg(long)]
        json: bool,
    },
    /// Validate a protocol and report every problem with its key path.
    Check {
        /// Protocol file (default: the shipped protocol.toml).
        file: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result =
        match cli.command {
            Command::Protocol(ProtocolCommand::Show { file, json }) => {
                commands::protocol::show(file.as_deref().or(cli.protocol.as_deref()), json)
            }
            Command::Protocol(ProtocolCommand::Check { file }) => {
                commands::protocol::check(file.as_deref().or(cli.protocol.as_deref()))
            }
            Command::Phantom(args) => commands::phantom::run(&args),
            Command::Import(args) => commands::import::run(&args),
            Command::Export(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::export::run(&args, &p))
            }
            Command::Features(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::features::run(&args, &p))
            }
            Command::Plan(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::plan::run(&args, &p))
            }
            Command::Postimplant(args) => commands::load_protocol(cli.protocol.as_deref())
                .and_then(|p| commands::plan::run_postimplant(&args, &p)),
            Command::Replan(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::plan::run_replan(&args, &p))
            }
            Command::Cryo(command) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::cryo::run(&command, &p))
            }
            Command::Demo(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::demo::run(&args, &p))
            }
            Command::Response(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::response::run(&args, &p))
            }
            Command::Power(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::stats::power(&args, &p))
            }
            Command::Stats(command) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::stats::run(&command, &p))
            }
            Command::Tg43(args) => commands::tg43::run(&args),
            Command::Dose(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::dose::run(&args, &p))
            }
            Command::Randomization(command) => commands::load_protocol(cli.protocol.as_deref())
                .and_then(|p| commands::randomization::run(&command, &p)),
            Command::Ctcae(command) => commands::ctcae::run(&command),
            Command::Db(command) => commands::db::run(&command),
            Command::Audit(command) => commands::audit::run(&command),
            Command::Trial(command) => commands::trial::run(&command),
            Command::Randomize(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::randomize::run(&args, &p))
            }
            Command::Password(args) => commands::password::run(&args),
            Command::Serve(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::serve::run(&args, p))
            }
            Command::Endpoints(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::endpoints::run(&args, &p))
            }
            Command::Report(args) => {
                commands::load_protocol(cli.protocol.as_deref()).and_then(|p| commands::analysis::run_report(&args, &p))
            }
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::error(&error);
            ExitCode::FAILURE
        }
    }
}
