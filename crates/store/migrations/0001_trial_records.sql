-- cryoseed trial records, schema version 1.
-- Portable subset of SQL run unchanged on SQLite and PostgreSQL (tested on both): TEXT, BIGINT,
-- DOUBLE PRECISION only; dates are TEXT 'YYYY-MM-DD', instants TEXT ISO-8601 UTC; booleans are
-- BIGINT 0/1; ids are assigned by the store inside the serialized write transaction.

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    field TEXT,
    old_value TEXT,
    new_value TEXT,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE sites (
    site_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    control_modality TEXT,
    version BIGINT NOT NULL
);

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    site_id TEXT REFERENCES sites (site_id),
    version BIGINT NOT NULL
);

CREATE TABLE patients (
    patient_id TEXT PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites (site_id),
    enrolled_on TEXT NOT NULL,
    therapy_completed_on TEXT,
    death_on TEXT,
    last_contact_on TEXT,
    withdrawn_on TEXT,
    locked BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE screenings (
    patient_id TEXT PRIMARY KEY REFERENCES patients (patient_id),
    screened_on TEXT NOT NULL,
    ecog BIGINT,
    status TEXT NOT NULL,
    criteria TEXT NOT NULL,
    protocol_sha256 TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE randomization_lists (
    list_id BIGINT PRIMARY KEY,
    method TEXT NOT NULL,
    seed TEXT NOT NULL,
    per_stratum BIGINT NOT NULL,
    sites TEXT NOT NULL,
    protocol_sha256 TEXT NOT NULL,
    generated_by TEXT NOT NULL REFERENCES users (user_id),
    generated_at TEXT NOT NULL
);

CREATE TABLE randomization_slots (
    list_id BIGINT NOT NULL REFERENCES randomization_lists (list_id),
    stratum TEXT NOT NULL,
    seq BIGINT NOT NULL,
    block_number BIGINT NOT NULL,
    block_size BIGINT NOT NULL,
    arm TEXT NOT NULL,
    patient_id TEXT UNIQUE REFERENCES patients (patient_id),
    PRIMARY KEY (list_id, stratum, seq)
);

CREATE TABLE allocations (
    patient_id TEXT PRIMARY KEY REFERENCES patients (patient_id),
    stratum TEXT NOT NULL,
    stratum_site_id TEXT,
    ecog_group BIGINT NOT NULL,
    sequence_number BIGINT NOT NULL,
    arm TEXT NOT NULL,
    randomized_on TEXT NOT NULL,
    randomized_by TEXT NOT NULL,
    list_id BIGINT REFERENCES randomization_lists (list_id),
    UNIQUE (stratum, sequence_number)
);

CREATE TABLE unblindings (
    unblinding_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES allocations (patient_id),
    requested_by TEXT NOT NULL,
    reason TEXT NOT NULL,
    unblinded_on TEXT NOT NULL
);

CREATE TABLE lesions (
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    lesion_id TEXT NOT NULL,
    role TEXT NOT NULL,
    organ TEXT NOT NULL,
    is_bulky_index BIGINT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (patient_id, lesion_id)
);

CREATE TABLE plans (
    plan_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    lesion_id TEXT NOT NULL,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    FOREIGN KEY (patient_id, lesion_id) REFERENCES lesions (patient_id, lesion_id)
);

CREATE TABLE procedures (
    procedure_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    lesion_id TEXT NOT NULL,
    modality TEXT NOT NULL,
    performed_on TEXT NOT NULL,
    is_reintervention BIGINT NOT NULL,
    seeds_implanted BIGINT,
    details TEXT NOT NULL,
    notes TEXT,
    qa_assessed_on TEXT,
    qa_seed_d90_gy DOUBLE PRECISION,
    qa_seed_prescription_gy DOUBLE PRECISION,
    qa_lethal_isotherm_covered BIGINT,
    version BIGINT NOT NULL,
    FOREIGN KEY (patient_id, lesion_id) REFERENCES lesions (patient_id, lesion_id)
);

CREATE TABLE assessments (
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    reader TEXT NOT NULL,
    label TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    observations TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (patient_id, reader, label)
);

CREATE TABLE adjudications (
    patient_id TEXT PRIMARY KEY REFERENCES patients (patient_id),
    adjudicator TEXT NOT NULL,
    accepted_reader TEXT NOT NULL,
    reason TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE adverse_events (
    ae_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    meddra_code TEXT NOT NULL,
    term TEXT NOT NULL,
    soc TEXT NOT NULL,
    grade BIGINT NOT NULL,
    specification TEXT,
    attributions TEXT NOT NULL,
    serious TEXT NOT NULL,
    onset TEXT NOT NULL,
    resolution TEXT,
    ctcae_version TEXT NOT NULL,
    meddra_version TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE deviations (
    deviation_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    occurred_on TEXT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    major BIGINT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE queries (
    query_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    field TEXT NOT NULL,
    question TEXT NOT NULL,
    raised_by TEXT NOT NULL,
    answer TEXT,
    status TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE signatures (
    signature_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    signed_by TEXT NOT NULL REFERENCES users (user_id),
    meaning TEXT NOT NULL,
    signed_at TEXT NOT NULL
);

INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
