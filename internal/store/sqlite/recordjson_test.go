package sqlite

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/storetest"
)

// TestRecordedJSON: a failed test's status, last result and result detail
// are stored as json.Marshal writes them, as TEXT (json_extract reads
// them), whether the detail is the status' last result (the engine's
// test: encoded once) or another (a K-of-N test that only adds its
// result keeps the stored last result).
func TestRecordedJSON(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t)
	id := monitors(t, s, 1)[0]
	at := time.Date(2026, 12, 6, 21, 30, 0, 0, time.UTC)
	failed := func(i int) *probe.Result {
		r := storetest.SampleResult("starttls", at.Add(time.Duration(i)*time.Minute), i)
		odd := "554 <mx> \"no\" & go\x01 away \xff é\u2028"
		r.Status, r.Transcript = probe.StatusDown, append(r.Transcript, odd)
		r.Error = &probe.Error{Code: probe.ServiceError, Message: odd, Detail: odd, Phase: "greeting", Reply: odd}
		return r
	}
	first, other := failed(1), failed(2)
	for i, c := range []struct{ last, detail *probe.Result }{{first, first}, {first, other}} {
		res := c.detail
		tt := store.Test{
			Status: store.Status{MonitorID: id, Status: state.Status{State: state.Down, Since: at, Failures: i + 1},
				LastResult: c.last, LastTest: res.Started},
			Result: store.Result{MonitorID: id, Time: res.Started, Status: res.Status, RTT: res.RTT,
				Code: res.Error.Code, Detail: res},
		}
		if err := s.RecordTest(ctx, tt); err != nil {
			t.Fatal(err)
		}
		var status, last, detail, types, phase string
		if err := s.rdb.QueryRowContext(ctx, `SELECT status, last_result, typeof(last_result) || typeof(status),
				json_extract(last_result, '$.error.phase') FROM monitor_status WHERE monitor_id = ?`, id).
			Scan(&status, &last, &types, &phase); err != nil {
			t.Fatal(err)
		}
		var dtype string
		if err := s.rdb.QueryRowContext(ctx, `SELECT detail, typeof(detail) FROM results WHERE monitor_id = ? AND t_ms = ?`,
			id, res.Started.UnixMilli()).Scan(&detail, &dtype); err != nil {
			t.Fatal(err)
		}
		for _, g := range []struct {
			name, got string
			want      any
		}{{"status", status, tt.Status.Status}, {"last_result", last, c.last}, {"detail", detail, c.detail}} {
			if want, _ := json.Marshal(g.want); g.got != string(want) {
				t.Errorf("test %d: %s\n got %s\nwant %s", i, g.name, g.got, want)
			}
		}
		if types+dtype != "texttexttext" || phase != "greeting" {
			t.Errorf("test %d: stored as %s and %s, json_extract %q", i, types, dtype, phase)
		}
	}
}
