package demo

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maildrop is the demo's POP3 mailbox.
type maildrop struct {
	mu   sync.Mutex
	msgs []dropMsg
	next int
}

type dropMsg struct {
	uid  string
	data []byte
}

func (d *maildrop) add(data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.next++
	d.msgs = append(d.msgs, dropMsg{uid: "demo" + strconv.Itoa(d.next), data: data})
}

// pop3Server is a small POP3 server (RFC 1939, CAPA, STLS) over one
// maildrop: enough for the demo's monitors.
type pop3Server struct {
	user, password string
	drop           *maildrop
	tls            *tls.Config
}

func (p *pop3Server) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.session(c)
	}
}

func (p *pop3Server) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	send := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	send("+OK mailmon demo POP3 ready")
	var user string
	authed := false
	var snapshot []dropMsg
	deleted := map[int]bool{}
	for {
		line, err := r.ReadString('\n')
		if err != nil || len(line) > 512 {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb = strings.ToUpper(verb)
		n, _ := strconv.Atoi(strings.Fields(arg + " 0")[0])
		valid := n >= 1 && n <= len(snapshot) && !deleted[n-1]
		switch {
		case verb == "CAPA":
			send("+OK", "USER", "UIDL", "TOP", "STLS", ".")
		case verb == "STLS" && !authed:
			send("+OK begin TLS")
			tc := tls.Server(c, p.tls)
			if tc.Handshake() != nil {
				return
			}
			c, r, w = tc, bufio.NewReader(tc), bufio.NewWriter(tc)
		case verb == "USER" && !authed:
			user = arg
			send("+OK")
		case verb == "PASS" && !authed:
			if user != p.user || arg != p.password {
				send("-ERR [AUTH] invalid credentials")
				continue
			}
			authed = true
			p.drop.mu.Lock()
			snapshot = append([]dropMsg(nil), p.drop.msgs...)
			p.drop.mu.Unlock()
			send("+OK logged in")
		case verb == "QUIT":
			if authed {
				p.drop.mu.Lock()
				kept := p.drop.msgs[:0]
				for _, m := range p.drop.msgs {
					gone := false
					for i, s := range snapshot {
						if deleted[i] && s.uid == m.uid {
							gone = true
						}
					}
					if !gone {
						kept = append(kept, m)
					}
				}
				p.drop.msgs = kept
				p.drop.mu.Unlock()
			}
			send("+OK bye")
			return
		case !authed:
			send("-ERR log in first")
		case verb == "NOOP":
			send("+OK")
		case verb == "RSET":
			deleted = map[int]bool{}
			send("+OK")
		case verb == "STAT":
			count, size := 0, 0
			for i, m := range snapshot {
				if !deleted[i] {
					count, size = count+1, size+len(m.data)
				}
			}
			send(fmt.Sprintf("+OK %d %d", count, size))
		case (verb == "LIST" || verb == "UIDL") && arg == "":
			lines := []string{"+OK"}
			for i, m := range snapshot {
				if deleted[i] {
					continue
				}
				if verb == "LIST" {
					lines = append(lines, fmt.Sprintf("%d %d", i+1, len(m.data)))
				} else {
					lines = append(lines, fmt.Sprintf("%d %s", i+1, m.uid))
				}
			}
			send(append(lines, ".")...)
		case !valid:
			send("-ERR no such message")
		case verb == "LIST":
			send(fmt.Sprintf("+OK %d %d", n, len(snapshot[n-1].data)))
		case verb == "UIDL":
			send(fmt.Sprintf("+OK %d %s", n, snapshot[n-1].uid))
		case verb == "DELE":
			deleted[n-1] = true
			send("+OK deleted")
		case verb == "RETR" || verb == "TOP":
			body := -1
			if verb == "TOP" {
				f := strings.Fields(arg)
				if len(f) != 2 {
					send("-ERR TOP msg n")
					continue
				}
				body, _ = strconv.Atoi(f[1])
			}
			send(append([]string{"+OK"}, append(content(snapshot[n-1].data, body), ".")...)...)
		default:
			send("-ERR unknown command")
		}
	}
}

// content returns a message's lines, dot-stuffed: all of them, or the
// header and the first n body lines.
func content(data []byte, n int) []string {
	var out []string
	inBody := false
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if inBody {
			if n == 0 {
				break
			}
			n--
		}
		if l == "" {
			inBody = true
		}
		if strings.HasPrefix(l, ".") {
			l = "." + l
		}
		out = append(out, l)
	}
	return out
}
