package wire

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes server text safe to store and show: valid UTF-8, no NUL,
// no other control character but tab (C0, DEL, C1), and no character that
// reorders text without showing itself (IsHidden). Invalid bytes and
// those characters become U+FFFD, so that something shows where they were.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 && b != '\t' || b == 0x7f || b >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == 0:
			// dropped: NUL never reaches storage
		case r != '\t' && IsHidden(r):
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsHidden reports whether r is a control character (C0, DEL, C1: a
// terminal may act on it) or a character that changes how the text around
// it shows without showing itself: the bidirectional formatting
// characters (Unicode's Bidi_Control: the embeddings and overrides
// U+202A–U+202E, the isolates U+2066–U+2069, the marks U+200E, U+200F and
// U+061C) and the line and paragraph separators U+2028 and U+2029. With
// them, "txt.exe" can show as "exe.txt", and one name as another.
func IsHidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// Truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
