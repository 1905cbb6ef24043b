package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailmon/mailmon/internal/catalog"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/state"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// BenchmarkBoard renders the status board's first page with 20, 50,
// 20,000 and 100,000 monitors (each tested once): the store pages and
// filters, so the cost should not grow with the number of monitors (run:
// go test -run '^$' -bench . ./internal/web/; figures in bench/results/).
func BenchmarkBoard(b *testing.B) { benchPage(b, "/", 20, 50, 20000, 100000) }

// BenchmarkReports renders the reports' first page (50 monitors, 10
// devices) likewise.
func BenchmarkReports(b *testing.B) { benchPage(b, "/reports", 20, 50, 20000) }

func benchPage(b *testing.B, path string, sizes ...int) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("monitors=%d", n), func(b *testing.B) {
			h, cookie := benchServer(b, n)
			req := httptest.NewRequest("GET", path, nil)
			req.AddCookie(cookie)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%s: %d", path, rec.Code)
				}
			}
		})
	}
}

// benchServer is the UI over n monitors, 100 to a device, each tested
// once and rolled up, and a session cookie.
func benchServer(b *testing.B, n int) (http.Handler, *http.Cookie) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	const perDevice = 100
	now := time.Now()
	// In one transaction: 100,000 monitors in seconds, not minutes.
	err = store.Batch(ctx, st, func(c store.Config) error {
		tx := c.(store.Store)
		var dev int64
		for i := 0; i < n; i++ {
			if i%perDevice == 0 {
				d := &store.Device{Name: fmt.Sprintf("mail%d", i/perDevice), Address: "127.0.0.1"}
				if err := tx.PutDevice(ctx, d); err != nil {
					return err
				}
				dev = d.ID
			}
			m := &store.Monitor{DeviceID: dev, Name: fmt.Sprintf("smtp %d", i), Type: "smtp", Enabled: true, Spec: []byte(`{"port":25}`)}
			if err := tx.PutMonitor(ctx, m); err != nil {
				return err
			}
			res := &probe.Result{Type: "smtp", Status: probe.StatusUp, Started: now, RTT: 3 * time.Millisecond}
			if err := tx.RecordTest(ctx, store.Test{Result: store.Result{MonitorID: m.ID, Time: now, Status: probe.StatusUp, RTT: res.RTT},
				Status:   store.Status{MonitorID: m.ID, Status: state.Status{State: state.Up, Since: now}, LastResult: res, LastTest: now},
				Interval: time.Minute}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.RollUp(ctx, store.Hour, now.Add(-2*time.Hour), now.Add(time.Hour)); err != nil {
		b.Fatal(err)
	}
	w := &Server{Store: st, Catalog: &catalog.Catalog{Store: st}, BcryptCost: bcrypt.MinCost}
	u, err := AddUser(ctx, &catalog.Catalog{Store: st}, catalog.Operator, "admin", testPassword, catalog.Admin, bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	id := randomToken()
	if err := st.PutSession(ctx, &store.Session{Hash: hashID(id), UserID: u.ID, CSRF: "x", Created: now, Seen: now}); err != nil {
		b.Fatal(err)
	}
	return w.Handler(), &http.Cookie{Name: sessionCookie, Value: id}
}
