-- +goose Up
-- The monitors' state is looked up by index for one query only: the
-- notifications still firing (sqlstore.FiringQuery: st.state IN ('down',
-- 'lost', 'warn'), the same terms in the same order, which SQLite needs
-- to use a partial index). An index of those states alone is not written
-- when a monitor goes pending → up (every monitor's first result) nor
-- between up, pending, disabled and maintenance.
DROP INDEX monitor_status_state;
CREATE INDEX monitor_status_firing ON monitor_status(state) WHERE state IN ('down', 'lost', 'warn');

-- +goose Down
DROP INDEX monitor_status_firing;
CREATE INDEX monitor_status_state ON monitor_status(state);
