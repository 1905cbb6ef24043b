package roundtrip

import (
	"testing"

	"github.com/mailmon/mailmon/internal/testutil/realmail"
)

// TestMain starts and stops the real Postfix and Dovecot of the integration
// tests (only if a test asks for them).
func TestMain(m *testing.M) { realmail.Main(m) }
