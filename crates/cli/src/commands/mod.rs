//! One module per subcommand.

pub mod analysis;
pub mod audit;
pub mod cryo;
pub mod ctcae;
pub mod db;
pub mod demo;
pub mod dose;
pub mod endpoints;
pub mod export;
pub mod features;
pub mod import;
pub mod password;
pub mod phantom;
pub mod plan;
pub mod protocol;
pub mod randomization;
pub mod randomize;
pub mod response;
pub mod serve;
pub mod stats;
pub mod tg43;
pub mod trial;

use anyhow::{Context, anyhow};
use cryoseed_core::protocol::Protocol;
use std::path::Path;

/// The protocol in `path`, or the shipped default. Every problem is reported, one per line,
/// prefixed with the file name.
pub fn load_protocol(path: Option<&Path>) -> anyhow::Result<Protocol> {
    let Some(path) = path else {
        return Ok(Protocol::shipped());
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read protocol {}", path.display()))?;
    Protocol::from_toml_str(&text).map_err(|errors| {
        let lines: Vec<String> = errors.errors().iter().map(|e| format!("{}: {e}", path.display())).collect();
        anyhow!(
            "invalid protocol ({} problem{}):\n{}",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            lines.join("\n")
        )
    })
}

/// The database the trial-record commands use when `--db` is not given (a SQLite file in the
/// current directory, created on first use).
pub const DEFAULT_DB: &str = "sqlite://cryoseed.db?mode=rwc";

/// Runs one async store operation to completion on a single-threaded runtime.
pub fn block_on<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

/// Connects to the trial database at `url`.
pub async fn open_store(url: &str) -> anyhow::Result<cryoseed_store::Store> {
    cryoseed_store::Store::connect(url).await.with_context(|| format!("cannot open the database {url}"))
}
