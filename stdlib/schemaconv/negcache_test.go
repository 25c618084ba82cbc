package schemaconv_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pipectl/pipectl/stdlib/schemaconv"
)

// TestUnknownIDCached: records with an id the registry does not hold cost
// one registry request, not one each.
func TestUnknownIDCached(t *testing.T) {
	reg := fake(t)
	var byID atomic.Int64
	reg.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			byID.Add(1)
		}
		return false
	})
	dec := build(t, schemaconv.NewAvro, reg, nil)
	for range 50 {
		if _, err := dec.Decode([]byte{0, 0, 0, 0x30, 0x39, 2, 'a'}); err == nil || !strings.Contains(err.Error(), "no schema with id 12345") {
			t.Fatalf("unknown id: %v", err)
		}
	}
	if n := byID.Load(); n != 1 {
		t.Errorf("%d requests for an unknown id decoded 50 times, want 1", n)
	}
}
