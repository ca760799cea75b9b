//! Writing to the terminal: one place for stdout and stderr so a closed pipe (`| head`) ends the
//! program quietly instead of panicking.

use std::io::Write;

/// Writes `text` to standard output; a closed pipe is not an error worth reporting.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Prints an error and its causes to standard error, one per line.
pub fn error(error: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
}

/// Serializes `value` as pretty JSON with a trailing newline.
pub fn json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// Refuses an output directory that exists and is not empty (`flag` names the option, e.g.
/// `--out`), before any work is done.
pub fn check_out_dir(dir: &std::path::Path, flag: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("{flag} {}", dir.display()))?;
        if entries.next().is_some() {
            anyhow::bail!("{flag} {}: the directory is not empty; refusing to overwrite", dir.display());
        }
    }
    Ok(())
}

/// Writes a directory in full or not at all: `fill` writes into a hidden sibling staging folder,
/// which is renamed into place when it succeeds and removed when it fails. `dir` must be absent
/// or empty ([`check_out_dir`]).
pub fn write_dir_atomically(
    dir: &std::path::Path,
    flag: &str,
    fill: impl FnOnce(&std::path::Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    check_out_dir(dir, flag)?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let staging = dir.with_file_name(format!(".{name}.partial"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let result = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
        fill(&staging)?;
        if dir.exists() {
            std::fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
        }
        std::fs::rename(&staging, dir).with_context(|| format!("cannot move the results to {}", dir.display()))
    })();
    if result.is_err() {
        // Best effort: the error being reported matters more than a failure to clean up.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}
