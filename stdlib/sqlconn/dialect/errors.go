package dialect

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
)

// IsRowError reports whether err is the database refusing one row on its
// own — a constraint (unique, not null, foreign key, check), a value out
// of range, too long or of the wrong form — so that the other rows of a
// batch can still be written: PostgreSQL's SQLSTATE classes 22 and 23, and
// MySQL's matching error numbers.
func IsRowError(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return strings.HasPrefix(pg.Code, "22") || strings.HasPrefix(pg.Code, "23")
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1048, // column cannot be null
			1062,       // duplicate entry
			1263,       // null to a NOT NULL column
			1264,       // out of range
			1265,       // data truncated
			1292,       // incorrect value
			1364,       // field has no default
			1366,       // incorrect string / integer value
			1406,       // data too long
			1451, 1452, // foreign key
			1690, // value out of range
			3819, // check constraint (MySQL)
			4025: // check constraint (MariaDB)
			return true
		}
		return strings.HasPrefix(string(my.SQLState[:]), "22") || strings.HasPrefix(string(my.SQLState[:]), "23")
	}
	return false
}

// IsRetriable reports whether err may go away when tried again: the
// connection failed or was refused, the server is shutting down, a
// deadlock or serialization failure, too many connections.
func IsRetriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"), // connection exception
			strings.HasPrefix(pg.Code, "53"),  // insufficient resources
			strings.HasPrefix(pg.Code, "57P"), // shutdown, cannot connect now
			pg.Code == "40001", pg.Code == "40P01":
			return true
		}
		return false
	}
	var my *mysql.MySQLError
	if errors.As(err, &my) {
		switch my.Number {
		case 1040, 1053, 1205, 1213, 2002, 2003, 2006, 2013:
			return true
		}
		return false
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	return errors.As(err, &netErr) || errors.As(err, &connErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// IsUndefinedTable reports whether err says that a table does not exist.
func IsUndefinedTable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "42P01"
	}
	var my *mysql.MySQLError
	return errors.As(err, &my) && my.Number == 1146
}

// IsPermission reports whether err says that the user may not do it.
func IsPermission(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "42501" || pg.Code == "28000" || pg.Code == "28P01"
	}
	var my *mysql.MySQLError
	return errors.As(err, &my) && (my.Number == 1142 || my.Number == 1044 || my.Number == 1045 || my.Number == 1143)
}
