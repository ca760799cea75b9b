//! Semantic checks of a structurally valid protocol: ranges and cross-field consistency.
//!
//! Every check runs; every failure becomes one [`ProtocolError`] naming the key path of the value
//! judged wrong and ending with that value (`must be > 0, got -5`). A cross-field failure is
//! reported on the field that depends on the others (e.g. `allocation.min_gtv_to_oar_mm`, not the
//! margins it must exceed) and names them with their values.

use super::{Protocol, ProtocolError, sections::*};
use crate::domain::Ecog;
use crate::units::Celsius;
use std::collections::BTreeSet;
use std::fmt::Display;

/// All semantic problems of `p`, in section order; empty when it is valid.
pub(super) fn validate(p: &Protocol) -> Vec<ProtocolError> {
    let mut c = Checker::default();
    c.section("protocol");
    protocol_info(&mut c, &p.protocol);
    c.section("eligibility");
    eligibility(&mut c, &p.eligibility);
    c.section("randomization");
    randomization(&mut c, &p.randomization, &p.eligibility);
    c.section("allocation");
    allocation(&mut c, &p.allocation, &p.cryo);
    c.section("zoning");
    zoning(&mut c, &p.zoning, p.core_lethal_isotherm());
    c.section("cryo");
    cryo(&mut c, &p.cryo);
    c.section("seeds");
    seeds(&mut c, &p.seeds);
    c.section("response");
    response(&mut c, &p.response);
    c.section("endpoints");
    endpoints(&mut c, &p.endpoints);
    c.section("analysis");
    analysis(&mut c, &p.analysis);
    c.section("power");
    power(&mut c, &p.power, &p.eligibility);
    c.errors
}

/// Collects failures under the current section (`key` arguments are relative to it). Range
/// checks are written so that NaN fails them; NaN and infinities are reported once, as not finite.
#[derive(Debug, Default)]
struct Checker {
    section: &'static str,
    errors: Vec<ProtocolError>,
}

impl Checker {
    fn section(&mut self, name: &'static str) {
        self.section = name;
    }

    fn fail(&mut self, key: impl Display, message: impl Into<String>) {
        let key = format!("{}.{key}", self.section);
        self.errors.push(ProtocolError { key, message: message.into() });
    }

    /// Fails (and returns false) for NaN and ±inf.
    fn finite(&mut self, key: &str, value: f64) -> bool {
        if !value.is_finite() {
            self.fail(key, format!("must be a finite number, got {value}"));
        }
        value.is_finite()
    }

    fn positive(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && value <= 0.0 {
            self.fail(key, format!("must be > 0, got {value}"));
        }
    }

    fn non_negative(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && value < 0.0 {
            self.fail(key, format!("must be >= 0, got {value}"));
        }
    }

    /// `lo <= value <= hi`, written `[lo, hi]` in the message.
    fn closed(&mut self, key: &str, value: f64, lo: f64, hi: f64) {
        if self.finite(key, value) && !(lo <= value && value <= hi) {
            self.fail(key, format!("must be in [{lo}, {hi}], got {value}"));
        }
    }

    /// `0 < value < 1`.
    fn open_unit(&mut self, key: &str, value: f64) {
        if self.finite(key, value) && !(0.0 < value && value < 1.0) {
            self.fail(key, format!("must be in (0, 1), got {value}"));
        }
    }

    fn at_least(&mut self, key: &str, value: u32, min: u32) {
        if value < min {
            self.fail(key, format!("must be >= {min}, got {value}"));
        }
    }

    fn not_empty(&mut self, key: &str, value: &str) {
        if value.trim().is_empty() {
            self.fail(key, "must not be empty");
        }
    }

    /// `value <= bound`, where `bound` is another key (or an expression) named in the message.
    fn not_above<T: PartialOrd + Display>(&mut self, key: &str, value: T, name: &str, bound: T) {
        if value > bound {
            self.fail(key, format!("must be <= {name} ({bound}), got {value}"));
        }
    }

    /// `value >= bound`, where `bound` is another key (or an expression) named in the message.
    fn not_below<T: PartialOrd + Display>(&mut self, key: &str, value: T, name: &str, bound: T) {
        if value < bound {
            self.fail(key, format!("must be >= {name} ({bound}), got {value}"));
        }
    }

    /// Positive and strictly increasing (times of repeated assessments).
    fn increasing_positive(&mut self, key: &str, values: impl IntoIterator<Item = f64>) {
        let values: Vec<f64> = values.into_iter().collect();
        if values.is_empty() {
            self.fail(key, "must not be empty");
        }
        for (i, &value) in values.iter().enumerate() {
            let key = format!("{key}[{i}]");
            self.positive(&key, value);
            if i > 0 {
                self.not_below_strict(&key, value, "the previous entry", values[i - 1]);
            }
        }
    }

    /// `value > bound`.
    fn not_below_strict(&mut self, key: &str, value: f64, name: &str, bound: f64) {
        if value <= bound {
            self.fail(key, format!("must be > {name} ({bound}), got {value}"));
        }
    }
}

fn protocol_info(c: &mut Checker, info: &ProtocolInfo) {
    c.not_empty("name", &info.name);
    let parts: Vec<&str> = info.version.split('.').collect();
    let is_number = |part: &&str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if parts.len() != 3 || !parts.iter().all(is_number) {
        let got = &info.version;
        c.fail("version", format!("must be MAJOR.MINOR.PATCH (e.g. \"1.0.0\"), got {got:?}"));
    }
}

fn ecog_range(c: &mut Checker, key: &str, range: EcogRange) {
    let (min, max) = (range.min.score(), range.max.score());
    if min > max {
        c.fail(key, format!("min must be <= max, got min {min}, max {max}"));
    }
}

fn eligibility(c: &mut Checker, e: &EligibilityCriteria) {
    ecog_range(c, "ecog", e.ecog);
    c.at_least("min_metastatic_lesions", e.min_metastatic_lesions, 1);
    c.at_least("min_measurable_targets", e.min_measurable_targets, 1);
    c.at_least("min_targets", e.min_targets, 1);
    c.not_above("min_targets", e.min_targets, "max_targets", e.max_targets);
    let measurable = e.min_measurable_targets;
    c.not_above("min_measurable_targets", measurable, "max_targets", e.max_targets);

    c.positive("bulky.min_longest_diameter_mm", e.bulky.min_longest_diameter_mm.value());
    c.positive("bulky.min_volume_ml", e.bulky.min_volume_ml.value());

    let l = &e.labs;
    c.positive("labs.min_platelets_e9_per_l", l.min_platelets_e9_per_l);
    c.positive("labs.max_inr", l.max_inr);
    c.positive("labs.min_anc_e9_per_l", l.min_anc_e9_per_l);
    c.positive("labs.min_haemoglobin_g_per_l", l.min_haemoglobin_g_per_l);
    c.positive("labs.max_bilirubin_x_uln", l.max_bilirubin_x_uln);
    c.positive("labs.max_ast_x_uln", l.max_ast_x_uln);
    c.positive("labs.max_alt_x_uln", l.max_alt_x_uln);
    c.positive("labs.min_creatinine_clearance_ml_per_min", l.min_creatinine_clearance_ml_per_min);

    let m = &e.measurability;
    let non_nodal = m.min_non_nodal_longest_diameter_mm.value();
    c.positive("measurability.min_non_nodal_longest_diameter_mm", non_nodal);
    c.positive("measurability.min_nodal_short_axis_mm", m.min_nodal_short_axis_mm.value());
    c.at_least("measurability.max_targets", m.max_targets, 1);
    c.at_least("measurability.max_targets_per_organ", m.max_targets_per_organ, 1);
    let per_organ = m.max_targets_per_organ;
    c.not_above("measurability.max_targets_per_organ", per_organ, "max_targets", m.max_targets);
}

fn randomization(c: &mut Checker, r: &RandomizationDesign, e: &EligibilityCriteria) {
    c.at_least("ratio.experimental", r.ratio.experimental, 1);
    c.at_least("ratio.control", r.ratio.control, 1);
    let arms = r.ratio.sum().max(1);
    if r.block_sizes.is_empty() {
        c.fail("block_sizes", "must not be empty");
    }
    for (i, &size) in r.block_sizes.iter().enumerate() {
        if size == 0 || size % arms != 0 {
            c.fail(
                format_args!("block_sizes[{i}]"),
                format!(
                    "must be a positive multiple of {arms} (ratio experimental + control), \
                     got {size}"
                ),
            );
        }
    }

    if r.ecog_strata.is_empty() {
        c.fail("ecog_strata", "must not be empty");
    }
    for (i, range) in r.ecog_strata.iter().enumerate() {
        ecog_range(c, &format!("ecog_strata[{i}]"), *range);
    }
    // Every eligible patient must land in exactly one stratum.
    for score in e.ecog.min.score()..=e.ecog.max.score() {
        let Ok(ecog) = Ecog::new(score) else { continue };
        let groups = r.ecog_strata.iter().filter(|range| range.contains(ecog)).count();
        if groups != 1 {
            c.fail(
                "ecog_strata",
                format!(
                    "every eligible ECOG score must be in exactly one group, \
                     got ECOG {score} in {groups}"
                ),
            );
        }
    }
    c.closed("minimization_biased_coin_p", r.minimization_biased_coin_p, 0.5, 1.0);
}

fn allocation(c: &mut Checker, a: &AllocationRules, cryo: &CryoParameters) {
    c.positive("cryo_max_longest_diameter_mm", a.cryo_max_longest_diameter_mm.value());
    c.non_negative("non_lethal_rim_mm", a.non_lethal_rim_mm.value());
    c.non_negative("min_ice_to_oar_mm", a.min_ice_to_oar_mm.value());
    c.positive("min_gtv_to_oar_mm", a.min_gtv_to_oar_mm.value());
    // The planned ice ball (lethal margin + non-lethal rim) plus the ice gap must fit between
    // the GTV and the OAR.
    let (margin, rim, gap) =
        (cryo.ablative_margin_mm.value(), a.non_lethal_rim_mm.value(), a.min_ice_to_oar_mm.value());
    let (clearance, got) = (margin + rim + gap, a.min_gtv_to_oar_mm.value());
    if got < clearance {
        c.fail(
            "min_gtv_to_oar_mm",
            format!(
                "must be >= cryo.ablative_margin_mm + non_lethal_rim_mm + min_ice_to_oar_mm \
                 ({margin} + {rim} + {gap} = {clearance}), got {got}"
            ),
        );
    }
    c.positive("heat_sink_min_vessel_diameter_mm", a.heat_sink_min_vessel_diameter_mm.value());
    c.non_negative("heat_sink_max_distance_mm", a.heat_sink_max_distance_mm.value());
    c.positive("vessel_search_radius_mm", a.vessel_search_radius_mm.value());
    // Vessels are only looked for within the search radius: the heat-sink rule cannot see further.
    c.not_above(
        "heat_sink_max_distance_mm",
        a.heat_sink_max_distance_mm.value(),
        "vessel_search_radius_mm",
        a.vessel_search_radius_mm.value(),
    );
}

fn zoning(c: &mut Checker, z: &ZoningRules, core_isotherm: Celsius) {
    c.positive("core_depth_mm", z.core_depth_mm.value());
    c.positive("core_min_oar_distance_mm", z.core_min_oar_distance_mm.value());
    c.non_negative("margin_expansion_mm", z.margin_expansion_mm.value());
    c.non_negative("high_risk_distance_mm", z.high_risk_distance_mm.value());
    c.positive("high_risk_min_vessel_diameter_mm", z.high_risk_min_vessel_diameter_mm.value());
    // A core voxel must never also be a high-risk voxel.
    c.not_below(
        "core_min_oar_distance_mm",
        z.core_min_oar_distance_mm.value(),
        "high_risk_distance_mm",
        z.high_risk_distance_mm.value(),
    );
    let (edge, lethal) = (z.ice_edge_isotherm_c.value(), core_isotherm.value());
    if c.finite("ice_edge_isotherm_c", edge) {
        if edge > 0.0 {
            c.fail("ice_edge_isotherm_c", format!("must be <= 0, got {edge}"));
        } else if edge <= lethal {
            let message = format!("must be warmer than the core lethal isotherm ({lethal}), got {edge}");
            c.fail("ice_edge_isotherm_c", message);
        }
    }
    c.non_negative("ice_edge_max_beyond_gtv_mm", z.ice_edge_max_beyond_gtv_mm.value());
    c.non_negative("ice_edge_min_oar_distance_mm", z.ice_edge_min_oar_distance_mm.value());
}

fn cryo(c: &mut Checker, k: &CryoParameters) {
    let lethal = k.lethal_isotherm_c.value();
    if c.finite("lethal_isotherm_c", lethal) && lethal >= 0.0 {
        c.fail("lethal_isotherm_c", format!("must be < 0, got {lethal}"));
    }
    let conservative = k.conservative_lethal_isotherm_c.value();
    if c.finite("conservative_lethal_isotherm_c", conservative) && conservative >= lethal {
        c.fail(
            "conservative_lethal_isotherm_c",
            format!("must be colder than lethal_isotherm_c ({lethal}), got {conservative}"),
        );
    }
    let probe = k.probe_surface_temperature_c.value();
    let coldest = lethal.min(conservative);
    if c.finite("probe_surface_temperature_c", probe) && probe >= coldest {
        c.fail(
            "probe_surface_temperature_c",
            format!("must be colder than every lethal isotherm ({coldest}), got {probe}"),
        );
    }
    c.non_negative("ablative_margin_mm", k.ablative_margin_mm.value());
    c.positive("min_probe_spacing_mm", k.min_probe_spacing_mm.value());
    c.positive("max_probe_spacing_mm", k.max_probe_spacing_mm.value());
    c.not_below(
        "max_probe_spacing_mm",
        k.max_probe_spacing_mm.value(),
        "min_probe_spacing_mm",
        k.min_probe_spacing_mm.value(),
    );
    c.positive("max_probe_inset_mm", k.max_probe_inset_mm.value());
    c.at_least("max_probes", k.max_probes, 1);

    freeze_thaw(c, k);
    tissue(c, "tissue", &k.tissue, &|_| true);
    for (organ, over) in &k.tissue_overrides {
        let key = format!("tissue_overrides.{organ}");
        tissue(c, &key, &over.apply(k.tissue), &|field| override_sets(over, field));
    }
}

fn freeze_thaw(c: &mut Checker, k: &CryoParameters) {
    if k.freeze_thaw.is_empty() {
        c.fail("freeze_thaw", "must not be empty");
    }
    let mut names = BTreeSet::new();
    for (i, protocol) in k.freeze_thaw.iter().enumerate() {
        let key = format!("freeze_thaw[{i}]");
        c.not_empty(&format!("{key}.name"), &protocol.name);
        if !names.insert(protocol.name.as_str()) {
            c.fail(format_args!("{key}.name"), format!("must be unique, got {:?} twice", protocol.name));
        }
        if protocol.phases.is_empty() {
            c.fail(format_args!("{key}.phases"), "must not be empty");
        }
        for (j, phase) in protocol.phases.iter().enumerate() {
            let kind = kind_name(phase.kind);
            if j == 0 && phase.kind != PhaseKind::Freeze {
                c.fail(
                    format_args!("{key}.phases[{j}].kind"),
                    format!("must be freeze (a protocol starts with a freeze), got {kind}"),
                );
            }
            if j > 0 && phase.kind == protocol.phases[j - 1].kind {
                c.fail(
                    format_args!("{key}.phases[{j}].kind"),
                    format!(
                        "must differ from the previous phase (freeze and thaw alternate), \
                         got {kind} twice"
                    ),
                );
            }
            c.positive(&format!("{key}.phases[{j}].minutes"), phase.minutes.value());
        }
    }
    let name = &k.default_freeze_thaw;
    match k.freeze_thaw(name) {
        None => c.fail("default_freeze_thaw", format!("must name one of cryo.freeze_thaw, got {name:?}")),
        Some(default) if !default.sites.is_empty() => {
            c.fail("default_freeze_thaw", format!("must name a protocol for every site (empty `sites`), got {name:?}"))
        }
        Some(_) => {}
    }
}

fn kind_name(kind: PhaseKind) -> &'static str {
    match kind {
        PhaseKind::Freeze => "freeze",
        PhaseKind::Thaw => "thaw",
    }
}

/// Checks tissue properties under `key`. `is_set(field)` says whether a field is given at this
/// key: always for the defaults; for an override only its own fields are reported (the defaults
/// are reported once, under `cryo.tissue`), but the phase-change interval is checked as merged.
fn tissue(c: &mut Checker, key: &str, t: &TissueProperties, is_set: &dyn Fn(&str) -> bool) {
    let positive = [
        ("conductivity_unfrozen_w_per_m_k", t.conductivity_unfrozen_w_per_m_k),
        ("conductivity_frozen_w_per_m_k", t.conductivity_frozen_w_per_m_k),
        ("heat_capacity_unfrozen_mj_per_m3_k", t.heat_capacity_unfrozen_mj_per_m3_k),
        ("heat_capacity_frozen_mj_per_m3_k", t.heat_capacity_frozen_mj_per_m3_k),
    ];
    for (field, value) in positive.into_iter().filter(|(field, _)| is_set(field)) {
        c.positive(&format!("{key}.{field}"), value);
    }
    let non_negative = [("latent_heat_mj_per_m3", t.latent_heat_mj_per_m3), ("perfusion_per_s", t.perfusion_per_s)];
    for (field, value) in non_negative.into_iter().filter(|(field, _)| is_set(field)) {
        c.non_negative(&format!("{key}.{field}"), value);
    }

    let (lower, upper) = (t.phase_change_lower_c.value(), t.phase_change_upper_c.value());
    let (lower_key, upper_key) = (format!("{key}.phase_change_lower_c"), format!("{key}.phase_change_upper_c"));
    let lower_ok = !is_set("phase_change_lower_c") || c.finite(&lower_key, lower);
    let upper_ok = !is_set("phase_change_upper_c") || c.finite(&upper_key, upper);
    if is_set("phase_change_upper_c") && upper_ok && upper > 0.0 {
        c.fail(&upper_key, format!("must be <= 0, got {upper}"));
    }
    let interval_set = is_set("phase_change_lower_c") || is_set("phase_change_upper_c");
    if interval_set && lower_ok && upper_ok && lower >= upper {
        c.fail(&lower_key, format!("must be < phase_change_upper_c ({upper}), got {lower}"));
    }
}

/// Whether a tissue override sets `field`.
fn override_sets(over: &TissueOverride, field: &str) -> bool {
    match field {
        "conductivity_unfrozen_w_per_m_k" => over.conductivity_unfrozen_w_per_m_k.is_some(),
        "conductivity_frozen_w_per_m_k" => over.conductivity_frozen_w_per_m_k.is_some(),
        "heat_capacity_unfrozen_mj_per_m3_k" => over.heat_capacity_unfrozen_mj_per_m3_k.is_some(),
        "heat_capacity_frozen_mj_per_m3_k" => over.heat_capacity_frozen_mj_per_m3_k.is_some(),
        "latent_heat_mj_per_m3" => over.latent_heat_mj_per_m3.is_some(),
        "phase_change_lower_c" => over.phase_change_lower_c.is_some(),
        "phase_change_upper_c" => over.phase_change_upper_c.is_some(),
        "perfusion_per_s" => over.perfusion_per_s.is_some(),
        _ => false,
    }
}

fn seeds(c: &mut Checker, s: &SeedParameters) {
    c.not_empty("model", &s.model);
    c.positive("air_kerma_strength_u", s.air_kerma_strength_u.value());
    c.positive("half_life_days", s.half_life_days.value());
    let rx = &s.prescription_gy;
    c.positive("prescription_gy.lung", rx.lung.value());
    c.positive("prescription_gy.liver", rx.liver.value());
    c.positive("prescription_gy.soft_tissue", rx.soft_tissue.value());
    c.positive("prescription_gy.bone", rx.bone.value());

    let g = &s.plan_goals;
    c.positive("plan_goals.min_d90_percent_rx", g.min_d90_percent_rx.value());
    c.closed("plan_goals.min_v100_percent", g.min_v100_percent.value(), 0.0, 100.0);
    c.closed("plan_goals.max_v150_percent", g.max_v150_percent.value(), 0.0, 100.0);
    c.closed("plan_goals.max_v200_percent", g.max_v200_percent.value(), 0.0, 100.0);
    // V200 <= V150 for every dose distribution, so a larger limit would be meaningless.
    c.not_above(
        "plan_goals.max_v200_percent",
        g.max_v200_percent.value(),
        "max_v150_percent",
        g.max_v150_percent.value(),
    );

    c.positive("needle_spacing_mm", s.needle_spacing_mm.value());
    c.positive("seed_spacing_mm", s.seed_spacing_mm.value());
    c.non_negative("min_seed_to_oar_mm", s.min_seed_to_oar_mm.value());
    c.non_negative("min_seed_to_skin_mm", s.min_seed_to_skin_mm.value());

    for (i, limit) in s.oar_limits.iter().enumerate() {
        let key = format!("oar_limits[{i}]");
        if let Some(first) = s.oar_limits[..i].iter().position(|other| other.oar == limit.oar) {
            c.fail(
                format_args!("{key}.oar"),
                format!("must be unique, got {} again (first at seeds.oar_limits[{first}])", limit.oar),
            );
        }
        c.positive(&format!("{key}.volume_cc"), limit.volume_cc.value());
        c.positive(&format!("{key}.max_dose_gy"), limit.max_dose_gy.value());
    }
}

fn response(c: &mut Checker, r: &ResponseRules) {
    c.positive("confirmation_min_interval_days", r.confirmation_min_interval_days.value());
    c.non_negative("min_stable_disease_days", r.min_stable_disease_days.value());
    c.positive("ltp_min_growth_percent", r.ltp_min_growth_percent.value());
    c.non_negative("ltp_min_growth_mm", r.ltp_min_growth_mm.value());
    c.positive("lcr_assessment_months", r.lcr_assessment_months.value());
    c.non_negative("lcr_window_days", r.lcr_window_days.value());
    // The window must not reach back to the procedure.
    let (months, days) = (r.lcr_assessment_months.value(), r.lcr_assessment_months.to_days().value());
    if r.lcr_window_days.value() >= days {
        c.fail(
            "lcr_window_days",
            format!(
                "must be shorter than lcr_assessment_months ({months} months = {days} days), got {}",
                r.lcr_window_days.value()
            ),
        );
    }
    c.non_negative("tumour_burden_window_days", r.tumour_burden_window_days.value());
    let recist = &r.recist;
    c.closed(
        "recist.partial_response_min_decrease_percent",
        recist.partial_response_min_decrease_percent.value(),
        0.0,
        100.0,
    );
    c.positive("recist.progression_min_increase_percent", recist.progression_min_increase_percent.value());
    c.non_negative("recist.progression_min_increase_mm", recist.progression_min_increase_mm.value());
    c.positive("recist.node_normal_short_axis_mm", recist.node_normal_short_axis_mm.value());
    c.positive("recist.too_small_to_measure_mm", recist.too_small_to_measure_mm.value());
    let max_difference = r.adjudication.max_target_sum_difference_percent.value();
    c.positive("adjudication.max_target_sum_difference_percent", max_difference);

    let s = &r.schedule;
    let (first_min, first_max) = (s.first_follow_up_min_days.value(), s.first_follow_up_max_days.value());
    c.positive("schedule.first_follow_up_min_days", first_min);
    c.positive("schedule.first_follow_up_max_days", first_max);
    c.not_below("schedule.first_follow_up_max_days", first_max, "first_follow_up_min_days", first_min);
    let (every_min, every_max) = (s.follow_up_interval_min_days.value(), s.follow_up_interval_max_days.value());
    c.positive("schedule.follow_up_interval_min_days", every_min);
    c.positive("schedule.follow_up_interval_max_days", every_max);
    let key = "schedule.follow_up_interval_max_days";
    c.not_below(key, every_max, "follow_up_interval_min_days", every_min);
}

fn endpoints(c: &mut Checker, e: &EndpointWindows) {
    c.positive("lpfs_follow_up_months", e.lpfs_follow_up_months.value());
    c.positive("os_follow_up_months", e.os_follow_up_months.value());
    c.positive("orr_window_months", e.orr_window_months.value());
    c.increasing_positive("tumour_burden_months", e.tumour_burden_months.iter().map(|m| m.value()));
    c.positive("technical_success_window_days", e.technical_success_window_days.value());
    c.positive("reintervention_window_months", e.reintervention_window_months.value());
}

fn analysis(c: &mut Checker, a: &AnalysisSettings) {
    c.open_unit("alpha_one_sided", a.alpha_one_sided);
    c.open_unit("ci_level", a.ci_level);
    c.increasing_positive("landmark_months", a.landmark_months.iter().map(|m| m.value()));
}

fn power(c: &mut Checker, p: &PowerAssumptions, e: &EligibilityCriteria) {
    let (min, max) = (p.min_lesions_per_patient, p.max_lesions_per_patient);
    c.at_least("patients_per_arm", p.patients_per_arm, 1);
    c.at_least("min_lesions_per_patient", min, 1);
    c.not_above("min_lesions_per_patient", min, "max_lesions_per_patient", max);
    // Simulated patients must be eligible patients.
    c.not_below("min_lesions_per_patient", min, "eligibility.min_targets", e.min_targets);
    c.not_above("max_lesions_per_patient", max, "eligibility.max_targets", e.max_targets);
    c.open_unit("lcr_control", p.lcr_control);
    c.open_unit("lcr_experimental", p.lcr_experimental);
    let icc = p.intra_patient_correlation;
    if c.finite("intra_patient_correlation", icc) && !(0.0..1.0).contains(&icc) {
        c.fail("intra_patient_correlation", format!("must be in [0, 1), got {icc}"));
    }
    c.positive("lpfs_control_median_months", p.lpfs_control_median_months.value());
    c.positive("lpfs_hazard_ratio", p.lpfs_hazard_ratio);
    c.positive("accrual_months", p.accrual_months.value());
    c.non_negative("min_follow_up_months", p.min_follow_up_months.value());
}
