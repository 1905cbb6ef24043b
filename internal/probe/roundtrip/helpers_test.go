package roundtrip

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
)

func dump(r *probe.Result) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

func phaseNames(r *probe.Result) []string {
	var names []string
	for _, p := range r.Phases {
		names = append(names, p.Name)
	}
	return names
}

// noSecrets checks that no credential nor the installation secret, in
// clear or base64, is in the JSON of the result.
func noSecrets(t *testing.T, r *probe.Result, secrets ...string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, string(testKey))
	for _, s := range slices.Clone(secrets) {
		secrets = append(secrets, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(b), s) {
			t.Errorf("the result holds the secret %q:\n%s", s, dump(r))
		}
	}
}

// attempts is the number of looks into the mailbox the result reports.
func attempts(t *testing.T, r *probe.Result) int {
	t.Helper()
	n, ok := r.Details["attempts"].(int)
	if !ok {
		t.Fatalf("no attempts in the details: %v", r.Details)
	}
	return n
}
