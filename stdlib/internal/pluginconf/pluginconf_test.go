package pluginconf

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestToInt64(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
		ok   bool
	}{
		{int64(-5), -5, true},
		{7, 7, true},
		{int32(3), 3, true},
		{uint64(9), 9, true},
		{uint64(math.MaxUint64), 0, false},
		{float64(42), 42, true},
		{1.5, 0, false},
		{1e19, 0, false},
		{json.Number("12"), 12, true},
		{json.Number("12.0"), 12, true},
		{json.Number("x"), 0, false},
		{"12", 0, false},
		{nil, 0, false},
	} {
		got, ok := ToInt64(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ToInt64(%#v) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestConfig(t *testing.T) {
	c := Config{
		"s": "x", "b": true, "i": float64(3), "f": int64(2), "d": "1m30s", "l": []any{"a", "b"}, "ls": []string{"c"},
		"null": nil, "bad": struct{}{}, "badlist": []any{"a", 1}, "negd": "-1s",
	}
	type result struct {
		S        string
		B        bool
		I        int64
		F        float64
		D        time.Duration
		L, LS, N []string
	}
	var r result
	var errs []error
	keep := func(err error) { errs = append(errs, err) }
	var err error
	r.S, err = c.String("s", "")
	keep(err)
	r.B, err = c.Bool("b", false)
	keep(err)
	r.I, err = c.Int("i", 0)
	keep(err)
	r.F, err = c.Float("f", 0)
	keep(err)
	r.D, err = c.Duration("d", 0)
	keep(err)
	r.L, err = c.Strings("l")
	keep(err)
	r.LS, err = c.Strings("ls")
	keep(err)
	r.N, err = c.Strings("null")
	keep(err)
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	want := result{"x", true, 3, 2, 90 * time.Second, []string{"a", "b"}, []string{"c"}, nil}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if s, _ := c.String("absent", "def"); s != "def" {
		t.Errorf("default not used: %q", s)
	}
	if d, _ := c.Duration("null", time.Second); d != time.Second {
		t.Errorf("null duration: %v, want the default", d)
	}
	for name, f := range map[string]func() error{
		"string":   func() error { _, err := c.String("bad", ""); return err },
		"bool":     func() error { _, err := c.Bool("s", false); return err },
		"int":      func() error { _, err := c.Int("s", 0); return err },
		"float":    func() error { _, err := c.Float("s", 0); return err },
		"duration": func() error { _, err := c.Duration("s", 0); return err },
		"negative": func() error { _, err := c.Duration("negd", 0); return err },
		"strings":  func() error { _, err := c.Strings("badlist"); return err },
	} {
		if f() == nil {
			t.Errorf("%s: a value of the wrong type was accepted", name)
		}
	}
}
