-- Email verification (issue 15, item 6): an account proves it owns its address before it can buy,
-- enrol, connect GitHub, invite or accept an invitation (shared::auth::verify).

-- When the address was proven (a verification link used), NULL until then.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- Accounts made before verification existed keep what they could do: they count as verified from
-- their sign-up (docs/security.md, accepted risks). Every account made from here on starts unverified.
UPDATE users SET email_verified_at = created_at WHERE email_verified_at IS NULL;

-- Verification links: the email carries a random 256-bit token; only its SHA-256 is stored. A link
-- works once, before it expires, and only for the address it was sent to. Asking for a new link
-- deletes the older ones.
CREATE TABLE IF NOT EXISTS email_verifications (
    token_hash  TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX IF NOT EXISTS email_verifications_user ON email_verifications (user_id);

UPDATE schema_version SET version = 6, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
