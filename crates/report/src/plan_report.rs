//! The human report of a patient's plan (`report.html`): allocation table with the deciding
//! rule, zoning, seed and cryo plans, every constraint's verdict, OAR doses, DVHs, and axial,
//! coronal and sagittal slices through each lesion showing structures, zones, isodose lines,
//! isotherms, seeds and probes. The protocol's parameters marked "site physicians confirm" are
//! printed, as PROTOCOL.md asks of every plan report.

use crate::html::{Block, Document, Mark, Section};
use crate::plot::{DvhCurve, Isolines, Markers, Outline, Plane, SliceSpec, dvh_svg, slice_svg};
use crate::svg::PALETTE;
use cryoseed_anatomy::Case;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{PatientPoint, StructureRole};
use cryoseed_plan::{AllocationDecision, PatientPlan};
use cryoseed_volume::{Dvh, measure};

/// Renders the plan report.
pub fn plan_report(case: &Case, plan: &PatientPlan, protocol: &Protocol) -> String {
    let r = &plan.record;
    let mut sections = Vec::new();

    // Summary.
    let failed: Vec<_> = r.evaluation.verdicts.iter().filter(|v| !v.pass).collect();
    let mut summary = vec![Block::Paragraph(format!(
        "Arm: {}. {} target lesion(s); {} seed(s) on {} needle(s); {} cryoprobe(s). {}",
        arm_text(r),
        r.allocations.len(),
        r.total_seeds,
        r.seed_plans.iter().map(|p| p.plan.needles.len()).sum::<usize>(),
        r.cryo_plans.iter().map(|p| p.plan.probes.len()).sum::<usize>(),
        if failed.is_empty() {
            "Every protocol constraint holds.".to_owned()
        } else {
            format!("{} constraint(s) not met — see Verdicts.", failed.len())
        }
    ))];
    if !failed.is_empty() {
        summary.push(verdict_table("Constraints not met", &failed));
    }
    sections.push(Section { heading: "Summary".into(), blocks: summary });

    // Allocation.
    let rows = r
        .allocations
        .iter()
        .map(|a| {
            let mark = if a.deviation { Mark::Warn } else { Mark::Plain };
            (
                vec![
                    a.lesion_id.to_string(),
                    a.structure.clone(),
                    decision_text(a.decision).into(),
                    a.reason.clone(),
                    a.checks
                        .iter()
                        .map(|c| format!("{} {}", if c.met { "✓" } else { "✗" }, c.evidence))
                        .collect::<Vec<_>>()
                        .join("; "),
                    if a.deviation { "yes (override)".into() } else { "no".into() },
                ],
                mark,
            )
        })
        .collect();
    sections.push(Section {
        heading: "Lesion allocation".into(),
        blocks: vec![Block::Table {
            caption: None,
            headers: ["lesion", "structure", "treatment", "decided by", "criteria", "deviation"]
                .map(String::from)
                .to_vec(),
            rows,
        }],
    });

    if let Some(z) = &r.zoning {
        let mut items = vec![
            ("GTV".to_owned(), format!("{:.1} mL", z.gtv_volume.0)),
            ("core (cryo)".to_owned(), format!("{:.1} mL ({:.0} % of GTV)", z.core_volume.0, z.core_fraction_percent)),
            ("margin (seed target)".to_owned(), format!("{:.1} mL", z.margin_volume.0)),
            ("high-risk (seeds only)".to_owned(), format!("{:.1} mL", z.high_risk_volume.0)),
        ];
        if !z.high_risk_sources.is_empty() {
            items.push(("high-risk because of".into(), z.high_risk_sources.join(", ")));
        }
        if let Some(reason) = &z.empty_core_reason {
            items.push(("no core".into(), reason.clone()));
        }
        sections.push(Section {
            heading: "Tumour zoning of the bulky index lesion".into(),
            blocks: vec![Block::Definitions(items)],
        });
    }

    // Seed and cryo plans.
    let mut blocks = Vec::new();
    for p in &r.seed_plans {
        blocks.push(Block::Paragraph(format!(
            "{} ({}): {} seeds of {} at {:.3} U on {} needle(s).",
            p.lesion_id,
            p.target.replace('_', " "),
            p.plan.seeds.len(),
            p.plan.settings.model_id,
            p.plan.settings.air_kerma_strength.0,
            p.plan.needles.len(),
        )));
    }
    for c in &r.cryo_plans {
        let m = c.plan.physics.as_ref().unwrap_or(&c.plan.surrogate);
        blocks.push(Block::Paragraph(format!(
            "{} ({}): {} probe(s), {} freeze–thaw, {} tissue; lethal coverage {:.1} % ({} model).",
            c.lesion_id,
            c.target.replace('_', " "),
            c.plan.probes.len(),
            c.freeze_thaw,
            c.tissue,
            100.0 * m.coverage,
            m.model
        )));
    }
    if !blocks.is_empty() {
        sections.push(Section { heading: "Seeds and cryoprobes".into(), blocks });
    }

    // Verdicts and OAR doses.
    let all: Vec<_> = r.evaluation.verdicts.iter().collect();
    sections.push(Section { heading: "Verdicts".into(), blocks: vec![verdict_table("Every constraint", &all)] });
    let oar_rows = r
        .evaluation
        .oars
        .iter()
        .map(|o| {
            let value = o.dose.unwrap_or(o.dmax).0;
            let mark = if value <= o.limit.0 + 1e-9 { Mark::Pass } else { Mark::Fail };
            (
                vec![
                    o.structure.clone(),
                    format!("D{}cc", o.volume_cc),
                    o.dose.map_or_else(
                        || format!("(organ < {} cc) Dmax {:.1}", o.volume_cc, o.dmax.0),
                        |d| format!("{:.1}", d.0),
                    ),
                    format!("{:.1}", o.limit.0),
                    format!("{:.1}", o.dmax.0),
                ],
                mark,
            )
        })
        .collect();
    sections.push(Section {
        heading: "Organs at risk (total seed dose)".into(),
        blocks: vec![Block::Table {
            caption: None,
            headers: ["organ", "metric", "dose (Gy)", "limit (Gy)", "Dmax (Gy)"].map(String::from).to_vec(),
            rows: oar_rows,
        }],
    });

    // DVH.
    let mut dvhs: Vec<(String, Dvh, bool)> = Vec::new();
    for (id, target) in &plan.seed_targets {
        if let Ok(d) = Dvh::compute(&plan.dose, target) {
            dvhs.push((format!("{id} seed target"), d, false));
        }
    }
    for a in &r.allocations {
        if let Some(s) = case.structure(&a.structure)
            && let Ok(d) = Dvh::compute(&plan.dose, &s.mask)
        {
            dvhs.push((s.name.clone(), d, false));
        }
    }
    for o in &r.evaluation.oars {
        if let Some(s) = case.structure(&o.structure)
            && let Ok(d) = Dvh::compute(&plan.dose, &s.mask)
        {
            dvhs.push((s.name.clone(), d, true));
        }
    }
    if !r.seed_plans.is_empty() {
        let rx = r.seed_plans.first().map(|p| p.plan.settings.prescription);
        let curves: Vec<DvhCurve<'_>> =
            dvhs.iter().map(|(l, d, dashed)| DvhCurve { label: l.clone(), dvh: d, dashed: *dashed }).collect();
        sections.push(Section {
            heading: "Dose–volume histograms".into(),
            blocks: vec![Block::Figures(vec![dvh_svg(&curves, rx, "Cumulative DVH (total dose)")])],
        });
    }

    // Slices through each lesion.
    for a in &r.allocations {
        let Some(gtv) = case.structure(&a.structure) else { continue };
        let Some(centre) = measure::centroid(&gtv.mask) else { continue };
        let rx = protocol.prescription(gtv.organ.lesion_site()).0 as f32;
        let extent = gtv.mask.bounding_box().map_or(40.0, |b| {
            let s = case.grid().spacing_mm();
            let d = b.dims();
            (0..3).map(|i| d[i] as f64 * s[i]).fold(0.0, f64::max)
        });
        let half = (extent / 2.0 + 25.0).clamp(30.0, 120.0);
        let mut outlines =
            vec![Outline { label: gtv.name.clone(), mask: &gtv.mask, colour: "#ff3030".into(), dashed: false }];
        if let (Some(z), AllocationDecision::Zoned) = (&plan.zones, a.decision) {
            outlines.push(Outline { label: "core".into(), mask: &z.core, colour: "#00e5ff".into(), dashed: true });
            outlines.push(Outline {
                label: "margin (PTV)".into(),
                mask: &z.margin,
                colour: "#ffa500".into(),
                dashed: true,
            });
            outlines.push(Outline {
                label: "high-risk".into(),
                mask: &z.high_risk,
                colour: "#ff00ff".into(),
                dashed: true,
            });
        }
        for (i, s) in case
            .structures()
            .iter()
            .filter(|s| s.role == StructureRole::Oar && s.organ.critical_oar().is_some())
            .enumerate()
        {
            let near = measure::min_surface_distance(&gtv.mask, &s.mask).ok().flatten().is_some_and(|d| d.0 <= half);
            if near {
                outlines.push(Outline {
                    label: s.name.clone(),
                    mask: &s.mask,
                    colour: PALETTE[(i + 2) % PALETTE.len()].into(),
                    dashed: false,
                });
            }
        }
        let iso = [
            Isolines {
                field: &plan.dose,
                levels: vec![
                    (rx, format!("100 % ({rx} Gy)"), "#ffff00".into(), false),
                    (1.5 * rx, "150 %".into(), "#ff8c00".into(), false),
                    (2.0 * rx, "200 %".into(), "#ff0000".into(), false),
                ],
            },
            Isolines {
                field: &plan.min_temperature,
                levels: vec![
                    (0.0, "0 °C ice edge".into(), "#9ecbff".into(), true),
                    (
                        protocol.cryo.lethal_isotherm_c.0 as f32,
                        format!("{} °C lethal", protocol.cryo.lethal_isotherm_c.0),
                        "#1e90ff".into(),
                        false,
                    ),
                ],
            },
        ];
        let mut markers = Markers::default();
        for p in r.seed_plans.iter().filter(|p| p.lesion_id == a.lesion_id) {
            markers.seeds.extend(p.plan.seeds.iter().map(|s| s.centre_in_patient));
        }
        for c in r.cryo_plans.iter().filter(|c| c.lesion_id == a.lesion_id) {
            for p in &c.plan.probes {
                let tip = PatientPoint(p.tip_mm);
                let back = PatientPoint([
                    p.tip_mm[0] - 60.0 * p.direction[0],
                    p.tip_mm[1] - 60.0 * p.direction[1],
                    p.tip_mm[2] - 60.0 * p.direction[2],
                ]);
                markers.probes.push((tip, back));
            }
        }
        let figures = [Plane::Axial, Plane::Coronal, Plane::Sagittal]
            .map(|plane| {
                slice_svg(
                    case.grid(),
                    &SliceSpec { plane, through: centre, half_width_mm: half, size_px: 360.0 },
                    &outlines,
                    &iso,
                    &markers,
                    &format!("{} {}", a.lesion_id, short_decision(a.decision)),
                )
            })
            .to_vec();
        sections.push(Section {
            heading: format!("Lesion {} — slices", a.lesion_id),
            blocks: vec![Block::Figures(figures)],
        });
    }

    // Protocol parameters to confirm.
    let s = &protocol.seeds;
    let mut params = vec![
        (
            "prescription (lung / liver / soft tissue / bone)".to_owned(),
            format!(
                "{} / {} / {} / {} Gy",
                s.prescription_gy.lung.0,
                s.prescription_gy.liver.0,
                s.prescription_gy.soft_tissue.0,
                s.prescription_gy.bone.0
            ),
        ),
        ("seed".into(), format!("{} at {} U", s.model, s.air_kerma_strength_u.0)),
    ];
    for l in &s.oar_limits {
        params.push((format!("{:?} limit", l.oar), format!("D{}cc ≤ {} Gy", l.volume_cc.0, l.max_dose_gy.0)));
    }
    params.push(("lethal isotherm".into(), format!("{} °C", protocol.cryo.lethal_isotherm_c.0)));
    sections.push(Section {
        heading: "Protocol parameters (site physicians confirm)".into(),
        blocks: vec![Block::Definitions(params)],
    });

    Document {
        title: format!("Treatment plan — {}", r.inputs.patient_id),
        provenance: vec![
            (
                "protocol".into(),
                format!("{} {} (sha256 {})", r.protocol.name, r.protocol.version, &r.protocol.sha256[..12]),
            ),
            ("software".into(), format!("cryoseed {}", r.software_version)),
            ("case sha256".into(), r.inputs.case_sha256[..12].to_owned()),
            ("seed".into(), r.inputs.seed.to_string()),
        ],
        sections,
    }
    .render()
}

fn arm_text(r: &cryoseed_plan::PlanRecord) -> String {
    match r.inputs.arm {
        cryoseed_plan::ArmPlan::Experimental => "experimental (lesion allocation + tumour zoning)".into(),
        cryoseed_plan::ArmPlan::Control(m) => format!("control ({m:?} for every target)").to_lowercase(),
    }
}

fn decision_text(d: AllocationDecision) -> &'static str {
    match d {
        AllocationDecision::Seeds => "seeds",
        AllocationDecision::Cryo => "cryo",
        AllocationDecision::Zoned => "zoned (cryo core + seeded margin)",
    }
}

fn short_decision(d: AllocationDecision) -> &'static str {
    match d {
        AllocationDecision::Seeds => "seeds",
        AllocationDecision::Cryo => "cryo",
        AllocationDecision::Zoned => "zoned",
    }
}

fn verdict_table(caption: &str, verdicts: &[&cryoseed_plan::Verdict]) -> Block {
    Block::Table {
        caption: Some(caption.to_owned()),
        headers: ["scope", "constraint", "value", "limit", "result"].map(String::from).to_vec(),
        rows: verdicts
            .iter()
            .map(|v| {
                let result = if v.pass {
                    "pass".to_owned()
                } else {
                    format!("FAIL by {:.1} {}", v.shortfall.unwrap_or(0.0), v.unit)
                };
                (
                    vec![
                        v.scope.clone(),
                        v.constraint.clone(),
                        format!("{:.1} {}", v.value, v.unit),
                        format!("{:.1} {}", v.limit, v.unit),
                        result,
                    ],
                    if v.pass { Mark::Pass } else { Mark::Fail },
                )
            })
            .collect(),
    }
}
