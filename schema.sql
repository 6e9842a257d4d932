-- FHIR IQ schema for D1 (SQLite). Applied idempotently: by `make dev` to the local D1, by the test
-- harness to each fresh test database, by native tests to an in-memory SQLite, and in production with
-- `wrangler d1 execute fhir-iq --remote --file schema.sql`. Every statement must be safe to run again,
-- so tables and indexes use IF NOT EXISTS and seed rows use INSERT OR IGNORE.
--
-- Conventions: times are INTEGER milliseconds since the Unix epoch (UTC); booleans are INTEGER 0/1 with
-- a CHECK; JSON columns are TEXT with CHECK (json_valid(...)). UNIQUE constraints are named so code
-- can map a violation to a 409.

-- Which schema the database carries. The health function reads it: a D1 that answers but lacks the
-- schema cannot serve the platform, so it counts as down.
CREATE TABLE IF NOT EXISTS schema_version (
    id          INTEGER PRIMARY KEY CHECK (id = 1),   -- one row only
    version     INTEGER NOT NULL,
    applied_at  INTEGER NOT NULL
);
INSERT OR IGNORE INTO schema_version (id, version, applied_at)
VALUES (1, 1, CAST(unixepoch('subsec') * 1000 AS INTEGER));

-- One row per probe of one monitored endpoint by the 5-minute cron. Feeds /status (uptime and
-- response-time history) and is deleted after HEALTH_RETENTION_DAYS by the clean-up cron.
CREATE TABLE IF NOT EXISTS health_checks (
    id                INTEGER PRIMARY KEY,
    endpoint          TEXT    NOT NULL,              -- a site path ("/pricing") or an absolute URL
    status_code       INTEGER,                       -- NULL when no response arrived (timeout, refused)
    response_time_ms  INTEGER NOT NULL CHECK (response_time_ms >= 0),
    healthy           INTEGER NOT NULL CHECK (healthy IN (0, 1)),   -- 1 only when state = 'up'
    state             TEXT    NOT NULL CHECK (state IN ('up', 'slow', 'down')),
    error             TEXT,                          -- why it was not healthy, for the status page
    checked_at        INTEGER NOT NULL
);
-- /status reads one endpoint's last 24 hours; clean-up deletes by age.
CREATE INDEX IF NOT EXISTS health_checks_endpoint_time ON health_checks (endpoint, checked_at);
CREATE INDEX IF NOT EXISTS health_checks_time ON health_checks (checked_at);

-- The monitor's memory between cron runs: the state each endpoint was last seen in and the state
-- Slack was last told about. An alert goes out only when the two differ, so a state that holds
-- never alerts twice, and an alert that failed to send is retried on the next run.
CREATE TABLE IF NOT EXISTS monitor_state (
    endpoint         TEXT    PRIMARY KEY,
    state            TEXT    NOT NULL CHECK (state IN ('up', 'slow', 'down')),
    since            INTEGER NOT NULL,               -- when the endpoint entered `state`
    notified_state   TEXT    NOT NULL CHECK (notified_state IN ('up', 'slow', 'down')),
    last_checked_at  INTEGER NOT NULL
);

-- Every alert the monitor raised (down, slow, recovered), whether Slack accepted it, and why not.
-- An audit trail for operators and the "recent incidents" list on /status.
CREATE TABLE IF NOT EXISTS monitor_alerts (
    id          INTEGER PRIMARY KEY,
    endpoint    TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('down', 'slow', 'recovered')),
    message     TEXT    NOT NULL,
    delivered   INTEGER NOT NULL CHECK (delivered IN (0, 1)),
    error       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS monitor_alerts_time ON monitor_alerts (created_at);

-- First-party analytics: every feature logs what users do through shared::events. user_id is NULL for
-- anonymous visitors. Raw rows are kept EVENTS_RETENTION_DAYS; later rollups keep aggregates.
CREATE TABLE IF NOT EXISTS user_events (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT,
    event_type  TEXT    NOT NULL,
    properties  TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(properties) AND json_type(properties) = 'object'),
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS user_events_type_time ON user_events (event_type, created_at);
CREATE INDEX IF NOT EXISTS user_events_user_time ON user_events (user_id, created_at);
CREATE INDEX IF NOT EXISTS user_events_time ON user_events (created_at);
