package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// writeMan writes mailmon.1.gz: "mailmon help" and each command's --help,
// as the binary prints them, in troff.
func writeMan(b *build) (string, error) {
	page, err := manPage(b)
	if err != nil {
		return "", err
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // no name, no time: reproducible
	w.Write([]byte(page))
	if err := w.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(b.Out, "mailmon.1.gz")
	return path, os.WriteFile(path, z.Bytes(), 0o644)
}

// commandRE finds the commands in "mailmon help": its lines "  mailmon NAME …".
var commandRE = regexp.MustCompile(`(?m)^  mailmon ([a-z]+)`)

func manPage(b *build) (string, error) {
	help, err := helpOf(b.Binary, "help")
	if err != nil {
		return "", err
	}
	title, usage, ok := strings.Cut(help, "\n")
	if !ok || !strings.HasPrefix(title, "mailmon: ") {
		return "", fmt.Errorf("mailmon help begins %q, not \"mailmon: …\"", title)
	}
	var cmds []string
	for _, m := range commandRE.FindAllStringSubmatch(usage, -1) {
		if !slices.Contains(cmds, m[1]) {
			cmds = append(cmds, m[1])
		}
	}
	if len(cmds) == 0 {
		return "", fmt.Errorf("mailmon help lists no command")
	}
	var sections []manSection
	for _, c := range cmds {
		text, err := helpOf(b.Binary, c, "--help")
		if err != nil {
			return "", err
		}
		sections = append(sections, manSection{"mailmon " + c, text})
	}
	return renderMan(b.Version, b.Date.Format("2006-01-02"), strings.TrimPrefix(title, "mailmon: "), usage, sections), nil
}

// helpOf is what the binary prints, on either stream, for args.
func helpOf(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	out, _ := cmd.CombinedOutput() // some usages end in a non-zero exit
	if len(bytes.TrimSpace(out)) == 0 {
		return "", fmt.Errorf("%s %s printed nothing", bin, strings.Join(args, " "))
	}
	return string(out), nil
}

type manSection struct{ title, text string }

// renderMan lays the texts out as the mailmon(1) page: each kept as the
// binary wraps it (no fill), escaped for troff.
func renderMan(version, date, summary, usage string, cmds []manSection) string {
	var b strings.Builder
	fmt.Fprintf(&b, ".TH MAILMON 1 %q %q \"User Commands\"\n", date, "mailmon "+version)
	fmt.Fprintf(&b, ".SH NAME\nmailmon \\- %s\n", troff(summary))
	b.WriteString(".SH SYNOPSIS\n")
	verbatim(&b, strings.TrimPrefix(strings.TrimLeft(usage, "\n"), "usage:\n"))
	b.WriteString(".SH DESCRIPTION\n" +
		"mailmon tests SMTP, POP3 and IMAP services (banners, logins, TLS and\n" +
		"certificates, delivery round trips) once with\n.B mailmon check\n" +
		"or on a schedule with\n.BR \"mailmon serve\" ,\n" +
		"a daemon with a web UI, a JSON API, Prometheus metrics and alerts.\n" +
		"Each command's flags follow.\n")
	b.WriteString(".SH COMMANDS\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, ".SS %q\n", c.title)
		verbatim(&b, c.text)
	}
	b.WriteString(`.SH FILES
.TP
.I /etc/mailmon/mailmon.env
The service's flags (MAILMON_OPTS) and secrets (MAILMON_SECRET_KEY, MAILMON_SECRET); mode 0600.
.TP
.I /etc/mailmon/mail.yaml.example
An example for
.BR "mailmon apply -f" .
.TP
.I /var/lib/mailmon
The service's database (mailmon.db) and storage key (storage.key).
.SH ENVIRONMENT
.TP
.B MAILMON_SECRET_KEY
The key that encrypts stored secrets, instead of storage.key beside the database.
.TP
.B MAILMON_SECRET
The installation secret that signs round-trip messages.
.SH "SEE ALSO"
.BR systemctl (1),
.I /usr/share/doc/mailmon/README.md
and
.I /usr/share/doc/mailmon/docs/install.md
`)
	return b.String()
}

// verbatim writes text unfilled, line for line.
func verbatim(b *strings.Builder, text string) {
	b.WriteString(".nf\n")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if l == "" {
			b.WriteString(".sp\n")
			continue
		}
		b.WriteString(troff(l) + "\n")
	}
	b.WriteString(".fi\n")
}

// troff escapes a line of text: backslashes, hyphens (so that flags read
// as ASCII minus signs and can be copied), characters past ASCII (as
// \[uXXXX], which troff takes without preconv), and a leading . or ' that
// troff would take for a request.
func troff(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r > 127:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	s = b.String()
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
