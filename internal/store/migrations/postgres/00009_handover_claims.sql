-- +goose Up
-- A node that stops gracefully says so (leaving) while it hands its leases
-- over: the others neither count it in their fair shares nor hand it any.
-- A notification's claim names its node (claimed_by): the claim holds
-- while that node's heartbeat does (and at most until claim_until_ms), so
-- a dead node's claims move on the lease schedule; a claim found on a row
-- taken again tells that a node did not finish with it (a late resend).
ALTER TABLE nodes ADD COLUMN leaving BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE alert_log ADD COLUMN claimed_by TEXT;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN claimed_by;
ALTER TABLE nodes DROP COLUMN leaving;
