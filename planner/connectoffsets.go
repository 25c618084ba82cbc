package planner

import (
	"fmt"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/control"
)

// connectKey names the offsets of one Kafka Connect connector in one
// offsets topic (Live.ConnectOffsets).
func connectKey(topic, connector string) string { return topic + "\x00" + connector }

// connectOffsetMaps map the source offsets a Kafka Connect connector saved
// onto the offsets of the pipectl source type that replaces it, one entry a
// type. A source type without an entry cannot import Connect offsets.
var connectOffsetMaps = map[string]func(control.SourceOffset) (control.SourceOffset, bool){
	// FileStreamSource saves {"filename": F} → {"position": N}; the file
	// source {"file": F} → {"position": N, "inode": I}, and trusts a
	// position without an inode while the file is at least that long.
	"file": func(so control.SourceOffset) (control.SourceOffset, bool) {
		f, ok := so.Partition["filename"].(string)
		pos, okPos := configschema.AsInt64(so.Offset["position"])
		if !ok || f == "" || !okPos || pos < 0 {
			return control.SourceOffset{}, false
		}
		return control.SourceOffset{Partition: map[string]any{"file": f}, Offset: map[string]any{"position": pos}}, true
	},
	// MirrorSourceConnector saves {"cluster", "topic", "partition"} →
	// {"offset": O}, O the upstream offset of the last record it copied;
	// the kafka source {"topic", "partition"} → {"offset": O + 1}, the next
	// one to copy.
	"kafka": func(so control.SourceOffset) (control.SourceOffset, bool) {
		t, ok := so.Partition["topic"].(string)
		p, okP := configschema.AsInt64(so.Partition["partition"])
		o, okO := configschema.AsInt64(so.Offset["offset"])
		if !ok || t == "" || !okP || p < 0 || !okO || o < -1 {
			return control.SourceOffset{}, false
		}
		return control.SourceOffset{Partition: map[string]any{"topic": t, "partition": p}, Offset: map[string]any{"offset": o + 1}}, true
	},
}

// mapConnectOffsets maps the offsets of a Connect connector onto a source
// of type typ; skipped counts the offsets that do not have the shape the
// type expects.
func mapConnectOffsets(typ string, in []control.SourceOffset) (out []control.SourceOffset, skipped int, err error) {
	m := connectOffsetMaps[typ]
	if m == nil {
		return nil, 0, fmt.Errorf("the offsets of a Kafka Connect connector do not map onto a %q source; only file (FileStreamSource) and kafka (MirrorSourceConnector) sources import them", typ)
	}
	for _, so := range in {
		if o, ok := m(so); ok {
			out = append(out, o)
		} else {
			skipped++
		}
	}
	return out, skipped, nil
}
