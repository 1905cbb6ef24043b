-- +goose Up
-- A monitor's last 40 results, oldest first, in fixed-size entries
-- (sqlstore/recent.go), written with its status: the board's bars in the
-- statuses' query. NULL until filled from the results (on open).
ALTER TABLE monitor_status ADD COLUMN recent bytea;

-- The board's counts by shown state (monitors.shown_rank, 0..6), kept by
-- triggers, so that the counts of all monitors are not a count of them
-- all at each page. A rank changes only when a state does; the two rows
-- of a change are updated in key order (no deadlock between two changes
-- in opposite directions).
CREATE TABLE board_counts (
    shown_rank INTEGER PRIMARY KEY,
    n          BIGINT NOT NULL
);
INSERT INTO board_counts(shown_rank, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0);
UPDATE board_counts SET n = (SELECT count(*) FROM monitors m WHERE m.shown_rank = board_counts.shown_rank);

-- +goose StatementBegin
CREATE FUNCTION board_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE board_counts SET n = n + 1 WHERE shown_rank = NEW.shown_rank;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE board_counts SET n = n - 1 WHERE shown_rank = OLD.shown_rank;
    ELSIF OLD.shown_rank <> NEW.shown_rank THEN
        -- The lower rank's row first, then the higher's: two changes in
        -- opposite directions lock them in the same order.
        UPDATE board_counts SET n = n + CASE WHEN shown_rank = NEW.shown_rank THEN 1 ELSE -1 END
            WHERE shown_rank = least(OLD.shown_rank, NEW.shown_rank);
        UPDATE board_counts SET n = n + CASE WHEN shown_rank = NEW.shown_rank THEN 1 ELSE -1 END
            WHERE shown_rank = greatest(OLD.shown_rank, NEW.shown_rank);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER board_counts_keep AFTER INSERT OR DELETE OR UPDATE OF shown_rank ON monitors
    FOR EACH ROW EXECUTE FUNCTION board_counts_keep();

-- +goose Down
DROP TRIGGER board_counts_keep ON monitors;
DROP FUNCTION board_counts_keep();
DROP TABLE board_counts;
ALTER TABLE monitor_status DROP COLUMN recent;
