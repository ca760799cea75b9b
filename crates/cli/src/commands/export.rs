//! `cryoseed export --case DIR [--seeds SEEDS.csv --sk-date DATE] [--dose DOSE.nii.gz]
//! [--structure-masks DIR] --dicom-out DIR`: the case, its implant and dose as DICOM RT.
//!
//! `cryoseed export --db URL [--sdtm DIR] [--adam DIR] [--ipd DIR --ipd-seed S]`: the stored
//! trial as CDISC SDTM / ADaM datasets and de-identified individual participant data
//! ([`crate::commands::analysis`]). The two modes share the command because both are "exports
//! for other systems"; their flags exclude each other.

use crate::commands::dose::parse_seeds;
use crate::commands::tg43::{model_from_csv_dir, warn};
use anyhow::{Context, anyhow, bail};
use cryoseed_dose::{DoseError, Implant, SeedModel};
use cryoseed_imaging::dicom::{BrachyPlan, DicomExport, ExportRoi, PlanSeed, RoiType, SourceModel, export_dicom};
use cryoseed_volume::{Field, Grid, Mask};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `cryoseed export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case directory (case.json + masks/, optional ct.nii.gz). Every structure becomes an ROI
    /// (GTV, EXTERNAL or ORGAN by role); a CT is written as a CT series.
    #[arg(long, value_name = "CASE_DIR", required_unless_present = "db", conflicts_with = "db")]
    case: Option<PathBuf>,
    /// Output folder (must not exist, or be empty): rtstruct.dcm, and with --seeds rtplan.dcm,
    /// with --dose rtdose.dcm, with a case CT ct/slice_NNNN.dcm.
    #[arg(long, value_name = "DIR", required_unless_present = "db", conflicts_with = "db")]
    dicom_out: Option<PathBuf>,
    /// A plan (plan.json written by `cryoseed plan` on this case): exports its seeds as the RT
    /// Plan, its dose as the RT Dose, and its zones, seed and cryo targets and ice (0 °C and
    /// lethal) as ROIs. The plan is re-derived from the case and checked against the file.
    /// Replaces --seeds and --dose; needs --sk-date.
    #[arg(long, value_name = "PLAN.json", conflicts_with_all = ["seeds", "dose"])]
    plan: Option<PathBuf>,
    /// Seeds CSV as read by `cryoseed dose` (x_mm,y_mm,z_mm,dir_x,dir_y,dir_z,sk_u,model):
    /// written as an RT Plan for permanent brachytherapy, one channel per seed.
    #[arg(long, value_name = "SEEDS.csv")]
    seeds: Option<PathBuf>,
    /// Date the seeds' S_K refers to (Source Strength Reference Date), YYYY-MM-DD; required
    /// with --seeds.
    #[arg(long, value_name = "YYYY-MM-DD")]
    sk_date: Option<String>,
    /// Time of day the seeds' S_K refers to, HH:MM (24 h).
    #[arg(long, value_name = "HH:MM", default_value = "00:00")]
    sk_time: String,
    /// RT Plan Label (1 to 16 characters).
    #[arg(long, value_name = "LABEL", default_value = "SEED IMPLANT")]
    plan_label: String,
    /// Extra seed-model directory (same CSV layout as `tg43 --model DIR`). Repeatable.
    #[arg(long = "model-dir", value_name = "DIR")]
    model_dirs: Vec<PathBuf>,
    /// Dose grid in Gy (NIfTI, e.g. dose.nii.gz from `cryoseed dose`), written as an RT Dose
    /// referencing the plan; needs --seeds.
    #[arg(long, value_name = "DOSE.nii.gz")]
    dose: Option<PathBuf>,
    /// Folder of extra masks (*.nii, *.nii.gz: zones, targets, isotherms), one ROI per file named
    /// after the file; the interpreted type follows the name: GTV*, CTV*, PTV*/ITV*,
    /// External/Body, PRV*/Avoid*/Margin* (AVOIDANCE), anything else CONTROL. Repeatable.
    #[arg(long = "structure-masks", value_name = "DIR")]
    structure_masks: Vec<PathBuf>,
    /// Frame of Reference UID for every object (default: the one recorded by `cryoseed import`
    /// in case.json, else one derived from the content).
    #[arg(long, value_name = "UID")]
    frame_of_reference: Option<String>,
    /// Trial-database exports (CDISC SDTM/ADaM, de-identified IPD) instead of DICOM.
    #[command(flatten)]
    trial: crate::commands::analysis::TrialExportArgs,
}

fn dicom_date(arg: &str) -> anyhow::Result<String> {
    let parts: Vec<&str> = arg.split('-').collect();
    let ok = parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        bail!("--sk-date: {arg:?} is not a date YYYY-MM-DD");
    }
    Ok(parts.concat())
}

fn dicom_time(arg: &str) -> anyhow::Result<String> {
    let parts: Vec<&str> = arg.split(':').collect();
    let ok = parts.len() == 2 && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        bail!("--sk-time: {arg:?} is not a time HH:MM");
    }
    Ok(format!("{}{}00", parts[0], parts[1]))
}

/// Masks in `dir`, sorted by file name; each snapped to the case grid when it matches it at the
/// precision NIfTI stores geometry with.
fn read_mask_dir(dir: &Path, case_grid: &Grid) -> anyhow::Result<Vec<ExportRoi>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("--structure-masks: cannot read {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("--structure-masks: cannot read {}", dir.display()))?;
    paths.sort();
    let mut rois = Vec::new();
    for path in paths {
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(name) = file.strip_suffix(".nii.gz").or_else(|| file.strip_suffix(".nii")) else {
            continue;
        };
        let mask = cryoseed_imaging::nifti::read_mask(&path)?;
        let g = mask.grid();
        let close = |a: [f64; 3], b: [f64; 3]| a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-3);
        let mask = if g.dims() == case_grid.dims()
            && close(g.spacing_mm(), case_grid.spacing_mm())
            && close(g.origin().0, case_grid.origin().0)
        {
            Mask::from_vec(*case_grid, mask.as_slice().to_vec()).expect("same voxel count")
        } else {
            mask
        };
        rois.push(ExportRoi { name: name.to_owned(), roi_type: RoiType::from_name(name), mask });
    }
    if rois.is_empty() {
        bail!("--structure-masks: {} holds no .nii or .nii.gz file", dir.display());
    }
    Ok(rois)
}

fn source_model(m: &SeedModel) -> SourceModel {
    SourceModel {
        id: m.id().to_owned(),
        name: m.name().to_owned(),
        // Every TG-43U1 model cryoseed knows is an I-125 seed (crates/dose, data/tg43).
        isotope: "I-125".to_owned(),
        half_life: m.half_life(),
        active_length: Some(m.active_length().to_mm()),
    }
}

/// Reads the inputs, exports, prints what was written.
pub fn run(args: &Args, protocol: &cryoseed_core::protocol::Protocol) -> anyhow::Result<()> {
    if args.trial.db.is_some() {
        return crate::commands::analysis::run_export(&args.trial, protocol);
    }
    let (Some(case_dir), Some(dicom_out)) = (&args.case, &args.dicom_out) else {
        bail!("--case and --dicom-out are required (or --db for the trial exports)");
    };
    let loaded = cryoseed_imaging::read_case(case_dir)?;
    let ct = cryoseed_imaging::read_ct(&loaded)?;
    let case = &loaded.case;
    let mut extra = Vec::new();
    for dir in &args.structure_masks {
        extra.extend(read_mask_dir(dir, case.grid())?);
    }
    let mut from_plan: Option<cryoseed_plan::PatientPlan> = None;
    if let Some(plan_path) = &args.plan {
        let (_, p) = crate::commands::plan::rederive_plan(plan_path, case_dir, case, protocol)?;
        extra.extend(plan_rois(&p));
        from_plan = Some(p);
    }
    let plan =
        match &args.seeds {
            None if from_plan.is_some() => {
                let p = from_plan.as_ref().expect("checked");
                let date =
                    dicom_date(args.sk_date.as_deref().ok_or_else(|| {
                        anyhow!("--sk-date: required with --plan (the date the seeds' S_K refers to)")
                    })?)?;
                let time = dicom_time(&args.sk_time)?;
                let seeds: Vec<cryoseed_dose::Seed> = p
                    .record
                    .seed_plans
                    .iter()
                    .flat_map(|sp| {
                        sp.plan.seeds.iter().map(|s| cryoseed_dose::Seed {
                            centre_in_patient: s.centre_in_patient,
                            orientation: match s.axis_in_patient {
                                Some(axis) => cryoseed_dose::SeedOrientation::Axis(axis),
                                None => cryoseed_dose::SeedOrientation::Unknown,
                            },
                            air_kerma_strength: sp.plan.settings.air_kerma_strength,
                            model: sp.plan.settings.model_id.clone(),
                        })
                    })
                    .collect();
                if seeds.is_empty() {
                    None
                } else {
                    let implant = Implant::new(&seeds, &[]).map_err(|e| anyhow!("plan seeds: {e}"))?;
                    Some(brachy_plan(&implant, &args.plan_label, date, time))
                }
            }
            None => None,
            Some(path) => {
                let date =
                    dicom_date(args.sk_date.as_deref().ok_or_else(|| {
                        anyhow!("--sk-date: required with --seeds (the date the seeds' S_K refers to)")
                    })?)?;
                let time = dicom_time(&args.sk_time)?;
                let extra_models: Vec<SeedModel> =
                    args.model_dirs.iter().map(|d| model_from_csv_dir(d)).collect::<anyhow::Result<_>>()?;
                let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                let (seeds, lines) = parse_seeds(&name, &text)?;
                if seeds.is_empty() {
                    bail!("{name}: no seeds");
                }
                let implant = Implant::new(&seeds, &extra_models).map_err(|e| match e {
                    DoseError::Seed { index, field, message } => {
                        anyhow!("{name} line {}: {field}: {message}", lines[index])
                    }
                    DoseError::DuplicateSeed { first, second, distance_mm } => anyhow!(
                        "{name} line {}: same position as line {} ({distance_mm:.4} mm apart)",
                        lines[second],
                        lines[first]
                    ),
                    other => anyhow!("{name}: {other}"),
                })?;
                for model in implant.models() {
                    if let Some(caveat) = model.caveat() {
                        warn(caveat);
                    }
                }
                Some(brachy_plan(&implant, &args.plan_label, date, time))
            }
        };
    let dose: Option<Field<f32>> = match &args.dose {
        None if plan.is_some() => from_plan.as_ref().map(|p| p.dose.clone()),
        None => None,
        Some(path) => {
            if plan.is_none() {
                bail!("--dose: needs --seeds (an RT Dose references the RT Plan whose dose it is)");
            }
            Some(cryoseed_imaging::nifti::read_field_f32(path)?)
        }
    };
    let frame_of_reference_uid = args.frame_of_reference.as_deref().or(loaded.frame_of_reference_uid.as_deref());
    let export = DicomExport {
        case,
        ct: ct.as_ref(),
        frame_of_reference_uid,
        extra_rois: &extra,
        plan: plan.as_ref(),
        dose: dose.as_ref(),
    };
    let summary =
        export_dicom(dicom_out, &export).with_context(|| format!("cannot export {} as DICOM", case_dir.display()))?;
    let mut s = String::new();
    let ct_slices = summary.files.iter().filter(|f| f.path.starts_with("ct")).count();
    let _ = writeln!(
        s,
        "wrote {} files to {}: {}RTSTRUCT ({} ROIs){}{}",
        summary.files.len(),
        dicom_out.display(),
        if ct_slices > 0 { format!("CT series ({ct_slices} slices), ") } else { String::new() },
        summary.rois.len(),
        plan.as_ref().map(|p| format!(", RTPLAN ({} seeds)", p.seeds.len())).unwrap_or_default(),
        summary.dose_grid_scaling.map(|g| format!(", RTDOSE (DoseGridScaling {g:e} Gy)")).unwrap_or_default(),
    );
    let _ = writeln!(s, "  Study Instance UID        {}", summary.study_uid);
    let _ = writeln!(s, "  Frame of Reference UID    {}", summary.frame_of_reference_uid);
    for (name, kind, contours) in &summary.rois {
        let _ = writeln!(s, "  {name:<24} {:<10} {contours:>6} contours", kind.as_dicom());
    }
    if ct_slices == 0 {
        let _ = writeln!(
            s,
            "note: the case has no CT, so no image series was written; viewers that draw contours over an image need a CT in frame of reference {}",
            summary.frame_of_reference_uid
        );
    }
    crate::output::print(&s)
}

/// The plan's own structures as ROIs: zones of the bulky lesion, seed and cryo targets, ice.
fn plan_rois(p: &cryoseed_plan::PatientPlan) -> Vec<ExportRoi> {
    let mut rois = Vec::new();
    let mut push = |name: String, roi_type: RoiType, mask: &Mask| {
        if !mask.is_empty() {
            rois.push(ExportRoi { name, roi_type, mask: mask.clone() });
        }
    };
    if let Some(z) = &p.zones {
        push("Zone_Core".into(), RoiType::Control, &z.core);
        push("PTV_Margin".into(), RoiType::Ptv, &z.margin);
        push("Zone_HighRisk".into(), RoiType::Control, &z.high_risk);
    }
    for (id, m) in &p.seed_targets {
        push(format!("PTV_Seeds_{id}"), RoiType::Ptv, m);
    }
    for (id, m) in &p.cryo_targets {
        push(format!("PTV_Cryo_{id}"), RoiType::Ptv, m);
    }
    push("Ice_0C".into(), RoiType::Control, &p.ice.edge);
    push("Ice_Lethal".into(), RoiType::Control, &p.ice.lethal);
    rois
}

/// The RT Plan of an implant.
fn brachy_plan(implant: &Implant, label: &str, date: String, time: String) -> BrachyPlan {
    BrachyPlan {
        label: label.to_owned(),
        models: implant.models().iter().map(source_model).collect(),
        seeds: implant
            .seeds()
            .iter()
            .map(|s| PlanSeed {
                centre_in_patient: s.centre_in_patient,
                axis_in_patient: s.axis_in_patient,
                air_kerma_strength: s.air_kerma_strength,
                model: s.model_index,
            })
            .collect(),
        strength_reference_date: date,
        strength_reference_time: time,
    }
}
