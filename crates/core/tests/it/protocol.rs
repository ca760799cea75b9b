//! The protocol as a reviewer sees it: what loads, what is rejected and with which message, and
//! what changes the protocol's identity.

use cryoseed_core::protocol::{BulkyCriterion, Protocol, ProtocolHash};
use cryoseed_core::{Celsius, CriticalOar, Ecog, Gy, LesionSite, Minutes, Ml, Mm, Organ};

/// The shipped protocol's identity. A change to a value in `protocol.toml` changes the hash: bump
/// `protocol.version` (results recorded under the old version must stay attributable) and update
/// both here.
const SHIPPED_VERSION: &str = "1.1.0";
const SHIPPED_HASH: &str = "6a4c4089323d32fdeeef50d4e219010ceaa0c2409c6b0956fddff14051299084";

/// Applies text replacements to the shipped `protocol.toml` (each `from` must occur exactly once).
fn edit(edits: &[(&str, &str)]) -> String {
    let mut text = Protocol::default_toml().to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "edit target {from:?} must occur exactly once");
        text = text.replace(from, to);
    }
    text
}

/// Loads the edited shipped protocol and compares the reported problems, one per line, with
/// `expected` ("" = valid). Line/column suffixes are replaced by `(line _, column _)` so that
/// editing comments in `protocol.toml` does not break these cases; `location_is_line_and_column`
/// checks them exactly.
#[track_caller]
fn check(edits: &[(&str, &str)], expected: &str) {
    let actual = match Protocol::from_toml_str(&edit(edits)) {
        Ok(_) => String::new(),
        Err(errors) => mask_location(&errors.to_string()),
    };
    assert_eq!(actual, expected.trim(), "\nedits: {edits:?}");
}

fn mask_location(text: &str) -> String {
    text.lines()
        .map(|line| match line.rfind(" (line ") {
            Some(at) if line.ends_with(')') => format!("{} (line _, column _)", &line[..at]),
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shipped_protocol_is_valid() {
    check(&[], "");
    let protocol = Protocol::shipped();
    assert_eq!(protocol, Protocol::from_toml_str(Protocol::default_toml()).unwrap());
    assert_eq!(protocol.protocol.version, SHIPPED_VERSION);
}

#[test]
fn every_shipped_value_cites_its_source() {
    let uncited: Vec<&str> = Protocol::default_toml()
        .lines()
        .filter(|line| line.contains(" = ") && !line.trim_start().starts_with(['#', '{']))
        .filter(|line| !line.contains('#'))
        .collect();
    assert!(uncited.is_empty(), "values without a source comment: {uncited:#?}");
}

#[test]
fn shipped_protocol_hash_is_pinned() {
    let hash = Protocol::shipped().hash();
    assert_eq!(
        (Protocol::shipped().protocol.version.as_str(), hash.to_string().as_str()),
        (SHIPPED_VERSION, SHIPPED_HASH),
        "protocol.toml changed: bump protocol.version and update the pins in this test"
    );
}

#[test]
fn range_errors_name_the_key_and_the_value() {
    check(&[("core_depth_mm = 10.0", "core_depth_mm = -5.0")], "zoning.core_depth_mm: must be > 0, got -5");
    check(&[("core_depth_mm = 10.0", "core_depth_mm = 0")], "zoning.core_depth_mm: must be > 0, got 0");
    check(
        &[("alpha_one_sided = 0.10", "alpha_one_sided = 1.5")],
        "analysis.alpha_one_sided: must be in (0, 1), got 1.5",
    );
    check(
        &[("alpha_one_sided = 0.10", "alpha_one_sided = nan")],
        "analysis.alpha_one_sided: must be a finite number, got NaN",
    );
    check(&[("bone = 110.0", "bone = 0.0")], "seeds.prescription_gy.bone: must be > 0, got 0");
    check(
        &[("minimization_biased_coin_p = 0.8", "minimization_biased_coin_p = 0.3")],
        "randomization.minimization_biased_coin_p: must be in [0.5, 1], got 0.3",
    );
    check(&[("max_probes = 8", "max_probes = 0")], "cryo.max_probes: must be >= 1, got 0");
    check(
        &[
            ("partial_response_min_decrease_percent = 30.0", "partial_response_min_decrease_percent = 130.0"),
            ("too_small_to_measure_mm = 5.0", "too_small_to_measure_mm = 0.0"),
            ("tumour_burden_window_days = 28.0", "tumour_burden_window_days = -1.0"),
        ],
        "response.tumour_burden_window_days: must be >= 0, got -1\n\
         response.recist.partial_response_min_decrease_percent: must be in [0, 100], got 130\n\
         response.recist.too_small_to_measure_mm: must be > 0, got 0",
    );
    check(
        &[("version = \"1.1.0\"", "version = \"1.0\"")],
        r#"protocol.version: must be MAJOR.MINOR.PATCH (e.g. "1.0.0"), got "1.0""#,
    );
    check(
        &[("conductivity_unfrozen_w_per_m_k = 0.3", "conductivity_unfrozen_w_per_m_k = -0.3")],
        "cryo.tissue_overrides.lung.conductivity_unfrozen_w_per_m_k: must be > 0, got -0.3",
    );
    check(
        &[("{ kind = \"freeze\", minutes = 3.0 }", "{ kind = \"freeze\", minutes = 0.0 }")],
        "cryo.freeze_thaw[1].phases[0].minutes: must be > 0, got 0",
    );
}

#[test]
fn non_finite_numbers_are_rejected_once() {
    check(&[("max_inr = 1.5", "max_inr = inf")], "eligibility.labs.max_inr: must be a finite number, got inf");
    check(
        &[("lethal_isotherm_c = -20.0", "lethal_isotherm_c = nan")],
        "cryo.lethal_isotherm_c: must be a finite number, got NaN",
    );
}

#[test]
fn tissue_defaults_are_reported_once_not_per_override() {
    check(
        &[("conductivity_frozen_w_per_m_k = 2.0", "conductivity_frozen_w_per_m_k = 0.0")],
        "cryo.tissue.conductivity_frozen_w_per_m_k: must be > 0, got 0",
    );
    // An override that moves one end of the phase-change interval is checked against the other.
    check(
        &[(
            "conductivity_unfrozen_w_per_m_k = 0.3",
            "conductivity_unfrozen_w_per_m_k = 0.3\nphase_change_lower_c = -0.5",
        )],
        "cryo.tissue_overrides.lung.phase_change_lower_c: must be < phase_change_upper_c (-1), got -0.5",
    );
}

#[test]
fn cross_field_errors_name_the_dependent_key() {
    check(
        &[("block_sizes = [2, 4]", "block_sizes = [2, 3]")],
        "randomization.block_sizes[1]: must be a positive multiple of 2 (ratio experimental + control), got 3",
    );
    check(
        &[("min_gtv_to_oar_mm = 15.0", "min_gtv_to_oar_mm = 12.0")],
        "allocation.min_gtv_to_oar_mm: must be >= cryo.ablative_margin_mm + non_lethal_rim_mm + min_ice_to_oar_mm (5 + 5 + 5 = 15), got 12",
    );
    check(
        &[("max_probe_spacing_mm = 20.0", "max_probe_spacing_mm = 8.0")],
        "cryo.max_probe_spacing_mm: must be >= min_probe_spacing_mm (10), got 8",
    );
    check(
        &[("max_v200_percent = 30.0", "max_v200_percent = 70.0")],
        "seeds.plan_goals.max_v200_percent: must be <= max_v150_percent (60), got 70",
    );
    check(
        &[("phase_change_lower_c = -8.0", "phase_change_lower_c = -1.0")],
        "cryo.tissue.phase_change_lower_c: must be < phase_change_upper_c (-1), got -1",
    );
    check(
        &[("conservative_lethal_isotherm_c = -40.0", "conservative_lethal_isotherm_c = -10.0")],
        "cryo.conservative_lethal_isotherm_c: must be colder than lethal_isotherm_c (-20), got -10",
    );
    check(
        &[("ecog_strata = [{ min = 0, max = 1 }, { min = 2, max = 2 }]", "ecog_strata = [{ min = 0, max = 1 }]")],
        "randomization.ecog_strata: every eligible ECOG score must be in exactly one group, got ECOG 2 in 0",
    );
    check(
        &[("default_freeze_thaw = \"10-8-10\"", "default_freeze_thaw = \"3-7-10\"")],
        r#"cryo.default_freeze_thaw: must name a protocol for every site (empty `sites`), got "3-7-10""#,
    );
    check(
        &[("default_freeze_thaw = \"10-8-10\"", "default_freeze_thaw = \"10-10\"")],
        r#"cryo.default_freeze_thaw: must name one of cryo.freeze_thaw, got "10-10""#,
    );
    check(
        &[("oar = \"bowel\"", "oar = \"spinal_cord\"")],
        "seeds.oar_limits[1].oar: must be unique, got spinal_cord again (first at seeds.oar_limits[0])",
    );
    check(
        &[("heat_sink_max_distance_mm = 5.0", "heat_sink_max_distance_mm = 12.0")],
        "allocation.heat_sink_max_distance_mm: must be <= vessel_search_radius_mm (10), got 12",
    );
    check(
        &[("max_lesions_per_patient = 5", "max_lesions_per_patient = 6")],
        "power.max_lesions_per_patient: must be <= eligibility.max_targets (5), got 6",
    );
    check(
        &[("landmark_months = [6.0, 12.0]", "landmark_months = [12.0, 6.0]")],
        "analysis.landmark_months[1]: must be > the previous entry (12), got 6",
    );
}

#[test]
fn freeze_thaw_protocol_starts_with_a_freeze_and_alternates() {
    check(
        &[(
            "    { kind = \"freeze\", minutes = 10.0 },\n    { kind = \"thaw\", minutes = 8.0 },    # passive thaw\n",
            "    { kind = \"thaw\", minutes = 8.0 },\n    { kind = \"freeze\", minutes = 10.0 },\n",
        )],
        "
cryo.freeze_thaw[0].phases[0].kind: must be freeze (a protocol starts with a freeze), got thaw
cryo.freeze_thaw[0].phases[2].kind: must differ from the previous phase (freeze and thaw alternate), got freeze twice",
    );
}

#[test]
fn every_semantic_problem_is_reported() {
    check(
        &[
            ("core_depth_mm = 10.0", "core_depth_mm = -5.0"),
            ("min_targets = 2", "min_targets = 6"),
            ("lethal_isotherm_c = -20.0", "lethal_isotherm_c = 5.0"),
            ("alpha_one_sided = 0.10", "alpha_one_sided = 0"),
        ],
        "
eligibility.min_targets: must be <= max_targets (5), got 6
zoning.core_depth_mm: must be > 0, got -5
zoning.ice_edge_isotherm_c: must be warmer than the core lethal isotherm (5), got 0
cryo.lethal_isotherm_c: must be < 0, got 5
analysis.alpha_one_sided: must be in (0, 1), got 0
power.min_lesions_per_patient: must be >= eligibility.min_targets (6), got 2",
    );
}

#[test]
fn structural_errors_name_the_key() {
    // Unknown key (a typo) and unknown table.
    check(
        &[("min_volume_ml = 100.0", "min_volume_cc = 100.0")],
        "eligibility.bulky.min_volume_cc: unknown field `min_volume_cc`, expected `min_longest_diameter_mm` or `min_volume_ml` (line _, column _)",
    );
    // Missing key: named with its full path, not just its table.
    check(&[("bone = 110.0", "# bone removed")], "seeds.prescription_gy.bone: missing field `bone` (line _, column _)");
    // Wrong type.
    check(
        &[("max_probes = 8", "max_probes = \"eight\"")],
        r#"cryo.max_probes: invalid type: string "eight", expected u32 (line _, column _)"#,
    );
    check(
        &[("max_probes = 8", "max_probes = 8.5")],
        "cryo.max_probes: invalid type: floating point `8.5`, expected u32 (line _, column _)",
    );
    // Unknown enum value.
    check(
        &[("method = \"permuted_blocks\"", "method = \"coin_toss\"")],
        "randomization.method: unknown variant `coin_toss`, expected `permuted_blocks` or `minimization` (line _, column _)",
    );
    // A value outside its type (ECOG is 0-5).
    check(
        &[("ecog = { min = 0, max = 2 }", "ecog = { min = 0, max = 7 }")],
        "eligibility.ecog.max: ECOG must be 0-5, got 7 (line _, column _)",
    );
    // Array element.
    check(
        &[("{ kind = \"thaw\", minutes = 8.0 }", "{ kind = \"melt\", minutes = 8.0 }")],
        "cryo.freeze_thaw[0].phases[1].kind: unknown variant `melt`, expected `freeze` or `thaw` (line _, column _)",
    );
}

#[test]
fn unknown_table_is_named() {
    let text = format!("{}\n[extras]\nanswer = 42\n", Protocol::default_toml());
    let errors = Protocol::from_toml_str(&text).unwrap_err();
    assert_eq!(errors.errors().len(), 1);
    assert_eq!(errors.errors()[0].key, "extras");
    assert!(
        errors.errors()[0].message.starts_with("unknown field `extras`, expected one of `protocol`, `eligibility`"),
        "{errors}"
    );
}

#[test]
fn location_is_line_and_column() {
    let errors = Protocol::from_toml_str("[protocol]\nname = 1\n").unwrap_err();
    assert_eq!(errors.to_string(), "protocol.name: invalid type: integer `1`, expected a string (line 2, column 8)");
    let errors = Protocol::from_toml_str("[protocol]\nname = = 1\n").unwrap_err();
    assert_eq!(errors.errors()[0].key, "");
    assert!(errors.to_string().starts_with("TOML syntax error: "), "{errors}");
    assert!(errors.to_string().ends_with("(line 2, column 8)"), "{errors}");
    assert_eq!(errors.to_string().lines().count(), 1);
}

#[test]
fn hash_ignores_comments_whitespace_key_order_and_number_spelling() {
    let shipped = Protocol::shipped().hash();
    assert_eq!(Protocol::from_toml_str(Protocol::default_toml()).unwrap().hash(), shipped);

    // No comments, no indentation, no blank lines.
    let bare: String = Protocol::default_toml()
        .lines()
        .map(|line| line.split('#').next().unwrap().trim())
        .filter(|line| !line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(Protocol::from_toml_str(&bare).unwrap().hash(), shipped);

    // Keys in another order, integers for floats, spaces around `=` changed.
    let reordered = edit(&[(
        "core_depth_mm = 10.0                     # PROTOCOL.md: Tumour zoning\ncore_min_oar_distance_mm = 20.0          # PROTOCOL.md: Tumour zoning\n",
        "core_min_oar_distance_mm=20\ncore_depth_mm   =   10\n",
    )]);
    assert_eq!(Protocol::from_toml_str(&reordered).unwrap().hash(), shipped);
}

#[test]
fn hash_changes_with_any_value() {
    let shipped = Protocol::shipped().hash();
    for edits in [
        [("core_depth_mm = 10.0", "core_depth_mm = 10.5")],
        [("bone = 110.0", "bone = 110.000001")],
        [("description = \"Randomized", "description = \"randomized")],
        [("require_confirmation = false", "require_confirmation = true")],
        [("block_sizes = [2, 4]", "block_sizes = [4, 2]")],
    ] {
        let hash = Protocol::from_toml_str(&edit(&edits)).unwrap().hash();
        assert_ne!(hash, shipped, "{edits:?}");
    }
}

#[test]
fn hash_display_short_and_parse() {
    let hash = Protocol::shipped().hash();
    let hex = hash.to_string();
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert_eq!(hash.short(), hex[..12]);
    assert_eq!(hex.parse::<ProtocolHash>().unwrap(), hash);
    assert!("ABC".parse::<ProtocolHash>().is_err());
    assert_eq!(serde_json::to_string(&hash).unwrap(), format!("\"{hex}\""));
}

#[test]
fn canonical_form_is_compact_json_in_declaration_order() {
    let json = Protocol::shipped().to_canonical_json();
    assert!(json.starts_with(r#"{"protocol":{"name":"cryoseed-phase2","version":"1.1.0","#), "{json}");
    assert!(json.contains(r#""zoning":{"core_depth_mm":10.0,"#), "{json}");
    assert!(json.contains(r#""ecog":{"min":0,"max":2},"min_metastatic_lesions":3,"#), "{json}");
    assert!(!json.contains('\n'));
}

#[test]
fn toml_round_trip_keeps_value_and_hash() {
    let shipped = Protocol::shipped();
    let text = shipped.to_toml_string();
    let back = Protocol::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, shipped);
    assert_eq!(back.hash(), shipped.hash());
}

#[test]
fn accessors_read_the_protocol() {
    let p = Protocol::shipped();
    assert_eq!(p.prescription(LesionSite::Lung), Gy(120.0));
    assert_eq!(p.prescription(LesionSite::SoftTissue), Gy(110.0));

    assert_eq!(p.bulky_criterion(Some(Mm(70.0)), None), Some(BulkyCriterion::LongestDiameter));
    assert_eq!(p.bulky_criterion(Some(Mm(69.9)), Some(Ml(100.0))), Some(BulkyCriterion::Volume));
    assert_eq!(p.bulky_criterion(Some(Mm(80.0)), Some(Ml(150.0))), Some(BulkyCriterion::LongestDiameter));
    assert_eq!(p.bulky_criterion(Some(Mm(69.9)), Some(Ml(99.9))), None);
    assert_eq!(p.bulky_criterion(None, None), None);

    let cord = p.oar_limit(CriticalOar::SpinalCord).unwrap();
    assert_eq!((cord.volume_cc, cord.max_dose_gy), (Ml(0.1), Gy(50.0)));
    assert_eq!(p.oar_limit(CriticalOar::Bowel).unwrap().volume_cc, Ml(2.0));
    assert!(p.oar_limit(CriticalOar::MajorNerve).is_none());

    assert_eq!(p.core_lethal_isotherm(), Celsius(-20.0));
    let conservative = edit(&[("core_lethal_isotherm = \"standard\"", "core_lethal_isotherm = \"conservative\"")]);
    assert_eq!(Protocol::from_toml_str(&conservative).unwrap().core_lethal_isotherm(), Celsius(-40.0));

    let default = p.default_freeze_thaw().unwrap();
    assert_eq!(default.name, "10-8-10");
    assert_eq!(default.total_freeze(), Minutes(20.0));
    let lung = p.cryo.freeze_thaw("3-7-10").unwrap();
    assert!(lung.applies_to(LesionSite::Lung) && !lung.applies_to(LesionSite::Liver));

    assert_eq!(p.cryo.tissue_for(Organ::Lung).conductivity_unfrozen_w_per_m_k, 0.3);
    assert_eq!(p.cryo.tissue_for(Organ::Lung).conductivity_frozen_w_per_m_k, 2.0);
    assert_eq!(p.cryo.tissue_for(Organ::Liver), p.cryo.tissue);

    let ecog = |s| Ecog::new(s).unwrap();
    assert_eq!(p.randomization.ecog_stratum(ecog(0)), Some(0));
    assert_eq!(p.randomization.ecog_stratum(ecog(1)), Some(0));
    assert_eq!(p.randomization.ecog_stratum(ecog(2)), Some(1));
    assert_eq!(p.randomization.ecog_stratum(ecog(3)), None);
    assert!(p.eligibility.ecog.contains(ecog(2)) && !p.eligibility.ecog.contains(ecog(3)));
}
