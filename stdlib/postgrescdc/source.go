package postgrescdc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pipectl/pipectl/runtime/connector"
)

const (
	maxBatch = 1000
	maxIdle  = time.Second
)

// source is the one task of a postgres_cdc source.
type source struct {
	connector.UnimplementedSource

	cfg      Config
	password string // the DSN's, which no error may quote
	log      *slog.Logger
	prefix   string
	part     map[string]any // the source partition: {slot}

	db   *pgx.Conn      // catalog, publication, snapshot
	repl *pgconn.PgConn // the replication connection

	tables map[string]*table // by schema.table, from the catalog
	order  []string          // the captured tables, in the order of tables
	topics map[string]string // target topics by schema.table, from the topic expression
	rels   map[uint32]*table // by relation ID, from relation messages
	// ignored holds the relation IDs of the tables the publication has
	// but tables does not name: their changes move the position only.
	ignored map[uint32]bool

	// snapshot state: the transaction, the table being read and its rows.
	snapTx pgx.Tx
	// snapCtx bounds the snapshot's queries, whose rows are read over
	// many Polls (a Poll's ctx would end them); Close cancels it.
	snapCtx    context.Context
	snapCancel context.CancelFunc
	snapLSN    pglogrepl.LSN
	snapOrder  []string
	snapNext   int
	snapRows   pgx.Rows
	snapTable  *table
	streaming  bool

	startLSN  pglogrepl.LSN // where streaming starts
	pos       pglogrepl.LSN // end of the last whole transaction received
	walEnd    pglogrepl.LSN // the server's WAL end, from keepalives
	confirmed pglogrepl.LSN // last LSN confirmed to PostgreSQL
	inTx      bool
	xid       uint32
	commitTS  time.Time
	unacked   int // Polls whose records are not acknowledged yet
	lastBeat  time.Time
	txRecords []int // indexes in the batch of the open transaction's records
	txIgnored bool  // the open transaction changed an ignored table
	snapOnly  bool  // snapshot = "initial_only"
	finished  bool  // the initial_only snapshot is done: Poll returns io.EOF
	// failed is the error of an earlier Poll: the stream moved past the
	// records it dropped, so every later Poll fails too and the task
	// starts again from the saved offset.
	failed error
}

func (s *source) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&Schema, &s.cfg); err != nil {
		return fmt.Errorf("source postgres_cdc: %w", err)
	}
	if tc.Tasks > 1 {
		return fmt.Errorf("source postgres_cdc: runs one task, not %d: a replication slot is read by one connection", tc.Tasks)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Publication == "" {
		s.cfg.Publication = s.cfg.Slot
	}
	s.prefix = s.cfg.TopicPrefix
	if s.prefix == "" && tc.Fleet != "" {
		s.prefix = tc.Fleet + "."
	}
	s.part = map[string]any{"slot": s.cfg.Slot}
	s.rels = map[uint32]*table{}
	s.ignored = map[uint32]bool{}
	if err := s.open(ctx, tc); err != nil {
		s.Close()
		return fmt.Errorf("source postgres_cdc: %w", s.scrub(err))
	}
	return nil
}

// connConfig parses the DSN and sets what the decoding relies on. Errors
// never quote the DSN (it may hold a password).
func (s *source) connConfig() (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(s.cfg.DSN)
	if err != nil {
		return nil, errors.New("dsn: not a valid PostgreSQL connection string (postgres://user@host:port/db or key=value pairs)")
	}
	s.password = cc.Password
	cc.RuntimeParams["TimeZone"] = "UTC"
	cc.RuntimeParams["DateStyle"] = "ISO"
	cc.RuntimeParams["bytea_output"] = "hex"
	cc.RuntimeParams["extra_float_digits"] = "3"
	return cc, nil
}

func (s *source) open(ctx context.Context, tc *connector.TaskContext) error {
	cc, err := s.connConfig()
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s:%d as %s, database %s", cc.Host, cc.Port, cc.User, cc.Database)
	s.db, err = pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", where, err)
	}
	var walLevel string
	if err := s.db.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return err
	}
	if walLevel != "logical" {
		return fmt.Errorf("the server at %s has wal_level = %s: set wal_level = logical in postgresql.conf and restart it", where, walLevel)
	}
	s.tables = map[string]*table{}
	var order []string
	names, err := s.resolveTables(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		sch, tbl, _ := splitTable(name)
		t, err := s.loadTable(ctx, sch, tbl)
		if err != nil {
			return err
		}
		if _, dup := s.tables[name]; !dup {
			order = append(order, name)
		}
		s.tables[name] = t
	}
	s.order = order
	s.topics = map[string]string{}
	if err := s.checkTopics(); err != nil {
		return err
	}
	if s.cfg.Snapshot == "initial_only" {
		return s.openSnapshotOnly(ctx, tc, s.order)
	}
	if err := s.ensurePublication(ctx); err != nil {
		return err
	}

	rc := cc.Config.Copy()
	rc.RuntimeParams["replication"] = "database"
	s.repl, err = pgconn.ConnectConfig(ctx, rc)
	if err != nil {
		return fmt.Errorf("replication connection to %s: %w", where, err)
	}

	var saved map[string]any
	if tc.Offset != nil {
		saved = tc.Offset(s.part)
	}
	var slotExists bool
	if err := s.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)", s.cfg.Slot).Scan(&slotExists); err != nil {
		return err
	}
	snapDone := saved != nil && saved["snapshot"] == nil
	if saved != nil {
		if l, ok := saved["lsn"].(string); ok {
			lsn, err := pglogrepl.ParseLSN(l)
			if err != nil {
				return fmt.Errorf("saved offset %q is not an LSN: %w", l, err)
			}
			s.startLSN = lsn
		}
	}
	if snapDone && !slotExists {
		// Streaming from a new slot would skip what happened between the
		// saved position and the slot's creation: never in silence.
		return fmt.Errorf("replication slot %s does not exist, but the pipeline has a saved position (%s): the changes since then are gone with the slot. To start over with a new slot (and a new snapshot, with snapshot = \"initial\"), stop the pipeline and reset its offsets (pipectl offsets -reset, or DELETE /connectors/NAME/offsets)", s.cfg.Slot, s.startLSN)
	}
	needSnap := s.cfg.Snapshot == "initial" && !snapDone
	if slotExists && needSnap {
		// A slot without a finished snapshot: its exported snapshot is
		// gone, so the slot is made again and the snapshot read anew.
		s.log.Warn("postgres_cdc: dropping the slot to take the initial snapshot again", "slot", s.cfg.Slot)
		if err := pglogrepl.DropReplicationSlot(ctx, s.repl, s.cfg.Slot, pglogrepl.DropReplicationSlotOptions{}); err != nil {
			return fmt.Errorf("drop slot %s: %w", s.cfg.Slot, err)
		}
		slotExists = false
	}
	if !slotExists {
		action := "NOEXPORT_SNAPSHOT"
		if needSnap {
			action = "EXPORT_SNAPSHOT"
		}
		res, err := pglogrepl.CreateReplicationSlot(ctx, s.repl, s.cfg.Slot, "pgoutput", pglogrepl.CreateReplicationSlotOptions{SnapshotAction: action, Mode: pglogrepl.LogicalReplication})
		if err != nil {
			return fmt.Errorf("create slot %s: %w", s.cfg.Slot, err)
		}
		s.log.Info("postgres_cdc: created replication slot", "slot", s.cfg.Slot, "consistent_point", res.ConsistentPoint)
		lsn, err := pglogrepl.ParseLSN(res.ConsistentPoint)
		if err != nil {
			return err
		}
		if needSnap {
			s.snapLSN = lsn
			s.startLSN = lsn
			tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
			if err != nil {
				return err
			}
			s.snapTx = tx
			s.snapCtx, s.snapCancel = context.WithCancel(context.Background())
			if _, err := tx.Exec(ctx, fmt.Sprintf("SET TRANSACTION SNAPSHOT '%s'", res.SnapshotName)); err != nil {
				return fmt.Errorf("import the slot's snapshot: %w", err)
			}
			s.snapOrder = order
			return nil
		}
	}
	return s.startStreaming(ctx)
}

// openSnapshotOnly prepares snapshot = "initial_only": one REPEATABLE
// READ read of the tables, no slot and no publication; the source is
// finished after it (and at once when a saved offset says it was done).
func (s *source) openSnapshotOnly(ctx context.Context, tc *connector.TaskContext, order []string) error {
	s.snapOnly = true
	if tc.Offset != nil {
		if saved := tc.Offset(s.part); saved != nil && saved["snapshot"] == "done" {
			s.finished = true
			return nil
		}
	}
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	s.snapTx = tx
	s.snapCtx, s.snapCancel = context.WithCancel(context.Background())
	// The first query takes the transaction's snapshot: the WAL position
	// it reads stands for the snapshot in the records' source.lsn.
	var lsn string
	if err := tx.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return err
	}
	if s.snapLSN, err = pglogrepl.ParseLSN(lsn); err != nil {
		return err
	}
	s.snapOrder = order
	return nil
}

// scrub removes the DSN and its password (as typed and URL-escaped) from
// an error's text, should the driver or the server quote them (a table
// named like the password, a DSN echoed in a connect error). An error
// that quotes neither is returned as it is.
func (s *source) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := []string{s.cfg.DSN}
	if s.password != "" {
		secrets = append(secrets, s.password, url.QueryEscape(s.password), url.PathEscape(s.password))
	}
	for _, sec := range secrets {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "(redacted)")
		}
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

func (s *source) loadTable(ctx context.Context, sch, tbl string) (*table, error) {
	rows, err := s.db.Query(ctx, `
SELECT a.attname, a.atttypid, a.atttypmod,
       COALESCE(a.attnum = ANY(i.indkey), false)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`, sch, tbl)
	if err != nil {
		return nil, err
	}
	t := &table{Schema: sch, Name: tbl}
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.Name, &c.OID, &c.Typmod, &c.Key); err != nil {
			return nil, err
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("table %s.%s does not exist (or has no columns, or the user cannot see it): create it, or remove it from tables", sch, tbl)
	}
	t.build()
	return t, nil
}

func (s *source) ensurePublication(ctx context.Context) error {
	var exists bool
	if err := s.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = $1)", s.cfg.Publication).Scan(&exists); err != nil {
		return err
	}
	pub := pgx.Identifier{s.cfg.Publication}.Sanitize()
	var missing []string
	for _, t := range s.tables {
		id := pgx.Identifier{t.Schema, t.Name}.Sanitize()
		if !exists {
			missing = append(missing, id)
			continue
		}
		var in bool
		if err := s.db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3)", s.cfg.Publication, t.Schema, t.Name).Scan(&in); err != nil {
			return err
		}
		if !in {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	list := ""
	for i, m := range missing {
		if i > 0 {
			list += ", "
		}
		list += m
	}
	q := "CREATE PUBLICATION " + pub + " FOR TABLE " + list
	if exists {
		q = "ALTER PUBLICATION " + pub + " ADD TABLE " + list
	}
	if _, err := s.db.Exec(ctx, q); err != nil {
		return fmt.Errorf("publication %s: %w", s.cfg.Publication, err)
	}
	s.log.Info("postgres_cdc: publication updated", "publication", s.cfg.Publication, "tables", list)
	return nil
}

func (s *source) startStreaming(ctx context.Context) error {
	err := pglogrepl.StartReplication(ctx, s.repl, s.cfg.Slot, s.startLSN, pglogrepl.StartReplicationOptions{
		PluginArgs: []string{"proto_version '1'", fmt.Sprintf("publication_names '%s'", s.cfg.Publication)},
	})
	if err != nil {
		return fmt.Errorf("start replication on slot %s: %w", s.cfg.Slot, err)
	}
	s.streaming = true
	s.pos, s.confirmed = s.startLSN, s.startLSN
	s.lastBeat = time.Now()
	return nil
}

// topic returns a table's target topic: the topic expression's result,
// worked out once per table, or the prefix, schema and name.
func (s *source) topic(t *table) string {
	name := t.Schema + "." + t.Name
	if s.cfg.Topic == nil {
		return s.prefix + name
	}
	if tp, ok := s.topics[name]; ok {
		return tp
	}
	v, err := s.cfg.Topic.Eval(map[string]any{"schema": t.Schema, "table": t.Name})
	tp, _ := v.(string)
	if err != nil || tp == "" {
		// Poll reports it (checkTopics ran on every captured table at
		// Open, so only a table first seen mid-stream gets here).
		tp = s.prefix + name
		s.log.Error("postgres_cdc: the topic expression gives no topic; using the default", "table", name, "error", err)
	}
	s.topics[name] = tp
	return tp
}

// checkTopics evaluates the topic expression for every captured table, so
// that a bad one fails Open.
func (s *source) checkTopics() error {
	if s.cfg.Topic == nil {
		return nil
	}
	for name, t := range s.tables {
		v, err := s.cfg.Topic.Eval(map[string]any{"schema": t.Schema, "table": t.Name})
		if err != nil {
			return fmt.Errorf("topic expression for %s: %w", name, err)
		}
		tp, ok := v.(string)
		if !ok || tp == "" {
			return fmt.Errorf("topic expression for %s gives %v, not a topic name", name, v)
		}
		s.topics[name] = tp
	}
	return nil
}

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	if s.failed != nil {
		return nil, s.failed
	}
	if s.finished {
		return nil, io.EOF
	}
	var recs []connector.Record
	var err error
	if !s.streaming {
		recs, err = s.pollSnapshot(ctx)
	} else {
		recs, err = s.pollStream(ctx)
	}
	if err == io.EOF {
		s.finished = true
		if len(recs) > 0 {
			s.unacked++
		}
		return recs, io.EOF
	}
	if err != nil {
		s.failed = fmt.Errorf("source postgres_cdc: %w", s.scrub(err))
		return nil, s.failed
	}
	if len(recs) > 0 {
		s.unacked++
	}
	return recs, nil
}

func (s *source) pollSnapshot(ctx context.Context) ([]connector.Record, error) {
	var recs []connector.Record
	off := map[string]any{"lsn": s.snapLSN.String(), "snapshot": "running"}
	for len(recs) < maxBatch {
		if s.snapRows == nil {
			if s.snapNext == len(s.snapOrder) {
				if err := s.snapTx.Commit(ctx); err != nil {
					return nil, err
				}
				s.snapTx = nil
				if s.snapOnly {
					recs = append(recs, connector.Record{Skip: true, SourcePartition: s.part, SourceOffset: map[string]any{"lsn": s.snapLSN.String(), "snapshot": "done"}})
					return recs, io.EOF
				}
				// The snapshot is whole: its end is saved as a position.
				recs = append(recs, connector.Record{Skip: true, SourcePartition: s.part, SourceOffset: map[string]any{"lsn": s.snapLSN.String()}})
				if err := s.startStreaming(ctx); err != nil {
					return nil, err
				}
				return recs, nil
			}
			t := s.tables[s.snapOrder[s.snapNext]]
			s.snapNext++
			rows, err := s.snapTx.Query(s.snapCtx, "SELECT * FROM "+pgx.Identifier{t.Schema, t.Name}.Sanitize(), pgx.QueryResultFormats{pgx.TextFormatCode})
			if err != nil {
				return nil, fmt.Errorf("snapshot of %s.%s: %w", t.Schema, t.Name, err)
			}
			s.snapRows, s.snapTable = rows, t
		}
		if !s.snapRows.Next() {
			err := s.snapRows.Err()
			s.snapRows.Close()
			s.snapRows = nil
			if err != nil {
				return nil, fmt.Errorf("snapshot of %s.%s: %w", s.snapTable.Schema, s.snapTable.Name, err)
			}
			continue
		}
		raw := s.snapRows.RawValues()
		cells := make([]cell, len(raw))
		for i, b := range raw {
			if b == nil {
				cells[i] = cell{Kind: 'n'}
			} else {
				cells[i] = cell{Kind: 't', Data: b}
			}
		}
		t := s.snapTable
		row, _, err := t.decodeRow(cells)
		now := time.Now()
		if err != nil {
			recs = append(recs, s.failedRecord(t, "r", cells, err, off))
			continue
		}
		src := map[string]any{"lsn": s.snapLSN.String(), "schema": t.Schema, "table": t.Name, "ts_ms": now.UnixMilli(), "snapshot": true}
		recs = append(recs, s.record(t, t.keyOf(row), map[string]any{"op": "r", "after": row, "source": src}, now, off))
	}
	return recs, nil
}

func (s *source) record(t *table, key map[string]any, value map[string]any, ts time.Time, off map[string]any) connector.Record {
	r := connector.Record{Value: value, ValueSchema: t.value, Topic: s.topic(t), Partition: -1, Timestamp: ts, SourcePartition: s.part, SourceOffset: off}
	if key != nil {
		r.Key, r.KeySchema = key, t.key
	}
	return r
}

func (s *source) pollStream(ctx context.Context) ([]connector.Record, error) {
	var recs []connector.Record
	deadline := time.Now().Add(maxIdle)
	s.txRecords = s.txRecords[:0]
	// A Poll may end inside a transaction: its records carry the end of
	// the previous transaction, which a restart replays from.
	for len(recs) < maxBatch {
		if time.Since(s.lastBeat) >= s.cfg.HeartbeatInterval {
			if err := s.heartbeat(ctx); err != nil {
				return nil, err
			}
			if !s.inTx && s.unacked == 0 && len(recs) == 0 && s.walEnd > s.pos {
				// Caught up and idle: move the saved position to the
				// server's WAL end, confirmed once it is saved.
				s.pos = s.walEnd
				return []connector.Record{{Skip: true, SourcePartition: s.part, SourceOffset: map[string]any{"lsn": s.pos.String()}}}, nil
			}
		}
		wait := time.Until(deadline)
		if len(recs) > 0 {
			wait = min(wait, 20*time.Millisecond)
		}
		if wait <= 0 {
			break
		}
		rctx, cancel := context.WithTimeout(ctx, wait)
		msg, err := s.repl.ReceiveMessage(rctx)
		cancel()
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				if len(recs) > 0 {
					break
				}
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("replication stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return nil, err
				}
				if ka.ServerWALEnd > s.walEnd {
					s.walEnd = ka.ServerWALEnd
				}
				if ka.ReplyRequested {
					if err := s.heartbeat(ctx); err != nil {
						return nil, err
					}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return nil, err
				}
				if xld.ServerWALEnd > s.walEnd {
					s.walEnd = xld.ServerWALEnd
				}
				recs, err = s.handle(xld, recs)
				if err != nil {
					return nil, err
				}
			}
		case *pgproto3.ErrorResponse:
			return nil, fmt.Errorf("replication stream: %s (SQLSTATE %s)", m.Message, m.Code)
		}
	}
	return recs, nil
}

func (s *source) handle(xld pglogrepl.XLogData, recs []connector.Record) ([]connector.Record, error) {
	msg, err := pglogrepl.Parse(xld.WALData)
	if err != nil {
		return nil, fmt.Errorf("decode pgoutput message: %w", err)
	}
	off := map[string]any{"lsn": s.pos.String()}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		if name := m.Namespace + "." + m.RelationName; s.tables[name] == nil {
			// The publication has more tables than tables names (a
			// publication of the user's, FOR ALL TABLES, or a table
			// removed from tables): their changes are not captured.
			if !s.ignored[m.RelationID] {
				s.log.Info("postgres_cdc: ignoring the changes of a table the publication has but tables does not name", "table", name, "publication", s.cfg.Publication)
			}
			s.ignored[m.RelationID] = true
			delete(s.rels, m.RelationID)
			break
		}
		delete(s.ignored, m.RelationID)
		t := &table{Schema: m.Namespace, Name: m.RelationName}
		for _, c := range m.Columns {
			t.Columns = append(t.Columns, column{Name: c.Name, OID: c.DataType, Typmod: c.TypeModifier, Key: c.Flags&1 != 0})
		}
		t.build()
		s.rels[m.RelationID] = t
	case *pglogrepl.BeginMessage:
		s.inTx, s.xid, s.commitTS = true, m.Xid, m.CommitTime
		s.txRecords = s.txRecords[:0]
		s.txIgnored = false
	case *pglogrepl.CommitMessage:
		s.inTx = false
		s.pos = m.TransactionEndLSN
		if n := len(s.txRecords); n > 0 {
			recs[s.txRecords[n-1]].SourceOffset = map[string]any{"lsn": s.pos.String()}
		} else if s.txIgnored {
			// A transaction of ignored tables only: a skipped record
			// carries its end, so that the slot moves past it once
			// saved (one such record for a run of them).
			end := map[string]any{"lsn": s.pos.String()}
			if n := len(recs); n > 0 && recs[n-1].Skip {
				recs[n-1].SourceOffset = end
			} else {
				recs = append(recs, connector.Record{Skip: true, SourcePartition: s.part, SourceOffset: end})
			}
		}
		s.txRecords = s.txRecords[:0]
		s.txIgnored = false
	case *pglogrepl.InsertMessage:
		return s.change(recs, m.RelationID, "c", 0, nil, m.Tuple, xld.WALStart, off)
	case *pglogrepl.UpdateMessage:
		return s.change(recs, m.RelationID, "u", m.OldTupleType, m.OldTuple, m.NewTuple, xld.WALStart, off)
	case *pglogrepl.DeleteMessage:
		return s.change(recs, m.RelationID, "d", m.OldTupleType, m.OldTuple, nil, xld.WALStart, off)
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if s.ignored[id] {
				s.txIgnored = true
				continue
			}
			t, ok := s.rels[id]
			if !ok {
				return nil, fmt.Errorf("truncate of relation %d before its relation message", id)
			}
			src := s.sourceField(t, xld.WALStart)
			recs = append(recs, s.record(t, nil, map[string]any{"op": "t", "source": src}, s.commitTS, off))
			s.txRecords = append(s.txRecords, len(recs)-1)
		}
	}
	return recs, nil
}

func (s *source) sourceField(t *table, lsn pglogrepl.LSN) map[string]any {
	return map[string]any{"lsn": lsn.String(), "txid": int64(s.xid), "schema": t.Schema, "table": t.Name, "ts_ms": s.commitTS.UnixMilli()}
}

func cells(td *pglogrepl.TupleData) []cell {
	if td == nil {
		return nil
	}
	cs := make([]cell, len(td.Columns))
	for i, c := range td.Columns {
		cs[i] = cell{Kind: c.DataType, Data: c.Data}
	}
	return cs
}

func (s *source) change(recs []connector.Record, rel uint32, op string, oldType uint8, oldT, newT *pglogrepl.TupleData, lsn pglogrepl.LSN, off map[string]any) ([]connector.Record, error) {
	if s.ignored[rel] {
		s.txIgnored = true
		return recs, nil
	}
	t, ok := s.rels[rel]
	if !ok {
		return nil, fmt.Errorf("change of relation %d before its relation message", rel)
	}
	value := map[string]any{"op": op, "source": s.sourceField(t, lsn)}
	var before, after map[string]any
	if oldT != nil {
		b, _, err := t.decodeRow(cells(oldT))
		if err != nil {
			recs = append(recs, s.failedRecord(t, op, cells(oldT), err, off))
			s.txRecords = append(s.txRecords, len(recs)-1)
			return recs, nil
		}
		if oldType == 'K' {
			// A key-only old tuple holds nulls in the other columns:
			// they are unknown, not null, and left out.
			for _, c := range t.Columns {
				if !c.Key {
					delete(b, c.Name)
				}
			}
		}
		before = b
		value["before"] = b
	}
	if newT != nil {
		a, toast, err := t.decodeRow(cells(newT))
		if err != nil {
			recs = append(recs, s.failedRecord(t, op, cells(newT), err, off))
			s.txRecords = append(s.txRecords, len(recs)-1)
			return recs, nil
		}
		after = a
		value["after"] = a
		if len(toast) > 0 {
			value["unchanged_toast"] = toast
		}
	}
	key := t.keyOf(after)
	if key == nil {
		key = t.keyOf(before)
	}
	recs = append(recs, s.record(t, key, value, s.commitTS, off))
	s.txRecords = append(s.txRecords, len(recs)-1)
	if op == "d" && key != nil {
		recs = append(recs, connector.Record{Key: key, KeySchema: t.key, Topic: s.topic(t), Partition: -1, Timestamp: s.commitTS, SourcePartition: s.part, SourceOffset: off})
		s.txRecords = append(s.txRecords, len(recs)-1)
	}
	return recs, nil
}

// failedRecord is a row the source cannot convert: a record failure at
// stage source (errors.tolerance decides: the dead-letter topic, or the
// task fails naming it), with the row's text form as its value.
func (s *source) failedRecord(t *table, op string, cs []cell, err error, off map[string]any) connector.Record {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s.%s", op, t.Schema, t.Name)
	for i, c := range cs {
		name := fmt.Sprint(i)
		if i < len(t.Columns) {
			name = t.Columns[i].Name
		}
		switch c.Kind {
		case 't':
			fmt.Fprintf(&b, " %s=%q", name, c.Data)
		case 'n':
			fmt.Fprintf(&b, " %s=NULL", name)
		default:
			fmt.Fprintf(&b, " %s=(unchanged)", name)
		}
	}
	return connector.Record{Value: b.String(), Topic: s.topic(t), Partition: -1, Timestamp: time.Now(), SourcePartition: s.part, SourceOffset: off,
		Err: fmt.Errorf("source postgres_cdc: a row of %s.%s cannot be converted: %w", t.Schema, t.Name, err)}
}

// heartbeat confirms the last acknowledged position to PostgreSQL and
// asks for a keepalive, whose WAL end lets an idle source move on.
func (s *source) heartbeat(ctx context.Context) error {
	s.lastBeat = time.Now()
	if err := pglogrepl.SendStandbyStatusUpdate(ctx, s.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: s.confirmed, ReplyRequested: true}); err != nil {
		return fmt.Errorf("standby status update: %w", err)
	}
	return nil
}

func (s *source) Acked(records []connector.Record) {
	s.unacked--
	for _, r := range records {
		if l, ok := r.SourceOffset["lsn"].(string); ok && r.SourceOffset["snapshot"] == nil {
			if lsn, err := pglogrepl.ParseLSN(l); err == nil && lsn > s.confirmed {
				s.confirmed = lsn
			}
		}
	}
	if s.streaming && s.repl != nil {
		if err := pglogrepl.SendStandbyStatusUpdate(context.Background(), s.repl, pglogrepl.StandbyStatusUpdate{WALWritePosition: s.confirmed}); err != nil {
			s.log.Warn("postgres_cdc: standby status update failed", "error", err)
		}
		s.lastBeat = time.Now()
	}
}

func (s *source) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s.snapRows != nil {
		s.snapRows.Close()
		s.snapRows = nil
	}
	if s.snapTx != nil {
		_ = s.snapTx.Rollback(ctx)
		s.snapTx = nil
	}
	if s.snapCancel != nil {
		s.snapCancel()
	}
	if s.repl != nil {
		_ = s.repl.Close(ctx)
		s.repl = nil
	}
	if s.db != nil {
		_ = s.db.Close(ctx)
		s.db = nil
	}
	return nil
}

// TopicsNeeded asks the worker for the captured tables' topics (one
// partition at least), so that a table without a declared topic block
// still has one.
func (s *source) TopicsNeeded() []connector.TopicRequest {
	var reqs []connector.TopicRequest
	for _, name := range s.tableNames() {
		reqs = append(reqs, connector.TopicRequest{Name: s.topic(s.tables[name]), Partitions: 1})
	}
	return reqs
}

func (s *source) tableNames() []string { return s.order }

// resolveTables turns the tables attribute into schema.table names: a
// name with * or ? is a pattern (path.Match) over the database's tables
// (pg_tables, without the system schemas), which must match one at least;
// the tables a pattern matches are those there when the task starts.
func (s *source) resolveTables(ctx context.Context) ([]string, error) {
	var all []string
	var names []string
	for _, n := range s.cfg.Tables {
		sch, tbl, _ := splitTable(n)
		full := sch + "." + tbl
		if !strings.ContainsAny(full, "*?[") {
			names = append(names, full)
			continue
		}
		if all == nil {
			rows, err := s.db.Query(ctx, "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")
			if err != nil {
				return nil, err
			}
			all, err = pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, err
			}
		}
		matched := 0
		for _, t := range all {
			if ok, _ := path.Match(full, t); ok {
				names = append(names, t)
				matched++
			}
		}
		if matched == 0 {
			return nil, fmt.Errorf("the table pattern %q matches no table: create one, or change the pattern", n)
		}
	}
	return names, nil
}

var _ connector.TopicsNeeder = (*source)(nil)
