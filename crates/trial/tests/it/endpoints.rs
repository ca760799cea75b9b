//! Endpoint derivation (PROTOCOL.md "Response and endpoints"), one line per case: an edit of a
//! complete record of one patient and the analysis values a statistician would see. Expected days
//! are calendar differences (checked with Python's `datetime`): randomization 2027-01-01,
//! completion of therapy 2027-01-10, LCR nominal date 2027-07-12 (183 days = round(6 × 30.4375)),
//! window 2027-06-14..2027-08-09, LPFS horizon 2028-01-01 (365 days), OS horizon 2029-01-01.

use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Arm, Ecog, Gy, LesionId, Modality, PatientId, SiteId};
use cryoseed_response::{Date, LocalControl, OverallResponse};
use cryoseed_trial::endpoints::{
    AnalysisDatasets, Endpoint, EventStatus, LcrOutcome, LesionVerdict, PatientRecord, ResponseVerdicts, TechnicalQa,
    TechnicalSuccess, TreatedLesion, derive, derive_patient,
};
use cryoseed_trial::randomization::Stratum;

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn lesion(id: &str, bulky: bool, modalities: &[Modality]) -> TreatedLesion {
    TreatedLesion {
        lesion_id: LesionId::parse(id).unwrap(),
        is_bulky_index: bulky,
        modalities: modalities.to_vec(),
        treated_on: d("2027-01-10"),
        qa: Some(TechnicalQa {
            assessed_on: d("2027-01-13"),
            seed_d90: Some(Gy(130.0)),
            seed_prescription: Some(Gy(110.0)),
            lethal_isotherm_covered: Some(true),
        }),
    }
}

const FOLLOW_UP: [&str; 5] = ["2027-02-15", "2027-04-15", "2027-07-10", "2027-10-01", "2028-01-05"];

fn verdict(id: &str, bulky: bool) -> LesionVerdict {
    LesionVerdict {
        lesion_id: LesionId::parse(id).unwrap(),
        is_bulky_index: bulky,
        ltp_on: None,
        assessed_on: FOLLOW_UP.iter().map(|s| d(s)).collect(),
        local_control: LocalControl::Controlled { time_point: ("M6".into(), d("2027-07-10")) },
    }
}

/// A patient in follow-up for 17 months without any event.
fn base() -> (PatientRecord, ResponseVerdicts) {
    let record = PatientRecord {
        patient_id: PatientId::parse("P-001").unwrap(),
        site_id: SiteId::parse("SITE-01").unwrap(),
        arm: Arm::Experimental,
        stratum: Stratum { site_id: Some(SiteId::parse("SITE-01").unwrap()), ecog_group: 0 },
        ecog: Ecog::new(1).unwrap(),
        randomized_on: d("2027-01-01"),
        therapy_completed_on: Some(d("2027-01-10")),
        death_on: None,
        last_contact_on: d("2028-06-01"),
        withdrawn_on: None,
        treated_lesions: vec![
            lesion("L1", true, &[Modality::Seeds, Modality::Cryo]),
            lesion("L2", false, &[Modality::Cryo]),
        ],
        reinterventions: vec![],
    };
    let responses =
        [OverallResponse::Pr, OverallResponse::Pr, OverallResponse::Sd, OverallResponse::Sd, OverallResponse::Sd];
    let verdicts = ResponseVerdicts {
        time_points: FOLLOW_UP.iter().zip(responses).map(|(s, r)| (d(s), r)).collect(),
        best_confirmed: Some((d("2027-04-15"), OverallResponse::Pr)),
        recist_progression_on: None,
        systemic_progression_on: None,
        lesions: vec![verdict("L1", true), verdict("L2", false)],
        burden: vec![],
    };
    (record, verdicts)
}

type Edit = fn(&mut PatientRecord, &mut ResponseVerdicts);

fn derived(edit: Edit) -> AnalysisDatasets {
    let (mut p, mut v) = base();
    edit(&mut p, &mut v);
    derive_patient(&p, &v, &Protocol::shipped()).unwrap()
}

/// Checks one time-to-event row: days from randomization, status (0/1/2), reason fragment.
fn check_tte(edit: Edit, endpoint: Endpoint, days: f64, status: EventStatus, fragment: &str) {
    let out = derived(edit);
    let row = out.time_to_event.iter().find(|r| r.endpoint == endpoint).unwrap();
    assert_eq!((row.time.value(), row.status), (days, status), "{} ({})", endpoint.code(), row.reason);
    assert!(row.reason.contains(fragment), "{}: expected {fragment:?} in {:?}", endpoint.code(), row.reason);
}

use EventStatus::{Censored, Competing, Event};

#[test]
fn time_to_event_rows() {
    use Endpoint::*;
    // No event: LPFS follow-up ran past the 12-month horizon; OS censored at last contact.
    check_tte(|_, _| {}, Lpfs, 365.0, Censored, "follow-up horizon 2028-01-01");
    check_tte(|_, _| {}, Pfs, 369.0, Censored, "last adequate assessment on 2028-01-05");
    check_tte(|_, _| {}, Ttsp, 369.0, Censored, "last adequate assessment");
    check_tte(|_, _| {}, TtspCompeting, 369.0, Censored, "last adequate assessment");
    check_tte(|_, _| {}, Os, 517.0, Censored, "last contact on 2028-06-01");
    // LTP of the bulky lesion is the LPFS event; LTP of another lesion is not.
    check_tte(|_, v| v.lesions[0].ltp_on = Some(d("2027-10-01")), Lpfs, 273.0, Event, "LTP of bulky lesion L1");
    check_tte(|_, v| v.lesions[1].ltp_on = Some(d("2027-10-01")), Lpfs, 365.0, Censored, "horizon");
    // LTP after the 12-month horizon: censored at the horizon.
    check_tte(|_, v| v.lesions[0].ltp_on = Some(d("2028-01-05")), Lpfs, 365.0, Censored, "horizon");
    // Death before the 6-month window: event for LPFS, PFS and OS, censors TTSP, competes in TTSP_CR.
    fn died(p: &mut PatientRecord, v: &mut ResponseVerdicts) {
        p.death_on = Some(d("2027-05-01"));
        p.last_contact_on = d("2027-05-01");
        v.time_points.truncate(2);
        for l in &mut v.lesions {
            l.assessed_on.truncate(2);
            l.local_control = LocalControl::NotEvaluable;
        }
    }
    check_tte(died, Lpfs, 120.0, Event, "death on 2027-05-01");
    check_tte(died, Pfs, 120.0, Event, "death on 2027-05-01");
    check_tte(died, Os, 120.0, Event, "death");
    check_tte(died, Ttsp, 104.0, Censored, "last adequate assessment on 2027-04-15 (died on 2027-05-01)");
    check_tte(died, TtspCompeting, 120.0, Competing, "death on 2027-05-01 without systemic progression");
    // Lost to follow-up after the second scan.
    fn lost(p: &mut PatientRecord, v: &mut ResponseVerdicts) {
        p.withdrawn_on = Some(d("2027-04-20"));
        p.last_contact_on = d("2027-04-20");
        v.time_points.truncate(2);
        for l in &mut v.lesions {
            l.assessed_on.truncate(2);
            l.local_control = LocalControl::NotEvaluable;
        }
    }
    check_tte(lost, Lpfs, 104.0, Censored, "2027-04-15 (withdrawn or lost to follow-up on 2027-04-20)");
    check_tte(lost, Os, 109.0, Censored, "last contact on 2027-04-20 (withdrawn");
    // PFS: RECIST progression, and death after it does not move the event.
    check_tte(
        |p, v| {
            v.recist_progression_on = Some(d("2027-10-01"));
            p.death_on = Some(d("2028-03-01"));
            p.last_contact_on = d("2028-03-01");
        },
        Pfs,
        273.0,
        Event,
        "RECIST progression on 2027-10-01",
    );
    // A not-evaluable scan (NE) is not an adequate assessment.
    check_tte(|_, v| v.time_points[4].1 = OverallResponse::Ne, Pfs, 273.0, Censored, "2027-10-01");
    // Systemic progression, and death after it: TTSP event either way.
    check_tte(|_, v| v.systemic_progression_on = Some(d("2027-07-10")), Ttsp, 190.0, Event, "systemic progression");
    check_tte(
        |p, v| {
            v.systemic_progression_on = Some(d("2027-07-10"));
            p.death_on = Some(d("2027-12-01"));
            p.last_contact_on = d("2027-12-01");
            v.time_points.truncate(4);
            v.lesions.iter_mut().for_each(|l| l.assessed_on.truncate(4));
        },
        TtspCompeting,
        190.0,
        Event,
        "systemic progression on 2027-07-10",
    );
    // No follow-up scan at all: censored at randomization (time 0) with the reason.
    check_tte(
        |_, v| {
            v.time_points.clear();
            v.lesions.iter_mut().for_each(|l| l.assessed_on.clear());
        },
        Lpfs,
        0.0,
        Censored,
        "no adequate assessment",
    );
    // OS beyond 24 months: censored at the horizon.
    check_tte(|p, _| p.last_contact_on = d("2029-06-01"), Os, 731.0, Censored, "horizon 2029-01-01");
}

/// Checks the bulky lesion's LCR row: primary, non-evaluable-as-failure, competing status, reason.
fn check_lcr(edit: Edit, primary: LcrOutcome, sensitivity: LcrOutcome, competing: EventStatus, fragment: &str) {
    let out = derived(edit);
    let row = &out.lesions[0];
    assert_eq!((row.window.0, row.window.1, row.nominal_date), (d("2027-06-14"), d("2027-08-09"), d("2027-07-12")));
    assert_eq!(
        (row.primary, row.non_evaluable_as_failure, row.competing_status),
        (primary, sensitivity, competing),
        "{}",
        row.reason
    );
    assert!(row.reason.contains(fragment), "expected {fragment:?} in {:?}", row.reason);
}

#[test]
fn local_control_at_six_months_in_three_codings() {
    use LcrOutcome::{Controlled, Failure, NotEvaluable};
    check_lcr(|_, _| {}, Controlled, Controlled, Censored, "free of LTP at M6 on 2027-07-10");
    check_lcr(
        |_, v| {
            v.lesions[0].ltp_on = Some(d("2027-04-15"));
            v.lesions[0].local_control = LocalControl::Failure { date: d("2027-04-15") };
        },
        Failure,
        Failure,
        Event,
        "LTP on 2027-04-15",
    );
    check_lcr(
        |p, v| {
            p.death_on = Some(d("2027-05-01"));
            p.last_contact_on = d("2027-05-01");
            v.time_points.truncate(2);
            v.lesions.iter_mut().for_each(|l| l.assessed_on.truncate(2));
            v.lesions[0].local_control = LocalControl::NotEvaluable;
        },
        NotEvaluable,
        Failure,
        Competing,
        "died on 2027-05-01, before the window 2027-06-14..2027-08-09",
    );
    check_lcr(
        |p, v| {
            p.withdrawn_on = Some(d("2027-04-20"));
            p.last_contact_on = d("2027-04-20");
            v.time_points.truncate(2);
            v.lesions.iter_mut().for_each(|l| l.assessed_on.truncate(2));
            v.lesions[0].local_control = LocalControl::NotEvaluable;
        },
        NotEvaluable,
        Failure,
        Censored,
        "withdrawn or lost to follow-up on 2027-04-20",
    );
    check_lcr(
        |_, v| {
            v.lesions[0].assessed_on = vec![d("2027-02-15"), d("2027-04-15"), d("2027-08-20")];
            v.lesions[0].local_control = LocalControl::NotEvaluable;
        },
        NotEvaluable,
        Failure,
        Censored,
        "assessments outside the window 2027-06-14..2027-08-09 only (2027-02-15, 2027-04-15, 2027-08-20)",
    );
    check_lcr(
        |p, v| {
            p.last_contact_on = d("2027-05-20");
            v.time_points.truncate(2);
            v.lesions.iter_mut().for_each(|l| l.assessed_on.truncate(2));
            v.lesions[0].local_control = LocalControl::NotEvaluable;
        },
        NotEvaluable,
        Failure,
        Censored,
        "has not reached the window",
    );
    // Competing-risk time runs from completion of therapy (2027-01-10) to death (2027-05-01).
    let out = derived(|p, v| {
        p.death_on = Some(d("2027-05-01"));
        p.last_contact_on = d("2027-05-01");
        v.time_points.truncate(2);
        v.lesions.iter_mut().for_each(|l| l.assessed_on.truncate(2));
    });
    assert_eq!(out.lesions[0].competing_time.value(), 111.0);
}

#[test]
fn patient_rows_orr_technical_success_reintervention() {
    let patient = |edit: Edit| derived(edit).patients.remove(0);
    let base_row = patient(|_, _| {});
    assert!(base_row.objective_response && base_row.technical_success && !base_row.reintervention);
    assert_eq!(base_row.best_response_in_window, Some((d("2027-02-15"), OverallResponse::Pr)));
    assert_eq!(base_row.treated_lesions, 2);
    // PR only after 6 months (2027-07-03) does not count; PR after PD does not count.
    let late_pr = patient(|_, v| {
        v.time_points.iter_mut().take(3).for_each(|t| t.1 = OverallResponse::Sd);
        v.time_points[3].1 = OverallResponse::Pr;
    });
    assert!(!late_pr.objective_response);
    let after_pd = patient(|_, v| {
        v.time_points[0].1 = OverallResponse::Pd;
        v.recist_progression_on = Some(d("2027-02-15"));
    });
    assert!(!after_pd.objective_response);
    // CR ranks before PR.
    let cr = patient(|_, v| v.time_points[1].1 = OverallResponse::Cr);
    assert_eq!(cr.best_response_in_window, Some((d("2027-04-15"), OverallResponse::Cr)));
    // Re-intervention within 12 months of randomization.
    assert!(patient(|p, _| p.reinterventions = vec![d("2027-12-01")]).reintervention);
    assert!(!patient(|p, _| p.reinterventions = vec![d("2028-02-01")]).reintervention);

    let success = |edit: Edit| derived(edit).lesions[0].technical_success.clone();
    assert_eq!(success(|_, _| {}), TechnicalSuccess::Achieved);
    let check = |edit: Edit, fragment: &str| {
        let got = format!("{:?}", success(edit));
        assert!(got.contains(fragment), "expected {fragment:?} in {got}");
    };
    check(
        |p, _| p.treated_lesions[0].qa.as_mut().unwrap().seed_d90 = Some(Gy(100.0)),
        "NotAchieved(\"post-implant D90 100 Gy < prescription 110 Gy",
    );
    check(
        |p, _| p.treated_lesions[0].qa.as_mut().unwrap().lethal_isotherm_covered = Some(false),
        "NotAchieved(\"lethal isotherm did not cover",
    );
    check(
        |p, _| p.treated_lesions[0].qa.as_mut().unwrap().assessed_on = d("2027-01-19"),
        "NotAchieved(\"QA on 2027-01-19 is 9 days after the procedure (window 7 days)",
    );
    check(|p, _| p.treated_lesions[0].qa = None, "NotAssessed(\"no post-procedure QA");
    check(
        |p, _| p.treated_lesions[0].qa.as_mut().unwrap().seed_d90 = None,
        "NotAssessed(\"post-implant D90 or prescription missing",
    );
    // A cryo-only lesion needs no dose.
    assert_eq!(
        derived(|p, _| p.treated_lesions[1].qa.as_mut().unwrap().seed_d90 = None).lesions[1].technical_success,
        TechnicalSuccess::Achieved
    );
    assert!(!patient(|p, _| p.treated_lesions[0].qa = None).technical_success);
}

#[test]
fn inconsistent_records_are_refused_naming_the_field() {
    let check = |edit: Edit, fragment: &str| {
        let (mut p, mut v) = base();
        edit(&mut p, &mut v);
        let err = derive_patient(&p, &v, &Protocol::shipped()).unwrap_err().to_string();
        assert!(err.contains(fragment), "expected {fragment:?} in {err:?}");
    };
    check(
        |p, _| p.death_on = Some(d("2026-12-01")),
        "patient P-001, death_on: 2026-12-01 is before randomization on 2027-01-01",
    );
    check(|p, _| p.death_on = Some(d("2027-12-01")), "last_contact_on: 2028-06-01 is after death on 2027-12-01");
    check(
        |p, _| {
            p.death_on = Some(d("2027-09-01"));
            p.last_contact_on = d("2027-09-01");
        },
        "assessments: an assessment on 2027-10-01 is after death on 2027-09-01",
    );
    check(
        |p, _| p.treated_lesions[1].treated_on = d("2026-12-30"),
        "treated_lesions[1].treated_on: 2026-12-30 is before randomization",
    );
    check(
        |_, v| v.recist_progression_on = Some(d("2026-12-20")),
        "recist_progression_on: 2026-12-20 is before randomization",
    );
    check(
        |p, _| p.last_contact_on = d("2027-12-01"),
        "last_contact_on: 2027-12-01 is before the assessment on 2028-01-05 (time_points)",
    );
    check(
        |p, _| p.treated_lesions.truncate(1),
        "lesions: a verdict for lesion L2 which is not among the patient's treated lesions",
    );
    check(|p, _| p.treated_lesions[1].is_bulky_index = true, "more than one bulky index lesion");
    let (p, v) = base();
    let err = derive(&[(p.clone(), v.clone()), (p, v)], &Protocol::shipped()).unwrap_err();
    assert!(err.to_string().contains("patient_id: appears twice"));
}

#[test]
fn a_trial_gives_one_row_per_patient_per_endpoint_and_per_lesion() {
    let (p1, v1) = base();
    let (mut p2, v2) = base();
    p2.patient_id = PatientId::parse("P-002").unwrap();
    p2.arm = Arm::Control;
    let out = derive(&[(p1, v1), (p2, v2)], &Protocol::shipped()).unwrap();
    assert_eq!((out.patients.len(), out.time_to_event.len(), out.lesions.len()), (2, 10, 4));
    assert_eq!(out.time_to_event.iter().filter(|r| r.arm == Arm::Control).count(), 5);
    assert!(out.time_to_event.iter().all(|r| r.status.code() <= 2));
}

/// The accepted verdicts of `response` feed the derivation unchanged: the readers' example file of
/// `crates/response` is assessed, and every lesion row and the LPFS/PFS events are the accepted
/// reader's verdicts (dates and local-control status) for each patient with an accepted reading.
#[test]
fn accepted_response_verdicts_flow_into_the_analysis_rows() {
    let protocol = Protocol::shipped();
    let json = include_str!("../../../response/examples/assessments.json");
    let (inputs, _) = cryoseed_response::format::parse_assessments(json).unwrap();
    let mut checked = 0;
    for input in &inputs {
        let assessment = cryoseed_response::assess_patient(input, &protocol);
        let Some(accepted) = assessment.accepted() else { continue };
        let verdicts = ResponseVerdicts::from_accepted(accepted);
        let first_treatment = accepted.local.iter().map(|l| l.treated_on).min().unwrap();
        let completion = accepted.local.iter().map(|l| l.treated_on).max().unwrap();
        let last_scan = verdicts.time_points.iter().map(|t| t.0).max().unwrap_or(completion);
        let record = PatientRecord {
            patient_id: assessment.patient_id.clone(),
            site_id: SiteId::parse("SITE-01").unwrap(),
            arm: Arm::Experimental,
            stratum: Stratum { site_id: Some(SiteId::parse("SITE-01").unwrap()), ecog_group: 0 },
            ecog: Ecog::new(1).unwrap(),
            randomized_on: first_treatment.plus_days(-7),
            therapy_completed_on: Some(completion),
            death_on: None,
            last_contact_on: last_scan,
            withdrawn_on: None,
            treated_lesions: accepted
                .local
                .iter()
                .map(|l| TreatedLesion {
                    lesion_id: l.lesion_id.clone(),
                    is_bulky_index: l.is_bulky_index,
                    modalities: vec![Modality::Cryo],
                    treated_on: l.treated_on,
                    qa: None,
                })
                .collect(),
            reinterventions: vec![],
        };
        let out = derive_patient(&record, &verdicts, &protocol).unwrap();
        assert_eq!(out.lesions.len(), accepted.local_control.len());
        for (row, v) in out.lesions.iter().zip(&accepted.local_control) {
            assert_eq!(row.lesion_id, v.lesion_id);
            let expected = match v.status {
                LocalControl::Controlled { .. } => LcrOutcome::Controlled,
                LocalControl::Failure { .. } => LcrOutcome::Failure,
                LocalControl::NotEvaluable => LcrOutcome::NotEvaluable,
            };
            assert_eq!(row.primary, expected, "{} {}", assessment.patient_id, row.reason);
            assert_eq!(row.nominal_date, v.nominal_date, "same 6-month date as response");
        }
        let pfs = out.time_to_event.iter().find(|r| r.endpoint == Endpoint::Pfs).unwrap();
        assert_eq!(pfs.status == Event, accepted.recist.progression.is_some());
        if let Some(p) = &accepted.recist.progression {
            assert_eq!(pfs.date, p.date);
        }
        assert_eq!(out.burden.len(), accepted.burden.at_protocol_months.len());
        for (row, b) in out.burden.iter().zip(&accepted.burden.at_protocol_months) {
            assert_eq!(
                (row.months, row.sum_change, row.bulky_volume_change),
                (b.months, b.sum_change, b.bulky_volume_change)
            );
        }
        let lpfs = out.time_to_event.iter().find(|r| r.endpoint == Endpoint::Lpfs).unwrap();
        let bulky_ltp = accepted.local.iter().find(|l| l.is_bulky_index).and_then(|l| l.progression.as_ref());
        if let Some(ltp) = bulky_ltp {
            assert_eq!((lpfs.status, lpfs.date), (Event, ltp.date));
        }
        checked += 1;
    }
    assert!(checked >= 2, "the example has accepted readings for several patients ({checked})");
}
