//! `cryoseed password`: set a user's web sign-in password (read from standard input, never from
//! the command line), stored as an Argon2id hash.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::print;
use anyhow::{Context, bail};
use std::io::BufRead as _;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// Arguments of `cryoseed password`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL.
    #[arg(long, default_value = DEFAULT_DB)]
    pub db: String,
    /// Who sets it: an administrator, or the user themself.
    #[arg(long = "as", value_name = "USER")]
    pub actor: String,
    /// The user whose password is set.
    #[arg(long)]
    pub user: String,
}

/// Runs `cryoseed password`: the first line of standard input is the new password.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < MIN_LENGTH {
        bail!("password (standard input): at least {MIN_LENGTH} characters, got {}", password.chars().count());
    }
    let phc = cryoseed_server::auth::hash_password(password).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    block_on(async {
        let store = open_store(&args.db).await?;
        store.set_password_hash(&args.actor, &args.user, &phc).await?;
        print(&format!("password of {} set (Argon2id); their other sessions are closed\n", args.user))
    })
}
