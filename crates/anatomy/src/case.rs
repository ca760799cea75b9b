//! The case: structures on one grid.

use cryoseed_core::{LesionId, Organ, PatientId, StructureRole};
use cryoseed_volume::{Grid, Mask};

/// Why a set of structures does not form a valid case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    /// A structure's mask is on another grid.
    #[error("structure {name:?}: mask grid differs from the case grid")]
    GridMismatch {
        /// Structure name.
        name: String,
    },
    /// Two structures share a name.
    #[error("structure name {name:?} is used twice")]
    DuplicateName {
        /// Structure name.
        name: String,
    },
    /// Two GTVs share a lesion id.
    #[error("lesion id {lesion_id} is used by two GTVs")]
    DuplicateLesion {
        /// Lesion id.
        lesion_id: LesionId,
    },
    /// A GTV has no lesion data, or a non-GTV has some.
    #[error("structure {name:?}: {reason}")]
    LesionRole {
        /// Structure name.
        name: String,
        /// What is inconsistent.
        reason: &'static str,
    },
    /// A structure's mask has no voxel inside.
    #[error("structure {name:?}: mask is empty")]
    EmptyMask {
        /// Structure name.
        name: String,
    },
}

/// Lesion data attached to a GTV structure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LesionInfo {
    /// Lesion code, unique within the patient.
    pub lesion_id: LesionId,
    /// Whether the lesion is a prespecified target lesion (2–5 per patient).
    pub is_target: bool,
    /// Whether the investigator designated it as the bulky index lesion.
    pub is_bulky_index: bool,
}

/// One contoured structure.
#[derive(Clone, Debug, PartialEq)]
pub struct Structure {
    /// TG-263-style name (`GTV_L1`, `SpinalCord`, `A_Aorta`, `External`).
    pub name: String,
    /// What the structure is for.
    pub role: StructureRole,
    /// Its organ (for a GTV: the organ the lesion is in).
    pub organ: Organ,
    /// Present exactly for GTVs.
    pub lesion: Option<LesionInfo>,
    /// Voxels inside the structure, on the case grid.
    pub mask: Mask,
}

/// A patient's structures on one grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    patient_id: PatientId,
    grid: Grid,
    structures: Vec<Structure>,
}

impl Case {
    /// Checks that the structures form a case: same grid, unique names and lesion ids, lesion
    /// data exactly on GTVs, no empty mask.
    pub fn new(patient_id: PatientId, grid: Grid, structures: Vec<Structure>) -> Result<Case, CaseError> {
        let mut names = std::collections::BTreeSet::new();
        let mut lesions = std::collections::BTreeSet::new();
        for s in &structures {
            if !s.mask.grid().same_geometry(&grid) {
                return Err(CaseError::GridMismatch { name: s.name.clone() });
            }
            if !names.insert(s.name.as_str()) {
                return Err(CaseError::DuplicateName { name: s.name.clone() });
            }
            match (&s.lesion, s.role) {
                (Some(l), StructureRole::Gtv) => {
                    if !lesions.insert(l.lesion_id.clone()) {
                        return Err(CaseError::DuplicateLesion { lesion_id: l.lesion_id.clone() });
                    }
                }
                (None, StructureRole::Gtv) => {
                    return Err(CaseError::LesionRole { name: s.name.clone(), reason: "a GTV needs lesion data" });
                }
                (Some(_), _) => {
                    return Err(CaseError::LesionRole {
                        name: s.name.clone(),
                        reason: "only a GTV can carry lesion data",
                    });
                }
                (None, _) => {}
            }
            if s.mask.is_empty() {
                return Err(CaseError::EmptyMask { name: s.name.clone() });
            }
        }
        Ok(Case { patient_id, grid, structures })
    }

    /// The patient's code.
    pub fn patient_id(&self) -> &PatientId {
        &self.patient_id
    }

    /// The grid every mask lives on.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// All structures, in the order given.
    pub fn structures(&self) -> &[Structure] {
        &self.structures
    }

    /// The structure with this name.
    pub fn structure(&self, name: &str) -> Option<&Structure> {
        self.structures.iter().find(|s| s.name == name)
    }

    /// Structures with a given role.
    pub fn with_role(&self, role: StructureRole) -> impl Iterator<Item = &Structure> {
        self.structures.iter().filter(move |s| s.role == role)
    }

    /// The GTVs with their lesion data.
    pub fn lesions(&self) -> impl Iterator<Item = (&Structure, &LesionInfo)> {
        self.structures.iter().filter_map(|s| s.lesion.as_ref().map(|l| (s, l)))
    }
}
