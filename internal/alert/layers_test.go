package alert

import (
	"go/build"
	"strings"
	"testing"
)

// TestDeliveryDependsOnNoMonitorOrEngine: delivery sits below the engine,
// which hands it events, and beside the monitor types: an e-mail goes out
// on the mail package's SMTP client, not through a monitor type's package.
func TestDeliveryDependsOnNoMonitorOrEngine(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	const mod = "github.com/mailmon/mailmon/internal/"
	for _, imp := range pkg.Imports {
		rest, ours := strings.CutPrefix(imp, mod)
		if ours && (rest == "engine" || strings.HasPrefix(rest, "probe/")) {
			t.Errorf("alert imports %s", imp)
		}
	}
}
