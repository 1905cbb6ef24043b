// Command packaging writes mailmon's release files from a built binary:
// the man page, the .deb and .rpm (nfpm), and the container image
// (go-containerregistry). "make package" runs it; see README.md.
//
//	go run . -binary BIN -check-binary BIN -version V -commit C -date D -out DIR [man|deb|rpm|image]…
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// build is what every output is made from.
type build struct {
	Binary  string    // the static mailmon binary
	Check   string    // the static mailmon-check binary (cmd/mailmon-check)
	Version string    // semver, as mailmon version says it
	Commit  string    // may be empty
	Date    time.Time // the commit's: every file's mtime, for reproducible outputs
	Out     string    // the directory written to
}

func main() {
	var b build
	var date string
	flag.StringVar(&b.Binary, "binary", "", "the static mailmon binary")
	flag.StringVar(&b.Check, "check-binary", "", "the static mailmon-check binary")
	flag.StringVar(&b.Version, "version", "", "the version (packaging/version.sh)")
	flag.StringVar(&b.Commit, "commit", "", "the commit")
	flag.StringVar(&date, "date", "", "the commit's date, RFC 3339 (default: now)")
	flag.StringVar(&b.Out, "out", "dist", "the output directory")
	flag.Parse()
	if err := run(&b, date, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		os.Exit(1)
	}
}

func run(b *build, date string, steps []string) error {
	if b.Binary == "" || b.Check == "" || b.Version == "" {
		return fmt.Errorf("-binary, -check-binary and -version are required")
	}
	b.Date = time.Now().UTC().Truncate(time.Second)
	if date != "" {
		d, err := time.Parse(time.RFC3339, date)
		if err != nil {
			return fmt.Errorf("-date: %w", err)
		}
		b.Date = d.UTC()
	}
	if len(steps) == 0 {
		steps = []string{"man", "deb", "rpm", "image"}
	}
	if err := os.MkdirAll(b.Out, 0o755); err != nil {
		return err
	}
	for _, s := range steps {
		var path string
		var err error
		switch s {
		case "man":
			path, err = writeMan(b)
		case "deb", "rpm":
			path, err = writePackage(b, s)
		case "image":
			path, err = writeImage(b, "Dockerfile")
		default:
			return fmt.Errorf("unknown step %q (man, deb, rpm or image)", s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		fmt.Println(path)
	}
	return nil
}
