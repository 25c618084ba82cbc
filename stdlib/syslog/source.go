package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

const (
	// maxBatch is the most records one Poll returns.
	maxBatch = 1000
	// maxIdle is how long Poll waits for a message before it returns none.
	maxIdle = time.Second
	// ackWait is how long Poll waits for a message while records it
	// returned are not acknowledged yet: the worker delivers Acked
	// between polls, and a full queue frees only then.
	ackWait = 5 * time.Millisecond
	// dropLogEvery is the least time between two logs of dropped
	// datagrams.
	dropLogEvery = 10 * time.Second
)

// source is the one task of a syslog source.
type source struct {
	connector.UnimplementedSource

	cfg    Config
	tc     *connector.TaskContext
	log    *slog.Logger
	loc    *time.Location
	udp    net.PacketConn
	tcp    net.Listener
	addr   net.Addr // where it listens
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{} // open TCP connections, closed by Close
	closed bool

	// queue holds read messages, in order; slots bounds the messages
	// read and not yet acknowledged (queue_size): a reader puts a token
	// in before it queues a message, Acked takes them out.
	queue chan connector.Record
	slots chan struct{}
	// polled counts the records Poll returned that Acked has not had.
	polled int

	dropped     atomic.Int64 // datagrams dropped since the last log
	lastDropLog time.Time    // UDP reader only
}

func (s *source) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&Schema, &s.cfg); err != nil {
		return fmt.Errorf("source syslog: %w", err)
	}
	if tc.Tasks > 1 {
		return fmt.Errorf("source syslog: a syslog source runs one task, not %d: one task binds the listen address", tc.Tasks)
	}
	s.tc = tc
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	loc, err := time.LoadLocation(s.cfg.Timezone)
	if err != nil {
		return fmt.Errorf("source syslog: timezone: %w", err)
	}
	s.loc = loc
	s.queue = make(chan connector.Record, s.cfg.QueueSize)
	s.slots = make(chan struct{}, s.cfg.QueueSize)
	var tlsConfig *tls.Config
	if s.cfg.TLSCertFile != "" {
		if tlsConfig, err = s.tlsConfig(); err != nil {
			return fmt.Errorf("source syslog: %w", err)
		}
	}
	var lc net.ListenConfig
	switch s.cfg.Protocol {
	case "tcp":
		l, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
		if err != nil {
			// The address may be held by a task that is stopping.
			return connector.Retriable(fmt.Errorf("source syslog: listen: %w", err))
		}
		if tlsConfig != nil {
			l = tls.NewListener(l, tlsConfig)
		}
		s.tcp, s.addr = l, l.Addr()
	default:
		c, err := lc.ListenPacket(ctx, "udp", s.cfg.Listen)
		if err != nil {
			return connector.Retriable(fmt.Errorf("source syslog: listen: %w", err))
		}
		if uc, ok := c.(*net.UDPConn); ok {
			_ = uc.SetReadBuffer(4 << 20) // the kernel caps it at net.core.rmem_max
		}
		s.udp, s.addr = c, c.LocalAddr()
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.conns = map[net.Conn]struct{}{}
	s.wg.Add(1)
	if s.tcp != nil {
		go s.accept()
	} else {
		go s.readUDP()
	}
	s.log.Info("syslog source listening", "protocol", s.cfg.Protocol, "address", s.addr.String(), "tls", tlsConfig != nil, "format", s.cfg.Format)
	return nil
}

func (s *source) tlsConfig() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls_cert_file and tls_key_file: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.cfg.TLSClientCAFile != "" {
		pem, err := os.ReadFile(s.cfg.TLSClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls_client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_client_ca_file %s holds no PEM certificate", s.cfg.TLSClientCAFile)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// record builds the record of one message.
func (s *source) record(p *parser, msg []byte, tooLong bool, sender net.Addr, now time.Time) connector.Record {
	from := sender.String()
	host := from
	if h, _, err := net.SplitHostPort(from); err == nil {
		host = h
	}
	var value map[string]any
	err := errTooLong
	if !tooLong {
		value, err = p.parse(msg, from)
	}
	if err != nil {
		if s.cfg.OnParseError == "dead_letter" {
			return connector.Record{Key: []byte(host), Value: append([]byte(nil), msg...), Topic: s.cfg.Topic, Partition: -1, Timestamp: now,
				Headers: []connector.Header{{Key: "syslog.sender", Value: []byte(from)}}, Err: fmt.Errorf("syslog message from %s: %w", from, err)}
		}
		value = p.failedValue(msg, from, err)
	}
	key := host
	if h, ok := value[fieldHostname].(string); ok {
		key = h
	}
	return connector.Record{Key: key, KeySchema: KeySchema, Value: value, ValueSchema: ValueSchema, Topic: s.cfg.Topic, Partition: -1, Timestamp: now}
}

// readUDP reads datagrams until Close, one message each.
func (s *source) readUDP() {
	defer s.wg.Done()
	p := newParser(s.cfg.Format, s.loc)
	buf := make([]byte, s.cfg.MaxMessageBytes+1)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("reading a datagram", "error", err)
			continue
		}
		select {
		case s.slots <- struct{}{}:
		default:
			// The pipeline does not keep up: UDP cannot be held back.
			s.tc.Dropped(1)
			s.dropped.Add(1)
			if now := time.Now(); now.Sub(s.lastDropLog) >= dropLogEvery {
				s.lastDropLog = now
				s.log.Warn("syslog datagrams dropped: the queue is full (queue_size messages not yet in Kafka)",
					"dropped", s.dropped.Swap(0), "queue_size", s.cfg.QueueSize)
			}
			continue
		}
		msg := buf[:n]
		tooLong := n > s.cfg.MaxMessageBytes
		if tooLong {
			msg = msg[:s.cfg.MaxMessageBytes]
		}
		s.queue <- s.record(p, trimTrailer(msg), tooLong, from, time.Now())
	}
}

// accept accepts TCP connections until Close.
func (s *source) accept() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn("accepting a connection", "error", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.readTCP(c)
	}
}

// readTCP reads the messages of one connection until it closes. It waits
// for a slot after it read each message, so that a full queue stops it
// reading: the sender sees TCP's back-pressure. (Waiting before the read
// would let idle connections hold every slot.)
func (s *source) readTCP(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	p := newParser(s.cfg.Format, s.loc)
	f := newFramer(c, s.cfg.MaxMessageBytes)
	from := c.RemoteAddr()
	for {
		msg, tooLong, err := f.next()
		if err != nil {
			if !errors.Is(err, io.EOF) && s.ctx.Err() == nil {
				s.log.Warn("syslog connection closed", "sender", from.String(), "error", err)
			}
			return
		}
		rec := s.record(p, msg, tooLong, from, time.Now())
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return
		}
		s.queue <- rec
	}
}

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	wait := maxIdle
	if s.polled > 0 {
		wait = ackWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	var first connector.Record
	select {
	case first = <-s.queue:
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	recs := make([]connector.Record, 1, min(maxBatch, 1+len(s.queue)))
	recs[0] = first
	for len(recs) < maxBatch {
		select {
		case r := <-s.queue:
			recs = append(recs, r)
			continue
		default:
		}
		break
	}
	s.polled += len(recs)
	return recs, nil
}

// Acked frees the slots of acknowledged records, so that readers read on.
func (s *source) Acked(records []connector.Record) {
	for range records {
		<-s.slots
	}
	s.polled -= len(records)
}

func (s *source) Close() error {
	if s.stop == nil {
		return nil
	}
	s.stop()
	var err error
	if s.tcp != nil {
		err = s.tcp.Close()
	}
	if s.udp != nil {
		err = s.udp.Close()
	}
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	// No reader blocks on the queue: it has room for every slot.
	s.wg.Wait()
	if n := s.dropped.Load(); n > 0 {
		s.log.Warn("syslog datagrams dropped: the queue is full (queue_size messages not yet in Kafka)", "dropped", n, "queue_size", s.cfg.QueueSize)
	}
	return err
}
