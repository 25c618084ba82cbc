package views

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// ImportWarning is one thing pipectl import connect could not carry over.
type ImportWarning struct {
	Connector, Key, Summary, Detail string
}

// ImportWarnings prints the warnings of an import to stderr, as Terraform
// prints warnings.
func (v *View) ImportWarnings(ws []ImportWarning) {
	var diags hcl.Diagnostics
	for _, w := range ws {
		where := fmt.Sprintf("Connector %q", w.Connector)
		if w.Key != "" {
			where += fmt.Sprintf(", setting %q", w.Key)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: w.Summary, Detail: where + ": " + w.Detail})
	}
	if len(diags) > 0 {
		v.Diagnostics(diags, nil)
	}
}

// ImportedFile prints a file the import wrote to standard output (without
// -out), or names the file it wrote into the directory.
func (v *View) ImportedFile(name string, src []byte, toStdout bool) {
	if toStdout {
		v.out("# File: " + name + "\n")
		v.streams.Stdout.Write(src)
		v.out("\n")
		return
	}
	v.out("Wrote " + name + "\n")
}

// ImportSummary ends an import.
func (v *View) ImportSummary(connectors, files, warnings int) {
	if warnings > 0 {
		v.err("\n")
	}
	v.err(fmt.Sprintf("Imported %d Kafka Connect %s into %d %s with %d %s.\n",
		connectors, plural(connectors, "connector", "connectors"), files, plural(files, "file", "files"), warnings, plural(warnings, "warning", "warnings")))
}
