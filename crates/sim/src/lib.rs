//! Seeded synthetic patients: CT-like phantoms with contoured anatomy and irregular metastases
//! for the planner, and screening cohorts for the trial pipeline, each reproducible byte for byte
//! from an explicit seed.
//!
//! # Main types
//!
//! - [`Scenario`] names a synthetic patient (`Scenario::ALL`, [`Scenario::name`],
//!   [`Scenario::description`]). [`Scenario::lesions`] lists its lesions as [`ScenarioLesion`]s,
//!   each with the [`IntendedAllocation`] its geometry was designed to get from the protocol's
//!   allocation rules: the fixture the planner's tests check their verdicts against.
//! - [`phantom`]`(scenario, &`[`PhantomConfig`]`, seed)` builds the scenario on a grid as a
//!   [`cryoseed_anatomy::Case`]: the body section the lesions need (not the whole torso), 1 mm
//!   voxels by default (13–16 M voxels, under a second in a release build).
//! - [`cohort`]`(&`[`CohortConfig`]`, seed)` draws [`ScreeningRecord`](cryoseed_core::patient::ScreeningRecord)s
//!   with a controlled mix of realistic screening failures; [`cohort_with_profiles`] also returns
//!   each patient's designed [`ScreeningProfile`] (ground truth for eligibility tests).
//! - [`simulate_course`]`(&`[`CoursePatient`]`, &`[`CourseConfig`]`, seed)` follows a randomized
//!   patient through the trial: procedures and their QA, imaging per the protocol's schedule,
//!   true lesion sizes, local and systemic progression, death and loss to follow-up, two blinded
//!   readers with measurement noise, the adjudicator, adverse events ([`Course`]; every
//!   assumption is tabulated in the `course` module).
//!
//! # Key decision: one random stream per part
//!
//! Every part of a phantom (`External`, `SpinalCord`, `Bowel`, `GTV_L2`, …) and every cohort
//! patient draws from its own stream: `ChaCha8Rng::seed_from_u64(seed)` switched to ChaCha's
//! 64-bit stream number `FNV-1a("phantom/<scenario>/<part>")`. Adding, removing or reordering a
//! structure therefore leaves the others unchanged, and a fixed hash (not std's randomized
//! `Hasher`) keeps the keys stable. Floats, integers and normals are derived from the raw ChaCha8
//! words by this crate, not by `rand`'s distributions, so a `rand` upgrade cannot change a phantom.
//! Parallel work (rayon over z-slices) writes disjoint slices, so scheduling does not matter.
//! Outputs are byte-identical for the same seed on the same build target (`sin`, `ln` and friends
//! come from the platform's maths library, which may differ in the last bit between targets).
//!
//! # Anatomy
//!
//! Patient frame DICOM LPS, millimetres (x to the patient's left, y posterior, z superior). Each
//! scenario covers one body section, an ellipse of realistic size whose semi-axes vary by ±3 %
//! per seed:
//!
//! | section | scenarios | structures besides `External`, `Skin` and the GTVs |
//! |---|---|---|
//! | lower chest, 320 × 230 mm, 150 mm | `lung-small-aorta` | `Bone_Vertebra`, `SpinalCord`, `A_Aorta`, `Heart`, `Lung_L`, `Lung_R` |
//! | upper abdomen, 330 × 240 mm, 160 mm | `liver-small-separated` | `Bone_Vertebra`, `SpinalCord`, `A_Aorta`, `V_Venacava_I`, `Bowel`, `Liver` |
//! | upper lumbar, 340 × 240 mm, 140 mm | `paraspinal-bulky-cord`, `bone-met` | `Bone_Vertebra`, `SpinalCord`, `A_Aorta`, `V_Venacava_I`, `Bowel` |
//! | upper pelvis, 360 × 250 mm, 150 mm | `pelvic-bulky-bowel` | `Bone_Pelvic`, `CaudaEquina`, `A_Iliac_L/R`, `V_Iliac_L/R`, `Bowel` |
//!
//! Roles: `External` is `Body`; `Skin` (the outer 3 mm), `SpinalCord`, `CaudaEquina` (organ
//! `Nerve`), `Bowel`, `Heart`, `A_Aorta` and `V_Venacava_I` are `Oar`; bones, lungs and liver are
//! `Organ`; the iliac vessels are `Vessel` (organ `OtherVessel`). The aorta and the IVC are great
//! vessels, a critical-OAR class, so they carry role `Oar` with organ `Aorta` / `VenaCava`;
//! downstream code treats those two organs as vessels as well (heat sinks for cryoablation), since
//! a structure has one role. The spinal canal is the hole in the vertebra, not a structure.
//!
//! Invariants: every structure lies inside `External`; non-lesion structures are pairwise
//! disjoint; a GTV overlaps no OAR, vessel or other GTV (it keeps a 2–3 mm gap), lies in the field
//! of view without touching its ends, and may lie inside its organ (organs contain their lesions,
//! as clinical contours do). Lesions are ellipsoids whose radius is modulated by a few random
//! Fourier terms over direction (lobulated, ±12–25 %), carved where they would come too close to
//! a neighbour.
//!
//! # Scenarios and the allocation each lesion is designed for
//!
//! | scenario | lesion (ranges measured over 20 seeds at 2 mm) | intended |
//! |---|---|---|
//! | `pelvic-bulky-bowel` | L1 bulky pelvic mass, 170–260 mL, bowel draped over it 3–5 mm away | zoned |
//! | | L2 right iliac wing, 25–29 mm, ≥ 28 mm from every OAR and vessel | cryo |
//! | | L3 external iliac node, ≈ 3 mm from the iliac artery | seeds (vessel within 5 mm) |
//! | `paraspinal-bulky-cord` | L1 bulky paraspinal mass, 145–190 mL, 4–10 mm from the cord | zoned |
//! | | L2 right posterior abdominal wall, 23–26 mm, ≥ 32 mm from every OAR | cryo |
//! | | L3 para-aortic node, ≈ 3 mm from the aorta | seeds (great vessel) |
//! | `lung-small-aorta` | L1 bulky right lower-lobe mass, 230–305 mL | zoned |
//! | | L2 left lower-lobe metastasis, 19–21 mm, 3–4 mm from the aorta | seeds (great vessel) |
//! | | L3 peripheral right-lung nodule, 21–23 mm, ≥ 36 mm from every OAR | cryo |
//! | `liver-small-separated` | L1 right-lobe metastasis, 22–24 mm, ≥ 28 mm from every OAR and vessel | cryo |
//! | | L2 bulky right-lobe metastasis, 210–270 mL | zoned |
//! | | L3 para-aortic node, ≈ 3 mm from the aorta | seeds (great vessel) |
//! | `bone-met` | L1 vertebral body metastasis, 25–32 mm, 4–10 mm from the cord | seeds (cord) |
//! | | L2 bulky left retroperitoneal mass, 230–320 mL | zoned |
//! | | L3 right retroperitoneal nodule, 21–25 mm, ≥ 40 mm from every OAR | cryo |
//! | | L4 12 mm lesion in the vertebral body below | non-target |
//!
//! "Well separated" means ≤ 40 mm across, ≥ 15 mm from every critical OAR and no vessel within
//! 5 mm (PROTOCOL.md, "Lesion allocation"); the crate's tests measure this on the voxels for
//! several seeds.
//!
//! # Example
//!
//! ```
//! use cryoseed_core::Mm;
//! use cryoseed_sim::{CohortConfig, IntendedAllocation, PhantomConfig, Scenario, cohort, phantom};
//!
//! // A coarse grid keeps the example quick; the default is 1 mm.
//! let config = PhantomConfig { spacing: [Mm(4.0); 3] };
//! let case = phantom(Scenario::LiverSmallSeparated, &config, 42)?;
//! assert_eq!(case.patient_id().as_str(), "PHANTOM-liver-small-separated-42");
//! let small = Scenario::LiverSmallSeparated.lesions()[0];
//! assert_eq!((small.lesion_id, small.intended), ("L1", IntendedAllocation::Cryo));
//! assert!(case.structure("GTV_L1").is_some());
//!
//! let records = cohort(&CohortConfig::default(), 42);
//! assert_eq!(records.len(), 120);
//! assert_eq!(records, cohort(&CohortConfig::default(), 42));
//! # Ok::<(), cryoseed_sim::SimError>(())
//! ```

mod cohort;
mod course;
mod phantom;
mod raster;
mod rng;
mod scenario;
mod shape;

pub use cohort::{CohortConfig, CohortPatient, ScreeningProfile, cohort, cohort_with_profiles};
pub use course::{
    ADVERSE_EVENT_RATES, Accrual, AdverseEventDraw, AdverseEventRate, AeCause, Course, CourseConfig, CourseLesion,
    CoursePatient, CourseTruth, DAYS_PER_MONTH, LesionRead, NewLesionRead, PlannedTreatment, ProcedureEvent, Read,
    ReadStatus, SIX_MONTHS_DAYS, Scan, accrual, simulate_course,
};
pub use phantom::{PhantomConfig, phantom};
pub use scenario::{IntendedAllocation, Scenario, ScenarioLesion};

/// Why a phantom cannot be built, or a scenario name not understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// A voxel spacing outside [`PhantomConfig::SPACING_RANGE`].
    #[error("phantom spacing {spacing:?} mm: each axis must be between {} and {} mm", PhantomConfig::SPACING_RANGE.start(), PhantomConfig::SPACING_RANGE.end())]
    Spacing {
        /// The requested spacing, mm.
        spacing: [f64; 3],
    },
    /// No scenario has this name.
    #[error("unknown scenario {0:?}; choose one of {names}", names = scenario::names().join(", "))]
    UnknownScenario(String),
    /// The grid could not be built.
    #[error(transparent)]
    Grid(#[from] cryoseed_volume::GridError),
    /// The structures do not form a valid case.
    #[error(transparent)]
    Case(#[from] cryoseed_anatomy::CaseError),
}
