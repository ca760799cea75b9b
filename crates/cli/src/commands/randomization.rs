//! `cryoseed randomization generate`: the statistician writes the concealed allocation list.

use crate::output::print;
use anyhow::{Context, bail};
use cryoseed_core::protocol::{Protocol, RandomizationMethod};
use cryoseed_core::{Arm, SiteId};
use cryoseed_trial::randomization::generate_permuted_blocks;
use std::io::Write as _;
use std::path::PathBuf;

/// `cryoseed randomization …`
#[derive(Debug, clap::Subcommand)]
pub enum RandomizationCommand {
    /// Generate the concealed allocation list (statistician only) from a recorded seed: with
    /// --db, store it in the trial database (permuted blocks, or the minimization seed) for
    /// `cryoseed randomize`; with --out, write the permuted-block list as CSV (never overwrites).
    Generate(GenerateArgs),
}

/// Arguments of `randomization generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Comma-separated site ids, e.g. SITE-01,SITE-02 (order does not matter; sorted).
    #[arg(long, value_delimiter = ',', required = true)]
    pub sites: Vec<String>,
    /// Seed of the sequence; record it with the list, it reproduces the list exactly.
    #[arg(long)]
    pub seed: u64,
    /// Minimum number of slots per stratum (centre × ECOG group); whole blocks are generated, so a
    /// stratum may hold up to (largest block − 1) more.
    #[arg(long, default_value_t = 100)]
    pub per_stratum: u32,
    /// Output CSV file; refused if it already exists.
    #[arg(long, required_unless_present = "db", conflicts_with = "db")]
    pub out: Option<PathBuf>,
    /// Store the list in this trial database instead (sqlite://FILE?mode=rwc or postgres://…).
    #[arg(long, requires = "actor")]
    pub db: Option<String>,
    /// The statistician generating the list (with --db).
    #[arg(long = "as", value_name = "USER")]
    pub actor: Option<String>,
}

/// Runs a `randomization` subcommand.
pub fn run(command: &RandomizationCommand, protocol: &Protocol) -> anyhow::Result<()> {
    match command {
        RandomizationCommand::Generate(args) => generate(args, protocol),
    }
}

fn generate(args: &GenerateArgs, protocol: &Protocol) -> anyhow::Result<()> {
    if let (Some(db), Some(actor)) = (&args.db, &args.actor) {
        return generate_in_store(args, db, actor, protocol);
    }
    let out = args.out.as_ref().context("--out or --db is required")?;
    let design = &protocol.randomization;
    if design.method != RandomizationMethod::PermutedBlocks {
        bail!("the protocol's randomization.method is minimization, which allocates at enrolment and has no list");
    }
    let sites = args
        .sites
        .iter()
        .map(|s| SiteId::parse(s.trim()).with_context(|| format!("--sites: {s:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let list = generate_permuted_blocks(design, &sites, args.per_stratum, args.seed)?;
    let hash = protocol.hash().to_string();
    let mut csv =
        String::from("seed,protocol_sha256,stratum,site_id,ecog_group,sequence_number,block_number,block_size,arm\n");
    let mut slots = 0usize;
    let mut strata = 0usize;
    for (stratum, entries) in list.entries() {
        strata += 1;
        let range = design.ecog_strata[stratum.ecog_group];
        let ecog_group = if range.min == range.max {
            range.min.score().to_string()
        } else {
            format!("{}-{}", range.min.score(), range.max.score())
        };
        let site = stratum.site_id.as_ref().map_or("", SiteId::as_str);
        for e in entries {
            slots += 1;
            let arm = match e.arm {
                Arm::Experimental => "experimental",
                Arm::Control => "control",
            };
            csv.push_str(&format!(
                "{},{hash},{stratum},{site},{ecog_group},{},{},{},{arm}\n",
                list.seed(),
                e.sequence_number,
                e.block_number,
                e.block_size
            ));
        }
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(out).with_context(|| {
        format!("--out {}: cannot create (an existing allocation list is never overwritten)", out.display())
    })?;
    file.write_all(csv.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", out.display()))?;
    print(&format!(
        "wrote {slots} allocation slots in {strata} strata to {} (seed {}, protocol {hash}); keep it from site roles\n",
        out.display(),
        list.seed()
    ))
}

fn generate_in_store(args: &GenerateArgs, db: &str, actor: &str, protocol: &Protocol) -> anyhow::Result<()> {
    let sites = args
        .sites
        .iter()
        .map(|s| SiteId::parse(s.trim()).with_context(|| format!("--sites: {s:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::commands::block_on(async {
        let store = crate::commands::open_store(db).await?;
        let summary = store.generate_list(actor, protocol, &sites, args.per_stratum, args.seed).await?;
        print(&format!(
            "stored the {} allocation list in {db}: {} slots in {} strata, list SHA-256 {}\n",
            summary.method, summary.slots, summary.strata, summary.sha256
        ))
    })
}
