//! `cryoseed demo`: the whole trial on synthetic patients, as far as cryoseed has grown.
//!
//! Today it generates a seeded cohort, screens every patient against the protocol's eligibility
//! criteria, randomizes the eligible ones from a concealed stratified permuted-block list (same
//! seed), prints the screening and randomization summary, then builds one synthetic patient's
//! anatomy and measures its lesions. Later work extends the same command with randomization, planning,
//! follow-up and the analysis report.

use crate::output;
use cryoseed_anatomy::lesion_features;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, SiteId};
use cryoseed_sim::{CohortConfig, PhantomConfig, Scenario};
use cryoseed_trial::eligibility::{Assessment, Status, Verdict, assess};
use cryoseed_trial::randomization::{RandomizationRequest, RandomizationState, allocate, generate_permuted_blocks};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Flags of `cryoseed demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of synthetic patients to screen.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    patients: u32,
    /// Seed of the synthetic cohort and phantom (same seed, same output).
    #[arg(long, default_value_t = 20261128)]
    seed: u64,
    /// Print a JSON document instead of the text summary.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize, Default)]
struct SiteCounts {
    screened: u32,
    eligible: u32,
    ineligible: u32,
    pending: u32,
}

impl SiteCounts {
    fn add(&mut self, status: Status) {
        self.screened += 1;
        match status {
            Status::Eligible => self.eligible += 1,
            Status::Ineligible => self.ineligible += 1,
            Status::Pending => self.pending += 1,
        }
    }
}

#[derive(Serialize)]
struct DemoDoc {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    seed: u64,
    screening: SiteCounts,
    by_site: BTreeMap<String, SiteCounts>,
    /// Criterion id → number of patients failing it.
    ineligibility_reasons: BTreeMap<String, u32>,
    /// Missing datum → number of pending patients waiting for it.
    pending_on: BTreeMap<String, u32>,
    randomization: RandomizationSummary,
    example_phantom: ExamplePhantom,
}

/// Arm counts after randomizing the eligible patients (what the statistician sees; sites see only
/// their own patients' arms).
#[derive(Serialize)]
struct RandomizationSummary {
    method: &'static str,
    randomized: u32,
    experimental: u32,
    control: u32,
    /// Stratum (`SITE/ECOG-group-N`) → [experimental, control].
    by_stratum: BTreeMap<String, [u32; 2]>,
}

#[derive(Serialize)]
struct ExamplePhantom {
    scenario: String,
    patient_id: String,
    lesions: Vec<ExampleLesion>,
}

#[derive(Serialize)]
struct ExampleLesion {
    lesion_id: String,
    organ: String,
    longest_axial_diameter_mm: f64,
    volume_ml: f64,
    is_bulky: bool,
    nearest_oar: Option<String>,
    nearest_oar_distance_mm: Option<f64>,
}

/// Runs the demo.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    let cohort =
        cryoseed_sim::cohort(&CohortConfig { patients: args.patients as usize, ..CohortConfig::default() }, args.seed);
    let assessments: Vec<Assessment> = cohort.iter().map(|r| assess(r, protocol)).collect();

    let mut total = SiteCounts::default();
    let mut by_site = BTreeMap::<String, SiteCounts>::new();
    let mut reasons = BTreeMap::<String, u32>::new();
    let mut pending_on = BTreeMap::<String, u32>::new();
    for (record, assessment) in cohort.iter().zip(&assessments) {
        let status = assessment.status();
        total.add(status);
        by_site.entry(record.site_id.to_string()).or_default().add(status);
        for failed in assessment.failed() {
            *reasons.entry(failed.id.to_owned()).or_default() += 1;
        }
        if status == Status::Pending {
            for c in assessment.undecided() {
                if let Verdict::Undecided { missing } = &c.verdict {
                    for m in missing {
                        *pending_on.entry(m.clone()).or_default() += 1;
                    }
                }
            }
        }
    }

    let randomization = randomize_eligible(&cohort, &assessments, protocol, args.seed)?;

    let scenario = Scenario::PelvicBulkyBowel;
    let case = cryoseed_sim::phantom(scenario, &PhantomConfig::default(), args.seed)?;
    let features = lesion_features(&case, protocol);
    let example = ExamplePhantom {
        scenario: scenario.name().to_owned(),
        patient_id: case.patient_id().to_string(),
        lesions: features
            .iter()
            .map(|f| ExampleLesion {
                lesion_id: f.lesion_id.to_string(),
                organ: f.organ.to_string(),
                longest_axial_diameter_mm: (f.longest_axial_diameter.0 * 10.0).round() / 10.0,
                volume_ml: (f.volume.0 * 10.0).round() / 10.0,
                is_bulky: f.bulky.is_some(),
                nearest_oar: f.oar_distances.first().map(|d| d.structure.clone()),
                nearest_oar_distance_mm: f.oar_distances.first().map(|d| (d.distance.0 * 10.0).round() / 10.0),
            })
            .collect(),
    };

    let doc = DemoDoc {
        format: "cryoseed-demo",
        version: 1,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol_version: protocol.protocol.version.clone(),
        protocol_sha256: protocol.hash().to_string(),
        seed: args.seed,
        screening: total,
        by_site,
        ineligibility_reasons: reasons,
        pending_on,
        randomization,
        example_phantom: example,
    };
    if args.json {
        return output::json(&doc);
    }
    output::print(&summary(&doc, protocol))
}

/// Randomizes the eligible patients, in screening order, from a concealed permuted-block list
/// generated with the demo's seed (the protocol's strata: centre × ECOG group).
fn randomize_eligible(
    cohort: &[cryoseed_core::patient::ScreeningRecord],
    assessments: &[Assessment],
    protocol: &Protocol,
    seed: u64,
) -> anyhow::Result<RandomizationSummary> {
    let design = &protocol.randomization;
    let sites: Vec<SiteId> =
        cohort.iter().map(|r| r.site_id.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let eligible: Vec<_> =
        cohort.iter().zip(assessments).filter(|(_, a)| a.status() == Status::Eligible).map(|(r, _)| r).collect();
    let per_stratum = u32::try_from(eligible.len().max(1)).unwrap_or(u32::MAX);
    let list = generate_permuted_blocks(design, &sites, per_stratum, seed)?;
    let mut state = RandomizationState::default();
    let mut summary = RandomizationSummary {
        method: "stratified permuted blocks",
        randomized: 0,
        experimental: 0,
        control: 0,
        by_stratum: BTreeMap::new(),
    };
    for record in eligible {
        let request = RandomizationRequest {
            patient_id: record.patient_id.clone(),
            site_id: Some(record.site_id.clone()),
            ecog: record.ecog,
        };
        let allocation = allocate(&list, &mut state, design, &request)?;
        let counts = summary.by_stratum.entry(allocation.stratum.to_string()).or_default();
        summary.randomized += 1;
        match allocation.arm {
            Arm::Experimental => {
                summary.experimental += 1;
                counts[0] += 1;
            }
            Arm::Control => {
                summary.control += 1;
                counts[1] += 1;
            }
        }
    }
    Ok(summary)
}

fn pct(part: u32, whole: u32) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * f64::from(part) / f64::from(whole) }
}

fn summary(doc: &DemoDoc, protocol: &Protocol) -> String {
    let mut s = String::new();
    let t = &doc.screening;
    let _ = writeln!(s, "cryoseed demo: synthetic trial, seed {}", doc.seed);
    let _ = writeln!(
        s,
        "Protocol: {} version {} (sha256 {}), software {}\n",
        protocol.protocol.name,
        doc.protocol_version,
        &doc.protocol_sha256[..12],
        doc.software_version
    );
    let _ = writeln!(s, "Screening: {} patients at {} sites", t.screened, doc.by_site.len());
    let _ = writeln!(s, "  eligible    {:>5}  ({:.1} %)", t.eligible, pct(t.eligible, t.screened));
    let _ = writeln!(s, "  ineligible  {:>5}  ({:.1} %)", t.ineligible, pct(t.ineligible, t.screened));
    let _ = writeln!(s, "  pending     {:>5}  ({:.1} %, cannot be decided yet)", t.pending, pct(t.pending, t.screened));
    if !doc.ineligibility_reasons.is_empty() {
        let _ = writeln!(s, "\nReasons for ineligibility (a patient may fail several criteria):");
        let mut reasons: Vec<_> = doc.ineligibility_reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (id, n) in reasons {
            let _ = writeln!(s, "  {id:<40} {n:>5}");
        }
    }
    if !doc.pending_on.is_empty() {
        let _ = writeln!(s, "\nPending patients are waiting for:");
        for (what, n) in &doc.pending_on {
            let _ = writeln!(s, "  {what:<40} {n:>5}");
        }
    }
    let _ = writeln!(s, "\nBy site:               screened  eligible  ineligible  pending");
    for (site, c) in &doc.by_site {
        let _ = writeln!(s, "  {site:<20} {:>8} {:>9} {:>11} {:>8}", c.screened, c.eligible, c.ineligible, c.pending);
    }
    let r = &doc.randomization;
    let _ = writeln!(
        s,
        "\nRandomization ({}, concealed list from seed {}): {} eligible patients randomized, experimental {}, control {}",
        r.method, doc.seed, r.randomized, r.experimental, r.control
    );
    let _ = writeln!(s, "  stratum                       experimental  control");
    for (stratum, [experimental, control]) in &r.by_stratum {
        let _ = writeln!(s, "  {stratum:<30} {experimental:>11} {control:>8}");
    }
    let e = &doc.example_phantom;
    let _ = writeln!(s, "\nExample patient: phantom '{}' ({}), lesion features:", e.scenario, e.patient_id);
    let _ = writeln!(s, "  {:<6} {:<12} {:>8} {:>9} {:>6}  nearest OAR", "lesion", "organ", "LD mm", "vol mL", "bulky");
    for l in &e.lesions {
        let oar = match (&l.nearest_oar, l.nearest_oar_distance_mm) {
            (Some(name), Some(d)) => format!("{name} at {d:.1} mm"),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "  {:<6} {:<12} {:>8.1} {:>9.1} {:>6}  {oar}",
            l.lesion_id,
            l.organ,
            l.longest_axial_diameter_mm,
            l.volume_ml,
            if l.is_bulky { "yes" } else { "no" }
        );
    }
    let _ = writeln!(
        s,
        "\nTry: cryoseed phantom --list | cryoseed phantom --scenario {} --out case && cryoseed features --case case",
        e.scenario
    );
    s
}
