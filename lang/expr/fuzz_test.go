package expr

import (
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"value.amount >= 10",
	"!value.email.endsWith('@corp.example')",
	"sha256(value.email)",
	"valu.x",
	"value.amount >=",
	"value.amount >= 10 &&\n  valu.ok",
	"'日本' == value.x &&\n  'ü' == valu.y",
	"'😀' + valu",
	"\xff\xfe\n\x00valu",
	"",
	"\n\n\n",
	"((((((((((((((((((((1))))))))))))))))))))",
	"{'id': offset, 'email': 'u' + string(offset) + (offset % 3 == 0 ? '@corp.example' : '@example.com')}",
	"value.items.map(i, i.price * 2).filter(p, p > 10).size() > 0",
	"value.s.matches('^[0-9]{3}$')",
	"'%s-%d'.format([topic, partition])",
	"headers['h'] == 'v' && timestamp < now()",
	"uuid() != uuid()",
	"math.greatest(1, 2.0, 3u)",
	"lists.range(5).sortBy(x, -x)",
	"base64.decode('aGk=') == b'hi'",
	"value.`a-b` == 1",
	"1 / 0",
	"9223372036854775807 + 1",
	"dyn(value).x.y[0]['z']",
	"type(value) == map",
	"duration('1h') + timestamp",
	"[1, 'a', 2.0, null, b'x', {1: 2}]",
	"\"unterminated",
	"/* comment */ true // trailing",
	"value.x ? : y",
	"has(value.x) && has(headers.h)",
}

// FuzzCompile checks that Compile never panics and that every Issue points
// inside the source.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, src string, want uint8) {
		p, issues := RecordEnv().Compile(src, Type(want%3))
		if (p == nil) == (len(issues) == 0) {
			t.Fatalf("Compile(%q) = %v, %+v: want a program or issues, not both or neither", src, p, issues)
		}
		for _, is := range issues {
			if is.Offset < -1 || is.End < is.Offset || is.End > len(src) {
				t.Errorf("Compile(%q): issue %+v outside the source (length %d)", src, is, len(src))
			}
			if is.Message == "" {
				t.Errorf("Compile(%q): issue %+v has no message", src, is)
			}
			if strings.Contains(is.Message, "internal error") {
				t.Errorf("Compile(%q): %s", src, is.Message)
			}
		}
	})
}

// FuzzEval compiles and evaluates random expressions over a fixed record:
// no panic, and every error is an *EvalError pointing inside the source.
func FuzzEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	record := map[string]any{
		"key":       []byte("k"),
		"value":     map[string]any{"amount": 12.5, "email": "a@b.c", "s": "123", "items": []any{map[string]any{"price": int64(7)}, nil, "x"}, "a-b": int64(1)},
		"headers":   map[string]string{"h": "v"},
		"topic":     "orders",
		"partition": int64(1),
		"offset":    int64(2),
		"timestamp": time.Unix(1700000000, 0),
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, issues := RecordEnv().Compile(src, Dyn)
		if len(issues) > 0 {
			return
		}
		v, err := p.Eval(record)
		if err == nil {
			// A program that declares the schema of its result keeps it.
			if s := p.OutputSchema(); s != nil {
				if err := s.CheckValue(v); err != nil {
					t.Fatalf("Eval(%q) = %#v, which does not fit its OutputSchema %s: %v", src, v, s, err)
				}
			}
			return
		}
		ee, ok := err.(*EvalError)
		if !ok {
			t.Fatalf("Eval(%q): error %v is a %T, want *EvalError", src, err, err)
		}
		if ee.Offset < -1 || ee.End < ee.Offset || ee.End > len(src) {
			t.Errorf("Eval(%q): error %+v outside the source", src, ee)
		}
		if strings.Contains(ee.Message, "internal error") {
			t.Errorf("Eval(%q): %s", src, ee.Message)
		}
	})
}
