//! Two blinded readers and an adjudicator: discordance triggers, the accepted assessment, and
//! reader agreement (Cohen's kappa).
//!
//! Each reader's measurements give that reader's own verdicts (RECIST, LTP, burden). A time point
//! is discordant when a protocol trigger fires (`[response.adjudication]`): the readers disagree
//! on local tumour progression of a treated lesion, on the time-point response, or their target
//! sums differ by more than the allowed % of their mean. The adjudicator then accepts one
//! reader's assessment of the patient as a whole (the usual blinded-independent-central-review
//! practice: a reader's response series depends on that reader's own baseline and nadir, so
//! time points from different readers cannot be mixed).

use crate::date::Date;
use crate::ltp::LtpAssessment;
use crate::model::{Adjudication, ReaderId};
use crate::recist::{OverallResponse, RecistSeries, mm, number, percent};
use cryoseed_core::LesionId;
use cryoseed_core::protocol::AdjudicationTriggers;

/// A protocol trigger for adjudication at one time point.
#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// The readers disagree on local tumour progression of these lesions.
    LtpDisagreement(Vec<LesionId>),
    /// The readers' time-point responses differ.
    ResponseDisagreement(OverallResponse, OverallResponse),
    /// The readers' target sums differ by more than the allowed share of their mean.
    TargetSumDifference,
}

/// A discordant time point.
#[derive(Clone, Debug, PartialEq)]
pub struct Discordance {
    /// Time point label.
    pub label: String,
    /// Scan date.
    pub date: Date,
    /// The triggers that fired, each with its explanation.
    pub triggers: Vec<(Trigger, String)>,
}

/// How the accepted assessment was chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Acceptance {
    /// Only one reader read the patient.
    SingleReader,
    /// No trigger fired: the readers are concordant and reader 1's assessment is accepted.
    Concordant,
    /// The adjudicator accepted a reader's assessment.
    Adjudicated {
        /// Who adjudicated.
        adjudicator: ReaderId,
        /// Why.
        reason: String,
    },
    /// Discordant and not yet adjudicated: no assessment is accepted.
    AdjudicationPending,
}

/// The review outcome of one patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    /// Discordant time points.
    pub discordances: Vec<Discordance>,
    /// How the accepted assessment was chosen.
    pub acceptance: Acceptance,
    /// Index of the accepted reader in the patient's readers, if any.
    pub accepted_reader: Option<usize>,
    /// One line for reports.
    pub summary: String,
}

/// The protocol's discordance triggers between two readers' assessments, per time point both read.
pub fn discordances(
    a: (&RecistSeries, &[LtpAssessment]),
    b: (&RecistSeries, &[LtpAssessment]),
    triggers: &AdjudicationTriggers,
) -> Vec<Discordance> {
    let mut out = Vec::new();
    for ta in &a.0.time_points {
        let Some(tb) = b.0.time_points.iter().find(|t| t.date == ta.date) else { continue };
        let mut fired = Vec::new();
        if triggers.on_ltp_disagreement {
            let mut lesions = Vec::new();
            let mut details = Vec::new();
            for la in a.1 {
                let Some(lb) = b.1.iter().find(|l| l.lesion_id == la.lesion_id) else { continue };
                let (pa, pb) = (la.has_progressed_by(ta.date), lb.has_progressed_by(ta.date));
                if pa != pb {
                    lesions.push(la.lesion_id.clone());
                    details.push(format!(
                        "{}: reader 1 {}, reader 2 {}",
                        la.lesion_id,
                        if pa { "LTP" } else { "no LTP" },
                        if pb { "LTP" } else { "no LTP" }
                    ));
                }
            }
            if !lesions.is_empty() {
                fired.push((Trigger::LtpDisagreement(lesions), format!("LTP disagreement ({})", details.join("; "))));
            }
        }
        if triggers.on_response_disagreement && ta.response != tb.response {
            fired.push((
                Trigger::ResponseDisagreement(ta.response, tb.response),
                format!("time-point response disagreement: reader 1 {}, reader 2 {}", ta.response, tb.response),
            ));
        }
        if let (Some(sa), Some(sb)) = (ta.target.as_ref(), tb.target.as_ref())
            && sa.is_complete()
            && sb.is_complete()
        {
            let mean = (sa.sum.value() + sb.sum.value()) / 2.0;
            let difference = (sa.sum.value() - sb.sum.value()).abs();
            let relative = if mean > 0.0 { difference / mean * 100.0 } else { 0.0 };
            let limit = triggers.max_target_sum_difference_percent.value();
            if relative > limit {
                fired.push((
                    Trigger::TargetSumDifference,
                    format!(
                        "target sums {} mm and {} mm differ by {} mm = {} of their mean (limit {})",
                        mm(sa.sum),
                        mm(sb.sum),
                        number(difference),
                        percent(relative),
                        percent(limit)
                    ),
                ));
            }
        }
        if !fired.is_empty() {
            out.push(Discordance { label: ta.label.clone(), date: ta.date, triggers: fired });
        }
    }
    out
}

/// Decides the accepted assessment. Returns the review and any problem with the adjudication
/// record (as text for a finding).
pub(crate) fn review(
    readers: &[ReaderId],
    discordances: Vec<Discordance>,
    adjudication: Option<&Adjudication>,
) -> (Review, Option<String>) {
    let mut problem = None;
    let (acceptance, accepted_reader, summary) = match readers.len() {
        0 => (Acceptance::AdjudicationPending, None, "no reader: nothing accepted".to_owned()),
        1 => (Acceptance::SingleReader, Some(0), format!("single reader {}: accepted", readers[0])),
        _ => {
            let adjudicated =
                adjudication.and_then(|adj| match readers.iter().position(|r| *r == adj.accepted_reader) {
                    Some(index) => Some((adj, index)),
                    None => {
                        problem = Some(format!(
                            "the adjudication accepts reader {}, who is not one of the patient's readers; ignored",
                            adj.accepted_reader
                        ));
                        None
                    }
                });
            match (discordances.is_empty(), adjudicated) {
                (_, Some((adj, index))) => {
                    if discordances.is_empty() {
                        problem = Some(
                            "an adjudication was recorded although no discordance trigger fired; it is applied"
                                .to_owned(),
                        );
                    }
                    (
                        Acceptance::Adjudicated { adjudicator: adj.adjudicator.clone(), reason: adj.reason.clone() },
                        Some(index),
                        format!(
                            "adjudicated by {}: reader {}'s assessment accepted ({})",
                            adj.adjudicator, readers[index], adj.reason
                        ),
                    )
                }
                (true, None) => (
                    Acceptance::Concordant,
                    Some(0),
                    format!("readers concordant at every time point: reader {}'s assessment accepted", readers[0]),
                ),
                (false, None) => {
                    let labels: Vec<&str> = discordances.iter().map(|d| d.label.as_str()).collect();
                    (
                        Acceptance::AdjudicationPending,
                        None,
                        format!(
                            "adjudication required (discordant at {}); no assessment accepted yet",
                            labels.join(", ")
                        ),
                    )
                }
            }
        }
    };
    (Review { discordances, acceptance, accepted_reader, summary }, problem)
}

/// Cohen's kappa from a square table of counts (`table[i][j]`: reader 1 said category i, reader 2
/// category j) and agreement weights (`weights[i][i] = 1`, 0 ≤ w ≤ 1): κ = (p_o − p_e) / (1 − p_e)
/// with p_o = Σ w_ij p_ij and p_e = Σ w_ij p_i· p_·j (Cohen 1960; weighted: Cohen 1968).
/// `None` when the table is empty or p_e = 1 (kappa undefined).
pub fn weighted_kappa(table: &[Vec<f64>], weights: &[Vec<f64>]) -> Option<f64> {
    let k = table.len();
    let n: f64 = table.iter().flatten().sum();
    if n <= 0.0 {
        return None;
    }
    let rows: Vec<f64> = table.iter().map(|row| row.iter().sum::<f64>() / n).collect();
    let cols: Vec<f64> = (0..k).map(|j| table.iter().map(|row| row[j]).sum::<f64>() / n).collect();
    let mut observed = 0.0;
    let mut expected = 0.0;
    for i in 0..k {
        for j in 0..k {
            observed += weights[i][j] * table[i][j] / n;
            expected += weights[i][j] * rows[i] * cols[j];
        }
    }
    ((1.0 - expected).abs() > 1e-12).then(|| (observed - expected) / (1.0 - expected))
}

/// Agreement between two readers on a set of paired categorical verdicts.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// Number of pairs.
    pub pairs: usize,
    /// Share of pairs on which the readers agree.
    pub observed_agreement: Option<f64>,
    /// Cohen's unweighted kappa.
    pub kappa: Option<f64>,
    /// Linear-weighted kappa on the ordered scale CR < PR < SD (= non-CR/non-PD) < PD; pairs with
    /// NE are left out. `None` for non-ordinal verdicts.
    pub weighted_kappa: Option<f64>,
    /// Number of pairs in the weighted kappa.
    pub weighted_pairs: usize,
}

fn identity(k: usize) -> Vec<Vec<f64>> {
    (0..k).map(|i| (0..k).map(|j| if i == j { 1.0 } else { 0.0 }).collect()).collect()
}

/// Agreement on response categories (time-point or best overall response).
pub fn response_agreement(pairs: &[(OverallResponse, OverallResponse)]) -> Agreement {
    let categories = OverallResponse::ALL;
    let index = |r: OverallResponse| categories.iter().position(|&c| c == r).unwrap_or(0);
    let mut table = vec![vec![0.0; categories.len()]; categories.len()];
    for &(a, b) in pairs {
        table[index(a)][index(b)] += 1.0;
    }
    let ordinal = |r: OverallResponse| match r {
        OverallResponse::Cr => Some(0),
        OverallResponse::Pr => Some(1),
        OverallResponse::Sd | OverallResponse::NonCrNonPd => Some(2),
        OverallResponse::Pd => Some(3),
        OverallResponse::Ne => None,
    };
    let mut ordinal_table = vec![vec![0.0; 4]; 4];
    let mut weighted_pairs = 0;
    for &(a, b) in pairs {
        if let (Some(i), Some(j)) = (ordinal(a), ordinal(b)) {
            ordinal_table[i][j] += 1.0;
            weighted_pairs += 1;
        }
    }
    let linear: Vec<Vec<f64>> =
        (0..4).map(|i: i32| (0..4).map(|j: i32| 1.0 - f64::from((i - j).abs()) / 3.0).collect()).collect();
    let agree = pairs.iter().filter(|(a, b)| a == b).count();
    Agreement {
        pairs: pairs.len(),
        observed_agreement: (!pairs.is_empty()).then(|| agree as f64 / pairs.len() as f64),
        kappa: weighted_kappa(&table, &identity(categories.len())),
        weighted_kappa: weighted_kappa(&ordinal_table, &linear),
        weighted_pairs,
    }
}

/// Agreement on a yes/no verdict (e.g. LTP of a treated lesion).
pub fn binary_agreement(pairs: &[(bool, bool)]) -> Agreement {
    let mut table = vec![vec![0.0; 2]; 2];
    for &(a, b) in pairs {
        table[usize::from(a)][usize::from(b)] += 1.0;
    }
    let agree = pairs.iter().filter(|(a, b)| a == b).count();
    Agreement {
        pairs: pairs.len(),
        observed_agreement: (!pairs.is_empty()).then(|| agree as f64 / pairs.len() as f64),
        kappa: weighted_kappa(&table, &identity(2)),
        weighted_kappa: None,
        weighted_pairs: 0,
    }
}
