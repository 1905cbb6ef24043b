package main

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// maxExposure is the highest "systemd-analyze security" exposure the unit
// may have (0 best, 10 worst); docs/install.md gives the score.
const maxExposure = 2.0

// The unit holds the hardening the packages promise, and systemd rates it.
// (systemd-analyze verify runs on the installed unit, in
// TestDebInstallRemovePurge, where its binary and man page exist.)
func TestUnitHardening(t *testing.T) {
	b, err := os.ReadFile("files/mailmon.service")
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(string(b))
	for k, want := range map[string]string{
		"User": "mailmon", "Group": "mailmon", "StateDirectory": "mailmon", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"CapabilityBoundingSet": "CAP_NET_RAW", "AmbientCapabilities": "CAP_NET_RAW",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "EnvironmentFile": "-/etc/mailmon/mailmon.env",
		"ExecReload": "/bin/kill -HUP $MAINPID",
	} {
		if got := u.one("Service." + k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}

	needTools(t, "systemd-analyze")
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", "files/mailmon.service").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for mailmon.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no exposure level in:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("systemd-analyze security: exposure %.1f", score)
	if score > maxExposure {
		t.Errorf("exposure %.1f, more than %.1f:\n%s", score, maxExposure, out)
	}
	if !strings.Contains(string(out), "✓ NoNewPrivileges=") && !strings.Contains(string(out), "✓ CapabilityBoundingSet=~CAP_SYS_ADMIN") {
		t.Errorf("systemd-analyze does not see the unit's hardening:\n%s", out)
	}
}
