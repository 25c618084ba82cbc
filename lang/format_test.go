package lang

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "aligns equals signs and indents",
			in:   "fleet {\nname=\"x\"\nbrokers = [\"a:9092\"]\n}\n",
			want: "fleet {\n  name    = \"x\"\n  brokers = [\"a:9092\"]\n}\n",
		},
		{
			name: "nested blocks",
			in:   "sink \"file\" \"out\" {\npath=\"o.jsonl\"\nerrors {\ntolerance=\"all\"\n}\n}",
			want: "sink \"file\" \"out\" {\n  path = \"o.jsonl\"\n  errors {\n    tolerance = \"all\"\n  }\n}\n",
		},
		{
			name: "comments stay and align",
			in:   "# head\nx {\n  a = 1 # one\n  bbbb = 2 # two\n\n  /* block */ c = 3\n}\n",
			want: "# head\nx {\n  a    = 1 # one\n  bbbb = 2 # two\n\n  /* block */ c = 3\n}\n",
		},
		{
			name: "heredoc body is left alone",
			in:   "x {\nv = <<EOT\n  keep   this\n EOT\n}\n",
			want: "x {\n  v = <<EOT\n  keep   this\n EOT\n}\n",
		},
		{
			name: "indented heredoc at end of file",
			in:   "v = <<-EOT\n    x\n  EOT\n\n",
			want: "v = <<-EOT\n    x\n  EOT\n",
		},
		{
			name: "tabs and for expressions",
			in:   "a=\"${x}\"\nb = [for x in y: x if x]\n\tc\t= 3",
			want: "a = \"${x}\"\nb = [for x in y : x if x]\nc = 3\n",
		},
		{
			name: "trailing blank lines collapse to one newline",
			in:   "a = 1\n\n\n\n",
			want: "a = 1\n",
		},
		{
			name: "CRLF line endings are kept",
			in:   "a = 1\r\nbb = 2\r\n\r\n",
			want: "a  = 1\r\nbb = 2\r\n",
		},
		{
			name: "empty file stays empty",
			in:   "",
			want: "",
		},
		{
			name: "blank file becomes empty",
			in:   "\n\n",
			want: "",
		},
		{
			name: "pipevars file",
			in:   "env=\"prod\"\nreplicas    =3\n",
			want: "env      = \"prod\"\nreplicas = 3\n",
		},
		{
			name: "CEL strings and escapes are untouched",
			in:   "transform \"t\" {\nfilter=\"value.amount >= 10 && value.s != '$${x}'\"\n}\n",
			want: "transform \"t\" {\n  filter = \"value.amount >= 10 && value.s != '$${x}'\"\n}\n",
		},
		{
			name: "multi-line object and list",
			in:   "topic \"t\" {\nconfig = {\n\"retention.ms\" = \"1\"\n\"cleanup.policy\"=\"compact\"\n}\nx = [\n1,\n2,\n]\n}\n",
			want: "topic \"t\" {\n  config = {\n    \"retention.ms\"   = \"1\"\n    \"cleanup.policy\" = \"compact\"\n  }\n  x = [\n    1,\n    2,\n  ]\n}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, diags := Format([]byte(tt.in), "test.hcl")
			if diags.HasErrors() {
				t.Fatalf("unexpected diagnostics: %s", diags.Error())
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Format mismatch (-want +got):\n%s", diff)
			}
			again, diags := Format(got, "test.hcl")
			if diags.HasErrors() {
				t.Fatalf("formatted output does not parse: %s", diags.Error())
			}
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Errorf("Format is not idempotent (-first +second):\n%s", diff)
			}
		})
	}
}

// idempotenceInputs are awkward inputs on which only idempotence (and that
// the output still parses) is asserted.
var idempotenceInputs = []string{
	"x {\ny {\nz = 1\n}\n}\n",
	"a = {\n  b = 1\n  cc = [\n1,\n2]\n}",
	"a = 1 # c\nbbbbbbbbb = 2\n\n\nccc = 3 // d\n",
	"x \"a\" \"b\" { a = 1 }\n",
	"x {\n\n\n  a = 1\n\n\n}\n",
	"v = <<EOT\n${a}\n%{ for x in y }${x}%{ endfor }\nEOT\nw=1\n",
	"a = b ? c : d\nlong_name = !x && (y || z)\n",
	"m = {for k, v in x : k => v...}\n",
	"s = \"ünïcödé ${x} 🚀\"\nt=\"\\t\\n\"\n",
	"f = upper(\n\"x\",\n)\n",
	"a = [\n  # lone comment\n]\n",
	"a=1\r\nb={\r\nc=2\r\n}\r\n",
	"#!/usr/bin/env pipectl\n# only comments\n",
	"x {\n  a = 1\n  b {\n  }\n  cc = 2\n}\n",
	"x {\n  a = 1 # one\n  bbbb = 2 # two\n  /* block */ c = 3\n}\n",
}

func TestFormatIdempotent(t *testing.T) {
	for _, in := range idempotenceInputs {
		first, diags := Format([]byte(in), "test.hcl")
		if diags.HasErrors() {
			t.Errorf("Format(%q): %s", in, diags.Error())
			continue
		}
		second, diags := Format(first, "test.hcl")
		if diags.HasErrors() {
			t.Errorf("Format(Format(%q)) does not parse: %s", in, diags.Error())
			continue
		}
		if string(first) != string(second) {
			t.Errorf("Format is not idempotent on %q:\nfirst:  %q\nsecond: %q", in, first, second)
		}
	}
}

func TestFormatSyntaxError(t *testing.T) {
	got, diags := Format([]byte("fleet {\n  name = \n}\n"), "dir/main.hcl")
	if got != nil {
		t.Errorf("Format returned output %q for invalid source; want nil", got)
	}
	if !diags.HasErrors() {
		t.Fatal("Format returned no error for invalid source")
	}
	subj := diags[0].Subject
	if subj == nil {
		t.Fatalf("diagnostic %q has no subject", diags[0].Summary)
	}
	if subj.Filename != "dir/main.hcl" || subj.Start.Line != 2 {
		t.Errorf("diagnostic points at %s; want dir/main.hcl line 2", subj)
	}
}

func FuzzFormat(f *testing.F) {
	for _, in := range idempotenceInputs {
		f.Add(in)
	}
	f.Add("fleet {\n  name = \"x\"\n}\n")
	f.Fuzz(func(t *testing.T, in string) {
		first, diags := Format([]byte(in), "fuzz.hcl")
		if diags.HasErrors() {
			return
		}
		second, diags := Format(first, "fuzz.hcl")
		if diags.HasErrors() {
			t.Fatalf("formatted output does not parse: %s\ninput:  %q\noutput: %q", diags.Error(), in, first)
		}
		if string(first) != string(second) {
			t.Fatalf("not idempotent:\ninput:  %q\nfirst:  %q\nsecond: %q", in, first, second)
		}
		if len(first) > 0 && !strings.HasSuffix(string(first), "\n") {
			t.Fatalf("output does not end with a newline: %q", first)
		}
	})
}
