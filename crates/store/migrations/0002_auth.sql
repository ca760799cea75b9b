-- cryoseed web sign-in, schema version 2 (same portable SQL subset as 0001).
-- Passwords are stored only as Argon2id PHC strings (hashed by the server); sessions only as the
-- SHA-256 of their random token, so a database leak gives no usable cookie.

CREATE TABLE credentials (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id),
    password_phc TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

CREATE TABLE user_settings (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id),
    locale TEXT NOT NULL
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    reauthenticated_at TEXT
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
