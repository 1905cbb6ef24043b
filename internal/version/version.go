// Package version says which mailmon this is: the version, the commit it
// was built from and that commit's date, and the Go that built it.
//
// "make build" and "make package" set the three with -ldflags (from git
// describe, or the VERSION file outside a tag); a plain "go build" or "go
// install" leaves them to what the Go toolchain recorded in the binary
// (the module version, vcs.revision and vcs.time), and else "dev".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// Set with -ldflags "-X github.com/mailmon/mailmon/internal/version.version=…"
// (and .commit, .date): read them through Get.
var (
	version string
	commit  string
	date    string
)

// Info is what "mailmon version --output json" prints.
type Info struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"` // the commit's, RFC 3339
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

// String is the one line "mailmon version" prints.
func (i Info) String() string {
	s := "mailmon " + i.Version
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if i.Modified {
			c += "+modified"
		}
		s += " (commit " + c
		if i.Date != "" {
			s += " of " + i.Date
		}
		s += ")"
	}
	return fmt.Sprintf("%s %s %s", s, i.Go, i.Platform)
}

// got is Get's answer, worked out on first use (not at start-up: a
// sync.OnceValue here would be built by every process).
var (
	gotOnce sync.Once
	got     Info
)

// Get returns this binary's version.
func Get() Info {
	gotOnce.Do(func() {
		bi, _ := debug.ReadBuildInfo()
		got = resolve(version, commit, date, bi)
	})
	return got
}

// String is this binary's version alone, e.g. "0.1.0" or "dev".
func String() string { return Get().Version }

// resolve takes each field from the linker flags, else from what the Go
// toolchain recorded, else leaves it empty ("dev" for the version).
func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	i := Info{Version: version, Commit: commit, Date: date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		i.Go = bi.GoVersion
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = strings.TrimPrefix(bi.Main.Version, "v")
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			case s.Key == "vcs.modified" && commit == "":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}
