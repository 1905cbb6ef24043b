package bench

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
)

// fastSMTP is a minimal SMTP responder: it costs both clients the same and
// as little as possible, so the comparison measures the clients.
type fastSMTP struct {
	ln  net.Listener
	tls *tls.Config
	wg  sync.WaitGroup
}

func startFastSMTP(tb testing.TB, cfg *tls.Config) *fastSMTP {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &fastSMTP{ln: ln, tls: cfg}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	tb.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *fastSMTP) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *fastSMTP) serve(c net.Conn) {
	defer func() { c.Close() }()
	br := bufio.NewReader(c)
	c.Write([]byte("220 bench.example ESMTP\r\n"))
	tlsOn := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"):
			if tlsOn {
				c.Write([]byte("250-bench.example\r\n250-AUTH PLAIN\r\n250 SIZE 10240000\r\n"))
			} else {
				c.Write([]byte("250-bench.example\r\n250-STARTTLS\r\n250 SIZE 10240000\r\n"))
			}
		case cmd == "STARTTLS" && s.tls != nil && !tlsOn:
			c.Write([]byte("220 go ahead\r\n"))
			tc := tls.Server(c, s.tls)
			if tc.Handshake() != nil {
				return
			}
			c, br, tlsOn = tc, bufio.NewReader(tc), true
		case cmd == "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		default:
			c.Write([]byte("502 no\r\n"))
		}
	}
}
