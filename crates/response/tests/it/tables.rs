//! RECIST 1.1 Table 1 (target disease, with or without non-target disease) and Table 2
//! (non-target disease only): every cell, exact. Source: Eisenhauer et al. 2009, §4.4.1.

use cryoseed_response::{NonTargetResponse as N, OverallResponse as O, TargetResponse as T, overall_response};

#[track_caller]
fn check(target: Option<T>, non_target: Option<N>, new_lesions: bool, expected: O, table: &str) {
    let (response, rule) = overall_response(target, non_target, new_lesions);
    assert_eq!(response, expected, "target {target:?}, non-target {non_target:?}, new {new_lesions}: {rule}");
    assert!(rule.contains(table), "{rule}");
    assert!(rule.ends_with(&format!("→ {expected}")), "{rule}");
}

#[test]
fn table_1_target_and_non_target_disease() {
    // Row 1: CR | CR | No → CR.
    check(Some(T::Cr), Some(N::Cr), false, O::Cr, "Table 1");
    // Row 2: CR | non-CR/non-PD | No → PR.
    check(Some(T::Cr), Some(N::NonCrNonPd), false, O::Pr, "Table 1");
    // Row 3: CR | not evaluated | No → PR.
    check(Some(T::Cr), Some(N::Ne), false, O::Pr, "Table 1");
    // Row 4: PR | non-PD or not all evaluated | No → PR.
    check(Some(T::Pr), Some(N::Cr), false, O::Pr, "Table 1");
    check(Some(T::Pr), Some(N::NonCrNonPd), false, O::Pr, "Table 1");
    check(Some(T::Pr), Some(N::Ne), false, O::Pr, "Table 1");
    // Row 5: SD | non-PD or not all evaluated | No → SD.
    check(Some(T::Sd), Some(N::Cr), false, O::Sd, "Table 1");
    check(Some(T::Sd), Some(N::NonCrNonPd), false, O::Sd, "Table 1");
    check(Some(T::Sd), Some(N::Ne), false, O::Sd, "Table 1");
    // Row 6: not all evaluated | non-PD | No → NE.
    check(Some(T::Ne), Some(N::Cr), false, O::Ne, "Table 1");
    check(Some(T::Ne), Some(N::NonCrNonPd), false, O::Ne, "Table 1");
    check(Some(T::Ne), Some(N::Ne), false, O::Ne, "Table 1");
    // Row 7: PD | any | Yes or No → PD.
    for nt in [N::Cr, N::NonCrNonPd, N::Ne, N::Pd] {
        check(Some(T::Pd), Some(nt), false, O::Pd, "Table 1");
        check(Some(T::Pd), Some(nt), true, O::Pd, "Table 1");
    }
    // Row 8: any | PD | Yes or No → PD.
    for t in [T::Cr, T::Pr, T::Sd, T::Ne] {
        check(Some(t), Some(N::Pd), false, O::Pd, "Table 1");
        check(Some(t), Some(N::Pd), true, O::Pd, "Table 1");
    }
    // Row 9: any | any | Yes → PD.
    for t in [T::Cr, T::Pr, T::Sd, T::Ne] {
        for nt in [N::Cr, N::NonCrNonPd, N::Ne] {
            check(Some(t), Some(nt), true, O::Pd, "Table 1");
        }
    }
}

#[test]
fn table_1_without_non_target_lesions() {
    // No non-target disease at baseline: the target response decides (non-target column "CR").
    check(Some(T::Cr), None, false, O::Cr, "Table 1");
    check(Some(T::Pr), None, false, O::Pr, "Table 1");
    check(Some(T::Sd), None, false, O::Sd, "Table 1");
    check(Some(T::Ne), None, false, O::Ne, "Table 1");
    check(Some(T::Pd), None, false, O::Pd, "Table 1");
    for t in [T::Cr, T::Pr, T::Sd, T::Ne, T::Pd] {
        check(Some(t), None, true, O::Pd, "Table 1");
    }
}

#[test]
fn table_2_non_target_disease_only() {
    check(None, Some(N::Cr), false, O::Cr, "Table 2");
    check(None, Some(N::NonCrNonPd), false, O::NonCrNonPd, "Table 2");
    check(None, Some(N::Ne), false, O::Ne, "Table 2");
    check(None, Some(N::Pd), false, O::Pd, "Table 2");
    check(None, Some(N::Pd), true, O::Pd, "Table 2");
    for nt in [N::Cr, N::NonCrNonPd, N::Ne] {
        check(None, Some(nt), true, O::Pd, "Table 2");
    }
}

#[test]
fn no_baseline_disease() {
    check(None, None, false, O::Ne, "no target or non-target lesion");
    check(None, None, true, O::Pd, "no target or non-target lesion");
}
