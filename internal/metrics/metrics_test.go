package metrics

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

func scrape(t *testing.T, e *engine.Engine, o ...Options) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(e, append(o, Options{})[0]).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	target := hostile.Start(t, func(c *hostile.Conn) {
		c.Send("220 evil\"} injected{x=\"1 ESMTP\r\n")
		for l := c.ReadLine(); l != ""; l = c.ReadLine() {
			if strings.HasPrefix(l, "QUIT") {
				c.Send("221 bye\r\n")
				return
			}
			c.Send("250 ok\r\n")
		}
	})
	d := &store.Device{Name: "mail1", Address: "127.0.0.1"}
	st.PutDevice(ctx, d)
	spec, _ := json.Marshal(config.Monitor{Port: target.Port, Timing: config.Timing{MaxDuration: config.Duration(2 * time.Second), UpEvery: config.Duration(time.Hour)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "SMTP", Type: "smtp", Enabled: true, Spec: spec}
	st.PutMonitor(ctx, m)
	e := engine.New(engine.Options{Store: st})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.TestNow(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, e)
	for _, want := range []string{
		`mailmon_monitor_state{device="mail1",monitor="SMTP",state="up",type="smtp"} 1`,
		`mailmon_monitor_state{device="mail1",monitor="SMTP",state="down",type="smtp"} 0`,
		`mailmon_monitor_up{device="mail1",monitor="SMTP",type="smtp"} 1`,
		`mailmon_monitor_tests_total{code="",device="mail1",monitor="SMTP",result="up",type="smtp"} 1`,
		`mailmon_monitor_phase_seconds{device="mail1",monitor="SMTP",phase="greeting",type="smtp"}`,
		`mailmon_monitor_rtt_seconds{device="mail1",monitor="SMTP",type="smtp"}`,
		`mailmon_scheduler_lag_seconds{quantile="0.99"}`,
		`mailmon_tests_in_flight 0`,
		`mailmon_store_operation_seconds_count{op="record_test"} 1`,
		`mailmon_store_operation_seconds_bucket{op="record_test",le="+Inf"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	if strings.Contains(out, "evil") || strings.Contains(out, "injected") {
		t.Error("server text became part of the exposition")
	}
	// A node with a location labels every mailmon_ series with it.
	loc := scrape(t, e, Options{Location: "eu-west"})
	for _, want := range []string{
		`mailmon_monitor_up{device="mail1",location="eu-west",monitor="SMTP",type="smtp"} 1`,
		`mailmon_tests_in_flight{location="eu-west"} 0`,
	} {
		if !strings.Contains(loc, want) {
			t.Errorf("no %s in\n%s", want, loc)
		}
	}
	// A deleted monitor's series disappear at once.
	st.DeleteMonitor(ctx, m.ID)
	e.Reload(ctx, m.ID)
	if out := scrape(t, e); strings.Contains(out, `monitor="SMTP"`) {
		t.Errorf("a deleted monitor is still exposed:\n%s", out)
	}
}
