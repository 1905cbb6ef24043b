package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestTroffEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`.hidden request`:  `\&.hidden request`,
		`'also one`:        `\&'also one`,
		`C:\path --flag …`: `C:\epath \-\-flag \[u2026]`,
		`plain`:            `plain`,
	} {
		if got := troff(in); got != want {
			t.Errorf("troff(%q) = %q, want %q", in, got, want)
		}
	}
}

// The page of the packaged binary: every command of "mailmon help" has
// its section, and groff reads it without a warning.
func TestManPage(t *testing.T) {
	needTools(t, "groff")
	f, err := os.Open(distFile(t, "mailmon.1.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	page, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"check", "discover", "serve", "apply", "export", "key", "token", "user", "version"} {
		if !bytes.Contains(page, []byte(`.SS "mailmon `+c+`"`)) {
			t.Errorf("no section for mailmon %s", c)
		}
	}
	if !bytes.Contains(page, []byte(`.TH MAILMON 1 `)) || !bytes.Contains(page, []byte(`"mailmon `+distVersion(t)+`"`)) {
		t.Errorf("the title line does not name the version %s:\n%.200s", distVersion(t), page)
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = bytes.NewReader(page)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("groff: %v\n%s", err, out)
	}
	text, err := exec.Command("sh", "-c", "zcat "+f.Name()+" | groff -man -Tutf8 -P-c -P-b -P-u").Output()
	if err != nil || !strings.Contains(string(text), "mailmon serve [--db FILE|postgres://…]") {
		t.Errorf("the rendered page lacks the synopsis as mailmon help prints it: %v\n%.600s", err, text)
	}
}
