package s3

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TestUploadTimeout puts an object to a store that accepts connections
// and never answers: put gives up after its attempts, each bounded by
// upload_timeout, with a retriable error, instead of hanging.
func TestUploadTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	c, err := minio.New(ln.Addr().String(), &minio.Options{Creds: credentials.NewStaticV4("a", "b", ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{cfg: SinkConfig{Format: "jsonl", Compression: "none", UploadTimeout: 100 * time.Millisecond}, st: &store{c: c, bucket: "lake"}, log: slog.New(slog.DiscardHandler), ext: ".jsonl"}
	s.bg, s.cancel = context.WithCancel(context.Background())
	defer s.cancel()
	done := make(chan error, 1)
	go func() {
		done <- s.put(connector.TopicPartition{Topic: "t"}, &object{path: "t", lines: []byte("{}\n"), count: 1})
	}()
	select {
	case err := <-done:
		if err == nil || !connector.IsRetriable(err) || !strings.Contains(err.Error(), "upload_timeout") {
			t.Fatalf("put to a silent store: %v, want a retriable timeout", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("put to a silent store still hangs after a minute")
	}
}
