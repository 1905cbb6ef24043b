package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDebugPprofLoopbackOnly: profiles are served on a loopback address and
// refused, naming the flag, on any other.
func TestDebugPprofLoopbackOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "192.0.2.1:6060", "[::]:6060", "example.com:6060", "6060"} {
		if _, err := debugPprof(t.Context(), bad, log); err == nil || !strings.Contains(err.Error(), "--debug-pprof") {
			t.Errorf("debugPprof(%q) = %v, want an error naming --debug-pprof", bad, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	addr, err := debugPprof(ctx, "127.0.0.1:0", log)
	if err != nil {
		t.Fatal(err)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr.String() + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "heap profile") {
		t.Fatalf("heap profile: HTTP %d %.100q", resp.StatusCode, body)
	}
	cancel()
	// Once ctx ends, the listener is closed.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Get("http://" + addr.String() + "/debug/pprof/"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("profiles still served after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
