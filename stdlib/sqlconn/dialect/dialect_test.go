package dialect

import (
	"errors"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	cases := []struct {
		dsn, explicit string
		want          Dialect
		err           string
	}{
		{"postgres://u@h/db", "", Postgres, ""},
		{"postgresql://u@h/db", "", Postgres, ""},
		{"mysql://root@127.0.0.1:3306/test", "", MySQL, ""},
		{"MariaDB://root@h/test", "", MySQL, ""},
		{"host=h user=u", "", 0, "cannot be told"},
		{"host=h user=u", "postgres", Postgres, ""},
		{"root:pw@tcp(h:3306)/db", "mysql", MySQL, ""},
		{"postgres://u@h/db", "mysql", 0, "postgres URL"},
		{"postgres://u@h/db", "oracle", 0, "unknown dialect"},
	}
	for _, c := range cases {
		got, err := Resolve(c.dsn, c.explicit)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Resolve(%q, %q) = %v, %v; want error with %q", c.dsn, c.explicit, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q, %q) = %v, %v; want %v", c.dsn, c.explicit, got, err, c.want)
		}
	}
}

func TestParseKeepsPasswordsOut(t *testing.T) {
	for _, c := range []struct {
		d   Dialect
		dsn string
		db  string
	}{
		{Postgres, "postgres://bob:s3cr3t-pw@127.0.0.1:1/shop?sslmode=disable", "shop"},
		{MySQL, "mysql://bob:s3cr3t-pw@127.0.0.1:1/shop", "shop"},
		{MySQL, "bob:s3cr3t-pw@tcp(127.0.0.1:1)/shop", "shop"},
	} {
		conn, err := Parse(c.d, c.dsn)
		if err != nil {
			t.Fatalf("Parse(%v): %v", c.d, err)
		}
		if conn.Database != c.db {
			t.Errorf("%v: database %q, want %q", c.d, conn.Database, c.db)
		}
		wrapped := errors.New("dial failed for " + c.dsn + " with password s3cr3t-pw")
		msg := conn.Scrub(wrapped).Error()
		if strings.Contains(msg, "s3cr3t-pw") {
			t.Errorf("%v: scrubbed error still holds the password: %s", c.d, msg)
		}
		if !errors.Is(conn.Scrub(wrapped), wrapped) {
			t.Errorf("%v: Scrub lost the wrapped error", c.d)
		}
	}
	for _, d := range []Dialect{Postgres, MySQL} {
		_, err := Parse(d, "postgres://bob:s3cr3t-pw@[::1/x y")
		if err == nil {
			t.Errorf("%v: a broken DSN parsed", d)
		} else if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("%v: the parse error quotes the password: %v", d, err)
		}
	}
}

func TestQuote(t *testing.T) {
	cases := []struct {
		d        Dialect
		in, want string
	}{
		{Postgres, "orders", `"orders"`},
		{Postgres, `a"b`, `"a""b"`},
		{Postgres, "shop.orders", `"shop.orders"`},
		{MySQL, "orders", "`orders`"},
		{MySQL, "a`b; DROP TABLE x", "`a``b; DROP TABLE x`"},
	}
	for _, c := range cases {
		if got := c.d.Quote(c.in); got != c.want {
			t.Errorf("%v.Quote(%q) = %s, want %s", c.d, c.in, got, c.want)
		}
	}
	if err := Postgres.CheckIdentifier(strings.Repeat("x", 64)); err == nil {
		t.Error("a 64-byte PostgreSQL identifier was accepted")
	}
	if err := MySQL.CheckIdentifier(strings.Repeat("x", 64)); err != nil {
		t.Errorf("a 64-character MySQL identifier was refused: %v", err)
	}
	if err := Postgres.CheckIdentifier("a\x00b"); err == nil {
		t.Error("an identifier with a NUL was accepted")
	}
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"orders", `a"b`, "a`b", "", `""`, "``", "x\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, d := range []Dialect{Postgres, MySQL} {
			q := d.Quote(s)
			back, ok := d.Unquote(q)
			if !ok || back != s {
				t.Fatalf("%v: Unquote(Quote(%q)) = %q, %v", d, s, back, ok)
			}
			// The quote character appears only doubled inside: the
			// identifier cannot end early.
			inner := q[1 : len(q)-1]
			quote := q[:1]
			if strings.Count(strings.ReplaceAll(inner, quote+quote, ""), quote) != 0 {
				t.Fatalf("%v: a lone quote inside %s", d, q)
			}
			_ = d.CheckIdentifier(s)
		}
	})
}

func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{
		"postgres://u:p@h:5432/db?sslmode=disable",
		"mysql://root@127.0.0.1:3306/test?timeout=5s",
		"mysql://root:pw@[::1]/x",
		"root:pw@tcp(h:3306)/db",
		"host=h user=u password=p",
		"mysql://%zz@h/",
	} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, dsn, explicit string) {
		d, err := Resolve(dsn, explicit)
		if err != nil {
			return
		}
		conn, err := Parse(d, dsn)
		if err != nil {
			if len(dsn) >= 4 && strings.Contains(err.Error(), dsn) {
				t.Fatalf("the error quotes the dsn: %v", err)
			}
			return
		}
		if conn.Dialect != d {
			t.Fatalf("dialect %v, want %v", conn.Dialect, d)
		}
	})
}
