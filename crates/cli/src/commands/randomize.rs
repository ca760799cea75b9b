//! `cryoseed randomize`: randomize one screened, eligible patient from the stored concealed list.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::print;
use cryoseed_core::protocol::Protocol;

/// Arguments of `cryoseed randomize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: String,
    /// The randomizing investigator.
    #[arg(long = "as", value_name = "USER")]
    pub actor: String,
    /// Study id of the patient (screened eligible).
    #[arg(long)]
    pub patient: String,
    /// Date of randomization, YYYY-MM-DD.
    #[arg(long)]
    pub date: String,
}

/// Runs `cryoseed randomize`.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    block_on(async {
        let store = open_store(&args.db).await?;
        let a = store.randomize(&args.actor, &args.patient, &args.date, protocol).await?;
        print(&format!(
            "patient {}: arm {}, stratum {}, sequence number {}\n",
            a.patient_id, a.arm, a.stratum, a.sequence_number
        ))
    })
}
