//! `cryoseed randomization generate` and `cryoseed ctcae` as a statistician and a site meet them.

use super::{cryoseed, stderr, stdout};

#[test]
fn randomization_generate_writes_a_reproducible_list_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("list.csv");
    let args = |file: &str| {
        vec![
            "randomization",
            "generate",
            "--sites",
            "SITE-02,SITE-01",
            "--seed",
            "20261128",
            "--per-stratum",
            "10",
            "--out",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([file.to_owned()])
        .collect::<Vec<String>>()
    };
    let run = |file: &str| {
        let a = args(file);
        cryoseed(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let first = run(out.to_str().unwrap());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains("in 4 strata"), "{}", stdout(&first));
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "seed,protocol_sha256,stratum,site_id,ecog_group,sequence_number,block_number,block_size,arm"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // 2 sites × 2 ECOG groups, each ≥ 10 slots of whole blocks (2 or 4), balanced 1:1 per stratum.
    for stratum in ["SITE-01/ECOG-group-1", "SITE-01/ECOG-group-2", "SITE-02/ECOG-group-1", "SITE-02/ECOG-group-2"] {
        let arms: Vec<&str> = rows.iter().filter(|r| r[2] == stratum).map(|r| r[8]).collect();
        assert!((10..=13).contains(&arms.len()), "{stratum}: {}", arms.len());
        let experimental = arms.iter().filter(|a| **a == "experimental").count();
        assert_eq!(experimental * 2, arms.len(), "{stratum} ends on a whole balanced block");
    }
    assert!(rows.iter().all(|r| r[0] == "20261128" && (r[4] == "0-1" || r[4] == "2")));

    // Same seed, another file: byte-identical.
    let again = dir.path().join("again.csv");
    assert!(run(again.to_str().unwrap()).status.success());
    assert_eq!(std::fs::read_to_string(&again).unwrap(), csv);

    // An existing list is never overwritten.
    let refused = run(out.to_str().unwrap());
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("is never overwritten"), "{}", stderr(&refused));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
}

#[test]
fn randomization_generate_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("l.csv");
    let out = out.to_str().unwrap();
    let check = |sites: &str, per: &str, fragment: &str| {
        let o = cryoseed(&[
            "randomization",
            "generate",
            "--sites",
            sites,
            "--seed",
            "1",
            "--per-stratum",
            per,
            "--out",
            out,
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains(fragment), "expected {fragment:?} in {}", stderr(&o));
        assert!(!std::path::Path::new(out).exists(), "nothing written on error");
    };
    check("SITE-01,SITE 02", "10", "--sites: \"SITE 02\"");
    check("SITE-01,SITE-01", "10", "site SITE-01 is listed twice");
    check("SITE-01", "0", "per_stratum: must be 1 to 100000, got 0");
    check("SITE-01", "4000000000", "per_stratum: must be 1 to 100000, got 4000000000");
    // A usage error (missing --seed) exits 2.
    let o = cryoseed(&["randomization", "generate", "--sites", "SITE-01", "--out", out]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn ctcae_search_and_check() {
    let found = cryoseed(&["ctcae", "search", "pneumothorx", "--limit", "3"]);
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(
        stdout(&found).contains("10035759\t1,2,3,4,5\tPneumothorax\tRespiratory, thoracic and mediastinal disorders"),
        "{}",
        stdout(&found)
    );
    let none = cryoseed(&["ctcae", "search", "qqqqqqqqqqqq"]);
    assert_eq!(none.status.code(), Some(1));

    let ok = cryoseed(&["ctcae", "check", "--term", "nausea", "--grade", "3"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).starts_with("ok: Nausea (MedDRA 10028813, Gastrointestinal disorders) grade 3: "),
        "{}",
        stdout(&ok)
    );
    let bad_grade = cryoseed(&["ctcae", "check", "--term", "Nausea", "--grade", "5"]);
    assert_eq!(bad_grade.status.code(), Some(1));
    assert!(
        stderr(&bad_grade).contains("grade: grade 5 is not defined for \"Nausea\" (allowed: 1, 2, 3)"),
        "{}",
        stderr(&bad_grade)
    );
    let bad_term = cryoseed(&["ctcae", "check", "--term", "Pneumothorx", "--grade", "2"]);
    assert!(stderr(&bad_term).contains("did you mean \"Pneumothorax\""), "{}", stderr(&bad_term));
}
