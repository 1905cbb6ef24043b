package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mailmon/mailmon/internal/probe"
)

// docFiles are the README and the pages of docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(pages) == 0 {
		t.Fatalf("docs/*.md: %v %v", pages, err)
	}
	return append([]string{"../../README.md"}, pages...)
}

// TestDocsStandAlone: every relative link of the README and of docs/
// leads to a file of the repository (and an anchor to a heading of its
// page), every page is in the index, and nothing points outside the
// repository.
func TestDocsStandAlone(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	index, err := os.ReadFile("../../docs/README.md")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.Contains(text, "../shared") || strings.Contains(text, "SPEC.md") {
			t.Errorf("%s refers to a file outside the repository (../shared, SPEC.md)", f)
		}
		if base := filepath.Base(f); strings.HasPrefix(f, "../../docs/") && base != "README.md" && !strings.Contains(string(index), "]("+base+")") {
			t.Errorf("docs/%s is not in the index, docs/README.md", base)
		}
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			full := f
			if path != "" {
				full = filepath.Join(filepath.Dir(f), path)
			}
			abs, _ := filepath.Abs(full)
			if !strings.HasPrefix(abs, root+string(filepath.Separator)) {
				t.Errorf("%s: %s leads outside the repository", f, target)
				continue
			}
			page, err := os.ReadFile(full)
			if err != nil {
				t.Errorf("%s: %s: %v", f, target, err)
				continue
			}
			if anchor != "" && !hasAnchor(string(page), anchor) {
				t.Errorf("%s: %s: no heading %q in %s", f, target, anchor, path)
			}
		}
	}
}

// hasAnchor says whether a Markdown page has a heading whose GitHub
// anchor is a.
func hasAnchor(page, a string) bool {
	for _, l := range strings.Split(page, "\n") {
		h, ok := strings.CutPrefix(l, "#")
		if !ok {
			continue
		}
		h = strings.ToLower(strings.TrimSpace(strings.TrimLeft(h, "#")))
		var b strings.Builder
		for _, r := range h {
			switch {
			case r == ' ':
				b.WriteByte('-')
			case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 0x7f:
				b.WriteRune(r)
			}
		}
		if b.String() == a {
			return true
		}
	}
	return false
}

// TestTroubleshootingHasEveryCode: docs/troubleshooting.md has an entry
// for every error code a test can end with: a heading and a fix.
func TestTroubleshootingHasEveryCode(t *testing.T) {
	b, err := os.ReadFile("../../docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, c := range probe.Codes() {
		head := "### `" + string(c) + "`"
		i := strings.Index(text, head)
		if i < 0 {
			t.Errorf("docs/troubleshooting.md has no entry %q", head)
			continue
		}
		entry := text[i+len(head):]
		if j := strings.Index(entry, "\n#"); j >= 0 {
			entry = entry[:j]
		}
		if !strings.Contains(entry, "**Fix:**") || !strings.Contains(entry, c.Message()) && !strings.Contains(strings.Join(strings.Fields(entry), " "), c.Message()) {
			t.Errorf("the entry of %s lacks its message %q or a **Fix:**", c, c.Message())
		}
	}
}
