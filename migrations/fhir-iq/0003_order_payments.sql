-- Migration 0003: an order records what was paid. The payment webhook fills these from the
-- Checkout Session (amount_total in the currency's minor unit, currency in lower case as Stripe
-- sends it, and the PaymentIntent id), so a purchase can be traced to Stripe and refunded.
ALTER TABLE orders ADD COLUMN amount INTEGER CHECK (amount IS NULL OR amount >= 0);
ALTER TABLE orders ADD COLUMN currency TEXT CHECK (currency IS NULL OR length(currency) = 3);
ALTER TABLE orders ADD COLUMN stripe_payment_intent TEXT;
CREATE INDEX IF NOT EXISTS orders_payment_intent ON orders (stripe_payment_intent);
UPDATE schema_version SET version = 3, applied_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = 1;
