package sqlconn

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn/dialect"
)

// prepareTables makes sure that every table and column the rows use
// exists: it learns a table's columns from information_schema the first
// time, creates a missing table (auto_create) and adds missing columns
// (auto_evolve), or fails with what to do.
func (s *sink) prepareTables(ctx context.Context, rows []row) ([]row, error) {
	for i := range rows {
		r := &rows[i]
		t, err := s.table(ctx, r.table)
		if err != nil {
			return nil, err
		}
		if t == nil {
			if !s.cfg.AutoCreate {
				return nil, fmt.Errorf("sink sql: the table %s does not exist: create it, or set auto_create = true", s.d.Quote(r.table))
			}
			if r.delete {
				continue // nothing to delete from a table that is not there
			}
			if err := s.create(ctx, r); err != nil {
				return nil, err
			}
			continue
		}
		var missing []int
		for j, c := range r.cols {
			if !t.columns[s.fold(c)] {
				missing = append(missing, j)
			}
		}
		if len(missing) == 0 {
			continue
		}
		if !s.cfg.AutoEvolve || r.delete {
			names := make([]string, len(missing))
			for k, j := range missing {
				names[k] = s.d.Quote(r.cols[j])
			}
			return nil, fmt.Errorf("sink sql: the table %s has no column %s: add it, or set auto_evolve = true", s.d.Quote(r.table), strings.Join(names, ", "))
		}
		for _, j := range missing {
			if err := s.addColumn(ctx, t, r.cols[j], r.types[j]); err != nil {
				return nil, err
			}
		}
	}
	// A delete from a table that does not exist deletes nothing.
	kept := rows[:0]
	for _, r := range rows {
		if t := s.tables[r.table]; t != nil {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// fold is how column names compare: as they are for PostgreSQL (quoted
// names are case-sensitive), in lower case for MySQL.
func (s *sink) fold(name string) string {
	if s.d == dialect.MySQL {
		return strings.ToLower(name)
	}
	return name
}

// table returns what is known of a table, nil when it does not exist.
func (s *sink) table(ctx context.Context, name string) (*table, error) {
	if t, ok := s.tables[name]; ok {
		return t, nil
	}
	q := "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	if s.d == dialect.MySQL {
		q = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
	}
	rows, err := s.db.QueryContext(ctx, q, name)
	if err != nil {
		return nil, s.lost(err)
	}
	defer rows.Close()
	t := &table{name: name, columns: map[string]bool{}}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, s.lost(err)
		}
		t.columns[s.fold(c)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, s.lost(err)
	}
	if len(t.columns) == 0 {
		return nil, nil
	}
	s.tables[name] = t
	return t, nil
}

// create creates a table for row r: its columns typed from the record,
// primary_key as its primary key.
func (s *sink) create(ctx context.Context, r *row) error {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(s.d.Quote(r.table))
	b.WriteString(" (")
	t := &table{name: r.table, columns: map[string]bool{}}
	for i, c := range r.cols {
		if i > 0 {
			b.WriteString(", ")
		}
		key := slices.Contains(s.pk, c)
		b.WriteString(s.d.Quote(c))
		b.WriteByte(' ')
		b.WriteString(s.d.ColumnType(columnSchema(r.types[i]), key))
		if key {
			b.WriteString(" NOT NULL")
		}
		t.columns[s.fold(c)] = true
	}
	if len(s.pk) > 0 {
		b.WriteString(", PRIMARY KEY (")
		for i, c := range s.pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.Quote(c))
		}
		b.WriteString(")")
	}
	b.WriteString(")")
	if err := s.ddl(ctx, b.String()); err != nil {
		return err
	}
	s.log.Info("created table", "table", r.table)
	s.tables[r.table] = t
	return nil
}

// addColumn adds a nullable column to t.
func (s *sink) addColumn(ctx context.Context, t *table, col string, sch *connector.Schema) error {
	q := "ALTER TABLE " + s.d.Quote(t.name) + " ADD COLUMN " + s.d.Quote(col) + " " + s.d.ColumnType(columnSchema(sch), false)
	if err := s.ddl(ctx, q); err != nil {
		return err
	}
	s.log.Info("added column", "table", t.name, "column", col)
	t.columns[s.fold(col)] = true
	return nil
}

// columnSchema is the schema a column is created with: text when the
// record cannot tell (a null in a schemaless value).
func columnSchema(s *connector.Schema) *connector.Schema {
	if s == nil {
		return &connector.Schema{Type: connector.TypeString, Optional: true}
	}
	return s
}

// ddl runs a statement that changes a table. On PostgreSQL it is part of
// the transaction (it commits or rolls back with the rows); MySQL commits
// a transaction on DDL, so the transaction is committed first and the DDL
// runs on its own.
func (s *sink) ddl(ctx context.Context, q string) error {
	if s.d == dialect.Postgres {
		if err := s.begin(ctx); err != nil {
			return err
		}
		if _, err := s.tx.ExecContext(ctx, q); err != nil {
			return s.lost(err)
		}
		// Replayed with the rows when the transaction is lost.
		s.pending = append(s.pending, stmt{sql: q})
		return nil
	}
	if s.tx != nil {
		if err := s.Flush(ctx); err != nil {
			return err
		}
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		err = s.conn.Scrub(err)
		if dialect.IsRetriable(err) {
			return connector.Retriable(fmt.Errorf("sink sql: %w", err))
		}
		return fmt.Errorf("sink sql: %w", err)
	}
	return nil
}

// statement builds the SQL of n rows like r (a delete is one row) with
// args; the text is cached by table, kind, columns and n.
func (s *sink) statement(r *row, n int, args []any) stmt {
	kind := "i"
	switch {
	case r.delete:
		kind = "d"
	case s.cfg.Mode == "upsert":
		kind = "u"
	}
	key := r.table + "\x00" + kind + "\x00" + strconv.Itoa(n) + "\x00" + strings.Join(r.cols, "\x00")
	if q, ok := s.sqlText[key]; ok {
		return stmt{sql: q, args: args}
	}
	var b strings.Builder
	t := s.d.Quote(r.table)
	if r.delete {
		b.WriteString("DELETE FROM " + t + " WHERE ")
		for i, c := range r.cols {
			if i > 0 {
				b.WriteString(" AND ")
			}
			b.WriteString(s.d.Quote(c) + " = " + s.d.Placeholder(i+1))
		}
	} else {
		b.WriteString("INSERT INTO " + t + " (")
		for i, c := range r.cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.Quote(c))
		}
		b.WriteString(") VALUES ")
		p := 0
		for j := range n {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for i := range r.cols {
				if i > 0 {
					b.WriteString(", ")
				}
				p++
				b.WriteString(s.d.Placeholder(p))
			}
			b.WriteString(")")
		}
		if kind == "u" {
			s.upsertClause(&b, r.cols)
		}
	}
	q := b.String()
	if len(s.sqlText) > 10000 {
		clear(s.sqlText) // many shapes of rows: keep the cache bounded
	}
	s.sqlText[key] = q
	return stmt{sql: q, args: args}
}

func (s *sink) upsertClause(b *strings.Builder, cols []string) {
	var rest []string
	for _, c := range cols {
		if !slices.Contains(s.pk, c) {
			rest = append(rest, c)
		}
	}
	if s.d == dialect.Postgres {
		b.WriteString(" ON CONFLICT (")
		for i, c := range s.pk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(s.d.Quote(c))
		}
		if len(rest) == 0 {
			b.WriteString(") DO NOTHING")
			return
		}
		b.WriteString(") DO UPDATE SET ")
		for i, c := range rest {
			if i > 0 {
				b.WriteString(", ")
			}
			q := s.d.Quote(c)
			b.WriteString(q + " = EXCLUDED." + q)
		}
		return
	}
	b.WriteString(" ON DUPLICATE KEY UPDATE ")
	if len(rest) == 0 {
		q := s.d.Quote(s.pk[0])
		b.WriteString(q + " = " + q)
		return
	}
	for i, c := range rest {
		if i > 0 {
			b.WriteString(", ")
		}
		q := s.d.Quote(c)
		b.WriteString(q + " = VALUES(" + q + ")")
	}
}
