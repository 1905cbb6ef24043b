// Package fastsmtp is a minimal SMTP responder for benchmarks: greeting,
// EHLO, STARTTLS, QUIT, as cheap as possible, so that measurements are of
// the client.
package fastsmtp

import (
	"bufio"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"time"
)

// Server is a running responder.
type Server struct {
	ln  net.Listener
	tls *tls.Config
	wg  sync.WaitGroup
}

// Start listens on a free loopback port; cfg, if set, offers STARTTLS.
func Start(cfg *tls.Config) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, tls: cfg}
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
	return s, nil
}

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server and waits for its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve(c net.Conn) {
	defer func() { c.Close() }()
	c.SetDeadline(time.Now().Add(30 * time.Second))
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
			if tlsOn || s.tls == nil {
				c.Write([]byte("250-bench.example\r\n250 SIZE 10240000\r\n"))
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
