package plugin

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/mailmon/mailmon/internal/probe"
)

// Applies says whether the option of long name applies to monitor type k:
// a type's help and the shell completion show those only.
func Applies(k probe.Kind, long string) bool {
	switch long {
	case "port":
		return k.HasPort
	case "tls", "starttls", "ca", "servername", "insecure-skip-verify", "certificate", "cert-warn-days", "cert-crit-days":
		return k.KnowsTLS
	case "user", "password-file", "password-env", "auth", "oauth-token-file", "oauth-token-command", "allow-plaintext-auth":
		return k.LogsIn
	case "ehlo":
		return k.Shows("ehlo") || k.RoundTrip // the SMTP leg says EHLO too
	case "mailbox", "mailbox-check":
		return k.Shows("mailbox")
	case "stat":
		return k.Shows("stat")
	case "expect":
		return k.HasPort
	case "warn-delivery", "crit-delivery", "from", "to", "name", "secret-file", "poll-interval", "stale-after":
		return k.RoundTrip
	}
	if strings.HasPrefix(long, "smtp-") {
		return k.RoundTrip
	}
	return true
}

// Option is an option as the shell completion offers it.
type Option struct {
	Short, Long string
	Arg         string // the value's name ("FILE", "MODE"); "" for a switch
	Help        string
}

// Options lists the options of a check of type k.
func Options(k probe.Kind) []Option {
	var out []Option
	for i := range options {
		if o := &options[i]; Applies(k, o.long) {
			out = append(out, Option{o.short, o.long, o.arg, o.text()})
		}
	}
	return out
}

// typeHelp is the head of a type's help: what it does, its port and its
// default timeout.
func typeHelp(k probe.Kind) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", k.Title, k.Summary)
	switch {
	case !k.HasPort:
		b.WriteString("Port: none (it tests the host).\n")
	case k.Ports == (probe.Ports{}):
		b.WriteString("Port: -p is required.\n")
	case k.KnowsTLS:
		fmt.Fprintf(&b, "Port: %d by default, %d with --tls implicit.\n", k.Ports.Plain, k.Ports.Implicit)
	default:
		fmt.Fprintf(&b, "Port: %d by default.\n", k.Ports.Plain)
	}
	fmt.Fprintf(&b, "Timeout: %g seconds by default (-t).\n", k.DefaultTimeout().Seconds())
	return b.String()
}

// unknownOption is what to give instead of an option the flag package
// does not know ("flag provided but not defined: -NAME"): a password is
// never taken on the command line; else the nearest option. "" for none.
func unknownOption(err error, fs *flag.FlagSet) string {
	bad, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return ""
	}
	bad = strings.TrimLeft(bad, "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) > 1 {
			names = append(names, f.Name)
		}
	})
	for _, pw := range []string{"password", "smtp-password"} {
		if bad == pw {
			return fmt.Sprintf("; did you mean --%s-file? (or --%s-env; a password on the command line would be readable by every user of this machine)", pw, pw)
		}
	}
	if s := probe.Suggest(bad, names); s != "" && len(bad) > 1 {
		return "; did you mean --" + s + "?"
	}
	return ""
}

// lower puts the values of options that are one of a list in lower case
// (--tls STARTTLS, --output JSON).
func (f *flags) lower() {
	for _, p := range []*string{&f.tls, &f.smtpTLS, &f.output, &f.mailboxCheck} {
		*p = strings.ToLower(*p)
	}
}

// optionWords puts a message of the probe, which names settings as the
// configuration file does, in the command line's words.
func optionWords(msg string) string {
	return strings.NewReplacer(
		"set allow_plaintext_auth", "give --allow-plaintext-auth",
		"use tls starttls or implicit", "use --tls starttls or implicit",
	).Replace(msg)
}

// hints puts the result's message in the command line's words and
// returns what to try when the fix is an option.
func (f *flags) hints(r *probe.Result) []string {
	if r.Error == nil {
		return nil
	}
	r.Error.Message = optionWords(r.Error.Message)
	r.Error.Detail = optionWords(r.Error.Detail)
	var out []string
	// The probe keeps the TLS library's words, not its error: an unknown
	// authority is the one failure of verification that --ca fixes.
	if r.Error.Code == probe.CertInvalid && f.ca == "" && !f.insecure &&
		strings.Contains(r.Error.Message+" "+r.Error.Detail, "unknown authority") {
		out = append(out, "the certificate is signed by a CA this host does not trust: give that CA's certificate with --ca FILE (PEM), or test without checking the chain with --insecure-skip-verify")
	}
	return slices.Clip(out)
}
