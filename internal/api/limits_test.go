package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailmon/mailmon/internal/config"
	"github.com/mailmon/mailmon/internal/discover"
	"github.com/mailmon/mailmon/internal/egress"
	"github.com/mailmon/mailmon/internal/store"
	"github.com/mailmon/mailmon/internal/testutil/fakedns"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
)

// counted is a server on 127.0.0.1 that greets with banner and counts the
// connections it got.
func counted(t *testing.T, banner string) (port int, conns *atomic.Int64) {
	conns = new(atomic.Int64)
	srv := hostile.Start(t, func(c *hostile.Conn) {
		conns.Add(1)
		c.Send(banner + "\r\n")
	})
	return srv.Port, conns
}

// fieldsOf reads the field errors of a 400.
func fieldsOf(body map[string]any) map[string]string {
	out := map[string]string{}
	if fs, ok := body["fields"].(map[string]any); ok {
		for k, v := range fs {
			out[k], _ = v.(string)
		}
	}
	return out
}

func mustParse(t *testing.T, items ...string) *egress.Policy {
	t.Helper()
	p, err := egress.Parse(items)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestProbeEgress: /probe to loopback and link-local is refused by
// default, naming the target and the flag, and nothing is dialled; with
// --allow-targets 127.0.0.1/32 it is tested.
func TestProbeEgress(t *testing.T) {
	port, conns := counted(t, "220 banner ESMTP")
	def := newPolicyFixture(t, nil, nil)
	for _, target := range []string{"127.0.0.1:" + strconv.Itoa(port), "[::1]:" + strconv.Itoa(port), "169.254.169.254:80", "0.0.0.0:" + strconv.Itoa(port)} {
		code, body := def.probeGet(t, "type=tcp&expect=ESMTP&target="+url.QueryEscape(target), "")
		var out map[string]any
		json.Unmarshal([]byte(body), &out)
		if msg := fieldsOf(out)["target"]; code != http.StatusBadRequest || !strings.Contains(msg, egress.Flag) {
			t.Errorf("%s by default: %d %s, want 400 naming target and %s", target, code, body, egress.Flag)
		}
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("refused probes made %d connections", n)
	}
	allowed := newPolicyFixture(t, mustParse(t, "127.0.0.1/32"), nil)
	code, body := allowed.probeGet(t, "type=tcp&expect=ESMTP&target=127.0.0.1:"+strconv.Itoa(port), "")
	if s := series(t, body); code != http.StatusOK || s["probe_success"] != 1 {
		t.Errorf("with --allow-targets 127.0.0.1/32: %d\n%s", code, body)
	}
	// Listed means only what is listed: ::1 is not.
	code, _ = allowed.probeGet(t, "type=tcp&target="+url.QueryEscape("[::1]:"+strconv.Itoa(port)), "")
	if code != http.StatusBadRequest {
		t.Errorf("[::1] with only 127.0.0.1/32 listed: %d, want 400", code)
	}
}

// TestAPITargetsEgress: devices, monitors and e-mail relays saved over the
// API are refused loopback and link-local targets by default, each naming
// its field and the flag; a monitor the operator applied on loopback may
// still be renamed or retimed, but not pointed at another port.
func TestAPITargetsEgress(t *testing.T) {
	ctx := context.Background()
	f := newPolicyFixture(t, nil, nil)
	refused := func(what string, code int, body map[string]any, field string) {
		t.Helper()
		if msg := fieldsOf(body)[field]; code != http.StatusBadRequest || !strings.Contains(msg, egress.Flag) {
			t.Errorf("%s: %d %v, want 400 naming %s and %s", what, code, body, field, egress.Flag)
		}
	}
	code, body := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "lo", "address": "127.0.0.1"}, f.token)
	refused("device on loopback", code, body, "address")
	code, body = f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "md", "address": "169.254.169.254"}, f.token)
	refused("device on the metadata service", code, body, "address")
	code, body = f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "mail", "address": "192.0.2.10"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("a public device: %d %v", code, body)
	}
	pub := body["id"]
	code, body = f.do(t, "PUT", fmt.Sprintf("/api/v1/devices/%v", pub), map[string]any{"name": "mail", "address": "::1"}, f.token)
	refused("a device moved to loopback", code, body, "address")
	code, body = f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": pub, "password": "pw",
		"settings": map[string]any{"name": "rt", "type": "pop3-roundtrip", "user": "u@example.test", "from": "u@example.test",
			"to": "u@example.test", "tls": "implicit", "smtp": map[string]any{"host": "127.0.0.1", "port": 25, "tls": "implicit"}}}, f.token)
	refused("a round trip's SMTP leg on loopback", code, body, "smtp.host")
	code, body = f.do(t, "POST", "/api/v1/alerts", map[string]any{"settings": map[string]any{"name": "mail",
		"email": map[string]any{"to": []string{"ops@example.test"}, "relay": map[string]any{"host": "127.0.0.1", "port": 25}}}}, f.token)
	refused("an e-mail relay on loopback", code, body, "email.relay.host")

	// The operator's device and monitor on loopback (as apply stores them).
	port, conns := counted(t, "220 local ESMTP")
	d := &store.Device{Name: "local", Address: "127.0.0.1"}
	must(t, f.api.Store.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: port, Timing: config.Timing{UpEvery: config.Duration(3600e9)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "local", Type: "tcp", Enabled: true, Spec: spec}
	must(t, f.api.Store.PutMonitor(ctx, m))
	code, body = f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": d.ID,
		"settings": map[string]any{"name": "scan", "type": "tcp", "port": 22}}, f.token)
	refused("a new monitor on the operator's loopback device", code, body, "device")
	upd := func(port int) (int, map[string]any) {
		return f.do(t, "PUT", fmt.Sprintf("/api/v1/monitors/%d", m.ID), map[string]any{"device": d.ID,
			"settings": map[string]any{"name": "local renamed", "type": "tcp", "port": port, "timing": map[string]any{"up_every": "2h"}}}, f.token)
	}
	if code, body := upd(port); code != http.StatusOK {
		t.Errorf("renaming the operator's loopback monitor: %d %v", code, body)
	}
	if got, _ := f.api.Store.Monitor(ctx, m.ID); got.NetworkTarget {
		t.Error("a rename made the operator's target the network's")
	}
	code, body = upd(22)
	refused("the operator's loopback monitor pointed at another port", code, body, "device")
	code, body = f.do(t, "PUT", fmt.Sprintf("/api/v1/devices/%d", d.ID), map[string]any{"name": "local box", "address": "127.0.0.1"}, f.token)
	if code != http.StatusOK {
		t.Errorf("renaming the operator's loopback device: %d %v", code, body)
	}
	// And the operator's monitor is still tested (the engine does not
	// hold it to the policy).
	code, body = f.do(t, "POST", fmt.Sprintf("/api/v1/monitors/%d/test", m.ID), nil, f.token)
	if code != http.StatusOK || body["status"] != "up" || connections(conns, 1) != 1 {
		t.Errorf("testing the operator's loopback monitor: %d %v, %d connections", code, body, conns.Load())
	}
}

// connections waits for the server counted() started to have counted
// want connections (the client's test can end, its connection made,
// before the server's side has run: the kernel completes a connection
// before it is accepted), 10 s at most, and returns the count then.
func connections(conns *atomic.Int64, want int64) int64 {
	for deadline := time.Now().Add(10 * time.Second); conns.Load() < want && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	return conns.Load()
}

// TestDNSRebindingRefusedWhenDialled: a name that resolved to a public
// address when the device was saved and to loopback when tested is refused
// on the address dialled, by the monitor's test and by /probe; the
// loopback server gets no connection.
func TestDNSRebindingRefusedWhenDialled(t *testing.T) {
	port, conns := counted(t, "220 private ESMTP")
	var rebound atomic.Bool
	addr := fakedns.Start(t, func(name string) []dns.RR {
		if name != "mail.rebind.test." {
			return nil
		}
		if rebound.Load() {
			return []dns.RR{fakedns.RR(t, name+" 0 IN A 127.0.0.1")}
		}
		return []dns.RR{fakedns.RR(t, name+" 0 IN A 192.0.2.10")}
	})
	r, err := discover.NewResolver(addr)
	if err != nil {
		t.Fatal(err)
	}
	f := newPolicyFixture(t, nil, r)
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "rebind", "address": "mail.rebind.test"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"],
		"settings": map[string]any{"name": "tcp", "type": "tcp", "port": port, "timing": map[string]any{"up_every": "1h"}}}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("monitor: %d %v", code, m)
	}
	rebound.Store(true)
	code, res := f.do(t, "POST", fmt.Sprintf("/api/v1/monitors/%v/test", m["id"]), nil, f.token)
	e, _ := res["error"].(map[string]any)
	if code != http.StatusOK || res["status"] != "down" || e["code"] != "connect_failed" ||
		!strings.Contains(fmt.Sprint(e["detail"]), "mail.rebind.test (127.0.0.1) is a loopback address") {
		t.Errorf("test after rebinding: %d %v", code, res)
	}
	code, body := f.probeGet(t, "type=tcp&target="+url.QueryEscape("mail.rebind.test:"+strconv.Itoa(port)), "")
	if s := series(t, body); code != http.StatusOK || s["probe_success"] != 0 || s[`mailmon_probe_error_code_info{code="connect_failed"}`] != 1 {
		t.Errorf("/probe after rebinding: %d\n%s", code, body)
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("the loopback server got %d connections", n)
	}
}

// TestTCPBannerNotShownToTheNetwork: a tcp monitor created over the API
// shows whether the expected text came and how many bytes, never the
// banner, in its test, its results and its status; the operator's tcp
// monitor of the same server shows it as before.
func TestTCPBannerNotShownToTheNetwork(t *testing.T) {
	ctx := context.Background()
	const banner = "SSH-2.0-OpenSSH_9.6 internal-build-4711"
	port, _ := counted(t, banner)
	f := newFixture(t)
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "box", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	for _, expect := range []string{"OpenSSH", "Postfix"} {
		code, m := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"], "settings": map[string]any{"name": expect,
			"type": "tcp", "port": port, "expect": expect, "timing": map[string]any{"up_every": "1h"}}}, f.token)
		if code != http.StatusCreated {
			t.Fatalf("monitor: %d %v", code, m)
		}
		id := fmt.Sprint(m["id"])
		code, res := f.do(t, "POST", "/api/v1/monitors/"+id+"/test", nil, f.token)
		details, _ := res["details"].(map[string]any)
		if code != http.StatusOK || details["expect_found"] != (expect == "OpenSSH") || details["banner_bytes"] != float64(len(banner)) {
			t.Errorf("expect %s: %d %v", expect, code, res)
		}
		f.do(t, "GET", "/api/v1/monitors/"+id+"/results", nil, f.token)
		f.do(t, "GET", "/api/v1/monitors/"+id, nil, f.token)
	}
	f.do(t, "GET", "/api/v1/monitors", nil, f.token)
	if strings.Contains(f.seen.String(), "internal-build-4711") {
		t.Errorf("a response showed the banner:\n%s", f.seen.String())
	}

	// The operator's (applied) tcp monitor keeps today's output.
	d := &store.Device{Name: "operator", Address: "127.0.0.1"}
	must(t, f.api.Store.PutDevice(ctx, d))
	spec, _ := json.Marshal(config.Monitor{Port: port, Expect: "OpenSSH", Timing: config.Timing{UpEvery: config.Duration(3600e9)}})
	m := &store.Monitor{DeviceID: d.ID, Name: "operator", Type: "tcp", Enabled: true, Spec: spec}
	must(t, f.api.Store.PutMonitor(ctx, m))
	must(t, f.api.Engine.Reload(ctx, m.ID))
	_, res := f.do(t, "POST", fmt.Sprintf("/api/v1/monitors/%d/test", m.ID), nil, f.token)
	if details, _ := res["details"].(map[string]any); details["greeting"] != banner {
		t.Errorf("the operator's tcp monitor: %v", res)
	}
}

// TestAPITimingLimits: the API refuses an interval under --min-interval
// and a max_duration over --max-duration, naming the field and the flag.
func TestAPITimingLimits(t *testing.T) {
	f := newFixture(t)
	code, dev := f.do(t, "POST", "/api/v1/devices", map[string]any{"name": "box", "address": "127.0.0.1"}, f.token)
	if code != http.StatusCreated {
		t.Fatalf("device: %d %v", code, dev)
	}
	for _, c := range []struct {
		timing      map[string]any
		field, flag string
	}{
		{map[string]any{"up_every": "10ms"}, "timing.up_every", "--min-interval"},
		{map[string]any{"down_every": "9s"}, "timing.down_every", "--min-interval"},
		{map[string]any{"lost_every": "1s"}, "timing.lost_every", "--min-interval"},
		{map[string]any{"max_duration": "10m", "up_every": "1h"}, "timing.max_duration", "--max-duration"},
	} {
		code, body := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"],
			"settings": map[string]any{"name": "m", "type": "tcp", "port": 25, "timing": c.timing}}, f.token)
		if msg := fieldsOf(body)[c.field]; code != http.StatusBadRequest || !strings.Contains(msg, c.flag) {
			t.Errorf("%v: %d %v, want 400 naming %s and %s", c.timing, code, body, c.field, c.flag)
		}
	}
	code, body := f.do(t, "POST", "/api/v1/monitors", map[string]any{"device": dev["id"],
		"settings": map[string]any{"name": "m", "type": "tcp", "port": 25, "timing": map[string]any{"up_every": "10s", "down_every": "10s", "max_duration": "5s"}}}, f.token)
	if code != http.StatusCreated {
		t.Errorf("at the limits: %d %v", code, body)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
