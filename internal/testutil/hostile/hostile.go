// Package hostile runs scripted TCP servers that misbehave: never greet,
// drip bytes, send garbage or endless lines, inject plaintext after STARTTLS.
// Each connection runs the test's script; everything is closed at cleanup.
package hostile

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is a scripted server on 127.0.0.1.
type Server struct {
	Host string
	Port int
	ln   net.Listener
	mu   sync.Mutex
	cons map[net.Conn]bool
	wg   sync.WaitGroup
}

// Conn is the server side of one connection, with helpers for scripts.
type Conn struct {
	net.Conn
	Ctx context.Context
	R   *bufio.Reader
	T   testing.TB
}

// Start listens on a free loopback port and runs script for each connection.
func Start(t testing.TB, script func(c *Conn)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, ln: ln, cons: map[net.Conn]bool{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.cons[nc] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					nc.Close()
					s.mu.Lock()
					delete(s.cons, nc)
					s.mu.Unlock()
				}()
				script(&Conn{Conn: nc, Ctx: ctx, R: bufio.NewReader(nc), T: t})
			}()
		}
	}()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		s.mu.Lock()
		for c := range s.cons {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Send writes s; errors (the client went away) end nothing by themselves.
func (c *Conn) Send(s string) bool {
	_, err := c.Write([]byte(s))
	return err == nil
}

// Drip writes s one byte every interval until done or the test ends.
func (c *Conn) Drip(s string, interval time.Duration) {
	for i := 0; i < len(s); i++ {
		if !c.Send(s[i:i+1]) || !c.Sleep(interval) {
			return
		}
	}
}

// Sleep waits d, or less if the server is shut down; it reports whether
// the full time passed.
func (c *Conn) Sleep(d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-c.Ctx.Done():
		return false
	}
}

// Hang keeps the connection open, silent, until the client closes it or the
// server shuts down.
func (c *Conn) Hang() {
	go func() {
		<-c.Ctx.Done()
		c.Close()
	}()
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// ReadLine reads one line from the client; "" on error.
func (c *Conn) ReadLine() string {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	l, err := c.R.ReadString('\n')
	if err != nil {
		return ""
	}
	return l
}

// Forever calls fn until it reports false or the server shuts down.
func (c *Conn) Forever(fn func() bool) {
	for c.Ctx.Err() == nil && fn() {
	}
}

// TLS upgrades the server side to TLS and returns the new connection.
func (c *Conn) TLS(cfg *tls.Config) *Conn {
	tc := tls.Server(c.Conn, cfg)
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		return nil
	}
	tc.SetDeadline(time.Time{})
	return &Conn{Conn: tc, Ctx: c.Ctx, R: bufio.NewReader(tc), T: c.T}
}
