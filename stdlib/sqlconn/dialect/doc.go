// Package dialect holds what the SQL connectors (sink "sql", source "sql",
// and later the change-data-capture sources) share about PostgreSQL and
// MySQL/MariaDB: reading a DSN and opening a database/sql handle on it
// (pgx and go-sql-driver/mysql), quoting identifiers, placeholders, the
// mapping between column types and record schemas, classifying driver
// errors (a row the database refuses on its own versus a connection that
// failed), and scrubbing passwords out of error messages.
//
// It imports only the SDK (runtime/connector) of the project, and the two
// drivers; nothing here knows about Kafka or pipelines.
package dialect
