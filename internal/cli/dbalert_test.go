package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/alert"
)

// TestDBAlertFlags: the local alert's actions come from serve's flags (or
// the webhook from the environment); a bad one is named with its fix.
func TestDBAlertFlags(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == dbAlertEnv {
				return v
			}
			return ""
		}
	}
	ok := func(o dbAlertOptions) dbAlertOptions {
		o.after, o.every = 15*time.Second, 15*time.Minute
		if o.format == "" {
			o.format = "generic"
		}
		return o
	}
	cases := []struct {
		o       dbAlertOptions
		env     string
		actions int
		err     string
	}{
		{o: ok(dbAlertOptions{})},
		{o: ok(dbAlertOptions{webhook: "https://hooks.example.com/x", command: "/usr/local/bin/page"}), actions: 2},
		{o: ok(dbAlertOptions{}), env: "https://hooks.example.com/from-env", actions: 1},
		{o: ok(dbAlertOptions{webhook: "hooks.example.com/x"}), err: "--db-alert-webhook (or $MAILMON_DB_ALERT_WEBHOOK) is not an http(s) URL"},
		{o: ok(dbAlertOptions{webhook: "https://h.example.com/", format: "irc"}), err: `--db-alert-format: "irc" is not generic, slack or teams`},
		{o: ok(dbAlertOptions{command: "page"}), err: `--db-alert-command: "page" is not an absolute path`},
		{o: dbAlertOptions{format: "generic", after: time.Second}, err: "--db-alert-every"},
	}
	for _, c := range cases {
		ns, err := c.o.notifiers(env(c.env))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: %v, want %q", c.o, err, c.err)
			}
			continue
		}
		if err != nil || len(ns) != c.actions {
			t.Errorf("%+v: %d actions, %v; want %d", c.o, len(ns), err, c.actions)
		}
		if c.env != "" && ns[0].(*alert.Webhook).URL != c.env {
			t.Errorf("the webhook from the environment: %+v", ns[0])
		}
	}
}
