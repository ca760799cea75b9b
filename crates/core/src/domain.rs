//! Clinical vocabulary of the trial: arms, modalities, zones, organs and structure roles.
//!
//! These are closed enums: a new organ or zone is a code change reviewed with the protocol, not a
//! free-text value. Their serialized names (`snake_case`) are stable: they appear in `case.json`,
//! `protocol.toml` and exports.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Randomized arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Lesion allocation (seeds or cryo per lesion) plus tumour zoning of the bulky lesion.
    Experimental,
    /// Every target treated with the centre's single modality.
    Control,
}

/// Local therapy given to a lesion or zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    /// Permanent I-125 seed implantation.
    Seeds,
    /// Percutaneous cryoablation.
    Cryo,
}

/// Sub-volume of the bulky index lesion (PROTOCOL.md, "Tumour zoning").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Deep GTV far from organs at risk: debulked by cryoablation.
    Core,
    /// GTV expanded by the margin, minus the core: the seed target (PTV_margin).
    Margin,
    /// GTV near a critical OAR or large vessel: always seeds, never ice.
    HighRisk,
}

/// What a contoured structure is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructureRole {
    /// Gross tumour volume of one lesion.
    Gtv,
    /// Critical organ at risk: counts for allocation, zoning and dose limits.
    Oar,
    /// Blood vessel: heat sink for cryoablation (its diameter is measured from the mask).
    Vessel,
    /// Non-critical organ that gives a lesion its site (lung, liver, vertebral body).
    Organ,
    /// External body outline.
    Body,
}

/// Critical organ-at-risk classes named by the protocol (allocation and zoning distances).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriticalOar {
    /// Spinal cord.
    SpinalCord,
    /// Small and large bowel.
    Bowel,
    /// Major nerves (plexuses, sciatic nerve, cauda equina).
    MajorNerve,
    /// Heart and great vessels.
    HeartGreatVessels,
    /// Trachea and main bronchi.
    CentralAirway,
    /// Skin.
    Skin,
}

impl CriticalOar {
    /// All classes, in protocol order.
    pub const ALL: [CriticalOar; 6] = [
        CriticalOar::SpinalCord,
        CriticalOar::Bowel,
        CriticalOar::MajorNerve,
        CriticalOar::HeartGreatVessels,
        CriticalOar::CentralAirway,
        CriticalOar::Skin,
    ];
}

/// Anatomical organ of a structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Organ {
    /// Spinal cord (TG-263 `SpinalCord`).
    SpinalCord,
    /// Small or large bowel (`Bowel`).
    Bowel,
    /// Major nerve or plexus (`Nerve`).
    Nerve,
    /// Heart (`Heart`).
    Heart,
    /// Aorta (`A_Aorta`).
    Aorta,
    /// Inferior vena cava (`V_Venacava_I`).
    VenaCava,
    /// Other named artery or vein.
    OtherVessel,
    /// Trachea / main bronchi (`Trachea`, `Bronchus`).
    CentralAirway,
    /// Skin (`Skin`).
    Skin,
    /// Lung (`Lung_L`, `Lung_R`).
    Lung,
    /// Liver (`Liver`).
    Liver,
    /// Kidney (`Kidney_L`, `Kidney_R`).
    Kidney,
    /// Bone, including vertebral bodies (`Bone`, `VB`).
    Bone,
    /// Pelvic soft tissue.
    Pelvis,
    /// Other soft tissue (muscle, retroperitoneum, subcutis).
    SoftTissue,
    /// Lymph node.
    LymphNode,
    /// External body contour (`External`).
    Body,
}

impl Organ {
    /// The critical-OAR class of this organ, if it is one (PROTOCOL.md, "Lesion allocation").
    pub fn critical_oar(self) -> Option<CriticalOar> {
        match self {
            Organ::SpinalCord => Some(CriticalOar::SpinalCord),
            Organ::Bowel => Some(CriticalOar::Bowel),
            Organ::Nerve => Some(CriticalOar::MajorNerve),
            Organ::Heart | Organ::Aorta | Organ::VenaCava => Some(CriticalOar::HeartGreatVessels),
            Organ::CentralAirway => Some(CriticalOar::CentralAirway),
            Organ::Skin => Some(CriticalOar::Skin),
            _ => None,
        }
    }

    /// The prescription site a lesion in this organ belongs to (PROTOCOL.md, "I-125 seeds").
    pub fn lesion_site(self) -> LesionSite {
        match self {
            Organ::Lung | Organ::CentralAirway => LesionSite::Lung,
            Organ::Liver => LesionSite::Liver,
            Organ::Bone | Organ::SpinalCord => LesionSite::Bone,
            _ => LesionSite::SoftTissue,
        }
    }
}

/// Prescription site of a lesion: the protocol's seed prescriptions are per site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LesionSite {
    /// Lung.
    Lung,
    /// Liver.
    Liver,
    /// Soft tissue and pelvis.
    SoftTissue,
    /// Bone and spine.
    Bone,
}

/// ECOG performance status, 0 (fully active) to 5 (dead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Ecog(u8);

impl Ecog {
    /// Parses a score 0–5.
    pub fn new(score: u8) -> Result<Self, String> {
        if score <= 5 { Ok(Self(score)) } else { Err(format!("ECOG must be 0-5, got {score}")) }
    }

    /// The score.
    pub fn score(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Ecog {
    type Error = String;
    fn try_from(score: u8) -> Result<Self, String> {
        Ecog::new(score)
    }
}

impl From<Ecog> for u8 {
    fn from(ecog: Ecog) -> u8 {
        ecog.0
    }
}

macro_rules! display_snake {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // The serialized name is the display name: one spelling everywhere.
                let text = serde_json::to_value(self).map_err(|_| fmt::Error)?;
                f.write_str(text.as_str().ok_or(fmt::Error)?)
            }
        }
    )*};
}
display_snake!(Arm, Modality, Zone, StructureRole, CriticalOar, Organ, LesionSite);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        assert_eq!(Organ::VenaCava.to_string(), "vena_cava");
        assert_eq!(Zone::HighRisk.to_string(), "high_risk");
        assert_eq!(Organ::Aorta.critical_oar(), Some(CriticalOar::HeartGreatVessels));
        assert_eq!(Organ::Liver.critical_oar(), None);
        assert!(Ecog::new(6).is_err());
    }
}
