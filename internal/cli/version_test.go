package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/version"
)

func TestVersionCommand(t *testing.T) {
	code, out, _ := runCLI(t, nil, "version")
	if code != ExitOK || out != version.Get().String()+"\n" || !strings.HasPrefix(out, "mailmon "+version.String()+" ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, nil, "version", "--output", "json")
	var got version.Info
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != ExitOK || got != version.Get() || got.Go == "" || got.Platform == "" {
		t.Errorf("version --output json: exit %d, %v: %q", code, err, out)
	}
	if code, _, errOut := runCLI(t, nil, "version", "--output", "yaml"); code != ExitUnknown || !strings.Contains(errOut, `--output: "yaml" is not text or json`) {
		t.Errorf("--output yaml: exit %d, %q", code, errOut)
	}
}
