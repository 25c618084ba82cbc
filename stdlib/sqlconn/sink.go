package sqlconn

import (
	"bytes"
	"context"
	dbsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/sqlconn/dialect"
)

// openTimeout bounds the connection check of Open.
const openTimeout = 30 * time.Second

// sink is one task of sink "sql".
//
// Write executes each record's statement at once in the task's open
// transaction, so that a row the database refuses is known while Write
// can still report it (connector.RecordFailed); Flush commits. The
// statements since the last commit are kept (as SQL and arguments, not
// records), so that when the transaction is lost — the connection broke,
// or a refused row aborted it — a new transaction replays them before it
// goes on: nothing written since the last commit is lost, and nothing is
// committed before Flush.
//
// A refused row: the transaction is rolled back, replayed, and the
// records of the Write are executed again one by one, each inside a
// savepoint (ROLLBACK TO SAVEPOINT undoes a refused one); the refused ones
// are reported, the others stay in the transaction. Savepoints are used
// only then, so a batch without refused rows costs none.
type sink struct {
	connector.UnimplementedSink

	cfg     SinkConfig
	d       dialect.Dialect
	conn    *dialect.Conn
	db      *dbsql.DB
	log     *slog.Logger
	tx      *dbsql.Tx
	pending []stmt            // executed in tx since the last commit
	tables  map[string]*table // by name, as learnt from the database
	pk      []string
	vars    map[string]any    // reused for the table expression
	sqlText map[string]string // statements by table, kind and columns

	tableIsTopic     bool            // the table expression is `topic`
	tableReadsRecord bool            // it reads key, value or headers
	ddlOn            bool            // auto_create or auto_evolve: columns need types
	goodCols         map[string]bool // column names CheckIdentifier accepted
}

// stmt is one statement of the open transaction.
type stmt struct {
	sql  string
	args []any
}

// table is what the sink knows of a table: its columns, by their name as
// the database spells them (folded to lower case for MySQL, whose column
// names are case-insensitive).
type table struct {
	name    string
	columns map[string]bool
}

// row is one record turned into a statement.
type row struct {
	index  int // in the Write's records
	table  string
	delete bool
	cols   []string
	vals   []any
	types  []*connector.Schema // of cols, for auto_create / auto_evolve
}

func (s *sink) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SinkSchema, &s.cfg); err != nil {
		return fmt.Errorf("sink sql: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.d, err = dialect.Resolve(s.cfg.DSN, s.cfg.Dialect); err != nil {
		return fmt.Errorf("sink sql: %w", err)
	}
	if s.conn, err = dialect.Parse(s.d, s.cfg.DSN); err != nil {
		return fmt.Errorf("sink sql: %w", err)
	}
	s.pk = s.cfg.PrimaryKey
	s.tables = map[string]*table{}
	s.vars = map[string]any{}
	s.sqlText = map[string]string{}
	s.goodCols = map[string]bool{}
	s.ddlOn = s.cfg.AutoCreate || s.cfg.AutoEvolve
	src, _ := tc.Config["table"].(string)
	s.tableIsTopic = strings.TrimSpace(src) == "topic" || src == ""
	s.tableReadsRecord = src == "" || recordVars.MatchString(src)
	s.db = s.conn.Open()
	s.db.SetMaxOpenConns(2)
	if err := ping(ctx, s.conn, s.db); err != nil {
		s.db.Close()
		return fmt.Errorf("sink sql: %w", err)
	}
	return nil
}

// ping checks the connection and says clearly what is wrong: retriable
// when the server cannot be reached, not when the login is refused.
func ping(ctx context.Context, conn *dialect.Conn, db *dbsql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	err := db.PingContext(ctx)
	if err == nil {
		return nil
	}
	err = conn.Scrub(err)
	switch {
	case dialect.IsPermission(err):
		return fmt.Errorf("cannot log in to %s (check the user and password of the dsn): %w", conn.Dialect, err)
	case dialect.IsRetriable(err):
		return connector.Retriable(fmt.Errorf("cannot reach the %s server: %w", conn.Dialect, err))
	}
	return fmt.Errorf("cannot connect to %s: %w", conn.Dialect, err)
}

func (s *sink) Write(ctx context.Context, records []connector.Record) error {
	rows := make([]row, 0, len(records))
	var failed []error
	for i := range records {
		r, skip, err := s.row(&records[i])
		if err != nil {
			failed = append(failed, connector.RecordFailed(i, err))
			continue
		}
		if skip {
			continue
		}
		r.index = i
		rows = append(rows, r)
	}
	rows, err := s.prepareTables(ctx, rows)
	if err != nil {
		return err
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	chunks := s.chunks(rows)
	refused := false
	for i := range chunks {
		if _, err := s.tx.ExecContext(ctx, chunks[i].sql, chunks[i].args...); err != nil {
			if !dialect.IsRowError(err) {
				return s.lost(err)
			}
			refused = true
			break
		}
	}
	if !refused {
		s.pending = append(s.pending, chunks...)
		return errors.Join(failed...)
	}
	// A row was refused: start again from the last commit, and this
	// time give each row of the Write a statement and a savepoint.
	s.rollback()
	if err := s.begin(ctx); err != nil {
		return err
	}
	for i := range rows {
		st := s.statement(&rows[i], 1, rows[i].vals)
		ok, err := s.execSaved(ctx, st)
		if err != nil {
			if dialect.IsRowError(err) {
				failed = append(failed, connector.RecordFailed(rows[i].index, s.conn.Scrub(err)))
				continue
			}
			return s.lost(err)
		}
		if ok {
			s.pending = append(s.pending, st)
		}
	}
	return errors.Join(failed...)
}

// maxParams bounds the bind parameters of one statement (PostgreSQL's
// protocol allows 65535), maxChunk its rows.
const (
	maxParams = 65535
	maxChunk  = 1000
)

// chunks groups runs of rows of one table, kind and columns into
// multi-row statements (INSERT … VALUES (…), (…) …): one round trip for
// many rows. An upsert run is cut before a primary key it already holds
// (PostgreSQL refuses to update one row twice in a statement, and the
// later record must win); deletes are one statement each.
func (s *sink) chunks(rows []row) []stmt {
	var out []stmt
	for i := 0; i < len(rows); {
		r := &rows[i]
		n := 1
		if !r.delete {
			limit := min(maxChunk, maxParams/len(r.cols))
			var keys map[string]bool
			if s.cfg.Mode == "upsert" {
				keys = map[string]bool{s.pkText(r): true}
			}
			for i+n < len(rows) && n < limit {
				next := &rows[i+n]
				if next.delete || next.table != r.table || !slices.Equal(next.cols, r.cols) {
					break
				}
				if keys != nil {
					k := s.pkText(next)
					if keys[k] {
						break
					}
					keys[k] = true
				}
				n++
			}
		}
		args := r.vals
		if n > 1 {
			args = make([]any, 0, n*len(r.cols))
			for j := i; j < i+n; j++ {
				args = append(args, rows[j].vals...)
			}
		}
		out = append(out, s.statement(r, n, args))
		i += n
	}
	return out
}

// pkText is a row's primary key as text, to tell duplicates apart as the
// database does: a number by its value (1 and 1.0 are one key), a time by
// its instant (whatever its zone).
func (s *sink) pkText(r *row) string {
	var b strings.Builder
	for _, c := range s.pk {
		if i := slices.Index(r.cols, c); i >= 0 {
			b.WriteString(keyText(r.vals[i]))
			b.WriteByte(0)
		}
	}
	return b.String()
}

func keyText(v any) string {
	switch x := v.(type) {
	case int64:
		return "n:" + strconv.FormatInt(x, 10)
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
			return "n:" + strconv.FormatInt(int64(x), 10)
		}
		return "n:" + strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		return "t:" + x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// execSaved executes st inside a savepoint: a refused row is rolled back
// alone and its error returned; ok says it was executed.
func (s *sink) execSaved(ctx context.Context, st stmt) (ok bool, err error) {
	if _, err := s.tx.ExecContext(ctx, "SAVEPOINT pipectl_row"); err != nil {
		return false, err
	}
	if _, err := s.tx.ExecContext(ctx, st.sql, st.args...); err != nil {
		if !dialect.IsRowError(err) {
			return false, err
		}
		if _, rerr := s.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT pipectl_row"); rerr != nil {
			return false, rerr
		}
		return false, err
	}
	_, err = s.tx.ExecContext(ctx, "RELEASE SAVEPOINT pipectl_row")
	return err == nil, err
}

// begin opens the transaction when none is, and replays the statements
// since the last commit into it.
func (s *sink) begin(ctx context.Context) error {
	if s.tx != nil {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.lost(err)
	}
	s.tx = tx
	for _, st := range s.pending {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			// A row that was taken before and is refused now (another
			// writer changed the table): nothing to blame it on but
			// the whole batch.
			return s.lost(err)
		}
	}
	return nil
}

// lost drops the transaction after err and returns err for the engine:
// retriable when the connection failed, so that the Write or Flush is
// tried again (in a new transaction that replays the pending statements).
func (s *sink) lost(err error) error {
	s.rollback()
	err = s.conn.Scrub(err)
	if dialect.IsRetriable(err) {
		return connector.Retriable(fmt.Errorf("sink sql: %w", err))
	}
	return fmt.Errorf("sink sql: %w", err)
}

func (s *sink) rollback() {
	if s.tx != nil {
		_ = s.tx.Rollback()
		s.tx = nil
	}
}

// Flush commits the transaction: the rows since the last flush are
// durable when it returns, and only then does the worker commit the
// offsets.
func (s *sink) Flush(ctx context.Context) error {
	if s.tx == nil && len(s.pending) == 0 {
		return nil
	}
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.tx.Commit()
	s.tx = nil
	if err != nil {
		// Whether a commit whose answer was lost landed cannot be
		// told: the rows are written again (at least once).
		err = s.conn.Scrub(err)
		if dialect.IsRetriable(err) || errors.Is(err, dbsql.ErrTxDone) {
			return connector.Retriable(fmt.Errorf("sink sql: commit: %w", err))
		}
		return fmt.Errorf("sink sql: commit: %w", err)
	}
	s.pending = s.pending[:0]
	return nil
}

// Close rolls back what was not flushed: it is read again from the last
// commit.
func (s *sink) Close() error {
	s.rollback()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	return err
}

// row turns a record into the row to write; skip is true for a tombstone
// with delete_enabled off. Its errors are the record's own.
func (s *sink) row(r *connector.Record) (row, bool, error) {
	var value any
	var err error
	if raw, ok := jsonBytes(r.Value, r.Encoded); ok && r.ValueSchema == nil && !s.tableReadsRecord {
		// Nobody looks inside nested objects: they go to the column
		// as the JSON text they are.
		value, err = shallowJSON(raw)
	} else {
		value, err = structured(r.Value, r.Encoded)
	}
	if err != nil {
		return row{}, false, fmt.Errorf("value: %w", err)
	}
	key, keyErr := structured(r.Key, r.Encoded)
	if value == nil && !s.cfg.DeleteEnabled {
		return row{}, true, nil
	}
	name, err := s.tableName(r, key, value)
	if err != nil {
		return row{}, false, err
	}
	out := row{table: name}
	if value == nil {
		out.delete = true
		if keyErr != nil {
			return row{}, false, fmt.Errorf("key: %w", keyErr)
		}
		for _, col := range s.pk {
			v, ok := keyColumn(key, col, len(s.pk))
			if !ok {
				return row{}, false, fmt.Errorf("the tombstone's key has no value for primary key column %q", col)
			}
			arg, err := arg(v)
			if err != nil {
				return row{}, false, fmt.Errorf("key column %q: %w", col, err)
			}
			out.cols, out.vals = append(out.cols, col), append(out.vals, arg)
		}
		return out, false, nil
	}
	m, ok := value.(map[string]any)
	if !ok {
		return row{}, false, fmt.Errorf("the value is a %s, not a map or struct of columns", typeName(value))
	}
	var fields []connector.Field
	if vs := r.ValueSchema; vs != nil && vs.Type == connector.TypeStruct {
		fields = vs.Fields
	}
	add := func(col string, v any, sch *connector.Schema) error {
		if !s.goodCols[col] {
			if err := s.d.CheckIdentifier(col); err != nil {
				return fmt.Errorf("column: %w", err)
			}
			if len(s.goodCols) < 10000 {
				s.goodCols[col] = true
			}
		}
		a, err := arg(v)
		if err != nil {
			return fmt.Errorf("column %q: %w", col, err)
		}
		if sch == nil && s.ddlOn {
			if _, nested := v.(jsonText); nested {
				v = map[string]any{} // typed as JSON
			}
			sch, _ = dialect.Infer(v)
		}
		out.cols, out.vals, out.types = append(out.cols, col), append(out.vals, a), append(out.types, sch)
		return nil
	}
	if fields != nil {
		for _, f := range fields {
			if err := add(f.Name, m[f.Name], f.Schema); err != nil {
				return row{}, false, err
			}
		}
	} else {
		cols := make([]string, 0, len(m))
		for c := range m {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		for _, c := range cols {
			if err := add(c, m[c], nil); err != nil {
				return row{}, false, err
			}
		}
	}
	// Primary key columns the value lacks come from the key.
	for _, col := range s.pk {
		if slices.Contains(out.cols, col) {
			continue
		}
		if keyErr != nil {
			return row{}, false, fmt.Errorf("key: %w", keyErr)
		}
		v, ok := keyColumn(key, col, len(s.pk))
		if !ok {
			return row{}, false, fmt.Errorf("neither the value nor the key has primary key column %q", col)
		}
		if err := add(col, v, nil); err != nil {
			return row{}, false, err
		}
	}
	if len(out.cols) == 0 {
		return row{}, false, errors.New("the value has no columns")
	}
	return out, false, nil
}

// tableName evaluates the table expression for a record.
func (s *sink) tableName(r *connector.Record, key, value any) (string, error) {
	if s.tableIsTopic {
		if err := s.d.CheckIdentifier(r.Topic); err != nil {
			return "", fmt.Errorf("table: %w", err)
		}
		return r.Topic, nil
	}
	vars := s.vars
	vars["topic"] = r.Topic
	vars["partition"] = int64(r.Partition)
	vars["key"], vars["value"] = key, value
	var headers map[string]any
	if len(r.Headers) > 0 {
		headers = make(map[string]any, len(r.Headers))
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
	} else {
		headers = map[string]any{}
	}
	vars["headers"] = headers
	v, err := s.cfg.Table.Eval(vars)
	if err != nil {
		return "", fmt.Errorf("table: %w", err)
	}
	name, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("table: the expression gave a %s, not a string", typeName(v))
	}
	if err := s.d.CheckIdentifier(name); err != nil {
		return "", fmt.Errorf("table: %w", err)
	}
	return name, nil
}

// recordVars finds the record variables an expression may read that
// decoding costs: a table expression without them gets none.
var recordVars = regexp.MustCompile(`\b(key|value|headers)\b`)

// jsonText is a nested JSON object or array kept as its text.
type jsonText string

// jsonBytes returns the JSON text of a value nobody decoded.
func jsonBytes(v any, encoded bool) ([]byte, bool) {
	switch x := v.(type) {
	case json.RawMessage:
		return x, x != nil
	case []byte:
		return x, encoded && x != nil
	}
	return nil, false
}

// shallowJSON decodes a JSON object's top level: scalars as the json
// converter decodes them, nested objects and arrays as jsonText. Another
// JSON value is decoded whole.
func shallowJSON(raw []byte) (any, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return structured(json.RawMessage(raw), false)
	}
	if top == nil {
		return nil, nil
	}
	out := make(map[string]any, len(top))
	for k, v := range top {
		switch {
		case len(v) == 0:
		case v[0] == '{' || v[0] == '[':
			out[k] = jsonText(v)
		case v[0] == 'n':
			out[k] = nil
		case v[0] == 't':
			out[k] = true
		case v[0] == 'f':
			out[k] = false
		case v[0] == '"':
			if !bytes.ContainsAny(v, "\\") {
				out[k] = string(v[1 : len(v)-1])
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			out[k] = s
		default:
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				out[k] = n
			} else if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				out[k] = f
			} else {
				return nil, fmt.Errorf("not JSON: %s", v)
			}
		}
	}
	return out, nil
}

// structured returns v decoded when it is JSON text that nobody decoded
// (json.RawMessage, or the wire bytes of an encoded record).
func structured(v any, encoded bool) (any, error) {
	var raw []byte
	switch x := v.(type) {
	case json.RawMessage:
		raw = x
	case []byte:
		if x == nil {
			return nil, nil
		}
		if !encoded {
			return v, nil
		}
		raw = x
	default:
		return v, nil
	}
	if raw == nil {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return dialect.FromJSONNumbers(out), nil
}

// keyColumn finds primary key column col in a key: a field of a map key,
// or the key itself when it is not a map and the key has one column.
func keyColumn(key any, col string, columns int) (any, bool) {
	switch k := key.(type) {
	case nil:
		return nil, false
	case map[string]any:
		v, ok := k[col]
		return v, ok && v != nil
	}
	if columns == 1 {
		return key, true
	}
	return nil, false
}

// arg converts a record value into a driver argument: maps and lists as
// JSON text, a time of day as HH:MM:SS.ffffff.
func arg(v any) (any, error) {
	switch x := v.(type) {
	case nil, string, int64, float64, bool, []byte, time.Time:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		return x.String(), nil
	case jsonText:
		return string(x), nil
	case time.Duration:
		d := x
		h := d / time.Hour
		d -= h * time.Hour
		m := d / time.Minute
		d -= m * time.Minute
		sec := d / time.Second
		d -= sec * time.Second
		return fmt.Sprintf("%02d:%02d:%02d.%06d", h, m, sec, d/time.Microsecond), nil
	case map[string]any, []any, json.RawMessage:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	return nil, fmt.Errorf("cannot write a %T", v)
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case int64, float64, json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "map"
	case []byte:
		return "bytes"
	}
	return fmt.Sprintf("%T", v)
}
