package engine

import (
	"fmt"
	"strings"
	"time"
)

// ProblemKind says what keeps a task from doing its work.
type ProblemKind int

// The problems a task reports while it keeps trying.
const (
	// ProblemNone: nothing; the task does its work.
	ProblemNone ProblemKind = iota
	// ProblemRetrying: an operation failed with a retriable error and is
	// being tried again (a cluster that cannot be reached, a topic that
	// does not exist yet), until retry_timeout.
	ProblemRetrying
	// ProblemWaiting: the connector said it has nothing to do although
	// nothing failed (connector.TaskContext.Waiting: a file source whose
	// globs match no file).
	ProblemWaiting
)

// String names the kind as status shows it.
func (k ProblemKind) String() string {
	switch k {
	case ProblemNone:
		return "none"
	case ProblemRetrying:
		return "retrying"
	case ProblemWaiting:
		return "waiting"
	default:
		return fmt.Sprintf("ProblemKind(%d)", int(k))
	}
}

// Problem is what keeps a task from doing its work right now, while it
// keeps trying. A task with no problem that has opened is healthy.
type Problem struct {
	Kind ProblemKind
	// Operation is what is retried ("opening the source", "polling the
	// source", "committing offsets"); "" for ProblemWaiting.
	Operation string
	// Message is the last error of the operation, or the connector's
	// reason for waiting.
	Message  string
	Since    time.Time // when the problem began
	Attempts int       // failed attempts so far (ProblemRetrying)
}

// String is the problem in one line, as status and the REST API's trace
// show it: "retrying opening the source: dial tcp: …", or "waiting: no
// file matches /var/log/app/*.log"; "" for none.
func (p Problem) String() string {
	switch p.Kind {
	case ProblemRetrying:
		return "retrying " + p.Operation + ": " + p.Message
	case ProblemWaiting:
		return "waiting: " + p.Message
	}
	return ""
}

// Problem returns what keeps the task from doing its work now: an
// operation being retried, else the connector's reason to wait; ok is
// false when there is none.
func (c *Counters) Problem() (p Problem, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.retrying.Kind != ProblemNone:
		return c.retrying, true
	case c.waiting.Kind != ProblemNone:
		return c.waiting, true
	}
	return Problem{}, false
}

// retryFailed records a failed attempt of an operation that is retried.
func (c *Counters) retryFailed(what string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr, c.lastAt = err.Error(), time.Now()
	if c.retrying.Kind != ProblemRetrying || c.retrying.Operation != what {
		c.retrying = Problem{Kind: ProblemRetrying, Operation: what, Since: c.lastAt}
	}
	c.retrying.Message = c.lastErr
	c.retrying.Attempts++
}

// retryDone says that an operation stopped being retried: it succeeded,
// failed for good, or the task is stopping.
func (c *Counters) retryDone(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.retrying.Operation == what {
		c.retrying = Problem{}
	}
}

// setWaiting records the connector's reason to wait; "" ends it.
func (c *Counters) setWaiting(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case reason == "":
		c.waiting = Problem{}
	case c.waiting.Kind != ProblemWaiting || c.waiting.Message != reason:
		c.waiting = Problem{Kind: ProblemWaiting, Message: reason, Since: time.Now()}
	}
}

// Seed sets the counts a task starts from: those its pipeline reached
// before, so that counts run since the pipeline was created and do not
// drop when a task restarts (a configuration change, a move to another
// worker). Call it before Run.
func (c *Counters) Seed(in, out, filtered, failed int64) {
	c.In.Store(in)
	c.Out.Store(out)
	c.Filtered.Store(filtered)
	c.Failed.Store(failed)
}

// TraceSummary is the gist of a failed task's trace (TaskError.Trace) in
// one line, for a row that has no room for the trace: "failed in stage
// transform: division by zero" rather than its first line, which only
// names the task. A trace of another form gives its first line.
func TraceSummary(trace string) string {
	first, rest, _ := strings.Cut(trace, "\n")
	_, stage, found := strings.Cut(first, " failed in stage ")
	if !found {
		return first
	}
	for line := range strings.SplitSeq(rest, "\n") {
		if msg, ok := strings.CutPrefix(line, "error: "); ok {
			return "failed in stage " + stage + ": " + msg
		}
	}
	return "failed in stage " + stage
}
