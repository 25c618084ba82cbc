package sqlconn

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn/dialect"
)

// maxIdle is how long Poll waits for a table to be due before it returns
// no records.
const maxIdle = time.Second

// The modes of source "sql".
const (
	modeBulk         = "bulk"
	modeIncrementing = "incrementing"
	modeTimestamp    = "timestamp"
	modeBoth         = "timestamp+incrementing"
)

// source is one task of source "sql".
//
// Each of its tables is polled in cycles: one query (the mode's WHERE over
// the offset reached so far, ordered by the mode's columns), whose rows
// are handed over batch_size at a time, one table per Poll; when the rows
// run out the table waits poll_interval. The offset moves as rows are
// read, and the offset of a batch's last row is its SourceOffset, so the
// worker saves it once the batch is in Kafka; a restart queries from the
// saved offset. In timestamp mode a batch never ends inside a run of rows
// with the same timestamp (it grows past batch_size instead), so that the
// rows of the saved timestamp are all behind it.
type source struct {
	connector.UnimplementedSource

	cfg      SourceConfig
	d        dialect.Dialect
	conn     *dialect.Conn
	db       *dbsql.DB
	log      *slog.Logger
	tables   []*polled
	next     int // index of the table the next Poll looks at first
	batch    int
	interval time.Duration
	// ctx is the task's own: a cycle's rows outlive the Poll that
	// started them. Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc
}

// position is an offset of a table: the last incrementing value and
// timestamp read.
type position struct {
	hasInc bool
	inc    int64
	hasTS  bool
	ts     time.Time
}

// polled is one table (or the custom query) of a task.
type polled struct {
	name      string // the table, or "query"
	from      string // what the SELECT reads: the quoted table or (query) AS q
	topic     string
	partition map[string]any
	keyCols   []string
	jsonCols  map[string]bool // MariaDB's JSON columns (LONGTEXT with a json_valid check)
	due       time.Time

	// The offset reached: that of the last batch handed over.
	pos position

	// The cycle in progress.
	rows      *dbsql.Rows
	cols      []dialect.Column
	scan      []any
	held      []any // a row read past the last batch, not yet handed over
	incIdx    int   // of the incrementing column in cols, -1 if none
	tsIdx     int
	keyIdx    []int
	valSchema *connector.Schema
	keySchema *connector.Schema
}

func (s *source) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SourceSchema, &s.cfg); err != nil {
		return fmt.Errorf("source sql: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.batch, s.interval = int(s.cfg.BatchSize), s.cfg.PollInterval
	s.ctx, s.cancel = context.WithCancel(context.Background())
	var err error
	if s.d, err = dialect.Resolve(s.cfg.DSN, s.cfg.Dialect); err != nil {
		return fmt.Errorf("source sql: %w", err)
	}
	if s.conn, err = dialect.Parse(s.d, s.cfg.DSN); err != nil {
		return fmt.Errorf("source sql: %w", err)
	}
	s.db = s.conn.Open()
	if err := ping(ctx, s.conn, s.db); err != nil {
		s.db.Close()
		return fmt.Errorf("source sql: %w", err)
	}
	names := s.cfg.Tables
	if s.cfg.Table != "" {
		names = []string{s.cfg.Table}
	}
	tasks := max(tc.Tasks, 1)
	offset := tc.Offset
	if offset == nil {
		offset = func(map[string]any) map[string]any { return nil }
	}
	add := func(p *polled) error {
		if err := s.describe(ctx, p); err != nil {
			return err
		}
		if s.cfg.Mode != modeBulk {
			if err := s.restore(p, offset(p.partition)); err != nil {
				return err
			}
		}
		s.tables = append(s.tables, p)
		return nil
	}
	if s.cfg.Query != "" {
		if tc.Task == 0 {
			p := &polled{name: "query", from: "(" + strings.TrimRight(strings.TrimSpace(s.cfg.Query), ";") + ") AS pipectl_q", partition: map[string]any{"query": "query"}}
			if err := add(p); err != nil {
				s.Close()
				return err
			}
		}
	} else {
		for i, name := range names {
			if i%tasks != tc.Task {
				continue
			}
			if err := s.d.CheckIdentifier(name); err != nil {
				s.Close()
				return fmt.Errorf("source sql: %w", err)
			}
			p := &polled{name: name, from: s.d.QuoteTable(name), partition: map[string]any{"table": name}}
			if err := add(p); err != nil {
				s.Close()
				return err
			}
		}
	}
	for _, p := range s.tables {
		if p.topic, err = s.topicOf(p.name); err != nil {
			s.Close()
			return err
		}
	}
	return nil
}

func (s *source) topicOf(table string) (string, error) {
	if s.cfg.Topic == nil {
		return s.cfg.TopicPrefix + table, nil
	}
	v, err := s.cfg.Topic.Eval(map[string]any{"table": table})
	if err != nil {
		return "", fmt.Errorf("source sql: topic: %w", err)
	}
	t, ok := v.(string)
	if !ok || t == "" {
		return "", fmt.Errorf("source sql: topic: the expression gave %v for table %q, not a topic name", v, table)
	}
	return t, nil
}

// TopicsNeeded asks for the topics of the task's tables (one partition
// each unless they exist).
func (s *source) TopicsNeeded() []connector.TopicRequest {
	out := make([]connector.TopicRequest, 0, len(s.tables))
	for _, p := range s.tables {
		out = append(out, connector.TopicRequest{Name: p.topic, Partitions: 1})
	}
	return out
}

// describe checks that the table exists and has the mode's columns, and
// learns its key columns.
func (s *source) describe(ctx context.Context, p *polled) error {
	rows, err := s.db.QueryContext(ctx, "SELECT * FROM "+p.from+" WHERE 1 = 0")
	if err != nil {
		err = s.conn.Scrub(err)
		switch {
		case dialect.IsUndefinedTable(err):
			return fmt.Errorf("source sql: the table %s does not exist in database %q: %w", s.d.Quote(p.name), s.conn.Database, err)
		case dialect.IsPermission(err):
			return fmt.Errorf("source sql: the user may not read %s (GRANT SELECT ON it): %w", s.d.Quote(p.name), err)
		case dialect.IsRetriable(err):
			return connector.Retriable(fmt.Errorf("source sql: %w", err))
		}
		return fmt.Errorf("source sql: reading %s: %w", p.name, err)
	}
	types, err := rows.ColumnTypes()
	rows.Close()
	if err != nil {
		return fmt.Errorf("source sql: %w", s.conn.Scrub(err))
	}
	names := make([]string, len(types))
	for i, ct := range types {
		names[i] = ct.Name()
	}
	has := func(c string) bool {
		for _, n := range names {
			if n == c || (s.d == dialect.MySQL && strings.EqualFold(n, c)) {
				return true
			}
		}
		return false
	}
	for _, c := range []string{s.cfg.IncrementingColumn, s.cfg.TimestampColumn} {
		if c != "" && !has(c) {
			return fmt.Errorf("source sql: %s has no column %s (columns: %s)", p.name, s.d.Quote(c), strings.Join(names, ", "))
		}
	}
	if err := s.checkColumns(p, s.columnsOf(p, types), types); err != nil {
		return err
	}
	if s.d == dialect.MySQL && s.cfg.Query == "" {
		if p.jsonCols, err = s.mariaJSON(ctx, p.name); err != nil {
			return err
		}
	}
	p.keyCols = s.cfg.KeyColumns
	if p.keyCols == nil && s.cfg.Query == "" {
		if p.keyCols, err = s.primaryKey(ctx, p.name); err != nil {
			return err
		}
	}
	for _, c := range p.keyCols {
		if !has(c) {
			return fmt.Errorf("source sql: %s has no key column %s (columns: %s)", p.name, s.d.Quote(c), strings.Join(names, ", "))
		}
	}
	return nil
}

// primaryKey returns the primary key columns of a table, in order.
func (s *source) primaryKey(ctx context.Context, table string) ([]string, error) {
	schema, ph := "current_schema()", "$1"
	if s.d == dialect.MySQL {
		schema, ph = "DATABASE()", "?"
	}
	q := `SELECT kcu.column_name FROM information_schema.table_constraints tc
JOIN information_schema.key_column_usage kcu
  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name
WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = ` + schema + ` AND tc.table_name = ` + ph + `
ORDER BY kcu.ordinal_position`
	rows, err := s.db.QueryContext(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("source sql: reading the primary key of %s: %w", table, s.conn.Scrub(err))
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("source sql: %w", s.conn.Scrub(err))
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// mariaJSON finds the JSON columns of a MariaDB table: MariaDB's JSON is
// LONGTEXT with a json_valid check, and the driver reports it as text.
// MySQL, whose JSON is a type of its own, has none of these checks.
func (s *source) mariaJSON(ctx context.Context, table string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT check_clause FROM information_schema.check_constraints WHERE constraint_schema = DATABASE() AND table_name = ?", table)
	if err != nil {
		// MySQL before 8.0.16 has no such view: no MariaDB JSON there.
		return nil, nil
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var clause string
		if err := rows.Scan(&clause); err != nil {
			return nil, fmt.Errorf("source sql: %w", s.conn.Scrub(err))
		}
		if m := jsonValid.FindStringSubmatch(clause); m != nil {
			out[strings.ReplaceAll(m[1], "``", "`")] = true
		}
	}
	return out, rows.Err()
}

var jsonValid = regexp.MustCompile("^json_valid\\(`((?:[^`]|``)+)`\\)$")

// restore sets the offset reached from a saved one. A saved offset that
// cannot be read fails the task rather than start over from the first row.
func (s *source) restore(p *polled, saved map[string]any) error {
	if saved == nil {
		return nil
	}
	if v, ok := saved["incrementing"]; ok {
		n, ok := configschema.AsInt64(v)
		if !ok {
			return fmt.Errorf("source sql: %s: the saved offset's incrementing value %v is not an integer", p.name, v)
		}
		p.pos.inc, p.pos.hasInc = n, true
	}
	if v, ok := saved["timestamp"]; ok {
		t, ok := v.(string)
		ts, err := time.Parse(time.RFC3339Nano, t)
		if !ok || err != nil {
			return fmt.Errorf("source sql: %s: the saved offset's timestamp %v is not an RFC 3339 time", p.name, v)
		}
		p.pos.ts, p.pos.hasTS = ts, true
	}
	s.log.Info("resuming from the saved offset", "table", p.name, "offset", saved)
	return nil
}

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	deadline := time.Now().Add(maxIdle)
	for {
		now := time.Now()
		soonest := deadline
		for range s.tables {
			p := s.tables[s.next]
			s.next = (s.next + 1) % len(s.tables)
			if p.rows == nil && now.Before(p.due) {
				soonest = minTime(soonest, p.due)
				continue
			}
			recs, err := s.read(s.ctx, p)
			if err != nil {
				s.endCycle(p)
				return nil, err
			}
			if len(recs) > 0 {
				return recs, nil
			}
		}
		if !time.Now().Before(deadline) {
			return nil, nil
		}
		t := time.NewTimer(time.Until(soonest))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// read hands over the next batch of a table's cycle, starting the cycle
// when none runs.
func (s *source) read(ctx context.Context, p *polled) ([]connector.Record, error) {
	if p.rows == nil {
		if err := s.startCycle(ctx, p); err != nil {
			return nil, err
		}
	}
	// The position moves with the rows read, and becomes the table's
	// only with the batch: a batch dropped with an error is read again.
	pos := p.pos
	var recs []connector.Record
	var lastTS time.Time
	for {
		var vals []any
		if p.held != nil {
			vals, p.held = p.held, nil
		} else {
			if !p.rows.Next() {
				err := p.rows.Err()
				s.endCycle(p)
				if err != nil {
					return nil, s.readErr(err)
				}
				break
			}
			if err := p.rows.Scan(p.scan...); err != nil {
				return nil, s.readErr(err)
			}
			vals = make([]any, len(p.cols))
			for i := range p.cols {
				v, err := p.cols[i].Value(*(p.scan[i].(*any)))
				if err != nil {
					return nil, fmt.Errorf("source sql: %s: %w", p.name, err)
				}
				vals[i] = v
			}
		}
		if len(recs) >= s.batch {
			// Full: go on only through a run of equal timestamps (the
			// timestamp mode resumes after the saved timestamp).
			if s.cfg.Mode != modeTimestamp || p.tsIdx < 0 || !sameTime(vals[p.tsIdx], lastTS) {
				p.held = vals
				break
			}
		}
		if err := s.advance(p, vals, &pos); err != nil {
			return nil, err
		}
		recs = append(recs, s.record(p, vals))
		if p.tsIdx >= 0 {
			if t, ok := vals[p.tsIdx].(time.Time); ok {
				lastTS = t
			}
		}
	}
	p.pos = pos
	if len(recs) > 0 && s.cfg.Mode != modeBulk {
		off := map[string]any{}
		if pos.hasInc {
			off["incrementing"] = pos.inc
		}
		if pos.hasTS {
			off["timestamp"] = pos.ts.UTC().Format(time.RFC3339Nano)
		}
		recs[len(recs)-1].SourceOffset = off
	}
	return recs, nil
}

func sameTime(v any, t time.Time) bool {
	x, ok := v.(time.Time)
	return ok && x.Equal(t)
}

func (s *source) readErr(err error) error {
	err = s.conn.Scrub(err)
	if dialect.IsRetriable(err) {
		return connector.Retriable(fmt.Errorf("source sql: %w", err))
	}
	return fmt.Errorf("source sql: %w", err)
}

// record builds the record of one row.
func (s *source) record(p *polled, vals []any) connector.Record {
	value := make(map[string]any, len(p.cols))
	for i := range p.cols {
		value[p.cols[i].Name] = vals[i]
	}
	r := connector.Record{Topic: p.topic, Partition: -1, Value: value, ValueSchema: p.valSchema, SourcePartition: p.partition}
	if s.cfg.Mode == modeBulk {
		r.SourcePartition = nil
	}
	if len(p.keyIdx) > 0 {
		key := make(map[string]any, len(p.keyIdx))
		for _, i := range p.keyIdx {
			key[p.cols[i].Name] = vals[i]
		}
		r.Key, r.KeySchema = key, p.keySchema
	}
	return r
}

// advance moves a position past a row. The column kinds were checked when
// the cycle started (checkColumns); an unsigned value comes as decimal
// text and must fit an int64. A NULL leaves the position where it is.
func (s *source) advance(p *polled, vals []any, pos *position) error {
	if p.incIdx >= 0 {
		switch v := vals[p.incIdx].(type) {
		case int64:
			pos.inc, pos.hasInc = v, true
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("source sql: %s: the incrementing column %s has the value %s, which does not fit a 64-bit signed integer", p.name, s.d.Quote(s.cfg.IncrementingColumn), v)
			}
			pos.inc, pos.hasInc = n, true
		}
	}
	if p.tsIdx >= 0 {
		if t, ok := vals[p.tsIdx].(time.Time); ok {
			pos.ts, pos.hasTS = t, true
		}
	}
	return nil
}

// checkColumns fails when the mode's columns cannot hold an offset: the
// incrementing column must be an integer (unsigned ones too, as long as
// the values fit an int64), the timestamp column a timestamp or a date.
// Without the check the offset would never move and every poll would send
// the whole table again.
func (s *source) checkColumns(p *polled, cols []dialect.Column, types []*dbsql.ColumnType) error {
	if i := s.index(cols, s.cfg.IncrementingColumn); i >= 0 {
		c := cols[i]
		if c.Kind != dialect.KindInt && (c.Kind != dialect.KindDecimal || c.Schema.Scale != 0) {
			return fmt.Errorf("source sql: %s: the incrementing column %s is of type %s, not an integer", p.name, s.d.Quote(c.Name), types[i].DatabaseTypeName())
		}
	}
	if i := s.index(cols, s.cfg.TimestampColumn); i >= 0 {
		c := cols[i]
		if c.Kind != dialect.KindTimestamp && c.Kind != dialect.KindDate {
			return fmt.Errorf("source sql: %s: the timestamp column %s is of type %s, not a timestamp or a date", p.name, s.d.Quote(c.Name), types[i].DatabaseTypeName())
		}
	}
	return nil
}

// startCycle runs the mode's query from the offset reached.
func (s *source) startCycle(ctx context.Context, p *polled) error {
	q := "SELECT * FROM " + p.from
	var args []any
	ph := func(v any) string {
		args = append(args, v)
		return s.d.Placeholder(len(args))
	}
	inc, ts := s.d.Quote(s.cfg.IncrementingColumn), s.d.Quote(s.cfg.TimestampColumn)
	switch s.cfg.Mode {
	case modeIncrementing:
		// Without an offset: every row (a bound such as MinInt64 would
		// not fit an int4 column).
		if p.pos.hasInc {
			q += " WHERE " + inc + " > " + ph(p.pos.inc)
		} else {
			q += " WHERE " + inc + " IS NOT NULL"
		}
		q += " ORDER BY " + inc + " ASC"
	case modeTimestamp, modeBoth:
		bound, err := s.bound(ctx)
		if err != nil {
			return err
		}
		q += " WHERE " + ts + " < " + ph(bound)
		switch {
		case p.pos.hasTS && p.pos.hasInc && s.cfg.Mode == modeBoth:
			q += " AND ((" + ts + " = " + ph(p.pos.ts) + " AND " + inc + " > " + ph(p.pos.inc) + ") OR " + ts + " > " + ph(p.pos.ts) + ")"
		case p.pos.hasTS:
			q += " AND " + ts + " > " + ph(p.pos.ts)
		}
		q += " ORDER BY " + ts + " ASC"
		if s.cfg.Mode == modeBoth {
			q += ", " + inc + " ASC"
		}
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return s.readErr(err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return s.readErr(err)
	}
	cols := s.columnsOf(p, types)
	if err := s.checkColumns(p, cols, types); err != nil {
		rows.Close()
		return err
	}
	p.rows = rows
	s.setColumns(p, cols)
	return nil
}

// columnsOf maps the columns of a result set.
func (s *source) columnsOf(p *polled, types []*dbsql.ColumnType) []dialect.Column {
	cols := make([]dialect.Column, len(types))
	for i, ct := range types {
		prec, scale, hasDec := ct.DecimalSize()
		nullable, known := ct.Nullable()
		typ := ct.DatabaseTypeName()
		if p.jsonCols[ct.Name()] {
			typ = "JSON"
		}
		cols[i] = dialect.ColumnOf(s.d, ct.Name(), typ, prec, scale, hasDec, nullable || !known)
	}
	return cols
}

// setColumns sets the cycle's columns and schemas, keeping the schemas of
// the previous cycle when the columns did not change (records share one
// *Schema).
func (s *source) setColumns(p *polled, cols []dialect.Column) {
	fields := make([]connector.Field, len(cols))
	for i, c := range cols {
		fields[i] = connector.Field{Name: c.Name, Schema: c.Schema}
	}
	val := &connector.Schema{Type: connector.TypeStruct, Fields: fields}
	p.cols = cols
	p.scan = make([]any, len(cols))
	for i := range p.scan {
		p.scan[i] = new(any)
	}
	p.incIdx, p.tsIdx = s.index(cols, s.cfg.IncrementingColumn), s.index(cols, s.cfg.TimestampColumn)
	if p.valSchema != nil && p.valSchema.Equal(val) {
		return
	}
	p.valSchema = val
	p.keyIdx = p.keyIdx[:0]
	var keyFields []connector.Field
	for _, k := range p.keyCols {
		if i := s.index(cols, k); i >= 0 {
			p.keyIdx = append(p.keyIdx, i)
			keyFields = append(keyFields, connector.Field{Name: cols[i].Name, Schema: cols[i].Schema})
		}
	}
	p.keySchema = nil
	if len(keyFields) > 0 {
		p.keySchema = &connector.Schema{Type: connector.TypeStruct, Fields: keyFields}
	}
}

func (s *source) index(cols []dialect.Column, name string) int {
	if name == "" {
		return -1
	}
	for i, c := range cols {
		if c.Name == name || (s.d == dialect.MySQL && strings.EqualFold(c.Name, name)) {
			return i
		}
	}
	return -1
}

// bound is the newest timestamp a cycle reads: the database's clock minus
// timestamp_delay (the database's, so that the worker's clock does not
// matter).
func (s *source) bound(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := s.db.QueryRowContext(ctx, s.nowSQL()).Scan(&now); err != nil {
		return time.Time{}, s.readErr(err)
	}
	return now.UTC().Add(-s.cfg.TimestampDelay), nil
}

func (s *source) endCycle(p *polled) {
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	p.held = nil
	p.due = time.Now().Add(s.interval)
}

func (s *source) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	for _, p := range s.tables {
		if p.rows != nil {
			p.rows.Close()
			p.rows = nil
		}
	}
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return errors.Join(err)
}

// nowSQL reads the database's clock, to the microsecond.
func (s *source) nowSQL() string {
	if s.d == dialect.MySQL {
		return "SELECT CURRENT_TIMESTAMP(6)"
	}
	return "SELECT CURRENT_TIMESTAMP"
}
