package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDriver: the request carries the path and header, responses with a
// length, chunked and closing ones are read whole, and a kept-alive
// connection is used again.
func TestDriver(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer x" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Query().Get("mode") {
		case "chunked":
			w.Write([]byte("probe_success 1\n"))
			w.(http.Flusher).Flush() // no length known: chunked
			w.Write([]byte("probe_duration_seconds 0.5\n"))
		case "close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("probe_success 1\nprobe_duration_seconds 0.25\n"))
		default:
			w.Write([]byte("probe_success 1\nprobe_duration_seconds 0.125\n"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	auth := http.Header{"Authorization": {"Bearer x"}}

	for _, tc := range []struct {
		path  string
		want  float64 // probe_duration_seconds
		conns int32   // connections opened for three requests
	}{
		{"/probe?mode=plain", 0.125, 1},
		{"/probe?mode=chunked", 0.5, 1},
		{"/probe?mode=close", 0.25, 3},
	} {
		for _, mk := range []struct {
			name string
			new  func(base, path string, h http.Header, workers int) *driver
		}{{"raw", newDriver}, {"net/http", newHTTPDriver}} {
			conns.Store(0)
			d := mk.new(srv.URL, tc.path, auth, 2)
			for i := 0; i < 3; i++ {
				s, err := probeOnce(d)
				if err != nil {
					t.Fatalf("%s %s: %v", mk.name, tc.path, err)
				}
				if got := s.reported.Seconds(); got != tc.want {
					t.Errorf("%s %s: reported %v s, want %v", mk.name, tc.path, got, tc.want)
				}
			}
			d.close()
			if n := conns.Load(); n != tc.conns {
				t.Errorf("%s %s: %d connections for 3 requests, want %d", mk.name, tc.path, n, tc.conns)
			}
		}
	}

	d := newDriver(srv.URL, "/probe", nil, 1)
	defer d.close()
	if _, err := probeOnce(d); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("without the header: %v, want HTTP 401", err)
	}
}
