//! `cryoseed tg43` and `cryoseed dose` as a user meets them.

use super::{cryoseed, stderr, stdout};
use std::path::Path;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Column `col` of data row `row` of a CSV output, as a number.
fn cell(csv: &str, row: usize, col: usize) -> f64 {
    csv.lines().nth(row + 1).unwrap().split(',').nth(col).unwrap().parse().unwrap()
}

#[test]
fn tg43_prints_dose_rates_per_u_at_points() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("points.csv");
    write(&points, "x_cm,y_cm,z_cm\n1,0,0\n0,1.0,0\n0,0,2\n");
    let out = cryoseed(&["tg43", "--model", "6711", "--points", points.to_str().unwrap(), "--total"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("x_cm,y_cm,z_cm,dose_rate_cgy_per_h_per_u,total_dose_gy_per_u\n1,0,0,"), "{text}");
    // Λ at the reference point; TG-43U1 6711 total 1984.7 cGy per U (± 0.1 %).
    assert_eq!(cell(&text, 0, 3), 0.965);
    assert!((cell(&text, 0, 4) - 19.847).abs() <= 0.001 * 19.847);
    assert_eq!(cell(&text, 1, 3), 0.965);
    // On the axis at 2 cm: Λ·G_L(2,0)/G_L(1,90°)·g_L(2)·F(2,0°), with the published
    // g_L(2) = 0.814, F(2,0°) = 0.442.
    let g_axis = 1.0 / (4.0 - 0.0225);
    let g_ref = 2.0 * 0.15f64.atan() / 0.3;
    assert!((cell(&text, 2, 3) - 0.965 * g_axis / g_ref * 0.814 * 0.442).abs() < 1e-12);

    // The 1-D form: Λ·φ_an(1 cm) = 0.965 × 0.944; no total column without --total.
    let point = cryoseed(&["tg43", "--model", "6711", "--formalism", "point", "--points", points.to_str().unwrap()]);
    let text = stdout(&point);
    assert!(text.starts_with("x_cm,y_cm,z_cm,dose_rate_cgy_per_h_per_u\n"), "{text}");
    assert!((cell(&text, 0, 3) - 0.965 * 0.944).abs() < 1e-12);
}

#[test]
fn tg43_reads_a_model_directory_and_warns_about_unverified_models() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dose/data/tg43");
    let model_dir = dir.path().join("mymodel");
    std::fs::create_dir(&model_dir).unwrap();
    for suffix in ["meta", "gL", "F"] {
        std::fs::copy(data.join(format!("6702_{suffix}.csv")), model_dir.join(format!("my6702_{suffix}.csv"))).unwrap();
    }
    let points = dir.path().join("p.csv");
    write(&points, "x_cm,y_cm,z_cm\n1,0,0\n");
    let out = cryoseed(&["tg43", "--model", model_dir.to_str().unwrap(), "--points", points.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(cell(&stdout(&out), 0, 3), 1.036);

    let best = cryoseed(&["tg43", "--model", "best2301", "--points", points.to_str().unwrap()]);
    assert!(best.status.success());
    assert!(stderr(&best).contains("warning: Best 2301: F(r,theta) table unverified"), "{}", stderr(&best));
}

#[test]
fn tg43_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.csv");
    let check = |text: &str, model: &str, expected: &str| {
        write(&p, text);
        let out = cryoseed(&["tg43", "--model", model, "--points", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "expected {expected:?} in {}", stderr(&out));
    };
    check("x,y,z\n1,0,0\n", "6711", "p.csv line 1: header must be x_cm,y_cm,z_cm");
    check("x_cm,y_cm,z_cm\n1,0,0\n1,abc,0\n", "6711", "p.csv line 3: y_cm: not a number: \"abc\"");
    check("x_cm,y_cm,z_cm\n1,0,inf\n", "6711", "p.csv line 2: z_cm: must be finite");
    check("x_cm,y_cm,z_cm\n1,0,0\n", "9011", "unknown seed model \"9011\"");
    let usage = cryoseed(&["tg43", "--model", "6711", "--points", p.to_str().unwrap(), "--formalism", "cone"]);
    assert_eq!(usage.status.code(), Some(2));
}

const SEED_HEADER: &str = "x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model\n";

/// A phantom case at 3 mm and seeds 10 mm apart around the centroid of its first target.
fn case_with_seeds(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let case = dir.join("case");
    let out = cryoseed(&[
        "phantom",
        "--scenario",
        "liver-small-separated",
        "--out",
        case.to_str().unwrap(),
        "--spacing",
        "3",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let features = cryoseed(&["features", "--case", case.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&features)).unwrap();
    let c: Vec<f64> =
        doc["lesions"][1]["centroid_mm"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let mut text = String::from(SEED_HEADER);
    for (i, dx) in [-10.0, 0.0, 10.0].iter().enumerate() {
        for dy in [-10.0, 0.0, 10.0] {
            // The middle column has no direction: the 1-D form.
            let dir = if i == 1 { ",," } else { "0,0,1" };
            text.push_str(&format!("{},{},{},{dir},0.76,6711\n", c[0] + dx, c[1] + dy, c[2] + 0.5));
        }
    }
    let seeds = dir.join("seeds.csv");
    write(&seeds, &text);
    (case, seeds)
}

#[test]
fn dose_writes_grid_metrics_and_dvh() {
    let dir = tempfile::tempdir().unwrap();
    let (case, seeds) = case_with_seeds(dir.path());
    let out_dir = dir.path().join("dose");
    let out = cryoseed(&[
        "dose",
        "--case",
        case.to_str().unwrap(),
        "--seeds",
        seeds.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("9 seeds (6.84 U total)"), "{}", stdout(&out));
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["format"], "cryoseed-dose-metrics");
    assert_eq!(metrics["dose_unit"], "Gy");
    let case_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let structures = metrics["structures"].as_array().unwrap();
    assert_eq!(structures.len(), case_json["structures"].as_array().unwrap().len());
    let targets: Vec<_> = structures.iter().filter(|s| s["role"] == "gtv").collect();
    assert!(targets.iter().all(|t| t["target"]["prescription_gy"].as_f64().unwrap() > 0.0));
    // The implanted target (the one with the highest mean dose) is covered near its seeds: its
    // hottest voxels exceed the prescription, and all four plan goals are evaluated.
    let implanted = targets
        .iter()
        .max_by(|a, b| a["dmean_gy"].as_f64().unwrap().total_cmp(&b["dmean_gy"].as_f64().unwrap()))
        .unwrap();
    assert!(implanted["target"]["v100_percent"].as_f64().unwrap() > 0.0, "{implanted}");
    assert!(implanted["dmax_gy"].as_f64().unwrap() > implanted["target"]["prescription_gy"].as_f64().unwrap());
    assert_eq!(implanted["target"]["goals"].as_array().unwrap().len(), 4);
    assert!(structures.iter().any(|s| s["oar_limit"]["rule"].as_str().is_some_and(|r| r.starts_with("D0.1cc <="))));
    let dvh = std::fs::read_to_string(out_dir.join("dvh.csv")).unwrap();
    assert!(dvh.starts_with("structure,dose_gy,volume_cc,volume_percent\n"));
    let dose = cryoseed_imaging::nifti::read_image(&out_dir.join("dose.nii.gz")).unwrap();
    let grid = &case_json["grid"]["dims"];
    let dims: Vec<usize> = grid.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    assert_eq!(dose.grid.dims().to_vec(), dims);
    // The NIfTI holds the total dose in Gy: its maximum is the hottest structure's Dmax.
    let max = dose.values.iter().copied().fold(0.0, f64::max);
    let dmax = structures.iter().map(|s| s["dmax_gy"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!((max - dmax).abs() < 1e-3 * dmax, "{max} vs {dmax}");

    // A second run into the same directory is refused; nothing is overwritten.
    let again = cryoseed(&[
        "dose",
        "--case",
        case.to_str().unwrap(),
        "--seeds",
        seeds.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("the directory is not empty"), "{}", stderr(&again));
}

#[test]
fn dose_bad_seeds_name_the_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let (case, _) = case_with_seeds(dir.path());
    let seeds = dir.path().join("bad.csv");
    let check = |rows: &str, expected: &str| {
        write(&seeds, &format!("{SEED_HEADER}0,0,0,0,0,1,0.76,6711\n10,0,0,0,0,1,0.76,6711\n{rows}"));
        let out_dir = dir.path().join("never");
        let out = cryoseed(&[
            "dose",
            "--case",
            case.to_str().unwrap(),
            "--seeds",
            seeds.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(expected), "expected {expected:?} in {}", stderr(&out));
        assert!(!out_dir.exists());
    };
    check("20,0,0,0,0,1,-0.5,6711\n", "bad.csv line 4: sk_u: must be > 0, got -0.5");
    check("20,0,0,0,0,0,0.76,6711\n", "bad.csv line 4: direction: must have non-zero length");
    check("NaN,0,0,0,0,1,0.76,6711\n", "bad.csv line 4: position: must be finite");
    check("10,0,0,1,0,0,0.76,6702\n", "bad.csv line 4: same position as line 3");
    check("20,0,0,0,0,1,0.76,9011\n", "bad.csv line 4: model: unknown seed model \"9011\"");
    check("20,0,0,0,0,1,abc,6711\n", "bad.csv line 4: sk_u: not a number: \"abc\"");
    write(&seeds, "x,y,z\n");
    let out = cryoseed(&[
        "dose",
        "--case",
        case.to_str().unwrap(),
        "--seeds",
        seeds.to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(stderr(&out).contains("bad.csv line 1: header must be x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model"));
}
