package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugPprof serves Go's profiles (/debug/pprof/…) on addr until ctx ends,
// for "serve --debug-pprof". Off by default; the address must be a loopback
// one, since a profile shows the daemon's memory (secrets included) and a
// CPU profile costs CPU: nothing of it is reachable from the network.
func debugPprof(ctx context.Context, addr string, log *slog.Logger) (net.Addr, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-pprof: %q is not HOST:PORT (such as 127.0.0.1:6060)", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--debug-pprof: %q is not a loopback address: profiles show the daemon's memory, so they are served on 127.0.0.1 or ::1 only (such as 127.0.0.1:6060)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--debug-pprof: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	context.AfterFunc(ctx, func() { srv.Close() })
	log.Info("profiles on http://"+ln.Addr().String()+"/debug/pprof/ (loopback only)", "addr", ln.Addr().String())
	return ln.Addr(), nil
}
