package schemaconv

import (
	"testing"
	"time"
)

// TestUnknownBounded: the negative cache never holds more than maxUnknown
// ids, and drops expired ones when full.
func TestUnknownBounded(t *testing.T) {
	c := &Converter{unknown: map[int]time.Time{}}
	now := time.Now()
	for id := range 3 * maxUnknown {
		c.rememberUnknown(id, now)
		if len(c.unknown) > maxUnknown {
			t.Fatalf("%d ids cached", len(c.unknown))
		}
	}
	// Expired entries go first: a full cache of expired ids keeps the new one.
	later := now.Add(2 * unknownTTL)
	c.rememberUnknown(-1, later)
	if len(c.unknown) != 1 || !c.unknown[-1].After(later) {
		t.Fatalf("after expiry: %d ids cached", len(c.unknown))
	}
}
