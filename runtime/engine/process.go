package engine

import (
	"fmt"

	"github.com/pipectl/pipectl/runtime/connector"
)

// ProcessSinkRecord runs one record through what a sink task does between
// fetching it and handing it to the connector: the key and value converters
// decode rec.Key and rec.Value (bytes, nil for null), then the transforms
// run, on the real transform code of a task. keep is false when a filter
// dropped the record; an error is the record's failure (its stage in the
// message). It needs no broker: tests use it to check what a pipeline does
// to records.
func (p *Pipeline) ProcessSinkRecord(rec *connector.Record) (keep bool, err error) {
	for _, part := range []struct {
		name string
		c    connector.Converter
		v    *any
		s    **connector.Schema
	}{{"key", p.keyConv, &rec.Key, &rec.KeySchema}, {"value", p.valueConv, &rec.Value, &rec.ValueSchema}} {
		var b []byte
		switch v := (*part.v).(type) {
		case nil:
		case []byte:
			b = v
		default:
			return false, fmt.Errorf("%s: the record's %s is %T, not bytes", p.address, part.name, v)
		}
		v, s, err := fromBytes(part.c, nil, b, true)
		if err != nil {
			return false, fmt.Errorf("%s: %s converter: %w", p.address, part.name, err)
		}
		*part.v, *part.s = v, s
	}
	return newTransformer(p).apply(rec, false)
}
