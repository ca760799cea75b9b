//! SAS transport files read back by independent readers (pyreadstat and pandas from PyPI,
//! test tools only). Our IEEE → IBM conversion is exact (unit tests in `xpt.rs` decode it
//! exactly); the readers' IBM → IEEE conversion may round in the last place (pyreadstat returns
//! 9.999999999999999e-31 for 1e-30), so numbers are compared to a relative 1e-15.

#![allow(clippy::print_stderr, reason = "says when the test was skipped")]

use cryoseed_report::xpt::{Column, Dataset, Variable, write_xpt};
use std::process::Command;

fn python_has(modules: &str) -> bool {
    Command::new("python3").args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn pyreadstat_and_pandas_read_our_transport_file() {
    if !python_has("pyreadstat, pandas") {
        eprintln!("skipped: python3 with pyreadstat and pandas is needed (pip install pyreadstat pandas)");
        return;
    }
    let ages = vec![Some(64.0), None, Some(-0.125), Some(1e-30), Some(123456789.0), Some(0.1)];
    let ids: Vec<String> = (1..=6).map(|i| format!("CS-001-{i:03}")).collect();
    let arms = vec!["EXPERIMENTAL", "CONTROL", "", "EXPERIMENTAL", "CONTROL", "A very long arm label"]
        .into_iter()
        .map(String::from)
        .collect();
    let ds = Dataset {
        name: "ADSL".into(),
        label: "Subject-Level Analysis Dataset".into(),
        variables: vec![
            Variable {
                name: "USUBJID".into(),
                label: "Unique Subject Identifier".into(),
                column: Column::text(ids.clone()),
            },
            Variable { name: "AGE".into(), label: "Age".into(), column: Column::Numeric(ages.clone()) },
            // 64 bytes, so an observation (12 + 8 + 64 bytes) is longer than one 80-byte record:
            // XPORT v5 does not store the row count, and for observations of at most 80 bytes
            // pandas infers it by counting blank 8-byte words anywhere in the last record as
            // padding, which drops real rows whose values end in blanks (pyreadstat infers it
            // correctly). Longer observations make pandas use plain division.
            Variable {
                name: "ARM".into(),
                label: "Description of Planned Arm".into(),
                column: Column::Character { length: 64, values: arms },
            },
        ],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("adsl.xpt");
    std::fs::write(&path, write_xpt(&[ds], "28NOV26:12:00:00").unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/read_xpt.py");
    let out = Command::new("python3").arg(script).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for reader in ["pyreadstat", "pandas"] {
        let got = &v[reader];
        let got_ages: Vec<Option<f64>> = got["AGE"].as_array().unwrap().iter().map(|x| x.as_f64()).collect();
        assert_eq!(got_ages.len(), ages.len(), "{reader}");
        for (g, want) in got_ages.iter().zip(&ages) {
            match (g, want) {
                (None, None) => {}
                (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-15 * w.abs(), "{reader}: {g} vs {w}"),
                _ => panic!("{reader}: {g:?} vs {want:?}"),
            }
        }
        let got_ids: Vec<&str> = got["USUBJID"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
        assert_eq!(got_ids, ids, "{reader}");
        assert_eq!(got["ARM"][5].as_str().unwrap().trim_end(), "A very long arm label", "{reader}");
    }
    assert_eq!(v["labels"]["AGE"], "Age");
    assert_eq!(v["table_name"], "ADSL");
}
