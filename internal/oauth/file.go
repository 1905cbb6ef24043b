// Package oauth is where mailmon's OAuth2 bearer tokens come from: a file
// or a command of the operator's, or a token endpoint mailmon asks itself
// (client credentials, refresh token with rotation, the device code login),
// with the daemon's cache of them. SASL's mechanisms, which carry a token,
// are package sasl's: this package only obtains it.
package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mailmon/mailmon/internal/hostcmd"
)

const maxTokenBytes = 64 << 10

// Source says where an OAuth2 bearer token comes from: a file, the
// standard output of a command (hostcmd: argv, never through a shell, with
// PATH and LANG as its whole environment), or a token endpoint (Flow).
type Source struct {
	File    string
	Command []string
	Flow    *Flow
}

// IsZero reports whether no source is set.
func (s Source) IsZero() bool { return s.File == "" && len(s.Command) == 0 && s.Flow == nil }

// Secrets are the source's own secrets, for the test's redactor.
func (s Source) Secrets() []string {
	if s.Flow == nil {
		return nil
	}
	return s.Flow.Secrets()
}

// Token reads the token. Surrounding white space is removed. A failed
// command's error quotes its stderr, capped, without the token it may have
// printed nor the secrets given in redact.
func (s Source) Token(ctx context.Context, redact ...string) (string, error) {
	var raw []byte
	switch {
	case s.Flow != nil:
		return s.Flow.Token(ctx)
	case s.File != "":
		f, err := os.Open(s.File)
		if err != nil {
			return "", fmt.Errorf("oauth token file: %w", err)
		}
		defer f.Close()
		raw, err = io.ReadAll(io.LimitReader(f, maxTokenBytes+1))
		if err != nil {
			return "", fmt.Errorf("oauth token file: %w", err)
		}
	case len(s.Command) > 0:
		out := hostcmd.NewCapture(maxTokenBytes + 1)
		res, err := hostcmd.Run(ctx, hostcmd.Cmd{Argv: s.Command, Stdout: out, Secrets: redact})
		raw = out.Bytes()
		if err != nil {
			stderr := hostcmd.Redact(res.Output, []string{strings.TrimSpace(string(raw))})
			return "", fmt.Errorf("oauth token command %s: %w: %s", s.Command[0], err, strings.TrimSpace(stderr))
		}
	default:
		return "", errors.New("no oauth token source")
	}
	if len(raw) > maxTokenBytes {
		return "", fmt.Errorf("oauth token longer than %d bytes", maxTokenBytes)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" || strings.ContainsAny(tok, "\r\n\x00\x01") {
		return "", errors.New("oauth token is empty or has more than one line")
	}
	return tok, nil
}

// SplitCommand splits a command line into argv the way a user expects from a
// shell (single and double quotes, backslash escapes) without running one.
func SplitCommand(s string) ([]string, error) {
	var (
		args    []string
		cur     strings.Builder
		inArg   bool
		quote   rune
		escaped bool
	)
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inArg = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inArg = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 || escaped {
		return nil, errors.New("unterminated quote or escape")
	}
	if inArg {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return nil, errors.New("empty command")
	}
	return args, nil
}
