//! Writes one of each plot, from synthetic inputs, into a directory, to look at them:
//! `cargo run -p cryoseed-report --example gallery -- /tmp/gallery`.

use cryoseed_core::protocol::KmCiTransform;
use cryoseed_core::{Gy, Mm, PatientPoint};
use cryoseed_report::*;
use cryoseed_stats::{CompetingRisksData, SurvivalData, aalen_johansen, kaplan_meier};
use cryoseed_volume::{Dvh, Field, Grid, Mask};

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "gallery".into()));
    std::fs::create_dir_all(&dir)?;
    let t: Vec<f64> = (1..=40).map(|i| f64::from(i) * 0.6).collect();
    let e: Vec<bool> = (1..=40).map(|i| i % 3 != 0).collect();
    let a = kaplan_meier(&SurvivalData::new(t.clone(), e.clone()).unwrap(), KmCiTransform::LogLog, 0.95).unwrap();
    let t2: Vec<f64> = t.iter().map(|v| v * 1.6).collect();
    let b = kaplan_meier(&SurvivalData::new(t2, e).unwrap(), KmCiTransform::LogLog, 0.95).unwrap();
    let groups = [KmGroup { label: "Control".into(), km: &a }, KmGroup { label: "Experimental".into(), km: &b }];
    std::fs::write(dir.join("km.svg"), km_svg(&groups, "Months", "Survival probability", "LPFS by arm").to_svg())?;
    let status: Vec<u32> = (0..40).map(|i| [1, 2, 0][i % 3]).collect();
    let cif = aalen_johansen(&CompetingRisksData::new(t.clone(), status).unwrap(), 1, 0.95).unwrap();
    std::fs::write(dir.join("cif.svg"), cif_svg(&[("All".into(), &cif)], "Months", "Local progression").to_svg())?;

    let grid = Grid::new([81, 81, 41], [Mm(1.0), Mm(1.0), Mm(2.0)], PatientPoint([-40.0, -40.0, -40.0])).unwrap();
    let gtv = Mask::from_fn(grid, |p| p.distance_to(PatientPoint([0.0; 3])).0 <= 15.0);
    let seeds: Vec<PatientPoint> = (-1..=1)
        .flat_map(|i| (-1..=1).map(move |j| PatientPoint([f64::from(i) * 10.0, f64::from(j) * 10.0, 0.0])))
        .collect();
    let dose = Field::from_fn(grid, |p| {
        seeds.iter().map(|s| (40.0 / (0.5 + (p.distance_to(*s).0 / 10.0).powi(2))) as f32).sum::<f32>()
    });
    let dvh = Dvh::compute(&dose, &gtv).unwrap();
    std::fs::write(
        dir.join("dvh.svg"),
        dvh_svg(&[DvhCurve { label: "GTV".into(), dvh: &dvh, dashed: false }], Some(Gy(110.0)), "DVH").to_svg(),
    )?;
    let spec = SliceSpec { plane: Plane::Axial, through: PatientPoint([0.0; 3]), half_width_mm: 35.0, size_px: 360.0 };
    let iso = [Isolines {
        field: &dose,
        levels: vec![
            (110.0, "100 % (110 Gy)".into(), "#ff0000".into(), false),
            (220.0, "200 %".into(), "#ff00ff".into(), false),
        ],
    }];
    let outlines = [Outline { label: "GTV".into(), mask: &gtv, colour: "#00ff00".into(), dashed: false }];
    let markers = Markers { seeds, probes: vec![] };
    std::fs::write(dir.join("slice.svg"), slice_svg(&grid, &spec, &outlines, &iso, &markers, "L1").to_svg())?;
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
    std::fs::write(dir.join("consort.svg"), consort_svg(&c).to_svg())?;
    Ok(())
}
