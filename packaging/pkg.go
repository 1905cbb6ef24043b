package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the packagers
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// writePackage writes the .deb or .rpm described by nfpm.yaml (read from
// the working directory, packaging/) into b.Out, under the format's
// conventional name.
func writePackage(b *build, format string) (string, error) {
	man, err := filepath.Abs(filepath.Join(b.Out, "mailmon.1.gz"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(man); err != nil {
		return "", fmt.Errorf("the man page: %w (the man step comes first)", err)
	}
	bin, err := filepath.Abs(b.Binary)
	if err != nil {
		return "", err
	}
	check, err := filepath.Abs(b.Check)
	if err != nil {
		return "", err
	}
	vars := map[string]string{"VERSION": b.Version, "BINARY": bin, "CHECKBINARY": check, "MANPAGE": man}
	cfg, err := nfpm.ParseFileWithEnvMapping("nfpm.yaml", func(k string) string { return vars[k] })
	if err != nil {
		return "", err
	}
	info, err := cfg.Get(format)
	if err != nil {
		return "", err
	}
	info.MTime = b.Date
	info = nfpm.WithDefaults(info)
	pkg, err := nfpm.Get(format)
	if err != nil {
		return "", err
	}
	path := filepath.Join(b.Out, pkg.ConventionalFileName(info))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	info.Target = path
	if err := pkg.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	return path, f.Close()
}
