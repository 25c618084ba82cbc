// Package sqlconn holds the query-based SQL connectors for PostgreSQL and
// MySQL/MariaDB: sink "sql" (insert, upsert and delete, one transaction per
// flush, auto_create and auto_evolve from the record schema) and source
// "sql" (Kafka Connect's JDBC source modes: bulk, incrementing, timestamp,
// timestamp+incrementing). What the SQL connectors share — DSNs, quoting,
// type mapping, error classes — is in the dialect package.
//
// It imports only the SDK (runtime/connector) and lang/configschema of the
// project; the drivers (pgx, go-sql-driver/mysql) are used here and in
// dialect, nowhere else.
package sqlconn
