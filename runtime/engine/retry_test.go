package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// retryTask is a task with only what retry uses: its policy, counters and
// logger.
func retryTask(timeout, backoffMax time.Duration) *task {
	return &task{
		p:        &Pipeline{address: "sink.test.retry", policy: policy{retryTimeout: timeout, backoffMax: backoffMax}},
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		counters: &Counters{},
	}
}

// failing returns an op that fails with the errors given, one per call,
// and then succeeds; calls counts its calls.
func failing(calls *int, errs ...error) func() error {
	return func() error {
		*calls++
		if *calls <= len(errs) {
			return errs[*calls-1]
		}
		return nil
	}
}

func TestRetry(t *testing.T) {
	unreachable := connector.Retriable(errors.New("unreachable"))
	refused := errors.New("refused for good")
	for _, tt := range []struct {
		name     string
		timeout  time.Duration
		errs     []error
		calls    int
		retries  int64
		want     string // the error's message; "" for none
		retryErr bool   // a *retryError
	}{
		{"success at once", time.Minute, nil, 1, 0, "", false},
		{"retriable errors, then success", time.Minute, []error{unreachable, unreachable}, 3, 2, "", false},
		{"an error that is not retriable", time.Minute, []error{unreachable, refused, unreachable}, 2, 1, "refused for good", false},
		{"a zero retry_timeout: one attempt", 0, []error{unreachable}, 1, 0, "writing still failing after retry_timeout 0s: unreachable", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tk := retryTask(tt.timeout, time.Second)
			calls := 0
			err := tk.retry(context.Background(), "writing", failing(&calls, tt.errs...))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
			var re *retryError
			if errors.As(err, &re) != tt.retryErr {
				t.Errorf("error %#v: a *retryError is %v, want %v", err, !tt.retryErr, tt.retryErr)
			}
			if tt.retryErr && !errors.Is(err, unreachable) {
				t.Errorf("error %v does not wrap the last error", err)
			}
			if calls != tt.calls {
				t.Errorf("op called %d times, want %d", calls, tt.calls)
			}
			if n := tk.counters.Retries.Load(); n != tt.retries {
				t.Errorf("Retries = %d, want %d", n, tt.retries)
			}
		})
	}
}

// TestRetryTimeout checks that retry gives up with a *retryError once the
// next wait would end after retry_timeout, having counted every retry. The
// waits are 100ms, 200ms, 400ms, 800ms, then 1s (retry_backoff_max): the
// first four end at 1.5s, half a second before retry_timeout, the fifth
// would end at 2.5s.
func TestRetryTimeout(t *testing.T) {
	unreachable := connector.Retriable(errors.New("unreachable"))
	tk := retryTask(2*time.Second, time.Second)
	calls := 0
	err := tk.retry(context.Background(), "writing", func() error { calls++; return unreachable })
	var re *retryError
	if !errors.As(err, &re) || !errors.Is(err, unreachable) {
		t.Fatalf("error %#v, want a *retryError wrapping %v", err, unreachable)
	}
	if want := "writing still failing after retry_timeout 2s: unreachable"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// A machine that stalls a whole wait's length gives up one attempt
	// early; none can try more than the schedule allows.
	if calls != 5 && calls != 4 {
		t.Errorf("op called %d times, want 5", calls)
	}
	if n := tk.counters.Retries.Load(); n != int64(calls-1) {
		t.Errorf("Retries = %d after %d calls, want every call but the last counted", n, calls)
	}
}

// TestRetryContextEnds checks that retry returns the op's last error, not
// the context's, when the context ends: while the op runs or while retry
// waits.
func TestRetryContextEnds(t *testing.T) {
	unreachable := connector.Retriable(errors.New("unreachable"))
	t.Run("during the op", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		err := retryTask(time.Minute, time.Second).retry(ctx, "writing", func() error {
			calls++
			cancel()
			return unreachable
		})
		if err != unreachable || calls != 1 {
			t.Errorf("error %v after %d calls, want %v after 1", err, calls, unreachable)
		}
	})
	t.Run("during the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tk := retryTask(time.Hour, time.Hour)
		// The op fails once; the cancellation comes during the wait of an
		// hour that follows, the test's deadline if retry missed it.
		err := tk.retry(ctx, "writing", func() error {
			time.AfterFunc(10*time.Millisecond, cancel)
			return unreachable
		})
		if err != unreachable {
			t.Errorf("error %v, want %v", err, unreachable)
		}
	})
}
