package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/store"
)

// TestCredentialChangeReachesRunningMonitors: a credential changed over
// the API is the one the monitors already loaded use next: a new password
// is what their recovery offers, and a renamed or deleted credential is
// missing there (the recovery is not run, nothing is offered), without the
// monitors being saved again.
func TestCredentialChangeReachesRunningMonitors(t *testing.T) {
	f := newFixture(t)
	ssh := catchSSH(t)
	devID, _ := f.id(t, "POST", "/api/v1/devices", map[string]any{"name": "d", "address": "127.0.0.1"}, http.StatusCreated)
	credID, _ := f.id(t, "POST", "/api/v1/credentials", map[string]any{"name": "ops", "user": "root", "known_host": ssh.hostKey,
		"password": "old-pw"}, http.StatusCreated)
	cpath := "/api/v1/credentials/" + strconv.FormatInt(credID, 10)
	load := func(name, cred string) *store.Monitor { return f.sshRecoveryMonitor(t, devID, name, ssh.addr, cred) }
	recovery := func(m *store.Monitor) store.RecoveryRun { return f.failForRecovery(t, m) }
	put := func(name, pw string) {
		t.Helper()
		f.id(t, "PUT", cpath, map[string]any{"name": name, "user": "root", "known_host": ssh.hostKey, "password": pw}, http.StatusOK)
	}

	m1, m2 := load("m1", "ops"), load("m2", "ops")
	put("ops", "new-pw")
	recovery(m1)
	if got := ssh.passwords(); !slices.Equal(got, []string{"new-pw"}) {
		t.Errorf("after a new password, the recovery offered %q", got)
	}
	put("ops-renamed", "new-pw")
	if run := recovery(m2); run.Status != "not_run" || !strings.Contains(run.Output, `no credential is named "ops"`) {
		t.Errorf("after a rename: %+v", run)
	}
	m3 := load("m3", "ops-renamed")
	if code, _ := f.do(t, "DELETE", cpath, nil, f.token); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if run := recovery(m3); run.Status != "not_run" {
		t.Errorf("after a deletion: %+v", run)
	}
	if got := ssh.passwords(); len(got) != 1 {
		t.Errorf("passwords offered: %q, want only the first recovery's", got)
	}
}

// sshRecoveryMonitor makes a failing monitor on device dev whose recovery
// logs in to addr with cred (as the operator's apply would store it), and
// has the engine load it now.
func (f *fixture) sshRecoveryMonitor(t *testing.T, dev int64, name, addr, cred string) *store.Monitor {
	t.Helper()
	ctx := context.Background()
	spec, _ := json.Marshal(config.Monitor{Type: "tcp", Port: freeClosedPort(t), Notify: config.Notify{FailuresPerAlert: 1},
		Recovery: []config.Recovery{{Command: []string{"true"}, SSH: "root@" + addr, Credential: cred}}})
	m := &store.Monitor{DeviceID: dev, Name: name, Type: "tcp", Enabled: true, Spec: spec}
	must(t, f.api.Store.PutMonitor(ctx, m))
	must(t, f.api.Engine.Reload(ctx, m.ID))
	return m
}

// failForRecovery tests m (it fails and goes Down) and returns the record
// of the recovery that runs then.
func (f *fixture) failForRecovery(t *testing.T, m *store.Monitor) store.RecoveryRun {
	t.Helper()
	ctx := context.Background()
	if _, err := f.api.Engine.TestNow(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs, err := f.api.Store.Recoveries(ctx, m.ID, 1)
		must(t, err)
		if len(rs) > 0 {
			return rs[0]
		}
		if time.Now().After(deadline) {
			t.Fatal("the recovery did not run")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
