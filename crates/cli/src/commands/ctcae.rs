//! `cryoseed ctcae search|check`: look up CTCAE v5.0 terms and check a grade against a term.

use crate::output::print;
use cryoseed_trial::ctcae::{CtcaeTerm, catalogue, check_grade};
use std::fmt::Write as _;

/// `cryoseed ctcae …`
#[derive(Debug, clap::Subcommand)]
pub enum CtcaeCommand {
    /// Terms matching TERM (exact, then containing it, then close spellings), with MedDRA code,
    /// system organ class and the grades each term defines.
    Search(SearchArgs),
    /// Check that a term exists and defines a grade; prints the grade's NCI description.
    Check(CheckArgs),
}

/// Arguments of `ctcae search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Text to look for in CTCAE v5.0 term names (case-insensitive).
    pub term: String,
    /// Show at most this many terms.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

/// Arguments of `ctcae check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The CTCAE v5.0 term, e.g. "Pneumothorax" (case-insensitive).
    #[arg(long)]
    pub term: String,
    /// The CTCAE grade, 1–5.
    #[arg(long)]
    pub grade: u8,
}

fn grades(term: &CtcaeTerm) -> String {
    term.allowed_grades().iter().map(u8::to_string).collect::<Vec<_>>().join(",")
}

/// Runs a `ctcae` subcommand.
pub fn run(command: &CtcaeCommand) -> anyhow::Result<()> {
    match command {
        CtcaeCommand::Search(args) => {
            let found = catalogue().search(&args.term, args.limit);
            if found.is_empty() {
                anyhow::bail!("no CTCAE v5.0 term matches {:?}", args.term);
            }
            let mut text = String::from("meddra_code\tgrades\tterm\tsoc\n");
            for t in found {
                writeln!(text, "{}\t{}\t{}\t{}", t.meddra_code, grades(t), t.term, t.soc)?;
            }
            print(&text)
        }
        CtcaeCommand::Check(args) => {
            let term = check_grade(catalogue(), &args.term, args.grade)?;
            let description = term.grades[usize::from(args.grade - 1)].as_deref().unwrap_or_default();
            print(&format!(
                "ok: {} (MedDRA {}, {}) grade {}: {description}\n",
                term.term, term.meddra_code, term.soc, args.grade
            ))
        }
    }
}
