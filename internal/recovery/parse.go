package recovery

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ParseKnownHost reads a credential's known_host: one public key in
// authorized_keys format, without options or a host name in front.
func ParseKnownHost(line string) (ssh.PublicKey, error) {
	key, _, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	switch {
	case err != nil:
		return nil, errors.New("not a public key in authorized_keys format (like \"ssh-ed25519 AAAA…\")")
	case len(opts) > 0:
		return nil, fmt.Errorf("one public key only, without %q in front (a known_hosts line's host name goes)", strings.Join(opts, ","))
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, errors.New("one public key only")
	}
	return key, nil
}

// SSHTarget splits a recovery's "[user@]host[:port]" into the user (""
// if left out) and an address to dial, port 22 by default. An IPv6
// address with a port is written in brackets: [2001:db8::1]:2222.
func SSHTarget(s string) (user, addr string, err error) {
	hostport := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, hostport = s[:i], s[i+1:]
		if user == "" {
			return "", "", fmt.Errorf("%q: the user before @ is empty", s)
		}
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		// No port: a name, an IPv4 address, or an IPv6 one with or
		// without brackets.
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), "22"
		if strings.Contains(hostport, "]:") {
			return "", "", fmt.Errorf("%q is not [user@]host[:port]", s)
		}
	}
	if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 {
		return "", "", fmt.Errorf("%q: port %q is not between 1 and 65535", s, port)
	}
	if host == "" || strings.ContainsAny(host, " /\t\r\n@[]") || strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return "", "", fmt.Errorf("%q is not [user@]host[:port]", s)
	}
	return user, net.JoinHostPort(host, port), nil
}
