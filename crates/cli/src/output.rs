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

/// A progress bar on standard error for one stage of a long command.
///
/// On a terminal it redraws one line (`demo: planning  [#######·····]  45/90  50 %  0:32, about
/// 0:30 left`); when standard error is a file or a pipe (CI logs, `2> log`) it prints a plain line
/// at every tenth of the work instead, so logs stay readable. Safe to advance from several
/// threads. Nothing it prints goes to standard output or into any file the command writes.
#[derive(Debug)]
pub struct Progress {
    prefix: &'static str,
    stage: String,
    total: usize,
    started: std::time::Instant,
    terminal: bool,
    state: std::sync::Mutex<ProgressState>,
}

#[derive(Debug, Default)]
struct ProgressState {
    done: usize,
    /// Tenths already printed (plain mode) or the last redraw (terminal).
    printed_tenths: usize,
    last_draw: Option<std::time::Instant>,
}

const BAR_WIDTH: usize = 24;

impl Progress {
    /// Starts a stage of `total` steps, printed after `prefix: `.
    pub fn new(prefix: &'static str, stage: impl Into<String>, total: usize) -> Progress {
        use std::io::IsTerminal as _;
        let progress = Progress {
            prefix,
            stage: stage.into(),
            total,
            started: std::time::Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            state: std::sync::Mutex::new(ProgressState::default()),
        };
        if progress.terminal {
            progress.draw(0, "");
        }
        progress
    }

    /// One more step done; `detail` (e.g. the patient just finished) is shown on a terminal.
    pub fn step(&self, detail: &str) {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        state.done = (state.done + 1).min(self.total);
        let done = state.done;
        if self.terminal {
            // Redraw at most ten times a second, and always at the end.
            let now = std::time::Instant::now();
            if done == self.total || state.last_draw.is_none_or(|t| now.duration_since(t).as_millis() >= 100) {
                state.last_draw = Some(now);
                self.draw(done, detail);
            }
        } else {
            let tenths = (done * 10).checked_div(self.total).unwrap_or(10);
            if tenths > state.printed_tenths {
                state.printed_tenths = tenths;
                let _ = writeln!(std::io::stderr().lock(), "{}", self.line(done, false));
            }
        }
    }

    /// Ends the stage (a terminal's bar line is kept and the cursor moves to the next line).
    pub fn finish(self) {
        if self.terminal {
            let _ = writeln!(std::io::stderr().lock());
        }
    }

    fn draw(&self, done: usize, detail: &str) {
        let detail = if detail.is_empty() { String::new() } else { format!("  {detail}") };
        let _ = write!(std::io::stderr().lock(), "\r\x1b[2K{}{detail}", self.line(done, true));
    }

    fn line(&self, done: usize, bar: bool) -> String {
        let fraction = if self.total == 0 { 1.0 } else { done as f64 / self.total as f64 };
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = if done > 0 && done < self.total {
            format!(", about {} left", clock(elapsed / fraction - elapsed))
        } else {
            String::new()
        };
        let bar = if bar {
            let filled = ((fraction * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH);
            format!(" [{}{}]", "#".repeat(filled), "·".repeat(BAR_WIDTH - filled))
        } else {
            String::new()
        };
        format!(
            "{}: {}{bar} {done}/{} ({:.0} %) {}{eta}",
            self.prefix,
            self.stage,
            self.total,
            fraction * 100.0,
            clock(elapsed)
        )
    }
}

/// Seconds as `m:ss` (or `h:mm:ss`).
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A one-line note on standard error (`prefix: text`), e.g. a stage that has no steps to count.
pub fn note(prefix: &str, text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{prefix}: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_a_stopwatch() {
        assert_eq!(clock(0.4), "0:00");
        assert_eq!(clock(75.0), "1:15");
        assert_eq!(clock(3_725.0), "1:02:05");
    }

    #[test]
    fn a_line_shows_the_stage_the_count_and_the_share() {
        let p = Progress {
            prefix: "demo",
            stage: "planning".into(),
            total: 90,
            started: std::time::Instant::now(),
            terminal: false,
            state: std::sync::Mutex::new(ProgressState::default()),
        };
        let line = p.line(45, true);
        assert!(line.starts_with("demo: planning [############············] 45/90 (50 %) 0:00"), "{line}");
        assert!(line.contains("left"), "{line}");
        assert_eq!(p.line(90, false), "demo: planning 90/90 (100 %) 0:00");
    }
}
