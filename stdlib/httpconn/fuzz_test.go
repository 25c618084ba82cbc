package httpconn

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplitBody checks that no body panics the splitter, that a body it
// accepts gives only valid JSON documents (ndjson, json), one per
// non-blank line, and that a refused body gives nothing.
func FuzzSplitBody(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n{\"b\":2}", "\r\n\n[1,2]\r\n", "{\"a\":", "1 2", "\"x\"\n\n\n", "", "   ", "\xff\n{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, format := range []string{"json", "ndjson", "raw"} {
			vals, err := splitBody(format, body)
			if err != nil {
				if vals != nil {
					t.Fatalf("%s: error %v with %d values", format, err, len(vals))
				}
				if _, ok := err.(*bodyError); !ok {
					t.Fatalf("%s: error of type %T", format, err)
				}
				continue
			}
			switch format {
			case "raw":
				if len(vals) != 1 || !bytes.Equal(vals[0], body) {
					t.Fatalf("raw changed the body")
				}
			case "json":
				if len(vals) != 1 || !json.Valid(vals[0]) {
					t.Fatalf("json gave %q", vals)
				}
			case "ndjson":
				lines := 0
				for _, l := range bytes.Split(body, []byte("\n")) {
					if len(bytes.TrimSpace(l)) > 0 {
						lines++
					}
				}
				if len(vals) != lines {
					t.Fatalf("ndjson gave %d values for %d non-blank lines", len(vals), lines)
				}
				for _, v := range vals {
					if !json.Valid(v) {
						t.Fatalf("ndjson gave %q", v)
					}
				}
			}
		}
	})
}

// FuzzRetryAfter checks that no Retry-After value panics or gives a
// negative wait.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "0", "-3", "Wed, 21 Oct 2015 07:28:00 GMT", "", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if d, ok := retryAfterOf(h); ok && d < 0 {
			t.Fatalf("%q gave %s", h, d)
		}
	})
}

// FuzzNextURL checks that no next value a remote endpoint sends panics the
// pagination, and that what it gives is "" or an http(s) URL.
func FuzzNextURL(f *testing.F) {
	for _, s := range []string{"page=2", "/a/b?c=d", "https://other.example/x", "javascript:alert(1)", "%zz", "", "//host/p", "?cursor=abc"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, next string, cursor bool) {
		s := &pollSource{cfg: PollConfig{URL: "http://example.com/api/items?x=1"}, cur: "http://example.com/api/items?x=1&page=3"}
		if cursor {
			s.cfg.CursorParam = "cursor"
		}
		u, err := s.nextURL(next)
		if err != nil {
			return
		}
		if u == "" {
			if next != "" {
				t.Fatalf("%q gave no URL and no error", next)
			}
			return
		}
		if checkURL(u) != nil {
			t.Fatalf("%q gave %q, not an http(s) URL with a host", next, u)
		}
	})
}
