package configschema

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/agext/levenshtein"
)

// Nearest returns the candidate nearest to given by edit distance when it
// is near enough to be a likely typo, else "". This is the one rule of
// "Did you mean …?" in the project: at most 2 edits (3 for names of 9
// characters or more), and fewer edits than given has characters, so that
// a short name is not "corrected" into an unrelated one. Ties go to the
// candidate first in sorted order; given itself is never suggested.
func Nearest(given string, candidates []string) string {
	n := utf8.RuneCountInString(given)
	if n > 256 {
		return ""
	}
	limit := 2
	if n >= 9 {
		limit = 3
	}
	limit = min(limit, n-1)
	best, bestDist := "", limit+1
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if c == given {
			continue
		}
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean is Nearest as the end of a diagnostic's detail:
// ` Did you mean "x"?` with a leading space, or "" when no candidate is
// near.
func DidYouMean(given string, candidates []string) string {
	best := Nearest(given, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// Alternatives lists items quoted for a message: `"a"`, `"a" or "b"`,
// `"a", "b" or "c"`.
func Alternatives(items []string) string { return join(items, "or") }

func join(items []string, conj string) string {
	var b strings.Builder
	for i, it := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			b.WriteString(" " + conj + " ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", it)
	}
	return b.String()
}
