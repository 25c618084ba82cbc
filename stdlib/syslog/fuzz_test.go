package syslog

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// FuzzFraming feeds a TCP stream through the framer and every message it
// yields through the parsers: no panic, no message longer than the limit,
// never more message bytes than the stream had, and a value for every
// message that parses (one that fits the record schema).
func FuzzFraming(f *testing.F) {
	for _, s := range []string{
		good5424 + "\n",
		"17 <13>1 - - - - - - x" + "12 <13>1 - h - -",
		"<13>Dec  3 10:00:00 host tag[1]: msg\r\n<14>Jan 10 00:00:00 h t: m\x00",
		"99999999999 <13>",
		"5 abc",
		"123abc\n<13>1 2026-12-03T10:00:00Z h a p m [id@1 k=\"v\\\"\"] msg\n",
		"\n\n\x00 \t",
	} {
		f.Add([]byte(s))
	}
	p := map[string]*parser{}
	for _, format := range []string{"auto", "rfc5424", "rfc3164"} {
		p[format] = newParser(format, time.UTC)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 64
		fr := newFramer(bytes.NewReader(data), max)
		total := 0
		for range len(data) + 1 {
			msg, _, err := fr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("framer error %v on a bytes.Reader", err)
				}
				return
			}
			if len(msg) > max {
				t.Fatalf("message of %d bytes, limit %d", len(msg), max)
			}
			if total += len(msg); total > len(data) {
				t.Fatalf("%d message bytes from a stream of %d", total, len(data))
			}
			for _, pp := range p {
				v, err := pp.parse(msg, "127.0.0.1:1")
				if err != nil {
					v = pp.failedValue(msg, "127.0.0.1:1", err)
				}
				if err := ValueSchema.CheckValue(v); err != nil {
					t.Fatalf("value %v does not fit the schema: %v", v, err)
				}
			}
		}
		t.Fatal("the framer did not reach the end of the stream")
	})
}
