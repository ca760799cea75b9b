//! Target, non-target and new-lesion rules on whole reads: sums, nadir, thresholds at their
//! exact values, nodes, too small to measure, split and coalesced lesions, missing measurements,
//! equivocal new lesions. Sources: Eisenhauer et al. 2009 (RECIST 1.1) §4.3–4.4 and the EORTC
//! RECIST 1.1 questions and clarifications (recist.eortc.org). Exact: no tolerance (the engine
//! compares with 1e-9 slack so that a change of exactly 30 % or 5 mm meets the threshold).

use crate::dsl::{day, patient};
use crate::{assess, responses};

/// Reader 1's final time-point responses must be `expected`, and the reason of the last one must
/// contain `reason`.
#[track_caller]
fn check(lesions: &[&str], time_points: &[(&str, i32, &str)], expected: &str, reason: &str) {
    let assessment = assess(&patient(lesions, time_points));
    let errors: Vec<String> = assessment
        .findings
        .iter()
        .filter(|f| f.severity == cryoseed_response::Severity::Error)
        .map(|f| f.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(responses(&assessment), expected, "{:#?}", assessment.readers[0].recist.time_points);
    let last = assessment.readers[0].recist.time_points.last().unwrap();
    let text = format!(
        "{} | {} | {} | {}",
        last.target.as_ref().map_or("", |t| t.reason.as_str()),
        last.non_target.as_ref().map_or("", |t| t.reason.as_str()),
        last.rule,
        last.back_dated.as_deref().unwrap_or("")
    );
    assert!(text.contains(reason), "{text}");
}

const TWO: &[&str] = &["T1:liver:target", "T2:lung:target"];

#[test]
fn sum_thresholds_at_their_exact_values() {
    // PR: exactly 30 % below baseline (50 → 35 mm).
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20 T2=15")], "PR", "30.0 % below baseline 50 mm");
    // 29.8 % below: SD.
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20.1 T2=15")], "SD", "(PR needs ≥ 30.0 % below)");
    // PD: exactly +20 % and +10 mm over the nadir 50 mm.
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=36 T2=24")], "PD", "10 mm and 20.0 % above the nadir 50 mm");
    // +20 % but only +4 mm over a nadir of 20 mm: the 5 mm absolute rule holds it at SD.
    check(TWO, &[("BL", -5, "T1=12 T2=8"), ("W8", 56, "T1=14 T2=10")], "SD", "4 mm and 20.0 % above the nadir 20 mm");
    // Exactly +5 mm and +20 % over a nadir of 25 mm: PD.
    check(TWO, &[("BL", -5, "T1=15 T2=10"), ("W8", 56, "T1=18 T2=12")], "PD", "5 mm and 20.0 %");
    // +19 % over the nadir: SD.
    check(TWO, &[("BL", -5, "T1=60 T2=40"), ("W8", 56, "T1=70 T2=49")], "SD", "19 mm and 19.0 % above");
}

#[test]
fn progression_is_measured_from_the_nadir_not_from_baseline() {
    // Baseline 100, nadir 60 at W8 (PR), W16 72: +20 % and +12 mm over the nadir → PD, although
    // still 28 % below baseline.
    check(
        TWO,
        &[("BL", -5, "T1=60 T2=40"), ("W8", 56, "T1=36 T2=24"), ("W16", 112, "T1=43 T2=29")],
        "PR PD",
        "12 mm and 20.0 % above the nadir 60 mm",
    );
}

#[test]
fn eortc_continued_partial_response() {
    // EORTC RECIST 1.1 Q&A "definition of SD": sums 165 mm at baseline, 63 mm at week 8 and 65 mm
    // at week 16: the response at week 16 is a continued PR (not PD, not SD).
    check(
        &["T1:liver:target", "T2:liver:target", "T3:lung:target"],
        &[("BL", -5, "T1=80 T2=50 T3=35"), ("W8", 56, "T1=30 T2=20 T3=13"), ("W16", 112, "T1=31 T2=21 T3=13")],
        "PR PR",
        "PR (RECIST 1.1 §4.3.1): sum 65 mm is 60.6 % below baseline 165 mm",
    );
}

#[test]
fn missing_target_measurements() {
    // RECIST 1.1 §4.4.2 example: baseline sum 50 mm over three lesions, two assessed at follow-up
    // summing 80 mm: PD regardless of the missing lesion.
    check(
        &["T1:liver:target", "T2:lung:target", "T3:bone:target"],
        &[("BL", -5, "T1=20 T2=20 T3=10"), ("W8", 56, "T1=45 T2=35 T3=ne")],
        "PD",
        "PD although T3 not evaluated (RECIST 1.1 §4.4.2)",
    );
    // Not enough for PD without the missing lesion: NE.
    check(
        &["T1:liver:target", "T2:lung:target", "T3:bone:target"],
        &[("BL", -5, "T1=20 T2=20 T3=10"), ("W8", 56, "T1=15 T2=10 T3=ne")],
        "NE",
        "NE (RECIST 1.1 §4.4.2): T3 not evaluated",
    );
    // A target left out of a read is not evaluated, like an explicit `ne`.
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=20")], "NE", "T2 not evaluated");
    // An NE sum is not a nadir: after NE at W8, W16 is compared with the baseline nadir.
    check(
        TWO,
        &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=5 T2=ne"), ("W16", 112, "T1=32 T2=22")],
        "NE SD",
        "4 mm and 8.0 % above the nadir 50 mm",
    );
}

#[test]
fn lymph_nodes() {
    let lesions = &["N1:lymph_node:target", "T1:liver:target"];
    // A target node shrinking below 10 mm short axis with the other target gone is CR, although
    // the sum is not 0 (RECIST 1.1 §4.3.2).
    check(lesions, &[("BL", -5, "N1=20 T1=30"), ("W8", 56, "N1=8 T1=gone")], "CR", "(target nodes: N1 8 mm); sum 8 mm");
    // A node at exactly 10 mm is not normal: PR.
    check(lesions, &[("BL", -5, "N1=20 T1=30"), ("W8", 56, "N1=10 T1=gone")], "PR", "PR");
    // A node growing but staying below 10 mm after CR is still CR (EORTC FAQ: a node has only
    // reappeared at ≥ 10 mm), even though +5.5 mm over the nadir would meet the sum rule.
    check(
        lesions,
        &[("BL", -5, "N1=20 T1=30"), ("W8", 56, "N1=4 T1=gone"), ("W16", 112, "N1=9.5 T1=gone")],
        "CR CR",
        "(target nodes: N1 9.5 mm); sum 9.5 mm",
    );
    // After CR, a node back at ≥ 10 mm is PD although the sum rose by only 4 mm.
    check(
        lesions,
        &[("BL", -5, "N1=20 T1=30"), ("W8", 56, "N1=8 T1=gone"), ("W16", 112, "N1=12 T1=gone")],
        "CR PD",
        "after a CR at the previous time point, target disease reappeared (N1 12 mm)",
    );
    // Non-target nodes: normal (< 10 mm) counts as absent, so CR.
    check(
        &["T1:liver:target", "N2:lymph_node:non_target"],
        &[("BL", -5, "T1=30 N2=13"), ("W8", 56, "T1=gone N2=9")],
        "CR",
        "Table 1: target CR, non-target CR",
    );
    check(
        &["T1:liver:target", "N2:lymph_node:non_target"],
        &[("BL", -5, "T1=30 N2=13"), ("W8", 56, "T1=gone N2=11")],
        "PR",
        "Table 1: target CR, non-target non-CR/non-PD, no new lesions → PR",
    );
}

#[test]
fn too_small_to_measure_counts_5_mm() {
    // T1 too small (5 mm by default), T2 8 mm: sum 13 mm, 67.5 % below baseline: PR, not CR.
    check(
        TWO,
        &[("BL", -5, "T1=20 T2=20"), ("W8", 56, "T1=ts T2=8")],
        "PR",
        "sum 13 mm is 67.5 % below baseline 40 mm",
    );
    // After CR a non-nodal target back as "too small" has reappeared: PD.
    check(
        TWO,
        &[("BL", -5, "T1=20 T2=20"), ("W8", 56, "T1=gone T2=gone"), ("W16", 112, "T1=ts T2=gone")],
        "CR PD",
        "5 mm and infinitely above the nadir 0 mm",
    );
}

#[test]
fn split_and_coalesced_lesions() {
    // A lesion that splits: the fragments are added (RECIST 1.1 §4.3.2): 40 → 15 + 12 = 27 mm.
    check(
        &["T1:liver:target"],
        &[("BL", -5, "T1=40"), ("W8", 56, "T1=split:15+12")],
        "PR",
        "sum 27 mm is 32.5 % below baseline 40 mm",
    );
    // Coalesced lesions: T1 merged into T2, whose diameter covers both (T1 counts 0 mm):
    // 30 + 20 = 50 → 0 + 55 = 55 mm, +5 mm but +10 %: SD.
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=merged:T2 T2=55")], "SD", "sum 55 mm");
    // The partner not evaluated: the merged lesion cannot be counted either.
    check(TWO, &[("BL", -5, "T1=30 T2=20"), ("W8", 56, "T1=merged:T2 T2=ne")], "NE", "T1, T2 not evaluated");
}

#[test]
fn non_target_progression_and_new_lesions() {
    let lesions = &["T1:liver:target", "B1:bone:non_target"];
    check(lesions, &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=15 B1=pd")], "PD", "unequivocal progression of B1");
    check(lesions, &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=15 B1=present +NL1")], "PD", "new lesions → PD");
    check(lesions, &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=15 B1=ne")], "PR", "non-target NE");
    // Non-target disease only (Table 2).
    check(&["B1:bone:non_target"], &[("BL", -5, "B1=present"), ("W8", 56, "B1=present")], "non-CR/non-PD", "Table 2");
    check(&["B1:bone:non_target"], &[("BL", -5, "B1=present"), ("W8", 56, "B1=absent")], "CR", "Table 2");
    // After an overall CR, a non-target lesion present again is PD (EORTC RECIST 1.1 FAQ).
    check(
        lesions,
        &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=gone B1=absent"), ("W16", 112, "T1=gone B1=present")],
        "CR PD",
        "after a CR at the previous time point, B1 present again",
    );
    // Without a previous CR, presence is non-CR/non-PD.
    check(
        lesions,
        &[("BL", -5, "T1=30 B1=present"), ("W8", 56, "T1=gone B1=present"), ("W16", 112, "T1=gone B1=present")],
        "PR PR",
        "non-CR/non-PD (RECIST 1.1 §4.3.3): B1 present",
    );
}

#[test]
fn equivocal_new_lesions_are_back_dated_when_confirmed() {
    // RECIST 1.1 §4.3.5: an equivocal new lesion at W8 confirmed at W16 → PD dated W8.
    let lesions = &["T1:liver:target"];
    let time_points = &[("BL", -5, "T1=30"), ("W8", 56, "T1=28 ?NL1"), ("W16", 112, "T1=27 +NL1")];
    check(lesions, time_points, "PD PD", "new lesions → PD");
    let assessment = assess(&patient(lesions, time_points));
    let series = &assessment.readers[0].recist;
    let w8 = &series.time_points[0];
    assert_eq!(w8.as_read.code(), "SD");
    assert!(w8.back_dated.as_ref().unwrap().contains("equivocal new lesion NL1 seen here was confirmed"), "{w8:?}");
    assert_eq!(series.progression.as_ref().unwrap().date, day(56));
    assert_eq!(series.best_unconfirmed.response.code(), "PD");

    // Never confirmed: no progression.
    check(lesions, &[("BL", -5, "T1=30"), ("W8", 56, "T1=28 ?NL1"), ("W16", 112, "T1=27")], "SD SD", "no new lesions");
    // Another lesion confirmed later does not back-date NL1.
    let assessment =
        assess(&patient(lesions, &[("BL", -5, "T1=30"), ("W8", 56, "T1=28 ?NL1"), ("W16", 112, "T1=27 +NL2")]));
    assert_eq!(responses(&assessment), "SD PD");
}
