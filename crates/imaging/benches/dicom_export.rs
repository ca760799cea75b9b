//! DICOM export speed (in memory, `build_dicom`): an RTSTRUCT with 20 ROIs on a 512×512×300
//! grid (0.8 × 0.8 × 1 mm, ellipsoids of 25–60 mm placed by a fixed formula), and an RTDOSE of
//! 200³ voxels with its RTPLAN.

use criterion::{Criterion, criterion_group, criterion_main};
use cryoseed_anatomy::{Case, Structure};
use cryoseed_core::{Days, Mm, Organ, PatientId, PatientPoint, StructureRole, U};
use cryoseed_imaging::dicom::{BrachyPlan, DicomExport, PlanSeed, SourceModel, build_dicom};
use cryoseed_volume::{Field, Grid, Mask};

fn ellipsoid(grid: Grid, c: [f64; 3], r: [f64; 3]) -> Mask {
    let mut m = Mask::empty(grid);
    let s = grid.spacing_mm();
    let o = grid.origin().0;
    let [nx, ny, nz] = grid.dims();
    let range = |a: usize, n: usize| {
        let lo = (((c[a] - r[a] - o[a]) / s[a]).floor().max(0.0)) as usize;
        let hi = ((((c[a] + r[a] - o[a]) / s[a]).ceil() + 1.0).max(0.0) as usize).min(n);
        lo..hi
    };
    for k in range(2, nz) {
        for j in range(1, ny) {
            for i in range(0, nx) {
                let p = grid.voxel_centre([i, j, k]).0;
                if (0..3).map(|a| ((p[a] - c[a]) / r[a]).powi(2)).sum::<f64>() <= 1.0 {
                    m.set([i, j, k], true);
                }
            }
        }
    }
    m
}

fn plan() -> BrachyPlan {
    BrachyPlan {
        label: "BENCH".into(),
        models: vec![SourceModel {
            id: "6711".into(),
            name: "6711".into(),
            isotope: "I-125".into(),
            half_life: Days(59.4),
            active_length: Some(Mm(3.0)),
        }],
        seeds: (0..60)
            .map(|n| PlanSeed {
                centre_in_patient: PatientPoint([
                    (n % 5) as f64 * 5.0,
                    (n / 5 % 4) as f64 * 5.0,
                    (n / 20) as f64 * 5.0,
                ]),
                axis_in_patient: Some([0.0, 0.0, 1.0]),
                air_kerma_strength: U(0.5),
                model: 0,
            })
            .collect(),
        strength_reference_date: "20261128".into(),
        strength_reference_time: "090000".into(),
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dicom_export");
    group.sample_size(10);

    let grid = Grid::new([512, 512, 300], [Mm(0.8), Mm(0.8), Mm(1.0)], PatientPoint([-204.8, -204.8, 0.0])).unwrap();
    let structures: Vec<Structure> = (0..20)
        .map(|n| {
            let f = n as f64;
            let centre = [((n % 5) as f64 - 2.0) * 70.0, ((n / 5) as f64 - 1.5) * 80.0, 60.0 + (f * 37.0) % 180.0];
            let radii = [25.0 + (f * 7.0) % 35.0, 20.0 + (f * 11.0) % 30.0, 30.0 + (f * 13.0) % 30.0];
            Structure {
                name: format!("Organ_{n:02}"),
                role: StructureRole::Organ,
                organ: Organ::SoftTissue,
                lesion: None,
                mask: ellipsoid(grid, centre, radii),
            }
        })
        .collect();
    let case = Case::new(PatientId::parse("BENCH-1").unwrap(), grid, structures).unwrap();
    let export =
        DicomExport { case: &case, ct: None, frame_of_reference_uid: None, extra_rois: &[], plan: None, dose: None };
    group.bench_function("rtstruct_20_rois_512x512x300", |b| b.iter(|| build_dicom(&export).unwrap()));

    let dose_grid = Grid::new([200, 200, 200], [Mm(1.0); 3], PatientPoint([-100.0; 3])).unwrap();
    let dose = Field::from_fn(dose_grid, |p| (1.0e3 / (1.0 + p.0.iter().map(|x| x * x).sum::<f64>() / 100.0)) as f32);
    let small = Grid::new([8, 8, 8], [Mm(1.0); 3], PatientPoint([0.0; 3])).unwrap();
    let empty_case = Case::new(PatientId::parse("BENCH-2").unwrap(), small, vec![]).unwrap();
    let plan = plan();
    let export = DicomExport {
        case: &empty_case,
        ct: None,
        frame_of_reference_uid: None,
        extra_rois: &[],
        plan: Some(&plan),
        dose: Some(&dose),
    };
    group.bench_function("rtdose_200cubed_rtplan_60_seeds", |b| b.iter(|| build_dicom(&export).unwrap()));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
