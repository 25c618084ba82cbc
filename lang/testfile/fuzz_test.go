package testfile

import "testing"

// FuzzParse: any input gives a file or diagnostics, never a panic, and
// every error diagnostic points into the file.
func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("run \"x\" {\n  pipeline = sink.file.out\n  record {\n    value_raw = \"{\"\n  }\n  expect {\n    dead_letters = [{ stage = \"converter\" }]\n  }\n}\n"))
	f.Add([]byte("run \"x\" {\n  transforms = [transform.a]\n  assert {\n    condition = \"value.a ++\"\n    error_message = \"m\"\n  }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := Parse(src, "fuzz.pipetest.hcl")
		if diags.HasErrors() && file != nil {
			t.Fatalf("a file despite errors: %v", diags)
		}
		if !diags.HasErrors() && file == nil {
			t.Fatalf("no file and no error")
		}
		for _, d := range diags {
			if r := d.Subject; r != nil && (r.Filename != "fuzz.pipetest.hcl" || r.Start.Byte > len(src) || r.End.Byte > len(src) || r.Start.Line < 1) {
				t.Fatalf("diagnostic %q points outside the file: %+v", d.Summary, r)
			}
		}
	})
}
