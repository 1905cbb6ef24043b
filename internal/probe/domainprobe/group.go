package domainprobe

import (
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// RecordTypes are the types that read a domain's records: without a
// "domain" their domain is their host itself. HostTypes test a host (its
// addresses, its certificate, its name): without a "domain" their domain
// is the registered domain the host is under (mx1.example.org's is
// example.org).
var (
	RecordTypes = []string{SPFName, DMARCName, DKIMName, MTASTSName, TLSRPTName}
	HostTypes   = []string{DNSBLName, RDNSName, DANEName}
)

// Normal is a domain as monitors compare it: lower case, without the
// root dot.
func Normal(d string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), ".")) }

// DomainOf is the domain a monitor of type typ belongs to, given its
// "domain" and its device's address; "" for a type that is not a
// domain's. A host type on an IP address belongs to the address.
func DomainOf(typ, domain, address string) string {
	switch {
	case !slices.Contains(RecordTypes, typ) && !slices.Contains(HostTypes, typ):
		return ""
	case domain != "":
		return Normal(domain)
	case slices.Contains(RecordTypes, typ):
		return Normal(address)
	}
	a := Normal(address)
	if _, err := netip.ParseAddr(a); err == nil {
		return a // an address: its own group, under no name
	}
	if r, err := publicsuffix.EffectiveTLDPlusOne(a); err == nil {
		return r
	}
	return a
}

// Registered tells a registered domain (example.org, example.co.uk): the
// hosts under it belong to it (DomainOf).
func Registered(d string) bool {
	r, err := publicsuffix.EffectiveTLDPlusOne(d)
	return err == nil && r == d
}
