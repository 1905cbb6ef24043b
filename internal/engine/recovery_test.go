package engine

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/store/sqlite"
	"github.com/mailmon/mailmon/internal/testutil/fakessh"
	"github.com/mailmon/mailmon/internal/vault"
)

// TestRecoverOverSSH: a credential stored with its password sealed is
// loaded with the monitor, the recovery runs on the server, and the log
// has the status and output but never the password.
func TestRecoverOverSSH(t *testing.T) {
	ctx := t.Context()
	f := fakessh.Start(t, &fakessh.Server{Password: "pw-in-vault", Status: 1, Stdout: "postfix failed to start"})
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mailmon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	v, _ := vault.New([]byte("engine-test-key-0123456789"))
	spec, _ := json.Marshal(config.Credential{Name: "ops", User: "ops", KnownHost: fakessh.KnownHost(f.HostKey)})
	c := &store.Credential{Name: "ops", Spec: spec}
	must(t, st.PutCredential(ctx, c))
	sealed, err := v.Seal([]byte("pw-in-vault"), vault.CredentialRecord(c.ID, "password"))
	must(t, err)
	c.Secrets = map[string]string{"password": sealed}
	must(t, st.PutCredential(ctx, c))

	var logs bytes.Buffer
	e := New(Options{Store: st, Vault: v, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	en := &entry{m: monitorRef{ID: 7, Name: "SMTP"}, cfg: &probe.Config{}, x: &rare{recovery: []config.Recovery{
		{Command: []string{"systemctl", "restart", "postfix"}, SSH: "ops@" + f.Addr, Credential: "ops", Timeout: config.Duration(5 * time.Second)},
		{Command: []string{"x"}, SSH: f.Addr, Credential: "missing"},
	}}}
	must(t, e.loadCredentials(ctx, en.m.ID, en.x))
	if en.x.creds["ops"] == nil || en.x.credErrs["missing"] == nil {
		t.Fatalf("loaded %v, errors %v", en.x.creds, en.x.credErrs)
	}
	e.recover(ctx, en)
	if got := <-f.Execs; got != `'systemctl' 'restart' 'postfix'` {
		t.Errorf("command = %s", got)
	}
	fakessh.NoExec(t, f)
	out := logs.String()
	for _, want := range []string{"recovery action failed", "exit=1", `output="postfix failed to start"`, "(ops)", "status=not_run", `no credential is named \"missing\"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pw-in-vault") {
		t.Errorf("the log shows the password:\n%s", out)
	}
	runs, err := st.Recoveries(ctx, 7, 10)
	if err != nil || len(runs) != 2 || runs[0].Status != "not_run" || runs[1].Status != "failed" || runs[1].ExitCode != 1 ||
		runs[1].Output != "postfix failed to start" || !strings.HasPrefix(runs[1].Action, "ssh ops@") {
		t.Errorf("recovery log: %+v %v", runs, err)
	}
}
