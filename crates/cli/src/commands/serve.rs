//! `cryoseed serve`: the trial's web service (JSON API and screens) on a trial database.
//!
//! Plain HTTP: on a loopback address the session cookie works over `http://`; on any other
//! address the cookie is `Secure`, so put the service behind an HTTPS reverse proxy.

use crate::commands::{DEFAULT_DB, open_store};
use crate::output::print;
use anyhow::{Context, bail};
use cryoseed_core::protocol::Protocol;
use cryoseed_server::{AppState, Options, demo};
use std::fmt::Write as _;
use std::net::SocketAddr;

/// Flags of `cryoseed serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database URL: sqlite://FILE?mode=rwc or postgres://USER@HOST/DB [default:
    /// sqlite://cryoseed.db?mode=rwc; with --demo, a new SQLite file in a temporary directory].
    #[arg(long)]
    db: Option<String>,
    /// Address to listen on. A loopback address allows plain-HTTP session cookies; any other
    /// address needs an HTTPS reverse proxy in front (the cookie is `Secure`).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Create a new database with a small synthetic trial and one user of every role, and print
    /// their passwords (the database must be empty).
    #[arg(long)]
    demo: bool,
    /// Seed of the demo cohort and allocation list.
    #[arg(long, default_value_t = 20261128, requires = "demo")]
    seed: u64,
}

/// Runs the service until Ctrl-C.
pub fn run(args: &Args, protocol: Protocol) -> anyhow::Result<()> {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, protocol))
}

async fn serve(args: &Args, protocol: Protocol) -> anyhow::Result<()> {
    let mut _demo_dir = None;
    let url = match (&args.db, args.demo) {
        (Some(url), _) => url.clone(),
        (None, true) => {
            let dir = tempfile::tempdir().context("cannot create a directory for the demo database")?;
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("demo.db").display());
            _demo_dir = Some(dir);
            url
        }
        (None, false) => DEFAULT_DB.to_owned(),
    };
    let store = open_store(&url).await?;
    if args.demo {
        store.init().await.with_context(|| format!("--demo needs an empty database; {url} is not"))?;
        let demo = demo::populate(&store, &protocol, args.seed, |_| demo::random_password()).await?;
        let mut text = format!(
            "demo trial in {url}: {} patients screened, {} randomized\n\nuser      role            site     password\n",
            demo.screened,
            demo.randomized.len()
        );
        for u in &demo.users {
            let _ = writeln!(
                text,
                "{:<9} {:<15} {:<8} {}",
                u.user_id,
                u.role.as_str(),
                u.site_id.as_deref().unwrap_or("-"),
                u.password
            );
        }
        print(&text)?;
    } else {
        let version = store.schema_version().await?;
        if version != cryoseed_store::SCHEMA_VERSION {
            bail!(
                "{url} has schema version {version}, this build needs {}: run `cryoseed db init` (new database) or `cryoseed db migrate`",
                cryoseed_store::SCHEMA_VERSION
            );
        }
    }
    let options = Options { secure_cookies: !args.addr.ip().is_loopback(), protocol, ..Options::default() };
    let state = AppState::new(store, options).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("cannot listen on {}", args.addr))?;
    let local = listener.local_addr()?;
    print(&format!(
        "\ncryoseed serving {url} on http://{local}/ (API description: http://{local}/api/openapi.json); Ctrl-C stops\n"
    ))?;
    cryoseed_server::serve(state, listener).await.context("the web service stopped")?;
    Ok(())
}
