-- cryoseed plan-review bundles, schema version 5 (same portable SQL subset as 0001).
-- One bundle per uploaded plan: the `review.json` of `cryoseed plan` (DVH curves and slice
-- vectors the plan-review screen draws), stored byte for byte with its SHA-256 and the SHA-256
-- of the plan.json it belongs to (the `patient_plan_sha256` of that plan's lesion documents).

CREATE TABLE plan_reviews (
    review_id BIGINT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients (patient_id),
    plan_sha256 TEXT NOT NULL,
    document TEXT NOT NULL,
    sha256 TEXT NOT NULL
);

CREATE INDEX plan_reviews_by_plan ON plan_reviews (patient_id, plan_sha256);
