//! Local tumour progression per PROTOCOL.md "Response and endpoints" with the shipped protocol
//! (growth ≥ 20 % and ≥ 5 mm over the post-treatment nadir), residual tumour kept apart, date of
//! first evidence. Exact.

use crate::assess;
use crate::dsl::{day, patient};
use cryoseed_core::Zone;
use cryoseed_response::{LocalStatus, LtpAssessment};

/// Reader 1's LTP assessment of T1 (treated on day 0).
fn t1(time_points: &[(&str, i32, &str)]) -> LtpAssessment {
    let assessment = assess(&patient(&["T1:liver:target:treated=0:bulky", "T2:lung:target"], time_points));
    assessment.readers[0].local.iter().find(|l| l.lesion_id.as_str() == "T1").unwrap().clone()
}

/// `expected`: `none`, or the day of first evidence; `criterion` must appear among the reasons.
#[track_caller]
fn check(time_points: &[(&str, i32, &str)], expected: Option<i32>, criterion: &str) {
    let ltp = t1(time_points);
    match expected {
        None => assert!(ltp.progression.is_none(), "{ltp:#?}"),
        Some(d) => {
            let p = ltp.progression.as_ref().unwrap_or_else(|| panic!("no LTP: {ltp:#?}"));
            assert_eq!(p.date, day(d), "{p:#?}");
            assert!(p.criteria.iter().any(|c| c.contains(criterion)), "{:?}", p.criteria);
        }
    }
}

const BL: (&str, i32, &str) = ("BL", -5, "T1=40 T2=20");

#[test]
fn growth_over_the_post_treatment_nadir() {
    // Ablation zone 30 → 25 (nadir) → 30: +5 mm and +20 % exactly → LTP at W24.
    check(
        &[BL, ("W6", 42, "T2=20 T1=40!az=30"), ("W16", 112, "T2=20 T1=40!az=25"), ("W24", 168, "T2=20 T1=40!az=30")],
        Some(168),
        "growth to 30 mm, 5 mm and 20.0 % over the post-treatment nadir 25 mm",
    );
    // +5 mm but only +16.7 % over 30 mm: no LTP.
    check(&[BL, ("W6", 42, "T2=20 T1=40!az=30"), ("W16", 112, "T2=20 T1=40!az=35")], None, "");
    // +25 % but +4 mm over 16 mm: no LTP.
    check(&[BL, ("W6", 42, "T2=20 T1=40!az=16"), ("W16", 112, "T2=20 T1=40!az=20")], None, "");
    // The reference starts at the first post-treatment scan, not at the (larger) baseline: with no
    // ablation-zone diameter the RECIST diameter of the non-nodal target is used, 20 → 26 mm.
    check(&[BL, ("W6", 42, "T1=20 T2=20"), ("W16", 112, "T1=26 T2=20")], Some(112), "growth to 26 mm, 6 mm and 30.0 %");
}

#[test]
fn flags_biopsy_and_reintervention() {
    check(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!enh")], Some(112), "enhancing tissue");
    check(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!bx")], Some(112), "biopsy-proven");
    check(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!reint")], Some(112), "re-intervention");
    // The first evidence counts: later time points stay in progression.
    let ltp = t1(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!enh"), ("W24", 168, "T1=29 T2=20")]);
    let statuses: Vec<LocalStatus> = ltp.time_points.iter().map(|t| t.status).collect();
    assert_eq!(statuses, [LocalStatus::Controlled, LocalStatus::Progression, LocalStatus::Progression]);
}

#[test]
fn residual_tumour_at_the_first_scan_is_not_progression() {
    let ltp = t1(&[BL, ("W6", 42, "T2=20 T1=30!enh"), ("W16", 112, "T1=30 T2=20")]);
    assert!(ltp.progression.is_none());
    let residual = ltp.residual.as_ref().unwrap();
    assert_eq!(residual.date, day(42));
    assert!(residual.reason.contains("not local progression"), "{}", residual.reason);
    assert_eq!(ltp.time_points[0].status, LocalStatus::Residual);
    // Enhancement at a later scan is LTP.
    check(&[BL, ("W6", 42, "T2=20 T1=30!res"), ("W16", 112, "T2=20 T1=30!enh")], Some(112), "enhancing");
}

#[test]
fn scans_before_treatment_do_not_count() {
    // Treated on day 0; the baseline (day −5) is not a post-treatment scan.
    let ltp = t1(&[BL, ("W6", 42, "T1=30 T2=20")]);
    assert_eq!(ltp.time_points.len(), 1);
    assert_eq!(ltp.treated_on, day(0));
}

#[test]
fn failure_zone_of_the_bulky_lesion() {
    let ltp = t1(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!enh!zone=margin")]);
    assert_eq!(ltp.progression.unwrap().zone, Some(Zone::Margin));
    // Inferred from zonal volumes: margin +50 %, core −10 % over their post-treatment nadirs.
    let ltp = t1(&[BL, ("W6", 42, "T2=20 T1=30!core=50!margin=40"), ("W16", 112, "T2=20 T1=30!core=45!margin=60!enh")]);
    let p = ltp.progression.unwrap();
    assert_eq!(p.zone, Some(Zone::Margin));
    assert!(p.zone_reason.unwrap().contains("core volume -10.0 % and margin volume +50.0 %"));
}

/// LCR at 6 months (PROTOCOL.md): completion of protocol therapy is day 0 here, so the nominal
/// date is day 183 (6 × 30.4375 = 182.6 days, rounded) and the window days 155–211.
#[track_caller]
fn check_lcr(time_points: &[(&str, i32, &str)], expected: &str, reason: &str) {
    let assessment = assess(&patient(&["T1:liver:target:treated=0:bulky", "T2:lung:target"], time_points));
    let verdict = &assessment.readers[0].local_control[0];
    assert_eq!(verdict.nominal_date, day(183));
    let status = match verdict.status {
        cryoseed_response::LocalControl::Controlled { .. } => "controlled",
        cryoseed_response::LocalControl::Failure { .. } => "failure",
        cryoseed_response::LocalControl::NotEvaluable => "not evaluable",
    };
    assert_eq!(status, expected, "{}", verdict.reason);
    assert!(verdict.reason.contains(reason), "{}", verdict.reason);
}

#[test]
fn local_control_at_6_months() {
    check_lcr(&[BL, ("W6", 42, "T1=30 T2=20"), ("M6", 180, "T1=29 T2=20")], "controlled", "no LTP at M6");
    // The window edge: day 211 is inside, day 212 is not.
    check_lcr(&[BL, ("W6", 42, "T1=30 T2=20"), ("M7", 211, "T1=29 T2=20")], "controlled", "2026-07-12 ± 28 days");
    check_lcr(&[BL, ("W6", 42, "T1=30 T2=20"), ("M7", 212, "T1=29 T2=20")], "not evaluable", "no evaluated assessment");
    // LTP before the window is a failure, even without an assessment in the window.
    check_lcr(&[BL, ("W6", 42, "T1=30 T2=20"), ("W16", 112, "T2=20 T1=30!enh")], "failure", "LTP at W16");
    // LTP after the window closes does not undo the control seen in it.
    check_lcr(
        &[BL, ("W6", 42, "T1=30 T2=20"), ("M6", 183, "T1=30 T2=20"), ("M9", 270, "T2=20 T1=30!enh")],
        "controlled",
        "no LTP at M6",
    );
}
