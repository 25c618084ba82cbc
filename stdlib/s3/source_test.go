package s3

import (
	"bytes"
	"compress/gzip"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// craftedParquet is 12 bytes whose footer size (the 4 bytes before the
// last magic) says 4 GiB: parquet-go would allocate that before reading.
const craftedParquet = "PAR1\xff\xff\xff\xffPAR1"

func TestParquetFooterBound(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeObject("x+0+1.parquet", []byte(craftedParquet), 0, false, 1<<30)
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
		t.Fatalf("decoding 12 bytes allocated %d bytes", d)
	}
	if err == nil || !strings.Contains(err.Error(), "footer size") {
		t.Fatalf("error %v, want the footer size refused", err)
	}
	for _, b := range []string{"PAR1", "PAR1\x00\x00\x00\x00PAR", "XXXX\x00\x00\x00\x00PAR1", "PAR1\x05\x00\x00\x00PAR1"} {
		if err := checkParquetFooter([]byte(b)); err == nil {
			t.Errorf("%q accepted", b)
		}
	}
}

func TestObjectLimit(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bytes.Repeat([]byte("a\n"), 1<<20)) // 2 MiB of lines
	_ = zw.Close()
	_, err := decodeObject("x+0+1.bin.gz", buf.Bytes(), 0, false, 1<<20)
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("a 2 MiB body under a 1 MiB limit: %v, want errTooLarge (never truncated)", err)
	}
	recs, err := decodeObject("x+0+1.bin.gz", buf.Bytes(), 0, false, 4<<20)
	if err != nil || len(recs) != 1<<20 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if _, err := readAtMost(strings.NewReader("12345"), 4); !errors.Is(err, errTooLarge) {
		t.Fatalf("readAtMost: %v", err)
	}
}

func TestRawPathRefused(t *testing.T) {
	base := map[string]any{"endpoint": "http://127.0.0.1:1", "bucket": "b"}
	for _, c := range []struct {
		format, path string
		refused      bool
	}{
		{"raw", "string(value.kind)", true},
		{"raw", "'k=' + string(key)", true},
		{"raw", "headers.h", true},
		{"raw", "string(offset / 100)", true},
		{"raw", "topic + '/' + year", false},
		{"jsonl", "string(value.kind)", false},
	} {
		v := map[string]any{"format": c.format, "path": c.path}
		for k, x := range base {
			v[k] = x
		}
		errs := checkSink(v)
		if got := len(errs) > 0; got != c.refused {
			t.Errorf("%s %q: errors %v, want refused %v", c.format, c.path, errs, c.refused)
		}
	}
}

func TestEndpointUserinfo(t *testing.T) {
	_, _, err := parseEndpoint("http://AKIA:s3cr3t@127.0.0.1:7070")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("endpoint with a password: %v", err)
	}
}

func rawObject(name string, start int64, n int) *decoded {
	d := &decoded{name: name, raw: true}
	for i := range n {
		d.recs = append(d.recs, connector.Record{Offset: start + int64(i)})
	}
	return d
}

func TestRawOverlap(t *testing.T) {
	a := rawObject("a/t+0+0000000000.bin", 0, 10)
	if err := overlap([]*decoded{a}, rawObject("b/t+0+0000000003.bin", 3, 5)); err == nil || !strings.Contains(err.Error(), "a/t+0+0000000000.bin") {
		t.Fatalf("overlapping raw objects: %v", err)
	}
	if err := overlap([]*decoded{a}, rawObject("b/t+0+0000000010.bin", 10, 5)); err != nil {
		t.Fatalf("consecutive raw objects: %v", err)
	}
}

func TestLateObjectAfterRestart(t *testing.T) {
	now := time.Now()
	p := &srcPartition{tp: connector.TopicPartition{Topic: "t"}, next: 15, known: 2, knownSum: 10, below: []objRef{
		{name: "a/t+0+0000000000.jsonl", start: 0, modified: now},
		{name: "b/t+0+0000000005.jsonl", start: 5, modified: now.Add(time.Minute)},
		{name: "a/t+0+0000000010.jsonl", start: 10, modified: now.Add(-time.Minute)},
	}}
	err := p.checkRestart()
	if err == nil || !strings.Contains(err.Error(), "b/t+0+0000000005.jsonl was uploaded late") {
		t.Fatalf("late object after a restart: %v", err)
	}
	p = &srcPartition{next: 15, known: 3, below: make([]objRef, 3)}
	if err := p.checkRestart(); err != nil {
		t.Fatal(err)
	}
}
