//! CDISC exports of a stored trial: SDTM (SDTMIG v3.4) domains DM, EX, PR, TU, TR, RS, AE, DS,
//! SV, TS and ADaM (ADaMIG v1.3) datasets ADSL, ADTTE, ADRS, ADAE, as [`Table`]s (CSV, SAS
//! transport v5, define-like dictionary from one definition).
//!
//! Conventions (each also in the dictionary's codelist column):
//! - `USUBJID` = `STUDYID-SITEID-SUBJID`; `STUDYID` is the protocol's name in upper case.
//! - SDTM dates are ISO 8601 text (`--DTC`), study days (`--DY`) count from `RFSTDTC` (first
//!   protocol-therapy procedure, else randomization) with no day 0 (SDTMIG §4.4.4); ADaM dates
//!   (`*DT`) are numeric SAS dates (days since 1960-01-01).
//! - Tumour assessments follow the SDTMIG oncology domains with RECIST 1.1 controlled terminology:
//!   `TUTESTCD TUMIDENT` (`TARGET`, `NON-TARGET`, `NEW`), `TRTESTCD LDIAM` (longest diameter, mm),
//!   `SUMDIAM` (sum of diameters of target lesions), `VOLUME` (mL), `RSTESTCD OVRLRESP`
//!   (`CR`, `PR`, `SD`, `NON-CR/NON-PD`, `PD`, `NE`), `TRGRESP`, `NTRGRESP`, `BESTRESP`,
//!   `RSCAT "RECIST 1.1"`.
//! - Reader / adjudicator structure: every blinded read is its own record with
//!   `--EVAL "INDEPENDENT ASSESSOR"` and `--EVALID "RADIOLOGIST 1"` / `"RADIOLOGIST 2"` (readers
//!   in id order); `--ACPTFL "Y"` marks the accepted reader's records. An adjudicated patient also
//!   has RS records with `RSEVAL "ADJUDICATOR"`, `RSEVALID "ADJUDICATOR"`: the responses the
//!   adjudicator accepted.
//! - Not collected by the eCRF and therefore absent: sex (DM `SEX` is `U`, CDISC codelist SEX
//!   C66731), race, ethnicity, birth date. Age is the age at screening. DM `COUNTRY` is the
//!   patient's centre's country as the administrator recorded it (ISO 3166-1 alpha-3), empty for a
//!   centre whose country was never recorded.

use crate::dataset::{Cell, Spec, Table, num, text};
use crate::trial_input::{TrialInput, sas_date};
use cryoseed_core::{Arm, Modality};
use cryoseed_response::{NonTargetResponse, OverallResponse, TargetResponse};
use cryoseed_store::model::LesionRole;
use cryoseed_trial::ctcae::{Cause, SeriousCriterion};
use cryoseed_trial::endpoints::{Endpoint, EventStatus, LcrOutcome};
use serde_json::Value;

const ISO: &str = "ISO 8601 date";
const SASDATE: &str = "SAS date (days since 1960-01-01)";
const NY: &str = "NY (C66742): Y, N";
const RECIST: &str = "RECIST 1.1 response: CR, PR, SD, NON-CR/NON-PD, PD, NE";

/// SDTM arm code and description.
pub fn arm_code(arm: Arm) -> (&'static str, &'static str) {
    match arm {
        Arm::Experimental => ("EXP", "Lesion-allocated I-125 seeds + cryoablation"),
        Arm::Control => ("CTRL", "Single-modality local therapy (site)"),
    }
}

fn treatment_name(m: Modality) -> &'static str {
    match m {
        Modality::Seeds => "I-125 SEED IMPLANTATION",
        Modality::Cryo => "CRYOABLATION",
    }
}

/// The RECIST overall response in CDISC spelling.
pub fn overall_code(r: OverallResponse) -> &'static str {
    match r {
        OverallResponse::Cr => "CR",
        OverallResponse::Pr => "PR",
        OverallResponse::Sd => "SD",
        OverallResponse::NonCrNonPd => "NON-CR/NON-PD",
        OverallResponse::Pd => "PD",
        OverallResponse::Ne => "NE",
    }
}

fn target_code(r: TargetResponse) -> &'static str {
    match r {
        TargetResponse::Cr => "CR",
        TargetResponse::Pr => "PR",
        TargetResponse::Sd => "SD",
        TargetResponse::Pd => "PD",
        TargetResponse::Ne => "NE",
    }
}

fn non_target_code(r: NonTargetResponse) -> &'static str {
    match r {
        NonTargetResponse::Cr => "CR",
        NonTargetResponse::NonCrNonPd => "NON-CR/NON-PD",
        NonTargetResponse::Pd => "PD",
        NonTargetResponse::Ne => "NE",
    }
}

fn yn(b: bool) -> Cell {
    Cell::Text(if b { "Y" } else { "N" }.into())
}

fn organ_loc(organ: &str) -> String {
    organ.replace('_', " ").to_uppercase()
}

/// Reader code → `RADIOLOGIST n` (1-based, readers of the patient in id order).
fn eval_id(readers: &[String], reader: &str) -> String {
    readers
        .iter()
        .position(|r| r == reader)
        .map_or_else(|| "RADIOLOGIST".to_owned(), |i| format!("RADIOLOGIST {}", i + 1))
}

/// Renumbers `--SEQ` (column `seq`) 1, 2, … within each `USUBJID` (column 2) in row order.
fn number_seq(t: &mut Table, seq: &str) {
    let s = t.column(seq).expect("seq column");
    let u = t.column("USUBJID").expect("USUBJID column");
    let mut last = String::new();
    let mut n = 0.0;
    for row in &mut t.rows {
        let id = match &row[u] {
            Cell::Text(v) => v.clone(),
            Cell::Number(_) => String::new(),
        };
        if id != last {
            n = 0.0;
            last = id;
        }
        n += 1.0;
        row[s] = Cell::Number(Some(n));
    }
}

/// Sorts rows by USUBJID (stable), so `--SEQ` runs within a subject.
fn sort_by_subject(t: &mut Table) {
    let u = t.column("USUBJID").expect("USUBJID column");
    t.rows.sort_by(|a, b| match (&a[u], &b[u]) {
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    });
}

fn visit_numbers(input: &TrialInput<'_>) -> Vec<(String, f64)> {
    // Labels in the order of their mean study day across patients (screening first).
    let mut days: std::collections::BTreeMap<String, (f64, f64)> = std::collections::BTreeMap::new();
    for a in &input.doc.assessments {
        if let Some(dy) = input.study_day(&a.patient_id, &a.assessed_on) {
            let e = days.entry(a.label.clone()).or_insert((0.0, 0.0));
            e.0 += dy;
            e.1 += 1.0;
        }
    }
    let mut labels: Vec<(String, f64)> = days.into_iter().map(|(l, (s, n))| (l, s / n)).collect();
    labels.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut out = vec![("SCREENING".to_owned(), 1.0)];
    out.extend(labels.into_iter().enumerate().map(|(i, (l, _))| (l, (i + 2) as f64)));
    out
}

fn visitnum(visits: &[(String, f64)], label: &str) -> Option<f64> {
    visits.iter().find(|(l, _)| l == label).map(|(_, n)| *n)
}

/// The ten SDTM domains, in the order DM, EX, PR, TU, TR, RS, AE, DS, SV, TS.
pub fn sdtm(input: &TrialInput<'_>) -> Vec<Table> {
    vec![dm(input), ex(input), pr(input), tu(input), tr(input), rs(input), ae(input), ds(input), sv(input), ts(input)]
}

fn dm(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "DM",
        "Demographics",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            text("SUBJID", "Subject Identifier for the Study"),
            text("RFSTDTC", "Subject Reference Start Date/Time").coded(ISO),
            text("RFENDTC", "Subject Reference End Date/Time").coded(ISO),
            text("RFXSTDTC", "Date/Time of First Study Treatment").coded(ISO),
            text("RFXENDTC", "Date/Time of Last Study Treatment").coded(ISO),
            text("RFICDTC", "Date/Time of Informed Consent").coded(ISO),
            text("DTHDTC", "Date/Time of Death").coded(ISO),
            text("DTHFL", "Subject Death Flag").coded("NY (C66742): Y or null"),
            text("SITEID", "Study Site Identifier"),
            num("AGE", "Age"),
            text("AGEU", "Age Units").coded("AGEU (C66781): YEARS"),
            text("SEX", "Sex").coded("SEX (C66731): U (not collected)"),
            text("ARMCD", "Planned Arm Code").coded("EXP, CTRL"),
            text("ARM", "Description of Planned Arm"),
            text("ACTARMCD", "Actual Arm Code").coded("EXP, CTRL"),
            text("ACTARM", "Description of Actual Arm"),
            text("ARMNRS", "Reason Arm and/or Actual Arm is Null")
                .coded("ARMNULRS (C142179): SCREEN FAILURE, NOT ASSIGNED, ASSIGNED, NOT TREATED"),
            text("COUNTRY", "Country").coded("ISO 3166-1 alpha-3 (COUNTRY, C66786)"),
        ],
    );
    let study = input.study_id();
    let country = |site_id: &str| input.doc.sites.iter().find(|s| s.site_id == site_id).and_then(|s| s.country.clone());
    for p in &input.doc.patients {
        let id = &p.patient_id;
        let alloc = input.allocation(id);
        let first = input.first_treatment(id).map(|d| d.to_string());
        let last = input.last_treatment(id).map(|d| d.to_string());
        let end = p.follow_up.death_on.clone().or_else(|| p.follow_up.last_contact_on.clone());
        let screening = input.doc.screenings.iter().rev().find(|s| &s.patient_id == id);
        let (armcd, arm, actcd, act, nrs) = match alloc {
            Some(a) => {
                let (cd, name) = arm_code(a.arm);
                if first.is_some() { (cd, name, cd, name, "") } else { (cd, name, "", "", "ASSIGNED, NOT TREATED") }
            }
            None if screening.is_some_and(|s| s.status == "ineligible") => ("", "", "", "", "SCREEN FAILURE"),
            None => ("", "", "", "", "NOT ASSIGNED"),
        };
        t.push(vec![
            study.as_str().into(),
            "DM".into(),
            input.usubjid(id).into(),
            id.as_str().into(),
            first.clone().or_else(|| alloc.map(|a| a.randomized_on.clone())).into(),
            if alloc.is_some() { end.clone() } else { None }.into(),
            first.into(),
            last.into(),
            p.enrolled_on.as_str().into(),
            p.follow_up.death_on.clone().into(),
            if p.follow_up.death_on.is_some() { "Y" } else { "" }.into(),
            p.site_id.as_str().into(),
            input.age_years(id).into(),
            if input.age_years(id).is_some() { "YEARS" } else { "" }.into(),
            "U".into(),
            armcd.into(),
            arm.into(),
            actcd.into(),
            act.into(),
            nrs.into(),
            country(p.site_id.as_str()).into(),
        ]);
    }
    sort_by_subject(&mut t);
    t
}

fn ex(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "EX",
        "Exposure",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("EXSEQ", "Sequence Number"),
            text("EXLNKID", "Link ID").coded("lesion code (TULNKID)"),
            text("EXTRT", "Name of Treatment").coded("I-125 SEED IMPLANTATION, CRYOABLATION"),
            num("EXDOSE", "Dose").coded("number of seeds implanted (seeds only)"),
            text("EXDOSU", "Dose Units").coded("SEED"),
            text("EXROUTE", "Route of Administration").coded("ROUTE (C66729): PERCUTANEOUS"),
            text("EXLOC", "Location of Dose Administration").coded("organ of the lesion"),
            text("EXSTDTC", "Start Date/Time of Treatment").coded(ISO),
            text("EXENDTC", "End Date/Time of Treatment").coded(ISO),
            num("EXSTDY", "Study Day of Start of Treatment"),
        ],
    );
    for p in input.doc.procedures.iter().filter(|p| !p.is_reintervention) {
        let organ = lesion_organ(input, &p.patient_id, &p.lesion_id);
        t.push(vec![
            input.study_id().into(),
            "EX".into(),
            input.usubjid(&p.patient_id).into(),
            Cell::Number(None),
            p.lesion_id.as_str().into(),
            treatment_name(p.modality).into(),
            p.seeds_implanted.map(f64::from).into(),
            if p.seeds_implanted.is_some() { "SEED" } else { "" }.into(),
            "PERCUTANEOUS".into(),
            organ.into(),
            p.performed_on.as_str().into(),
            p.performed_on.as_str().into(),
            input.study_day(&p.patient_id, &p.performed_on).into(),
        ]);
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "EXSEQ");
    t
}

fn lesion_organ(input: &TrialInput<'_>, patient_id: &str, lesion_id: &str) -> String {
    input
        .doc
        .lesions
        .iter()
        .find(|l| l.patient_id == patient_id && l.lesion_id == lesion_id)
        .map(|l| organ_loc(&l.organ.to_string()))
        .unwrap_or_default()
}

fn pr(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "PR",
        "Procedures",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("PRSEQ", "Sequence Number"),
            text("PRLNKID", "Link ID").coded("lesion code (TULNKID)"),
            text("PRTRT", "Reported Name of Procedure").coded("I-125 SEED IMPLANTATION, CRYOABLATION"),
            text("PRCAT", "Category").coded("PROTOCOL THERAPY, RE-INTERVENTION"),
            text("PRLOC", "Location of Procedure").coded("organ of the lesion"),
            text("PRSTDTC", "Start Date/Time of Procedure").coded(ISO),
            num("PRSTDY", "Study Day of Start of Procedure"),
        ],
    );
    for p in &input.doc.procedures {
        t.push(vec![
            input.study_id().into(),
            "PR".into(),
            input.usubjid(&p.patient_id).into(),
            Cell::Number(None),
            p.lesion_id.as_str().into(),
            treatment_name(p.modality).into(),
            if p.is_reintervention { "RE-INTERVENTION" } else { "PROTOCOL THERAPY" }.into(),
            lesion_organ(input, &p.patient_id, &p.lesion_id).into(),
            p.performed_on.as_str().into(),
            input.study_day(&p.patient_id, &p.performed_on).into(),
        ]);
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "PRSEQ");
    t
}

fn eval_specs(prefix: &'static str) -> [Spec; 3] {
    match prefix {
        "TU" => [
            text("TUEVAL", "Evaluator").coded("EVAL (C78735): INDEPENDENT ASSESSOR"),
            text("TUEVALID", "Evaluator Identifier").coded("MEDEVAL (C96777): RADIOLOGIST 1, RADIOLOGIST 2"),
            text("TUACPTFL", "Accepted Record Flag").coded("Y or null"),
        ],
        "TR" => [
            text("TREVAL", "Evaluator").coded("EVAL (C78735): INDEPENDENT ASSESSOR"),
            text("TREVALID", "Evaluator Identifier").coded("MEDEVAL (C96777): RADIOLOGIST 1, RADIOLOGIST 2"),
            text("TRACPTFL", "Accepted Record Flag").coded("Y or null"),
        ],
        _ => [
            text("RSEVAL", "Evaluator").coded("EVAL (C78735): INDEPENDENT ASSESSOR, ADJUDICATOR"),
            text("RSEVALID", "Evaluator Identifier")
                .coded("MEDEVAL (C96777): RADIOLOGIST 1, RADIOLOGIST 2, ADJUDICATOR"),
            text("RSACPTFL", "Accepted Record Flag").coded("Y or null"),
        ],
    }
}

/// The accepted reader of a patient (after adjudication), if any.
fn accepted_reader(input: &TrialInput<'_>, patient_id: &str) -> Option<String> {
    let a = input.assessments.iter().find(|a| a.patient_id.as_str() == patient_id)?;
    a.accepted().map(|r| r.reader.as_str().to_owned())
}

fn tu(input: &TrialInput<'_>) -> Table {
    let [e, ei, af] = eval_specs("TU");
    let mut t = Table::new(
        "TU",
        "Tumor/Lesion Identification",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("TUSEQ", "Sequence Number"),
            text("TULNKID", "Link ID"),
            text("TUTESTCD", "Tumor/Lesion ID Short Name").coded("TUTESTCD (C96784): TUMIDENT"),
            text("TUTEST", "Tumor/Lesion ID Test Name").coded("TUTEST (C96783): Tumor Identification"),
            text("TUORRES", "Tumor/Lesion ID Result").coded("TUMIDENT (C123650): TARGET, NON-TARGET, NEW"),
            text("TUSTRESC", "Tumor/Lesion ID Result Std. Format").coded("TARGET, NON-TARGET, NEW"),
            text("TULOC", "Location of the Tumor/Lesion"),
            text("TUMETHOD", "Method of Identification").coded("METHOD (C85492): CT SCAN"),
            e,
            ei,
            af,
            num("VISITNUM", "Visit Number"),
            text("VISIT", "Visit Name"),
            text("TUDTC", "Date/Time of Tumor/Lesion Identification").coded(ISO),
            num("TUDY", "Study Day of Tumor/Lesion Identification"),
        ],
    );
    let visits = visit_numbers(input);
    let mut reads: Vec<_> = input.doc.assessments.iter().collect();
    reads.sort_by(|a, b| (&a.patient_id, &a.assessed_on, &a.reader).cmp(&(&b.patient_id, &b.assessed_on, &b.reader)));
    for patient in &input.doc.patients {
        let id = &patient.patient_id;
        let readers = input.readers_of(id);
        let accepted = accepted_reader(input, id);
        for reader in &readers {
            let mine: Vec<_> = reads.iter().filter(|a| &a.patient_id == id && &a.reader == reader).collect();
            let mut row = |lnk: String, res: &str, loc: String, a: &cryoseed_store::model::Assessment| {
                t.push(vec![
                    input.study_id().into(),
                    "TU".into(),
                    input.usubjid(id).into(),
                    Cell::Number(None),
                    lnk.into(),
                    "TUMIDENT".into(),
                    "Tumor Identification".into(),
                    res.into(),
                    res.into(),
                    loc.into(),
                    "CT SCAN".into(),
                    "INDEPENDENT ASSESSOR".into(),
                    eval_id(&readers, reader).into(),
                    if accepted.as_deref() == Some(reader.as_str()) { "Y" } else { "" }.into(),
                    visitnum(&visits, &a.label).into(),
                    a.label.to_uppercase().into(),
                    a.assessed_on.as_str().into(),
                    input.study_day(id, &a.assessed_on).into(),
                ]);
            };
            // Baseline lesions from the reader's first read; new lesions at their first report.
            if let Some(first) = mine.first() {
                for l in input.doc.lesions.iter().filter(|l| &l.patient_id == id) {
                    let res = match l.role {
                        LesionRole::Target => "TARGET",
                        LesionRole::NonTarget => "NON-TARGET",
                    };
                    row(l.lesion_id.clone(), res, organ_loc(&l.organ.to_string()), first);
                }
            }
            let mut seen: Vec<String> = Vec::new();
            for a in &mine {
                for n in a.observations.get("new_lesions").and_then(Value::as_array).into_iter().flatten() {
                    let code = n.get("new_lesion_id").and_then(Value::as_str).unwrap_or("").to_owned();
                    if code.is_empty() || seen.contains(&code) {
                        continue;
                    }
                    seen.push(code.clone());
                    let loc = n.get("organ").and_then(Value::as_str).map(organ_loc).unwrap_or_default();
                    row(format!("NEW-{code}"), "NEW", loc, a);
                }
            }
        }
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "TUSEQ");
    t
}

fn tr(input: &TrialInput<'_>) -> Table {
    let [e, ei, af] = eval_specs("TR");
    let mut t = Table::new(
        "TR",
        "Tumor/Lesion Results",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("TRSEQ", "Sequence Number"),
            text("TRLNKID", "Link ID").coded("lesion code (TULNKID); empty for SUMDIAM"),
            text("TRTESTCD", "Tumor/Lesion Assessment Short Name").coded("TRTESTCD (C96779): LDIAM, SUMDIAM, VOLUME"),
            text("TRTEST", "Tumor/Lesion Assessment Test Name")
                .coded("TRTEST (C96778): Longest Diameter, Sum of Diameter, Volume"),
            text("TRORRES", "Result or Finding in Original Units"),
            text("TRORRESU", "Original Units").coded("UNIT (C71620): mm, mL"),
            text("TRSTRESC", "Character Result/Finding in Std Format"),
            num("TRSTRESN", "Numeric Result/Finding in Standard Units"),
            text("TRSTRESU", "Standard Units").coded("UNIT (C71620): mm, mL"),
            text("TRMETHOD", "Method of Test or Examination").coded("METHOD (C85492): CT SCAN"),
            e,
            ei,
            af,
            num("VISITNUM", "Visit Number"),
            text("VISIT", "Visit Name"),
            text("TRDTC", "Date/Time of Tumor/Lesion Measurement").coded(ISO),
            num("TRDY", "Study Day of Tumor/Lesion Measurement"),
        ],
    );
    let visits = visit_numbers(input);
    let mut reads: Vec<_> = input.doc.assessments.iter().collect();
    reads.sort_by(|a, b| (&a.patient_id, &a.assessed_on, &a.reader).cmp(&(&b.patient_id, &b.assessed_on, &b.reader)));
    for a in reads {
        let id = &a.patient_id;
        let readers = input.readers_of(id);
        let accepted = accepted_reader(input, id).as_deref() == Some(a.reader.as_str());
        let mut push = |lnk: &str, code: &str, name: &str, value: f64, unit: &str| {
            t.push(vec![
                input.study_id().into(),
                "TR".into(),
                input.usubjid(id).into(),
                Cell::Number(None),
                lnk.into(),
                code.into(),
                name.into(),
                format!("{value}").into(),
                unit.into(),
                format!("{value}").into(),
                value.into(),
                unit.into(),
                "CT SCAN".into(),
                "INDEPENDENT ASSESSOR".into(),
                eval_id(&readers, &a.reader).into(),
                if accepted { "Y" } else { "" }.into(),
                visitnum(&visits, &a.label).into(),
                a.label.to_uppercase().into(),
                a.assessed_on.as_str().into(),
                input.study_day(id, &a.assessed_on).into(),
            ]);
        };
        for o in a.observations.get("lesions").and_then(Value::as_array).into_iter().flatten() {
            let lnk = o.get("lesion_id").and_then(Value::as_str).unwrap_or("");
            if let Some(d) = o.get("diameter_mm").and_then(Value::as_f64) {
                push(lnk, "LDIAM", "Longest Diameter", d, "mm");
            }
            if let Some(v) = o.get("volume_ml").and_then(Value::as_f64) {
                push(lnk, "VOLUME", "Volume", v, "mL");
            }
        }
        // The reader's sum of target diameters at this time point, as RECIST 1.1 computed it.
        let sum = input
            .assessments
            .iter()
            .find(|p| p.patient_id.as_str() == id)
            .and_then(|p| p.readers.iter().find(|r| r.reader.as_str() == a.reader))
            .and_then(|r| r.recist.time_points.iter().find(|tp| tp.label == a.label))
            .and_then(|tp| tp.target.as_ref())
            .map(|ta| ta.sum.value());
        if let Some(sum) = sum {
            push("", "SUMDIAM", "Sum of Diameter", sum, "mm");
        }
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "TRSEQ");
    t
}

fn rs(input: &TrialInput<'_>) -> Table {
    let [e, ei, af] = eval_specs("RS");
    let mut t = Table::new(
        "RS",
        "Disease Response and Clin Classification",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("RSSEQ", "Sequence Number"),
            text("RSTESTCD", "Assessment Short Name").coded("ONCRSTCD (C96782): OVRLRESP, TRGRESP, NTRGRESP, BESTRESP"),
            text("RSTEST", "Assessment Name").coded(
                "ONCRTEST (C96781): Overall Response, Target Response, Non-target Response, Best Overall Response",
            ),
            text("RSCAT", "Category for Assessment").coded("RECIST 1.1"),
            text("RSORRES", "Result or Finding in Original Units").coded(RECIST),
            text("RSSTRESC", "Character Result/Finding in Std Format").coded(RECIST),
            e,
            ei,
            af,
            num("VISITNUM", "Visit Number"),
            text("VISIT", "Visit Name"),
            text("RSDTC", "Date/Time of Assessment").coded(ISO),
            num("RSDY", "Study Day of Assessment"),
        ],
    );
    let visits = visit_numbers(input);
    for pa in input.assessments {
        let id = pa.patient_id.as_str();
        let readers = input.readers_of(id);
        let accepted = pa.accepted().map(|r| r.reader.as_str().to_owned());
        let adjudicated = input.doc.adjudications.iter().any(|a| a.patient_id == id);
        let mut evaluators: Vec<(String, String, &cryoseed_response::ReaderAssessment, bool)> = pa
            .readers
            .iter()
            .map(|r| {
                let is_acc = accepted.as_deref() == Some(r.reader.as_str());
                ("INDEPENDENT ASSESSOR".to_owned(), eval_id(&readers, r.reader.as_str()), r, is_acc)
            })
            .collect();
        if adjudicated && let Some(r) = pa.accepted() {
            evaluators.push(("ADJUDICATOR".into(), "ADJUDICATOR".into(), r, true));
        }
        for (eval, evalid, r, is_acc) in evaluators {
            let mut push = |code: &str, name: &str, res: &str, label: &str, date: &str| {
                t.push(vec![
                    input.study_id().into(),
                    "RS".into(),
                    input.usubjid(id).into(),
                    Cell::Number(None),
                    code.into(),
                    name.into(),
                    "RECIST 1.1".into(),
                    res.into(),
                    res.into(),
                    eval.as_str().into(),
                    evalid.as_str().into(),
                    if is_acc { "Y" } else { "" }.into(),
                    visitnum(&visits, label).into(),
                    label.to_uppercase().into(),
                    date.into(),
                    input.study_day(id, date).into(),
                ]);
            };
            for tp in &r.recist.time_points {
                let date = tp.date.to_string();
                if let Some(ta) = &tp.target {
                    push("TRGRESP", "Target Response", target_code(ta.response), &tp.label, &date);
                }
                if let Some(nt) = &tp.non_target {
                    push("NTRGRESP", "Non-target Response", non_target_code(nt.response), &tp.label, &date);
                }
                push("OVRLRESP", "Overall Response", overall_code(tp.response), &tp.label, &date);
            }
            let best = r.recist.best(&input.protocol.response);
            let (label, date) =
                best.time_point.clone().map_or((String::new(), String::new()), |(l, d)| (l, d.to_string()));
            push("BESTRESP", "Best Overall Response", overall_code(best.response), &label, &date);
        }
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "RSSEQ");
    t
}

fn relatedness(a: &cryoseed_store::model::AdverseEventRecord) -> &'static str {
    let treatment = a
        .form
        .attributions
        .iter()
        .filter(|x| matches!(x.cause, Cause::Cryoablation | Cause::SeedImplantation | Cause::Radiation));
    match treatment.map(|x| x.certainty).max() {
        Some(c) if c.is_related() => "RELATED",
        _ => "NOT RELATED",
    }
}

fn ae(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "AE",
        "Adverse Events",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("AESEQ", "Sequence Number"),
            text("AESPID", "Sponsor-Defined Identifier"),
            text("AETERM", "Reported Term for the Adverse Event"),
            text("AEDECOD", "Dictionary-Derived Term").coded("CTCAE v5.0 term (MedDRA LLT)"),
            text("AELLTCD", "Lowest Level Term Code").coded("MedDRA code"),
            text("AEBODSYS", "Body System or Organ Class").coded("MedDRA SOC"),
            text("AETOXGR", "Standard Toxicity Grade").coded("CTCAE v5.0 grade 1-5"),
            text("AESER", "Serious Event").coded(NY),
            text("AESDTH", "Results in Death").coded(NY),
            text("AESLIFE", "Is Life Threatening").coded(NY),
            text("AESHOSP", "Requires or Prolongs Hospitalization").coded(NY),
            text("AESDISAB", "Persist or Signif Disability/Incapacity").coded(NY),
            text("AESCONG", "Congenital Anomaly or Birth Defect").coded(NY),
            text("AESMIE", "Other Medically Important Serious Event").coded(NY),
            text("AEREL", "Causality").coded("RELATED, NOT RELATED (possible or more certain = related)"),
            text("AEOUT", "Outcome of Adverse Event")
                .coded("OUT (C66768): FATAL, RECOVERED/RESOLVED, NOT RECOVERED/NOT RESOLVED"),
            text("AESTDTC", "Start Date/Time of Adverse Event").coded(ISO),
            text("AEENDTC", "End Date/Time of Adverse Event").coded(ISO),
            num("AESTDY", "Study Day of Start of Adverse Event"),
            num("AEENDY", "Study Day of End of Adverse Event"),
        ],
    );
    for a in &input.doc.adverse_events {
        let f = &a.form;
        let has = |c: SeriousCriterion| yn(f.serious.contains(&c));
        let outcome = if f.grade == 5 {
            "FATAL"
        } else if f.resolution.is_some() {
            "RECOVERED/RESOLVED"
        } else {
            "NOT RECOVERED/NOT RESOLVED"
        };
        t.push(vec![
            input.study_id().into(),
            "AE".into(),
            input.usubjid(&f.patient_id).into(),
            Cell::Number(None),
            a.ae_id.to_string().into(),
            f.term.as_str().into(),
            f.term.as_str().into(),
            a.meddra_code.as_str().into(),
            a.soc.as_str().into(),
            f.grade.to_string().into(),
            yn(!f.serious.is_empty()),
            has(SeriousCriterion::Death),
            has(SeriousCriterion::LifeThreatening),
            has(SeriousCriterion::Hospitalization),
            has(SeriousCriterion::Disability),
            has(SeriousCriterion::CongenitalAnomaly),
            has(SeriousCriterion::ImportantMedicalEvent),
            relatedness(a).into(),
            outcome.into(),
            f.onset.as_str().into(),
            f.resolution.clone().into(),
            input.study_day(&f.patient_id, &f.onset).into(),
            f.resolution.as_deref().and_then(|r| input.study_day(&f.patient_id, r)).into(),
        ]);
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "AESEQ");
    t
}

fn ds(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "DS",
        "Disposition",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("DSSEQ", "Sequence Number"),
            text("DSTERM", "Reported Term for the Disposition Event"),
            text("DSDECOD", "Standardized Disposition Term").coded(
                "NCOMPLT (C66727) / PROTMLST (C114118): INFORMED CONSENT OBTAINED, SCREEN FAILURE, RANDOMIZED, DEATH, LOST TO FOLLOW-UP",
            ),
            text("DSCAT", "Category for Disposition Event")
                .coded("DSCAT (C74558): PROTOCOL MILESTONE, DISPOSITION EVENT"),
            text("DSSTDTC", "Start Date/Time of Disposition Event").coded(ISO),
            num("DSSTDY", "Study Day of Start of Disposition Event"),
        ],
    );
    for p in &input.doc.patients {
        let id = &p.patient_id;
        let mut push = |term: &str, decod: &str, cat: &str, date: &str| {
            t.push(vec![
                input.study_id().into(),
                "DS".into(),
                input.usubjid(id).into(),
                Cell::Number(None),
                term.into(),
                decod.into(),
                cat.into(),
                date.into(),
                input.study_day(id, date).into(),
            ]);
        };
        push("INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE", &p.enrolled_on);
        if let Some(s) = input.doc.screenings.iter().rev().find(|s| &s.patient_id == id)
            && s.status == "ineligible"
        {
            push("SCREEN FAILURE", "SCREEN FAILURE", "DISPOSITION EVENT", &s.screened_on);
        }
        if let Some(a) = input.allocation(id) {
            push("RANDOMIZED", "RANDOMIZED", "PROTOCOL MILESTONE", &a.randomized_on);
        }
        if let Some(d) = &p.follow_up.death_on {
            push("DEATH", "DEATH", "DISPOSITION EVENT", d);
        } else if let Some(w) = &p.follow_up.withdrawn_on {
            push("WITHDRAWN OR LOST TO FOLLOW-UP", "LOST TO FOLLOW-UP", "DISPOSITION EVENT", w);
        }
    }
    sort_by_subject(&mut t);
    number_seq(&mut t, "DSSEQ");
    t
}

fn sv(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "SV",
        "Subject Visits",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            text("USUBJID", "Unique Subject Identifier"),
            num("VISITNUM", "Visit Number"),
            text("VISIT", "Visit Name"),
            text("SVSTDTC", "Start Date/Time of Visit").coded(ISO),
            text("SVENDTC", "End Date/Time of Visit").coded(ISO),
            num("SVSTDY", "Study Day of Start of Visit"),
        ],
    );
    let visits = visit_numbers(input);
    for p in &input.doc.patients {
        let id = &p.patient_id;
        let mut rows: Vec<(f64, String, String)> = Vec::new();
        if let Some(s) = input.doc.screenings.iter().rev().find(|s| &s.patient_id == id) {
            rows.push((1.0, "SCREENING".into(), s.screened_on.clone()));
        }
        for a in input.doc.assessments.iter().filter(|a| &a.patient_id == id) {
            if let Some(n) = visitnum(&visits, &a.label)
                && !rows.iter().any(|r| r.0 == n)
            {
                rows.push((n, a.label.to_uppercase(), a.assessed_on.clone()));
            }
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (n, label, date) in rows {
            t.push(vec![
                input.study_id().into(),
                "SV".into(),
                input.usubjid(id).into(),
                n.into(),
                label.into(),
                date.as_str().into(),
                date.as_str().into(),
                input.study_day(id, &date).into(),
            ]);
        }
    }
    sort_by_subject(&mut t);
    t
}

fn ts(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "TS",
        "Trial Summary",
        vec![
            text("STUDYID", "Study Identifier"),
            text("DOMAIN", "Domain Abbreviation"),
            num("TSSEQ", "Sequence Number"),
            text("TSPARMCD", "Trial Summary Parameter Short Name").coded("TSPARMCD (C66738)"),
            text("TSPARM", "Trial Summary Parameter").coded("TSPARM (C67152)"),
            text("TSVAL", "Parameter Value"),
        ],
    );
    let p = input.protocol;
    let randomized = input.doc.allocations.len();
    let first = input.doc.patients.iter().filter_map(|p| cryoseed_response::Date::parse(&p.enrolled_on)).min();
    let params: Vec<(&str, &str, String)> = vec![
        ("TITLE", "Trial Title", "Randomized Phase II trial of lesion-allocated I-125 seed implantation combined with cryoablation for high-burden metastatic cancer".into()),
        ("TPHASE", "Trial Phase Classification", "PHASE II TRIAL".into()),
        ("STYPE", "Study Type", "INTERVENTIONAL".into()),
        ("INTMODEL", "Intervention Model", "PARALLEL".into()),
        ("RANDOM", "Trial is Randomized", "Y".into()),
        ("NARMS", "Planned Number of Arms", "2".into()),
        ("TCNTRL", "Control Type", "ACTIVE".into()),
        ("AGEMIN", "Planned Minimum Age of Subjects", format!("P{}Y", p.eligibility.min_age_years)),
        ("PLANSUB", "Planned Number of Subjects", format!("{}", p.power.patients_per_arm * 2)),
        ("ACTSUB", "Actual Number of Subjects", randomized.to_string()),
        ("SSTDTC", "Study Start Date", first.map(|d| d.to_string()).unwrap_or_default()),
        ("OUTMSPRI", "Primary Outcome Measure", "Local control rate of treated target lesions at 6 months".into()),
        ("OUTMSPRI", "Primary Outcome Measure", "Local progression-free survival of the bulky index lesion".into()),
    ];
    for (cd, name, val) in params {
        t.push(vec![input.study_id().into(), "TS".into(), Cell::Number(None), cd.into(), name.into(), val.into()]);
    }
    // TSSEQ numbers repeated parameters (OUTMSPRI 1, 2), SDTMIG §7.4.
    let c = t.column("TSPARMCD").expect("column");
    let s = t.column("TSSEQ").expect("column");
    let mut counts: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for row in &mut t.rows {
        let code = match &row[c] {
            Cell::Text(v) => v.clone(),
            Cell::Number(_) => String::new(),
        };
        let n = counts.entry(code).or_insert(0.0);
        *n += 1.0;
        row[s] = Cell::Number(Some(*n));
    }
    t
}

// ---------------------------------------------------------------------------------------------
// ADaM

/// The four ADaM datasets: ADSL, ADTTE, ADRS, ADAE.
pub fn adam(input: &TrialInput<'_>) -> Vec<Table> {
    vec![adsl(input), adtte(input), adrs(input), adae(input)]
}

fn arm_n(arm: Arm) -> f64 {
    match arm {
        Arm::Experimental => 1.0,
        Arm::Control => 2.0,
    }
}

fn adsl(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "ADSL",
        "Subject-Level Analysis Dataset",
        vec![
            text("STUDYID", "Study Identifier"),
            text("USUBJID", "Unique Subject Identifier"),
            text("SUBJID", "Subject Identifier for the Study"),
            text("SITEID", "Study Site Identifier"),
            num("AGE", "Age"),
            text("AGEU", "Age Units").coded("YEARS"),
            text("SEX", "Sex").coded("SEX (C66731): U (not collected)"),
            text("ARM", "Description of Planned Arm"),
            text("ACTARM", "Description of Actual Arm"),
            text("TRT01P", "Planned Treatment for Period 01"),
            num("TRT01PN", "Planned Treatment for Period 01 (N)").coded("1 = EXP, 2 = CTRL"),
            text("TRT01A", "Actual Treatment for Period 01"),
            num("TRT01AN", "Actual Treatment for Period 01 (N)").coded("1 = EXP, 2 = CTRL"),
            text("STRAT1R", "Randomization Stratum").coded("SITE/ECOG group"),
            num("ECOGBL", "Baseline ECOG Performance Status"),
            text("ITTFL", "Intent-To-Treat Population Flag").coded(NY),
            text("SAFFL", "Safety Population Flag").coded(NY),
            text("RANDFL", "Randomized Population Flag").coded(NY),
            num("RANDDT", "Date of Randomization").coded(SASDATE),
            num("TRTSDT", "Date of First Exposure to Treatment").coded(SASDATE),
            num("TRTEDT", "Date of Last Exposure to Treatment").coded(SASDATE),
            text("DTHFL", "Subject Death Flag").coded("Y or null"),
            num("DTHDT", "Date of Death").coded(SASDATE),
            num("LSTALVDT", "Date Last Known Alive").coded(SASDATE),
            text("EOSSTT", "End of Study Status").coded("ONGOING, DISCONTINUED"),
            text("DCSREAS", "Reason for Discontinuation from Study").coded("DEATH, LOST TO FOLLOW-UP"),
        ],
    );
    for row in &input.datasets.patients {
        let id = row.patient_id.as_str();
        let (_, name) = arm_code(row.arm);
        let treated = input.first_treatment(id).is_some();
        let p = input.patient(id);
        let death = row.death_on.map(|d| d.to_string());
        let reason = if death.is_some() {
            "DEATH"
        } else if row.withdrawn_on.is_some() {
            "LOST TO FOLLOW-UP"
        } else {
            ""
        };
        t.push(vec![
            input.study_id().into(),
            input.usubjid(id).into(),
            id.into(),
            p.map_or(String::new(), |p| p.site_id.clone()).into(),
            input.age_years(id).into(),
            if input.age_years(id).is_some() { "YEARS" } else { "" }.into(),
            "U".into(),
            name.into(),
            if treated { name } else { "" }.into(),
            name.into(),
            arm_n(row.arm).into(),
            if treated { name } else { "" }.into(),
            treated.then(|| arm_n(row.arm)).into(),
            row.stratum.to_string().into(),
            f64::from(row.ecog.score()).into(),
            "Y".into(),
            yn(treated),
            "Y".into(),
            sas_date(&row.randomized_on.to_string()).into(),
            input.first_treatment(id).and_then(|d| sas_date(&d.to_string())).into(),
            input.last_treatment(id).and_then(|d| sas_date(&d.to_string())).into(),
            if death.is_some() { "Y" } else { "" }.into(),
            death.as_deref().and_then(sas_date).into(),
            sas_date(&row.last_contact_on.to_string()).into(),
            if reason.is_empty() { "ONGOING" } else { "DISCONTINUED" }.into(),
            reason.into(),
        ]);
    }
    sort_by_subject(&mut t);
    t
}

/// ADTTE parameter code and name of an endpoint (`TTSP_CR` is the competing-risk coding).
pub fn tte_param(e: Endpoint) -> (&'static str, &'static str) {
    match e {
        Endpoint::Lpfs => ("LPFS", "Local Progression-Free Survival (days)"),
        Endpoint::Pfs => ("PFS", "Progression-Free Survival (days)"),
        Endpoint::Ttsp => ("TTSP", "Time to Systemic Progression (days)"),
        Endpoint::TtspCompeting => ("TTSPCR", "Time to Systemic Prog, Death Competing"),
        Endpoint::Os => ("OS", "Overall Survival (days)"),
    }
}

fn adtte(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "ADTTE",
        "Time-to-Event Analysis Dataset",
        vec![
            text("STUDYID", "Study Identifier"),
            text("USUBJID", "Unique Subject Identifier"),
            text("PARAMCD", "Parameter Code").coded("LPFS, PFS, TTSP, TTSPCR, OS"),
            text("PARAM", "Parameter"),
            num("AVAL", "Analysis Value").coded("days from randomization"),
            num("STARTDT", "Time to Event Origin Date for Subject").coded(SASDATE),
            num("ADT", "Analysis Date").coded(SASDATE),
            num("CNSR", "Censor").coded("0 = event, 1 = censored, 2 = competing event (TTSPCR only)"),
            text("EVNTDESC", "Event or Censoring Description"),
            text("TRTP", "Planned Treatment"),
            num("TRTPN", "Planned Treatment (N)").coded("1 = EXP, 2 = CTRL"),
            text("STRAT1R", "Randomization Stratum"),
        ],
    );
    for r in &input.datasets.time_to_event {
        let id = r.patient_id.as_str();
        let (cd, name) = tte_param(r.endpoint);
        let cnsr = match r.status {
            EventStatus::Event => 0.0,
            EventStatus::Censored => 1.0,
            EventStatus::Competing => 2.0,
        };
        let randomized = input.allocation(id).map(|a| a.randomized_on.clone()).unwrap_or_default();
        t.push(vec![
            input.study_id().into(),
            input.usubjid(id).into(),
            cd.into(),
            name.into(),
            r.time.value().into(),
            sas_date(&randomized).into(),
            sas_date(&r.date.to_string()).into(),
            cnsr.into(),
            r.reason.as_str().into(),
            arm_code(r.arm).1.into(),
            arm_n(r.arm).into(),
            r.stratum.to_string().into(),
        ]);
    }
    sort_by_subject(&mut t);
    t
}

fn adrs(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "ADRS",
        "Response Analysis Dataset",
        vec![
            text("STUDYID", "Study Identifier"),
            text("USUBJID", "Unique Subject Identifier"),
            text("PARAMCD", "Parameter Code").coded("OVRLRESP, BOR, ORR, LCR6"),
            text("PARAM", "Parameter"),
            text("AVALC", "Analysis Value (C)").coded("RECIST 1.1 response; Y/N; CONTROLLED, FAILURE, NE"),
            num("AVAL", "Analysis Value").coded("OVRLRESP/BOR: 1 CR .. 6 NE; ORR: 1/0; LCR6: 1/0"),
            text("TULNKID", "Link ID").coded("lesion code (LCR6 only)"),
            num("ADT", "Analysis Date").coded(SASDATE),
            text("AVISIT", "Analysis Visit"),
            text("ANL01FL", "Analysis Flag 01").coded("Y = in the primary LCR analysis (evaluable)"),
            text("TRTP", "Planned Treatment"),
            num("TRTPN", "Planned Treatment (N)").coded("1 = EXP, 2 = CTRL"),
        ],
    );
    let rank = |r: OverallResponse| match r {
        OverallResponse::Cr => 1.0,
        OverallResponse::Pr => 2.0,
        OverallResponse::Sd => 3.0,
        OverallResponse::NonCrNonPd => 4.0,
        OverallResponse::Pd => 5.0,
        OverallResponse::Ne => 6.0,
    };
    for row in &input.datasets.patients {
        let id = row.patient_id.as_str();
        let (_, trt) = arm_code(row.arm);
        let mut push = |cd: &str,
                        name: &str,
                        avalc: &str,
                        aval: Option<f64>,
                        lnk: &str,
                        date: Option<String>,
                        visit: &str,
                        anl: &str| {
            t.push(vec![
                input.study_id().into(),
                input.usubjid(id).into(),
                cd.into(),
                name.into(),
                avalc.into(),
                aval.into(),
                lnk.into(),
                date.as_deref().and_then(sas_date).into(),
                visit.into(),
                anl.into(),
                trt.into(),
                arm_n(row.arm).into(),
            ]);
        };
        let accepted = input.assessments.iter().find(|a| a.patient_id.as_str() == id).and_then(|a| a.accepted());
        if let Some(r) = accepted {
            for tp in &r.recist.time_points {
                push(
                    "OVRLRESP",
                    "Overall Response by Accepted Reader",
                    overall_code(tp.response),
                    Some(rank(tp.response)),
                    "",
                    Some(tp.date.to_string()),
                    &tp.label.to_uppercase(),
                    "",
                );
            }
            let best = r.recist.best(&input.protocol.response);
            push(
                "BOR",
                "Best Overall Response (RECIST 1.1)",
                overall_code(best.response),
                Some(rank(best.response)),
                "",
                best.time_point.as_ref().map(|(_, d)| d.to_string()),
                "",
                "",
            );
        }
        push(
            "ORR",
            "Objective Response (CR or PR) in Window",
            if row.objective_response { "Y" } else { "N" },
            Some(if row.objective_response { 1.0 } else { 0.0 }),
            "",
            row.best_response_in_window.map(|(d, _)| d.to_string()),
            "",
            "Y",
        );
        for l in input.datasets.lesions.iter().filter(|l| l.patient_id == row.patient_id) {
            let (avalc, aval) = match l.primary {
                LcrOutcome::Controlled => ("CONTROLLED", Some(1.0)),
                LcrOutcome::Failure => ("FAILURE", Some(0.0)),
                LcrOutcome::NotEvaluable => ("NE", None),
            };
            push(
                "LCR6",
                "Local Control at 6 Months (lesion)",
                avalc,
                aval,
                l.lesion_id.as_str(),
                Some(l.nominal_date.to_string()),
                "MONTH 6",
                if l.primary == LcrOutcome::NotEvaluable { "" } else { "Y" },
            );
        }
    }
    sort_by_subject(&mut t);
    t
}

fn adae(input: &TrialInput<'_>) -> Table {
    let mut t = Table::new(
        "ADAE",
        "Adverse Events Analysis Dataset",
        vec![
            text("STUDYID", "Study Identifier"),
            text("USUBJID", "Unique Subject Identifier"),
            num("AESEQ", "Sequence Number"),
            text("AEDECOD", "Dictionary-Derived Term").coded("CTCAE v5.0 term"),
            text("AEBODSYS", "Body System or Organ Class").coded("MedDRA SOC"),
            text("AETOXGR", "Standard Toxicity Grade").coded("1-5"),
            num("ATOXGRN", "Analysis Toxicity Grade (N)"),
            text("AESER", "Serious Event").coded(NY),
            text("AEREL", "Causality"),
            num("ASTDT", "Analysis Start Date").coded(SASDATE),
            num("AENDT", "Analysis End Date").coded(SASDATE),
            num("ASTDY", "Analysis Start Relative Day"),
            text("TRTEMFL", "Treatment Emergent Analysis Flag").coded("Y = onset on or after the first procedure"),
            text("TRTA", "Actual Treatment"),
            num("TRTAN", "Actual Treatment (N)").coded("1 = EXP, 2 = CTRL"),
            text("SAFFL", "Safety Population Flag").coded(NY),
        ],
    );
    let mut sorted: Vec<_> = input.doc.adverse_events.iter().collect();
    sorted.sort_by(|a, b| {
        (input.usubjid(&a.form.patient_id), a.ae_id).cmp(&(input.usubjid(&b.form.patient_id), b.ae_id))
    });
    let mut seq: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for a in sorted {
        let f = &a.form;
        let id = f.patient_id.as_str();
        let Some(alloc) = input.allocation(id) else { continue };
        let first = input.first_treatment(id);
        let treated = first.is_some();
        let onset = cryoseed_response::Date::parse(&f.onset);
        let emergent = matches!((first, onset), (Some(s), Some(o)) if o >= s);
        let n = seq.entry(input.usubjid(id)).or_insert(0.0);
        *n += 1.0;
        t.push(vec![
            input.study_id().into(),
            input.usubjid(id).into(),
            (*n).into(),
            f.term.as_str().into(),
            a.soc.as_str().into(),
            f.grade.to_string().into(),
            f64::from(f.grade).into(),
            yn(!f.serious.is_empty()),
            relatedness(a).into(),
            sas_date(&f.onset).into(),
            f.resolution.as_deref().and_then(sas_date).into(),
            input.study_day(id, &f.onset).into(),
            if emergent { "Y" } else { "" }.into(),
            if treated { arm_code(alloc.arm).1 } else { "" }.into(),
            treated.then(|| arm_n(alloc.arm)).into(),
            yn(treated),
        ]);
    }
    t
}
