package metrics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/engine"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
)

// TestLabelsHideNoCharacters: a monitor and device named before names
// refused control and text-direction characters are labelled with U+FFFD
// in their place.
func TestLabelsHideNoCharacters(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := &store.Device{Name: "mail\u202e1", Address: "127.0.0.1"}
	st.PutDevice(ctx, d)
	st.PutMonitor(ctx, &store.Monitor{DeviceID: d.ID, Name: "SMTP\x1b[2J\u0085", Type: "smtp", Enabled: false, Spec: []byte(`{}`)})
	e := engine.New(engine.Options{Store: st})
	if err := e.Load(ctx); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, e)
	if strings.ContainsAny(out, "\x1b\u202e\u0085") {
		t.Errorf("a hidden character in the exposition:\n%q", out)
	}
	if want := `mailmon_monitor_state{device="mail` + "\uFFFD" + `1",monitor="SMTP` + "\uFFFD[2J\uFFFD" + `",state="disabled",type="smtp"} 1`; !strings.Contains(out, want) {
		t.Errorf("no %s in\n%s", want, out)
	}
}
