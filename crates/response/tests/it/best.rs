//! Best overall response (RECIST 1.1 §4.4.3, Table 3; confirmation §4.6.1; minimum duration of
//! stable disease §4.6.3) with the shipped protocol: confirmation interval 28 days, minimum SD
//! duration 42 days from the start of therapy. Exact.

use crate::dsl::{day, start};
use cryoseed_core::protocol::Protocol;
use cryoseed_response::{OverallResponse, best_overall_response};

fn parse(code: &str) -> OverallResponse {
    *OverallResponse::ALL.iter().find(|r| r.code() == code).unwrap_or_else(|| panic!("response {code}"))
}

/// `sequence`: `CR@56 PR@90` (response at day after the start of therapy).
#[track_caller]
fn check(sequence: &str, with_confirmation: bool, expected: &str, reason: &str) {
    check_with(sequence, with_confirmation, true, expected, reason);
}

#[track_caller]
fn check_with(sequence: &str, with_confirmation: bool, has_targets: bool, expected: &str, reason: &str) {
    let protocol = Protocol::shipped();
    assert_eq!(protocol.response.confirmation_min_interval_days.value(), 28.0);
    assert_eq!(protocol.response.min_stable_disease_days.value(), 42.0);
    let mut responses = Vec::new();
    let mut labels = Vec::new();
    for item in sequence.split_whitespace() {
        let (code, d) = item.split_once('@').unwrap();
        responses.push((day(d.parse().unwrap()), parse(code)));
        labels.push(format!("D{d}"));
    }
    let best = best_overall_response(&responses, &labels, start(), &protocol.response, with_confirmation, has_targets);
    assert_eq!(best.response.code(), expected, "{sequence} (confirmation {with_confirmation}): {}", best.reason);
    assert!(best.reason.contains(reason), "{}", best.reason);
}

#[test]
fn table_3_confirmation_required() {
    // CR, CR → CR.
    check("CR@56 CR@84", true, "CR", "CR at D56 (2026-03-07) confirmed by CR at D84");
    // CR, PR → the CR is not confirmed but the PR level is (Table 3 footnote: PR).
    check("CR@56 PR@84", true, "PR", "confirmed by PR at D84");
    // CR, SD → SD if the SD duration is met, otherwise PD.
    check("CR@56 SD@84", true, "SD", "unconfirmed CR) at D56");
    check("CR@28 SD@40", true, "PD", "CR at D28 was followed by SD at D40 without the minimum SD duration");
    // CR, PD → SD if the SD duration is met, otherwise PD.
    check("CR@56 PD@84", true, "SD", "meets the minimum of 42 days");
    check("CR@30 PD@60", true, "PD", "stable-or-better responses were seen only before the minimum of 42 days");
    // CR, NE → SD if the SD duration is met, otherwise NE.
    check("CR@56 NE@84", true, "SD", "unconfirmed CR");
    check("CR@30 NE@60", true, "NE", "only before the minimum of 42 days");
    // PR, CR → PR.
    check("PR@56 CR@84", true, "PR", "confirmed by CR at D84");
    // PR, PR → PR.
    check("PR@56 PR@84", true, "PR", "confirmed by PR");
    // PR, SD → SD.
    check("PR@56 SD@84", true, "SD", "unconfirmed PR");
    // PR, PD → SD if the SD duration is met, otherwise PD.
    check("PR@56 PD@84", true, "SD", "unconfirmed PR");
    check("PR@30 PD@60", true, "PD", "PD at D60");
    // PR, NE → SD if the SD duration is met, otherwise NE.
    check("PR@56 NE@84", true, "SD", "unconfirmed PR");
    check("PR@30 NE@60", true, "NE", "NE");
    // NE, NE → NE.
    check("NE@56 NE@84", true, "NE", "NE: no response could be established");
}

#[test]
fn confirmation_interval() {
    // Exactly 28 days later confirms; 27 does not (the next assessment ≥ 28 days later does).
    check("PR@56 PR@84", true, "PR", "28 days later");
    check("PR@56 PR@83", true, "SD", "unconfirmed PR");
    check("PR@56 PR@83 PR@100", true, "PR", "confirmed by PR at D100 (2026-04-20), 44 days later");
    // An NE in between does not break confirmation; an SD does.
    check("PR@56 NE@70 PR@90", true, "PR", "confirmed by PR at D90");
    check("PR@56 SD@70 PR@90", true, "SD", "unconfirmed PR");
    check("PR@56 SD@70 SD@90", true, "SD", "unconfirmed PR");
    // Confirmation later in the course.
    check("SD@56 PR@112 PR@168", true, "PR", "PR at D112");
    // Nothing after PD counts.
    check("PD@56 PR@112 PR@168", true, "PD", "PD at D56");
}

#[test]
fn without_confirmation() {
    check("PR@56 SD@112", false, "PR", "PR at D56 (2026-03-07); no confirmation required");
    check("SD@56 CR@112", false, "CR", "CR at D112");
    check("CR@30", false, "CR", "CR at D30");
    check("SD@56 PD@112", false, "SD", "SD at D56 (2026-03-07), 56 days after the start of therapy");
    // Minimum SD duration: 42 days from the start of therapy, exactly.
    check("SD@42 PD@98", false, "SD", "42 days after the start of therapy");
    check("SD@41 PD@98", false, "PD", "only before the minimum of 42 days");
    check("SD@30 NE@90", false, "NE", "only before the minimum of 42 days");
    check("NE@56 SD@112", false, "SD", "SD at D112");
    check("PD@56 CR@112", false, "PD", "PD at D56");
    check("", false, "NE", "no follow-up assessment");
}

#[test]
fn non_target_disease_only() {
    check_with("non-CR/non-PD@56 PD@112", false, false, "non-CR/non-PD", "meets the minimum of 42 days");
    check_with("CR@56 CR@84", true, false, "CR", "confirmed by CR");
    check_with("CR@56 non-CR/non-PD@84", true, false, "non-CR/non-PD", "unconfirmed CR");
}

#[test]
fn the_protocol_chooses_confirmation() {
    use crate::dsl::patient;
    // PR at W8 not confirmed (SD at W16): unconfirmed best PR, confirmed best SD.
    let p = patient(&["T1:liver:target"], &[("BL", -5, "T1=50"), ("W8", 56, "T1=30"), ("W16", 112, "T1=40")]);
    let shipped = Protocol::shipped();
    let a = cryoseed_response::assess_patient(&p, &shipped);
    let series = &a.readers[0].recist;
    assert_eq!(series.best(&shipped.response).response, OverallResponse::Pr);
    let text = Protocol::default_toml().replace("require_confirmation = false", "require_confirmation = true");
    let confirming = Protocol::from_toml_str(&text).unwrap();
    let a = cryoseed_response::assess_patient(&p, &confirming);
    let series = &a.readers[0].recist;
    assert_eq!(series.best(&confirming.response).response, OverallResponse::Sd);
    assert!(series.best(&confirming.response).reason.contains("unconfirmed PR"));
}
