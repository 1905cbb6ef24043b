package wire

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSanitize: whatever the server sends, what Sanitize returns is valid
// UTF-8 without NUL or a hidden character, is left alone by a second
// Sanitize, and is the input itself when that was clean already.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"", "plain", "tab\tok", "nul\x00", "\x1b[31mred\x1b[0m", "\u009b31m", "\u0085",
		"txt\u202eexe.txt", "\u2066iso\u2069", "\u200e\u200f\u061c", "\u2028\u2029",
		"\xff\xfe", "\xc3\x28", "\xe2\x80", "\xe2\x80\xae", "ünïcödé", "עברית", "👩\u200d💻",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		if !utf8.ValidString(out) || strings.ContainsRune(out, 0) {
			t.Fatalf("Sanitize(%q) = %q: invalid UTF-8 or NUL", in, out)
		}
		for _, r := range out {
			if r != '\t' && IsHidden(r) {
				t.Fatalf("Sanitize(%q) = %q holds %U", in, out, r)
			}
		}
		if again := Sanitize(out); again != out {
			t.Fatalf("Sanitize is not idempotent: %q, then %q", out, again)
		}
		if len(out) > 3*len(in) {
			t.Fatalf("Sanitize(%q) grew to %d bytes", in, len(out))
		}
		clean := utf8.ValidString(in)
		for _, r := range in {
			clean = clean && r != 0 && (r == '\t' || !IsHidden(r))
		}
		if clean && out != in {
			t.Fatalf("Sanitize changed clean text %q to %q", in, out)
		}
	})
}
