-- +goose Up
-- When a node began to send a notification (begun_ms, set before the send,
-- never cleared): a notification claimed again is a late resend only if a
-- send of it may have begun, not when its claim lapsed unsent (held for
-- its action's hours, a node killed before it sent). A pending row claimed
-- by an older version may have been in flight: it counts as begun (its
-- claim's end stands for the time).
ALTER TABLE alert_log ADD COLUMN begun_ms BIGINT;
UPDATE alert_log SET begun_ms = claim_until_ms WHERE status = 'pending' AND claim_until_ms IS NOT NULL;

-- +goose Down
ALTER TABLE alert_log DROP COLUMN begun_ms;
