//! Trial-level outputs on a seeded database built through the store's write API (`fixture.rs`):
//! CDISC SDTM/ADaM variables and terminology against the implementation guides, transport files
//! read back by pyreadstat, the de-identified IPD, and the analysis report.

#![allow(clippy::print_stderr, reason = "says when a test was skipped")]

use crate::fixture::{self, Fixture};
use cryoseed_core::protocol::Protocol;
use cryoseed_report::dataset::{Cell, Kind, Table};
use cryoseed_report::{TrialInput, analysis_html, cdisc, ipd};
use cryoseed_response::{Date, PatientAssessment};
use cryoseed_store::Store;
use cryoseed_store::export::TrialDocument;
use cryoseed_trial::endpoints::AnalysisDatasets;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

pub(crate) struct Loaded {
    _fixture: Fixture,
    doc: TrialDocument,
    datasets: AnalysisDatasets,
    assessments: Vec<PatientAssessment>,
    protocol: Protocol,
}

impl Loaded {
    pub(crate) fn input(&self) -> TrialInput<'_> {
        TrialInput {
            doc: &self.doc,
            datasets: &self.datasets,
            assessments: &self.assessments,
            protocol: &self.protocol,
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

fn load(seed: u64) -> Loaded {
    runtime().block_on(async {
        let fixture = fixture::build(seed).await;
        let store = Store::connect(&fixture.url).await.unwrap();
        let doc = store.snapshot().await.unwrap();
        let (datasets, assessments) = store.analysis(&fixture.protocol).await.unwrap();
        store.close().await;
        let protocol = fixture.protocol.clone();
        Loaded { _fixture: fixture, doc, datasets, assessments, protocol }
    })
}

/// The fixture with seed 7, built once for the tests of this file.
pub(crate) fn trial() -> &'static Loaded {
    static TRIAL: OnceLock<Loaded> = OnceLock::new();
    TRIAL.get_or_init(|| load(7))
}

#[test]
fn the_fixture_covers_what_the_outputs_must_show() {
    let t = trial();
    let d = &t.datasets;
    let arms: BTreeSet<String> = d.patients.iter().map(|p| p.arm.to_string()).collect();
    assert_eq!(arms.len(), 2, "both arms");
    assert!(d.patients.iter().any(|p| p.death_on.is_some()), "deaths");
    assert!(d.time_to_event.iter().any(|r| r.status == cryoseed_trial::endpoints::EventStatus::Censored), "censoring");
    assert!(t.doc.adjudications.len() >= 2, "adjudications: {}", t.doc.adjudications.len());
    assert!(t.doc.adverse_events.iter().any(|a| a.form.grade == 5), "a grade 5 event");
    assert!(
        t.doc.adverse_events.iter().any(|a| !a.form.serious.is_empty() && a.form.grade < 5),
        "a serious non-fatal event"
    );
    assert!(d.lesions.len() >= 30, "several lesions per patient: {}", d.lesions.len());
    assert!(t.doc.screenings.iter().any(|s| s.status == "ineligible"), "a screen failure");
    assert!(t.assessments.iter().all(|a| a.readers.len() == 2), "two readers");
    assert!(d.lesions.iter().any(|l| l.primary == cryoseed_trial::endpoints::LcrOutcome::Failure), "local failures");
    assert!(d.lesions.iter().any(|l| l.primary == cryoseed_trial::endpoints::LcrOutcome::Controlled), "local control");
}

// ---------------------------------------------------------------------------------------------
// CDISC

/// Variables of each SDTM domain as specified in CDISC SDTMIG v3.4 (2021), section 6 domain
/// tables (DM 6.1, EX 6.1.4, PR 6.1.7, AE 6.2.1, DS 6.2.4, SV 5.3, TS 7.4; oncology domains TU,
/// TR, RS 6.3.14–6.3.16), with the Required ones (Core = "Req") marked by `*`.
const SDTMIG: &[(&str, &str)] = &[
    (
        "DM",
        "STUDYID* DOMAIN* USUBJID* SUBJID* RFSTDTC RFENDTC RFXSTDTC RFXENDTC RFICDTC RFPENDTC DTHDTC DTHFL SITEID* INVID INVNAM BRTHDTC AGE AGETXT AGEU SEX* RACE ETHNIC ARMCD ARM ACTARMCD ACTARM ARMNRS ACTARMUD COUNTRY* DMDTC DMDY",
    ),
    (
        "EX",
        "STUDYID* DOMAIN* USUBJID* EXSEQ* EXGRPID EXREFID EXSPID EXLNKID EXLNKGRP EXTRT* EXCAT EXSCAT EXDOSE EXDOSTXT EXDOSU EXDOSFRM EXDOSFRQ EXDOSRGM EXROUTE EXLOT EXLOC EXLAT EXDIR EXFAST EXADJ TAETORD EPOCH EXSTDTC* EXENDTC EXSTDY EXENDY EXDUR EXTPT EXTPTNUM EXELTM EXTPTREF EXRFTDTC",
    ),
    (
        "PR",
        "STUDYID* DOMAIN* USUBJID* PRSEQ* PRGRPID PRREFID PRSPID PRLNKID PRLNKGRP PRTRT* PRDECOD PRCAT PRSCAT PRPRESP PROCCUR PRREASOC PRINDC PRDOSE PRDOSTXT PRDOSU PRDOSFRM PRDOSFRQ PRROUTE PRLOC PRLAT PRDIR PRPORTOT VISITNUM VISIT VISITDY TAETORD EPOCH PRDTC PRSTDTC PRENDTC PRDY PRSTDY PRENDY PRDUR",
    ),
    (
        "TU",
        "STUDYID* DOMAIN* USUBJID* TUSEQ* TUGRPID TUREFID TUSPID TULNKID TULNKGRP TUTESTCD* TUTEST* TUORRES* TUSTRESC TUNAM TULOC TULAT TUDIR TUPORTOT TUMETHOD TULOBXFL TUBLFL TUEVAL TUEVALID TUACPTFL VISITNUM VISIT VISITDY TAETORD EPOCH TUDTC TUDY",
    ),
    (
        "TR",
        "STUDYID* DOMAIN* USUBJID* TRSEQ* TRGRPID TRREFID TRSPID TRLNKGRP TRLNKID TRTESTCD* TRTEST* TRORRES TRORRESU TRSTRESC TRSTRESN TRSTRESU TRSTAT TRREASND TRNAM TRMETHOD TRLOBXFL TRBLFL TREVAL TREVALID TRACPTFL VISITNUM VISIT VISITDY TAETORD EPOCH TRDTC TRDY",
    ),
    (
        "RS",
        "STUDYID* DOMAIN* USUBJID* RSSEQ* RSGRPID RSREFID RSSPID RSLNKID RSLNKGRP RSTESTCD* RSTEST* RSCAT RSORRES RSSTRESC RSSTAT RSREASND RSNAM RSLOBXFL RSBLFL RSEVAL RSEVALID RSACPTFL VISITNUM VISIT VISITDY TAETORD EPOCH RSDTC RSDY",
    ),
    (
        "AE",
        "STUDYID* DOMAIN* USUBJID* AESEQ* AEGRPID AEREFID AESPID AETERM* AEMODIFY AELLT AELLTCD AEDECOD* AEPTCD AEHLT AEHLTCD AEHLGT AEHLGTCD AECAT AESCAT AEPRESP AEBODSYS AEBDSYCD AESOC AESOCCD AELOC AESEV AESER AEACN AEACNOTH AEREL AERELNST AEPATT AEOUT AESCAN AESCONG AESDISAB AESDTH AESHOSP AESLIFE AESOD AESMIE AECONTRT AETOXGR TAETORD EPOCH AEDTC AESTDTC AEENDTC AEDY AESTDY AEENDY AEDUR AEENRF AEENRTPT AEENTPT",
    ),
    (
        "DS",
        "STUDYID* DOMAIN* USUBJID* DSSEQ* DSGRPID DSREFID DSSPID DSTERM* DSDECOD* DSCAT DSSCAT EPOCH DSDTC DSSTDTC DSDY DSSTDY",
    ),
    (
        "SV",
        "STUDYID* DOMAIN* USUBJID* VISITNUM* VISIT VISITDY TAETORD EPOCH SVPRESP SVOCCUR SVREASOC SVCNTMOD SVEPCHGI SVSTDTC SVENDTC SVSTDY SVENDY SVUPDES",
    ),
    ("TS", "STUDYID* DOMAIN* TSSEQ* TSGRPID TSPARMCD* TSPARM* TSVAL TSVALNF TSVALCD TSVCDREF TSVCDVER"),
];

/// Required variables the eCRF does not collect (documented in `cdisc.rs`): none in SDTM;
/// ADSL.RACE is not collected (race is absent from DM too).
const NOT_COLLECTED: &[&str] = &[];

/// ADaM variables: ADSL from ADaMIG v1.3 §3.2 (subject-level), ADTTE from the ADaM Basic Data
/// Structure for Time-to-Event Analyses v1.0 §3, ADRS from the ADaMIG v1.3 BDS §3.3, ADAE from
/// the ADaM Occurrence Data Structure (OCCDS) v1.1 §3; `*` = required by those documents.
/// Sponsor-defined variables ADaM allows (copied SDTM variables, baseline characteristics) are
/// listed after `|`.
const ADAMIG: &[(&str, &str)] = &[
    (
        "ADSL",
        "STUDYID* USUBJID* SUBJID* SITEID* AGE* AGEU* SEX* RACE* ARM* ACTARM* TRT01P* TRT01PN TRT01A TRT01AN ITTFL SAFFL RANDFL FASFL PPROTFL COMPLFL RANDDT TRTSDT TRTEDT DTHFL DTHDT LSTALVDT EOSSTT DCSREAS | STRAT1R ECOGBL",
    ),
    (
        "ADTTE",
        "STUDYID* USUBJID* PARAMCD* PARAM* AVAL* STARTDT* ADT* CNSR* EVNTDESC CNSDTDSC SRCDOM SRCVAR SRCSEQ TRTP TRTPN TRTA TRTAN | STRAT1R",
    ),
    ("ADRS", "STUDYID* USUBJID* PARAMCD* PARAM* AVAL AVALC ADT AVISIT AVISITN ANL01FL TRTP TRTPN TRTA TRTAN | TULNKID"),
    (
        "ADAE",
        "STUDYID* USUBJID* AESEQ AETERM AEDECOD* AEBODSYS* AETOXGR ATOXGR ATOXGRN AESER AEREL ASTDT AENDT ASTDY AENDY TRTEMFL TRTA* TRTAN SAFFL",
    ),
];

fn check_against(tables: &[Table], guide: &[(&str, &str)], not_collected: &[&str]) {
    assert_eq!(
        tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        guide.iter().map(|g| g.0).collect::<Vec<_>>()
    );
    for (t, (name, vars)) in tables.iter().zip(guide) {
        let (standard, sponsor) = vars.split_once('|').unwrap_or((vars, ""));
        let allowed: BTreeSet<&str> =
            standard.split_whitespace().chain(sponsor.split_whitespace()).map(|v| v.trim_end_matches('*')).collect();
        let required: Vec<&str> = standard.split_whitespace().filter_map(|v| v.strip_suffix('*')).collect();
        let ours: Vec<&str> = t.specs.iter().map(|s| s.name).collect();
        for v in &ours {
            assert!(allowed.contains(v), "{name}.{v} is not a variable of {name} in the guide");
        }
        for r in required {
            if !not_collected.contains(&format!("{name}.{r}").as_str()) {
                assert!(ours.contains(&r), "{name}: required variable {r} missing");
            }
        }
        for s in &t.specs {
            assert!(
                s.name.len() <= 8 && s.name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "{name}.{}",
                s.name
            );
            assert!(s.label.len() <= 40, "{name}.{} label {:?} is {} characters", s.name, s.label, s.label.len());
        }
        assert!(!t.rows.is_empty(), "{name} has rows");
    }
}

fn values<'a>(t: &'a [Table], name: &str) -> &'a Table {
    t.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("{name}"))
}

fn distinct(t: &Table, var: &str) -> BTreeSet<String> {
    t.values(var).into_iter().collect()
}

#[test]
fn sdtm_domains_have_the_implementation_guide_variables_and_recist_terminology() {
    let t = trial();
    let input = t.input();
    let sdtm = cdisc::sdtm(&input);
    check_against(&sdtm, SDTMIG, NOT_COLLECTED);
    let study = input.study_id();
    // USUBJID = STUDYID-SITEID-SUBJID; --SEQ unique within a subject; dates ISO 8601.
    let dm = values(&sdtm, "DM");
    for ((u, site), subj) in dm.values("USUBJID").iter().zip(dm.values("SITEID")).zip(dm.values("SUBJID")) {
        assert_eq!(u, &format!("{study}-{site}-{subj}"));
    }
    for table in &sdtm {
        let seq = format!("{}SEQ", table.name);
        if table.column(&seq).is_some() {
            let pairs: Vec<(String, String)> = table.values("USUBJID").into_iter().zip(table.values(&seq)).collect();
            let unique: BTreeSet<_> = pairs.iter().collect();
            assert_eq!(unique.len(), pairs.len(), "{seq} is unique within USUBJID");
        }
        for spec in table.specs.iter().filter(|s| s.name.ends_with("DTC")) {
            for v in table.values(spec.name).into_iter().filter(|v| !v.is_empty()) {
                assert!(
                    Date::parse(&v).is_some_and(|d| d.to_string() == v),
                    "{}.{} = {v:?} is not ISO 8601",
                    table.name,
                    spec.name
                );
            }
        }
    }
    assert_eq!(distinct(dm, "SEX"), BTreeSet::from(["U".to_owned()]));
    assert_eq!(distinct(dm, "COUNTRY"), BTreeSet::from(["CHN".to_owned()]), "the fixture's centres are in China");
    assert!(distinct(dm, "ARMNRS").contains("SCREEN FAILURE"));
    assert!(distinct(dm, "ARMNRS").contains("ASSIGNED, NOT TREATED"));
    // RECIST 1.1 controlled terminology (CDISC CT: TUTESTCD C96784, TRTESTCD C96779, ONCRSTCD C96782).
    let tu = values(&sdtm, "TU");
    assert_eq!(distinct(tu, "TUTESTCD"), BTreeSet::from(["TUMIDENT".to_owned()]));
    assert!(distinct(tu, "TUORRES").is_subset(&BTreeSet::from(["TARGET", "NON-TARGET", "NEW"].map(String::from))));
    assert!(distinct(tu, "TUORRES").contains("NEW"), "new lesions identified");
    let tr = values(&sdtm, "TR");
    assert_eq!(distinct(tr, "TRTESTCD"), BTreeSet::from(["LDIAM", "SUMDIAM", "VOLUME"].map(String::from)));
    let rs = values(&sdtm, "RS");
    assert_eq!(
        distinct(rs, "RSTESTCD"),
        BTreeSet::from(["OVRLRESP", "TRGRESP", "NTRGRESP", "BESTRESP"].map(String::from))
    );
    assert!(
        distinct(rs, "RSORRES")
            .is_subset(&BTreeSet::from(["CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE"].map(String::from)))
    );
    assert_eq!(distinct(rs, "RSCAT"), BTreeSet::from(["RECIST 1.1".to_owned()]));
    // Reader / adjudicator structure.
    assert_eq!(distinct(rs, "RSEVAL"), BTreeSet::from(["INDEPENDENT ASSESSOR", "ADJUDICATOR"].map(String::from)));
    assert_eq!(
        distinct(rs, "RSEVALID"),
        BTreeSet::from(["RADIOLOGIST 1", "RADIOLOGIST 2", "ADJUDICATOR"].map(String::from))
    );
    assert_eq!(distinct(tr, "TREVALID"), BTreeSet::from(["RADIOLOGIST 1", "RADIOLOGIST 2"].map(String::from)));
    let cols = ["USUBJID", "RSTESTCD", "VISIT", "RSEVALID", "RSORRES", "RSACPTFL"].map(|c| rs.column(c).unwrap());
    let text = |row: &Vec<Cell>, i: usize| match &row[cols[i]] {
        Cell::Text(s) => s.clone(),
        Cell::Number(_) => unreachable!(),
    };
    for adj in &t.doc.adjudications {
        let u = input.usubjid(&adj.patient_id);
        // The adjudicator's responses are the accepted reader's (reader 1 in the fixture), and
        // only those records carry RSACPTFL = Y.
        let of = |evalid: &str| -> Vec<(String, String, String)> {
            rs.rows
                .iter()
                .filter(|r| text(r, 0) == u && text(r, 3) == evalid && text(r, 1) == "OVRLRESP")
                .map(|r| (text(r, 2), text(r, 4), text(r, 5)))
                .collect()
        };
        let adjudicator = of("ADJUDICATOR");
        assert!(!adjudicator.is_empty(), "{u}: adjudicator records");
        assert_eq!(adjudicator, of("RADIOLOGIST 1"), "{u}");
        assert!(of("RADIOLOGIST 2").iter().all(|r| r.2.is_empty()), "{u}: reader 2 not accepted");
    }
    // AE: CTCAE grades, seriousness flags Y/N.
    let ae = values(&sdtm, "AE");
    assert!(distinct(ae, "AETOXGR").is_subset(&BTreeSet::from(["1", "2", "3", "4", "5"].map(String::from))));
    for v in ["AESER", "AESDTH", "AESHOSP"] {
        assert_eq!(distinct(ae, v), BTreeSet::from(["N", "Y"].map(String::from)), "{v}");
    }
    assert!(distinct(ae, "AEOUT").contains("FATAL"));
}

#[test]
fn adam_datasets_have_the_implementation_guide_variables_and_match_the_endpoints() {
    let t = trial();
    let input = t.input();
    let adam = cdisc::adam(&input);
    check_against(&adam, ADAMIG, &["ADSL.RACE"]);
    let adsl = values(&adam, "ADSL");
    assert_eq!(adsl.rows.len(), t.datasets.patients.len());
    let adtte = values(&adam, "ADTTE");
    assert_eq!(distinct(adtte, "PARAMCD"), BTreeSet::from(["LPFS", "PFS", "TTSP", "TTSPCR", "OS"].map(String::from)));
    // AVAL and CNSR are the analysis dataset's time and status (CNSR = 1 − event).
    let by_key: BTreeMap<(String, String), (String, String)> = adtte
        .values("USUBJID")
        .into_iter()
        .zip(adtte.values("PARAMCD"))
        .zip(adtte.values("AVAL").into_iter().zip(adtte.values("CNSR")))
        .collect();
    for r in &t.datasets.time_to_event {
        let code = cdisc::tte_param(r.endpoint).0;
        let (aval, cnsr) = &by_key[&(input.usubjid(r.patient_id.as_str()), code.to_owned())];
        assert_eq!(aval, &format!("{}", r.time.value()));
        let want = match r.status.code() {
            0 => "1",
            1 => "0",
            _ => "2",
        };
        assert_eq!(cnsr, want, "{} {code}", r.patient_id);
    }
    // ADT is a SAS date: 1960-01-01 is day 0.
    assert_eq!(cryoseed_report::trial_input::sas_date("1960-01-01"), Some(0.0));
    // Python: (date(2026, 1, 5) - date(1960, 1, 1)).days == 24111.
    assert_eq!(cryoseed_report::trial_input::sas_date("2026-01-05"), Some(24111.0));
    let adrs = values(&adam, "ADRS");
    assert!(
        distinct(adrs, "PARAMCD").is_superset(&BTreeSet::from(["OVRLRESP", "BOR", "ORR", "LCR6"].map(String::from)))
    );
    let adae = values(&adam, "ADAE");
    assert!(distinct(adae, "TRTEMFL").contains("Y"));
}

#[test]
fn transport_files_read_back_with_pyreadstat_to_the_same_values() {
    if std::env::var("CRYOSEED_TEST_PYTHON").as_deref() != Ok("1") {
        eprintln!("skipped: set CRYOSEED_TEST_PYTHON=1 (needs python3 with pyreadstat)");
        return;
    }
    let t = trial();
    let input = t.input();
    let dir = tempfile::tempdir().unwrap();
    let mut tables = cdisc::sdtm(&input);
    tables.extend(cdisc::adam(&input));
    let mut paths = Vec::new();
    for table in &tables {
        let path = dir.path().join(format!("{}.xpt", table.name.to_lowercase()));
        std::fs::write(&path, table.xpt_bytes(&input.xpt_timestamp()).unwrap()).unwrap();
        paths.push(path);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/read_xpt_tables.py");
    let out = std::process::Command::new("python3").arg(script).args(&paths).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for table in &tables {
        let got = &v[table.name.as_str()];
        assert_eq!(got["table_name"], table.name.as_str());
        for (i, spec) in table.specs.iter().enumerate() {
            assert_eq!(got["labels"][spec.name], spec.label, "{}.{}", table.name, spec.name);
            let col = got["columns"][spec.name].as_array().unwrap_or_else(|| panic!("{}.{}", table.name, spec.name));
            assert_eq!(col.len(), table.rows.len(), "{}.{} rows", table.name, spec.name);
            for (row, g) in table.rows.iter().zip(col) {
                match (&row[i], spec.kind) {
                    (Cell::Text(s), Kind::Text) => {
                        assert_eq!(g.as_str().unwrap().trim_end(), s, "{}.{}", table.name, spec.name)
                    }
                    (Cell::Number(None), Kind::Number) => assert!(g.is_null(), "{}.{}: {g}", table.name, spec.name),
                    // Exact IEEE → IBM; the reader's IBM → IEEE may round in the last place.
                    (Cell::Number(Some(x)), Kind::Number) => {
                        let y = g.as_f64().unwrap();
                        assert!((x - y).abs() <= 1e-15 * x.abs(), "{}.{}: {x} vs {y}", table.name, spec.name);
                    }
                    _ => unreachable!(),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// IPD

/// Whether `needle` occurs in `text` not inside a longer word (user id `admin` is not in
/// "administration site conditions").
fn contains_word(text: &str, needle: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(needle)
        .any(|(i, _)| !word(text[..i].chars().next_back()) && !word(text[i + needle.len()..].chars().next()))
}

#[test]
fn ipd_has_no_direct_identifier_and_keeps_every_interval() {
    let t = trial();
    let input = t.input();
    let tables = ipd::ipd(&input, 2024);
    let dict = cryoseed_report::dictionary(&tables);
    let mut text = cryoseed_report::dictionary_csv(&dict);
    for table in &tables {
        text.push_str(&table.to_csv());
    }
    // Direct identifiers and free text of the source: study, site and user ids and names, every
    // date, every free-text field.
    let d = &t.doc;
    let mut identifiers: BTreeSet<String> = BTreeSet::new();
    identifiers.extend(d.patients.iter().map(|p| p.patient_id.clone()));
    identifiers.extend(d.sites.iter().flat_map(|s| [s.site_id.clone(), s.name.clone()]));
    identifiers.extend(d.users.iter().flat_map(|u| [u.user_id.clone(), u.name.clone()]));
    identifiers.insert(input.study_id());
    let json = d.to_json();
    // Every YYYY-MM-DD in the source.
    for window in json.as_bytes().windows(10) {
        if let Ok(s) = std::str::from_utf8(window)
            && window[4] == b'-'
            && Date::parse(s).is_some()
        {
            identifiers.insert(s.to_owned());
        }
    }
    identifiers.extend(d.procedures.iter().filter_map(|p| p.notes.clone()));
    identifiers.extend(d.adjudications.iter().map(|a| a.reason.clone()));
    identifiers.extend(d.adjudications.iter().map(|a| a.adjudicator.clone()));
    identifiers.insert("operator_note".into());
    for id in &identifiers {
        assert!(!contains_word(&text, id), "the IPD contains the identifier {id:?}");
    }
    // Years too (Safe Harbor keeps no date element but the year; we keep none).
    for year in 2020..2035 {
        assert!(!text.contains(&format!("{year}-")), "a date of {year}");
    }
    // Ages over 89 grouped; exact ages otherwise.
    let participants = values(&tables, "participants");
    let ages = distinct(participants, "age");
    assert!(ages.contains("90+"), "{ages:?}");
    assert!(ages.iter().all(|a| a == "90+" || a.parse::<u32>().is_ok_and(|n| n <= 89)));
    // Every within-participant interval is preserved: for each participant, the difference
    // between any two source dates equals the difference of their exported days.
    let codes = ipd::participant_codes(&input, 2024);
    let procedures = values(&tables, "procedures");
    let aes = values(&tables, "adverse_events");
    let mut checked = 0;
    for p in &t.datasets.patients {
        let id = p.patient_id.as_str();
        let code = &codes[id];
        let row = participants.rows.iter().find(|r| r[0] == Cell::Text(code.clone())).unwrap();
        let num = |name: &str| match &row[participants.column(name).unwrap()] {
            Cell::Number(x) => *x,
            Cell::Text(_) => None,
        };
        let mut source: Vec<Date> = vec![p.randomized_on, p.last_contact_on];
        let mut exported: Vec<f64> = vec![0.0, num("last_contact_day").unwrap()];
        if let (Some(d), Some(x)) = (p.death_on, num("death_day")) {
            source.push(d);
            exported.push(x);
        }
        if let (Some(d), Some(x)) = (p.therapy_completed_on, num("therapy_completed_day")) {
            source.push(d);
            exported.push(x);
        }
        let mine = |t: &Table, var: &str| -> Vec<f64> {
            let c = t.column(var).unwrap();
            t.rows
                .iter()
                .filter(|r| r[0] == Cell::Text(code.clone()))
                .filter_map(|r| match &r[c] {
                    Cell::Number(x) => *x,
                    Cell::Text(_) => None,
                })
                .collect()
        };
        let mut src_proc: Vec<Date> =
            d.procedures.iter().filter(|x| x.patient_id == id).map(|x| Date::parse(&x.performed_on).unwrap()).collect();
        let mut exp_proc = mine(procedures, "day");
        src_proc.sort();
        exp_proc.sort_by(f64::total_cmp);
        source.extend(src_proc);
        exported.extend(exp_proc);
        let mut src_ae: Vec<Date> = d
            .adverse_events
            .iter()
            .filter(|x| x.form.patient_id == id)
            .map(|x| Date::parse(&x.form.onset).unwrap())
            .collect();
        let mut exp_ae = mine(aes, "onset_day");
        src_ae.sort();
        exp_ae.sort_by(f64::total_cmp);
        source.extend(src_ae);
        exported.extend(exp_ae);
        assert_eq!(source.len(), exported.len(), "{id}");
        for i in 0..source.len() {
            for j in 0..source.len() {
                assert_eq!(
                    source[j].days_since(source[i]).value(),
                    exported[j] - exported[i],
                    "{id}: interval {i}→{j}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} intervals checked");
    // Codes are a permutation, seeded: the same seed gives the same codes, another seed others.
    assert_eq!(ipd::participant_codes(&input, 2024), codes);
    assert_ne!(ipd::participant_codes(&input, 2025), codes);
    let mut sorted: Vec<&String> = codes.values().collect();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len());
}

// ---------------------------------------------------------------------------------------------
// Analysis report

#[test]
fn analysis_report_is_deterministic_and_names_its_provenance_in_every_section() {
    let t = trial();
    let input = t.input();
    let (html, summary) = analysis_html(&input, "9.9.9");
    let (again, _) = analysis_html(&input, "9.9.9");
    assert_eq!(html, again);
    // Self-contained: no scripts, no external stylesheets, fonts or images.
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains(" src="));
    let sections = html.matches("<section").count();
    assert!(sections >= 10, "{sections} sections");
    assert!(html.contains(&summary.protocol), "protocol name and version");
    for needle in [summary.snapshot_sha256.as_str(), "cryoseed 9.9.9", summary.protocol_sha256.as_str()] {
        // Once per section, plus the header and the footer.
        assert_eq!(html.matches(needle).count(), sections + 2, "{needle}");
    }
    for heading in [
        "CONSORT",
        "local control rate at 6 months",
        "LPFS",
        "Progression-free survival",
        "Overall survival",
        "Objective response",
        "Safety",
        "Dosimetry",
        "Zonal response",
        "Reader concordance",
        "Patient courses",
    ] {
        assert!(html.contains(heading), "{heading}");
    }
    // The forest, spider and swimmer plots are drawn from the data.
    for figure in [
        "LPFS: hazard ratio by subgroup",
        "Change in the sum of target diameters over time",
        "Swimmer plot of each patient&#39;s course",
    ] {
        assert!(html.contains(figure), "{figure}");
    }
    let lpfs = summary.time_to_event.iter().find(|t| t.endpoint == "LPFS").unwrap();
    assert_eq!(lpfs.subgroups[0].subgroup, "all patients");
    assert_eq!(lpfs.subgroups[0].hr, lpfs.cox_hr);
    assert_eq!(lpfs.subgroups[0].patients, summary.randomized.iter().map(|(_, n)| n).sum::<usize>());
    let centres: usize = lpfs.subgroups.iter().filter(|g| g.subgroup.starts_with("centre ")).map(|g| g.patients).sum();
    let ecog: usize = lpfs.subgroups.iter().filter(|g| g.subgroup.starts_with("ECOG ")).map(|g| g.patients).sum();
    assert_eq!(
        (centres, ecog),
        (lpfs.subgroups[0].patients, lpfs.subgroups[0].patients),
        "subgroups partition the patients"
    );
    // The same database content built again (new audit instants, same records) gives the same
    // report, byte for byte.
    let other = load(7);
    assert_eq!(analysis_html(&other.input(), "9.9.9").0, html);
    // Kappa is a kappa.
    let k = summary.concordance.time_point_kappa.1.unwrap();
    assert!((-1.0..=1.0).contains(&k), "{k}");
}

/// The safety tables count patients of the safety population (randomized and treated), by arm,
/// once per term at the worst grade, with those denominators — recounted here from the stored
/// records.
#[test]
fn safety_tables_use_the_treated_patients_of_each_arm_as_denominators() {
    use cryoseed_core::Arm;
    use std::collections::BTreeMap;
    let t = trial();
    let (html, _) = analysis_html(&t.input(), "test");
    let treated = |id: &str| t.doc.procedures.iter().any(|p| p.patient_id == id && !p.is_reintervention);
    let arm_of: BTreeMap<&str, Arm> = t
        .datasets
        .patients
        .iter()
        .filter(|r| treated(r.patient_id.as_str()))
        .map(|r| (r.patient_id.as_str(), r.arm))
        .collect();
    let n = |arm: Arm| arm_of.values().filter(|a| **a == arm).count();
    let randomized = |arm: Arm| t.datasets.patients.iter().filter(|r| r.arm == arm).count();
    assert!(n(Arm::Experimental) > 0 && n(Arm::Control) > 0);
    assert!(arm_of.len() < t.datasets.patients.len(), "the fixture has a randomized, untreated patient");
    let sentence = format!(
        "experimental {} of {} randomized, control {} of {}",
        n(Arm::Experimental),
        randomized(Arm::Experimental),
        n(Arm::Control),
        randomized(Arm::Control)
    );
    assert!(html.contains(&sentence), "{sentence}");
    // The most frequent term: patients with it per arm, as "k (p %)" of the arm's safety population.
    let mut patients: BTreeMap<(&str, Arm), std::collections::BTreeSet<&str>> = BTreeMap::new();
    for a in &t.doc.adverse_events {
        if let Some(arm) = arm_of.get(a.form.patient_id.as_str()) {
            patients.entry((a.form.term.as_str(), *arm)).or_default().insert(a.form.patient_id.as_str());
        }
    }
    let ((term, _), _) = patients.iter().max_by_key(|(k, v)| (v.len(), std::cmp::Reverse(k.0))).unwrap();
    let row_start = html.find(&format!("<td>{term}</td>")).expect("the term's row");
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
    for arm in [Arm::Control, Arm::Experimental] {
        let k = patients.get(&(*term, arm)).map_or(0, |s| s.len());
        let cell = format!("<td>{k} ({:.1} %)</td>", 100.0 * k as f64 / n(arm) as f64);
        assert!(row.contains(&cell), "{term}, {arm}: {cell} not in {row}");
    }
}

#[test]
fn report_numbers_equal_the_stats_functions_on_the_analysis_datasets() {
    use cryoseed_stats as st;
    let t = trial();
    let (_, s) = analysis_html(&t.input(), "test");
    let level = t.protocol.analysis.ci_level;
    // LPFS: KM median and its CI per arm, stratified log-rank, from the rows directly.
    let rows: Vec<_> = t.datasets.time_to_event.iter().filter(|r| r.endpoint.code() == "LPFS").collect();
    let lpfs = s.time_to_event.iter().find(|e| e.endpoint == "LPFS").unwrap();
    for arm in &lpfs.arms {
        let sub: Vec<_> = rows.iter().filter(|r| r.arm.to_string() == arm.arm).collect();
        let data = st::SurvivalData::new(
            sub.iter().map(|r| r.time.value()).collect(),
            sub.iter().map(|r| r.status.code() == 1).collect(),
        )
        .unwrap();
        let km = st::kaplan_meier(&data, t.protocol.analysis.km_ci_transform, level).unwrap();
        assert_eq!(arm.median, km.median().time);
        assert_eq!(arm.median_ci, [km.median().ci_lower, km.median().ci_upper]);
        assert_eq!(arm.events, km.events);
    }
    let data = st::SurvivalData::new(
        rows.iter().map(|r| r.time.value()).collect(),
        rows.iter().map(|r| r.status.code() == 1).collect(),
    )
    .unwrap();
    let groups: Vec<String> = rows.iter().map(|r| r.arm.to_string()).collect();
    let strata: Vec<String> = rows.iter().map(|r| r.stratum.to_string()).collect();
    let lr = st::logrank_test(&data, &groups, Some(&strata), st::LogRankWeight::LogRank).unwrap();
    assert_eq!(lpfs.logrank_p, Some(lr.p_value));
    // ORR: Clopper–Pearson per arm.
    let orr = s.binary.iter().find(|b| b.endpoint.starts_with("ORR")).unwrap();
    for (arm, x, n, ci) in &orr.arms {
        let pts: Vec<_> = t.datasets.patients.iter().filter(|p| &p.arm.to_string() == arm).collect();
        assert_eq!(*n, pts.len() as u64);
        assert_eq!(*x, pts.iter().filter(|p| p.objective_response).count() as u64);
        let cp = st::clopper_pearson(*x, *n, level).unwrap();
        assert_eq!(*ci, Some([cp.lower, cp.upper]));
    }
}
