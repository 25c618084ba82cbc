package httpconn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

const (
	// maxBatch is the number of records after which Poll takes no more
	// requests (it returns whole requests, so one may go past it).
	maxBatch = 1000
	// maxIdle is how long Poll waits for a request before it returns none.
	maxIdle = time.Second
	// ackWait is how long Poll waits while records it returned are not
	// acknowledged yet: the worker delivers Acked between polls.
	ackWait = time.Millisecond
	// retryAfter is the Retry-After of a 429 or 503, in seconds.
	retryAfter = "1"
)

// request is one POST whose records wait for Kafka.
type request struct {
	recs []connector.Record
	done chan struct{} // closed by Acked
}

// source is the one task of an http source.
type source struct {
	connector.UnimplementedSource

	cfg    Config
	log    *slog.Logger
	json   connector.Converter // decodes values when the pipeline does not take JSON text
	raw    bool                // tc.ValueJSON: values go as json.RawMessage
	token  [32]byte            // sha256 of the bearer token
	srv    *http.Server
	ln     net.Listener
	addr   net.Addr
	ctx    context.Context // ends at Close: waiting requests answer 503
	stop   context.CancelFunc
	served chan struct{}
	// inflight holds the bytes of the bodies being read (max_inflight_bytes).
	inflight *semaphore.Weighted

	mu       sync.Mutex
	reserved int // records accepted and not yet acknowledged (queue_size bounds it)
	closed   bool

	queue chan *request // accepted requests, in order
	// polls holds the requests of each Poll not yet acknowledged, in the
	// order of the Polls (Poll and Acked only: one goroutine).
	polls [][]*request
}

// Config is SourceConfig; the short name keeps the source's code short.
type Config = SourceConfig

func (s *source) Open(ctx context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SourceSchema, &s.cfg); err != nil {
		return fmt.Errorf("source http: %w", err)
	}
	if tc.Tasks > 1 {
		return fmt.Errorf("source http: an http source runs one task, not %d: one task binds the listen address", tc.Tasks)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	conv, err := converters.NewJSON(nil)
	if err != nil {
		return fmt.Errorf("source http: %w", err)
	}
	s.json, s.raw = conv, tc.ValueJSON
	s.token = sha256.Sum256([]byte(s.cfg.BearerToken))
	s.queue = make(chan *request, s.cfg.QueueSize)
	var tlsConfig *tls.Config
	if s.cfg.TLSCertFile != "" {
		if tlsConfig, err = serverTLS(s.cfg.TLSCertFile, s.cfg.TLSKeyFile, s.cfg.TLSClientCAFile); err != nil {
			return fmt.Errorf("source http: %w", err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Listen)
	if err != nil {
		// The address may be held by a task that is stopping.
		return connector.Retriable(fmt.Errorf("source http: listen: %w", err))
	}
	s.addr = ln.Addr()
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	s.ln = ln
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.inflight = semaphore.NewWeighted(s.cfg.MaxInflight)
	// No WriteTimeout: it would cut off the wait for Kafka (ack_timeout);
	// each request's body gets its own read deadline instead.
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: s.cfg.ReadTimeout, IdleTimeout: s.cfg.IdleTimeout, MaxHeaderBytes: maxHeaderBytes, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http source stopped serving", "error", err)
		}
	}()
	s.log.Info("http source listening", "address", s.addr.String(), "path", s.cfg.Path, "tls", tlsConfig != nil, "format", s.cfg.Format)
	return nil
}

// answer writes a plain-text answer.
func answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// authorized reports whether r carries the bearer token, comparing
// digests in constant time (so that neither the token nor its length
// leaks through timing).
func (s *source) authorized(r *http.Request) bool {
	if s.cfg.BearerToken == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(auth[len(prefix):])))
	return subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
}

func (s *source) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != s.cfg.Path {
		answer(w, http.StatusNotFound, "not found: POST records to "+s.cfg.Path)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, "method not allowed: POST records")
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pipectl"`)
		answer(w, http.StatusUnauthorized, "unauthorized: a valid Authorization: Bearer token is required")
		return
	}
	tooLarge := fmt.Sprintf("request body too large: at most %d bytes (max_body_bytes)", s.cfg.MaxBodyBytes)
	if r.ContentLength > s.cfg.MaxBodyBytes {
		answer(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	recs, code, err := s.read(w, r)
	if err != nil {
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", retryAfter)
		}
		if code == http.StatusRequestEntityTooLarge && err == errBodyTooLarge {
			err = errors.New(tooLarge)
		}
		answer(w, code, err.Error())
		return
	}
	if len(recs) > s.cfg.QueueSize {
		answer(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request too large: %d records, more than queue_size (%d): send them in smaller requests", len(recs), s.cfg.QueueSize))
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, "the source is stopping: retry")
		return
	}
	if s.reserved+len(recs) > s.cfg.QueueSize {
		s.mu.Unlock()
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusTooManyRequests, fmt.Sprintf("too many records waiting for Kafka (queue_size %d): retry later", s.cfg.QueueSize))
		return
	}
	s.reserved += len(recs)
	req := &request{recs: recs, done: make(chan struct{})}
	// Never blocks: each queued request holds at least one of the
	// queue_size reserved records.
	s.queue <- req
	s.mu.Unlock()

	t := time.NewTimer(s.cfg.AckTimeout)
	defer t.Stop()
	select {
	case <-req.done:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, "{\"records\":%d}\n", len(recs))
	case <-t.C:
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, "Kafka did not acknowledge the records within ack_timeout: they may or may not be written; retry")
	case <-s.ctx.Done():
		w.Header().Set("Retry-After", retryAfter)
		answer(w, http.StatusServiceUnavailable, "the source stopped before Kafka acknowledged the records: they may or may not be written; retry")
	case <-r.Context().Done():
		// The client went away; the records are written anyway.
	}
}

// errBodyTooLarge is read's error of a body over max_body_bytes.
var errBodyTooLarge = errors.New("request body too large")

// read reads a request's body within read_timeout and max_inflight_bytes
// and builds its records; an error comes with the status that answers
// it, and no record of the request is kept.
func (s *source) read(w http.ResponseWriter, r *http.Request) ([]connector.Record, int, error) {
	weight := s.cfg.MaxBodyBytes
	if r.ContentLength >= 0 && r.ContentLength < weight {
		weight = r.ContentLength
	}
	if !s.inflight.TryAcquire(weight) {
		return nil, http.StatusTooManyRequests, fmt.Errorf("too many request bytes being read (max_inflight_bytes %d): retry later", s.cfg.MaxInflight)
	}
	defer s.inflight.Release(weight)
	rc := http.NewResponseController(w)
	// The deadline covers the body only: the wait for Kafka comes after.
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		// The rest of the body is not read: the connection closes
		// (the deadline stays, so that it cannot hold on).
		w.Header().Set("Connection", "close")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, errBodyTooLarge
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			return nil, http.StatusRequestTimeout, fmt.Errorf("the body did not arrive within read_timeout (%s)", s.cfg.ReadTimeout)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err)
	}
	_ = rc.SetReadDeadline(time.Time{})
	recs, err := s.records(r, body)
	if err != nil {
		if tl, ok := errors.AsType[*recordTooLarge](err); ok {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("%w; no record of this request was written", tl)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("bad request: %w; no record of this request was written", err)
	}
	return recs, 0, nil
}

// recordTooLarge is the error of a record over max_record_bytes.
type recordTooLarge struct {
	n    int // the record's number in the request, from 1
	size int
	max  int64
}

func (e *recordTooLarge) Error() string {
	return fmt.Sprintf("record too large: record %d is %d bytes, more than max_record_bytes (%d), the largest the Kafka producer takes", e.n, e.size, e.max)
}

// records builds the records of one request; an error is the client's
// (400) and no record of it is kept.
func (s *source) records(r *http.Request, body []byte) ([]connector.Record, error) {
	values, err := splitBody(s.cfg.Format, body)
	if err != nil {
		return nil, err
	}
	var key any
	if s.cfg.KeyHeader != "" {
		if k := r.Header.Get(s.cfg.KeyHeader); k != "" {
			key = k
		}
	}
	var headers []connector.Header
	for _, from := range slices.Sorted(maps.Keys(s.cfg.Headers)) {
		to := s.cfg.Headers[from]
		if vs := r.Header.Values(from); len(vs) > 0 {
			headers = append(headers, connector.Header{Key: to, Value: []byte(strings.Join(vs, ", "))})
		}
	}
	fixed := 0 // the bytes of the key and headers, the same in every record
	if k, ok := key.(string); ok {
		fixed += len(k)
	}
	for _, h := range headers {
		fixed += len(h.Key) + len(h.Value)
	}
	// Sizes first: a request with a record too large is refused whole.
	for i, v := range values {
		if size := fixed + len(v); int64(size) > s.cfg.MaxRecordBytes {
			return nil, &recordTooLarge{n: i + 1, size: size, max: s.cfg.MaxRecordBytes}
		}
	}
	now := time.Now()
	recs := make([]connector.Record, len(values))
	for i, v := range values {
		var value any
		switch {
		case s.cfg.Format == "raw":
			value = v
		case s.raw:
			value = json.RawMessage(v)
		default:
			if value, err = s.json.Decode(v); err != nil {
				return nil, fmt.Errorf("record %d: %w", i+1, err)
			}
		}
		recs[i] = connector.Record{Key: key, Value: value, Headers: slices.Clone(headers), Topic: s.cfg.Topic, Partition: -1, Timestamp: now}
	}
	return recs, nil
}

func (s *source) Poll(ctx context.Context) ([]connector.Record, error) {
	wait := maxIdle
	if len(s.polls) > 0 {
		wait = ackWait
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	var first *request
	select {
	case first = <-s.queue:
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	reqs := []*request{first}
	n := len(first.recs)
	for n < maxBatch {
		select {
		case r := <-s.queue:
			reqs = append(reqs, r)
			n += len(r.recs)
			continue
		default:
		}
		break
	}
	recs := first.recs
	if len(reqs) > 1 {
		recs = make([]connector.Record, 0, n)
		for _, r := range reqs {
			recs = append(recs, r.recs...)
		}
	}
	s.polls = append(s.polls, reqs)
	return recs, nil
}

// Acked answers the requests of the oldest Poll: their records are in
// Kafka (or the dead-letter topic).
func (s *source) Acked(records []connector.Record) {
	if len(s.polls) == 0 {
		return
	}
	reqs := s.polls[0]
	s.polls[0] = nil
	s.polls = s.polls[1:]
	n := 0
	for _, r := range reqs {
		n += len(r.recs)
		close(r.done)
	}
	s.mu.Lock()
	s.reserved -= n
	s.mu.Unlock()
}

func (s *source) Close() error {
	if s.stop == nil {
		return nil
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stop() // waiting requests answer 503
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.served
	return err
}

// Addr returns the address the source listens on (tests use it).
func (s *source) Addr() string { return s.addr.String() }
