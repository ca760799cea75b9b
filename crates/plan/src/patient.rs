//! The whole plan of one patient: features → access paths → allocation → zoning → cryoprobe
//! placement and seed inverse planning per lesion → one dose grid and one ice map → combined
//! evaluation → the versioned plan record.
//!
//! Decisions:
//! - Each seed target is optimized on its own (its seeds, its needles); the patient's dose is the
//!   sum of every lesion's seeds computed on the case grid by the dose engine, so cross-dose
//!   between lesions counts in the evaluation (OAR limits, V150/V200) although the optimizer of one
//!   lesion does not see the others' seeds. Target lesions of one patient are far apart in the
//!   trial (different organs or segments), and the evaluation says so when it matters.
//! - Needles and probes enter along the lesion's best straight access path ([`crate::access`]):
//!   a parallel template perpendicular to the skin there, probes parallel to it.
//! - Ice is predicted with the cryo surrogate calibrated for the lesion organ's tissue and the
//!   protocol's freeze–thaw sequence for its site; the physics model verifies it on request.

use crate::PlanError;
use crate::access::{Access, AccessMap, AccessSettings};
use crate::allocation::{Allocation, AllocationDecision, ArmPlan, Override, allocate};
use crate::evaluate::{
    Evaluation, EvaluationSettings, LesionIce, LesionInput, critical_oars, cryo_target, evaluate, seed_target,
};
use crate::seeds::{
    FixedSeed, NeedleObstacle, PostImplantReport, SeedOar, SeedPlan, SeedPlanConfig, SeedPlanRequest, SeedSettings,
    SeedStructures, TrackSource, choose_templates, plan_seeds, post_implant,
};
use crate::zoning::{Zones, ZoningSummary, ice_confinement, zone};
use cryoseed_anatomy::features::is_vessel;
use cryoseed_anatomy::{Case, Structure, lesion_features};
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{LesionId, Mm, Organ, PatientId, PatientPoint, PatientVector, StructureRole};
use cryoseed_cryo::placement::{OarConstraint, PlacementRequest, ProbeDirections, ProbePlan, plan_probes};
use cryoseed_cryo::{BioheatConfig, Medium, ProbeCatalogue, SurrogateLibrary};
use cryoseed_dose::{DoseGridConfig, Implant, Seed, SeedOrientation, builtin_model, dose_grid};
use cryoseed_volume::{Field, Mask, erode};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Most needle templates (directions) per seed target.
pub const MAX_TEMPLATES: usize = 3;

/// Templates are added while the target has fewer candidate seed positions than this per mL
/// (one 10 mm template is too sparse for a target of a few mL).
pub const MIN_CANDIDATES_PER_ML: f64 = 4.0;

/// Needle directions tried besides the access path's: the eight axial ones (every 45°) and the
/// same tilted 30° cranially and caudally.
pub fn standard_directions() -> Vec<[f64; 3]> {
    let mut out = Vec::new();
    for tilt in [0.0f64, 30.0, -30.0] {
        let (sz, cz) = tilt.to_radians().sin_cos();
        for k in 0..8 {
            let (sa, ca) = (f64::from(k) * 45.0).to_radians().sin_cos();
            out.push([cz * ca, cz * sa, sz]);
        }
    }
    out
}

/// Version of the plan record layout.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// Settings of the planner that the protocol does not fix (recorded in every plan).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannerSettings {
    /// Access-path search.
    pub access: AccessSettings,
    /// Evaluation thresholds.
    pub evaluation: EvaluationSettings,
    /// Seed search knobs (its `rng_seed` is replaced by the plan's seed).
    pub seed_search: SeedPlanConfig,
    /// Cryoprobe class (probe catalogue name).
    pub probe_class: String,
}

impl Default for PlannerSettings {
    fn default() -> Self {
        PlannerSettings {
            access: AccessSettings::default(),
            evaluation: EvaluationSettings::default(),
            seed_search: SeedPlanConfig::default(),
            probe_class: "2.4mm-argon".into(),
        }
    }
}

/// What a plan is made from.
#[derive(Clone, Debug)]
pub struct PlanRequest<'a> {
    /// The patient's anatomy.
    pub case: &'a Case,
    /// The arm (and the control arm's modality).
    pub arm: ArmPlan,
    /// Investigator overrides of the allocation.
    pub overrides: Vec<Override>,
    /// The protocol.
    pub protocol: &'a Protocol,
    /// Planner settings.
    pub settings: PlannerSettings,
    /// Seed of every randomized search.
    pub seed: u64,
}

/// The protocol a plan was made under.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolRef {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the canonical protocol.
    pub sha256: String,
}

/// A structure of the case as recorded in the plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructureRecord {
    /// Name.
    pub name: String,
    /// Role.
    pub role: StructureRole,
    /// Organ.
    pub organ: Organ,
    /// Volume, mL.
    pub volume_ml: f64,
}

/// The inputs of a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanInputs {
    /// Patient (pseudonymous study id).
    pub patient_id: PatientId,
    /// SHA-256 of the case (grid and every structure's name, role, organ, lesion data and voxels).
    pub case_sha256: String,
    /// Grid dimensions.
    pub grid_dims: [usize; 3],
    /// Grid spacing, mm.
    pub grid_spacing_mm: [f64; 3],
    /// Structures.
    pub structures: Vec<StructureRecord>,
    /// Arm.
    pub arm: ArmPlan,
    /// Overrides.
    pub overrides: Vec<Override>,
    /// Seed of the randomized searches.
    pub seed: u64,
    /// Planner settings.
    pub settings: PlannerSettings,
}

/// The seed plan of one lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionSeedPlan {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Which target: `gtv_plus_margin` (whole lesion) or `margin_zone` (zoned lesion).
    pub target: &'static str,
    /// The plan.
    pub plan: SeedPlan,
}

/// The cryo plan of one lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionCryoPlan {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Which target: `gtv_plus_margin` (whole lesion) or `core` (zoned lesion).
    pub target: &'static str,
    /// Freeze–thaw sequence name.
    pub freeze_thaw: String,
    /// Tissue whose calibration predicted the ice.
    pub tissue: Organ,
    /// How far the zoned core's lethal target was shrunk from its surface to keep every safety
    /// constraint, mm (0: the whole core; the uncovered part joins the seed target).
    pub core_shrink_mm: f64,
    /// The plan.
    pub plan: ProbePlan,
}

/// The versioned plan record (`plan.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlanRecord {
    /// Always `cryoseed-plan`.
    pub format: &'static str,
    /// [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// Software version that made it.
    pub software_version: &'static str,
    /// Protocol.
    pub protocol: ProtocolRef,
    /// Inputs.
    pub inputs: PlanInputs,
    /// Access path per target lesion.
    pub access: Vec<(LesionId, Access)>,
    /// Allocation per target lesion.
    pub allocations: Vec<Allocation>,
    /// Zoning of the bulky index lesion (experimental arm).
    pub zoning: Option<ZoningSummary>,
    /// Seed plans.
    pub seed_plans: Vec<LesionSeedPlan>,
    /// Cryo plans.
    pub cryo_plans: Vec<LesionCryoPlan>,
    /// Seeds of the whole implant.
    pub total_seeds: usize,
    /// Combined evaluation.
    pub evaluation: Evaluation,
}

/// A plan with the fields it was evaluated on.
#[derive(Debug)]
pub struct PatientPlan {
    /// The record.
    pub record: PlanRecord,
    /// Total seed dose on the case grid, Gy.
    pub dose: Field<f32>,
    /// Predicted minimum temperature on the case grid (37 °C where no probe reaches), °C.
    pub min_temperature: Field<f32>,
    /// Union of all lesions' ice.
    pub ice: LesionIce,
    /// Each cryoablated lesion's ice.
    pub lesion_ices: Vec<(LesionId, LesionIce)>,
    /// Zones of the bulky lesion.
    pub zones: Option<Zones>,
    /// Seed targets per lesion (for DVHs and export).
    pub seed_targets: Vec<(LesionId, Mask)>,
    /// Cryo targets per lesion.
    pub cryo_targets: Vec<(LesionId, Mask)>,
}

/// Makes the plan of one patient (module docs).
pub fn plan_patient(request: &PlanRequest<'_>) -> Result<PatientPlan, PlanError> {
    let case = request.case;
    let protocol = request.protocol;
    let grid = *case.grid();
    let features = lesion_features(case, protocol);
    let access_map = AccessMap::new(case, request.settings.access)?;
    let access: Vec<Access> = features
        .iter()
        .map(|f| {
            if f.is_target {
                access_map.search(case.structure(&f.structure).expect("features name case structures"))
            } else {
                Access::None(crate::access::NoAccess {
                    reason: "not a target".into(),
                    best_clearance: None,
                    nearest_obstacle: None,
                })
            }
        })
        .collect();
    let allocations = allocate(&features, &access, request.arm, &request.overrides, protocol)?;
    let body = body_mask(case)?;
    let oars = critical_oars(case);
    for a in &allocations {
        let gtv = case.structure(&a.structure).expect("allocations name case structures");
        for (oar, _) in &oars {
            if gtv.mask.as_slice().iter().zip(oar.mask.as_slice()).any(|(g, o)| *g && *o) {
                return Err(PlanError::Lesion {
                    lesion: a.lesion_id.to_string(),
                    message: format!("the GTV overlaps the organ at risk {}; correct the contours", oar.name),
                });
            }
        }
    }

    let mut zones: Option<Zones> = None;
    let mut seed_plans = Vec::new();
    let mut cryo_plans = Vec::new();
    let mut seed_targets = Vec::new();
    let mut cryo_targets = Vec::new();
    let mut all_seeds: Vec<Seed> = Vec::new();
    let mut ices: Vec<(LesionId, LesionIce)> = Vec::new();
    let mut min_temperature = Field::filled(grid, BioheatConfig::BODY_TEMPERATURE.0 as f32);
    let catalogue = ProbeCatalogue::shipped();
    let library = SurrogateLibrary::shipped();

    for (i, a) in allocations.iter().enumerate() {
        let gtv = case.structure(&a.structure).expect("allocations name case structures");
        let lesion_access = access.iter().zip(&features).find(|(_, f)| f.lesion_id == a.lesion_id).map(|(x, _)| x);
        let path = lesion_access.and_then(Access::path);
        let insertion = insertion_direction(lesion_access);
        if a.decision == AllocationDecision::Zoned {
            zones = Some(zone(case, gtv, protocol)?);
        }

        // Cryo: whole lesion, or the zoned core.
        let cryo = match a.decision {
            AllocationDecision::Cryo => Some((
                cryo_target(case, &gtv.mask, protocol),
                None,
                protocol.allocation.min_ice_to_oar_mm,
                protocol.cryo.lethal_isotherm_c,
                "gtv_plus_margin",
            )),
            AllocationDecision::Zoned => match &zones {
                Some(z) if !z.core.is_empty() => Some((
                    z.core.clone(),
                    Some(ice_confinement(&gtv.mask, protocol)),
                    protocol.zoning.ice_edge_min_oar_distance_mm,
                    protocol.core_lethal_isotherm(),
                    "core",
                )),
                _ => None,
            },
            AllocationDecision::Seeds => None,
        };
        if let Some((target, confinement, min_ice, lethal, name)) = cryo {
            let tissue_organ = tissue_organ(gtv);
            let freeze =
                protocol.default_freeze_thaw().expect("a validated protocol has its default freeze-thaw sequence");
            let class = catalogue
                .class(&request.settings.probe_class)
                .map_err(|e| PlanError::Input { field: "probe_class", message: e.to_string() })?
                .clone();
            let medium = Medium::from_tissue(&protocol.cryo.tissue_for(tissue_organ))
                .map_err(|e| PlanError::Input { field: "cryo.tissue", message: e.to_string() })?;
            let surface = class.surface_temperature.unwrap_or(protocol.cryo.probe_surface_temperature_c);
            let model = library
                .find(&class, &medium, &freeze.phases, BioheatConfig::BODY_TEMPERATURE, surface)
                .map_err(|e| PlanError::Lesion { lesion: a.lesion_id.to_string(), message: e.to_string() })?;
            let mut placement = PlacementRequest::from_protocol(
                &protocol.cryo,
                target.clone(),
                class.clone(),
                ProbeDirections::Parallel(PatientVector(insertion)),
            );
            placement.lethal_isotherm = lethal;
            placement.min_coverage = request.settings.evaluation.min_cryo_coverage_percent / 100.0;
            placement.confinement = confinement;
            placement.oars = oars
                .iter()
                .map(|(s, _)| OarConstraint { name: s.name.clone(), mask: s.mask.clone(), min_ice_distance: min_ice })
                .collect();
            // Probe directions tried: the target's long axis in the axial plane, the lesion's
            // best access path, and the short in-plane axis; the first two that are accessible.
            let mut directions: Vec<[f64; 3]> = Vec::new();
            let [major, minor] = axial_axes(&target);
            // The deepest GTV point, once per lesion (a distance transform of the whole grid).
            let deepest = path.map_or_else(|| access_map.target_point(gtv), |p| p.target);
            for d in [Some(major), path.map(|_| insertion), Some(minor)].into_iter().flatten() {
                let accessible = [d, [-d[0], -d[1], -d[2]]].into_iter().find(|dir| {
                    path.is_some_and(|p| same_direction(p.direction, [-dir[0], -dir[1], -dir[2]]))
                        || access_map.path_along(gtv, deepest, *dir).is_some()
                });
                if let Some(dir) = accessible
                    && !directions
                        .iter()
                        .any(|e| same_direction(*e, dir) || same_direction(*e, [-dir[0], -dir[1], -dir[2]]))
                {
                    directions.push(dir);
                }
            }
            if directions.is_empty() {
                directions.push(insertion);
            }
            // The zoned core: when no plan keeps every safety constraint (OAR distance, ice
            // confinement, probe rules), the lethal target shrinks from the core's surface in
            // steps of `CORE_SHRINK_STEP_MM` (the part left uncovered joins the seed target).
            let shrinks: &[f64] = if a.decision == AllocationDecision::Zoned { &CORE_SHRINK_MM } else { &[0.0] };
            let mut best: Option<(ProbePlan, f64)> = None;
            for &shrink in shrinks {
                placement.target = if shrink > 0.0 { erode(&target, Mm(shrink)) } else { target.clone() };
                if placement.target.is_empty() {
                    break;
                }
                let mut best_here: Option<ProbePlan> = None;
                for dir in directions.iter().take(MAX_PROBE_DIRECTIONS) {
                    placement.directions = ProbeDirections::Parallel(PatientVector(*dir));
                    let candidate = plan_probes(&placement, model)
                        .map_err(|e| PlanError::Lesion { lesion: a.lesion_id.to_string(), message: e.to_string() })?;
                    if best_here.as_ref().is_none_or(|b| probe_plan_better(&candidate, b)) {
                        best_here = Some(candidate);
                    }
                }
                let here = best_here.expect("at least one direction is tried");
                let safe = is_safe(&here);
                if best
                    .as_ref()
                    .is_none_or(|(b, _)| (safe && !is_safe(b)) || (safe == is_safe(b) && probe_plan_better(&here, b)))
                {
                    best = Some((here, shrink));
                }
                if safe {
                    break;
                }
            }
            let (probe_plan, core_shrink_mm) = best.expect("the unshrunk target is tried");
            let probes = probe_plan
                .placed_probes(&class)
                .map_err(|e| PlanError::Lesion { lesion: a.lesion_id.to_string(), message: e.to_string() })?;
            let field = model
                .min_temperature(&grid, &probes)
                .map_err(|e| PlanError::Lesion { lesion: a.lesion_id.to_string(), message: e.to_string() })?;
            for (m, v) in min_temperature.as_mut_slice().iter_mut().zip(field.as_slice()) {
                *m = m.min(*v);
            }
            let edge = field.threshold(|t| f64::from(t) <= 0.0);
            let lethal_mask = field.threshold(|t| f64::from(t) <= lethal.0);
            ices.push((a.lesion_id.clone(), LesionIce { edge, lethal: lethal_mask }));
            cryo_plans.push(LesionCryoPlan {
                lesion_id: a.lesion_id.clone(),
                target: name,
                freeze_thaw: freeze.name.clone(),
                tissue: tissue_organ,
                core_shrink_mm,
                plan: probe_plan,
            });
            cryo_targets.push((a.lesion_id.clone(), target));
        }

        // Seeds: the whole lesion + margin, or the zoned lesion's margin plus any part of the core
        // the lethal ice does not cover (the covered core is the don't-care region).
        let (seed_region, dont_care, seed_target_name) = match a.decision {
            AllocationDecision::Seeds => (Some(seed_target(case, &gtv.mask, protocol)), None, "gtv_plus_margin"),
            AllocationDecision::Zoned => {
                let z = zones.as_ref().expect("zoned above");
                let lethal = ices.iter().find(|(id, _)| *id == a.lesion_id).map(|(_, ice)| &ice.lethal);
                let mut region = z.margin.clone();
                let mut covered_core = Mask::empty(grid);
                for (k, inside) in z.core.as_slice().iter().enumerate() {
                    if *inside {
                        if lethal.is_some_and(|l| l.as_slice()[k]) {
                            covered_core.as_mut_slice()[k] = true;
                        } else {
                            region.as_mut_slice()[k] = true;
                        }
                    }
                }
                (Some(region), (!covered_core.is_empty()).then_some(covered_core), "margin_zone")
            }
            AllocationDecision::Cryo => (None, None, ""),
        };
        if let Some(region) = seed_region {
            let seed_request = lesion_seed_request(
                LesionSeedTarget { case, gtv, region: &region, dont_care: dont_care.as_ref(), body, insertion },
                protocol,
                request.settings.seed_search,
                lesion_rng_seed(request.seed, i),
            )?;
            let outcome = plan_seeds(&seed_request)?;
            for s in &outcome.plan.seeds {
                all_seeds.push(Seed {
                    centre_in_patient: s.centre_in_patient,
                    orientation: match s.axis_in_patient {
                        Some(axis) => SeedOrientation::Axis(axis),
                        None => SeedOrientation::Unknown,
                    },
                    air_kerma_strength: outcome.plan.settings.air_kerma_strength,
                    model: outcome.plan.settings.model_id.clone(),
                });
            }
            seed_plans.push(LesionSeedPlan {
                lesion_id: a.lesion_id.clone(),
                target: seed_target_name,
                plan: outcome.plan,
            });
            seed_targets.push((a.lesion_id.clone(), region));
        }
    }

    // One dose grid for the whole implant.
    let dose = if all_seeds.is_empty() {
        Field::filled(grid, 0.0f32)
    } else {
        let implant =
            Implant::new(&all_seeds, &[]).map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })?;
        dose_grid(&implant, &grid, &DoseGridConfig::default())
            .map_err(|e| PlanError::Input { field: "dose", message: e.to_string() })?
    };

    let inputs: Vec<LesionInput<'_>> = allocations
        .iter()
        .map(|a| LesionInput {
            lesion_id: a.lesion_id.clone(),
            gtv: case.structure(&a.structure).expect("allocations name case structures"),
            decision: a.decision,
            zones: zones.as_ref().filter(|z| z.structure == a.structure),
            seed_target: seed_targets.iter().find(|(id, _)| *id == a.lesion_id).map(|(_, m)| m),
            ice: ices.iter().find(|(id, _)| *id == a.lesion_id).map(|(_, ice)| ice),
        })
        .collect();
    let evaluation = evaluate(case, &inputs, &dose, protocol, &request.settings.evaluation)?;
    let ice = crate::evaluate::union_ice(&ices.iter().map(|(_, i)| i).collect::<Vec<_>>(), grid);

    let record = PlanRecord {
        format: "cryoseed-plan",
        format_version: PLAN_FORMAT_VERSION,
        software_version: cryoseed_core::SOFTWARE_VERSION,
        protocol: ProtocolRef {
            name: protocol.protocol.name.clone(),
            version: protocol.protocol.version.clone(),
            sha256: protocol.hash().to_string(),
        },
        inputs: PlanInputs {
            patient_id: case.patient_id().clone(),
            case_sha256: case_hash(case),
            grid_dims: grid.dims(),
            grid_spacing_mm: grid.spacing_mm(),
            structures: case
                .structures()
                .iter()
                .map(|s| StructureRecord {
                    name: s.name.clone(),
                    role: s.role,
                    organ: s.organ,
                    volume_ml: s.mask.volume().0,
                })
                .collect(),
            arm: request.arm,
            overrides: request.overrides.clone(),
            seed: request.seed,
            settings: request.settings.clone(),
        },
        access: features
            .iter()
            .zip(access)
            .filter(|(f, _)| f.is_target)
            .map(|(f, a)| (f.lesion_id.clone(), a))
            .collect(),
        allocations,
        zoning: zones.as_ref().map(|z| z.summary.clone()),
        total_seeds: all_seeds.len(),
        seed_plans,
        cryo_plans,
        evaluation,
    };
    Ok(PatientPlan { record, dose, min_temperature, ice, lesion_ices: ices, zones, seed_targets, cryo_targets })
}

/// Needle and probe insertion direction of a lesion: from the skin entry of its access path
/// towards the target, or anteroposterior when it has none.
pub(crate) fn insertion_direction(access: Option<&Access>) -> [f64; 3] {
    access
        .and_then(Access::path)
        .map(|p| [-p.direction[0], -p.direction[1], -p.direction[2]])
        .unwrap_or([0.0, -1.0, 0.0])
}

/// Seed of the randomized seed search of the `index`-th allocated lesion.
pub(crate) fn lesion_rng_seed(plan_seed: u64, index: usize) -> u64 {
    plan_seed.wrapping_add(index as u64)
}

/// Where one lesion's seeds go.
pub(crate) struct LesionSeedTarget<'a> {
    pub(crate) case: &'a Case,
    pub(crate) gtv: &'a Structure,
    /// The seed target (whole lesion + margin, or the zoned lesion's margin and uncovered core).
    pub(crate) region: &'a Mask,
    /// The zoned core the lethal ice covers.
    pub(crate) dont_care: Option<&'a Mask>,
    pub(crate) body: &'a Mask,
    /// Needle insertion direction (from the skin entry towards the target).
    pub(crate) insertion: [f64; 3],
}

/// The seed-planning request of one lesion, as [`plan_patient`] makes it: the protocol's seed
/// settings for the lesion's site, the access path's direction first and then the standard ones
/// as needle templates (up to [`MAX_TEMPLATES`], added while the target has fewer than
/// [`MIN_CANDIDATES_PER_ML`] candidate positions per mL), no fixed seeds.
pub(crate) fn lesion_seed_request<'a>(
    target: LesionSeedTarget<'a>,
    protocol: &Protocol,
    search: SeedPlanConfig,
    rng_seed: u64,
) -> Result<SeedPlanRequest<'a>, PlanError> {
    let LesionSeedTarget { case, gtv, region, dont_care, body, insertion } = target;
    let settings = SeedSettings::from_protocol(&protocol.seeds, gtv.organ.lesion_site());
    let model = builtin_model(&settings.model_id)
        .map_err(|e| PlanError::Input { field: "seeds.model", message: e.to_string() })?;
    let mut config = search;
    config.rng_seed = rng_seed;
    let structures = seed_structures(case, gtv, region, dont_care, body, protocol);
    let mut directions = vec![insertion];
    directions.extend(standard_directions());
    let templates =
        choose_templates(&structures, &settings, &config, &directions, MAX_TEMPLATES, MIN_CANDIDATES_PER_ML)?;
    Ok(SeedPlanRequest {
        structures,
        settings,
        model,
        tracks: templates.into_iter().map(TrackSource::Template).collect(),
        fixed_seeds: Vec::<FixedSeed>::new(),
        config,
    })
}

/// The structures of one lesion's seed target: the target, the don't-care core, the body,
/// every critical OAR with its protocol limit, and the needle obstacles (vessels that are not
/// OARs, and bone unless the lesion is in bone).
fn seed_structures<'a>(
    case: &'a Case,
    gtv: &Structure,
    target: &'a Mask,
    dont_care: Option<&'a Mask>,
    body: &'a Mask,
    protocol: &Protocol,
) -> SeedStructures<'a> {
    let oars = critical_oars(case)
        .into_iter()
        .map(|(s, class)| SeedOar {
            name: s.name.clone(),
            class,
            mask: &s.mask,
            limit: protocol.seeds.oar_limit(class).copied(),
        })
        .collect();
    let needle_obstacles = case
        .structures()
        .iter()
        .filter(|s| {
            (is_vessel(s) && s.role != StructureRole::Oar)
                || (s.organ == Organ::Bone && s.role != StructureRole::Gtv && gtv.organ != Organ::Bone)
        })
        .map(|s| NeedleObstacle { name: s.name.clone(), mask: &s.mask })
        .collect();
    SeedStructures { target, dont_care, body, oars, needle_obstacles }
}

/// Post-implant dosimetry of a whole patient.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PatientPostImplant {
    /// Always `cryoseed-postimplant`.
    pub format: &'static str,
    /// Layout version.
    pub format_version: u32,
    /// Software version.
    pub software_version: &'static str,
    /// The plan's patient and case.
    pub patient_id: PatientId,
    /// SHA-256 of the case.
    pub case_sha256: String,
    /// Seeds found.
    pub seeds_found: usize,
    /// Per seeded lesion: the seeds attributed to it and the comparison with its plan.
    pub lesions: Vec<LesionPostImplant>,
    /// The patient's evaluation on the post-implant dose (point-source formalism) and the planned
    /// ice.
    pub evaluation: Evaluation,
    /// Whether every seeded lesion meets the technical-success rule.
    pub technical_success: bool,
}

/// Post-implant dosimetry of one seeded lesion.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LesionPostImplant {
    /// The lesion.
    pub lesion_id: LesionId,
    /// Found seeds attributed to it (nearest planned seed belongs to it).
    pub seeds_found: usize,
    /// The comparison with the plan.
    pub report: PostImplantReport,
}

/// Post-implant dosimetry: `actual` seed positions (from post-implant CT; orientation unknown)
/// are attributed each to the lesion of its nearest planned seed, each lesion is compared with
/// its plan ([`post_implant`]), and the patient is re-evaluated on the dose of all found seeds.
pub fn post_implant_patient(
    request: &PlanRequest<'_>,
    plan: &PatientPlan,
    actual: &[PatientPoint],
) -> Result<(PatientPostImplant, Field<f32>), PlanError> {
    let case = request.case;
    let protocol = request.protocol;
    if plan.record.seed_plans.is_empty() {
        return Err(PlanError::Input { field: "plan", message: "the plan places no seeds".into() });
    }
    let grid = *case.grid();
    let groups = attribute_seeds(case, plan, actual)?;
    let body = body_mask(case)?;
    let mut lesions = Vec::new();
    for (sp, found) in plan.record.seed_plans.iter().zip(&groups) {
        if found.is_empty() {
            return Err(PlanError::Lesion {
                lesion: sp.lesion_id.to_string(),
                message: format!("none of the {} found seeds is near this lesion's planned seeds", actual.len()),
            });
        }
        let lesion = plan.seeded_lesion(case, &sp.lesion_id);
        let structures = seed_structures(case, lesion.gtv, lesion.target, lesion.dont_care.as_ref(), body, protocol);
        let model = builtin_model(&sp.plan.settings.model_id)
            .map_err(|e| PlanError::Input { field: "seeds.model", message: e.to_string() })?;
        let (report, _) = post_implant(&sp.plan, found, &structures, &model)?;
        lesions.push(LesionPostImplant { lesion_id: sp.lesion_id.clone(), seeds_found: found.len(), report });
    }
    // The patient's dose from every found seed, point-source formalism.
    let sk = plan.record.seed_plans[0].plan.settings.air_kerma_strength;
    let model_id = plan.record.seed_plans[0].plan.settings.model_id.clone();
    let seeds: Vec<Seed> = actual
        .iter()
        .map(|p| Seed {
            centre_in_patient: *p,
            orientation: SeedOrientation::Unknown,
            air_kerma_strength: sk,
            model: model_id.clone(),
        })
        .collect();
    let implant = Implant::new(&seeds, &[]).map_err(|e| PlanError::Input { field: "seeds", message: e.to_string() })?;
    let dose = dose_grid(&implant, &grid, &DoseGridConfig::default())
        .map_err(|e| PlanError::Input { field: "dose", message: e.to_string() })?;
    let evaluation = evaluate(case, &plan.lesion_inputs(case), &dose, protocol, &request.settings.evaluation)?;
    let technical_success = lesions.iter().all(|l| l.report.technical_success.achieved);
    Ok((
        PatientPostImplant {
            format: "cryoseed-postimplant",
            format_version: 1,
            software_version: cryoseed_core::SOFTWARE_VERSION,
            patient_id: case.patient_id().clone(),
            case_sha256: case_hash(case),
            seeds_found: actual.len(),
            lesions,
            evaluation,
            technical_success,
        },
        dose,
    ))
}

/// The case's body outline.
pub(crate) fn body_mask(case: &Case) -> Result<&Mask, PlanError> {
    case.with_role(StructureRole::Body)
        .next()
        .map(|s| &s.mask)
        .ok_or_else(|| PlanError::Structure { name: "body".into(), message: "the case has no body outline".into() })
}

/// A seeded lesion of a plan, with what its seed planning needs.
pub(crate) struct SeededLesion<'a> {
    /// Its index among the plan's allocations (its seed search's seed depends on it).
    pub(crate) index: usize,
    pub(crate) gtv: &'a Structure,
    /// The seed target.
    pub(crate) target: &'a Mask,
    /// The core the lethal ice covers (the zoned core minus the seed target), if any.
    pub(crate) dont_care: Option<Mask>,
}

impl PatientPlan {
    /// The evaluation inputs of every allocated lesion, from this plan's targets, zones and ice.
    pub(crate) fn lesion_inputs<'a>(&'a self, case: &'a Case) -> Vec<LesionInput<'a>> {
        self.record
            .allocations
            .iter()
            .map(|a| LesionInput {
                lesion_id: a.lesion_id.clone(),
                gtv: case.structure(&a.structure).expect("allocations name case structures"),
                decision: a.decision,
                zones: self.zones.as_ref().filter(|z| z.structure == a.structure),
                seed_target: self.seed_targets.iter().find(|(id, _)| *id == a.lesion_id).map(|(_, m)| m),
                ice: self.lesion_ices.iter().find(|(id, _)| *id == a.lesion_id).map(|(_, ice)| ice),
            })
            .collect()
    }

    /// One of this plan's seeded lesions (`lesion` must have a seed plan).
    pub(crate) fn seeded_lesion<'a>(&'a self, case: &'a Case, lesion: &LesionId) -> SeededLesion<'a> {
        let (index, allocation) = self
            .record
            .allocations
            .iter()
            .enumerate()
            .find(|(_, a)| a.lesion_id == *lesion)
            .expect("planned lesions are allocated");
        let gtv = case.structure(&allocation.structure).expect("allocations name case structures");
        let target = &self.seed_targets.iter().find(|(id, _)| id == lesion).expect("seed plans have targets").1;
        let dont_care = self
            .zones
            .as_ref()
            .filter(|z| z.structure == gtv.name)
            .map(|z| z.core.difference(target).expect("one grid"))
            .filter(|m| !m.is_empty());
        SeededLesion { index, gtv, target, dont_care }
    }
}

/// Found seed positions grouped by the plan's seeded lesions (in `plan.record.seed_plans` order):
/// each goes to the lesion of its nearest planned seed. Errors when none is given or one lies
/// outside the case grid.
pub(crate) fn attribute_seeds(
    case: &Case,
    plan: &PatientPlan,
    actual: &[PatientPoint],
) -> Result<Vec<Vec<PatientPoint>>, PlanError> {
    if actual.is_empty() {
        return Err(PlanError::Input { field: "seeds", message: "no seed positions given".into() });
    }
    let grid = case.grid();
    for (i, p) in actual.iter().enumerate() {
        if grid.nearest_voxel(*p).is_none() {
            return Err(PlanError::Input {
                field: "seeds",
                message: format!(
                    "seed {} at ({:.1}, {:.1}, {:.1}) mm lies outside the case grid",
                    i + 1,
                    p.0[0],
                    p.0[1],
                    p.0[2]
                ),
            });
        }
    }
    let mut groups: Vec<Vec<PatientPoint>> = vec![Vec::new(); plan.record.seed_plans.len()];
    for p in actual {
        let (best, _) = plan
            .record
            .seed_plans
            .iter()
            .enumerate()
            .flat_map(|(k, sp)| sp.plan.seeds.iter().map(move |s| (k, s.centre_in_patient.distance_to(*p).0)))
            .fold((0, f64::INFINITY), |acc, (k, d)| if d < acc.1 { (k, d) } else { acc });
        groups[best].push(*p);
    }
    Ok(groups)
}

/// Shrink steps of a zoned core's lethal target when no probe plan is safe, mm from its surface.
pub const CORE_SHRINK_MM: [f64; 4] = [0.0, 3.0, 6.0, 9.0];

/// Whether a probe plan breaks no constraint other than coverage.
fn is_safe(p: &ProbePlan) -> bool {
    p.surrogate.broken.iter().all(|b| b.constraint == "coverage")
}

/// Most probe directions tried per cryo target.
pub const MAX_PROBE_DIRECTIONS: usize = 2;

/// Whether `a` is the better probe plan: feasible before infeasible; then fewer probes (feasible)
/// or fewer broken constraints (infeasible); then higher lethal coverage.
fn probe_plan_better(a: &ProbePlan, b: &ProbePlan) -> bool {
    let key = |p: &ProbePlan| {
        let m = &p.surrogate;
        (!p.feasible, if p.feasible { p.probes.len() } else { m.broken.len() })
    };
    match key(a).cmp(&key(b)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => a.surrogate.coverage > b.surrogate.coverage + 1e-12,
    }
}

fn same_direction(a: [f64; 3], b: [f64; 3]) -> bool {
    let dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let na = (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt();
    let nb = (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]).sqrt();
    dot / (na * nb) > 0.985 // within about 10°
}

/// The long and short axes of a mask's extent in the axial plane (principal axes of its voxel
/// centres' x–y coordinates), as unit vectors with z = 0; x and y for an empty mask.
fn axial_axes(mask: &Mask) -> [[f64; 3]; 2] {
    let grid = mask.grid();
    let (mut n, mut sx, mut sy) = (0.0, 0.0, 0.0);
    let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
    for v in mask.voxels() {
        let p = grid.voxel_centre(v).0;
        n += 1.0;
        sx += p[0];
        sy += p[1];
        sxx += p[0] * p[0];
        syy += p[1] * p[1];
        sxy += p[0] * p[1];
    }
    if n < 2.0 {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    }
    let (mx, my) = (sx / n, sy / n);
    let (cxx, cyy, cxy) = (sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my);
    // Angle of the major axis of the 2×2 covariance.
    let theta = 0.5 * (2.0 * cxy).atan2(cxx - cyy);
    let (s, c) = theta.sin_cos();
    [[c, s, 0.0], [-s, c, 0.0]]
}

/// The organ whose tissue properties predict a lesion's ice: the lesion's own organ.
fn tissue_organ(gtv: &Structure) -> Organ {
    gtv.organ
}

/// SHA-256 over the grid and every structure (name, role, organ, lesion data, voxels).
pub fn case_hash(case: &Case) -> String {
    let mut h = Sha256::new();
    let g = case.grid();
    h.update(case.patient_id().as_str().as_bytes());
    for d in g.dims() {
        h.update((d as u64).to_le_bytes());
    }
    for s in g.spacing_mm().into_iter().chain(g.origin().0) {
        h.update(s.to_le_bytes());
    }
    for s in case.structures() {
        h.update(s.name.as_bytes());
        h.update([0u8]);
        h.update(format!("{:?}{:?}{:?}", s.role, s.organ, s.lesion).as_bytes());
        let mut byte = 0u8;
        for (i, v) in s.mask.as_slice().iter().enumerate() {
            byte |= u8::from(*v) << (i % 8);
            if i % 8 == 7 {
                h.update([byte]);
                byte = 0;
            }
        }
        h.update([byte]);
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
