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
// config is the configuration of the pipectl source, for what the Connect
// offset does not say (the postgres_cdc slot).
var connectOffsetMaps = map[string]func(so control.SourceOffset, config map[string]any) (control.SourceOffset, bool){
	// FileStreamSource saves {"filename": F} → {"position": N}; the file
	// source {"file": F} → {"position": N, "inode": I}, and trusts a
	// position without an inode while the file is at least that long.
	"file": func(so control.SourceOffset, _ map[string]any) (control.SourceOffset, bool) {
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
	"kafka": func(so control.SourceOffset, _ map[string]any) (control.SourceOffset, bool) {
		t, ok := so.Partition["topic"].(string)
		p, okP := configschema.AsInt64(so.Partition["partition"])
		o, okO := configschema.AsInt64(so.Offset["offset"])
		if !ok || t == "" || !okP || p < 0 || !okO || o < -1 {
			return control.SourceOffset{}, false
		}
		return control.SourceOffset{Partition: map[string]any{"topic": t, "partition": p}, Offset: map[string]any{"offset": o + 1}}, true
	},
	// Debezium's PostgresConnector saves {"server": PREFIX} → {"lsn",
	// "lsn_commit", "lsn_proc", "txId", "ts_usec", …}, LSNs as numbers;
	// postgres_cdc {"slot": S} → {"lsn": "X/Y"}, where streaming resumes
	// (the slot's confirmed position is its floor: at least once). The
	// LSN taken is lsn_commit, else lsn: the end of the last transaction
	// Debezium handled whole. The offset of a snapshot in progress
	// ("snapshot": true) is left out, so that the source takes the
	// snapshot again.
	"postgres_cdc": func(so control.SourceOffset, config map[string]any) (control.SourceOffset, bool) {
		slot, _ := config["slot"].(string)
		if _, ok := so.Partition["server"].(string); !ok || slot == "" || so.Offset["snapshot"] == true {
			return control.SourceOffset{}, false
		}
		lsn, ok := configschema.AsInt64(so.Offset["lsn_commit"])
		if !ok {
			lsn, ok = configschema.AsInt64(so.Offset["lsn"])
		}
		if !ok || lsn <= 0 {
			return control.SourceOffset{}, false
		}
		text := fmt.Sprintf("%X/%X", uint32(uint64(lsn)>>32), uint32(lsn))
		return control.SourceOffset{Partition: map[string]any{"slot": slot}, Offset: map[string]any{"lsn": text}}, true
	},
}

// mapConnectOffsets maps the offsets of a Connect connector onto a source
// of type typ; skipped counts the offsets that do not have the shape the
// type expects.
func mapConnectOffsets(typ string, config map[string]any, in []control.SourceOffset) (out []control.SourceOffset, skipped int, err error) {
	m := connectOffsetMaps[typ]
	if m == nil {
		return nil, 0, fmt.Errorf("the offsets of a Kafka Connect connector do not map onto a %q source; only file (FileStreamSource), kafka (MirrorSourceConnector) and postgres_cdc (Debezium's PostgresConnector) sources import them", typ)
	}
	for _, so := range in {
		if o, ok := m(so, config); ok {
			out = append(out, o)
		} else {
			skipped++
		}
	}
	return out, skipped, nil
}
