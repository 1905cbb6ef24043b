package oauth

import (
	"strings"
	"testing"
)

// TestPresetTenant: the tenant is a directory id, a verified domain or a
// multi-tenant name, and nothing that would change the token URL's path.
func TestPresetTenant(t *testing.T) {
	for _, tc := range []struct {
		tenant string
		ok     bool
	}{
		{"contoso.onmicrosoft.com", true},
		{"9188040d-6c67-4c5b-b112-36a304b66dad", true},
		{"common", true},
		{"a", true},
		{strings.Repeat("a", 253), true},
		{strings.Repeat("a", 254), false},
		{"", false},
		{".contoso.com", false},
		{"-contoso", false},
		{"contoso/../evil", false},
		{"contoso?x=1", false},
		{"contoso com", false},
		{"contöso.com", false},
		{"contoso_1", false},
	} {
		p, err := Preset("microsoft", tc.tenant)
		if (err == nil) != tc.ok {
			t.Errorf("Preset(microsoft, %q): err %v, want ok %v", tc.tenant, err, tc.ok)
			continue
		}
		if tc.ok && p.TokenURL != "https://login.microsoftonline.com/"+tc.tenant+"/oauth2/v2.0/token" {
			t.Errorf("Preset(microsoft, %q): token URL %s", tc.tenant, p.TokenURL)
		}
	}
}
