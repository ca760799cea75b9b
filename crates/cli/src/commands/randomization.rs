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
    /// Generate the concealed stratified permuted-block allocation list (statistician only) from
    /// a recorded seed and write it as CSV. Never overwrites an existing file.
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
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs a `randomization` subcommand.
pub fn run(command: &RandomizationCommand, protocol: &Protocol) -> anyhow::Result<()> {
    match command {
        RandomizationCommand::Generate(args) => generate(args, protocol),
    }
}

fn generate(args: &GenerateArgs, protocol: &Protocol) -> anyhow::Result<()> {
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
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&args.out).with_context(|| {
        format!("--out {}: cannot create (an existing allocation list is never overwritten)", args.out.display())
    })?;
    file.write_all(csv.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", args.out.display()))?;
    print(&format!(
        "wrote {slots} allocation slots in {strata} strata to {} (seed {}, protocol {hash}); keep it from site roles\n",
        args.out.display(),
        list.seed()
    ))
}
