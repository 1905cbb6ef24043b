package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunTestsSetsUpFirst: the README's test command (./run-tests), and
// CI's (.ci/run) through it, install the Debian packages the tests need
// before anything else; not root, they name the packages and the command
// that installs them, and run nothing. (Fake dpkg-query, id, apt-get and
// make on PATH: every package missing, a user that is not root.)
func TestRunTestsSetsUpFirst(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	ran := filepath.Join(fake, "ran")
	for name, body := range map[string]string{
		"dpkg-query": "echo -n 'unknown ok not-installed'",
		"id":         "echo 1000",
		"apt-get":    "echo apt-get >> " + ran,
		"make":       "echo make >> " + ran,
	} {
		if err := os.WriteFile(filepath.Join(fake, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range []string{"run-tests", ".ci/run"} {
		c := exec.Command(filepath.Join(root, cmd))
		c.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"))
		out, err := c.CombinedOutput()
		if err == nil {
			t.Errorf("%s as a user with packages missing: exit 0\n%s", cmd, out)
		}
		for _, want := range []string{"postfix", "dovecot-imapd", "postgresql", "chromium", "make", "needs root", "sudo .ci/test-deps"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s does not say %q:\n%s", cmd, want, out)
			}
		}
		if b, err := os.ReadFile(ran); err == nil {
			t.Errorf("%s ran %s before its set-up", cmd, b)
		}
	}
}
