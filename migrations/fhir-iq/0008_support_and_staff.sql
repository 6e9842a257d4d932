-- Migration 0008 (issue 19): the support desk, the staff audit log (shared::support,
-- shared::auth::audit) and accounts staff disable (shared::auth::staff).

-- When staff disabled the account (NULL: it is enabled). A disabled account cannot sign in and its
-- sessions no longer count.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;

-- A support request: who opened it, about what, its priority (from the permission matrix when it was
-- opened) and where it stands: 'open' waits on staff, 'answered' on the user, 'closed' is done.
CREATE TABLE IF NOT EXISTS support_requests (
    id                  TEXT    PRIMARY KEY,
    user_id             TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject             TEXT    NOT NULL,
    category            TEXT    NOT NULL CHECK (category IN ('billing', 'account', 'course', 'builder', 'assistant', 'integration', 'other')),
    priority            TEXT    NOT NULL CHECK (priority IN ('priority', 'normal')),
    status              TEXT    NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
    link_kind           TEXT    CHECK (link_kind IS NULL OR link_kind IN ('generation', 'course', 'order')),
    link_id             TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    first_response_due  INTEGER,                           -- priority requests: the target (ms)
    first_response_at   INTEGER                            -- the first staff reply (ms)
);
CREATE INDEX IF NOT EXISTS support_requests_user ON support_requests (user_id, updated_at);
CREATE INDEX IF NOT EXISTS support_requests_inbox ON support_requests (status, priority, updated_at);

-- The thread of a request, oldest first: the user's messages and staff replies, as plain text.
CREATE TABLE IF NOT EXISTS support_messages (
    id          INTEGER PRIMARY KEY,
    request_id  TEXT    NOT NULL REFERENCES support_requests (id) ON DELETE CASCADE,
    author      TEXT    NOT NULL CHECK (author IN ('user', 'staff')),
    author_id   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS support_messages_request ON support_messages (request_id, id);

-- Every staff action (a support reply, a plan granted, an account disabled): who, what, on what, when.
CREATE TABLE IF NOT EXISTS admin_audit (
    id          INTEGER PRIMARY KEY,
    staff_id    TEXT    NOT NULL,
    staff_email TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail      TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_audit_time ON admin_audit (created_at);

UPDATE schema_version SET version = 8, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
