//! The named phantom scenarios and the lesions each one places.
//!
//! Every scenario is a plausible trial patient (three or four lesions, two to five targets, one
//! bulky index lesion) built around one *featured* lesion that exercises one allocation rule of
//! the protocol (PROTOCOL.md, "Lesion allocation"). Each lesion records the allocation it was
//! designed to receive, so the planner's tests can check their verdicts against it.
//!
//! Positions are in the patient frame (DICOM LPS, mm: x to the patient's left, y posterior,
//! z superior), relative to the centre of the body section; `phantom` jitters them slightly per
//! seed. Sizes and distances quoted in the comments are ranges measured over 20 seeds at 2 mm;
//! the crate's tests check the ones the allocation depends on, for several seeds.

use crate::SimError;
use crate::shape::P3;
use cryoseed_core::Organ;
use std::fmt;
use std::str::FromStr;

/// A named synthetic patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// Bulky pelvic soft-tissue lesion abutting bowel, with an iliac bone and an iliac nodal lesion.
    PelvicBulkyBowel,
    /// Bulky left paraspinal lesion near the spinal cord, with a flank and a para-aortic lesion.
    ParaspinalBulkyCord,
    /// Small left lung metastasis next to the descending aorta, with a bulky right lung mass.
    LungSmallAorta,
    /// Small well-separated liver metastasis, with a bulky liver lesion and a para-aortic node.
    LiverSmallSeparated,
    /// Vertebral body metastasis near the cord, with a bulky retroperitoneal mass.
    BoneMet,
}

impl Scenario {
    /// Every scenario, in a fixed order (the order `--list` prints).
    pub const ALL: [Scenario; 5] = [
        Scenario::PelvicBulkyBowel,
        Scenario::ParaspinalBulkyCord,
        Scenario::LungSmallAorta,
        Scenario::LiverSmallSeparated,
        Scenario::BoneMet,
    ];

    /// The stable kebab-case name (CLI argument, patient id, random-stream key).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::PelvicBulkyBowel => "pelvic-bulky-bowel",
            Scenario::ParaspinalBulkyCord => "paraspinal-bulky-cord",
            Scenario::LungSmallAorta => "lung-small-aorta",
            Scenario::LiverSmallSeparated => "liver-small-separated",
            Scenario::BoneMet => "bone-met",
        }
    }

    /// One line saying what the scenario contains.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::PelvicBulkyBowel => {
                "bulky pelvic soft-tissue lesion abutting bowel; right iliac bone and left external iliac nodal lesions"
            }
            Scenario::ParaspinalBulkyCord => {
                "bulky left paraspinal lesion near the spinal cord; right flank and left para-aortic lesions"
            }
            Scenario::LungSmallAorta => {
                "small left lower-lobe metastasis next to the descending aorta; bulky right lung mass and a small right nodule"
            }
            Scenario::LiverSmallSeparated => {
                "small well-separated liver metastasis; bulky right-lobe liver lesion and a left para-aortic node"
            }
            Scenario::BoneMet => {
                "vertebral body metastasis near the cord; bulky left retroperitoneal mass, a right retroperitoneal nodule and a second vertebral lesion"
            }
        }
    }

    /// The lesions the phantom contains, in lesion-id order, each with its designed allocation.
    pub fn lesions(self) -> Vec<ScenarioLesion> {
        lesion_specs(self).into_iter().map(|spec| spec.lesion).collect()
    }

    /// The body section the scenario's field of view covers.
    pub(crate) fn region(self) -> Region {
        match self {
            Scenario::PelvicBulkyBowel => Region::Pelvis,
            Scenario::ParaspinalBulkyCord | Scenario::BoneMet => Region::Lumbar,
            Scenario::LungSmallAorta => Region::Thorax,
            Scenario::LiverSmallSeparated => Region::UpperAbdomen,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = SimError;

    fn from_str(name: &str) -> Result<Scenario, SimError> {
        Scenario::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| SimError::UnknownScenario(name.to_owned()))
    }
}

/// Every scenario's name, in [`Scenario::ALL`] order.
pub(crate) fn names() -> Vec<&'static str> {
    Scenario::ALL.iter().map(|s| s.name()).collect()
}

/// The allocation a phantom lesion is designed to receive under the protocol's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntendedAllocation {
    /// Cryoablation: longest diameter ≤ 40 mm, ≥ 15 mm from every critical OAR, no vessel
    /// ≥ 3 mm within 5 mm.
    Cryo,
    /// I-125 seeds, because the lesion lies close to a structure of this organ (a critical OAR
    /// within 15 mm, or a vessel within 5 mm).
    Seeds {
        /// The organ that rules cryoablation out.
        near: Organ,
    },
    /// The bulky index lesion: tumour-zoned (cryo core, seed margin and high-risk zone).
    Zoned,
    /// A non-target lesion: not treated by protocol therapy.
    NotTarget,
}

/// One lesion of a scenario, as the planner's tests see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioLesion {
    /// Lesion code (`L1`, …); its GTV structure is named `GTV_<lesion_id>`.
    pub lesion_id: &'static str,
    /// Organ the lesion is in.
    pub organ: Organ,
    /// Whether it is a prespecified target lesion.
    pub is_target: bool,
    /// Whether it is the bulky index lesion.
    pub is_bulky_index: bool,
    /// The allocation it is designed to receive.
    pub intended: IntendedAllocation,
    /// Where it is and why it gets that allocation, in one line.
    pub summary: &'static str,
}

/// The body section a scenario's field of view covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    /// Lower chest: lungs, heart, descending aorta, thoracic spine.
    Thorax,
    /// Upper abdomen (T11–T12): liver, aorta, inferior vena cava, bowel.
    UpperAbdomen,
    /// Upper lumbar spine (L1–L2, conus level): aorta, inferior vena cava, bowel.
    Lumbar,
    /// Upper pelvis (iliac wings): sacrum, iliac vessels, cauda equina, bowel.
    Pelvis,
}

/// How a lesion is drawn: a public description plus its nominal geometry.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LesionSpec {
    pub(crate) lesion: ScenarioLesion,
    /// Nominal centre, mm.
    pub(crate) centre: P3,
    /// Nominal semi-axes before the per-seed yaw and tilt, mm.
    pub(crate) semi: P3,
    /// Total relative amplitude of the surface ripples.
    pub(crate) irregularity: f64,
    /// Organ structure the lesion is clipped to, if it lies inside one.
    pub(crate) within: Option<&'static str>,
    /// Smallest distance kept from every OAR and vessel, mm: the lesion is carved where it would
    /// come closer, so a lesion drawn overlapping a neighbour ends up abutting it at this gap.
    pub(crate) gap: f64,
    /// How far beyond the tube radius bowel centrelines are kept from the nominal lesion, mm.
    pub(crate) bowel_clearance: f64,
}

/// Bowel clearance for a lesion designed to be well separated from bowel (≥ 15 mm plus slack).
const CLEAR_OF_BOWEL: f64 = 22.0;
/// Bowel clearance for an ordinary lesion.
const NEAR_BOWEL_OK: f64 = 6.0;
/// Bowel clearance for a lesion bowel is meant to lie against.
const AGAINST_BOWEL: f64 = 1.0;

/// Surface irregularity of a bulky lesion: lobulated.
const BULKY: f64 = 0.25;
/// Surface irregularity of a small metastasis.
const SMALL: f64 = 0.18;
/// Surface irregularity of a lymph node or a small bone lesion: smoother.
const NODE: f64 = 0.12;

/// The public description of a lesion; whether it is a target or the bulky index follows from
/// its intended allocation.
fn lesion(
    lesion_id: &'static str,
    organ: Organ,
    intended: IntendedAllocation,
    summary: &'static str,
) -> ScenarioLesion {
    ScenarioLesion {
        lesion_id,
        organ,
        is_target: intended != IntendedAllocation::NotTarget,
        is_bulky_index: intended == IntendedAllocation::Zoned,
        intended,
        summary,
    }
}

/// The lesions of a scenario with their nominal geometry.
pub(crate) fn lesion_specs(scenario: Scenario) -> Vec<LesionSpec> {
    use IntendedAllocation::{Cryo, NotTarget, Seeds, Zoned};
    match scenario {
        // Pelvis: sacrum at y ≈ 55..93, iliac arteries from (±22, 20) at the top of the field to
        // (±62, 8) at the bottom, bowel loops in the anterior pelvis (y < −7).
        Scenario::PelvicBulkyBowel => vec![
            // 170–260 mL. A bowel loop is started against its anterior surface and drapes over it,
            // so part of the GTV is 3–5 mm from bowel: high-risk zone, seeds there.
            LesionSpec {
                lesion: lesion(
                    "L1",
                    Organ::Pelvis,
                    Zoned,
                    "bulky pelvic soft-tissue mass; bowel drapes over its anterior surface",
                ),
                centre: [8.0, -22.0, -5.0],
                semi: [42.0, 32.0, 40.0],
                irregularity: BULKY,
                within: None,
                gap: 3.0,
                bowel_clearance: AGAINST_BOWEL,
            },
            // 25–29 mm, in the thick posterior right iliac wing: ≥ 28 mm from the iliac vessels,
            // ≥ 45 mm from skin, bowel and cauda equina.
            LesionSpec {
                lesion: lesion("L2", Organ::Bone, Cryo, "right posterior iliac wing metastasis, well separated"),
                centre: [-75.0, 42.5, 35.0],
                semi: [13.0, 12.0, 13.0],
                irregularity: SMALL,
                within: None,
                gap: 3.0,
                bowel_clearance: CLEAR_OF_BOWEL,
            },
            // Drawn overlapping the left iliac artery by ≈ 5 mm and carved back to a 2 mm gap:
            // a vessel ≥ 3 mm within 5 mm (heat sink) rules out cryo.
            LesionSpec {
                lesion: lesion(
                    "L3",
                    Organ::LymphNode,
                    Seeds { near: Organ::OtherVessel },
                    "left external iliac lymph node against the iliac artery",
                ),
                centre: [34.8, 13.9, 58.0],
                semi: [8.5, 8.0, 9.5],
                irregularity: NODE,
                within: None,
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
        ],
        // Lumbar: vertebral body (0, 28) ± (24, 17), canal (0, 56) radius 9, cord radius ≈ 5,
        // aorta (16, −3), IVC (−25, −3), bowel anterior (y < −25).
        Scenario::ParaspinalBulkyCord => vec![
            // 145–190 mL, ≈ 72 mm across. Its medial edge reaches the lamina and, between
            // vertebrae, the neural foramen: 4–10 mm from the cord.
            LesionSpec {
                lesion: lesion(
                    "L1",
                    Organ::SoftTissue,
                    Zoned,
                    "bulky left paraspinal mass reaching the lamina and neural foramen",
                ),
                centre: [36.0, 72.0, 0.0],
                semi: [36.0, 25.0, 45.0],
                irregularity: BULKY,
                within: None,
                gap: 3.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // 23–26 mm in the right quadratus lumborum: ≥ 35 mm from skin, ≥ 50 mm from the IVC
            // and the cord, ≥ 70 mm from bowel.
            LesionSpec {
                lesion: lesion(
                    "L2",
                    Organ::SoftTissue,
                    Cryo,
                    "right posterior abdominal wall metastasis, well separated",
                ),
                centre: [-72.0, 58.0, 20.0],
                semi: [11.0, 10.0, 12.0],
                irregularity: SMALL,
                within: None,
                gap: 3.0,
                bowel_clearance: CLEAR_OF_BOWEL,
            },
            // Drawn overlapping the aorta by ≈ 4 mm and carved back to a 2 mm gap: a great
            // vessel within 15 mm (and a heat sink within 5 mm).
            LesionSpec {
                lesion: lesion(
                    "L3",
                    Organ::LymphNode,
                    Seeds { near: Organ::Aorta },
                    "left para-aortic lymph node against the aorta",
                ),
                centre: [32.0, 2.8, -40.0],
                semi: [9.0, 8.0, 10.0],
                irregularity: NODE,
                within: None,
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
        ],
        // Thorax: vertebral body (0, 42) ± (17, 14), cord (0, 68), descending aorta (30, 20)
        // radius ≈ 12, heart centred (22, −45, 35); lungs 22 mm inside the skin.
        Scenario::LungSmallAorta => vec![
            // 230–305 mL in the right lower lobe, clipped to the lung.
            LesionSpec {
                lesion: lesion("L1", Organ::Lung, Zoned, "bulky right lower-lobe mass"),
                centre: [-75.0, 15.0, -20.0],
                semi: [40.0, 36.0, 42.0],
                irregularity: BULKY,
                within: Some("Lung_R"),
                gap: 3.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // 19–21 mm, drawn overlapping the aorta by ≈ 4 mm; the lung stops 3 mm short of the
            // aorta, so the GTV abuts it 3–4 mm away: great vessel within 15 mm, heat sink
            // within 5 mm.
            LesionSpec {
                lesion: lesion(
                    "L2",
                    Organ::Lung,
                    Seeds { near: Organ::Aorta },
                    "small left lower-lobe metastasis against the descending aorta",
                ),
                centre: [43.6, 30.2, -45.0],
                semi: [9.5, 9.0, 10.0],
                irregularity: SMALL,
                within: Some("Lung_L"),
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // 21–23 mm, peripheral right lung: ≥ 40 mm from the heart, ≥ 50 mm from skin.
            LesionSpec {
                lesion: lesion("L3", Organ::Lung, Cryo, "small peripheral right-lung nodule, well separated"),
                centre: [-90.0, -30.0, 50.0],
                semi: [10.0, 10.0, 10.5],
                irregularity: SMALL,
                within: Some("Lung_R"),
                gap: 3.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
        ],
        // Upper abdomen: liver centred (−55, −10, −5), IVC (−26, −8), aorta (12, 0), bowel in
        // the left anterior abdomen below the liver.
        Scenario::LiverSmallSeparated => vec![
            // 22–24 mm deep in the right lobe: ≥ 25 mm from the IVC, ≥ 65 mm from bowel and skin.
            LesionSpec {
                lesion: lesion(
                    "L1",
                    Organ::Liver,
                    Cryo,
                    "small right-lobe liver metastasis, well separated from vessels and bowel",
                ),
                centre: [-75.0, -25.0, 35.0],
                semi: [11.0, 10.5, 11.0],
                irregularity: SMALL,
                within: Some("Liver"),
                gap: 3.0,
                bowel_clearance: CLEAR_OF_BOWEL,
            },
            // 210–270 mL in the posterior-inferior right lobe, clipped to the liver.
            LesionSpec {
                lesion: lesion("L2", Organ::Liver, Zoned, "bulky posterior right-lobe liver metastasis"),
                centre: [-90.0, 20.0, -35.0],
                semi: [42.0, 36.0, 38.0],
                irregularity: BULKY,
                within: Some("Liver"),
                gap: 3.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // Drawn overlapping the aorta by ≈ 4 mm and carved back to a 2 mm gap.
            LesionSpec {
                lesion: lesion(
                    "L3",
                    Organ::LymphNode,
                    Seeds { near: Organ::Aorta },
                    "left para-aortic lymph node against the aorta",
                ),
                centre: [28.0, 5.8, -50.0],
                semi: [9.0, 8.0, 10.0],
                irregularity: NODE,
                within: None,
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
        ],
        // Lumbar section as for the paraspinal scenario; vertebral bodies centred at z = 0
        // and z = ±36 mm.
        Scenario::BoneMet => vec![
            // 25–32 mm in the vertebral body, clipped to the bone: its posterior edge is 4–10 mm
            // from the cord.
            LesionSpec {
                lesion: lesion(
                    "L1",
                    Organ::Bone,
                    Seeds { near: Organ::SpinalCord },
                    "vertebral body metastasis near the cord",
                ),
                centre: [-4.0, 34.0, 0.0],
                semi: [14.0, 11.0, 12.0],
                irregularity: SMALL,
                within: Some("Bone_Vertebra"),
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // 230–320 mL left retroperitoneal mass lateral to the aorta and the vertebra.
            LesionSpec {
                lesion: lesion("L2", Organ::SoftTissue, Zoned, "bulky left retroperitoneal mass"),
                centre: [88.0, 30.0, 0.0],
                semi: [42.0, 36.0, 40.0],
                irregularity: BULKY,
                within: None,
                gap: 3.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
            // 21–25 mm, right retroperitoneum: ≥ 45 mm from the IVC, cord, skin and bowel.
            LesionSpec {
                lesion: lesion("L3", Organ::SoftTissue, Cryo, "right retroperitoneal nodule, well separated"),
                centre: [-78.0, 45.0, 30.0],
                semi: [10.0, 10.0, 11.0],
                irregularity: SMALL,
                within: None,
                gap: 3.0,
                bowel_clearance: CLEAR_OF_BOWEL,
            },
            // ≈ 12 mm in the vertebral body below: a non-target lesion.
            LesionSpec {
                lesion: lesion(
                    "L4",
                    Organ::Bone,
                    NotTarget,
                    "small metastasis in the vertebral body below (non-target)",
                ),
                centre: [6.0, 26.0, -36.0],
                semi: [6.0, 5.5, 6.0],
                irregularity: NODE,
                within: Some("Bone_Vertebra"),
                gap: 2.0,
                bowel_clearance: NEAR_BOWEL_OK,
            },
        ],
    }
}
