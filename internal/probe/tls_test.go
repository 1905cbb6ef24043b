package probe

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestJudgeCert(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	info := func(notBefore, notAfter time.Time) *TLSInfo {
		return &TLSInfo{CertNotBefore: notBefore, CertNotAfter: notAfter, DaysLeft: DaysLeft(notAfter, now)}
	}
	year := 365 * 24 * time.Hour
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		info     *TLSInfo
		warnDays int
		bad      string // in the error, "" for none
		warning  string // the warning, "" for none
	}{
		{"no TLS", nil, 14, "", ""},
		{"no certificate", &TLSInfo{Version: "TLS1.3"}, 14, "", ""},
		{"valid for a year", info(now.Add(-day), now.Add(year)), 14, "", ""},
		{"expires in 2 days", info(now.Add(-year), now.Add(2*day+time.Hour)), 14, "", "certificate expires in 2 days (2026-03-12)"},
		{"expires in 14 days, warn within 14", info(now.Add(-year), now.Add(14*day+time.Hour)), 14, "", ""},
		{"expires in 13 days, warn within 14", info(now.Add(-year), now.Add(13*day+time.Hour)), 14, "", "certificate expires in 13 days (2026-03-23)"},
		{"expires in 2 days, never warn", info(now.Add(-year), now.Add(2*day)), -1, "", ""},
		{"expired an hour ago", info(now.Add(-year), now.Add(-time.Hour)), 14, "certificate: expired on 2026-03-10 11:00 UTC", ""},
		{"expired, never warn", info(now.Add(-year), now.Add(-day)), -1, "expired on 2026-03-09", ""},
		{"valid from tomorrow", info(now.Add(day), now.Add(year)), 14, "certificate: not valid before 2026-03-11 12:00 UTC", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad, warning := judgeCert(tc.info, tc.warnDays, now)
			var ce *CertError
			if tc.bad == "" && bad != nil || tc.bad != "" && (!errors.As(bad, &ce) || !strings.Contains(bad.Error(), tc.bad)) {
				t.Errorf("error %v, want %q", bad, tc.bad)
			}
			if warning != tc.warning {
				t.Errorf("warning %q, want %q", warning, tc.warning)
			}
		})
	}
}
