//! Tumour burden at the protocol months (3 and 6, window ± 28 days), zonal response of the bulky
//! lesion and patterns of failure. Exact arithmetic on the given numbers (tolerance 1e-9 for
//! percentages, floating-point rounding only).

use crate::assess;
use crate::dsl::{day, patient};
use cryoseed_core::Zone;
use cryoseed_response::FailureSite;

const LESIONS: &[&str] = &["T1:liver:target:treated=0:bulky", "T2:lung:target", "T3:lung:target", "B1:bone:non_target"];

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

#[test]
fn burden_at_protocol_months() {
    // 3 months = 91.3 days → day 91; 6 months = day 183. W13 at day 84 (7 days off) and W26 at
    // day 200 (17 days off) are within ± 28 days.
    let a = assess(&patient(
        LESIONS,
        &[
            ("BL", -5, "T1=80!vol=200!core=120!margin=80 T2=20 T3=20 B1=present"),
            ("W6", 42, "T1=80!vol=220!core=130!margin=90!nonenh=60 T2=20 T3=20 B1=present"),
            ("W13", 84, "T1=60!vol=150!core=60!margin=88!nonenh=75 T2=15 T3=15 B1=present"),
            ("W26", 200, "T1=50!vol=100!core=30!margin=70 T2=10 T3=ne B1=present"),
        ],
    ));
    let burden = &a.readers[0].burden;
    let three = &burden.at_protocol_months[0];
    assert_eq!(three.time_point.as_ref().unwrap().0, "W13");
    assert_eq!(three.nominal_date, day(91));
    // SLD 120 → 90 mm: −25 %; bulky volume 200 → 150 mL: −25 %.
    assert!(close(three.sum_change.map(|p| p.value()), -25.0), "{three:?}");
    assert!(close(three.bulky_volume_change.map(|p| p.value()), -25.0));
    assert!(three.reason.contains("7 days away (window ± 28 days)"), "{}", three.reason);
    let six = &burden.at_protocol_months[1];
    assert_eq!(six.time_point.as_ref().unwrap().0, "W26");
    // T3 not evaluated: no SLD change, but the bulky volume is there (−50 %).
    assert_eq!(six.sum_change, None);
    assert!(close(six.bulky_volume_change.map(|p| p.value()), -50.0));

    // Zonal response at W13: core 120 → 60 (−50 %), margin 80 → 88 (+10 %), 75 % non-enhancing.
    let w13 = burden.series.iter().find(|p| p.label == "W13").unwrap();
    assert!(close(w13.core_volume_change.map(|p| p.value()), -50.0));
    assert!(close(w13.margin_volume_change.map(|p| p.value()), 10.0));
    assert!(close(w13.non_enhancing.map(|p| p.value()), 75.0));
}

#[test]
fn no_assessment_in_the_window() {
    let a = assess(&patient(
        LESIONS,
        &[("BL", -5, "T1=80 T2=20 T3=20 B1=present"), ("W6", 42, "T1=80 T2=20 T3=20 B1=present")],
    ));
    let three = &a.readers[0].burden.at_protocol_months[0];
    assert_eq!(three.time_point, None);
    assert!(three.reason.contains("no assessment within ± 28 days of 3 months (2026-04-11)"), "{}", three.reason);
}

#[test]
fn patterns_of_failure() {
    let a = assess(&patient(
        LESIONS,
        &[
            ("BL", -5, "T1=80 T2=20 T3=20 B1=present"),
            ("W6", 42, "T1=70 T2=14 T3=20 B1=present"),
            ("W14", 98, "T1=70 T2=20 T3=20 B1=present ?NL1"),
            ("W22", 154, "T1=70!enh!zone=core T2=20 T3=20 B1=pd +NL1"),
        ],
    ));
    let failures = &a.readers[0].failures;
    let summary: Vec<String> = failures.events.iter().map(|e| format!("{} {}", e.site.kind(), e.label)).collect();
    // T2 (untreated) grew 14 → 20 mm (+6 mm, +43 %) at W14; NL1 dated from its equivocal sighting at
    // W14; T1 (bulky, treated) LTP at W22 in the core; B1 unequivocal progression at W22.
    assert_eq!(summary, ["untreated lesion W14", "new lesion W14", "treated lesion W22", "untreated lesion W22"]);
    assert_eq!(failures.first_kinds(), ["untreated lesion", "new lesion"]);
    assert_eq!(failures.first_systemic().unwrap().date, day(98));
    assert!(matches!(
        &failures.events[2].site,
        FailureSite::TreatedLesion { is_bulky_index: true, zone: Some(Zone::Core), .. }
    ));
}
