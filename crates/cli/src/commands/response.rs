//! `cryoseed response --input FILE.json`: every response verdict of every patient, with reasons.

use crate::output;
use anyhow::Context;
use cryoseed_core::protocol::Protocol;
use cryoseed_response::format::parse_assessments;
use cryoseed_response::{
    Acceptance, Agreement, BestResponse, Finding, LtpAssessment, PatientAssessment, ReaderAgreement, ReaderAssessment,
    TimePointResponse, Trigger, assess_patient, reader_agreement,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `cryoseed response`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Assessments document (`cryoseed-assessments` version 1 JSON: lesions, readers, time points,
    /// measurements, flags), e.g. crates/response/examples/assessments.json.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Print a versioned JSON document (`cryoseed-response` version 1) instead of text.
    #[arg(long)]
    json: bool,
}

/// Version of the `--json` document.
pub const RESPONSE_FORMAT_VERSION: u32 = 1;

/// Reads the assessments, evaluates every patient and prints the verdicts.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read assessments {}", args.input.display()))?;
    let (patients, parse_findings) =
        parse_assessments(&text).with_context(|| format!("invalid assessments {}", args.input.display()))?;
    let assessments: Vec<PatientAssessment> = patients
        .iter()
        .zip(parse_findings)
        .map(|(patient, mut findings)| {
            let mut assessment = assess_patient(patient, protocol);
            findings.append(&mut assessment.findings);
            assessment.findings = findings;
            assessment
        })
        .collect();
    let agreement = reader_agreement(&assessments, protocol);
    if args.json {
        let input_sha256 = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>();
        return output::json(&doc::document(&assessments, &agreement, protocol, input_sha256));
    }
    output::print(&report(&assessments, &agreement, protocol))
}

fn pct(value: Option<cryoseed_core::Percent>) -> String {
    value.map_or("-".to_owned(), |p| format!("{:+.1} %", p.value()))
}

fn best_line(s: &mut String, title: &str, best: &BestResponse) {
    let _ = writeln!(s, "    {title}: {} — {}", best.response, best.reason);
}

fn time_point_lines(s: &mut String, t: &TimePointResponse) {
    let target = t.target.as_ref().map_or("none".to_owned(), |x| x.response.to_string());
    let non_target = t.non_target.as_ref().map_or("none".to_owned(), |x| x.response.to_string());
    let _ = writeln!(
        s,
        "    {} ({}): {}   [target {target}, non-target {non_target}, new lesions {}]",
        t.label, t.date, t.response, t.new_lesions.status
    );
    if let Some(x) = &t.target {
        let _ = writeln!(s, "      target: {}", x.reason);
    }
    if let Some(x) = &t.non_target {
        let _ = writeln!(s, "      non-target: {}", x.reason);
    }
    if !t.new_lesions.unequivocal.is_empty() || !t.new_lesions.equivocal.is_empty() {
        let _ = writeln!(
            s,
            "      new lesions: unequivocal [{}], equivocal [{}]",
            t.new_lesions.unequivocal.join(", "),
            t.new_lesions.equivocal.join(", ")
        );
    }
    let _ = writeln!(s, "      overall: {}", t.rule);
    if let Some(back) = &t.back_dated {
        let _ = writeln!(s, "      {back}");
    }
}

fn local_line(s: &mut String, l: &LtpAssessment) {
    let bulky = if l.is_bulky_index { ", bulky index" } else { "" };
    let _ = write!(s, "      {} (treated {}{bulky}): ", l.lesion_id, l.treated_on);
    match &l.progression {
        Some(p) => {
            let zone = p.zone_reason.as_ref().map_or(String::new(), |z| format!("; zone {z}"));
            let _ = writeln!(s, "LTP at {} ({}): {}{zone}", p.label, p.date, p.criteria.join("; "));
        }
        None => match l.last_evaluated() {
            Some(last) => {
                let _ = writeln!(s, "no LTP; last evaluated {} ({})", last.label, last.date);
            }
            None => {
                let _ = writeln!(s, "no post-treatment assessment");
            }
        },
    }
    if let Some(r) = &l.residual {
        let _ = writeln!(s, "        {} ({}): {}", r.label, r.date, r.reason);
    }
}

fn reader_block(s: &mut String, r: &ReaderAssessment, protocol: &Protocol) {
    let rules = &protocol.response;
    let _ = writeln!(s, "  reader {}{}", r.reader, if r.is_accepted { " — ACCEPTED" } else { "" });
    match r.recist.baseline_sum {
        Some(sum) => {
            let targets: Vec<&str> = r.recist.targets.iter().map(|t| t.as_str()).collect();
            let _ = writeln!(s, "    baseline sum of diameters {} mm (targets {})", sum.value(), targets.join(", "));
        }
        None => {
            let _ = writeln!(s, "    no target lesions: non-target disease only (RECIST 1.1 Table 2)");
        }
    }
    for t in &r.recist.time_points {
        time_point_lines(s, t);
    }
    let protocol_choice = if rules.require_confirmation { "with confirmation" } else { "without confirmation" };
    best_line(s, &format!("best overall response (protocol: {protocol_choice})"), r.recist.best(rules));
    let other = if rules.require_confirmation { &r.recist.best_unconfirmed } else { &r.recist.best_confirmed };
    let other_title = if rules.require_confirmation { "without confirmation" } else { "with confirmation" };
    best_line(s, &format!("best overall response {other_title}"), other);
    match &r.recist.progression {
        Some(p) => {
            let _ = writeln!(s, "    progression (RECIST): {} ({}) — {}", p.label, p.date, p.reason);
        }
        None => {
            let _ = writeln!(s, "    progression (RECIST): none");
        }
    }
    if !r.local.is_empty() {
        let _ = writeln!(s, "    local tumour progression:");
        for l in &r.local {
            local_line(s, l);
        }
    }
    if !r.local_control.is_empty() {
        let _ = writeln!(s, "    local control at {} months:", lcr_months(protocol));
        for v in &r.local_control {
            let _ = writeln!(s, "      {}: {}", v.lesion_id, v.reason);
        }
    }
    let _ = writeln!(s, "    tumour burden (change from baseline):");
    for m in &r.burden.at_protocol_months {
        let _ = writeln!(
            s,
            "      {} months: sum of diameters {}, bulky volume {} — {}",
            m.months.value(),
            pct(m.sum_change),
            pct(m.bulky_volume_change),
            m.reason
        );
    }
    let zonal: Vec<String> = r
        .burden
        .series
        .iter()
        .skip(1)
        .filter(|p| p.core_volume.is_some() || p.margin_volume.is_some() || p.non_enhancing.is_some())
        .map(|p| {
            format!(
                "{}: core {}, margin {}, non-enhancing {}",
                p.label,
                pct(p.core_volume_change),
                pct(p.margin_volume_change),
                p.non_enhancing.map_or("-".to_owned(), |n| format!("{} %", n.value()))
            )
        })
        .collect();
    if !zonal.is_empty() {
        let _ = writeln!(s, "    zonal response of the bulky lesion: {}", zonal.join("; "));
    }
    if r.failures.events.is_empty() {
        let _ = writeln!(s, "    patterns of failure: none");
    } else {
        let _ = writeln!(s, "    patterns of failure (first: {}):", r.failures.first_kinds().join(" + "));
        for e in &r.failures.events {
            let _ = writeln!(s, "      {} ({}) {}: {}", e.label, e.date, site(&e.site), e.reason);
        }
    }
}

fn lcr_months(protocol: &Protocol) -> String {
    protocol.response.lcr_assessment_months.value().to_string()
}

fn site(site: &cryoseed_response::FailureSite) -> String {
    use cryoseed_response::FailureSite as F;
    match site {
        F::TreatedLesion { lesion_id, is_bulky_index, zone } => format!(
            "treated lesion {lesion_id}{}{}",
            if *is_bulky_index { " (bulky)" } else { "" },
            zone.map_or(String::new(), |z| format!(" {z}"))
        ),
        F::UntreatedLesion { lesion_id } => format!("untreated lesion {lesion_id}"),
        F::NewLesion { new_lesion_id, organ } => {
            format!("new lesion {new_lesion_id}{}", organ.map_or(String::new(), |o| format!(" ({o})")))
        }
    }
}

fn agreement_text(a: &Agreement) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    format!(
        "{} pairs, agreement {}, kappa {}{}",
        a.pairs,
        f(a.observed_agreement),
        f(a.kappa),
        if a.weighted_pairs > 0 { format!(", linear-weighted kappa {}", f(a.weighted_kappa)) } else { String::new() }
    )
}

fn report(assessments: &[PatientAssessment], agreement: &ReaderAgreement, protocol: &Protocol) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Response assessment: {} patient{} (protocol {} {}, sha256 {})",
        assessments.len(),
        if assessments.len() == 1 { "" } else { "s" },
        protocol.protocol.name,
        protocol.protocol.version,
        protocol.hash().short()
    );
    for a in assessments {
        let _ = writeln!(s, "\nPatient {}", a.patient_id);
        let _ = writeln!(s, "  review: {}", a.review.summary);
        for d in &a.review.discordances {
            let reasons: Vec<&str> = d.triggers.iter().map(|(_, reason)| reason.as_str()).collect();
            let _ = writeln!(s, "  discordant {} ({}): {}", d.label, d.date, reasons.join("; "));
        }
        for r in &a.readers {
            reader_block(&mut s, r, protocol);
        }
        if a.findings.is_empty() {
            let _ = writeln!(s, "  findings: none");
        } else {
            let _ = writeln!(s, "  findings ({}):", a.findings.len());
            for f in &a.findings {
                let _ = writeln!(s, "    {f}");
            }
        }
    }
    if agreement.patients > 0 {
        let f = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
        let _ = writeln!(
            s,
            "\nReader agreement ({} patient{} read by two readers)",
            agreement.patients,
            if agreement.patients == 1 { "" } else { "s" }
        );
        let _ = writeln!(s, "  time-point response: {}", agreement_text(&agreement.time_point_response));
        let _ = writeln!(s, "  best overall response: {}", agreement_text(&agreement.best_response));
        let _ = writeln!(s, "  local tumour progression: {}", agreement_text(&agreement.local_progression));
        let _ = writeln!(
            s,
            "  disagreement index (share of jointly read time points with a discordance trigger): {}; adjudication rate: {}",
            f(agreement.disagreement_index),
            f(agreement.adjudication_rate)
        );
    }
    s
}

/// The `--json` document: explicit, versioned types apart from the domain types.
mod doc {
    use super::*;

    #[derive(Serialize)]
    pub struct ResponseDoc {
        format: &'static str,
        version: u32,
        software_version: &'static str,
        protocol_version: String,
        protocol_sha256: String,
        input_sha256: String,
        patients: Vec<PatientDoc>,
        reader_agreement: AgreementDoc,
    }

    #[derive(Serialize)]
    struct PatientDoc {
        patient_id: String,
        acceptance: &'static str,
        accepted_reader: Option<String>,
        adjudicator: Option<String>,
        review_summary: String,
        discordances: Vec<DiscordanceDoc>,
        readers: Vec<ReaderDoc>,
        findings: Vec<FindingDoc>,
    }

    #[derive(Serialize)]
    struct DiscordanceDoc {
        time_point: String,
        date: String,
        triggers: Vec<TriggerDoc>,
    }

    #[derive(Serialize)]
    struct TriggerDoc {
        trigger: &'static str,
        reason: String,
    }

    #[derive(Serialize)]
    struct ReaderDoc {
        reader: String,
        accepted: bool,
        targets: Vec<String>,
        baseline_sum_mm: Option<f64>,
        time_points: Vec<TimePointDoc>,
        best_overall_response: BestDoc,
        best_overall_response_unconfirmed: BestDoc,
        best_overall_response_confirmed: BestDoc,
        progression: Option<EventDoc>,
        local: Vec<LocalDoc>,
        local_control: Vec<LocalControlDoc>,
        tumour_burden: Vec<BurdenDoc>,
        burden_series: Vec<BurdenPointDoc>,
        failures: Vec<FailureDoc>,
    }

    #[derive(Serialize)]
    struct TimePointDoc {
        time_point: String,
        date: String,
        target: Option<TargetDoc>,
        non_target: Option<VerdictDoc>,
        new_lesions: &'static str,
        new_lesions_unequivocal: Vec<String>,
        new_lesions_equivocal: Vec<String>,
        as_read: &'static str,
        rule: String,
        response: &'static str,
        back_dated: Option<String>,
    }

    #[derive(Serialize)]
    struct TargetDoc {
        response: String,
        sum_mm: f64,
        complete: bool,
        not_evaluated: Vec<String>,
        baseline_sum_mm: f64,
        nadir_mm: f64,
        change_from_baseline_percent: Option<f64>,
        change_from_nadir_percent: Option<f64>,
        reason: String,
    }

    #[derive(Serialize)]
    struct VerdictDoc {
        response: String,
        reason: String,
    }

    #[derive(Serialize)]
    struct BestDoc {
        response: &'static str,
        time_point: Option<String>,
        date: Option<String>,
        reason: String,
    }

    #[derive(Serialize)]
    struct EventDoc {
        time_point: String,
        date: String,
        reason: String,
    }

    #[derive(Serialize)]
    struct LocalDoc {
        lesion_id: String,
        treated_on: String,
        bulky_index: bool,
        residual: Option<EventDoc>,
        progression: Option<LtpDoc>,
    }

    #[derive(Serialize)]
    struct LocalControlDoc {
        lesion_id: String,
        status: &'static str,
        nominal_date: String,
        reason: String,
    }

    #[derive(Serialize)]
    struct LtpDoc {
        time_point: String,
        date: String,
        criteria: Vec<String>,
        zone: Option<String>,
        zone_reason: Option<String>,
    }

    #[derive(Serialize)]
    struct BurdenDoc {
        months: f64,
        nominal_date: String,
        time_point: Option<String>,
        sum_change_percent: Option<f64>,
        bulky_volume_change_percent: Option<f64>,
        reason: String,
    }

    #[derive(Serialize)]
    struct BurdenPointDoc {
        time_point: String,
        date: String,
        sum_of_diameters_mm: Option<f64>,
        sum_change_percent: Option<f64>,
        bulky_volume_ml: Option<f64>,
        bulky_volume_change_percent: Option<f64>,
        core_volume_ml: Option<f64>,
        core_volume_change_percent: Option<f64>,
        margin_volume_ml: Option<f64>,
        margin_volume_change_percent: Option<f64>,
        non_enhancing_percent: Option<f64>,
    }

    #[derive(Serialize)]
    struct FailureDoc {
        kind: &'static str,
        site: String,
        time_point: String,
        date: String,
        reason: String,
    }

    #[derive(Serialize)]
    struct FindingDoc {
        severity: String,
        reader: Option<String>,
        time_point: Option<String>,
        lesion: Option<String>,
        message: String,
    }

    #[derive(Serialize)]
    struct AgreementDoc {
        patients: usize,
        time_point_response: KappaDoc,
        best_response: KappaDoc,
        local_progression: KappaDoc,
        disagreement_index: Option<f64>,
        adjudication_rate: Option<f64>,
    }

    #[derive(Serialize)]
    struct KappaDoc {
        pairs: usize,
        observed_agreement: Option<f64>,
        kappa: Option<f64>,
        weighted_kappa_linear: Option<f64>,
        weighted_pairs: usize,
    }

    /// Rounds to 1e-6: enough for mm, mL and %, and stable across platforms for diffs.
    fn r6(v: f64) -> f64 {
        (v * 1e6).round() / 1e6
    }

    fn best(b: &BestResponse) -> BestDoc {
        BestDoc {
            response: b.response.code(),
            time_point: b.time_point.as_ref().map(|(l, _)| l.clone()),
            date: b.time_point.as_ref().map(|(_, d)| d.to_string()),
            reason: b.reason.clone(),
        }
    }

    fn kappa(a: &Agreement) -> KappaDoc {
        KappaDoc {
            pairs: a.pairs,
            observed_agreement: a.observed_agreement.map(r6),
            kappa: a.kappa.map(r6),
            weighted_kappa_linear: a.weighted_kappa.map(r6),
            weighted_pairs: a.weighted_pairs,
        }
    }

    fn finding(f: &Finding) -> FindingDoc {
        FindingDoc {
            severity: f.severity.to_string(),
            reader: f.reader.as_ref().map(ToString::to_string),
            time_point: f.time_point.clone(),
            lesion: f.lesion.clone(),
            message: f.message.clone(),
        }
    }

    fn reader(r: &ReaderAssessment, protocol: &Protocol) -> ReaderDoc {
        let pct = |p: Option<cryoseed_core::Percent>| p.map(|p| r6(p.value()));
        ReaderDoc {
            reader: r.reader.to_string(),
            accepted: r.is_accepted,
            targets: r.recist.targets.iter().map(ToString::to_string).collect(),
            baseline_sum_mm: r.recist.baseline_sum.map(|s| r6(s.value())),
            time_points: r
                .recist
                .time_points
                .iter()
                .map(|t| TimePointDoc {
                    time_point: t.label.clone(),
                    date: t.date.to_string(),
                    target: t.target.as_ref().map(|x| TargetDoc {
                        response: x.response.to_string(),
                        sum_mm: r6(x.sum.value()),
                        complete: x.is_complete(),
                        not_evaluated: x.not_evaluated.iter().map(ToString::to_string).collect(),
                        baseline_sum_mm: r6(x.baseline_sum.value()),
                        nadir_mm: r6(x.nadir.value()),
                        change_from_baseline_percent: pct(x.change_from_baseline),
                        change_from_nadir_percent: pct(x.change_from_nadir),
                        reason: x.reason.clone(),
                    }),
                    non_target: t
                        .non_target
                        .as_ref()
                        .map(|x| VerdictDoc { response: x.response.to_string(), reason: x.reason.clone() }),
                    new_lesions: match t.new_lesions.status {
                        cryoseed_response::NewLesionStatus::Absent => "no",
                        cryoseed_response::NewLesionStatus::Equivocal => "equivocal",
                        cryoseed_response::NewLesionStatus::Present => "yes",
                    },
                    new_lesions_unequivocal: t.new_lesions.unequivocal.clone(),
                    new_lesions_equivocal: t.new_lesions.equivocal.clone(),
                    as_read: t.as_read.code(),
                    rule: t.rule.clone(),
                    response: t.response.code(),
                    back_dated: t.back_dated.clone(),
                })
                .collect(),
            best_overall_response: best(r.recist.best(&protocol.response)),
            best_overall_response_unconfirmed: best(&r.recist.best_unconfirmed),
            best_overall_response_confirmed: best(&r.recist.best_confirmed),
            progression: r.recist.progression.as_ref().map(|p| EventDoc {
                time_point: p.label.clone(),
                date: p.date.to_string(),
                reason: p.reason.clone(),
            }),
            local: r
                .local
                .iter()
                .map(|l| LocalDoc {
                    lesion_id: l.lesion_id.to_string(),
                    treated_on: l.treated_on.to_string(),
                    bulky_index: l.is_bulky_index,
                    residual: l.residual.as_ref().map(|x| EventDoc {
                        time_point: x.label.clone(),
                        date: x.date.to_string(),
                        reason: x.reason.clone(),
                    }),
                    progression: l.progression.as_ref().map(|p| LtpDoc {
                        time_point: p.label.clone(),
                        date: p.date.to_string(),
                        criteria: p.criteria.clone(),
                        zone: p.zone.map(|z| z.to_string()),
                        zone_reason: p.zone_reason.clone(),
                    }),
                })
                .collect(),
            local_control: r
                .local_control
                .iter()
                .map(|v| LocalControlDoc {
                    lesion_id: v.lesion_id.to_string(),
                    status: match v.status {
                        cryoseed_response::LocalControl::Controlled { .. } => "controlled",
                        cryoseed_response::LocalControl::Failure { .. } => "failure",
                        cryoseed_response::LocalControl::NotEvaluable => "not_evaluable",
                    },
                    nominal_date: v.nominal_date.to_string(),
                    reason: v.reason.clone(),
                })
                .collect(),
            tumour_burden: r
                .burden
                .at_protocol_months
                .iter()
                .map(|m| BurdenDoc {
                    months: m.months.value(),
                    nominal_date: m.nominal_date.to_string(),
                    time_point: m.time_point.as_ref().map(|(l, _)| l.clone()),
                    sum_change_percent: pct(m.sum_change),
                    bulky_volume_change_percent: pct(m.bulky_volume_change),
                    reason: m.reason.clone(),
                })
                .collect(),
            burden_series: r
                .burden
                .series
                .iter()
                .map(|p| BurdenPointDoc {
                    time_point: p.label.clone(),
                    date: p.date.to_string(),
                    sum_of_diameters_mm: p.sum_of_diameters.map(|v| r6(v.value())),
                    sum_change_percent: pct(p.sum_change),
                    bulky_volume_ml: p.bulky_volume.map(|v| r6(v.value())),
                    bulky_volume_change_percent: pct(p.bulky_volume_change),
                    core_volume_ml: p.core_volume.map(|v| r6(v.value())),
                    core_volume_change_percent: pct(p.core_volume_change),
                    margin_volume_ml: p.margin_volume.map(|v| r6(v.value())),
                    margin_volume_change_percent: pct(p.margin_volume_change),
                    non_enhancing_percent: pct(p.non_enhancing),
                })
                .collect(),
            failures: r
                .failures
                .events
                .iter()
                .map(|e| FailureDoc {
                    kind: e.site.kind(),
                    site: site(&e.site),
                    time_point: e.label.clone(),
                    date: e.date.to_string(),
                    reason: e.reason.clone(),
                })
                .collect(),
        }
    }

    pub fn document(
        assessments: &[PatientAssessment],
        agreement: &ReaderAgreement,
        protocol: &Protocol,
        input_sha256: String,
    ) -> ResponseDoc {
        ResponseDoc {
            format: "cryoseed-response",
            version: RESPONSE_FORMAT_VERSION,
            software_version: cryoseed_core::SOFTWARE_VERSION,
            protocol_version: protocol.protocol.version.clone(),
            protocol_sha256: protocol.hash().to_string(),
            input_sha256,
            patients: assessments
                .iter()
                .map(|a| {
                    let accepted = a.accepted().map(|r| r.reader.to_string());
                    let (acceptance, adjudicator) = match &a.review.acceptance {
                        Acceptance::SingleReader => ("single_reader", None),
                        Acceptance::Concordant => ("concordant", None),
                        Acceptance::Adjudicated { adjudicator, .. } => ("adjudicated", Some(adjudicator.to_string())),
                        Acceptance::AdjudicationPending => ("adjudication_pending", None),
                    };
                    PatientDoc {
                        patient_id: a.patient_id.to_string(),
                        acceptance,
                        accepted_reader: accepted,
                        adjudicator,
                        review_summary: a.review.summary.clone(),
                        discordances: a
                            .review
                            .discordances
                            .iter()
                            .map(|d| DiscordanceDoc {
                                time_point: d.label.clone(),
                                date: d.date.to_string(),
                                triggers: d
                                    .triggers
                                    .iter()
                                    .map(|(t, reason)| TriggerDoc {
                                        trigger: match t {
                                            Trigger::LtpDisagreement(_) => "ltp_disagreement",
                                            Trigger::ResponseDisagreement(..) => "response_disagreement",
                                            Trigger::TargetSumDifference => "target_sum_difference",
                                        },
                                        reason: reason.clone(),
                                    })
                                    .collect(),
                            })
                            .collect(),
                        readers: a.readers.iter().map(|r| reader(r, protocol)).collect(),
                        findings: a.findings.iter().map(finding).collect(),
                    }
                })
                .collect(),
            reader_agreement: AgreementDoc {
                patients: agreement.patients,
                time_point_response: kappa(&agreement.time_point_response),
                best_response: kappa(&agreement.best_response),
                local_progression: kappa(&agreement.local_progression),
                disagreement_index: agreement.disagreement_index.map(r6),
                adjudication_rate: agreement.adjudication_rate.map(r6),
            },
        }
    }
}
