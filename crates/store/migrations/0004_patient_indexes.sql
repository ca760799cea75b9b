-- cryoseed schema version 4: indexes for reading one patient's records (same portable SQL
-- subset as 0001). The web service reads a patient's adverse events, plans, procedures,
-- deviations, queries and signatures by `patient_id`; without these indexes each such read
-- scanned the whole table, so its cost grew with the whole trial instead of with the patient.
-- (Lesions, assessments, screenings, allocations and adjudications are keyed by patient first.)

CREATE INDEX adverse_events_by_patient ON adverse_events (patient_id, ae_id);

CREATE INDEX plans_by_patient ON plans (patient_id, plan_id);

CREATE INDEX procedures_by_patient ON procedures (patient_id, procedure_id);

CREATE INDEX deviations_by_patient ON deviations (patient_id, deviation_id);

CREATE INDEX queries_by_patient ON queries (patient_id, query_id);

CREATE INDEX signatures_by_patient ON signatures (patient_id, signature_id);
