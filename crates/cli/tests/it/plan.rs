//! `cryoseed plan`, `cryoseed postimplant` and `cryoseed replan` on a synthetic patient.

use super::{cryoseed, stderr, stdout};

#[test]
fn plan_writes_a_reproducible_plan_and_postimplant_checks_the_seeds_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let ok = cryoseed(&["phantom", "--scenario", "liver-small-separated", "--spacing", "2", "--out", &d("case")]);
    assert!(ok.status.success(), "{}", stderr(&ok));

    let p = cryoseed(&["plan", "--case", &d("case"), "--arm", "experimental", "--seed", "3", "--out", &d("plan")]);
    assert!(p.status.success(), "{}", stderr(&p));
    let text = stdout(&p);
    assert!(text.contains("L1") && text.contains("cryo: every cryo criterion holds"), "{text}");
    for f in [
        "plan.json",
        "review.json",
        "report.html",
        "dose.nii.gz",
        "min_temperature.nii.gz",
        "ice_0c.nii.gz",
        "seeds.csv",
        "probes.json",
        "zone_core.nii.gz",
    ] {
        assert!(dir.path().join("plan").join(f).exists(), "{f}");
    }
    let plan_json = std::fs::read_to_string(dir.path().join("plan/plan.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&plan_json).unwrap();
    assert_eq!(v["format"], "cryoseed-plan");
    assert_eq!(v["protocol"]["sha256"], cryoseed_core::protocol::Protocol::shipped().hash().to_string());
    let report = std::fs::read_to_string(dir.path().join("plan/report.html")).unwrap();
    assert!(report.contains("Lesion allocation") && report.contains("<svg"), "report");
    assert!(!report.contains("<script"));

    // The review bundle names this plan.json, its patient and case, and stays within budget.
    let review_json = std::fs::read_to_string(dir.path().join("plan/review.json")).unwrap();
    let review: serde_json::Value = serde_json::from_str(&review_json).unwrap();
    use sha2::Digest as _;
    let plan_sha: String = sha2::Sha256::digest(plan_json.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!((review["format"].as_str(), review["version"].as_u64()), (Some("cryoseed-plan-review"), Some(1)));
    assert_eq!(review["plan_sha256"], plan_sha.as_str());
    assert_eq!(review["patient_id"], v["inputs"]["patient_id"]);
    assert_eq!(review["case_sha256"], v["inputs"]["case_sha256"]);
    let planes: Vec<&str> = review["planes"].as_array().unwrap().iter().map(|p| p["plane"].as_str().unwrap()).collect();
    assert_eq!(planes, ["axial", "coronal", "sagittal"]);
    assert!(review["dvh"]["curves"].as_array().unwrap().iter().any(|c| c["kind"] == "oar"));
    assert!(review_json.len() < 2_000_000, "review.json is {} bytes", review_json.len());

    // Same inputs and seed: byte-identical plan.json and review.json.
    let again = cryoseed(&["plan", "--case", &d("case"), "--arm", "experimental", "--seed", "3", "--out", &d("plan2")]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(std::fs::read(dir.path().join("plan2/plan.json")).unwrap(), plan_json.as_bytes());
    assert_eq!(std::fs::read(dir.path().join("plan2/review.json")).unwrap(), review_json.as_bytes());

    // The plan as DICOM RT: its seeds as the RT Plan, its dose, its zones and ice as ROIs.
    let total_seeds = v["total_seeds"].as_u64().unwrap();
    let ex = cryoseed(&[
        "export",
        "--case",
        &d("case"),
        "--plan",
        &d("plan/plan.json"),
        "--sk-date",
        "2026-11-28",
        "--dicom-out",
        &d("dicom"),
    ]);
    assert!(ex.status.success(), "{}", stderr(&ex));
    let text = stdout(&ex);
    assert!(text.contains(&format!("RTPLAN ({total_seeds} seeds)")), "{text}");
    assert!(text.contains("RTDOSE"), "{text}");
    for f in ["rtstruct.dcm", "rtplan.dcm", "rtdose.dcm"] {
        assert!(dir.path().join("dicom").join(f).exists(), "{f}");
    }
    let rtstruct = std::fs::read(dir.path().join("dicom/rtstruct.dcm")).unwrap();
    for roi in ["Zone_Core", "PTV_Margin", "Ice_Lethal", "PTV_Seeds_L3"] {
        assert!(rtstruct.windows(roi.len()).any(|w| w == roi.as_bytes()), "{roi}");
    }

    // Post-implant with the planned positions: the point-source dose differs from the planned
    // line-source dose by little, and the verdict is D90 ≥ prescription for every lesion.
    let post = cryoseed(&[
        "postimplant",
        "--plan",
        &d("plan/plan.json"),
        "--case",
        &d("case"),
        "--seeds",
        &d("plan/seeds.csv"),
        "--out",
        &d("post"),
    ]);
    assert!(post.status.success(), "{}", stderr(&post));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("post/postimplant.json")).unwrap()).unwrap();
    let lesions = report["lesions"].as_array().unwrap();
    assert!(!lesions.is_empty());
    let mut all = true;
    for l in lesions {
        let r = &l["report"];
        let (planned, actual) = (r["d90"]["planned"].as_f64().unwrap(), r["d90"]["actual"].as_f64().unwrap());
        assert!((actual - planned).abs() <= 0.03 * planned, "{planned} vs {actual}");
        let rx = r["technical_success"]["prescription"].as_f64().unwrap();
        assert_eq!(r["technical_success"]["achieved"], actual >= rx);
        all &= actual >= rx;
    }
    assert_eq!(report["technical_success"], all, "{}", stdout(&post));

    // Half the seeds lost: the technical-success verdict says no, with the shortfall.
    let seeds = std::fs::read_to_string(dir.path().join("plan/seeds.csv")).unwrap();
    let mut lines = seeds.lines();
    let mut half = format!("{}\n", lines.next().unwrap());
    for (i, l) in lines.enumerate() {
        if i % 2 == 0 {
            half.push_str(l);
            half.push('\n');
        }
    }
    std::fs::write(dir.path().join("half.csv"), half).unwrap();
    let post = cryoseed(&[
        "postimplant",
        "--plan",
        &d("plan/plan.json"),
        "--case",
        &d("case"),
        "--seeds",
        &d("half.csv"),
        "--out",
        &d("post2"),
    ]);
    assert!(post.status.success(), "{}", stderr(&post));
    assert!(stdout(&post).contains("technical success: no"), "{}", stdout(&post));

    // Intra-operative re-plan with that half in place: the placed seeds are kept as fixed, fewer
    // seeds than the plan had remain to place, and the predicted D90 meets the prescription again.
    let placed = std::fs::read_to_string(dir.path().join("half.csv")).unwrap().lines().count() - 1;
    let re = cryoseed(&[
        "replan",
        "--plan",
        &d("plan/plan.json"),
        "--case",
        &d("case"),
        "--placed",
        &d("half.csv"),
        "--out",
        &d("replan"),
    ]);
    assert!(re.status.success(), "{}", stderr(&re));
    assert!(stdout(&re).contains("re-planned"), "{}", stdout(&re));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("replan/replan.json")).unwrap()).unwrap();
    assert_eq!(r["format"], "cryoseed-replan");
    assert_eq!(r["seeds_placed"].as_u64().unwrap() as usize, placed);
    let mut remaining = 0;
    for l in r["lesions"].as_array().unwrap() {
        let n_placed = l["seeds_placed"].as_u64().unwrap() as usize;
        let seeds = l["plan"]["seeds"].as_array().unwrap();
        assert!(seeds[..n_placed].iter().all(|s| s["needle"].is_null()), "placed seeds come first, fixed");
        assert!(seeds[n_placed..].iter().all(|s| !s["needle"].is_null()));
        let left = l["seeds_remaining"].as_u64().unwrap() as usize;
        assert_eq!(seeds.len(), n_placed + left);
        if l["status"] == "replanned" {
            assert!(left < l["seeds_planned_originally"].as_u64().unwrap() as usize, "{l}");
        }
        let t = &l["plan"]["evaluation"]["target"];
        let rx = l["plan"]["evaluation"]["prescription"].as_f64().unwrap();
        assert!(t["d90"].as_f64().unwrap() >= rx, "{}: D90 {} < {rx}", l["lesion_id"], t["d90"]);
        remaining += left;
    }
    assert_eq!(r["seeds_remaining"].as_u64().unwrap() as usize, remaining);
    let csv = std::fs::read_to_string(dir.path().join("replan/seeds_remaining.csv")).unwrap();
    assert_eq!(csv.lines().count(), remaining + 1);
    assert!(dir.path().join("replan/dose_replan.nii.gz").exists());
}

#[test]
fn plan_and_postimplant_refuse_bad_input_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let ok = cryoseed(&[
        "phantom",
        "--scenario",
        "liver-small-separated",
        "--spacing",
        "2",
        "--seed",
        "2",
        "--out",
        &d("case"),
    ]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    let bad = cryoseed(&[
        "plan",
        "--case",
        &d("case"),
        "--arm",
        "experimental",
        "--override",
        "L1=ice:why",
        "--out",
        &d("p"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("unknown treatment \"ice\""), "{}", stderr(&bad));
    let bad =
        cryoseed(&["plan", "--case", &d("case"), "--arm", "experimental", "--override", "L1=seeds:", "--out", &d("p")]);
    assert!(stderr(&bad).contains("reason is required"), "{}", stderr(&bad));
    assert!(!dir.path().join("p").exists(), "nothing written on error");

    std::fs::write(dir.path().join("plan.json"), "{\"format\": \"something else\"}").unwrap();
    std::fs::write(dir.path().join("s.csv"), "x_mm,y_mm,z_mm\n1,2,oops\n").unwrap();
    let bad = cryoseed(&[
        "postimplant",
        "--plan",
        &d("plan.json"),
        "--case",
        &d("case"),
        "--seeds",
        &d("s.csv"),
        "--out",
        &d("o"),
    ]);
    // The seeds file is read first (cheap), and its bad value is named with its line.
    assert!(stderr(&bad).contains("s.csv line 2: z_mm: \"oops\" is not a number"), "{}", stderr(&bad));
    std::fs::write(dir.path().join("s.csv"), "x_mm,y_mm,z_mm\n1,2,3\n").unwrap();
    let bad = cryoseed(&[
        "postimplant",
        "--plan",
        &d("plan.json"),
        "--case",
        &d("case"),
        "--seeds",
        &d("s.csv"),
        "--out",
        &d("o"),
    ]);
    assert!(stderr(&bad).contains("format is not cryoseed-plan"), "{}", stderr(&bad));
    assert!(!dir.path().join("o").exists(), "nothing written on error");
    std::fs::write(dir.path().join("p.csv"), "x_mm,y_mm\n1,2\n").unwrap();
    let bad = cryoseed(&[
        "replan",
        "--plan",
        &d("plan.json"),
        "--case",
        &d("case"),
        "--placed",
        &d("p.csv"),
        "--out",
        &d("o"),
    ]);
    assert!(stderr(&bad).contains("p.csv line 1: no column z_mm"), "{}", stderr(&bad));
    assert!(!dir.path().join("o").exists(), "nothing written on error");
}
