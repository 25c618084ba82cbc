package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

func errorf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}

func warnf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}

func ptr(r hcl.Range) *hcl.Range { return &r }

// at renders a range for a detail message: "main.hcl:3,1".
func at(r hcl.Range) string { return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column) }
