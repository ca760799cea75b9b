//! Trial plots drawn from real estimates: the numbers printed are the estimates' numbers.

use cryoseed_core::protocol::KmCiTransform;
use cryoseed_report::*;
use cryoseed_stats::{CompetingRisksData, SurvivalData, aalen_johansen, kaplan_meier};

fn km(times: &[f64], events: &[bool]) -> cryoseed_stats::KaplanMeier {
    kaplan_meier(&SurvivalData::new(times.to_vec(), events.to_vec()).unwrap(), KmCiTransform::LogLog, 0.95).unwrap()
}

#[test]
fn km_plot_prints_numbers_at_risk_from_the_estimate() {
    // Ten subjects; at t = 4 those with time ≥ 4 are at risk: 7.
    let a = km(
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
        &[true, false, true, true, false, true, true, false, true, true],
    );
    assert_eq!(at_risk(&a, 4.0), 7);
    assert_eq!(at_risk(&a, 10.5), 0);
    let b = km(&[2.0, 4.0, 6.0, 8.0, 10.0, 12.0], &[true, true, false, true, false, false]);
    let groups = [KmGroup { label: "Control".into(), km: &a }, KmGroup { label: "Experimental".into(), km: &b }];
    let svg = km_svg(&groups, "Months", "LPFS", "LPFS by arm").to_svg();
    assert_eq!(svg, km_svg(&groups, "Months", "LPFS", "LPFS by arm").to_svg());
    assert!(svg.contains("Number at risk"));
    assert!(svg.contains("Control (n=10, events=7)"));
    assert!(svg.contains("Experimental (n=6, events=3)"));
    // One confidence band per group.
    assert_eq!(svg.matches("fill=\"#0072B2\" fill-opacity=\"0.2\"").count(), 1);
    assert_eq!(svg.matches("fill=\"#D55E00\" fill-opacity=\"0.2\"").count(), 1);
}

#[test]
fn cif_forest_waterfall_swimmer_spider_and_consort_render() {
    let data = CompetingRisksData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![1, 2, 0, 1, 1, 0]).unwrap();
    let cif = aalen_johansen(&data, 1, 0.95).unwrap();
    let svg = cif_svg(&[("Experimental".into(), &cif)], "Months", "LTP with death competing").to_svg();
    assert!(svg.contains("Cumulative incidence"));

    let rows = vec![
        ForestRow { label: "All".into(), estimate: 0.5, lower: 0.3, upper: 0.85, text: None },
        ForestRow { label: "ECOG 2".into(), estimate: 0.7, lower: 0.2, upper: 2.4, text: None },
    ];
    let svg = forest_svg(&rows, 1.0, true, "Hazard ratio", "LPFS by subgroup").to_svg();
    assert!(svg.contains("0.5 (0.3–0.85)"));
    assert!(svg.contains("ECOG 2"));

    let bars = vec![
        WaterfallBar { label: "P1".into(), percent_change: -45.0, group: 0 },
        WaterfallBar { label: "P2".into(), percent_change: 25.0, group: 1 },
    ];
    let svg = waterfall_svg(&bars, &["Experimental".into(), "Control".into()], "Best response").to_svg();
    assert!(svg.contains("+20 % (PD)"));
    assert_eq!(svg.matches("<rect").count(), 1 + 2 + 2, "background, two bars, two legend keys");

    let lanes = vec![SwimmerLane {
        label: "P1".into(),
        length: 12.0,
        group: 0,
        events: vec![(2.0, "PR".into()), (9.0, "LTP".into())],
        ongoing: true,
    }];
    let svg = swimmer_svg(&lanes, "Months", "Patient course").to_svg();
    assert!(svg.contains(">PR<") && svg.contains(">LTP<"));

    let svg = spider_svg(
        &[SpiderLine { group: 0, points: vec![(0.0, 0.0), (2.0, -35.0)] }],
        &["Experimental".into()],
        "Months",
        "Target sum",
    )
    .to_svg();
    assert!(svg.contains("<polyline"));

    let c = Consort {
        screened: 120,
        excluded: vec![("ECOG > 2".into(), 12), ("no bulky lesion".into(), 18)],
        randomized: 90,
        arms: vec![
            ConsortArm {
                label: "experimental".into(),
                allocated: 45,
                treated: 44,
                lost: 1,
                discontinued: 2,
                analysed: 44,
            },
            ConsortArm { label: "control".into(), allocated: 45, treated: 45, lost: 0, discontinued: 1, analysed: 45 },
        ],
    };
    let svg = consort_svg(&c).to_svg();
    assert!(svg.contains("Assessed for eligibility (n = 120)"));
    assert!(svg.contains("Excluded (n = 30)"));
    assert!(svg.contains("Allocated to experimental (n = 45)"));
}
