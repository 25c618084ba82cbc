package pipetest

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCanonical(t *testing.T) {
	type point struct{ X int }
	n := int16(3)
	for _, c := range []struct {
		in   any
		want any
	}{
		{int8(-2), int64(-2)},
		{uint16(7), int64(7)},
		{[]string{"a", "b"}, []any{"a", "b"}},
		{map[string]int{"a": 1}, map[string]any{"a": int64(1)}},
		{&n, int64(3)},
		{(*int)(nil), nil},
		{point{X: 1}, unsupported{GoType: "pipetest.point"}},
		{map[int]string{1: "a"}, unsupported{GoType: "map[int]string"}},
	} {
		if d := cmp.Diff(c.want, canonical(c.in)); d != "" {
			t.Errorf("canonical(%#v) (-want +got):\n%s", c.in, d)
		}
	}
	// An unsupported value equals no expected value, even one of its text.
	if reflect.DeepEqual(canonical(point{X: 1}), canonical("{1}")) {
		t.Errorf("an unsupported value equals its text")
	}
}
