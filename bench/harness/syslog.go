package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/bench/baseline"
)

// runSyslogTCP is the syslog_tcp scenario: messages/s from one TCP
// connection (octet counting, RFC 5424) into Kafka, pipectl's source
// "syslog" against baseline.SyslogTCP. The harness sends the messages as
// fast as the listener reads them; each side is timed from its process's
// start until the output topic holds every message.
func runSyslogTCP(ctx context.Context, e *env) (*Result, error) {
	var addr string // the listen address of the run under way
	free := func() (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		defer l.Close()
		return l.Addr().String(), nil
	}
	topics := topicOutput(func(e *env) int64 { return e.cfg.Records })
	return runThroughput(ctx, e, throughput{
		records: e.cfg.Records,
		output: func(ctx context.Context, e *env, name string) (*output, error) {
			out, err := topics(ctx, e, name)
			if err != nil {
				return nil, err
			}
			if addr, err = free(); err != nil {
				out.cleanup()
				return nil, err
			}
			read := out.records
			// sender is the feeder's port, which differs between runs.
			out.records = func(ctx context.Context) ([]string, error) {
				recs, err := read(ctx)
				for i, r := range recs {
					key, value, _ := strings.Cut(r, "\x00") // readAll's key NUL value
					var m map[string]any
					if json.Unmarshal([]byte(value), &m) == nil {
						delete(m, "sender")
						b, _ := json.Marshal(m)
						recs[i] = key + "\x00" + string(b)
					}
				}
				return recs, err
			}
			return out, nil
		},
		pipeline: func(e *env, target string) string {
			return fmt.Sprintf("source \"syslog\" \"bench\" {\n  listen   = %q\n  protocol = \"tcp\"\n  format   = \"rfc5424\"\n  topic    = %q\n}\n", addr, target)
		},
		baseline: func(e *env, target, _ string) []string {
			return []string{"-name", "syslog_tcp", "-brokers", e.broker.addr, "-listen", addr, "-output", target, "-records", strconv.FormatInt(e.cfg.Records, 10)}
		},
		feed: func(ctx context.Context, e *env) error { return sendSyslog(ctx, addr, e.cfg.Records) },
	})
}

// sendSyslog connects to addr as soon as it listens and writes n
// octet-counted messages.
func sendSyslog(ctx context.Context, addr string, n int64) error {
	var c net.Conn
	for {
		var err error
		var d net.Dialer
		if c, err = d.DialContext(ctx, "tcp", addr); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	defer c.Close()
	go func() { <-ctx.Done(); c.Close() }()
	w := bufio.NewWriterSize(c, 256<<10)
	for seq := range n {
		m := baseline.SyslogMessage(seq)
		if _, err := fmt.Fprintf(w, "%d %s", len(m), m); err != nil {
			return err
		}
	}
	return w.Flush()
}
