//! Zoning of the bulky index lesion on the synthetic scenarios, checked voxel by voxel against
//! the protocol's definitions with independently computed distances.

use cryoseed_anatomy::Case;
use cryoseed_core::protocol::Protocol;
use cryoseed_core::{Mm, StructureRole};
use cryoseed_plan::zone;
use cryoseed_sim::{PhantomConfig, Scenario, phantom};

fn bulky(case: &Case) -> &cryoseed_anatomy::Structure {
    case.lesions().find(|(_, info)| info.is_bulky_index).map(|(s, _)| s).unwrap()
}

/// Brute-force distance from a voxel centre to the nearest voxel centre of `mask` (for checks).
fn brute_distance(case: &Case, ijk: [usize; 3], mask: &cryoseed_volume::Mask) -> f64 {
    let p = case.grid().voxel_centre(ijk);
    mask.voxels().map(|v| case.grid().voxel_centre(v).distance_to(p).0).fold(f64::INFINITY, f64::min)
}

#[test]
fn zones_follow_the_protocol_definitions() {
    let protocol = Protocol::shipped();
    for scenario in Scenario::ALL {
        let case = phantom(scenario, &PhantomConfig { spacing: [Mm(2.0); 3] }, 4).unwrap();
        let gtv = bulky(&case);
        let zones = zone(&case, gtv, &protocol).unwrap();
        let context = format!("{scenario}: {:?}", zones.summary);
        // Core ⊂ GTV, margin ∩ core = ∅, high-risk ⊂ GTV ∩ margin.
        for i in 0..gtv.mask.as_slice().len() {
            let (c, m, h, g) = (
                zones.core.as_slice()[i],
                zones.margin.as_slice()[i],
                zones.high_risk.as_slice()[i],
                gtv.mask.as_slice()[i],
            );
            assert!(!c || g, "{context}");
            assert!(!(c && m), "{context}");
            assert!(!h || (g && m), "{context}");
        }
        // GTV ⊂ core ∪ margin except voxels inside an OAR.
        let oars: Vec<_> = case.structures().iter().filter(|s| s.role == StructureRole::Oar).collect();
        for v in gtv.mask.voxels() {
            let in_oar = oars.iter().any(|o| o.mask.at(v));
            assert!(zones.core.at(v) || zones.margin.at(v) || in_oar, "{context}");
        }
        // Sampled core voxels are ≥ 20 mm from every critical OAR (brute force).
        let mut oar_union = cryoseed_volume::Mask::empty(*case.grid());
        for o in oars.iter().filter(|o| o.organ.critical_oar().is_some()) {
            oar_union = oar_union.union(&o.mask).unwrap();
        }
        for v in zones.core.voxels().step_by(97) {
            assert!(brute_distance(&case, v, &oar_union) >= 20.0 - 1e-9, "{context}");
        }
        // Core volume is a share of the GTV, and the summary adds up.
        assert!(zones.summary.core_volume.0 <= zones.summary.gtv_volume.0, "{context}");
        assert_eq!(zones.summary.empty_core_reason.is_some(), zones.core.is_empty(), "{context}");
    }
}

#[test]
fn bulky_pelvic_lesion_against_bowel_has_a_high_risk_zone_and_a_core() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::PelvicBulkyBowel, &PhantomConfig { spacing: [Mm(2.0); 3] }, 1).unwrap();
    let zones = zone(&case, bulky(&case), &protocol).unwrap();
    assert!(zones.summary.high_risk_sources.iter().any(|s| s == "Bowel"), "{:?}", zones.summary);
    assert!(zones.summary.core_volume.0 > 10.0, "{:?}", zones.summary);
    assert!(zones.summary.high_risk_volume.0 > 1.0, "{:?}", zones.summary);
}

#[test]
fn only_a_gtv_can_be_zoned() {
    let protocol = Protocol::shipped();
    let case = phantom(Scenario::PelvicBulkyBowel, &PhantomConfig { spacing: [Mm(2.0); 3] }, 1).unwrap();
    let err = zone(&case, case.structure("Bowel").unwrap(), &protocol).unwrap_err();
    assert!(err.to_string().contains("only a GTV"), "{err}");
}
