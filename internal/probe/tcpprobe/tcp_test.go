package tcpprobe

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mailmon/mailmon/internal/probe"
	"github.com/mailmon/mailmon/internal/testutil/certs"
	"github.com/mailmon/mailmon/internal/testutil/hostile"
	"github.com/mailmon/mailmon/internal/testutil/leak"
)

func TestTCP(t *testing.T) {
	ca := certs.NewCA(t)
	good := certs.ServerConfig(ca.Issue(t, certs.Leaf{}))
	closed := func() int {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port
	}()
	banner := func(c *hostile.Conn) { c.Send("220 mail.example ESMTP Postfix\r\n"); c.Hang() }
	tests := []struct {
		name   string
		script func(*hostile.Conn)
		port   int
		cfg    probe.Config
		status probe.Status
		code   probe.Code
	}{
		{name: "port open", script: func(c *hostile.Conn) { c.Hang() }, status: probe.StatusUp},
		{name: "expected banner", script: banner, cfg: probe.Config{Expect: "ESMTP"}, status: probe.StatusUp},
		{name: "wrong banner", script: banner, cfg: probe.Config{Expect: "IMAP4rev1"}, status: probe.StatusDown, code: probe.ProtocolViolation},
		{name: "silent when a banner is expected", script: func(c *hostile.Conn) { c.Hang() }, cfg: probe.Config{Expect: "x", Timeout: time.Second}, status: probe.StatusDown, code: probe.Timeout},
		{name: "implicit TLS", script: func(c *hostile.Conn) {
			if tc := c.TLS(good); tc != nil {
				tc.Hang()
			}
		}, cfg: probe.Config{TLS: probe.TLSImplicit, CAFile: ca.File(t)}, status: probe.StatusUp},
		{name: "closed port", port: closed, status: probe.StatusDown, code: probe.ConnectFailed},
		{name: "STARTTLS makes no sense", script: banner, cfg: probe.Config{TLS: probe.TLSStartTLS}, status: probe.StatusDown, code: probe.ConfigMissing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leak.Check(t)
			cfg := tc.cfg
			cfg.Type, cfg.Host, cfg.Port = "tcp", "127.0.0.1", tc.port
			if tc.script != nil {
				cfg.Port = hostile.Start(t, tc.script).Port
			}
			r := probe.Run(context.Background(), Kind(), cfg)
			if r.Status != tc.status || tc.code != "" && (r.Error == nil || r.Error.Code != tc.code) {
				t.Fatalf("status %s error %+v, want %s %s", r.Status, r.Error, tc.status, tc.code)
			}
		})
	}
}
