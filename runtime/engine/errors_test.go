package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
)

// TestIsRetriable classifies the errors a task meets: a broker that is
// away (refused dials, dropped connections) is retried like Kafka's
// retriable codes; a cluster that closes the connection before its first
// answer (SASL or TLS settings that do not match), a closed client, a
// cancelled context and plain errors are not.
func TestIsRetriable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, dialErr := net.Dial("tcp", addr) // nothing listens there any more
	if dialErr == nil {
		t.Fatal("dialing a closed port succeeded")
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", fmt.Errorf("committing offsets: unable to dial: %w", dialErr), true},
		{"connection dropped mid-answer", fmt.Errorf("fetching: %w", io.ErrUnexpectedEOF), true},
		{"connection closed", fmt.Errorf("listing topics: %w", net.ErrClosed), true},
		{"kafka retriable code", kerr.NotLeaderForPartition, true},
		{"record timeout", kgo.ErrRecordTimeout, true},
		{"marked by a connector", connector.Retriable(errors.New("database restarting")), true},
		{"closed before the first answer", fmt.Errorf("listing topics: %w", &kgo.ErrFirstReadEOF{}), false},
		{"kafka fatal code", kerr.TopicAuthorizationFailed, false},
		{"client closed", kgo.ErrClientClosed, false},
		{"context cancelled", context.Canceled, false},
		{"plain error", errors.New("value is not JSON"), false},
		{"nil", nil, false},
	} {
		if got := IsRetriable(tc.err); got != tc.want {
			t.Errorf("%s: IsRetriable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
