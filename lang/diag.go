package lang

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

func errorf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}

func warnf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}

func ptr(r hcl.Range) *hcl.Range { return &r }

// suggest returns ` Did you mean "x"?` for the nearest option, or "".
func suggest(given string, options []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), options...)
	sort.Strings(sorted)
	for _, o := range sorted {
		if d := levenshtein.Distance(given, o, nil); d < bestDist {
			best, bestDist = o, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// at renders a range for a detail message: "main.hcl:3,1".
func at(r hcl.Range) string { return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column) }
