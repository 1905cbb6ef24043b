package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "17d50b5f0c0ffee0000000000000000000000000"},
		{Key: "vcs.time", Value: "2026-12-05T20:52:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
	}{
		{"linker flags win", "0.1.0-dev.228.g17d50b5", "abc", "2026-12-01T00:00:00Z", vcs,
			Info{Version: "0.1.0-dev.228.g17d50b5", Commit: "abc", Date: "2026-12-01T00:00:00Z", Go: "go1.26.8"}},
		{"go build in a checkout", "", "", "", vcs,
			Info{Version: "dev", Commit: "17d50b5f0c0ffee0000000000000000000000000", Date: "2026-12-05T20:52:00Z", Modified: true, Go: "go1.26.8"}},
		{"go install module@version", "", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.2.0"}},
			Info{Version: "0.2.0", Go: "go1.26.8"}},
		{"nothing recorded", "", "", "", nil, Info{Version: "dev"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := resolve(tc.version, tc.commit, tc.date, tc.bi)
			if tc.want.Go == "" {
				tc.want.Go = got.Go // the running toolchain's
			}
			tc.want.Platform = got.Platform
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	i := Info{Version: "0.1.0", Commit: "17d50b5f0c0ffee0", Date: "2026-12-05T20:52:00Z", Modified: true, Go: "go1.26.8", Platform: "linux/amd64"}
	if got, want := i.String(), "mailmon 0.1.0 (commit 17d50b5f0c0f+modified of 2026-12-05T20:52:00Z) go1.26.8 linux/amd64"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := (Info{Version: "dev", Go: "go1.26.8", Platform: "linux/amd64"}).String(); got != "mailmon dev go1.26.8 linux/amd64" {
		t.Errorf("without a commit: %q", got)
	}
	if !strings.HasPrefix(Get().String(), "mailmon ") {
		t.Errorf("Get: %q", Get().String())
	}
}
