package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
)

// openSource is a source whose Open runs open (nil: it opens).
type openSource struct {
	nopSource
	open func(context.Context) error
}

func (s openSource) Open(ctx context.Context, _ *connector.TaskContext) error {
	if s.open == nil {
		return nil
	}
	return s.open(ctx)
}

// openSink is a sink whose Open fails with err (nil: it opens).
type openSink struct {
	nopSink
	err error
}

func (s openSink) Open(context.Context, *connector.TaskContext) error { return s.err }

// TestOnRunning calls OnRunning once when the task opened, and never when
// its plugin's Open fails.
func TestOnRunning(t *testing.T) {
	c := startCluster(t)
	c.createTopic(t, "in", 1)
	broken := errors.New("cannot reach the outside system")
	for _, tc := range []struct {
		name string
		kind configschema.Kind
		err  error
	}{
		{"source opens", configschema.Source, nil},
		{"source fails to open", configschema.Source, broken},
		{"sink opens", configschema.Sink, nil},
		{"sink fails to open", configschema.Sink, broken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := testRegistry(t,
				func() connector.Source { return openSource{open: func(context.Context) error { return tc.err }} },
				func() connector.Sink { return openSink{err: tc.err} })
			spec := &control.PipelineSpec{Kind: tc.kind, Type: "test"}
			var a TaskArgs
			if tc.kind == configschema.Source {
				a = TaskArgs{Pipeline: mustCompile(t, "source.test.open", spec, reg), Producer: c.producer, Offsets: newMemOffsets(), Counters: &Counters{}}
			} else {
				spec.Topics = []string{"in"}
				a = sinkArgs(c, mustCompile(t, "sink.test.open", spec, reg))
			}
			var calls atomic.Int64
			opened := make(chan struct{}, 1)
			a.OnRunning = func() {
				calls.Add(1)
				opened <- struct{}{}
			}
			r := runTask(t, a)
			if tc.err != nil {
				if err := r.wait(t); !errors.Is(err, broken) {
					t.Fatalf("Run = %v, want the Open error", err)
				}
				if n := calls.Load(); n != 0 {
					t.Errorf("OnRunning was called %d times for a task whose Open failed", n)
				}
				return
			}
			select {
			case <-opened:
			case <-time.After(30 * time.Second):
				t.Fatal("OnRunning was not called within 30 s of the start")
			}
			if _, err := r.stop(t); err != nil {
				t.Fatalf("Run = %v", err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("OnRunning was called %d times, want once", n)
			}
		})
	}
}

// closingListener accepts connections and closes each once it has read
// the first request: what a broker does when a client's first request is
// not what it expects (TLS or SASL settings that do not match).
func closingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Reading first makes the close a clean EOF, not a reset.
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _ = conn.Read(make([]byte, 4096))
				_ = conn.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// TestTraceHandshakeHint: when a connection is closed during the
// handshake, the task's trace says that the SASL or TLS settings may not
// match the cluster's.
func TestTraceHandshakeHint(t *testing.T) {
	c := startCluster(t)
	const hint = "hint: the server closed the connection before it answered; if that happened during the handshake, the authentication (SASL) or TLS settings may not match the cluster's"
	listTopics := func(opts ...kgo.Opt) func(context.Context) error {
		return func(ctx context.Context) error {
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				return err
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if _, err := kadm.NewClient(cl).ListTopics(ctx); err != nil {
				return fmt.Errorf("listing the topics of the source cluster: %w", err)
			}
			return errors.New("the source cluster has no topic to mirror")
		}
	}
	for _, tc := range []struct {
		name string
		open func(context.Context) error
		hint bool
	}{
		// franz-go's ErrFirstReadEOF.
		{"listener closes", listTopics(kgo.SeedBrokers(closingListener(t))), true},
		// The embedded broker has no SASL: it closes the connection, and
		// the client sees a plain EOF.
		{"SASL against a broker without it", listTopics(kgo.SeedBrokers(c.cfg.Brokers...), kgo.SASL(plain.Auth{User: "u", Pass: "p"}.AsMechanism())), true},
		// The connection works; the error is another.
		{"another error", listTopics(kgo.SeedBrokers(c.cfg.Brokers...)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := tc.open
			reg := testRegistry(t, func() connector.Source { return openSource{open: open} }, nil)
			// A plain EOF may be a broker going away: it is retried
			// until retry_timeout, then fails with the hint.
			spec := &control.PipelineSpec{Kind: "source", Type: "test", Errors: control.ErrorsSpec{RetryTimeout: "1s"}}
			a := TaskArgs{Pipeline: mustCompile(t, "source.test.handshake", spec, reg),
				Producer: c.producer, Offsets: newMemOffsets(), Counters: &Counters{}}
			err := runTask(t, a).wait(t)
			var te *TaskError
			if !errors.As(err, &te) {
				t.Fatalf("Run = %v, want a *TaskError", err)
			}
			if got := strings.Contains(te.Trace, hint); got != tc.hint {
				t.Errorf("hint in the trace: %v, want %v; trace:\n%s", got, tc.hint, te.Trace)
			}
		})
	}
}
