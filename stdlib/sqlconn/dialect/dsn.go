package dialect

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect is the SQL flavour of a database.
type Dialect uint8

// The dialects.
const (
	Postgres Dialect = iota + 1 // PostgreSQL
	MySQL                       // MySQL and MariaDB
)

func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

// Names lists the values of a connector's dialect attribute.
var Names = []string{"postgres", "mysql"}

// ByName returns the dialect of a name in Names.
func ByName(name string) (Dialect, bool) {
	switch name {
	case "postgres":
		return Postgres, true
	case "mysql":
		return MySQL, true
	}
	return 0, false
}

// FromScheme returns the dialect a DSN's URL scheme names: postgres:// and
// postgresql:// are PostgreSQL, mysql:// and mariadb:// are MySQL. ok is
// false for a DSN that is no such URL (a PostgreSQL keyword/value string,
// a go-sql-driver DSN): then the dialect attribute must say.
func FromScheme(dsn string) (Dialect, bool) {
	scheme, _, found := strings.Cut(dsn, "://")
	if !found {
		return 0, false
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		return Postgres, true
	case "mysql", "mariadb":
		return MySQL, true
	}
	return 0, false
}

// Resolve picks the dialect of a connection: the explicit name when given
// (it must agree with the DSN's scheme, if any), else the DSN's scheme.
// Its errors never quote the DSN.
func Resolve(dsn, explicit string) (Dialect, error) {
	fromDSN, ok := FromScheme(dsn)
	if explicit == "" {
		if !ok {
			return 0, errors.New(`the dialect cannot be told from the dsn: write it as a postgres:// or mysql:// URL, or set dialect = "postgres" or "mysql"`)
		}
		return fromDSN, nil
	}
	d, known := ByName(explicit)
	if !known {
		return 0, fmt.Errorf("unknown dialect %q: use %q or %q", explicit, "postgres", "mysql")
	}
	if ok && d != fromDSN {
		return 0, fmt.Errorf("dialect = %q but the dsn is a %s URL", explicit, fromDSN)
	}
	return d, nil
}

var quietDriver sync.Once

// Conn is a parsed DSN: what Open needs, and what must never be shown.
type Conn struct {
	Dialect Dialect
	// Secrets are the strings to scrub from errors: the password and the
	// DSN itself.
	Secrets []string
	// Database is the database the DSN names ("" when none).
	Database string

	connector driver.Connector
}

// Parse reads a DSN of the given dialect. Sessions are set to UTC (a
// timestamp without a time zone is read and written as UTC). Its errors
// never quote the DSN or its password.
func Parse(d Dialect, dsn string) (*Conn, error) {
	c := &Conn{Dialect: d, Secrets: []string{dsn}}
	switch d {
	case Postgres:
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, errors.New("the dsn is not a valid PostgreSQL connection string (postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable, or keyword=value pairs)")
		}
		if cfg.Password != "" {
			c.Secrets = append(c.Secrets, cfg.Password)
		}
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		if _, set := cfg.RuntimeParams["timezone"]; !set {
			cfg.RuntimeParams["timezone"] = "UTC"
		}
		if _, set := cfg.RuntimeParams["application_name"]; !set {
			cfg.RuntimeParams["application_name"] = "pipectl"
		}
		c.Database = cfg.Database
		c.connector = stdlib.GetConnector(*cfg)
	case MySQL:
		quietDriver.Do(func() {
			// The driver prints some connection errors to stderr
			// on its own (a killed connection); they reach the
			// connector as errors too.
			_ = mysql.SetLogger(log.New(io.Discard, "", 0))
		})
		cfg, err := parseMySQL(dsn)
		if err != nil {
			return nil, err
		}
		if cfg.Passwd != "" {
			c.Secrets = append(c.Secrets, cfg.Passwd)
		}
		c.Database = cfg.DBName
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, errors.New("the dsn is not a valid MySQL connection string")
		}
		c.connector = conn
	default:
		return nil, fmt.Errorf("unknown dialect %v", d)
	}
	return c, nil
}

// parseMySQL reads mysql://USER:PASSWORD@HOST:PORT/DATABASE?PARAMS (the
// parameters are go-sql-driver's) or a go-sql-driver DSN as it is.
func parseMySQL(dsn string) (*mysql.Config, error) {
	bad := errors.New("the dsn is not a valid MySQL connection string (mysql://USER:PASSWORD@HOST:PORT/DATABASE)")
	var cfg *mysql.Config
	if _, ok := FromScheme(dsn); ok {
		u, err := url.Parse(dsn)
		if err != nil || u.Opaque != "" {
			return nil, bad
		}
		cfg = mysql.NewConfig()
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		host := u.Host
		if host == "" {
			host = "127.0.0.1"
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), "3306")
		}
		cfg.Net, cfg.Addr = "tcp", host
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		if strings.Contains(cfg.DBName, "/") {
			return nil, bad
		}
		if u.RawQuery != "" {
			// Let the driver read its own parameters.
			parsed, err := mysql.ParseDSN("/?" + u.RawQuery)
			if err != nil {
				return nil, errors.New("the dsn's parameters are not valid for MySQL")
			}
			parsed.User, parsed.Passwd, parsed.Net, parsed.Addr, parsed.DBName = cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName
			cfg = parsed
		}
	} else {
		parsed, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, bad
		}
		cfg = parsed
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	if _, set := cfg.Params["time_zone"]; !set {
		cfg.Params["time_zone"] = "'+00:00'"
	}
	if !cfg.InterpolateParams && !strings.Contains(dsn, "interpolateParams") {
		// One round trip a statement instead of prepare, execute and
		// close; the driver escapes for the connection's charset.
		cfg.InterpolateParams = true
	}
	return cfg, nil
}

// Open returns a database/sql handle on the connection; it connects
// lazily (Ping to check).
func (c *Conn) Open() *sql.DB { return sql.OpenDB(c.connector) }

// Scrub returns err with every secret of the connection replaced by
// "(sensitive)", keeping what err wraps for errors.Is/As through Unwrap.
func (c *Conn) Scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range c.Secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "(sensitive)")
		}
	}
	if clean == msg {
		return err
	}
	return scrubbed{msg: clean, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (s scrubbed) Error() string { return s.msg }
func (s scrubbed) Unwrap() error { return s.err }
