package cli

import (
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
)

// flagWords puts a message of the probe, which names settings as the
// configuration file does, in the command line's words.
func flagWords(msg string) string {
	return strings.NewReplacer(
		"set allow_plaintext_auth", "give --allow-plaintext-auth",
		"use tls starttls or implicit", "use --tls starttls or implicit",
	).Replace(msg)
}

// flagHints puts the result's message in the command line's words and
// returns what to try when the fix is a flag.
func flagHints(r *probe.Result, f *checkFlags) []string {
	if r.Error == nil {
		return nil
	}
	r.Error.Message = flagWords(r.Error.Message)
	r.Error.Detail = flagWords(r.Error.Detail)
	var hints []string
	// The probe keeps the TLS library's words, not its error: an unknown
	// authority is the one failure of verification that --ca fixes.
	if r.Error.Code == probe.CertInvalid && f.ca == "" && !f.insecure &&
		strings.Contains(r.Error.Message+" "+r.Error.Detail, "unknown authority") {
		hints = append(hints, "the certificate is signed by a CA this host does not trust: give that CA's certificate with --ca FILE (PEM), or test without checking the chain with --insecure-skip-verify")
	}
	return hints
}
