// Package fakessh is an SSH server that runs nothing, for tests of
// recoveries over SSH: it records the command of each exec request and
// answers with a chosen output and exit status.
package fakessh

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// User is the only user the server lets in.
const User = "ops"

// Server is a fake: set what it accepts and answers, then Start it.
type Server struct {
	Password string        // accepted password
	UserKey  ssh.PublicKey // accepted client key
	Status   uint32
	Stdout   string
	Stderr   string
	Hang     bool // accept the exec, never answer

	Addr    string        // host:port, once started
	HostKey ssh.PublicKey // its host key, once started
	Execs   chan string   // commands received
}

// NewKey makes an ed25519 key.
func NewKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// Start serves f on a loopback port until the test ends.
func Start(t *testing.T, f *Server) *Server {
	t.Helper()
	hk := NewKey(t)
	signer, err := ssh.NewSignerFromKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	f.HostKey = signer.PublicKey()
	f.Execs = make(chan string, 8)
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if f.Password != "" && c.User() == User && string(pw) == f.Password {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if f.UserKey != nil && c.User() == User && bytes.Equal(k.Marshal(), f.UserKey.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.Addr = ln.Addr().String()
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.serve(c, cfg)
			}()
		}
	}()
	return f
}

func (f *Server) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return // a refused login or host key: the client reports it
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range creqs {
				if req.Type != "exec" {
					req.Reply(false, nil)
					continue
				}
				var p struct{ Command string }
				if err := ssh.Unmarshal(req.Payload, &p); err != nil {
					req.Reply(false, nil)
					continue
				}
				f.Execs <- p.Command
				req.Reply(true, nil)
				if f.Hang {
					continue
				}
				ch.Write([]byte(f.Stdout))
				ch.Stderr().Write([]byte(f.Stderr))
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{f.Status}))
				ch.Close()
			}
		}()
	}
}

// KnownHost is k in authorized_keys format, as a credential's known_host.
func KnownHost(k ssh.PublicKey) string { return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))) }

// PEMKey is k as an OpenSSH private key file.
func PEMKey(t *testing.T, k ed25519.PrivateKey) string {
	t.Helper()
	b, err := ssh.MarshalPrivateKey(k, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(b))
}

// NoExec fails the test if the server got a command.
func NoExec(t *testing.T, f *Server) {
	t.Helper()
	select {
	case cmd := <-f.Execs:
		t.Errorf("the server got a command: %q", cmd)
	default:
	}
}
