// Package postgrescdc is the built-in "postgres_cdc" source: change data
// capture from PostgreSQL through logical replication (the pgoutput
// plugin, read with github.com/jackc/pglogrepl over github.com/jackc/pgx/v5).
//
// Open checks the tables, creates the publication and the replication
// slot when missing and, with snapshot = "initial", imports the snapshot
// the slot exported into a REPEATABLE READ transaction. Poll reads the
// snapshot (op "r") and then the stream: one record per insert ("c"),
// update ("u"), delete ("d", followed by a tombstone) and truncated table
// ("t"), keyed by the primary key, with the value
// {op, before, after, unchanged_toast, source {lsn, txid, schema, table,
// ts_ms, snapshot}} and record schemas from the relation messages.
//
// Offsets: the source partition is {slot}; the offset {lsn} is the end of
// the last whole transaction (a record inside a transaction carries the
// previous one's end, so a restart replays the whole transaction).
// Acked confirms to PostgreSQL only what the worker acknowledged;
// heartbeats ask for keepalives and, when everything is acknowledged,
// move the saved position to the server's WAL end (a Skip record) so that
// an idle slot holds no WAL. A saved position whose slot is gone fails
// Open. snapshot = "initial_only" reads the rows once without a slot and
// ends with io.EOF.
//
// Topics: topic_prefix + schema.table, or the topic expression over schema
// and table; TopicsNeeded asks the worker for them. A row that cannot be
// converted is a failed record (connector.Record.Err). Types map as
// decode.go says; see docs/cdc.md.
//
// It imports the plugin SDK, lang/configschema, pglogrepl and pgx.
package postgrescdc
