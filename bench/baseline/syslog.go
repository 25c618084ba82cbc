package baseline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/leodido/go-syslog/v4/common"
	"github.com/leodido/go-syslog/v4/rfc5424"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SyslogMessage is message seq of the syslog_tcp scenario: RFC 5424, with
// structured data, from one of 16 hosts, about 150 bytes.
func SyslogMessage(seq int64) string {
	return fmt.Sprintf(`<165>1 2026-12-03T10:00:00.123456Z web-%d nginx 4242 ACCESS [req@32473 seq="%d" status="200"] GET /orders/%d HTTP/1.1 from 10.0.0.%d`,
		seq%16, seq, seq, seq%250)
}

// SyslogTCP is the hand-written listener → franz-go loop of the
// syslog_tcp scenario: it listens on a.Listen, reads octet-counted RFC
// 5424 messages from the connections it accepts, parses each with
// go-syslog, encodes the fields pipectl's syslog source writes as a JSON
// object, and produces it keyed by host name to Output, until a.Records
// are acknowledged. franz-go's buffer of unacknowledged records holds the
// readers back, as pipectl's queue does.
func SyslogTCP(ctx context.Context, a Args) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(a.Brokers...), kgo.ProducerLinger(ProducerLinger), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return err
	}
	defer cl.Close()
	l, err := net.Listen("tcp", a.Listen)
	if err != nil {
		return err
	}
	defer l.Close()
	var (
		mu       sync.Mutex
		firstErr error
		acked    atomic.Int64
		done     = make(chan struct{})
		once     sync.Once
	)
	fail := func(err error) {
		mu.Lock()
		firstErr = cmpOr(firstErr, err)
		mu.Unlock()
		once.Do(func() { close(done) })
	}
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			fail(err)
			return
		}
		if acked.Add(1) == a.Records {
			once.Do(func() { close(done) })
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// It returns only when the connection ends.
				if err := readSyslog(ctx, c, cl, a.Output, promise); !errors.Is(err, io.EOF) {
					fail(err)
				}
			}()
		}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	return firstErr
}

// readSyslog reads one connection's octet-counted messages and produces
// them, until the connection ends (io.EOF) or fails.
func readSyslog(ctx context.Context, c net.Conn, cl *kgo.Client, topic string, promise func(*kgo.Record, error)) error {
	r := bufio.NewReaderSize(c, 64<<10)
	m := rfc5424.NewMachine()
	sender := c.RemoteAddr().String()
	var buf []byte
	for {
		n, err := readCount(r)
		if err != nil {
			return err
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		msg, err := m.Parse(buf)
		if err != nil {
			return err
		}
		sm := msg.(*rfc5424.SyslogMessage)
		v := map[string]any{"format": "rfc5424", "sender": sender, "version": int64(sm.Version)}
		if sm.Facility != nil {
			v["facility"], v["facility_name"] = int64(*sm.Facility), common.FacilityKeywords[*sm.Facility]
		}
		if sm.Severity != nil {
			v["severity"], v["severity_name"] = int64(*sm.Severity), common.SeverityLevelsShort[*sm.Severity]
		}
		if sm.Timestamp != nil {
			v["timestamp"] = *sm.Timestamp
		}
		for name, s := range map[string]*string{"hostname": sm.Hostname, "app_name": sm.Appname, "proc_id": sm.ProcID, "msg_id": sm.MsgID, "message": sm.Message} {
			if s != nil {
				v[name] = *s
			}
		}
		if sm.StructuredData != nil {
			v["structured_data"] = *sm.StructuredData
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var key []byte
		if sm.Hostname != nil {
			key = []byte(*sm.Hostname)
		}
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: b}, promise)
	}
}

// readCount reads an octet count and the space after it.
func readCount(r *bufio.Reader) (int, error) {
	s, err := r.ReadSlice(' ')
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(s[:len(s)-1]))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad octet count %q", s)
	}
	return n, nil
}
