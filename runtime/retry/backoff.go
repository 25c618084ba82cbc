package retry

import (
	"time"

	"github.com/cenkalti/backoff/v5"
)

// FleetJitter is the jitter of waits that every worker of a fleet may
// start at the same moment: each wait is drawn from ±20 % around its
// place in the schedule, as Kafka's own clients spread reconnect.backoff
// and retry.backoff (KIP-580).
const FleetJitter = 0.2

// Backoff is an exponential schedule of waits: the first is Initial and
// each next one doubles, up to Max. A Max below Initial counts as Initial.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	// Jitter, from 0 to 1, spreads each wait at random over ±Jitter of
	// its place in the schedule; a wait never exceeds Max. 0 makes the
	// schedule the same every time.
	Jitter float64
}

// New returns the schedule as a backoff.BackOff, reset, for backoff.Retry
// (backoff.WithBackOff) or to step through with NextBackOff.
func (b Backoff) New() backoff.BackOff {
	e := &backoff.ExponentialBackOff{
		InitialInterval:     b.Initial,
		RandomizationFactor: b.Jitter,
		Multiplier:          2,
		MaxInterval:         b.max(),
	}
	e.Reset()
	return &capped{e: e, max: b.max()}
}

// Wait returns wait number n of the schedule, from 0, without jitter:
// Initial doubled n times, at most Max. It is for a caller that works a
// wait out again from an attempt count instead of keeping a schedule.
func (b Backoff) Wait(n int) time.Duration {
	b.Jitter = 0
	s := b.New()
	d := s.NextBackOff()
	for i := 0; i < n && d < b.max(); i++ {
		d = s.NextBackOff()
	}
	return d
}

func (b Backoff) max() time.Duration { return max(b.Max, b.Initial) }

// capped keeps jittered waits at or below the schedule's Max (the
// library caps the wait before it adds the jitter).
type capped struct {
	e   *backoff.ExponentialBackOff
	max time.Duration
}

func (c *capped) NextBackOff() time.Duration { return min(c.e.NextBackOff(), c.max) }
func (c *capped) Reset()                     { c.e.Reset() }
