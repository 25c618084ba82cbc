package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// Counters is a task's progress, updated by Run and read by the worker for
// its REST API and metrics at any time. The zero value is ready to use.
//
// Every record that enters is eventually counted once as Out, Filtered or
// Failed (In minus those three is what is in flight).
type Counters struct {
	In       atomic.Int64 // records polled (sources) or fetched (sinks)
	Out      atomic.Int64 // records acknowledged by Kafka (sources) or written by the sink
	Filtered atomic.Int64 // records a filter dropped
	Failed   atomic.Int64 // records that failed: sent to the dead-letter topic, or the one that failed the task
	Retries  atomic.Int64 // retries of retriable errors
	// Dropped counts records a source lost before it handed them over
	// (connector.TaskContext.Dropped); they never entered, so they are
	// not part of In.
	Dropped atomic.Int64
	// Finished is set when a source returned io.EOF and everything it
	// produced is acknowledged and its offsets saved: the task is done
	// but stays running until it is stopped.
	Finished atomic.Bool

	// lagFn is the running source's Lag, when it is a LagReporter.
	lagFn atomic.Pointer[func() []connector.SourceLag]

	mu       sync.Mutex
	lastErr  string
	lastAt   time.Time
	retrying Problem // the operation being retried (health.go)
	waiting  Problem // the connector's reason to wait
}

// LastError returns the latest error the task met (a retried one, a
// record failure, or the one that failed it) and when; "" when none.
func (c *Counters) LastError() (string, time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastErr, c.lastAt
}

func (c *Counters) setLastError(err error) {
	c.mu.Lock()
	c.lastErr, c.lastAt = err.Error(), time.Now()
	c.mu.Unlock()
}

// SourceLag returns how far the running source is behind its outside
// system, by source partition; nil when the task is not a source that
// reports it (connector.LagReporter), or is not open. It calls the
// source's Lag: call it every few seconds at most.
func (c *Counters) SourceLag() []connector.SourceLag {
	if fn := c.lagFn.Load(); fn != nil {
		return (*fn)()
	}
	return nil
}

// reportLag makes SourceLag ask fn; nil stops it.
func (c *Counters) reportLag(fn func() []connector.SourceLag) {
	if fn == nil {
		c.lagFn.Store(nil)
		return
	}
	c.lagFn.Store(&fn)
}
