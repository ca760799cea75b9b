//! One module per subcommand.

pub mod cryo;
pub mod ctcae;
pub mod demo;
pub mod dose;
pub mod export;
pub mod features;
pub mod import;
pub mod phantom;
pub mod plan;
pub mod protocol;
pub mod randomization;
pub mod response;
pub mod stats;
pub mod tg43;

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
