//! Writing the synthetic trial into a SQLite database through the store's eCRF API, in
//! calendar order under a simulated clock, so that the database (audit trail included) is the
//! same for the same seed.
//!
//! Set-up (a month before accrual): the administrator, the centres with their control-arm
//! modality, one user per role (an investigator per centre, two blinded readers, an adjudicator,
//! the statistician, the data manager) and the concealed allocation list. Then every event in
//! date order: screenings, randomizations, plans (three days before the first procedure), procedures
//! with their QA (entered on the QA day), follow-up (therapy completion, each visit and contact,
//! death, loss to follow-up), reads (entered a week after the scan), adverse events (entered when
//! they resolve, or at the cutoff). At the data cutoff the adjudicator resolves every patient
//! whose reads the store's review finds discordant.

use super::planning::PatientPlanSummary;
use super::synth::{Population, SITES, accrual_start, per_stratum};
use crate::output::Progress;
use anyhow::{Context, bail};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Modality, SiteId};
use cryoseed_response::Date;
use cryoseed_sim::{AeCause, Course, Read, ReadStatus};
use cryoseed_store::model::{
    Adjudication, AdverseEventForm, Assessment, FollowUp, Plan, PlanReview, Procedure, ProcedureQa, Role, Site, User,
};
use cryoseed_store::{Clock, SimulatedClock, Store};
use cryoseed_trial::ctcae::{Attribution, Cause, Certainty, SeriousCriterion};
use serde_json::{Value, json};

/// User ids of the synthetic trial.
pub const ADMIN: &str = "admin";
/// The statistician.
pub const STATISTICIAN: &str = "statistician";
/// The data manager.
pub const DATA_MANAGER: &str = "data-manager";
/// The two blinded readers.
pub const READERS: [&str; 2] = ["reader-1", "reader-2"];
/// The adjudicator.
pub const ADJUDICATOR: &str = "adjudicator-1";

/// The investigator of a centre.
pub fn investigator(site: &str) -> String {
    format!("investigator-{}", site.trim_start_matches("SITE-"))
}

/// What was written.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WriteCounts {
    /// Screenings.
    pub screenings: u32,
    /// Randomizations.
    pub randomizations: u32,
    /// Plan records (one per target lesion).
    pub plans: u32,
    /// Plan-review bundles (one per patient's plan).
    pub plan_reviews: u32,
    /// Procedures.
    pub procedures: u32,
    /// Reads (two per time point).
    pub reads: u32,
    /// Adjudications.
    pub adjudications: u32,
    /// Adverse events.
    pub adverse_events: u32,
    /// Follow-up updates.
    pub follow_up_updates: u32,
}

enum Action {
    Screen,
    Randomize(usize),
    Plan(usize, usize),
    Procedure(usize, usize),
    FollowUp(FollowUp, &'static str),
    Read(usize, usize, usize),
    Adverse(usize, usize),
}

struct Event {
    date: Date,
    candidate: usize,
    priority: u8,
    seq: usize,
    action: Action,
}

fn day(date: Date, offset: i32) -> Date {
    date.plus_days(offset)
}

/// Every event of the trial, in the order it is entered.
fn events(population: &Population, plans: &[PatientPlanSummary], courses: &[Course]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut seq = 0usize;
    let mut push = |date: Date, candidate: usize, priority: u8, action: Action| {
        seq += 1;
        out.push(Event { date, candidate, priority, seq, action });
    };
    for (i, c) in population.candidates.iter().enumerate() {
        push(c.screened_on, i, 0, Action::Screen);
    }
    for (k, r) in population.randomized.iter().enumerate() {
        let i = r.candidate;
        let randomized_on = population.candidates[i].randomize_on;
        let course = &courses[k];
        let cutoff_day = population.cutoff.day_number() - randomized_on.day_number();
        push(randomized_on, i, 1, Action::Randomize(k));
        let first = course.procedures.iter().map(|p| p.day).min().unwrap_or(4);
        for lesion in 0..plans[k].lesions.len() {
            push(day(randomized_on, (first - 3).max(1)), i, 2, Action::Plan(k, lesion));
        }
        for (n, p) in course.procedures.iter().enumerate() {
            push(day(randomized_on, p.qa_day), i, 3, Action::Procedure(k, n));
        }
        let mut state = FollowUp::default();
        let follow =
            |date_day: i32, state: &FollowUp, reason: &'static str, push: &mut dyn FnMut(Date, usize, u8, Action)| {
                push(day(randomized_on, date_day), i, 5, Action::FollowUp(state.clone(), reason));
            };
        let text = |d: i32| day(randomized_on, d).to_string();
        if let Some(done) = course.therapy_completed_day {
            let qa = course.procedures.iter().map(|p| p.qa_day).max().unwrap_or(done);
            state.therapy_completed_on = Some(text(done));
            state.last_contact_on = Some(text(qa));
            follow(qa, &state, "protocol therapy completed", &mut push);
        }
        for (n, scan) in course.scans.iter().enumerate() {
            if scan.day > 0 {
                state.last_contact_on = Some(text(scan.day));
                follow(scan.day, &state, "imaging visit", &mut push);
            }
            for reader in 0..2 {
                push(
                    day(randomized_on, (scan.day + 7).min(cutoff_day).max(scan.day).max(1)),
                    i,
                    4,
                    Action::Read(k, n, reader),
                );
            }
        }
        for &contact in &course.contacts {
            state.last_contact_on = Some(text(contact));
            follow(contact, &state, "survival follow-up contact", &mut push);
        }
        if let Some(death) = course.death_day {
            state.death_on = Some(text(death));
            state.last_contact_on = Some(text(death));
            follow(death, &state, "death reported", &mut push);
        }
        if let Some(lost) = course.lost_day {
            state.withdrawn_on = Some(text(lost));
            follow(lost, &state, "lost to follow-up", &mut push);
        }
        for (n, ae) in course.adverse_events.iter().enumerate() {
            let entered = ae.resolution_day.unwrap_or(ae.onset_day + 14).min(cutoff_day).max(ae.onset_day);
            push(day(randomized_on, entered), i, 6, Action::Adverse(k, n));
        }
    }
    out.sort_by_key(|a| (a.date, a.candidate, a.priority, a.seq));
    out
}

fn observations(read: &Read) -> Value {
    let lesions: Vec<Value> = read
        .lesions
        .iter()
        .map(|l| {
            let mut o = json!({"lesion_id": l.lesion_id.as_str()});
            match l.status {
                ReadStatus::Measured(d) => o["diameter_mm"] = json!(d),
                ReadStatus::TooSmall => o["status"] = json!("too_small"),
                ReadStatus::Present => o["status"] = json!("present"),
                ReadStatus::UnequivocalProgression => o["status"] = json!("unequivocal_progression"),
            }
            if let Some(z) = l.ablation_zone_mm {
                o["ablation_zone_mm"] = json!(z);
            }
            if let Some(v) = l.volume_ml {
                o["volume_ml"] = json!(v);
            }
            if l.margin_enhancement {
                o["margin_enhancement"] = json!(true);
            }
            o
        })
        .collect();
    let new_lesions: Vec<Value> =
        read.new_lesions.iter().map(|n| json!({"new_lesion_id": n.new_lesion_id, "organ": n.organ})).collect();
    json!({"lesions": lesions, "new_lesions": new_lesions})
}

fn cause(c: AeCause) -> Cause {
    match c {
        AeCause::Cryoablation => Cause::Cryoablation,
        AeCause::SeedImplantation => Cause::SeedImplantation,
        AeCause::Radiation => Cause::Radiation,
    }
}

/// Sets up the trial and writes every event; returns what was written.
pub async fn write_trial(
    url: &str,
    population: &Population,
    plans: &[PatientPlanSummary],
    courses: &[Course],
    seed: u64,
    protocol: &Protocol,
) -> anyhow::Result<(Store, WriteCounts)> {
    let clock = SimulatedClock::starting_on(accrual_start().plus_days(-30));
    let store = Store::connect(url)
        .await
        .with_context(|| format!("cannot create the database {url}"))?
        .with_clock(Clock::Simulated(clock.clone()));
    store.init().await?;
    store.bootstrap_admin(ADMIN, "Trial administrator (synthetic)").await?;
    for (site_id, name, modality) in SITES {
        store
            .add_site(
                ADMIN,
                &Site {
                    site_id: site_id.into(),
                    name: name.into(),
                    control_modality: None,
                    country: Some("CHN".into()),
                },
            )
            .await?;
        store.set_control_modality(ADMIN, site_id, modality, "declared at site initiation (centre capability)").await?;
    }
    let mut users = vec![
        (STATISTICIAN.to_owned(), "Trial statistician", Role::Statistician, None),
        (DATA_MANAGER.to_owned(), "Data manager", Role::DataManager, None),
        (READERS[0].to_owned(), "Blinded reader 1", Role::Reader, None),
        (READERS[1].to_owned(), "Blinded reader 2", Role::Reader, None),
        (ADJUDICATOR.to_owned(), "Adjudicator", Role::Adjudicator, None),
    ];
    for (site_id, _, _) in SITES {
        users.push((investigator(site_id), "Site investigator", Role::Investigator, Some(site_id.to_owned())));
    }
    for (user_id, name, role, site_id) in users {
        store.add_user(ADMIN, &User { user_id, name: name.into(), role, site_id }).await?;
    }
    let sites: Vec<SiteId> = SITES.iter().map(|(id, _, _)| SiteId::parse(*id).expect("valid site ids")).collect();
    store.generate_list(STATISTICIAN, protocol, &sites, per_stratum(population.randomized.len()), seed).await?;

    let mut counts = WriteCounts::default();
    let events = events(population, plans, courses);
    let bar = Progress::new("demo", "entering the trial's records (simulated clock)", events.len());
    for event in &events {
        bar.step(&format!("simulated date {}", event.date));
        clock.advance_to(event.date);
        let candidate = &population.candidates[event.candidate];
        let patient_id = candidate.record.patient_id.to_string();
        let actor = investigator(candidate.record.site_id.as_str());
        let on = event.date.to_string();
        match &event.action {
            Action::Screen => {
                store.record_screening(&actor, &candidate.record, &on, protocol).await?;
                counts.screenings += 1;
            }
            Action::Randomize(k) => {
                let allocation = store.randomize(&actor, &patient_id, &on, protocol).await?;
                let expected = population.randomized[*k].arm;
                if allocation.arm != expected {
                    bail!("{patient_id}: the store allocated {} where the demo planned for {expected}", allocation.arm);
                }
                counts.randomizations += 1;
            }
            Action::Plan(k, lesion) => {
                let l = &plans[*k].lesions[*lesion];
                store
                    .record_plan(
                        &actor,
                        &Plan {
                            plan_id: 0,
                            patient_id: patient_id.clone(),
                            lesion_id: l.lesion_id.to_string(),
                            document: l.document.clone(),
                            sha256: String::new(),
                        },
                    )
                    .await?;
                counts.plans += 1;
                if *lesion + 1 == plans[*k].lesions.len() {
                    store
                        .record_plan_review(
                            &actor,
                            &PlanReview {
                                review_id: 0,
                                patient_id: patient_id.clone(),
                                plan_sha256: plans[*k].plan_sha256.clone(),
                                document: plans[*k].review.clone(),
                                sha256: String::new(),
                            },
                        )
                        .await?;
                    counts.plan_reviews += 1;
                }
            }
            Action::Procedure(k, p) => {
                let procedure = &courses[*k].procedures[*p];
                let plan = &plans[*k];
                let lesion = plan.lesions.iter().find(|l| l.lesion_id == procedure.lesion_id);
                let randomized_on = candidate.randomize_on;
                let (details, seeds) = match procedure.modality {
                    Modality::Seeds => (
                        json!({
                            "plan_sha256": plan.plan_sha256,
                            "seeds": lesion.and_then(|l| l.seeds).map(|s| s.0),
                            "needles": lesion.and_then(|l| l.seeds).map(|s| s.1),
                            "planned_d90_gy": lesion.and_then(|l| l.seed_d90_gy),
                            "prescription_gy": lesion.and_then(|l| l.prescription_gy),
                        }),
                        lesion.and_then(|l| l.seeds).map(|s| s.0),
                    ),
                    Modality::Cryo => (
                        json!({
                            "plan_sha256": plan.plan_sha256,
                            "probes": lesion.and_then(|l| l.probes),
                            "planned_lethal_coverage_percent": lesion.and_then(|l| l.lethal_coverage_percent),
                            "freeze_thaw": protocol.default_freeze_thaw().map(|f| f.name.clone()),
                        }),
                        None,
                    ),
                };
                store
                    .record_procedure(
                        &actor,
                        &Procedure {
                            procedure_id: 0,
                            patient_id: patient_id.clone(),
                            lesion_id: procedure.lesion_id.to_string(),
                            modality: procedure.modality,
                            performed_on: day(randomized_on, procedure.day).to_string(),
                            is_reintervention: false,
                            seeds_implanted: seeds,
                            details,
                            notes: lesion.map(|l| l.reason.clone()),
                            qa: Some(ProcedureQa {
                                assessed_on: day(randomized_on, procedure.qa_day).to_string(),
                                seed_d90_gy: procedure.seed_d90_gy,
                                seed_prescription_gy: procedure.prescription_gy,
                                lethal_isotherm_covered: procedure.lethal_covered,
                            }),
                        },
                    )
                    .await?;
                counts.procedures += 1;
            }
            Action::FollowUp(follow_up, reason) => {
                let version = store.patient(&patient_id).await?.version;
                store.update_follow_up(&actor, &patient_id, follow_up, version, reason).await?;
                counts.follow_up_updates += 1;
            }
            Action::Read(k, scan, reader) => {
                let scan = &courses[*k].scans[*scan];
                store
                    .record_assessment(
                        READERS[*reader],
                        &Assessment {
                            patient_id: patient_id.clone(),
                            reader: READERS[*reader].into(),
                            label: scan.label.clone(),
                            assessed_on: day(candidate.randomize_on, scan.day).to_string(),
                            observations: observations(&scan.reads[*reader]),
                        },
                    )
                    .await?;
                counts.reads += 1;
            }
            Action::Adverse(k, n) => {
                let ae = &courses[*k].adverse_events[*n];
                store
                    .record_adverse_event(
                        &actor,
                        &AdverseEventForm {
                            patient_id: patient_id.clone(),
                            term: ae.term.into(),
                            grade: ae.grade,
                            specification: None,
                            attributions: vec![Attribution { cause: cause(ae.cause), certainty: Certainty::Probable }],
                            serious: if ae.serious { vec![SeriousCriterion::Hospitalization] } else { Vec::new() },
                            onset: day(candidate.randomize_on, ae.onset_day).to_string(),
                            resolution: ae.resolution_day.map(|d| day(candidate.randomize_on, d).to_string()),
                            meddra_version: "20.1".into(),
                        },
                    )
                    .await?;
                counts.adverse_events += 1;
            }
        }
    }
    bar.finish();

    // Data cutoff: the adjudicator resolves every discordant patient.
    clock.advance_to(population.cutoff);
    for pending in store.pending_adjudications(protocol).await? {
        let Some(k) = population
            .randomized
            .iter()
            .position(|r| population.candidates[r.candidate].record.patient_id.as_str() == pending.patient_id)
        else {
            bail!("{}: pending adjudication for a patient the demo did not randomize", pending.patient_id);
        };
        let accepted = READERS[courses[k].adjudicator_accepts];
        store
            .record_adjudication(
                ADJUDICATOR,
                &Adjudication {
                    patient_id: pending.patient_id.clone(),
                    adjudicator: ADJUDICATOR.into(),
                    accepted_reader: accepted.into(),
                    reason: format!("{}; {accepted}'s assessment accepted on review of the images", pending.summary),
                },
            )
            .await?;
        counts.adjudications += 1;
    }
    Ok((store, counts))
}
