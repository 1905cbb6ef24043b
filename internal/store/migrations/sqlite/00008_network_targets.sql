-- +goose Up
-- Whether a target was last set over the network (the JSON API or the web
-- UI) rather than by the operator on the host (mailmon apply -f): a device's
-- address, a monitor's own target (type, port, TLS, SMTP leg), an e-mail
-- alert's relay. Tests of such targets are held to serve --allow-targets.
-- Rows from before this version are the operator's: nothing told the two
-- apart then, and a token was as powerful as the operator.
ALTER TABLE devices ADD COLUMN network_target INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitors ADD COLUMN network_target INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN network_target INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE alerts DROP COLUMN network_target;
ALTER TABLE monitors DROP COLUMN network_target;
ALTER TABLE devices DROP COLUMN network_target;
