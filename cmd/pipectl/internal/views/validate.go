package views

import (
	"github.com/hashicorp/hcl/v2"
)

// Validate shows the result of `pipectl validate`.
type Validate interface {
	// Results shows the diagnostics of loading the configuration and
	// whether it is valid; files give the source for snippets.
	Results(diags hcl.Diagnostics, files map[string]*hcl.File)
}

// NewValidate returns the JSON form of the view when json is set, else the
// human form.
func NewValidate(json bool, v *View) Validate {
	if json {
		return &validateJSON{v}
	}
	return &validateHuman{v}
}

type validateHuman struct{ *View }

func (v *validateHuman) Results(diags hcl.Diagnostics, files map[string]*hcl.File) {
	v.Diagnostics(diags, files)
	if diags.HasErrors() {
		return
	}
	if len(diags) > 0 {
		// Terraform's wording: warnings (an inferred record shape that a
		// transform does not fit, say) are worth a second look.
		v.out("\n" + paint(v.streams.StdoutColor, "Success!", ansiBold, ansiGreen) + " The configuration is valid, but there were some warnings as shown above.\n")
		return
	}
	v.out(paint(v.streams.StdoutColor, "Success!", ansiBold, ansiGreen) + " The configuration is valid.\n")
}

type validateJSON struct{ *View }

// validateOutput is the document `pipectl validate -json` prints.
type validateOutput struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

func (v *validateJSON) Results(diags hcl.Diagnostics, files map[string]*hcl.File) {
	errs, warns := countDiagnostics(diags)
	v.json(validateOutput{
		FormatVersion: jsonFormatVersion,
		Valid:         errs == 0,
		ErrorCount:    errs,
		WarningCount:  warns,
		Diagnostics:   newJSONDiagnostics(diags, files),
	})
}
