-- +goose Up
-- A monitor's last 40 results, oldest first, in fixed-size entries
-- (sqlstore/recent.go), written with its status: the board's bars in the
-- statuses' query. NULL until filled from the results (on open).
ALTER TABLE monitor_status ADD COLUMN recent BLOB;

-- The board's counts by shown state (monitors.shown_rank, 0..6), kept by
-- triggers, so that the counts of all monitors are not a count of them
-- all at each page. A rank changes only when a state does.
CREATE TABLE board_counts (
    shown_rank INTEGER PRIMARY KEY,
    n          INTEGER NOT NULL
);
INSERT INTO board_counts(shown_rank, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0);
UPDATE board_counts SET n = (SELECT count(*) FROM monitors m WHERE m.shown_rank = board_counts.shown_rank);

-- +goose StatementBegin
CREATE TRIGGER board_counts_insert AFTER INSERT ON monitors BEGIN
    UPDATE board_counts SET n = n + 1 WHERE shown_rank = NEW.shown_rank;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER board_counts_delete AFTER DELETE ON monitors BEGIN
    UPDATE board_counts SET n = n - 1 WHERE shown_rank = OLD.shown_rank;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER board_counts_update AFTER UPDATE OF shown_rank ON monitors WHEN OLD.shown_rank <> NEW.shown_rank BEGIN
    UPDATE board_counts SET n = n + CASE WHEN shown_rank = NEW.shown_rank THEN 1 ELSE -1 END
        WHERE shown_rank IN (OLD.shown_rank, NEW.shown_rank);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER board_counts_update;
DROP TRIGGER board_counts_delete;
DROP TRIGGER board_counts_insert;
DROP TABLE board_counts;
ALTER TABLE monitor_status DROP COLUMN recent;
