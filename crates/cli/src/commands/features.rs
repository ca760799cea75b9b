//! `cryoseed features --case DIR`: per-lesion measurements.

use crate::output;
use anyhow::Context;
use cryoseed_anatomy::{LesionFeatures, lesion_features};
use cryoseed_core::CriticalOar;
use cryoseed_core::protocol::Protocol;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `cryoseed features`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case directory (case.json + masks/), e.g. written by `cryoseed phantom`.
    #[arg(long, value_name = "DIR")]
    case: PathBuf,
    /// Print a versioned JSON document instead of a table.
    #[arg(long)]
    json: bool,
}

/// Version of the features JSON document.
pub const FEATURES_FORMAT_VERSION: u32 = 1;

/// The `--json` document: explicit and versioned, apart from the domain types.
#[derive(Serialize)]
pub struct FeaturesDoc {
    format: &'static str,
    version: u32,
    software_version: &'static str,
    protocol_version: String,
    protocol_sha256: String,
    patient_id: String,
    case_source: Option<String>,
    lesions: Vec<LesionDoc>,
}

#[derive(Serialize)]
struct LesionDoc {
    lesion_id: String,
    structure: String,
    organ: String,
    site: String,
    is_target: bool,
    is_bulky_index: bool,
    volume_ml: f64,
    centroid_mm: [f64; 3],
    longest_axial_diameter_mm: f64,
    short_axis_mm: f64,
    longest_diameter_slice_z_mm: f64,
    max_3d_diameter_mm: f64,
    is_measurable: bool,
    is_bulky: bool,
    bulky_criterion: Option<String>,
    oars: Vec<OarDoc>,
    min_distance_by_oar_class_mm: Vec<(String, f64)>,
    large_vessels: Vec<VesselDoc>,
    nearest_large_vessel: Option<VesselDoc>,
}

#[derive(Serialize, Clone)]
struct OarDoc {
    structure: String,
    organ: String,
    class: String,
    distance_mm: f64,
}

#[derive(Serialize, Clone)]
struct VesselDoc {
    structure: String,
    organ: String,
    diameter_mm: f64,
    distance_mm: f64,
}

/// Rounds to 0.01: measurements on a voxel grid carry no more precision, and rounding keeps
/// the JSON stable for diffs.
fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn lesion_doc(f: &LesionFeatures) -> LesionDoc {
    let vessel = |v: &cryoseed_anatomy::VesselDistance| VesselDoc {
        structure: v.structure.clone(),
        organ: v.organ.to_string(),
        diameter_mm: r2(v.diameter.0),
        distance_mm: r2(v.distance.0),
    };
    LesionDoc {
        lesion_id: f.lesion_id.to_string(),
        structure: f.structure.clone(),
        organ: f.organ.to_string(),
        site: f.site.to_string(),
        is_target: f.is_target,
        is_bulky_index: f.is_bulky_index,
        volume_ml: r2(f.volume.0),
        centroid_mm: f.centroid.0.map(r2),
        longest_axial_diameter_mm: r2(f.longest_axial_diameter.0),
        short_axis_mm: r2(f.short_axis.0),
        longest_diameter_slice_z_mm: r2(f.longest_diameter_slice_z.0),
        max_3d_diameter_mm: r2(f.max_3d_diameter.0),
        is_measurable: f.is_measurable,
        is_bulky: f.bulky.is_some(),
        bulky_criterion: f.bulky.map(|b| format!("{b:?}")),
        oars: f
            .oar_distances
            .iter()
            .map(|d| OarDoc {
                structure: d.structure.clone(),
                organ: d.organ.to_string(),
                class: d.class.to_string(),
                distance_mm: r2(d.distance.0),
            })
            .collect(),
        min_distance_by_oar_class_mm: CriticalOar::ALL
            .iter()
            .filter_map(|&c| f.nearest_oar(c).map(|d| (c.to_string(), r2(d.distance.0))))
            .collect(),
        large_vessels: f.large_vessels.iter().map(vessel).collect(),
        nearest_large_vessel: f.nearest_large_vessel().map(vessel),
    }
}

/// Reads the case, measures its lesions and prints them.
pub fn run(args: &Args, protocol: &Protocol) -> anyhow::Result<()> {
    let loaded = cryoseed_imaging::read_case(&args.case).context("cannot read the case directory")?;
    let features = lesion_features(&loaded.case, protocol);
    if args.json {
        return output::json(&FeaturesDoc {
            format: "cryoseed-features",
            version: FEATURES_FORMAT_VERSION,
            software_version: cryoseed_core::SOFTWARE_VERSION,
            protocol_version: protocol.protocol.version.clone(),
            protocol_sha256: protocol.hash().to_string(),
            patient_id: loaded.case.patient_id().to_string(),
            case_source: loaded.source,
            lesions: features.iter().map(lesion_doc).collect(),
        });
    }
    output::print(&table(&loaded.case, &features, protocol))
}

fn table(case: &cryoseed_anatomy::Case, features: &[LesionFeatures], protocol: &Protocol) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Patient {}: {} lesions (protocol {} {}, sha256 {})",
        case.patient_id(),
        features.len(),
        protocol.protocol.name,
        protocol.protocol.version,
        protocol.hash().short()
    );
    let _ = writeln!(
        s,
        "{:<6} {:<12} {:>4} {:>5} {:>8} {:>8} {:>8} {:>9} {:>6}  nearest OAR                 nearest vessel >= {:.0} mm",
        "lesion",
        "organ",
        "tgt",
        "bulky",
        "LD mm",
        "SA mm",
        "3D mm",
        "vol mL",
        "meas",
        protocol.allocation.heat_sink_min_vessel_diameter_mm.0
    );
    for f in features {
        let oar = f.oar_distances.first().map_or("-".into(), |d| format!("{} {:.1} mm", d.structure, d.distance.0));
        let vessel = f
            .nearest_large_vessel()
            .map_or("-".into(), |v| format!("{} (d {:.0} mm) {:.1} mm", v.structure, v.diameter.0, v.distance.0));
        let _ = writeln!(
            s,
            "{:<6} {:<12} {:>4} {:>5} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>6}  {:<27} {}",
            f.lesion_id.as_str(),
            f.organ.to_string(),
            if f.is_target { "yes" } else { "no" },
            match (f.is_bulky_index, f.bulky.is_some()) {
                (true, true) => "index",
                (true, false) => "NO!",
                (false, true) => "yes",
                (false, false) => "no",
            },
            f.longest_axial_diameter.0,
            f.short_axis.0,
            f.max_3d_diameter.0,
            f.volume.0,
            if f.is_measurable { "yes" } else { "no" },
            oar,
            vessel
        );
    }
    let _ = writeln!(
        s,
        "LD: RECIST 1.1 longest axial diameter; SA: perpendicular short axis; 3D: maximum Feret diameter.\n\
         bulky 'NO!' marks a designated bulky index lesion that does not meet the protocol's bulky definition.\n\
         Distances are GTV surface to structure surface. Use --json for every OAR and vessel."
    );
    s
}
