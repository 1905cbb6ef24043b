package storetest

import (
	"reflect"
	"slices"
	"testing"

	"github.com/mailmon/mailmon/internal/store"
)

// domainFilter: the board's filter by domain takes a monitor's own
// "domain", else its device's address (itself, or a host under a
// registered domain), and only the types it is told.
func domainFilter(t *testing.T, s store.Store) {
	devs := map[string]int64{}
	for _, a := range []string{"mx1.example.test", "example.test", "MX.Other.test", "192.0.2.1", "mx.sub.example.test"} {
		d := &store.Device{Name: "d " + a, Address: a}
		must(t, s.PutDevice(ctx, d))
		devs[a] = d.ID
	}
	add := func(dev, name, typ, spec string) {
		must(t, s.PutMonitor(ctx, &store.Monitor{DeviceID: devs[dev], Name: name, Type: typ, Enabled: true, Spec: []byte(spec)}))
	}
	add("mx1.example.test", "spf named", "spf", `{"domain":"Example.test"}`)
	add("mx1.example.test", "smtp", "smtp", `{"domain":"example.test"}`) // not a domain-health type
	add("mx1.example.test", "dnsbl of the host", "dnsbl", `{}`)
	add("mx1.example.test", "spf of the host", "spf", `{}`) // its domain is mx1.example.test
	add("example.test", "dmarc of the address", "dmarc", `{}`)
	add("example.test", "rdns of the address", "rdns", `{}`)
	add("MX.Other.test", "dane elsewhere", "dane", `{}`)
	add("MX.Other.test", "dkim named", "dkim", `{"domain":"example.test","selectors":["s1"]}`)
	add("192.0.2.1", "dnsbl of an address", "dnsbl", `{}`)
	add("mx.sub.example.test", "rdns below", "rdns", `{}`)
	names := func(df store.DomainFilter) []string {
		t.Helper()
		ms, total, err := s.Monitors(ctx, store.MonitorFilter{Domain: &df, Order: store.WorstFirst})
		must(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		slices.Sort(out)
		if total != len(out) {
			t.Errorf("%+v: total %d, %d listed", df, total, len(out))
		}
		counts, err := s.StateCounts(ctx, store.MonitorFilter{Domain: &df})
		must(t, err)
		if n := counts["pending"]; n != len(out) {
			t.Errorf("%+v: counts %v, want %d pending", df, counts, len(out))
		}
		return out
	}
	own, host := []string{"spf", "dmarc", "dkim"}, []string{"dnsbl", "rdns", "dane"}
	for _, c := range []struct {
		df   store.DomainFilter
		want []string
	}{
		{store.DomainFilter{Domain: "example.test", OwnTypes: own, HostTypes: host, Registered: true},
			[]string{"dkim named", "dmarc of the address", "dnsbl of the host", "rdns below", "rdns of the address", "spf named"}},
		{store.DomainFilter{Domain: "example.test", OwnTypes: own, HostTypes: host},
			[]string{"dkim named", "dmarc of the address", "rdns of the address", "spf named"}},
		{store.DomainFilter{Domain: "mx1.example.test", OwnTypes: own, HostTypes: host}, []string{"dnsbl of the host", "spf of the host"}},
		{store.DomainFilter{Domain: "other.test", OwnTypes: own, HostTypes: host, Registered: true}, []string{"dane elsewhere"}},
		{store.DomainFilter{Domain: "192.0.2.1", OwnTypes: own, HostTypes: host}, []string{"dnsbl of an address"}},
		{store.DomainFilter{Domain: "example.test", OwnTypes: own}, []string{"dkim named", "dmarc of the address", "spf named"}},
		{store.DomainFilter{Domain: "%.test", OwnTypes: own, HostTypes: host, Registered: true}, nil},
	} {
		if got := names(c.df); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.df, got, c.want)
		}
	}
}
