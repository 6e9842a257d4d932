-- Migration 0004: the crons keep a record of their own runs, and of the nightly backups to R2.
-- Each scheduled job (shared::monitoring::jobs) runs on its own and writes its last outcome to
-- job_runs, so /status shows a failing job without it hiding the others. backups lists the objects
-- the nightly export wrote (shared::backup), for the latest backup's age and size on /status.
CREATE TABLE IF NOT EXISTS job_runs (
    job          TEXT    PRIMARY KEY,                -- monitor, backup, retention, ... (Job::name)
    started_at   INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
    ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
    message      TEXT    NOT NULL,                   -- public: a summary, or the error's code and safe message
    last_ok_at   INTEGER                             -- start of the last successful run; NULL until one
);
CREATE TABLE IF NOT EXISTS backups (
    object_key  TEXT    PRIMARY KEY,                 -- daily/YYYY-MM-DD.sql or monthly/YYYY-MM.sql in R2
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    row_count   INTEGER NOT NULL CHECK (row_count >= 0),
    migration   TEXT    NOT NULL,                    -- the migration level the export needs
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS backups_time ON backups (created_at);
UPDATE schema_version SET version = 4, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
