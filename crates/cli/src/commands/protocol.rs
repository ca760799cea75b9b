//! `cryoseed protocol show|check`.

use super::load_protocol;
use crate::output;
use std::path::Path;

/// Prints the protocol as TOML (or canonical JSON) with its identity.
pub fn show(path: Option<&Path>, json: bool) -> anyhow::Result<()> {
    let protocol = load_protocol(path)?;
    if json {
        let mut text = protocol.to_canonical_json();
        text.push('\n');
        return output::print(&text);
    }
    let header = format!(
        "# {} version {}\n# sha256 {}\n# source: {}\n\n",
        protocol.protocol.name,
        protocol.protocol.version,
        protocol.hash(),
        path.map_or("shipped default".into(), |p| p.display().to_string()),
    );
    output::print(&(header + &protocol.to_toml_string()))
}

/// Validates the protocol; on success prints its identity.
pub fn check(path: Option<&Path>) -> anyhow::Result<()> {
    let protocol = load_protocol(path)?;
    output::print(&format!(
        "{}: valid ({} version {}, sha256 {})\n",
        path.map_or("shipped protocol".into(), |p| p.display().to_string()),
        protocol.protocol.name,
        protocol.protocol.version,
        protocol.hash()
    ))
}
