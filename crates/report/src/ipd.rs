//! De-identified individual participant data (the registration promises IPD sharing), following
//! the HIPAA Privacy Rule's Safe Harbor method (45 CFR §164.514(b)(2)):
//!
//! - **Identifiers removed.** Study ids, site ids and names, user ids and names are not written.
//!   Each randomized participant gets a new code `IPD-nnnn` from a seeded random permutation (not
//!   derived from any identifier, §164.514(c)); centres become `CENTRE A`, `CENTRE B`… in order of
//!   their ids; readers become `READER 1`, `READER 2` per participant.
//! - **No dates.** Every date is a whole number of days from the participant's randomization
//!   (day 0; negative before). Intervals within a participant are exact differences of these
//!   days, so every within-participant interval is preserved; calendar time is not recoverable.
//! - **Ages over 89 grouped** as `90+` (Safe Harbor's limit); younger ages are whole years.
//! - **Free text dropped**: procedure notes and details, reasons, adverse-event specifications,
//!   deviation descriptions, queries, adjudication reasons, eligibility evidence.
//! - Screen failures and never-randomized patients are not part of the IPD.
//!
//! The output is a set of [`Table`]s and their data dictionary, like the CDISC exports.

use crate::cdisc::{overall_code, tte_param};
use crate::dataset::{Cell, Table, num, text};
use crate::trial_input::TrialInput;
use cryoseed_response::Date;
use cryoseed_trial::endpoints::{EventStatus, LcrOutcome, TechnicalSuccess};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::BTreeMap;

/// The age written for `age` years (Safe Harbor: ages over 89 are aggregated).
pub fn age_group(age: f64) -> String {
    if age > 89.0 { "90+".to_owned() } else { format!("{}", age.floor()) }
}

/// New participant codes: randomized patients (in id order) → `IPD-nnnn`, by a seeded
/// Fisher–Yates permutation (ChaCha8, `seed`).
pub fn participant_codes(input: &TrialInput<'_>, seed: u64) -> BTreeMap<String, String> {
    let mut ids: Vec<String> = input.doc.allocations.iter().map(|a| a.patient_id.clone()).collect();
    ids.sort();
    let mut numbers: Vec<usize> = (1..=ids.len()).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for i in (1..numbers.len()).rev() {
        // Uniform in 0..=i by rejection (no modulo bias).
        let bound = (i + 1) as u64;
        let zone = u64::MAX - u64::MAX % bound;
        let j = loop {
            let x = rng.next_u64();
            if x < zone {
                break (x % bound) as usize;
            }
        };
        numbers.swap(i, j);
    }
    ids.into_iter().zip(numbers).map(|(id, n)| (id, format!("IPD-{n:04}"))).collect()
}

struct Ctx<'a, 'b> {
    input: &'b TrialInput<'a>,
    codes: BTreeMap<String, String>,
    centres: BTreeMap<String, String>,
}

impl Ctx<'_, '_> {
    fn day(&self, patient_id: &str, date: &str) -> Option<f64> {
        let start = Date::parse(&self.input.allocation(patient_id)?.randomized_on)?;
        Some(Date::parse(date)?.days_since(start).value())
    }

    fn day_of(&self, patient_id: &str, date: Option<Date>) -> Option<f64> {
        self.day(patient_id, &date?.to_string())
    }
}

/// The IPD tables: participants, time_to_event, lesions, procedures, measurements,
/// adverse_events, burden.
pub fn ipd(input: &TrialInput<'_>, seed: u64) -> Vec<Table> {
    let mut sites: Vec<String> = input.doc.sites.iter().map(|s| s.site_id.clone()).collect();
    sites.sort();
    let centres = sites
        .into_iter()
        .enumerate()
        .map(|(i, s)| (s, format!("CENTRE {}", char::from(b'A' + (i % 26) as u8))))
        .collect();
    let ctx = Ctx { input, codes: participant_codes(input, seed), centres };
    let mut tables = vec![
        participants(&ctx),
        time_to_event(&ctx),
        lesions(&ctx),
        procedures(&ctx),
        measurements(&ctx),
        adverse_events(&ctx),
        burden(&ctx),
    ];
    // Rows in participant-code order, so the file order says nothing of enrolment order.
    for t in &mut tables {
        let c = t.column("ipd_id").expect("ipd_id");
        t.rows.sort_by(|a, b| match (&a[c], &b[c]) {
            (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
            _ => std::cmp::Ordering::Equal,
        });
    }
    tables
}

const DAY: &str = "days from randomization (day 0)";

fn participants(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "participants",
        "One row per randomized participant",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("centre", "Centre (recoded)"),
            text("arm", "Randomized arm").coded("experimental, control"),
            text("age", "Age at screening, years").coded("whole years; 90+ for ages over 89"),
            num("ecog", "ECOG at randomization"),
            num("therapy_completed_day", "Completion of protocol therapy").coded(DAY),
            num("death_day", "Death").coded(DAY),
            num("last_contact_day", "Last known alive").coded(DAY),
            num("withdrawn_day", "Withdrawal or loss to follow-up").coded(DAY),
            num("treated_lesions", "Number of treated target lesions"),
            num("objective_response", "CR or PR in the ORR window").coded("1/0"),
            text("best_response", "Response deciding ORR").coded("RECIST 1.1: CR, PR"),
            num("best_response_day", "Day of that response").coded(DAY),
            num("technical_success", "Every procedure technically successful").coded("1/0"),
            num("reintervention", "Re-intervention within the window").coded("1/0"),
        ],
    );
    for r in &ctx.input.datasets.patients {
        let id = r.patient_id.as_str();
        let Some(code) = ctx.codes.get(id) else { continue };
        let site = ctx.input.patient(id).map(|p| p.site_id.clone()).unwrap_or_default();
        t.push(vec![
            code.as_str().into(),
            ctx.centres.get(&site).cloned().unwrap_or_default().into(),
            r.arm.to_string().into(),
            ctx.input.age_years(id).map(age_group).into(),
            f64::from(r.ecog.score()).into(),
            ctx.day_of(id, r.therapy_completed_on).into(),
            ctx.day_of(id, r.death_on).into(),
            ctx.day_of(id, Some(r.last_contact_on)).into(),
            ctx.day_of(id, r.withdrawn_on).into(),
            (r.treated_lesions as f64).into(),
            f64::from(u8::from(r.objective_response)).into(),
            r.best_response_in_window.map(|(_, resp)| overall_code(resp).to_owned()).into(),
            ctx.day_of(id, r.best_response_in_window.map(|(d, _)| d)).into(),
            f64::from(u8::from(r.technical_success)).into(),
            f64::from(u8::from(r.reintervention)).into(),
        ]);
    }
    t
}

fn time_to_event(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "time_to_event",
        "One row per participant per time-to-event endpoint",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("arm", "Randomized arm"),
            text("endpoint", "Endpoint").coded("LPFS, PFS, TTSP, TTSPCR, OS"),
            num("time_days", "Days from randomization to event or censoring"),
            num("status", "Status").coded("0 censored, 1 event, 2 competing event"),
        ],
    );
    for r in &ctx.input.datasets.time_to_event {
        let Some(code) = ctx.codes.get(r.patient_id.as_str()) else { continue };
        let status = match r.status {
            EventStatus::Censored => 0.0,
            EventStatus::Event => 1.0,
            EventStatus::Competing => 2.0,
        };
        t.push(vec![
            code.as_str().into(),
            r.arm.to_string().into(),
            tte_param(r.endpoint).0.into(),
            r.time.value().into(),
            status.into(),
        ]);
    }
    t
}

fn lcr(o: LcrOutcome) -> &'static str {
    match o {
        LcrOutcome::Controlled => "controlled",
        LcrOutcome::Failure => "failure",
        LcrOutcome::NotEvaluable => "not_evaluable",
    }
}

fn lesions(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "lesions",
        "One row per treated target lesion",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("arm", "Randomized arm"),
            text("lesion", "Lesion code within the participant"),
            text("organ", "Organ"),
            num("bulky_index", "Bulky index lesion").coded("1/0"),
            text("modalities", "Local therapies").coded("seeds, cryo, cryo+seeds"),
            num("lcr6_window_start_day", "Start of the 6-month window").coded(DAY),
            num("lcr6_window_end_day", "End of the 6-month window").coded(DAY),
            text("lcr6_primary", "Local control at 6 months (primary)").coded("controlled, failure, not_evaluable"),
            text("lcr6_ne_failure", "Local control, not evaluable = failure").coded("controlled, failure"),
            num("ltp_competing_days", "Days from therapy completion, LTP CIF"),
            num("ltp_competing_status", "LTP CIF status").coded("0 censored, 1 LTP, 2 death"),
            text("technical_success", "Technical success").coded("achieved, not_achieved, not_assessed"),
        ],
    );
    for r in &ctx.input.datasets.lesions {
        let id = r.patient_id.as_str();
        let Some(code) = ctx.codes.get(id) else { continue };
        let organ = ctx
            .input
            .doc
            .lesions
            .iter()
            .find(|l| l.patient_id == id && l.lesion_id == r.lesion_id.as_str())
            .map(|l| l.organ.to_string())
            .unwrap_or_default();
        let ts = match r.technical_success {
            TechnicalSuccess::Achieved => "achieved",
            TechnicalSuccess::NotAchieved(_) => "not_achieved",
            TechnicalSuccess::NotAssessed(_) => "not_assessed",
        };
        t.push(vec![
            code.as_str().into(),
            r.arm.to_string().into(),
            r.lesion_id.as_str().into(),
            organ.into(),
            f64::from(u8::from(r.is_bulky_index)).into(),
            r.modalities.iter().map(ToString::to_string).collect::<Vec<_>>().join("+").into(),
            ctx.day_of(id, Some(r.window.0)).into(),
            ctx.day_of(id, Some(r.window.1)).into(),
            lcr(r.primary).into(),
            lcr(r.non_evaluable_as_failure).into(),
            r.competing_time.value().into(),
            f64::from(r.competing_status.code()).into(),
            ts.into(),
        ]);
    }
    t
}

fn procedures(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "procedures",
        "One row per procedure",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("lesion", "Lesion code within the participant"),
            text("modality", "Therapy").coded("seeds, cryo"),
            num("day", "Procedure").coded(DAY),
            num("reintervention", "Re-intervention for progression").coded("1/0"),
            num("seeds_implanted", "Seeds implanted"),
            num("qa_day", "Post-procedure QA").coded(DAY),
            num("seed_d90_gy", "Post-implant D90, Gy"),
            num("prescription_gy", "Prescription dose, Gy"),
            num("isotherm_covered", "Lethal isotherm covered the zone").coded("1/0"),
        ],
    );
    for p in &ctx.input.doc.procedures {
        let Some(code) = ctx.codes.get(&p.patient_id) else { continue };
        let qa = p.qa.as_ref();
        t.push(vec![
            code.as_str().into(),
            p.lesion_id.as_str().into(),
            p.modality.to_string().into(),
            ctx.day(&p.patient_id, &p.performed_on).into(),
            f64::from(u8::from(p.is_reintervention)).into(),
            p.seeds_implanted.map(f64::from).into(),
            qa.and_then(|q| ctx.day(&p.patient_id, &q.assessed_on)).into(),
            qa.and_then(|q| q.seed_d90_gy).into(),
            qa.and_then(|q| q.seed_prescription_gy).into(),
            qa.and_then(|q| q.lethal_isotherm_covered).map(|b| f64::from(u8::from(b))).into(),
        ]);
    }
    t
}

fn measurements(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "measurements",
        "Blinded readers' lesion measurements",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("reader", "Reader (recoded per participant)").coded("READER 1, READER 2"),
            text("time_point", "Time point label"),
            num("day", "Scan").coded(DAY),
            text("lesion", "Lesion code (N: new lesion)"),
            text("status", "Reported status"),
            num("diameter_mm", "Longest diameter, mm"),
            num("volume_ml", "Volume, mL"),
        ],
    );
    let mut reads: Vec<_> = ctx.input.doc.assessments.iter().collect();
    reads.sort_by(|a, b| (&a.patient_id, &a.assessed_on, &a.reader).cmp(&(&b.patient_id, &b.assessed_on, &b.reader)));
    for a in reads {
        let Some(code) = ctx.codes.get(&a.patient_id) else { continue };
        let readers = ctx.input.readers_of(&a.patient_id);
        let reader =
            readers.iter().position(|r| r == &a.reader).map(|i| format!("READER {}", i + 1)).unwrap_or_default();
        let day = ctx.day(&a.patient_id, &a.assessed_on);
        for o in a.observations.get("lesions").and_then(Value::as_array).into_iter().flatten() {
            let status = o
                .get("status")
                .and_then(Value::as_str)
                .map_or_else(|| if o.get("diameter_mm").is_some() { "measured" } else { "" }.to_owned(), str::to_owned);
            t.push(vec![
                code.as_str().into(),
                reader.as_str().into(),
                a.label.as_str().into(),
                day.into(),
                o.get("lesion_id").and_then(Value::as_str).unwrap_or("").into(),
                status.into(),
                o.get("diameter_mm").and_then(Value::as_f64).into(),
                o.get("volume_ml").and_then(Value::as_f64).into(),
            ]);
        }
        for (i, _) in a.observations.get("new_lesions").and_then(Value::as_array).into_iter().flatten().enumerate() {
            t.push(vec![
                code.as_str().into(),
                reader.as_str().into(),
                a.label.as_str().into(),
                day.into(),
                format!("N{}", i + 1).into(),
                "new".into(),
                Cell::Number(None),
                Cell::Number(None),
            ]);
        }
    }
    t
}

fn adverse_events(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "adverse_events",
        "Adverse events (CTCAE v5.0)",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("term", "CTCAE v5.0 term"),
            text("meddra_code", "MedDRA code"),
            text("soc", "System organ class"),
            num("grade", "CTCAE grade"),
            num("serious", "Serious").coded("1/0"),
            num("related", "Related to protocol therapy").coded("1/0 (possible or more certain)"),
            num("onset_day", "Onset").coded(DAY),
            num("resolution_day", "Resolution").coded(DAY),
        ],
    );
    for a in &ctx.input.doc.adverse_events {
        let f = &a.form;
        let Some(code) = ctx.codes.get(&f.patient_id) else { continue };
        let related = f.attributions.iter().any(|x| {
            x.certainty.is_related()
                && matches!(
                    x.cause,
                    cryoseed_trial::ctcae::Cause::Cryoablation
                        | cryoseed_trial::ctcae::Cause::SeedImplantation
                        | cryoseed_trial::ctcae::Cause::Radiation
                )
        });
        t.push(vec![
            code.as_str().into(),
            f.term.as_str().into(),
            a.meddra_code.as_str().into(),
            a.soc.as_str().into(),
            f64::from(f.grade).into(),
            f64::from(u8::from(!f.serious.is_empty())).into(),
            f64::from(u8::from(related)).into(),
            ctx.day(&f.patient_id, &f.onset).into(),
            f.resolution.as_deref().and_then(|r| ctx.day(&f.patient_id, r)).into(),
        ]);
    }
    t
}

fn burden(ctx: &Ctx<'_, '_>) -> Table {
    let mut t = Table::new(
        "burden",
        "Tumour burden at the protocol months",
        vec![
            text("ipd_id", "Participant code (random)"),
            text("arm", "Randomized arm"),
            num("months", "Protocol month"),
            num("day", "Assessment used").coded(DAY),
            num("sum_change_percent", "% change in sum of diameters"),
            num("bulky_volume_change_percent", "% change in bulky-lesion volume"),
        ],
    );
    for r in &ctx.input.datasets.burden {
        let id = r.patient_id.as_str();
        let Some(code) = ctx.codes.get(id) else { continue };
        t.push(vec![
            code.as_str().into(),
            r.arm.to_string().into(),
            r.months.value().into(),
            ctx.day_of(id, r.time_point.as_ref().map(|(_, d)| *d)).into(),
            r.sum_change.map(|p| p.value()).into(),
            r.bulky_volume_change.map(|p| p.value()).into(),
        ]);
    }
    t
}
