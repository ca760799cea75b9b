//! A compact way to write a patient's reads in a test line.
//!
//! Lesions: `"T1:liver:target"`, options `:treated=D` (day of therapy relative to therapy start)
//! and `:bulky`. Reads: space-separated tokens, `T1=30` (measured mm), `T1=ts` (too small),
//! `T1=gone` (disappeared), `T1=ne` (not evaluated), `T1=split:10+8`, `T1=merged:T2`,
//! `N1=present`, `N1=absent`, `N1=pd` (unequivocal progression), `+NL1` (new lesion), `?NL1`
//! (equivocal new lesion). Suffixes after `!` add treatment-zone and volume findings:
//! `!enh`, `!res`, `!bx`, `!reint`, `!az=12`, `!vol=100`, `!core=50`, `!margin=40`, `!nonenh=30`,
//! `!zone=core`. Days count from the start of therapy, 2026-01-10 (day 0).

use cryoseed_core::{LesionId, Ml, Mm, Organ, PatientId, Percent, Zone};
use cryoseed_response::{
    Adjudication, Date, Lesion, LesionRole, LesionStatus, LocalFindings, NewLesion, Observation, PatientAssessments,
    Read, ReaderId, TimePoint, VolumeFindings,
};

pub fn start() -> Date {
    Date::parse("2026-01-10").unwrap()
}

pub fn day(offset: i32) -> Date {
    start().plus_days(offset)
}

pub fn id(text: &str) -> LesionId {
    LesionId::parse(text).unwrap()
}

pub fn reader(text: &str) -> ReaderId {
    ReaderId::parse(text).unwrap()
}

fn organ(text: &str) -> Organ {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).unwrap_or_else(|_| panic!("organ {text}"))
}

pub fn lesion(spec: &str) -> Lesion {
    let mut parts = spec.split(':');
    let lesion_id = id(parts.next().unwrap());
    let organ = organ(parts.next().unwrap());
    let role = match parts.next().unwrap() {
        "target" => LesionRole::Target,
        "non_target" => LesionRole::NonTarget,
        other => panic!("role {other}"),
    };
    let mut lesion = Lesion { lesion_id, role, organ, treated_on: None, is_bulky_index: false };
    for option in parts {
        if let Some(d) = option.strip_prefix("treated=") {
            lesion.treated_on = Some(day(d.parse().unwrap()));
        } else if option == "bulky" {
            lesion.is_bulky_index = true;
        } else {
            panic!("lesion option {option}");
        }
    }
    lesion
}

/// One reader's read from tokens.
pub fn read(reader_code: &str, tokens: &str) -> Read {
    let mut observations = Vec::new();
    let mut new_lesions = Vec::new();
    for token in tokens.split_whitespace() {
        if let Some(code) = token.strip_prefix('+') {
            new_lesions.push(NewLesion { new_lesion_id: code.to_owned(), organ: None, is_equivocal: false });
            continue;
        }
        if let Some(code) = token.strip_prefix('?') {
            new_lesions.push(NewLesion { new_lesion_id: code.to_owned(), organ: None, is_equivocal: true });
            continue;
        }
        let mut pieces = token.split('!');
        let (code, value) = pieces.next().unwrap().split_once('=').unwrap_or_else(|| panic!("token {token}"));
        let status = match value {
            "ts" => LesionStatus::TooSmallToMeasure,
            "gone" => LesionStatus::Disappeared,
            "ne" => LesionStatus::NotEvaluated,
            "present" => LesionStatus::Present,
            "absent" => LesionStatus::Disappeared,
            "pd" => LesionStatus::UnequivocalProgression,
            v if v.starts_with("split:") => {
                LesionStatus::Split(v[6..].split('+').map(|d| Mm(d.parse().unwrap())).collect())
            }
            v if v.starts_with("merged:") => LesionStatus::MergedInto(id(&v[7..])),
            v => LesionStatus::Measured(Mm(v.parse().unwrap_or_else(|_| panic!("value {v}")))),
        };
        let mut local = LocalFindings::default();
        let mut volumes = VolumeFindings::default();
        for flag in pieces {
            let (name, number) = flag.split_once('=').map_or((flag, None), |(n, v)| (n, Some(v)));
            let num = || number.unwrap().parse::<f64>().unwrap();
            match name {
                "enh" => local.margin_enhancement = true,
                "res" => local.residual_tumour = true,
                "bx" => local.biopsy_viable_tumour = true,
                "reint" => local.reintervention = true,
                "az" => local.ablation_zone_diameter = Some(Mm(num())),
                "vol" => volumes.volume = Some(Ml(num())),
                "core" => volumes.core_volume = Some(Ml(num())),
                "margin" => volumes.margin_volume = Some(Ml(num())),
                "nonenh" => volumes.non_enhancing = Some(Percent(num())),
                "zone" => {
                    local.failure_zone = Some(match number.unwrap() {
                        "core" => Zone::Core,
                        "margin" => Zone::Margin,
                        _ => Zone::HighRisk,
                    })
                }
                other => panic!("flag {other}"),
            }
        }
        observations.push(Observation { lesion_id: id(code), status, local, volumes });
    }
    Read { reader: reader(reader_code), observations, new_lesions }
}

/// A single-reader patient: `(label, day, tokens)` per time point.
pub fn patient(lesions: &[&str], time_points: &[(&str, i32, &str)]) -> PatientAssessments {
    two_readers(lesions, &time_points.iter().map(|&(l, d, t)| (l, d, t, None)).collect::<Vec<_>>(), None)
}

/// A patient read by R1 and, where given, R2: `(label, day, R1 tokens, R2 tokens)`.
pub fn two_readers(
    lesions: &[&str],
    time_points: &[(&str, i32, &str, Option<&str>)],
    adjudication: Option<(&str, &str)>,
) -> PatientAssessments {
    let has_second = time_points.iter().any(|t| t.3.is_some());
    let mut readers = vec![reader("R1")];
    if has_second {
        readers.push(reader("R2"));
    }
    PatientAssessments {
        patient_id: PatientId::parse("P001").unwrap(),
        therapy_start: start(),
        lesions: lesions.iter().map(|l| lesion(l)).collect(),
        readers,
        time_points: time_points
            .iter()
            .map(|&(label, d, r1, r2)| {
                let mut reads = vec![read("R1", r1)];
                if let Some(r2) = r2 {
                    reads.push(read("R2", r2));
                }
                TimePoint { label: label.to_owned(), date: day(d), reads }
            })
            .collect(),
        adjudication: adjudication.map(|(accepted, why)| Adjudication {
            adjudicator: reader("A1"),
            accepted_reader: reader(accepted),
            reason: why.to_owned(),
        }),
    }
}
