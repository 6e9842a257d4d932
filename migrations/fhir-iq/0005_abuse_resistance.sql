-- Migration 0005: abuse resistance (issue 15).
--
-- trusted_devices: the device cookies of browsers that signed in to an account (shared::auth::device).
-- A sign-in from one counts its failures on its own key, so failures from elsewhere never block the
-- owner. Only the token's SHA-256 is stored; a completed password reset deletes the account's rows.
CREATE TABLE IF NOT EXISTS trusted_devices (
    token_hash      TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_signin_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trusted_devices_user ON trusted_devices (user_id);

-- usage_counters: per-plan daily limits (questions to the assistant, Builder generations, GitHub
-- pushes), reserved by ONE conditional statement before the work starts (shared::usage), so parallel
-- requests can never pass the limit; given back when the work failed. `day` is the UTC midnight
-- (ms) the count belongs to; the daily clean-up deletes past days.
CREATE TABLE IF NOT EXISTS usage_counters (
    user_id  TEXT    NOT NULL,
    meter    TEXT    NOT NULL CHECK (meter IN ('questions', 'generations', 'pushes')),
    day      INTEGER NOT NULL,
    used     INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, meter, day)
);
-- Today's use so far, so a deploy in the middle of a day gives nobody a second quota.
INSERT OR IGNORE INTO usage_counters (user_id, meter, day, used)
SELECT user_id, 'questions', CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000, COUNT(*)
FROM chat_logs WHERE created_at >= CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000 GROUP BY user_id;
INSERT OR IGNORE INTO usage_counters (user_id, meter, day, used)
SELECT user_id, 'generations', CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000, COUNT(*)
FROM code_generations WHERE created_at >= CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000 GROUP BY user_id;
INSERT OR IGNORE INTO usage_counters (user_id, meter, day, used)
SELECT user_id, 'pushes', CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000, COUNT(*)
FROM github_repos WHERE created_at >= CAST(unixepoch('now', 'start of day') AS INTEGER) * 1000 GROUP BY user_id;

-- A paid course's seat hold remembers the checkout it opened: enrolling again while the hold is live
-- answers that checkout instead of opening another (and never extends the hold).
ALTER TABLE enrollments ADD COLUMN checkout_url TEXT;

-- An Enterprise subscription's seats: the quantity of its Stripe subscription item, kept by the
-- webhook. Inviting past it is refused (shared::auth::org).
ALTER TABLE stripe_subscriptions ADD COLUMN quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1);

-- Sent email no longer keeps its single-use links (shared::mail blanks the body once delivered).
UPDATE email_outbox SET body_text = '[removed once no longer needed for delivery: it may have held a single-use link]'
WHERE status <> 'pending';
-- Browsers may send only these event types (shared::analytics::ingest::BROWSER_EVENT_TYPES): events of
-- other types a browser sent before are not facts, and leave the raw data. Rollups already made stay.
DELETE FROM analytics_events WHERE event_type NOT IN ('page.view', 'tool.opened', 'builder.previewed', 'assistant.asked');

UPDATE schema_version SET version = 5, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
