package config

import (
	"strconv"
	"strings"
	"testing"
)

// TestNamesRefuseHiddenCharacters: apply refuses a device, monitor, alert
// or credential name holding a control or text-direction character, naming
// the field, its line and the character; ordinary names in any script pass.
func TestNamesRefuseHiddenCharacters(t *testing.T) {
	key := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	file := func(cred, alert, dev, mon string) []byte {
		return []byte("credentials:\n  - {name: " + strconv.Quote(cred) + ", user: root, password: x, known_host: \"" + key + "\"}\n" +
			"alerts:\n  - name: " + strconv.Quote(alert) + "\n    webhook: {url: \"https://hooks.example.test/x\"}\n" +
			"devices:\n  - name: " + strconv.Quote(dev) + "\n    address: 127.0.0.1\n    monitors:\n      - {name: " + strconv.Quote(mon) + ", type: ping}\n")
	}
	if _, err := Parse("ok.yaml", file("ops", "Bereitschaft ü", "דואר 1", "اختبار")); err != nil {
		t.Fatalf("ordinary names refused: %v", err)
	}
	for what, bad := range map[string]string{
		"ESC": "a\x1b[2Jb", "C1": "a\u0085b", "DEL": "a\x7fb", "RLO": "g\u202epjexe", "PDF": "a\u202cb",
		"LRI": "a\u2066b", "PDI": "a\u2069b", "LRM": "a\u200eb", "RLM": "a\u200fb", "ALM": "a\u061cb", "LS": "a\u2028b",
	} {
		_, err := Parse("bad.yaml", file(bad, bad, bad, bad))
		if err == nil {
			t.Errorf("%s: accepted", what)
			continue
		}
		got := err.Error()
		for _, want := range []string{
			"bad.yaml:2:",
			"credentials[0].name: character 2 of the name is U+",
			"bad.yaml:4:",
			"alerts[0].name: character 2 of the name is U+",
			"bad.yaml:7:",
			"devices[0].name: character 2 of the name is U+",
			"bad.yaml:10:",
			"devices[0].monitors[0].name: character 2 of the name is U+",
			"a control or text-direction character that would make the name show as another: remove it",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: missing %q in:\n%s", what, want, got)
			}
		}
	}
}
