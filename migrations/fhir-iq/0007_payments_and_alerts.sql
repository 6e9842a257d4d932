-- Migration 0007 (issue 19): purchases can be traced, refunded and disputed, and every subscription
-- payment is on record. The Stripe webhook fills all of it (shared::billing::payments).

-- A one-time order's receipt (the Charge's receipt_url), what has been refunded of it (in the
-- currency's minor unit; equal to `amount` once fully refunded, when `status` is 'refunded'), and a
-- dispute, if the buyer's bank opened one (Stripe's du_ id, reason and status).
ALTER TABLE orders ADD COLUMN receipt_url TEXT;
ALTER TABLE orders ADD COLUMN refunded_amount INTEGER NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0);
ALTER TABLE orders ADD COLUMN refunded_at INTEGER;
ALTER TABLE orders ADD COLUMN dispute_id TEXT;
ALTER TABLE orders ADD COLUMN dispute_reason TEXT;
ALTER TABLE orders ADD COLUMN disputed_at INTEGER;

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

UPDATE schema_version SET version = 7, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
