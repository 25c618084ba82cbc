package postgrescdc

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/connector"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		values map[string]any
		want   []string // attribute: summary
	}{
		{map[string]any{"slot": "pipectl_shop", "tables": []string{"public.orders", "items", "sales.*"}}, nil},
		{map[string]any{"slot": "s", "tables": []string{"public.[x"}}, []string{"tables: Invalid table pattern"}},
		{map[string]any{"slot": "Bad-Slot", "publication": "ok_pub", "tables": []string{"a.b.c", "x."}},
			[]string{"slot: Invalid slot name", "tables: Invalid table name", "tables: Invalid table name"}},
		{map[string]any{"slot": "s", "publication": "9pub", "tables": []string{"t"}, "tasks": int64(2)},
			[]string{"publication: Invalid publication name", "tasks: Too many tasks"}},
	}
	for _, c := range cases {
		var got []string
		for _, e := range check(c.values) {
			got = append(got, e.Attribute+": "+e.Summary)
		}
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("check(%v) (-want +got):\n%s", c.values, d)
		}
	}
}

// A DSN that does not parse fails Open without quoting it (it may hold a
// password), before any connection.
func TestOpenBadDSNWithheld(t *testing.T) {
	s := new(source)
	err := s.Open(context.Background(), &connector.TaskContext{Tasks: 1, Config: map[string]any{
		"dsn": "postgres://u:s3cret@host:notaport/db", "tables": []string{"t"}, "slot": "s"}})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "dsn") {
		t.Errorf("Open = %v", err)
	}
	s = new(source)
	err = s.Open(context.Background(), &connector.TaskContext{Tasks: 2, Config: map[string]any{
		"dsn": "postgres://u@host/db", "tables": []string{"t"}, "slot": "s"}})
	if err == nil || !strings.Contains(err.Error(), "one task") {
		t.Errorf("Open with 2 tasks = %v", err)
	}
}

// scrub takes the DSN and its password out of any error, URL-escaped too.
func TestScrub(t *testing.T) {
	s := &source{cfg: Config{DSN: "postgres://u:p%2Fw0rd@h/db"}, password: "p/w0rd"}
	for _, msg := range []string{
		`table public.p/w0rd does not exist`,
		`cannot parse postgres://u:p%2Fw0rd@h/db`,
		`password p%2Fw0rd`,
	} {
		got := s.scrub(errors.New(msg)).Error()
		if strings.Contains(got, "w0rd") || !strings.Contains(got, "(redacted)") {
			t.Errorf("scrub(%q) = %q", msg, got)
		}
	}
	plain := errors.New("relation does not exist")
	if got := s.scrub(plain); got != plain {
		t.Errorf("an error without a secret changed: %v", got)
	}
	if s.scrub(nil) != nil {
		t.Error("scrub(nil) is not nil")
	}
}
