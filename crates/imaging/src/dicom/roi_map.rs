//! ROI name → structure role, organ and lesion data.
//!
//! Rules are matched against the ROI name case-insensitively with `*` (any run of characters) and
//! `?` (one character); the first matching rule wins. Rules from a mapping file come first, then
//! the TG-263-style defaults ([`RoiMap::tg263_defaults`]) unless the file says `defaults = false`.
//! An ROI no rule matches is reported and skipped, never guessed.
//!
//! Mapping file (TOML):
//!
//! ```toml
//! defaults = true            # keep the built-in TG-263 rules after these (default true)
//! targets = ["L1", "L2"]     # target lesions; when absent every GTV is a target
//! bulky_index = "L1"         # the bulky index lesion (none when absent)
//!
//! [[roi]]
//! name = "Met_Liver_*"       # pattern
//! role = "gtv"               # gtv | oar | vessel | organ | body
//! organ = "liver"            # an organ (for a GTV: the organ the lesion is in)
//! lesion_id = "L3"           # GTVs only; default derived from the name (GTV_L1 → L1, GTV2 → L2)
//!
//! [[roi]]
//! name = "PTV*"
//! skip = true                # import nothing, report nothing
//! ```

use crate::ImagingError;
use cryoseed_core::{LesionId, Organ, StructureRole};
use serde::Deserialize;
use std::path::Path;

/// What a rule does with a matching ROI.
#[derive(Clone, Debug, PartialEq)]
pub enum RoiAction {
    /// Import the ROI with this role; `organ` may be left open for GTVs (then inferred).
    Assign {
        /// Structure role.
        role: StructureRole,
        /// Organ; `None` only for GTVs.
        organ: Option<Organ>,
        /// Lesion id for a GTV; `None` derives it from the name.
        lesion_id: Option<LesionId>,
    },
    /// Deliberately not imported (planning volumes, couch…).
    Skip,
}

/// One mapping rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RoiRule {
    /// Case-insensitive pattern with `*` and `?`.
    pub pattern: String,
    /// What to do.
    pub action: RoiAction,
}

/// The ROI mapping: rules plus lesion designations.
#[derive(Clone, Debug, PartialEq)]
pub struct RoiMap {
    /// Rules, first match wins.
    pub rules: Vec<RoiRule>,
    /// Target lesions; `None` means every GTV is a target.
    pub targets: Option<Vec<LesionId>>,
    /// The bulky index lesion, if designated.
    pub bulky_index: Option<LesionId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default = "yes")]
    defaults: bool,
    #[serde(default)]
    targets: Option<Vec<LesionId>>,
    #[serde(default)]
    bulky_index: Option<LesionId>,
    #[serde(default)]
    roi: Vec<RuleFile>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: String,
    #[serde(default)]
    role: Option<StructureRole>,
    #[serde(default)]
    organ: Option<Organ>,
    #[serde(default)]
    lesion_id: Option<LesionId>,
    #[serde(default)]
    skip: bool,
}

impl RoiMap {
    /// Built-in TG-263-style rules (AAPM TG-263, 2018, nomenclature), in matching order.
    pub fn tg263_defaults() -> RoiMap {
        use Organ as O;
        use StructureRole as R;
        let assign = |pattern: &str, role, organ: Option<Organ>| RoiRule {
            pattern: pattern.into(),
            action: RoiAction::Assign { role, organ, lesion_id: None },
        };
        let skip = |pattern: &str| RoiRule { pattern: pattern.into(), action: RoiAction::Skip };
        let rules = vec![
            assign("GTV*", R::Gtv, None),
            skip("CTV*"),
            skip("ITV*"),
            skip("PTV*"),
            assign("External", R::Body, Some(O::Body)),
            assign("Body", R::Body, Some(O::Body)),
            assign("SpinalCord*", R::Oar, Some(O::SpinalCord)),
            assign("Bowel*", R::Oar, Some(O::Bowel)),
            assign("Duodenum", R::Oar, Some(O::Bowel)),
            assign("Colon*", R::Oar, Some(O::Bowel)),
            assign("A_Aorta*", R::Oar, Some(O::Aorta)),
            assign("V_Venacava*", R::Oar, Some(O::VenaCava)),
            assign("A_*", R::Vessel, Some(O::OtherVessel)),
            assign("V_*", R::Vessel, Some(O::OtherVessel)),
            assign("Heart", R::Oar, Some(O::Heart)),
            assign("Trachea", R::Oar, Some(O::CentralAirway)),
            assign("Bronchus*", R::Oar, Some(O::CentralAirway)),
            assign("Skin", R::Oar, Some(O::Skin)),
            assign("Nrv_*", R::Oar, Some(O::Nerve)),
            assign("BrachialPlex*", R::Oar, Some(O::Nerve)),
            assign("SacralPlex*", R::Oar, Some(O::Nerve)),
            assign("CaudaEquina", R::Oar, Some(O::Nerve)),
            assign("Liver", R::Organ, Some(O::Liver)),
            assign("Lung_L", R::Organ, Some(O::Lung)),
            assign("Lung_R", R::Organ, Some(O::Lung)),
            assign("Lungs", R::Organ, Some(O::Lung)),
            assign("Kidney_*", R::Organ, Some(O::Kidney)),
            assign("Kidneys", R::Organ, Some(O::Kidney)),
            assign("Bone*", R::Organ, Some(O::Bone)),
            assign("VB*", R::Organ, Some(O::Bone)),
            assign("Pelvis", R::Organ, Some(O::Pelvis)),
        ];
        RoiMap { rules, targets: None, bulky_index: None }
    }

    /// Parses a mapping file (format in the module docs); `path` is only used in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<RoiMap, ImagingError> {
        let err = |key: String, message: String| ImagingError::RoiMap { path: path.to_owned(), key, message };
        let file: MapFile = toml::from_str(text).map_err(|e| {
            let key = match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                }
                None => "top level".into(),
            };
            err(key, e.message().to_owned())
        })?;
        let mut rules = Vec::with_capacity(file.roi.len());
        for (n, r) in file.roi.into_iter().enumerate() {
            let key = format!("roi[{n}] ({:?})", r.name);
            let action = match (r.skip, r.role) {
                (true, None) if r.organ.is_none() && r.lesion_id.is_none() => RoiAction::Skip,
                (true, _) => return Err(err(key, "skip = true takes no role, organ or lesion_id".into())),
                (false, None) => return Err(err(key, "needs role = \"…\" (or skip = true)".into())),
                (false, Some(role)) => {
                    if role != StructureRole::Gtv && r.organ.is_none() {
                        return Err(err(key, "needs organ = \"…\" (only a GTV's organ may be inferred)".into()));
                    }
                    if role != StructureRole::Gtv && r.lesion_id.is_some() {
                        return Err(err(key, "lesion_id is only for role = \"gtv\"".into()));
                    }
                    RoiAction::Assign { role, organ: r.organ, lesion_id: r.lesion_id }
                }
            };
            rules.push(RoiRule { pattern: r.name, action });
        }
        if file.defaults {
            rules.extend(RoiMap::tg263_defaults().rules);
        }
        Ok(RoiMap { rules, targets: file.targets, bulky_index: file.bulky_index })
    }

    /// The first rule matching `roi_name`.
    pub fn rule_for(&self, roi_name: &str) -> Option<&RoiRule> {
        self.rules.iter().find(|r| glob_match(&r.pattern, roi_name))
    }
}

impl Default for RoiMap {
    fn default() -> RoiMap {
        RoiMap::tg263_defaults()
    }
}

/// Lesion id from a GTV's name: the text after `GTV` and one separator (`GTV_L1` → `L1`); digits
/// alone get an `L` (`GTV2` → `L2`); a bare `GTV` is `L1`. Other names are used whole.
pub fn lesion_id_from_name(name: &str) -> Result<LesionId, String> {
    let rest = if name.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("gtv")) {
        name[3..].trim_start_matches(['_', '-', ' '])
    } else {
        name
    };
    let id = if rest.is_empty() {
        "L1".to_owned()
    } else if rest.chars().all(|c| c.is_ascii_digit()) {
        format!("L{rest}")
    } else {
        rest.to_owned()
    };
    LesionId::parse(&id).map_err(|e| e.to_string())
}

/// Case-insensitive glob with `*` and `?`.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let s: Vec<char> = name.to_lowercase().chars().collect();
    // Iterative wildcard matching with backtracking to the last `*`.
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}
