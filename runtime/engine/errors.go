package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/retry"
)

// Stage is where in a task an error happened.
type Stage int

// The stages. The first four are the values of the pipectl.error.stage
// header of dead-letter records.
const (
	StageSource     Stage = iota // the source connector (Open, Poll), or Kafka refusing a source record
	StageSink                    // the sink connector (Open, Write, Flush)
	StageConverter               // a key or value converter
	StageTransform               // a transform
	StageKafka                   // the fleet cluster: fetch, produce, commit, topic creation
	StageOffsets                 // the source offset store
	StageDeadLetter              // writing to the dead-letter topic
)

// String returns the stage's name as status and headers show it.
func (s Stage) String() string {
	switch s {
	case StageSource:
		return "source"
	case StageSink:
		return "sink"
	case StageConverter:
		return "converter"
	case StageTransform:
		return "transform"
	case StageKafka:
		return "kafka"
	case StageOffsets:
		return "offsets"
	case StageDeadLetter:
		return "dead_letter"
	default:
		return fmt.Sprintf("Stage(%d)", int(s))
	}
}

// TaskError is why a task failed. The worker puts it in the task's status:
// Message is the one-line error, Trace the longer account (Kafka Connect's
// "trace"), never a Go stack trace.
type TaskError struct {
	Pipeline string
	Task     int
	Stage    Stage
	// Class is the Go type of the error that caused the failure, without
	// its pointer star ("json.SyntaxError", "expr.EvalError"), or "error"
	// when it has no more telling type.
	Class   string
	Message string
	// Trace names the stage, the record when there is one, and every
	// error of the chain.
	Trace string
	Err   error
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("%s task %d: %s: %s", e.Pipeline, e.Task, e.Stage, e.Message)
}

// Unwrap returns the cause.
func (e *TaskError) Unwrap() error { return e.Err }

// recordRef says which record an error concerns, for traces and headers.
type recordRef struct {
	topic     string
	partition int32
	offset    int64 // -1: none (source records)
}

func (r *recordRef) String() string {
	if r.offset < 0 {
		if r.partition < 0 {
			return fmt.Sprintf("topic %q", r.topic)
		}
		return fmt.Sprintf("topic %q partition %d", r.topic, r.partition)
	}
	return fmt.Sprintf("topic %q partition %d offset %d", r.topic, r.partition, r.offset)
}

func newTaskError(p *Pipeline, task int, stage Stage, rec *recordRef, err error) *TaskError {
	var b strings.Builder
	fmt.Fprintf(&b, "%s task %d failed in stage %s\n", p.address, task, stage)
	if rec != nil {
		fmt.Fprintf(&b, "record: %s\n", rec)
	}
	for i, e := 0, err; e != nil; i, e = i+1, errors.Unwrap(e) {
		if i == 0 {
			fmt.Fprintf(&b, "error: %s\n", e)
		} else {
			fmt.Fprintf(&b, "caused by (%s): %s\n", className(e), e)
		}
	}
	if hint := handshakeHint(err); hint != "" {
		fmt.Fprintf(&b, "hint: %s\n", hint)
	}
	return &TaskError{
		Pipeline: p.address,
		Task:     task,
		Stage:    stage,
		Class:    classOf(err),
		Message:  err.Error(),
		Trace:    strings.TrimSuffix(b.String(), "\n"),
		Err:      err,
	}
}

// handshakeHint explains an error that says a server closed the connection
// before it answered: franz-go's ErrFirstReadEOF, or a plain io.EOF. A
// broker does that during the handshake when the client's TLS or SASL
// settings are not the ones it expects (a broker without SASL, such as the
// embedded one, closes the connection when a client starts a SASL
// handshake). It returns "" for other errors.
func handshakeHint(err error) string {
	var first *kgo.ErrFirstReadEOF
	if !errors.As(err, &first) && !errors.Is(err, io.EOF) {
		return ""
	}
	return "the server closed the connection before it answered; if that happened during the handshake, the authentication (SASL) " +
		"or TLS settings may not match the cluster's (a kafka connector's sasl_* and tls attributes, or the fleet's kafka block)"
}

// classOf names the most telling Go type of an error chain: the deepest
// of pipectl's own error types that is not a plain wrapper (expr.EvalError,
// not the cel-go type it wraps, which is no part of pipectl's contract),
// else the deepest error that is not a plain wrapper.
func classOf(err error) string {
	class, own := "error", false
	for e := err; e != nil; e = errors.Unwrap(e) {
		n := className(e)
		if plainWrapper[n] {
			continue
		}
		if isOwn := ownType(e); isOwn || !own {
			class, own = n, isOwn
		}
	}
	return class
}

// ownType reports an error whose type is declared in pipectl's module.
func ownType(e error) bool {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "github.com/pipectl/pipectl/")
}

func className(e error) string { return strings.TrimPrefix(fmt.Sprintf("%T", e), "*") }

// plainWrapper are error types that add text and no meaning.
var plainWrapper = map[string]bool{
	"errors.errorString": true, "fmt.wrapError": true, "fmt.wrapErrors": true,
	"errors.joinError": true, "connector.retriable": true,
	"engine.retryError": true, "engine.TaskError": true, "engine.transformError": true,
}

// IsRetriable reports whether err may succeed when tried again: it was
// marked with connector.Retriable, or it is a retriable Kafka error, a
// franz-go record timeout or retry limit, or a network error (a broker that
// is restarting refuses connections or drops them: see IsNetworkError).
func IsRetriable(err error) bool {
	if err == nil {
		return false
	}
	return connector.IsRetriable(err) || kerr.IsRetriable(err) ||
		errors.Is(err, kgo.ErrRecordTimeout) || errors.Is(err, kgo.ErrRecordRetries) ||
		IsNetworkError(err)
}

// IsNetworkError reports whether err says that a connection could not be
// made or was lost: a refused or failed dial (a broker that is restarting,
// a name that does not resolve yet), a reset, a timeout, an EOF in the
// middle of a conversation. franz-go's own classification
// (kgo.IsRetryableBrokerErr) leaves failed dials out on purpose, because
// its callers choose another broker instead; a task has no other broker to
// choose and retries the whole operation until retry_timeout. A connection
// closed before the first answer (kgo.ErrFirstReadEOF: usually SASL or TLS
// settings that do not match the listener's) is not a network error.
func IsNetworkError(err error) bool {
	if err == nil || errors.Is(err, kgo.ErrClientClosed) {
		return false
	}
	var first *kgo.ErrFirstReadEOF
	if errors.As(err, &first) {
		return false
	}
	if kgo.IsRetryableBrokerErr(err) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// FailedRecord is what an error that a Sink's Write returns implements,
// alone or joined with others (errors.Join), to say that one record of the
// batch failed on its own (a row the database rejected) while the others
// were written. FailedRecord returns the record's index in the batch given
// to Write. Such records follow errors.tolerance like converter errors;
// an error from Write that is not made only of FailedRecord errors fails the
// whole batch (retried when IsRetriable).
//
// It is declared here, where it is used; connector.RecordFailed builds
// such an error.
type FailedRecord interface {
	error
	FailedRecord() int
}

// DeadLetterHeaders is what a FailedRecord error implements to add
// headers to the record's dead-letter copy (connector.RecordRejected
// builds one: sink http adds the response's status and body). Headers
// under the engine's own names (reservedHeader) are dropped: the
// dead-letter copy's pipectl.error.*, pipectl.source.* and
// pipectl.pipeline say what the engine knows, and a sink cannot
// overwrite them.
type DeadLetterHeaders interface {
	DeadLetterHeaders() []connector.Header
}

// reservedHeader says whether a header name is one the engine writes on
// dead-letter copies.
func reservedHeader(key string) bool {
	return strings.HasPrefix(key, "pipectl.error.") || strings.HasPrefix(key, "pipectl.source.") || key == HeaderPipeline
}

// failedRecords splits a Write error into per-record failures. ok is false
// when some part of err is not a FailedRecord.
func failedRecords(err error, n int) (failed map[int]error, ok bool) {
	failed = map[int]error{}
	var walk func(error) bool
	walk = func(e error) bool {
		if fr, is := e.(FailedRecord); is {
			i := fr.FailedRecord()
			if i < 0 || i >= n {
				return false
			}
			if _, dup := failed[i]; !dup {
				failed[i] = fr
			}
			return true
		}
		if j, is := e.(interface{ Unwrap() []error }); is {
			for _, inner := range j.Unwrap() {
				if !walk(inner) {
					return false
				}
			}
			return len(j.Unwrap()) > 0
		}
		return false
	}
	if !walk(err) {
		return nil, false
	}
	return failed, true
}

// retryError is a retriable error that outlasted retry_timeout.
type retryError struct {
	what    string
	timeout time.Duration
	err     error
}

func (e *retryError) Error() string {
	return fmt.Sprintf("%s still failing after retry_timeout %s: %v", e.what, e.timeout, e.err)
}
func (e *retryError) Unwrap() error { return e.err }

// initialBackoff is the first wait before a retry; each next one doubles, up
// to retry_backoff_max.
const initialBackoff = 100 * time.Millisecond

// retry runs op until it succeeds, fails with an error that is not
// retriable, retry_timeout passes (a *retryError) or ctx ends (op's last
// error). The waits follow retry.Backoff from initialBackoff up to
// retry_backoff_max, without jitter; each retry is counted and logged.
func (t *task) retry(ctx context.Context, what string, op func() error) error {
	pol := t.p.policy
	defer t.counters.retryDone(what)
	opts := []backoff.RetryOption{
		backoff.WithBackOff(retry.Backoff{Initial: initialBackoff, Max: pol.backoffMax}.New()),
		backoff.WithMaxElapsedTime(pol.retryTimeout),
		backoff.WithNotify(func(err error, wait time.Duration) {
			t.counters.Retries.Add(1)
			t.counters.retryFailed(what, err)
			t.log.Warn("retrying", "operation", what, "in", wait, "error", err)
		}),
	}
	if pol.retryTimeout <= 0 {
		// backoff reads a zero MaxElapsedTime as no limit; a zero
		// retry_timeout means one attempt.
		opts = append(opts, backoff.WithMaxTries(1))
	}
	// Retry stops when ctx ends, before it waits and while it waits,
	// with ctx's error: the caller gets op's last one instead.
	var last error
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		last = op()
		if last != nil && !IsRetriable(last) {
			return struct{}{}, backoff.Permanent(last)
		}
		return struct{}{}, last
	}, opts...)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil, !IsRetriable(last):
		return last
	}
	return &retryError{what: what, timeout: pol.retryTimeout, err: last}
}
