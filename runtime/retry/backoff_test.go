package retry_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/retry"
)

const ms = time.Millisecond

// next draws n waits from a fresh schedule of b.
func next(b retry.Backoff, n int) []time.Duration {
	s := b.New()
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = s.NextBackOff()
	}
	return out
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    retry.Backoff
		want []time.Duration
	}{
		{"the engine's default", retry.Backoff{Initial: 100 * ms, Max: 1000 * ms},
			[]time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}},
		{"a max that is a step of the schedule", retry.Backoff{Initial: 200 * ms, Max: 800 * ms},
			[]time.Duration{200 * ms, 400 * ms, 800 * ms, 800 * ms, 800 * ms, 800 * ms}},
		{"a max below initial", retry.Backoff{Initial: 100 * ms, Max: 10 * ms},
			[]time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, next(tt.b, len(tt.want))); diff != "" {
				t.Errorf("NextBackOff (-want +got):\n%s", diff)
			}
			for n, want := range tt.want {
				if got := tt.b.Wait(n); got != want {
					t.Errorf("Wait(%d) = %s, want %s", n, got, want)
				}
			}
		})
	}
}

func TestBackoffReset(t *testing.T) {
	s := retry.Backoff{Initial: 100 * ms, Max: time.Second}.New()
	s.NextBackOff()
	s.NextBackOff()
	s.Reset()
	if got := s.NextBackOff(); got != 100*ms {
		t.Errorf("first wait after Reset = %s, want 100ms", got)
	}
}

// TestWaitLongSchedule checks that Wait reaches Max for attempt counts far
// past the doubling, as a restart block with many attempts asks, and that
// it leaves any jitter out.
func TestWaitLongSchedule(t *testing.T) {
	for _, jitter := range []float64{0, retry.FleetJitter} {
		b := retry.Backoff{Initial: 10 * time.Second, Max: 10 * time.Minute, Jitter: jitter}
		for n, want := range map[int]time.Duration{0: 10 * time.Second, 1: 20 * time.Second, 5: 320 * time.Second, 6: 10 * time.Minute, 1_000_000: 10 * time.Minute} {
			if got := b.Wait(n); got != want {
				t.Errorf("jitter %v: Wait(%d) = %s, want %s", jitter, n, got, want)
			}
		}
	}
}

// TestJitter draws many schedules with FleetJitter: every wait stays
// within ±20 % of its step and at or below Max, and the waits differ from
// one schedule to the next.
func TestJitter(t *testing.T) {
	b := retry.Backoff{Initial: 200 * ms, Max: 5 * time.Second, Jitter: retry.FleetJitter}
	steps := next(retry.Backoff{Initial: b.Initial, Max: b.Max}, 8)
	seen := map[time.Duration]bool{}
	for range 200 {
		for i, d := range next(b, len(steps)) {
			lo := time.Duration(float64(steps[i]) * (1 - retry.FleetJitter))
			hi := min(time.Duration(float64(steps[i])*(1+retry.FleetJitter))+1, b.Max)
			if d < lo || d > hi {
				t.Fatalf("wait %d = %s, want within [%s, %s]", i, d, lo, hi)
			}
			if i == 0 {
				seen[d] = true
			}
		}
	}
	if len(seen) < 2 {
		t.Errorf("200 schedules all began with the same wait %v: no jitter", seen)
	}
}
