-- The operations console: password sign-in, browser sessions, and SOP checklist progress.

-- scrypt$N$r$p$salt$hash (base64): a standard KDF from the standard library, salt per account.
ALTER TABLE accounts ADD COLUMN password_hash text;

-- Browser sessions behind an HttpOnly cookie, stored only as SHA-256 hashes like bearer tokens.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX sessions_account ON sessions (account_id);

-- One row per SOP step an operator has dealt with; the steps themselves are data (rules/sop.toml).
CREATE TABLE checklist_steps (
    incident_id  text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    step         text NOT NULL,
    state        text NOT NULL CHECK (state IN ('done', 'skipped')),
    reason       text,
    actor        text NOT NULL,
    at           timestamptz NOT NULL,
    jpath        ltree NOT NULL,
    PRIMARY KEY (incident_id, step)
);
