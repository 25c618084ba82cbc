// Package pgtest starts a private PostgreSQL server for a test: initdb and
// pg_ctl from the machine's PostgreSQL (pg_config --bindir), as the postgres
// user when the test runs as root, on a random port with a socket directory
// of its own and wal_level = logical, stopped at the test's end. The long
// tests of postgres_cdc use it. The test skips, saying what to install,
// when PostgreSQL's server binaries are missing.
package pgtest
