package probe

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// Suggest returns the known word nearest to word, for a "did you mean":
// the same word in other capitals, else the closest by edit distance
// (within a third of its length, at least two edits), else one that word
// begins (--password for --password-file). "" when none is near.
func Suggest(word string, known []string) string {
	if word == "" {
		return ""
	}
	lower := strings.ToLower(word)
	best, bestDist := "", 0
	for _, k := range known {
		if strings.EqualFold(k, word) {
			return k
		}
		d := levenshtein.ComputeDistance(lower, strings.ToLower(k))
		if best == "" || d < bestDist {
			best, bestDist = k, d
		}
	}
	if best != "" && bestDist <= max(2, len(word)/3) && bestDist < len(word) {
		return best
	}
	if len(word) >= 3 {
		for _, k := range known {
			if strings.HasPrefix(strings.ToLower(k), lower) {
				return k
			}
		}
	}
	return ""
}

// DidYouMean is Suggest as the end of a message: `; did you mean "type"?`,
// or "" when no known word is near.
func DidYouMean(word string, known []string) string {
	if s := Suggest(word, known); s != "" {
		return `; did you mean "` + s + `"?`
	}
	return ""
}
