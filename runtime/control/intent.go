package control

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// An apply creates topics through the admin API before it commits, so that
// the pipelines that need them find them. When it dies between the two,
// the topics exist but the state does not know them, and the next plan
// would refuse them as topics made outside pipectl. So before it creates a
// topic, an apply records an intent in the configs topic: the topic's name
// and the serial the apply planned against. A later plan at the same
// serial (nothing was committed since) adopts the topics of those intents.
// Intents are ordinary records, outside any transaction; ReadState and the
// workers skip them.

// intentValue is the value of an intent record.
type intentValue struct {
	V      int       `json:"v"`
	Serial int64     `json:"serial"`
	Time   time.Time `json:"time"`
}

// RecordIntents records that an apply planned against serial is about to
// create topics, and waits for the broker's acknowledgement.
func (c *Control) RecordIntents(ctx context.Context, serial int64, topics []string) error {
	if len(topics) == 0 {
		return nil
	}
	b, err := json.Marshal(intentValue{V: FormatVersion, Serial: serial, Time: time.Now().UTC()})
	if err != nil {
		return err
	}
	records := make([]*kgo.Record, len(topics))
	for i, t := range topics {
		records[i] = &kgo.Record{Topic: c.ConfigsTopic(), Key: recordKey{V: FormatVersion, Kind: "intent", Address: t}.bytes(), Value: b}
	}
	if err := c.cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("control: record the topics this apply creates: %w", err)
	}
	return nil
}

// ReadIntents returns the topics that applies recorded intents for,
// with the serial each planned against.
func (c *Control) ReadIntents(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	err := c.readToEnd(ctx, c.ConfigsTopic(), nil, true, func(r *kgo.Record) {
		k, err := parseKey(r.Key)
		if err != nil || k.Kind != "intent" || k.V > FormatVersion {
			return
		}
		var v intentValue
		if r.Value == nil || json.Unmarshal(r.Value, &v) != nil {
			delete(out, k.Address)
			return
		}
		out[k.Address] = v.Serial
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
