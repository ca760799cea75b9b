//! The `cryoseed-assessments` version 1 JSON format: the shipped example, structural errors with
//! their JSON path, and statuses that contradict their numbers as findings.

use cryoseed_core::protocol::Protocol;
use cryoseed_response::format::parse_assessments;
use cryoseed_response::{Acceptance, OverallResponse, ResponseError, assess_patient};

const EXAMPLE: &str = include_str!("../../examples/assessments.json");

#[test]
fn the_example_document() {
    let protocol = Protocol::shipped();
    let (patients, findings) = parse_assessments(EXAMPLE).unwrap();
    assert_eq!(patients.len(), 2);
    assert!(findings.iter().all(Vec::is_empty), "{findings:?}");

    let p1 = assess_patient(&patients[0], &protocol);
    assert!(p1.findings.is_empty(), "{:?}", p1.findings);
    assert_eq!(p1.review.discordances.len(), 1);
    assert_eq!(p1.review.discordances[0].label, "W26");
    assert!(matches!(p1.review.acceptance, Acceptance::Adjudicated { .. }));
    let accepted = p1.accepted().unwrap();
    assert_eq!(accepted.reader.as_str(), "R1");
    let t1 = &accepted.local[0];
    assert_eq!(t1.progression.as_ref().unwrap().label, "W26");
    // R1 W26: 64 + 17 + 9 = 90 mm vs 84 + 24 + 18 = 126 mm: −28.6 % → SD, not PR.
    let last = accepted.recist.time_points.last().unwrap();
    assert_eq!(last.target.as_ref().unwrap().sum.value(), 90.0);
    assert_eq!(last.response, OverallResponse::Sd);

    let p2 = assess_patient(&patients[1], &protocol);
    let series = &p2.accepted().unwrap().recist;
    let codes: Vec<&str> = series.time_points.iter().map(|t| t.response.code()).collect();
    assert_eq!(codes, ["SD", "PD", "PD"]);
    assert_eq!(series.progression.as_ref().unwrap().label, "W14");
}

#[track_caller]
fn check_error(json: &str, expected: &str) {
    let error = parse_assessments(json).unwrap_err();
    let text = error.to_string();
    assert!(text.starts_with(expected), "{text}");
}

#[test]
fn structural_errors_name_the_json_path() {
    let edit = |from: &str, to: &str| {
        assert_eq!(EXAMPLE.matches(from).count(), 1, "{from}");
        EXAMPLE.replace(from, to)
    };
    check_error(
        &edit("\"therapy_start\": \"2026-02-02\"", "\"therapy_start\": \"2026-02-31\""),
        "patients[1].therapy_start: expected a date YYYY-MM-DD, got \"2026-02-31\"",
    );
    check_error(
        &edit("\"organ\": \"soft_tissue\"", "\"organ\": \"spleen\""),
        "patients[1].lesions[1].organ: unknown variant `spleen`",
    );
    check_error(
        &edit("\"equivocal\": true", "\"equivocol\": true"),
        "patients[1].time_points[2].reads[0].new_lesions[0].equivocol: unknown field `equivocol`",
    );
    check_error(
        &edit("\"adjudicator\": \"A1\"", "\"adjudicator\": \"A 1\""),
        "patients[0].adjudication.adjudicator: invalid reader code",
    );
    check_error(
        "{\"format\": \"cryoseed-assessments\", \"version\": 2, \"patients\": []}",
        "format: expected \"cryoseed-assessments\" version 1, got \"cryoseed-assessments\" version 2",
    );
    check_error("[1, 2", "(document):");
    assert!(matches!(parse_assessments("{}"), Err(ResponseError::Json { .. })));
}

#[test]
fn contradictory_statuses_are_findings() {
    let json = EXAMPLE
        .replace(
            "{\"lesion_id\": \"T3\", \"diameter_mm\": 24}",
            "{\"lesion_id\": \"T3\", \"status\": \"disappeared\", \"diameter_mm\": 24}",
        )
        .replace("{\"lesion_id\": \"T2\", \"diameter_mm\": 29}", "{\"lesion_id\": \"T2\", \"status\": \"measured\"}");
    let (_, findings) = parse_assessments(&json).unwrap();
    let text: Vec<String> = findings[1].iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "error: reader R1, time point W6 (2026-03-16), lesion T2: status measured without diameter_mm; counted as not evaluated",
            "error: reader R1, time point W22 (2026-07-06), lesion T3: status disappeared contradicts diameter_mm given with it; counted as not evaluated",
        ]
    );
}
