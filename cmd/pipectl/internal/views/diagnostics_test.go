package views

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

const mainSrc = `fleet {
  name = "shop"
}

transform "drop_small" {
  filter = "value.amount >= 10"
}

source "generator" "orders" {
  topic      = "orders"
  value      = "{'id': seq}"
  transforms = [transform.drop_smal]
  rate       = 100
}
`

// tabSrc is indented with tabs and holds multi-byte characters before the
// subject, so that underlines must line up by character, not byte.
const tabSrc = "topic \"é\" {\n\tname\t= \"ünï.${var.nope}\"\n}\n"

// testFiles parses the sources the way lang.Load does, so that the files
// carry the navigation that gives the "in source ..." context.
func testFiles(t *testing.T) map[string]*hcl.File {
	t.Helper()
	files := map[string]*hcl.File{}
	for name, src := range map[string]string{"main.hcl": mainSrc, "dir/tabs.hcl": tabSrc} {
		f, diags := hclsyntax.ParseConfig([]byte(src), name, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("parse %s: %s", name, diags.Error())
		}
		files[name] = f
	}
	return files
}

// rng builds a range from line/column pairs of a file, with the byte
// offsets computed from the source, as HCL would.
func rng(t *testing.T, files map[string]*hcl.File, name string, sl, sc, el, ec int) *hcl.Range {
	t.Helper()
	src := files[name].Bytes
	starts := lineStarts(src)
	pos := func(l, c int) hcl.Pos {
		p := hcl.Pos{Line: l, Column: c, Byte: -1}
		p.Byte = offsetOf(src, starts, p)
		return p
	}
	return &hcl.Range{Filename: name, Start: pos(sl, sc), End: pos(el, ec)}
}

func testDiagnostics(t *testing.T, files map[string]*hcl.File) hcl.Diagnostics {
	return hcl.Diagnostics{
		{
			Severity: hcl.DiagError,
			Summary:  "Unknown transform",
			Detail:   `There is no transform named "drop_smal". Did you mean "drop_small"?`,
			Subject:  rng(t, files, "main.hcl", 12, 17, 12, 36),
		},
		{
			Severity: hcl.DiagWarning,
			Summary:  "Transform is never used",
			Detail:   "The transform \"drop_small\" is declared but no source or sink lists it in its transforms, so it has no effect on any record. Remove it, or add transform.drop_small to a pipeline.",
			Subject:  rng(t, files, "main.hcl", 5, 1, 7, 2),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Missing required attribute",
			Detail:   "The generator source needs:\n\n  seed = 42\n\nset on the block, with a long paragraph after the preformatted lines that must be wrapped at seventy-eight columns.",
			Subject:  rng(t, files, "main.hcl", 9, 1, 14, 2),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Cannot read configuration directory",
			Detail:   "open nosuch: no such file or directory",
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Missing newline after attribute",
			Detail:   "An attribute definition must end with a newline.",
			Subject:  rng(t, files, "main.hcl", 2, 16, 2, 16),
		},
		{
			Severity: hcl.DiagError,
			Summary:  "Undeclared variable",
			Detail:   `A variable named "nope" has not been declared.`,
			Subject:  rng(t, files, "dir/tabs.hcl", 2, 16, 2, 24),
		},
		{
			Severity: hcl.DiagWarning,
			Summary:  "File not loaded",
			Subject:  &hcl.Range{Filename: "gone.hcl", Start: hcl.Pos{Line: 3, Column: 5, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 24}},
		},
	}
}

func TestDiagnosticsHuman(t *testing.T) {
	files := testFiles(t)
	got := formatDiagnostics(testDiagnostics(t, files), files, false)
	golden(t, "diagnostics.txt", got)
	if strings.Contains(got, "\x1b[") {
		t.Error("output without colour contains escape codes")
	}
}

// TestDiagnosticExample pins the example of the design: one error, exact.
func TestDiagnosticExample(t *testing.T) {
	files := testFiles(t)
	got := formatDiagnostics(testDiagnostics(t, files)[:1], files, false)
	want := `Error: Unknown transform

  on main.hcl:12:17, in source "generator" "orders":
  12:   transforms = [transform.drop_smal]
                      ^^^^^^^^^^^^^^^^^^^

There is no transform named "drop_smal". Did you mean "drop_small"?
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestDiagnosticsColour(t *testing.T) {
	files := testFiles(t)
	got := formatDiagnostics(testDiagnostics(t, files)[:2], files, true)
	for _, want := range []string{
		ansiBold + ansiRed + "Error:" + ansiReset,
		ansiBold + ansiYellow + "Warning:" + ansiReset,
		ansiBold + ansiRed + "^^^",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("coloured output lacks %q:\n%s", want, got)
		}
	}
}

func TestDiagnosticsJSON(t *testing.T) {
	files := testFiles(t)
	v, stdout, stderr := testView()
	NewValidate(true, v).Results(testDiagnostics(t, files), files)
	golden(t, "diagnostics.json", stdout.String())
	if stderr.Len() != 0 {
		t.Errorf("JSON view wrote to stderr: %q", stderr)
	}

	// The highlight offsets select the subject's text in the snippet.
	var doc validateOutput
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Valid || doc.ErrorCount != 5 || doc.WarningCount != 2 {
		t.Errorf("valid=%v errors=%d warnings=%d; want false, 5, 2", doc.Valid, doc.ErrorCount, doc.WarningCount)
	}
	sn := doc.Diagnostics[0].Snippet
	if got := sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset]; got != "transform.drop_smal" {
		t.Errorf("highlight selects %q; want transform.drop_smal", got)
	}
	if sn := doc.Diagnostics[5].Snippet; sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset] != "var.nope" {
		t.Errorf("highlight in a multi-byte line selects %q; want var.nope", sn.Code[sn.HighlightStartOffset:sn.HighlightEndOffset])
	}
	if doc.Diagnostics[3].Range != nil || doc.Diagnostics[3].Snippet != nil {
		t.Error("a diagnostic without subject has a range or snippet")
	}
	if doc.Diagnostics[6].Range == nil || doc.Diagnostics[6].Snippet != nil {
		t.Error("a diagnostic in an unknown file must have a range and no snippet")
	}
}

func TestValidateHuman(t *testing.T) {
	files := testFiles(t)
	warning := testDiagnostics(t, files)[1:2]

	t.Run("valid", func(t *testing.T) {
		v, stdout, stderr := testView()
		NewValidate(false, v).Results(nil, files)
		if got, want := stdout.String(), "Success! The configuration is valid.\n"; got != want {
			t.Errorf("stdout = %q; want %q", got, want)
		}
		if stderr.Len() != 0 {
			t.Errorf("stderr = %q; want nothing", stderr)
		}
	})
	t.Run("warnings", func(t *testing.T) {
		v, stdout, stderr := testView()
		NewValidate(false, v).Results(warning, files)
		golden(t, "validate_warnings.txt", "stderr:\n"+stderr.String()+"stdout:\n"+stdout.String())
	})
	t.Run("errors", func(t *testing.T) {
		v, stdout, stderr := testView()
		NewValidate(false, v).Results(testDiagnostics(t, files)[:1], files)
		if stdout.Len() != 0 {
			t.Errorf("stdout = %q; want nothing on errors", stdout)
		}
		if !strings.HasPrefix(stderr.String(), "Error: Unknown transform\n") {
			t.Errorf("stderr = %q", stderr)
		}
	})
	t.Run("valid JSON", func(t *testing.T) {
		v, stdout, _ := testView()
		NewValidate(true, v).Results(nil, nil)
		want := "{\n  \"format_version\": \"1.0\",\n  \"valid\": true,\n  \"error_count\": 0,\n  \"warning_count\": 0,\n  \"diagnostics\": []\n}\n"
		if diff := cmp.Diff(want, stdout.String()); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestSnippetEdges(t *testing.T) {
	src := "a = 1\nb = [\n  2,\n]\n"
	f, _ := hclsyntax.ParseConfig([]byte(src), "e.hcl", hcl.InitialPos)
	files := map[string]*hcl.File{"e.hcl": f}
	tests := []struct {
		name string
		r    hcl.Range
		want string
	}{
		{
			name: "range ending at the start of the next line stays on one line",
			r:    hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 1, Column: 1, Byte: 0}, End: hcl.Pos{Line: 2, Column: 1, Byte: 6}},
			want: "  on e.hcl:1:1:\n  1: a = 1\n     ^^^^^\n",
		},
		{
			name: "end of file",
			r:    hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 5, Column: 1, Byte: 20}, End: hcl.Pos{Line: 5, Column: 1, Byte: 20}},
			want: "  on e.hcl:5:1:\n  5:\n     ^\n",
		},
		{
			name: "multi-line underlines from the first non-blank character",
			r:    hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 2, Column: 5, Byte: 10}, End: hcl.Pos{Line: 4, Column: 2, Byte: 18}},
			want: "  on e.hcl:2:5:\n  2: b = [\n         ^\n  3:   2,\n       ^^\n  4: ]\n     ^\n",
		},
		{
			name: "a subject covering only the line ending gets a caret after the line",
			r:    hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 1, Column: 6, Byte: 5}, End: hcl.Pos{Line: 2, Column: 1, Byte: 6}},
			want: "  on e.hcl:1:6:\n  1: a = 1\n          ^\n",
		},
		{
			name: "line numbers beyond the file show no snippet",
			r:    hcl.Range{Filename: "e.hcl", Start: hcl.Pos{Line: 40, Column: 1}, End: hcl.Pos{Line: 40, Column: 3}},
			want: "  on e.hcl:40:1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sb strings.Builder
			writeLocation(&sb, tt.r, files, false, "")
			if diff := cmp.Diff(tt.want, sb.String()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
