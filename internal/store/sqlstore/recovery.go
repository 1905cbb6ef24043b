package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/wire"
)

func (s *Store) RecordRecovery(ctx context.Context, r store.RecoveryRun) error {
	_, err := s.w.Exec(ctx, `INSERT INTO recovery_log(monitor_id, t_ms, action, status, exit_code, output, duration_ms) VALUES(?,?,?,?,?,?,?)`,
		r.MonitorID, ms(r.Time), r.Action, r.Status, r.ExitCode, cleanOutput(r.Output), r.Duration.Milliseconds())
	return err
}

// cleanOutput keeps a program's output readable and bounded: valid UTF-8,
// no control characters but line breaks and tabs (PostgreSQL refuses NUL
// in text anyway), 4 KiB at most.
func cleanOutput(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = wire.Sanitize(l)
	}
	return wire.Truncate(strings.Join(lines, "\n"), 4096)
}

func (s *Store) Recoveries(ctx context.Context, monitorID int64, limit int) ([]store.RecoveryRun, error) {
	if limit <= 0 {
		limit = 100
	}
	return List(ctx, s.r, func(rows Row) (store.RecoveryRun, error) {
		r := store.RecoveryRun{MonitorID: monitorID}
		var t, d int64
		if err := rows.Scan(&t, &r.Action, &r.Status, &r.ExitCode, &r.Output, &d); err != nil {
			return r, err
		}
		r.Time, r.Duration = fromMS(t), time.Duration(d)*time.Millisecond
		return r, nil
	}, `SELECT t_ms, action, status, exit_code, output, duration_ms FROM recovery_log WHERE monitor_id=? ORDER BY id DESC LIMIT ?`, monitorID, limit)
}
