package engine

import (
	"errors"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TestDeadLetterReservedHeaders gives a dead-letter copy a sink error
// whose headers try to overwrite the engine's own: those are dropped, the
// engine's values stay, and the sink's other headers are kept.
func TestDeadLetterReservedHeaders(t *testing.T) {
	tk := &task{p: &Pipeline{address: "sink.http.out"}}
	err := connector.RecordRejected(0, errors.New("refused"),
		connector.Header{Key: HeaderPipeline, Value: []byte("forged")},
		connector.Header{Key: HeaderErrorStage, Value: []byte("forged")},
		connector.Header{Key: "pipectl.source.topic", Value: []byte("forged")},
		connector.Header{Key: "pipectl.http.status", Value: []byte("422")})
	r := tk.deadLetter(nil, []byte("v"), nil, time.Now(), StageSink, err, &recordRef{topic: "events", partition: -1, offset: -1})
	seen := map[string][]string{}
	for _, h := range r.Headers {
		seen[h.Key] = append(seen[h.Key], string(h.Value))
	}
	for key, vs := range seen {
		for _, v := range vs {
			if v == "forged" {
				t.Errorf("header %s = %q: a sink overwrote an engine header", key, vs)
			}
		}
	}
	if len(seen[HeaderPipeline]) != 1 || seen[HeaderPipeline][0] != "sink.http.out" || len(seen["pipectl.http.status"]) != 1 {
		t.Errorf("headers %v, want the engine's pipeline and the sink's pipectl.http.status", seen)
	}
}
