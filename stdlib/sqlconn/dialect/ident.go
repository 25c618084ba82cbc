package dialect

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxIdentifier is the longest identifier a dialect takes: 63 bytes for
// PostgreSQL (NAMEDATALEN-1), 64 characters for MySQL.
func (d Dialect) MaxIdentifier() int {
	if d == MySQL {
		return 64
	}
	return 63
}

// CheckIdentifier reports why name cannot be a table or column name: empty,
// too long, not UTF-8, or holding a NUL (which neither server takes even
// quoted). Anything else is taken, quoted.
func (d Dialect) CheckIdentifier(name string) error {
	switch {
	case name == "":
		return errors.New("an identifier cannot be empty")
	case !utf8.ValidString(name):
		return fmt.Errorf("the identifier %q is not UTF-8", name)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("the identifier %q holds a NUL character", name)
	case d == MySQL && utf8.RuneCountInString(name) > 64, d != MySQL && len(name) > 63:
		return fmt.Errorf("the identifier %q is longer than %s allows (%d)", name, d, d.MaxIdentifier())
	case d == MySQL && strings.HasSuffix(name, " "):
		return fmt.Errorf("the identifier %q ends with a space, which MySQL does not allow", name)
	}
	return nil
}

// Quote returns name as a quoted identifier: "name" for PostgreSQL and
// `name` for MySQL, the quote character doubled inside. Quoted, a name is
// taken as it is (case kept), whatever characters it holds; check it first
// with CheckIdentifier.
func (d Dialect) Quote(name string) string {
	q := `"`
	if d == MySQL {
		q = "`"
	}
	return q + strings.ReplaceAll(name, q, q+q) + q
}

// Unquote reverses Quote; ok is false for text Quote does not produce.
func (d Dialect) Unquote(s string) (string, bool) {
	q := byte('"')
	if d == MySQL {
		q = '`'
	}
	if len(s) < 2 || s[0] != q || s[len(s)-1] != q {
		return "", false
	}
	inner := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == q {
			if i+1 >= len(inner) || inner[i+1] != q {
				return "", false
			}
			i++
		}
		b.WriteByte(inner[i])
	}
	return b.String(), true
}

// Placeholder is the n-th (from 1) bind parameter: $n or ?.
func (d Dialect) Placeholder(n int) string {
	if d == MySQL {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

// QuoteTable quotes a table name, taken whole as one identifier: topics
// hold dots, and "shop.orders" is a table of that name, not the table
// orders of the schema shop.
func (d Dialect) QuoteTable(name string) string { return d.Quote(name) }
