-- FHIR IQ schema: the current shape of both D1 databases, for reading. It is not applied to any D1:
-- the versioned migrations in migrations/ are (`wrangler d1 migrations apply`, by scripts/migrate.sh
-- for make dev, the tests and deploys). Native tests load this file into an in-memory SQLite.
-- shared/tests/migrations.rs fails when applying every migration to an empty database does not give
-- exactly the tables, columns, indexes and triggers below. A change is a new migration plus an edit
-- here, in the same commit.
--
-- Two databases: `fhir-iq` (binding DB, migrations/fhir-iq), the database of record, backed up; and
-- `fhir-iq-kb` (binding KB, migrations/fhir-iq-kb), the knowledge base, rebuilt by `make kb`. The
-- knowledge base's section is at the end, after the line "-- @database fhir-iq-kb".
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
VALUES (1, 8, CAST(unixepoch('subsec') * 1000 AS INTEGER));

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

-- The last run of each scheduled job (shared::monitoring::jobs): the jobs of a cron run one by one,
-- each on its own, so /status shows which failed without one failure hiding the others. The message
-- is shown publicly: a summary of counts, or the error's code and safe message (details go to logs).
CREATE TABLE IF NOT EXISTS job_runs (
    job          TEXT    PRIMARY KEY,                -- monitor, backup, retention, ... (Job::name)
    started_at   INTEGER NOT NULL,
    duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
    ok           INTEGER NOT NULL CHECK (ok IN (0, 1)),
    message      TEXT    NOT NULL,                   -- public: a summary, or the error's code and safe message
    last_ok_at   INTEGER                             -- start of the last successful run; NULL until one
);

-- The objects the nightly backup wrote to R2 and has not yet deleted (shared::backup), so /status can
-- show the latest backup's age and size without listing the bucket on every view. Not backed up.
CREATE TABLE IF NOT EXISTS backups (
    object_key  TEXT    PRIMARY KEY,                 -- daily/YYYY-MM-DD.sql or monthly/YYYY-MM.sql in R2
    bytes       INTEGER NOT NULL CHECK (bytes >= 0),
    row_count   INTEGER NOT NULL CHECK (row_count >= 0),
    migration   TEXT    NOT NULL,                    -- the migration level the export needs
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS backups_time ON backups (created_at);

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

-- ---------------------------------------------------------------------------------------------------
-- Accounts (shared::auth)
-- ---------------------------------------------------------------------------------------------------

-- An enterprise account is an organisation; members inherit its plan (the owner's subscription).
CREATE TABLE IF NOT EXISTS organisations (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    owner_id    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    CONSTRAINT organisations_owner_unique UNIQUE (owner_id)   -- one organisation per owner
);

-- A person who can sign in. The role is not stored: it is derived from subscriptions and orders
-- (shared::auth::roles), so it can never disagree with what was paid for.
CREATE TABLE IF NOT EXISTS users (
    id                   TEXT    PRIMARY KEY,
    email                TEXT    NOT NULL,                    -- normalised lower case (Email::parse)
    password_hash        TEXT    NOT NULL,                    -- pbkdf2-sha256$iterations$salt$hash
    admin                INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),   -- FHIR IQ staff
    org_id               TEXT    REFERENCES organisations (id) ON DELETE SET NULL,
    created_at           INTEGER NOT NULL,
    password_changed_at  INTEGER NOT NULL,
    email_verified_at    INTEGER,                             -- a verification link used; NULL until then
    disabled_at          INTEGER,                             -- staff disabled it: no sign-in, no session
    CONSTRAINT users_email_unique UNIQUE (email)              -- a duplicate sign-up is a 409
);

-- Sessions: the cookie carries a random 256-bit token; only its SHA-256 is stored, so a leaked
-- database cannot be replayed as sessions. Idle expiry uses last_seen_at, absolute expiry expires_at.
CREATE TABLE IF NOT EXISTS sessions (
    id            TEXT    PRIMARY KEY,                        -- hex SHA-256 of the token
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    user_agent    TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);

-- Single-use password reset tokens (hash only), valid for RESET_TOKEN_MINUTES.
CREATE TABLE IF NOT EXISTS password_resets (
    token_hash  TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- Email verification links (shared::auth::verify): only the token's SHA-256 is stored; a link works
-- once, before it expires, for the address it was sent to. Asking for a new link deletes older ones.
CREATE TABLE IF NOT EXISTS email_verifications (
    token_hash  TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX IF NOT EXISTS email_verifications_user ON email_verifications (user_id);

-- Subscriptions grant a plan while active or trialing. One row per Stripe subscription (id sub_...,
-- written by the webhook and the checkout success page) or per admin grant (id admin:<user>).
CREATE TABLE IF NOT EXISTS subscriptions (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    plan        TEXT    NOT NULL CHECK (plan IN ('student', 'pro', 'enterprise')),
    status      TEXT    NOT NULL CHECK (status IN ('active', 'trialing', 'past_due', 'incomplete', 'unpaid', 'canceled', 'incomplete_expired', 'paused')),
    updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscriptions_user ON subscriptions (user_id, status);

-- One-time purchases (a paid course). A completed one makes the user a student. Created pending at
-- checkout (its id travels in the Checkout Session's metadata), completed once by the webhook.
CREATE TABLE IF NOT EXISTS orders (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product     TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'completed', 'refunded')),
    created_at  INTEGER NOT NULL,
    -- From the Checkout Session when the webhook completes the order (NULL while pending): the amount
    -- in the currency's minor unit, the ISO currency in lower case, and Stripe's PaymentIntent id.
    amount                 INTEGER CHECK (amount IS NULL OR amount >= 0),
    currency               TEXT CHECK (currency IS NULL OR length(currency) = 3),
    stripe_payment_intent  TEXT,
    -- The Charge's receipt_url; what has been refunded (equal to amount once status is 'refunded');
    -- a dispute the buyer's bank opened (Stripe's du_ id, its reason, when).
    receipt_url      TEXT,
    refunded_amount  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    refunded_at      INTEGER,
    dispute_id       TEXT,
    dispute_reason   TEXT,
    disputed_at      INTEGER
);
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, status);
CREATE INDEX IF NOT EXISTS orders_payment_intent ON orders (stripe_payment_intent);

-- One row per paid subscription invoice (invoice.paid): the plan period it paid for, the amount, and
-- the hosted invoice page as its receipt. Refunds and disputes of its payment are recorded as on orders.
CREATE TABLE IF NOT EXISTS subscription_payments (
    id               TEXT    PRIMARY KEY,                  -- in_...
    user_id          TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subscription_id  TEXT    NOT NULL,
    plan             TEXT    NOT NULL,
    amount           INTEGER NOT NULL CHECK (amount >= 0),
    currency         TEXT    NOT NULL CHECK (length(currency) = 3),
    payment_intent   TEXT,                                 -- pi_..., to match a refund or a dispute
    receipt_url      TEXT,                                 -- the invoice's hosted_invoice_url
    period_start     INTEGER,                              -- ms
    period_end       INTEGER,                              -- ms
    paid_at          INTEGER NOT NULL,                     -- ms
    refunded_amount  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    dispute_id       TEXT,
    dispute_reason   TEXT,
    disputed_at      INTEGER,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS subscription_payments_user ON subscription_payments (user_id, paid_at);
CREATE INDEX IF NOT EXISTS subscription_payments_intent ON subscription_payments (payment_intent);

-- ---------------------------------------------------------------------------------------------------
-- The support desk and the staff audit log (shared::support, shared::auth::audit).
-- ---------------------------------------------------------------------------------------------------

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

-- Alerts for staff (a dispute opened, a priority support request), written in the same batch as what
-- caused them and posted to Slack by the webhook and, until that succeeds, by the 5-minute cron.
CREATE TABLE IF NOT EXISTS staff_alerts (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('dispute', 'support')),
    text         TEXT    NOT NULL,                         -- Slack mrkdwn, user text already escaped
    created_at   INTEGER NOT NULL,
    notified_at  INTEGER
);
CREATE INDEX IF NOT EXISTS staff_alerts_pending ON staff_alerts (notified_at, created_at);

-- Every change of a user's derived role, with why (a transaction id, an admin action).
CREATE TABLE IF NOT EXISTS role_changes (
    id          INTEGER PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    from_role   TEXT    NOT NULL,
    to_role     TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS role_changes_user ON role_changes (user_id, created_at);

-- Invitations to an organisation (hash of the emailed token), accepted by the invited email only.
CREATE TABLE IF NOT EXISTS org_invitations (
    token_hash   TEXT    PRIMARY KEY,
    org_id       TEXT    NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    invited_by   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER
);
CREATE INDEX IF NOT EXISTS org_invitations_org ON org_invitations (org_id);

-- Fixed-window counters with exponential backoff for sign-in, sign-up and reset, keyed by action and
-- the hashed IP or the account's email. D1 rather than KV: KV is eventually consistent.
CREATE TABLE IF NOT EXISTS rate_limits (
    key            TEXT    PRIMARY KEY,
    window_start   INTEGER NOT NULL,
    count          INTEGER NOT NULL,
    blocked_until  INTEGER
);

-- Device cookies of browsers that signed in to an account (shared::auth::device): a sign-in from one
-- counts its failures on its own key, so failures from elsewhere never block the owner. Only the
-- token's SHA-256 is stored; a completed password reset deletes the account's rows.
CREATE TABLE IF NOT EXISTS trusted_devices (
    token_hash      TEXT    PRIMARY KEY,
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_signin_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trusted_devices_user ON trusted_devices (user_id);

-- Per-plan daily limits (assistant questions, Builder generations, GitHub pushes), reserved by one
-- conditional statement before the work starts (shared::usage) and given back when it failed. `day`
-- is the UTC midnight (ms) the count belongs to; the daily clean-up deletes past days.
CREATE TABLE IF NOT EXISTS usage_counters (
    user_id  TEXT    NOT NULL,
    meter    TEXT    NOT NULL CHECK (meter IN ('questions', 'generations', 'pushes')),
    day      INTEGER NOT NULL,
    used     INTEGER NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, meter, day)
);

-- Outgoing email. Written in the same batch as what it announces (a reset token), then delivered
-- by the email provider client; pending rows are retried by the 5-minute cron. Once sent (or given up)
-- body_text is replaced (shared::mail::REMOVED_BODY): reset and invitation links are not kept.
CREATE TABLE IF NOT EXISTS email_outbox (
    id          TEXT    PRIMARY KEY,
    to_email    TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body_text   TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX IF NOT EXISTS email_outbox_pending ON email_outbox (status, created_at);

-- ---------------------------------------------------------------------------------------------------
-- Plans and payments (shared::billing). Stripe is the source of truth: each subscription event makes
-- the webhook re-fetch the subscription and overwrite these rows, so any delivery order converges.
-- ---------------------------------------------------------------------------------------------------

-- The Stripe customer of each user, created before their first checkout (metadata[user_id] on it too).
CREATE TABLE IF NOT EXISTS stripe_customers (
    user_id      TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    customer_id  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    CONSTRAINT stripe_customers_customer_unique UNIQUE (customer_id)
);

-- What Stripe last said about a subscription, beyond the plan and status kept in `subscriptions`
-- (same id): for the account page (renewal date, interval) and support.
CREATE TABLE IF NOT EXISTS stripe_subscriptions (
    id                    TEXT    PRIMARY KEY,               -- sub_...
    user_id               TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    customer_id           TEXT    NOT NULL,
    price_id              TEXT    NOT NULL,
    billing_interval      TEXT    NOT NULL CHECK (billing_interval IN ('month', 'year')),
    current_period_end    INTEGER,                           -- ms; from the subscription item (API 2025-03-31+)
    cancel_at_period_end  INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    updated_at            INTEGER NOT NULL,
    quantity              INTEGER NOT NULL DEFAULT 1 CHECK (quantity >= 1)   -- an Enterprise plan's seats
);
CREATE INDEX IF NOT EXISTS stripe_subscriptions_user ON stripe_subscriptions (user_id);

-- Webhook events already applied, recorded in the same batch as their side effects (an order
-- completed, an email queued), so a redelivered event changes nothing.
CREATE TABLE IF NOT EXISTS stripe_events (
    id            TEXT    PRIMARY KEY,                       -- evt_...
    type          TEXT    NOT NULL,
    processed_at  INTEGER NOT NULL
);

-- Enterprise "contact sales" requests. Stored first; the Slack notification may be retried.
CREATE TABLE IF NOT EXISTS sales_inquiries (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    company      TEXT    NOT NULL,
    seats        INTEGER,
    message      TEXT    NOT NULL,
    user_id      TEXT,
    created_at   INTEGER NOT NULL,
    notified_at  INTEGER
);
CREATE INDEX IF NOT EXISTS sales_inquiries_unnotified ON sales_inquiries (notified_at, created_at);

-- ---------------------------------------------------------------------------------------------------
-- The FHIR Builder (shared::builder)
-- ---------------------------------------------------------------------------------------------------

-- Each generation: the validated request and the files exactly as shown, for the ZIP and the push.
CREATE TABLE IF NOT EXISTS code_generations (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    use_case    TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    auth        TEXT    NOT NULL,
    spec        TEXT    NOT NULL CHECK (json_valid(spec)),
    files       TEXT    NOT NULL CHECK (json_valid(files)),
    generator   TEXT    NOT NULL,                           -- templates, or the model that tailored it
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS code_generations_user ON code_generations (user_id, created_at);

-- Repositories the Builder created, step by step: `created` (exists on GitHub, not yet filled) then
-- `pushed` (one commit with every file). A retry resumes a `created` one instead of making another.
-- `deleted`: GitHub said so (githubWebhook); the name may be used again.
CREATE TABLE IF NOT EXISTS github_repos (
    owner          TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    generation_id  TEXT    NOT NULL,
    status         TEXT    NOT NULL CHECK (status IN ('created', 'pushed', 'deleted')),
    repo_url       TEXT    NOT NULL,
    clone_url      TEXT    NOT NULL,
    branch         TEXT    NOT NULL,
    commit_sha     TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
);
CREATE INDEX IF NOT EXISTS github_repos_user ON github_repos (user_id, created_at);

-- Where the GitHub App is installed (githubWebhook keeps this current) and the repositories each
-- installation may use.
CREATE TABLE IF NOT EXISTS github_installations (
    id                    INTEGER PRIMARY KEY,
    account               TEXT    NOT NULL,
    account_type          TEXT    NOT NULL,
    repository_selection  TEXT    NOT NULL,
    suspended             INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    updated_at            INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS github_installation_repos (
    installation_id  INTEGER NOT NULL,
    full_name        TEXT    NOT NULL,
    private          INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    added_at         INTEGER NOT NULL,
    PRIMARY KEY (installation_id, full_name)
);
-- Users who connected their own GitHub account (user-to-server OAuth): tokens sealed with AES-256-GCM
-- (key from the GITHUB_TOKEN_KEY secret), never stored in the clear.
CREATE TABLE IF NOT EXISTS github_user_tokens (
    user_id             TEXT    PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    login               TEXT    NOT NULL,
    access_token        TEXT    NOT NULL,
    access_expires_at   INTEGER,
    refresh_token       TEXT,
    refresh_expires_at  INTEGER,
    updated_at          INTEGER NOT NULL
);
-- Pending OAuth authorizations: the hash of the single-use state, bound to the user, ten minutes.
CREATE TABLE IF NOT EXISTS github_oauth_states (
    state_hash  TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
);
-- Webhook deliveries already applied (X-GitHub-Delivery), written with their effect.
CREATE TABLE IF NOT EXISTS github_deliveries (
    id           TEXT    PRIMARY KEY,
    event        TEXT    NOT NULL,
    received_at  INTEGER NOT NULL
);

-- Every question to the assistant, for quotas, analytics and quality review. The question is stored
-- only after patient identifiers are redacted. Deleted after CHAT_RETENTION_DAYS.
CREATE TABLE IF NOT EXISTS chat_logs (
    id             TEXT    PRIMARY KEY,
    user_id        TEXT    NOT NULL,
    question       TEXT    NOT NULL,               -- redacted
    answer         TEXT    NOT NULL,
    sources        TEXT    NOT NULL CHECK (json_valid(sources)),   -- chunk ids, best first
    provider       TEXT    NOT NULL,               -- anthropic, openai, retrieval-only
    model          TEXT,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    latency_ms     INTEGER NOT NULL,
    redacted       TEXT    NOT NULL DEFAULT '',    -- kinds of identifiers removed, comma-separated
    created_at     INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_logs_user_time ON chat_logs (user_id, created_at);
CREATE INDEX IF NOT EXISTS chat_logs_time ON chat_logs (created_at);

-- ---------------------------------------------------------------------------------------------------
-- Content: tools, courses (lessons, quizzes, resources), blog posts and authors. Loaded from content/
-- by the sync (source 'file', file_hash = the file last loaded) or written through the admin API
-- (source 'admin'). An admin edit of a file entry keeps file_hash, so it survives syncs until the file
-- itself changes. HTML columns hold Markdown rendered and sanitized when stored; `document` is the
-- Markdown-with-front-matter source. Lists are JSON arrays.
CREATE TABLE IF NOT EXISTS content_authors (
    slug        TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    url         TEXT,
    bio_html    TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    source      TEXT    NOT NULL CHECK (source IN ('file', 'admin')),
    file_hash   TEXT,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS content_tools (
    slug         TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    summary      TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    tags         TEXT    NOT NULL CHECK (json_valid(tags)),
    featured     INTEGER NOT NULL CHECK (featured IN (0, 1)),
    url          TEXT    NOT NULL,
    plan         TEXT    NOT NULL CHECK (plan IN ('free', 'student', 'pro', 'enterprise')),
    demo         TEXT,
    screenshots  TEXT    NOT NULL CHECK (json_valid(screenshots)),
    body_html    TEXT    NOT NULL,
    body_text    TEXT    NOT NULL,
    published    INTEGER NOT NULL CHECK (published IN (0, 1)),
    document     TEXT    NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('file', 'admin')),
    file_hash    TEXT,
    updated_at   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS content_posts (
    slug          TEXT    PRIMARY KEY,
    title         TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    published_on  TEXT    NOT NULL,              -- YYYY-MM-DD
    updated_on    TEXT,
    tags          TEXT    NOT NULL CHECK (json_valid(tags)),
    body_html     TEXT    NOT NULL,
    body_text     TEXT    NOT NULL,
    published     INTEGER NOT NULL CHECK (published IN (0, 1)),
    document      TEXT    NOT NULL,
    source        TEXT    NOT NULL CHECK (source IN ('file', 'admin')),
    file_hash     TEXT,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS content_posts_date ON content_posts (published, published_on);
CREATE TABLE IF NOT EXISTS content_courses (
    slug          TEXT    PRIMARY KEY,
    title         TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    level         TEXT    NOT NULL CHECK (level IN ('beginner', 'intermediate', 'advanced')),
    instructor    TEXT    NOT NULL,
    product       TEXT,                          -- the one-time product of a paid course; NULL = free
    capacity      INTEGER NOT NULL CHECK (capacity > 0),
    starts_on     TEXT    NOT NULL,
    ends_on       TEXT    NOT NULL,
    schedule      TEXT    NOT NULL,
    workload      TEXT    NOT NULL,
    calendly_url  TEXT,
    resources     TEXT    NOT NULL CHECK (json_valid(resources)),   -- [{file, title}]
    body_html     TEXT    NOT NULL,
    body_text     TEXT    NOT NULL,
    published     INTEGER NOT NULL CHECK (published IN (0, 1)),
    document      TEXT    NOT NULL,
    source        TEXT    NOT NULL CHECK (source IN ('file', 'admin')),
    file_hash     TEXT,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS content_lessons (
    course_slug  TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    minutes      INTEGER NOT NULL,
    body_html    TEXT    NOT NULL,
    body_text    TEXT    NOT NULL,
    PRIMARY KEY (course_slug, slug)
);
-- questions holds the right answers: it is read only by the scoring code, never sent before an attempt.
CREATE TABLE IF NOT EXISTS content_quizzes (
    course_slug  TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    pass_mark    INTEGER NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
    required     INTEGER NOT NULL CHECK (required IN (0, 1)),
    intro_html   TEXT    NOT NULL,
    questions    TEXT    NOT NULL CHECK (json_valid(questions)),
    PRIMARY KEY (course_slug, slug)
);
CREATE TABLE IF NOT EXISTS content_resources (
    course_slug  TEXT    NOT NULL,
    file         TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    media_type   TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    PRIMARY KEY (course_slug, file)
);
-- One counter: every content change bumps it, and cached pages are keyed by it, so a change is
-- never served stale from KV (whose own deletes take up to a minute to reach every location).
CREATE TABLE IF NOT EXISTS content_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT OR IGNORE INTO content_meta (id, generation) VALUES (1, 1);

-- Seats: a row holds one. 'reserved' holds a seat while a paid checkout is open (for
-- shared::content::enroll::HOLD_MS); 'waitlisted' is a payment that found the course full.
CREATE TABLE IF NOT EXISTS enrollments (
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_slug  TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('active', 'reserved', 'waitlisted')),
    order_id     TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    checkout_url TEXT,                                 -- a live hold's Stripe Checkout, answered again on a repeat
    PRIMARY KEY (user_id, course_slug)
);
CREATE INDEX IF NOT EXISTS enrollments_course ON enrollments (course_slug, status, created_at);

-- Live sessions booked through Calendly, linked to the user (by email) and the course (utm_campaign).
CREATE TABLE IF NOT EXISTS bookings (
    invitee_uri     TEXT    PRIMARY KEY,
    event_uri       TEXT,
    user_id         TEXT    REFERENCES users (id) ON DELETE SET NULL,
    course_slug     TEXT,
    email           TEXT    NOT NULL,
    name            TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('active', 'canceled')),
    start_time      TEXT,
    cancel_url      TEXT,
    reschedule_url  TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_user ON bookings (user_id, course_slug);

CREATE TABLE IF NOT EXISTS quiz_attempts (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_slug  TEXT    NOT NULL,
    quiz_slug    TEXT    NOT NULL,
    correct      INTEGER NOT NULL,
    total        INTEGER NOT NULL,
    percent      INTEGER NOT NULL,
    passed       INTEGER NOT NULL CHECK (passed IN (0, 1)),
    created_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS quiz_attempts_user ON quiz_attempts (user_id, course_slug, quiz_slug);
CREATE TABLE IF NOT EXISTS quiz_answers (
    attempt_id   TEXT    NOT NULL REFERENCES quiz_attempts (id) ON DELETE CASCADE,
    question_id  TEXT    NOT NULL,
    chosen       TEXT    NOT NULL CHECK (json_valid(chosen)),   -- choice indexes
    correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
    PRIMARY KEY (attempt_id, question_id)
);

-- Lessons completed: one row per lesson, so completing it again never counts twice.
CREATE TABLE IF NOT EXISTS user_progress (
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_slug   TEXT    NOT NULL,
    lesson_slug   TEXT    NOT NULL,
    completed_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, course_slug, lesson_slug)
);

-- ---------------------------------------------------------------------------------------------------
-- First-party analytics. Browser events arrive in batches (POST /api/events); nothing is stored for
-- DNT or GPC, and no IP: `visitor` is a hash of (IP, user agent) with a salt that changes every UTC
-- day and is deleted once the day is over. Raw events are kept EVENTS_RETENTION_DAYS; rollups forever.
CREATE TABLE IF NOT EXISTS analytics_events (
    id          INTEGER PRIMARY KEY,
    event_type  TEXT    NOT NULL,
    properties  TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(properties) AND json_type(properties) = 'object'),
    page        TEXT,                                   -- a site path, never its query
    referrer    TEXT,                                   -- an origin only
    session_id  TEXT    NOT NULL,
    visitor     TEXT    NOT NULL,
    user_id     TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS analytics_events_time ON analytics_events (created_at);
CREATE INDEX IF NOT EXISTS analytics_events_type_time ON analytics_events (event_type, created_at);
-- The funnel rollup's step events: a page view of one page (or pages under a prefix) since a time.
CREATE INDEX IF NOT EXISTS analytics_events_type_page_time ON analytics_events (event_type, page, created_at);
CREATE TABLE IF NOT EXISTS analytics_salts (
    day   TEXT PRIMARY KEY,                             -- YYYY-MM-DD (UTC)
    salt  TEXT NOT NULL
);
-- Every event the reports count: the browser's, and the server's shared logger (whose page views the
-- browser reports instead, so they are not counted twice).
CREATE VIEW IF NOT EXISTS analytics_all AS
    SELECT event_type, user_id, session_id, visitor, page, created_at FROM analytics_events
    UNION ALL
    SELECT event_type, user_id, NULL, NULL, NULL, created_at FROM user_events WHERE event_type <> 'page.view';
-- Per UTC day and scope ('*' the platform, else an organisation id); event_type '*' is the whole day.
CREATE TABLE IF NOT EXISTS analytics_daily (
    day              TEXT    NOT NULL,
    scope            TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    events           INTEGER NOT NULL,
    users            INTEGER NOT NULL,                  -- distinct signed-in users that day
    visitors         INTEGER NOT NULL,
    sessions         INTEGER NOT NULL,
    session_seconds  INTEGER NOT NULL,                  -- total session duration ('*' rows)
    PRIMARY KEY (scope, day, event_type)
);
CREATE TABLE IF NOT EXISTS analytics_daily_pages (
    day       TEXT    NOT NULL,
    scope     TEXT    NOT NULL,
    page      TEXT    NOT NULL,
    views     INTEGER NOT NULL,
    visitors  INTEGER NOT NULL,
    PRIMARY KEY (scope, day, page)
);
CREATE TABLE IF NOT EXISTS analytics_daily_ai (
    day            TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    provider       TEXT    NOT NULL,
    questions      INTEGER NOT NULL,
    users          INTEGER NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    latency_ms     INTEGER NOT NULL,                    -- total; reports divide by questions
    PRIMARY KEY (scope, day, provider)
);
CREATE TABLE IF NOT EXISTS analytics_rollup_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    rolled_through  INTEGER NOT NULL                    -- the start of the last day rolled up whole
);
-- Funnels, rolled up: per funnel (its id and a hash of its definition), UTC day and person ('u:' a
-- signed-in user, 's:' a browser session), the most steps reached in order within the funnel's window
-- by a journey that started that day; org_id is the user's organisation when rolled up. Kept forever.
CREATE TABLE IF NOT EXISTS analytics_funnel_daily (
    funnel  TEXT    NOT NULL,
    day     TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    org_id  TEXT,
    depth   INTEGER NOT NULL CHECK (depth >= 1),
    PRIMARY KEY (funnel, day, actor)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS analytics_funnel_daily_org ON analytics_funnel_daily (funnel, org_id, day);
CREATE TABLE IF NOT EXISTS analytics_funnel_state (
    funnel          TEXT    PRIMARY KEY,
    rolled_through  INTEGER NOT NULL                    -- events before this time are rolled up
);

-- @database fhir-iq-kb
-- ===================================================================================================
-- ---------------------------------------------------------------------------------------------------
-- Knowledge base (shared::knowledge)
-- ---------------------------------------------------------------------------------------------------

-- Passages of the FHIR R4 specification, guide passages summarizing its RESTful API and search pages
-- (migration 0002), and the platform's own content, one row per chunk.
-- content_hash lets the indexer skip chunks that have not changed.
CREATE TABLE IF NOT EXISTS kb_chunks (
    id            TEXT PRIMARY KEY,            -- resource:Patient, element:Patient.birthDate, search:Patient:birthdate, guide:transaction
    kind          TEXT NOT NULL CHECK (kind IN ('resource', 'element', 'search_param', 'content', 'guide')),
    resource      TEXT,                        -- the FHIR resource type, NULL for non-spec content
    element       TEXT,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    terms         TEXT NOT NULL,
    url           TEXT NOT NULL,               -- into the R4 specification on hl7.org
    content_hash  TEXT NOT NULL,
    maturity      INTEGER NOT NULL DEFAULT 0,  -- FHIR Maturity Model level of the resource: a ranking prior
    position      INTEGER NOT NULL DEFAULT 0   -- order in the definitions (elements as the specification lists them)
);
CREATE INDEX IF NOT EXISTS kb_chunks_resource ON kb_chunks (resource);

-- BM25 over the chunks. Column order matters: the bm25() weights in shared::knowledge::search follow it.
CREATE VIRTUAL TABLE IF NOT EXISTS kb_fts USING fts5(
    id UNINDEXED, title, resource, terms, body,
    tokenize = 'porter unicode61'
);


-- The development vector store (production uses Vectorize): one row per embedded chunk or content
-- item, the vector as hex of little-endian f32. kb_vector_index records what produced the vectors;
-- vectors or queries from anything else are refused.
CREATE TABLE IF NOT EXISTS kb_vector_index (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    provider    TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    dimensions  INTEGER NOT NULL CHECK (dimensions BETWEEN 1 AND 4096)
);
CREATE TABLE IF NOT EXISTS kb_vectors (
    id      TEXT PRIMARY KEY,
    vector  TEXT NOT NULL
);
