//! Bad input comes back as findings naming reader, time point and lesion; the rest is still
//! evaluated.

use crate::dsl::{day, lesion, patient, read};
use crate::{assess, responses};
use cryoseed_core::Mm;
use cryoseed_response::{LesionStatus, Observation, Severity, TimePoint};

/// The findings as displayed, one per line.
fn findings(a: &cryoseed_response::PatientAssessment) -> String {
    a.findings.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[track_caller]
fn check_contains(a: &cryoseed_response::PatientAssessment, expected: &str) {
    let text = findings(a);
    assert!(text.contains(expected), "expected {expected:?} in\n{text}");
}

const LESIONS: &[&str] = &["T1:liver:target", "T2:lung:target"];

#[test]
fn a_lesion_never_seen_at_baseline() {
    let a = assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20 T2=14 T9=12")]));
    check_contains(
        &a,
        "error: reader R1, time point W8 (2026-03-07), lesion T9: this lesion was never seen at baseline",
    );
    // T1 and T2 are still assessed: 34 mm = −32 % → PR.
    assert_eq!(responses(&a), "PR");
}

#[test]
fn duplicated_lesion_ids() {
    let mut p = patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20 T2=14")]);
    p.lesions.push(lesion("T1:bone:non_target"));
    // Measured twice in one read: the first measurement is used.
    p.time_points[1].reads[0]
        .observations
        .push(Observation::new(crate::dsl::id("T2"), LesionStatus::Measured(Mm(99.0))));
    let a = assess(&p);
    check_contains(&a, "error: lesion T1: lesion id listed twice; the first entry is used");
    check_contains(&a, "error: reader R1, time point W8 (2026-03-07), lesion T2: measured twice in the same read");
    assert_eq!(responses(&a), "PR");
}

#[test]
fn negative_and_non_finite_diameters() {
    let a = assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=-4 T2=14")]));
    check_contains(
        &a,
        "error: reader R1, time point W8 (2026-03-07), lesion T1: diameter -4 mm is negative or not a number; not \
         evaluated at this time point",
    );
    assert_eq!(responses(&a), "NE");
    let mut p = patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20 T2=14")]);
    p.time_points[1].reads[0].observations[0].status = LesionStatus::Measured(Mm(f64::NAN));
    check_contains(&assess(&p), "lesion T1: diameter NaN mm is negative or not a number");
    let a = assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=split:10+-2 T2=14")]));
    check_contains(&a, "lesion T1: split lesion fragments [10, -2] mm must be one or more non-negative numbers");
}

#[test]
fn dates_out_of_order() {
    // Given in the order baseline, W16, W8: evaluated in date order, with a warning naming both.
    let a =
        assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W16", 112, "T1=36 T2=24"), ("W8", 56, "T1=20 T2=15")]));
    check_contains(
        &a,
        "warning: time point W8 (2026-03-07): dated before the preceding time point W16 (2026-05-02); time points are \
         evaluated in date order",
    );
    // W8 is PR (35 mm), W16 is PD over the W8 nadir.
    assert_eq!(responses(&a), "PR PD");
    // Two time points on the same date: the second is ignored.
    let mut p = patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20 T2=15")]);
    p.time_points.push(TimePoint { label: "W8b".to_owned(), date: day(56), reads: vec![read("R1", "T1=50 T2=50")] });
    let a = assess(&p);
    check_contains(&a, "error: time point W8b (2026-03-07): same date as time point W8; this time point is ignored");
    assert_eq!(responses(&a), "PR");
}

#[test]
fn baseline_rules() {
    // A target below 10 mm at baseline, a node below 15 mm, six targets, three in the liver.
    let a = assess(&patient(
        &[
            "T1:liver:target",
            "T2:liver:target",
            "T3:liver:target",
            "T4:lung:target",
            "N1:lymph_node:target",
            "T5:bone:target",
        ],
        &[("BL", -5, "T1=30 T2=20 T3=8 T4=15 N1=12 T5=20"), ("W8", 56, "T1=30 T2=20 T3=8 T4=15 N1=12 T5=20")],
    ));
    check_contains(
        &a,
        "lesion T3: target longest diameter 8 mm at baseline is below 10 mm, the minimum for a measurable lesion (RECIST 1.1 §3.1)",
    );
    check_contains(
        &a,
        "lesion N1: target short axis 12 mm at baseline is below 15 mm, the minimum for a measurable node",
    );
    check_contains(&a, "warning: 6 target lesions; RECIST 1.1 §4.2 allows at most 5");
    check_contains(&a, "warning: 3 target lesions in liver (T1, T2, T3); RECIST 1.1 §4.2 allows at most 2 per organ");
    assert_eq!(responses(&a), "SD");
    // A target without a baseline measurement is left out of the sum, with an error.
    let a = assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=ne"), ("W8", 56, "T1=20 T2=14")]));
    check_contains(&a, "lesion T2: target lesion recorded as not evaluated at baseline");
    assert_eq!(a.readers[0].recist.baseline_sum, Some(Mm(30.0)));
    assert_eq!(responses(&a), "PR");
}

#[test]
fn inconsistent_statuses_and_readers() {
    let mut p = patient(
        &["T1:liver:target", "T2:lung:target", "B1:bone:non_target"],
        &[("BL", -5, "T1=30 T2=20 B1=present"), ("W8", 56, "T1=present T2=merged:B1 B1=present +T1")],
    );
    p.time_points[1].reads.push(read("R7", "T1=1"));
    p.time_points[1].reads.push(read("R1", "T1=1"));
    let a = assess(&p);
    check_contains(&a, "lesion T1: a target lesion needs a measurement");
    check_contains(&a, "lesion T2: merged into B1, which is not a target lesion");
    check_contains(&a, "lesion T1: a new lesion with the code of a baseline lesion; ignored");
    check_contains(
        &a,
        "error: reader R7, time point W8 (2026-03-07): read by a reader who is not one of the patient's readers",
    );
    check_contains(&a, "error: reader R1, time point W8 (2026-03-07): a second read by the same reader");
    assert_eq!(responses(&a), "NE");
    assert!(a.findings.iter().all(|f| f.severity == Severity::Error || f.severity == Severity::Warning));
}

#[test]
fn missing_reads_and_lesions_are_warnings() {
    let a = assess(&patient(LESIONS, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20")]));
    check_contains(&a, "warning: reader R1, time point W8 (2026-03-07), lesion T2: not assessed at this time point");
}

#[test]
fn a_bulky_index_lesion_that_is_not_a_target() {
    let a = assess(&patient(
        &["T1:liver:target", "B1:bone:non_target:bulky"],
        &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=20 B1=present")],
    ));
    check_contains(&a, "warning: lesion B1: the bulky index lesion is not a target lesion");
    assert_eq!(responses(&a), "PR");
}
