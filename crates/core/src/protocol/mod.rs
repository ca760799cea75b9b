//! The trial protocol: every clinical threshold, as one typed, validated, hashed value.
//!
//! A [`Protocol`] is read from TOML (`protocol.toml`, whose shipped default is embedded in the
//! crate as [`Protocol::default_toml`]) in two steps:
//!
//! 1. **structure**: the text is deserialized into the section types of [`sections`]; unknown
//!    keys, missing keys, wrong types and TOML syntax errors stop the load and are reported with
//!    their key path and line/column (serde stops at the first such problem);
//! 2. **meaning**: ranges and cross-field consistency are checked (`validate`), and *every*
//!    problem is reported, one line each, as `zoning.core_depth_mm: must be > 0, got -5`.
//!
//! Only a value that passed both steps is returned, so code that takes a `&Protocol` may rely on
//! it (the fields are public for reading; a protocol edited or built by hand is not re-checked).
//!
//! **Identity.** [`Protocol::hash`] is the SHA-256 of the canonical form
//! ([`Protocol::to_canonical_json`]): the validated protocol re-serialized as compact JSON, keys in
//! declaration order (maps in key order), numbers in Rust's shortest round-trip form. Comments,
//! whitespace, key order and number spelling (`10` vs `10.0`) in the TOML do not change the hash;
//! any change of value does. Every stored result records this hash and `protocol.version`.
//!
//! ```
//! use cryoseed_core::protocol::Protocol;
//! use cryoseed_core::{Gy, LesionSite};
//!
//! let protocol = Protocol::shipped();
//! assert_eq!(protocol.prescription(LesionSite::Lung), Gy(120.0));
//!
//! let edited = Protocol::default_toml().replace("core_depth_mm = 10.0", "core_depth_mm = -5.0");
//! let errors = Protocol::from_toml_str(&edited).unwrap_err();
//! assert_eq!(errors.to_string(), "zoning.core_depth_mm: must be > 0, got -5");
//! ```

pub mod sections;
mod validate;

pub use sections::*;

use crate::domain::{CriticalOar, LesionSite};
use crate::units::{Celsius, Gy, Ml, Mm};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

/// The shipped default protocol, `protocol.toml` at the workspace root.
const SHIPPED_TOML: &str = include_str!("../../../../protocol.toml");

static SHIPPED: LazyLock<Protocol> = LazyLock::new(|| match Protocol::from_toml_str(SHIPPED_TOML) {
    Ok(protocol) => protocol,
    // The integration tests load the shipped file, so this cannot ship broken.
    Err(errors) => panic!("the shipped protocol.toml is invalid:\n{errors}"),
});

/// The whole protocol: one field per table of `protocol.toml`, in the order of PROTOCOL.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// `[protocol]`: name, version, description.
    pub protocol: ProtocolInfo,
    /// `[eligibility]`: inclusion thresholds.
    pub eligibility: EligibilityCriteria,
    /// `[randomization]`: ratio, method, blocks, strata.
    pub randomization: RandomizationDesign,
    /// `[allocation]`: seeds-or-cryo rules for non-bulky targets.
    pub allocation: AllocationRules,
    /// `[zoning]`: core / margin / high-risk sub-volumes of the bulky lesion.
    pub zoning: ZoningRules,
    /// `[cryo]`: cryoablation technique and thermal model inputs.
    pub cryo: CryoParameters,
    /// `[seeds]`: I-125 implant, prescriptions, plan goals, OAR limits.
    pub seeds: SeedParameters,
    /// `[response]`: RECIST, local progression, adjudication, schedule.
    pub response: ResponseRules,
    /// `[endpoints]`: follow-up horizons and windows.
    pub endpoints: EndpointWindows,
    /// `[analysis]`: statistical settings.
    pub analysis: AnalysisSettings,
    /// `[power]`: design assumptions for the power calculation.
    pub power: PowerAssumptions,
}

impl Protocol {
    /// The text of the shipped default `protocol.toml` (embedded at build time).
    pub fn default_toml() -> &'static str {
        SHIPPED_TOML
    }

    /// The shipped default protocol, parsed and validated.
    pub fn shipped() -> Protocol {
        SHIPPED.clone()
    }

    /// Parses and validates a protocol. Structural problems (TOML syntax, unknown or missing key,
    /// wrong type) stop at the first one; semantic problems are all reported.
    pub fn from_toml_str(text: &str) -> Result<Protocol, ProtocolErrors> {
        let protocol = parse_structure(text).map_err(|error| ProtocolErrors(vec![error]))?;
        let errors = validate::validate(&protocol);
        if errors.is_empty() { Ok(protocol) } else { Err(ProtocolErrors(errors)) }
    }

    /// The protocol as TOML (for `protocol show`): every value, no comments. Reading it back with
    /// [`Protocol::from_toml_str`] gives an equal protocol with the same hash.
    pub fn to_toml_string(&self) -> String {
        // Every field is a string, bool, integer, float, array or table with string keys, all of
        // which TOML represents, so serialization cannot fail.
        toml::to_string_pretty(self).expect("a protocol is always representable in TOML")
    }

    /// The canonical form: compact JSON, keys in declaration order (maps in key order), numbers in
    /// Rust's shortest round-trip form. The input of [`Protocol::hash`].
    pub fn to_canonical_json(&self) -> String {
        // serde_json writes struct fields in declaration order and floats in their shortest
        // round-trip form; the only map is a BTreeMap, ordered by key. A change of serde_json's
        // float spelling would change every hash: the pinned-hash test would catch it.
        serde_json::to_string(self).expect("a protocol is always representable in JSON")
    }

    /// SHA-256 of [`Protocol::to_canonical_json`]: the identity recorded with every result.
    pub fn hash(&self) -> ProtocolHash {
        ProtocolHash(Sha256::digest(self.to_canonical_json().as_bytes()).into())
    }

    /// Seed prescription dose for a lesion site.
    pub fn prescription(&self, site: LesionSite) -> Gy {
        self.seeds.prescription_gy.get(site)
    }

    /// Which bulky criterion a lesion meets, if any (diameter checked first).
    pub fn bulky_criterion(&self, longest_diameter: Option<Mm>, volume: Option<Ml>) -> Option<BulkyCriterion> {
        self.eligibility.bulky.criterion_met(longest_diameter, volume)
    }

    /// The seed-dose limit of an OAR class, if the protocol sets one.
    pub fn oar_limit(&self, oar: CriticalOar) -> Option<&OarDoseLimit> {
        self.seeds.oar_limit(oar)
    }

    /// The lethal isotherm the zoning requires over the core (`zoning.core_lethal_isotherm`).
    pub fn core_lethal_isotherm(&self) -> Celsius {
        match self.zoning.core_lethal_isotherm {
            IsothermChoice::Standard => self.cryo.lethal_isotherm_c,
            IsothermChoice::Conservative => self.cryo.conservative_lethal_isotherm_c,
        }
    }

    /// The default freeze–thaw protocol (`cryo.default_freeze_thaw`; it exists in a validated
    /// protocol).
    pub fn default_freeze_thaw(&self) -> Option<&FreezeThawProtocol> {
        self.cryo.freeze_thaw(&self.cryo.default_freeze_thaw)
    }
}

/// Deserializes with key-path tracking; converts the first error to a [`ProtocolError`].
fn parse_structure(text: &str) -> Result<Protocol, ProtocolError> {
    let deserializer = toml::Deserializer::parse(text).map_err(|error| ProtocolError {
        key: String::new(),
        message: format!("TOML syntax error: {}{}", one_line(error.message()), location(text, error.span())),
    })?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = one_line(inner.message());
        let mut key = if path == "." { String::new() } else { path };
        // serde reports a missing field at its parent table; name the field itself.
        if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
            key = if key.is_empty() { field.to_owned() } else { format!("{key}.{field}") };
        }
        ProtocolError { key, message: format!("{message}{}", location(text, inner.span())) }
    })
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ` (line L, column C)` for the start of `span`, 1-based, columns in characters.
fn location(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    let Some(before) = text.get(..span.start) else {
        return String::new();
    };
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!(" (line {line}, column {column})")
}

/// One problem with a protocol file, at a key path such as `cryo.freeze_thaw[1].phases[0].kind`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", key_message(.key, .message))]
pub struct ProtocolError {
    /// Dotted key path of the offending value (`[i]` for array elements); empty for TOML syntax
    /// errors.
    pub key: String,
    /// What is wrong, ending with the offending value (`must be > 0, got -5`) or, for structural
    /// errors, the line and column.
    pub message: String,
}

/// Every problem found in a protocol file; displayed one per line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", one_per_line(.0))]
pub struct ProtocolErrors(pub Vec<ProtocolError>);

impl ProtocolErrors {
    /// The problems, in file order for structure and section order for meaning.
    pub fn errors(&self) -> &[ProtocolError] {
        &self.0
    }
}

fn key_message(key: &str, message: &str) -> String {
    if key.is_empty() { message.to_owned() } else { format!("{key}: {message}") }
}

fn one_per_line(errors: &[ProtocolError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// SHA-256 of a protocol's canonical form; displayed as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolHash([u8; 32]);

impl ProtocolHash {
    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 12 hex digits, for reports and log lines.
    pub fn short(&self) -> String {
        let mut hex = self.to_string();
        hex.truncate(12);
        hex
    }
}

impl fmt::Display for ProtocolHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for ProtocolHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolHash({self})")
    }
}

/// A string that is not 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid protocol hash {0:?}: expected 64 lowercase hex digits")]
pub struct InvalidProtocolHash(pub String);

impl FromStr for ProtocolHash {
    type Err = InvalidProtocolHash;

    /// Parses the [`Display`](fmt::Display) form (64 lowercase hex digits).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidProtocolHash(text.to_owned());
        if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
        }
        Ok(ProtocolHash(bytes))
    }
}

impl Serialize for ProtocolHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProtocolHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
