//! `cryoseed db init|migrate`: create or upgrade the trial database.

use crate::commands::{DEFAULT_DB, block_on, open_store};
use crate::output::print;

/// `cryoseed db …`
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Create the schema in a new database and its first administrator (refused if the database
    /// already has a schema).
    Init {
        /// Database URL: sqlite://FILE?mode=rwc (created if missing) or postgres://USER@HOST/DB.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        /// User id of the first administrator (adds sites and users, imports a trial).
        #[arg(long, default_value = "admin")]
        admin: String,
        /// Full name of the first administrator.
        #[arg(long, default_value = "Trial administrator")]
        admin_name: String,
    },
    /// Apply the migrations this build has and the database has not (each checked by SHA-256).
    Migrate {
        /// Database URL.
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
    },
}

/// Runs a `db` subcommand.
pub fn run(command: &DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Init { db, admin, admin_name } => block_on(async {
            let store = open_store(db).await?;
            let applied = store.init().await?;
            store.bootstrap_admin(admin, admin_name).await?;
            print(&format!(
                "initialised {db}: schema version {} (migrations {applied:?}), administrator {admin}\n",
                store.schema_version().await?
            ))
        }),
        DbCommand::Migrate { db } => block_on(async {
            let store = open_store(db).await?;
            let applied = store.migrate().await?;
            let version = store.schema_version().await?;
            if applied.is_empty() {
                print(&format!("{db} is up to date (schema version {version})\n"))
            } else {
                print(&format!("{db}: applied migrations {applied:?}, schema version {version}\n"))
            }
        }),
    }
}
