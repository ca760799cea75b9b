//! Concealed randomization through the store: the statistician's list is stored slot by slot
//! (never exported), allocations take the next free slot of the stratum inside the serialized
//! write transaction, so concurrent requests get distinct, gap-free sequence numbers.

use crate::db::{Store, WriteTx};
use crate::error::{Result, StoreError, invalid};
use crate::model::{Role, StoredAllocation, Unblinding};
use crate::records::{date, enum_str, parse_modality, to_json};
use cryoseed_core::protocol::{Protocol, RandomizationMethod};
use cryoseed_core::{Arm, Ecog, PatientId, SiteId};
use cryoseed_trial::TrialError;
use cryoseed_trial::randomization::{
    Allocation, Minimization, RandomizationRequest, Stratum, UnblindingRecord, UnblindingRequest,
    generate_permuted_blocks, stratum_of, unblind,
};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

/// What the audit trail and the statistician see of a stored list (never the arms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListSummary {
    /// The list id.
    pub list_id: i64,
    /// `permuted_blocks` or `minimization`.
    pub method: String,
    /// Number of slots (0 for minimization).
    pub slots: usize,
    /// Number of strata.
    pub strata: usize,
    /// SHA-256 of the list's slots (a commitment: it proves later that the list was not
    /// changed, without revealing it).
    pub sha256: String,
}

fn method_str(m: RandomizationMethod) -> &'static str {
    match m {
        RandomizationMethod::PermutedBlocks => "permuted_blocks",
        RandomizationMethod::Minimization => "minimization",
    }
}

fn arm_str(arm: Arm) -> String {
    enum_str(&arm)
}

struct ListRow {
    list_id: i64,
    method: String,
    seed: u64,
    sites: Vec<SiteId>,
}

async fn load_list(tx: &mut WriteTx<'_>) -> Result<ListRow> {
    let row = sqlx::query("SELECT list_id, method, seed, sites FROM randomization_lists ORDER BY list_id LIMIT 1")
        .fetch_optional(&mut *tx.tx)
        .await?
        .ok_or_else(|| {
            invalid("randomization", "list", "no allocation list: the statistician must generate one first")
        })?;
    let list_id: i64 = row.try_get("list_id")?;
    let corrupt =
        |reason: String| StoreError::Corrupt { entity: "randomization_list", id: list_id.to_string(), reason };
    let seed: String = row.try_get("seed")?;
    let sites: String = row.try_get("sites")?;
    let sites: Vec<String> = serde_json::from_str(&sites).map_err(|e| corrupt(e.to_string()))?;
    Ok(ListRow {
        list_id,
        method: row.try_get("method")?,
        seed: seed.parse().map_err(|_| corrupt(format!("seed {seed:?}")))?,
        sites: sites
            .iter()
            .map(|s| SiteId::parse(s.as_str()).map_err(|e| corrupt(e.to_string())))
            .collect::<Result<_>>()?,
    })
}

/// The randomization request of a registered, screened patient.
async fn request_of(tx: &mut WriteTx<'_>, patient_id: &str) -> Result<(RandomizationRequest, String)> {
    let row = sqlx::query(
        "SELECT p.site_id, s.ecog, s.status FROM patients p LEFT JOIN screenings s ON s.patient_id = p.patient_id WHERE p.patient_id = $1",
    )
    .bind(patient_id.to_owned())
    .fetch_optional(&mut *tx.tx)
    .await?
    .ok_or_else(|| StoreError::NotFound { entity: "patient", id: patient_id.to_owned() })?;
    let site: String = row.try_get("site_id")?;
    let ecog: Option<i64> = row.try_get("ecog")?;
    let status: Option<String> = row.try_get("status")?;
    let request = RandomizationRequest {
        patient_id: PatientId::parse(patient_id).map_err(|e| invalid("randomization", "patient_id", e.to_string()))?,
        site_id: Some(SiteId::parse(site.as_str()).map_err(|e| invalid("randomization", "site_id", e.to_string()))?),
        ecog: ecog.map(|e| Ecog::new(e as u8)).transpose().map_err(|e| invalid("screening", "ecog", e))?,
    };
    Ok((request, status.unwrap_or_else(|| "not screened".to_owned())))
}

fn allocation_of(row: &sqlx::any::AnyRow) -> Result<StoredAllocation> {
    let patient_id: String = row.try_get("patient_id")?;
    let arm: String = row.try_get("arm")?;
    Ok(StoredAllocation {
        stratum: row.try_get("stratum")?,
        stratum_site_id: row.try_get("stratum_site_id")?,
        ecog_group: row.try_get::<i64, _>("ecog_group")? as u32,
        sequence_number: row.try_get::<i64, _>("sequence_number")? as u32,
        arm: serde_json::from_value(serde_json::Value::String(arm.clone())).map_err(|_| StoreError::Corrupt {
            entity: "allocation",
            id: patient_id.clone(),
            reason: format!("arm {arm:?}"),
        })?,
        randomized_on: row.try_get("randomized_on")?,
        randomized_by: row.try_get("randomized_by")?,
        patient_id,
    })
}

pub(crate) fn trial_allocation(a: &StoredAllocation) -> Result<Allocation> {
    let bad = |field: &str, e: String| StoreError::Corrupt {
        entity: "allocation",
        id: a.patient_id.clone(),
        reason: format!("{field}: {e}"),
    };
    Ok(Allocation {
        patient_id: PatientId::parse(a.patient_id.as_str()).map_err(|e| bad("patient_id", e.to_string()))?,
        stratum: Stratum {
            site_id: a
                .stratum_site_id
                .as_deref()
                .map(SiteId::parse)
                .transpose()
                .map_err(|e| bad("stratum_site_id", e.to_string()))?,
            ecog_group: a.ecog_group as usize,
        },
        sequence_number: a.sequence_number,
        arm: a.arm,
    })
}

pub(crate) async fn insert_allocation(
    tx: &mut WriteTx<'_>,
    a: &StoredAllocation,
    list_id: Option<i64>,
    action: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO allocations (patient_id, stratum, stratum_site_id, ecog_group, sequence_number, arm, randomized_on, randomized_by, list_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.patient_id.clone())
    .bind(a.stratum.clone())
    .bind(a.stratum_site_id.clone())
    .bind(i64::from(a.ecog_group))
    .bind(i64::from(a.sequence_number))
    .bind(arm_str(a.arm))
    .bind(a.randomized_on.clone())
    .bind(a.randomized_by.clone())
    .bind(list_id)
    .execute(&mut *tx.tx)
    .await?;
    tx.audit(action, "allocation", &a.patient_id, None, None, Some(to_json(a)), None).await
}

impl Store {
    /// Generates and stores the concealed list (statistician) for `sites` with the protocol's
    /// design from a recorded seed: permuted blocks store every slot; minimization stores the
    /// seed and sites only. Refused when a list exists (lists are never replaced). The audit
    /// entry carries the list's SHA-256, never the seed or the arms.
    pub async fn generate_list(
        &self,
        actor: &str,
        protocol: &Protocol,
        sites: &[SiteId],
        per_stratum: u32,
        seed: u64,
    ) -> Result<ListSummary> {
        let design = &protocol.randomization;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Statistician], "generate the allocation list")?;
        if sqlx::query("SELECT list_id FROM randomization_lists").fetch_optional(&mut *tx.tx).await?.is_some() {
            return Err(invalid(
                "randomization",
                "list",
                "an allocation list exists already; lists are never replaced",
            ));
        }
        for site in sites {
            if sqlx::query("SELECT 1 AS one FROM sites WHERE site_id = $1")
                .bind(site.to_string())
                .fetch_optional(&mut *tx.tx)
                .await?
                .is_none()
            {
                return Err(invalid("randomization", "sites", format!("site {site} does not exist")));
            }
        }
        let list_id = 1;
        let mut sorted: Vec<String> = sites.iter().map(ToString::to_string).collect();
        sorted.sort();
        let mut hasher = Sha256::new();
        let (slots, strata) = match design.method {
            RandomizationMethod::PermutedBlocks => {
                let list = generate_permuted_blocks(design, sites, per_stratum, seed)?;
                insert_list_row(&mut tx, list_id, design.method, seed, per_stratum, &sorted, protocol).await?;
                let (mut slots, mut strata) = (0, 0);
                for (stratum, entries) in list.entries() {
                    strata += 1;
                    for e in entries {
                        slots += 1;
                        hasher.update(format!(
                            "{stratum},{},{},{},{}\n",
                            e.sequence_number,
                            e.block_number,
                            e.block_size,
                            arm_str(e.arm)
                        ));
                        sqlx::query(
                            "INSERT INTO randomization_slots (list_id, stratum, seq, block_number, block_size, arm, patient_id) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
                        )
                        .bind(list_id)
                        .bind(stratum.to_string())
                        .bind(i64::from(e.sequence_number))
                        .bind(i64::from(e.block_number))
                        .bind(i64::from(e.block_size))
                        .bind(arm_str(e.arm))
                        .execute(&mut *tx.tx)
                        .await?;
                    }
                }
                (slots, strata)
            }
            RandomizationMethod::Minimization => {
                Minimization::new(design, sites, seed)?;
                insert_list_row(&mut tx, list_id, design.method, seed, 0, &sorted, protocol).await?;
                hasher.update(format!("minimization,{seed}\n"));
                (0, 0)
            }
        };
        let summary = ListSummary {
            list_id,
            method: method_str(design.method).to_owned(),
            slots,
            strata,
            sha256: crate::db::hex(&hasher.finalize()),
        };
        let audit = serde_json::json!({
            "method": summary.method, "sites": sorted, "per_stratum": per_stratum, "slots": slots,
            "strata": strata, "list_sha256": summary.sha256, "protocol_sha256": protocol.hash().to_string(),
        });
        tx.audit(
            "generate_list",
            "randomization_list",
            &list_id.to_string(),
            None,
            None,
            Some(audit.to_string()),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Randomizes an eligible patient (investigator) on `randomized_on`: the next free slot of
    /// the patient's stratum (permuted blocks) or the minimization draw replayed from the recorded
    /// seed and every earlier allocation. Refuses a patient not screened eligible, a site
    /// without declared control-arm modality, a re-randomization, an exhausted stratum.
    pub async fn randomize(
        &self,
        actor: &str,
        patient_id: &str,
        randomized_on: &str,
        protocol: &Protocol,
    ) -> Result<Allocation> {
        let on = date("allocation", "randomized_on", randomized_on)?;
        let design = &protocol.randomization;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Investigator], "randomize")?;
        tx.writable_patient(patient_id, "randomize").await?;
        if let Some(row) = sqlx::query("SELECT * FROM allocations WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
        {
            let a = allocation_of(&row)?;
            return Err(TrialError::AlreadyRandomized {
                patient_id: PatientId::parse(patient_id)
                    .map_err(|e| invalid("allocation", "patient_id", e.to_string()))?,
                stratum: a.stratum,
                sequence_number: a.sequence_number,
            }
            .into());
        }
        let (request, status) = request_of(&mut tx, patient_id).await?;
        if status != "eligible" {
            return Err(invalid(
                "randomization",
                "eligibility",
                format!("patient {patient_id} is {status}, not eligible"),
            ));
        }
        let site = request.site_id.clone().expect("set by request_of");
        let control: Option<String> = sqlx::query("SELECT control_modality FROM sites WHERE site_id = $1")
            .bind(site.to_string())
            .fetch_one(&mut *tx.tx)
            .await?
            .try_get("control_modality")?;
        if control.as_deref().and_then(parse_modality).is_none() {
            return Err(invalid(
                "site",
                "control_modality",
                format!(
                    "site {site} has not declared its control-arm modality; required before its first randomization"
                ),
            ));
        }
        let list = load_list(&mut tx).await?;
        if list.method != method_str(design.method) {
            return Err(invalid(
                "randomization",
                "method",
                format!("the stored list is {}, the protocol says {}", list.method, method_str(design.method)),
            ));
        }
        let allocation = match design.method {
            RandomizationMethod::PermutedBlocks => {
                let stratum = stratum_of(&request, design, &list.sites)?;
                let key = stratum.to_string();
                let slot = sqlx::query(
                    "SELECT seq, arm FROM randomization_slots WHERE list_id = $1 AND stratum = $2 AND patient_id IS NULL ORDER BY seq LIMIT 1",
                )
                .bind(list.list_id)
                .bind(key.clone())
                .fetch_optional(&mut *tx.tx)
                .await?;
                let Some(slot) = slot else {
                    let used: i64 = sqlx::query(
                        "SELECT COUNT(*) AS n FROM randomization_slots WHERE list_id = $1 AND stratum = $2",
                    )
                    .bind(list.list_id)
                    .bind(key.clone())
                    .fetch_one(&mut *tx.tx)
                    .await?
                    .try_get("n")?;
                    return Err(TrialError::StratumExhausted { stratum: key, used: used as usize }.into());
                };
                let seq: i64 = slot.try_get("seq")?;
                let arm: String = slot.try_get("arm")?;
                let updated = sqlx::query(
                    "UPDATE randomization_slots SET patient_id = $1 WHERE list_id = $2 AND stratum = $3 AND seq = $4 AND patient_id IS NULL",
                )
                .bind(patient_id.to_owned())
                .bind(list.list_id)
                .bind(key)
                .bind(seq)
                .execute(&mut *tx.tx)
                .await?;
                if updated.rows_affected() != 1 {
                    return Err(StoreError::Conflict {
                        entity: "randomization_slot",
                        id: seq.to_string(),
                        expected: 0,
                        found: 1,
                    });
                }
                Allocation {
                    patient_id: request.patient_id.clone(),
                    stratum,
                    sequence_number: seq as u32,
                    arm: serde_json::from_value(serde_json::Value::String(arm)).map_err(|e| StoreError::Corrupt {
                        entity: "randomization_slot",
                        id: seq.to_string(),
                        reason: e.to_string(),
                    })?,
                }
            }
            RandomizationMethod::Minimization => {
                let mut state = Minimization::new(design, &list.sites, list.seed)?;
                let earlier: Vec<StoredAllocation> =
                    sqlx::query("SELECT * FROM allocations WHERE list_id = $1 ORDER BY sequence_number")
                        .bind(list.list_id)
                        .fetch_all(&mut *tx.tx)
                        .await?
                        .iter()
                        .map(allocation_of)
                        .collect::<Result<_>>()?;
                for stored in &earlier {
                    let (r, _) = request_of(&mut tx, &stored.patient_id).await?;
                    let replayed = state.allocate(&r)?;
                    if replayed.arm != stored.arm || replayed.sequence_number != stored.sequence_number {
                        return Err(StoreError::Corrupt {
                            entity: "allocation",
                            id: stored.patient_id.clone(),
                            reason: "the stored arm differs from the minimization replayed from the recorded seed"
                                .into(),
                        });
                    }
                }
                state.allocate(&request)?
            }
        };
        let stored = StoredAllocation {
            patient_id: patient_id.to_owned(),
            stratum: allocation.stratum.to_string(),
            stratum_site_id: allocation.stratum.site_id.as_ref().map(ToString::to_string),
            ecog_group: allocation.stratum.ecog_group as u32,
            sequence_number: allocation.sequence_number,
            arm: allocation.arm,
            randomized_on: on.to_string(),
            randomized_by: tx.actor().to_owned(),
        };
        insert_allocation(&mut tx, &stored, Some(list.list_id), "randomize").await?;
        tx.commit().await?;
        Ok(allocation)
    }

    /// The allocation of one patient, if randomized.
    pub async fn allocation(&self, patient_id: &str) -> Result<Option<StoredAllocation>> {
        sqlx::query("SELECT * FROM allocations WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(allocation_of)
            .transpose()
    }

    /// Every allocation, by stratum and sequence number.
    pub async fn allocations(&self) -> Result<Vec<StoredAllocation>> {
        sqlx::query("SELECT * FROM allocations ORDER BY stratum, sequence_number")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(allocation_of)
            .collect()
    }

    /// Emergency unblinding (investigator) with a mandatory reason: audited as `unblind`.
    pub async fn unblind(
        &self,
        actor: &str,
        patient_id: &str,
        reason: &str,
        unblinded_on: &str,
    ) -> Result<UnblindingRecord> {
        let on = date("unblinding", "unblinded_on", unblinded_on)?;
        let mut tx = self.write(actor).await?;
        tx.require(&[Role::Investigator], "unblind")?;
        let stored = sqlx::query("SELECT * FROM allocations WHERE patient_id = $1")
            .bind(patient_id.to_owned())
            .fetch_optional(&mut *tx.tx)
            .await?
            .as_ref()
            .map(allocation_of)
            .transpose()?;
        let allocation = stored.as_ref().map(trial_allocation).transpose()?;
        let request = UnblindingRequest {
            patient_id: PatientId::parse(patient_id).map_err(|e| invalid("unblinding", "patient_id", e.to_string()))?,
            requested_by: tx.actor().to_owned(),
            reason: reason.to_owned(),
            date: on,
        };
        let record = unblind(allocation.as_ref(), &request)?;
        let row = Unblinding {
            patient_id: patient_id.to_owned(),
            requested_by: record.requested_by.clone(),
            reason: record.reason.clone(),
            unblinded_on: on.to_string(),
        };
        insert_unblinding(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Every emergency unblinding, in order.
    pub async fn unblindings(&self) -> Result<Vec<Unblinding>> {
        sqlx::query("SELECT * FROM unblindings ORDER BY unblinding_id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Unblinding {
                    patient_id: r.try_get("patient_id")?,
                    requested_by: r.try_get("requested_by")?,
                    reason: r.try_get("reason")?,
                    unblinded_on: r.try_get("unblinded_on")?,
                })
            })
            .collect()
    }
}

async fn insert_list_row(
    tx: &mut WriteTx<'_>,
    list_id: i64,
    method: RandomizationMethod,
    seed: u64,
    per_stratum: u32,
    sites: &[String],
    protocol: &Protocol,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO randomization_lists (list_id, method, seed, per_stratum, sites, protocol_sha256, generated_by, generated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(list_id)
    .bind(method_str(method))
    .bind(seed.to_string())
    .bind(i64::from(per_stratum))
    .bind(to_json(&sites))
    .bind(protocol.hash().to_string())
    .bind(tx.actor().to_owned())
    .bind(tx.at().to_owned())
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

pub(crate) async fn insert_unblinding(tx: &mut WriteTx<'_>, u: &Unblinding) -> Result<()> {
    let id = tx.next_id("unblindings", "unblinding_id").await?;
    sqlx::query("INSERT INTO unblindings (unblinding_id, patient_id, requested_by, reason, unblinded_on) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(u.patient_id.clone())
        .bind(u.requested_by.clone())
        .bind(u.reason.clone())
        .bind(u.unblinded_on.clone())
        .execute(&mut *tx.tx)
        .await?;
    tx.audit("unblind", "allocation", &u.patient_id, None, None, Some(to_json(u)), Some(&u.reason)).await
}
