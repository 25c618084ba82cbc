package kafka

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Unreachable reports whether err says that the cluster could not be
// reached at all: a connection refused, reset or timed out, a broker name
// that does not resolve, a connection closed in the middle of a
// conversation. A cluster that answered and refused (a failed SASL login,
// a denied ACL) is reachable; so is a connection closed before its first
// answer (kgo.ErrFirstReadEOF), which says that TLS or SASL settings do
// not match the listener's.
func Unreachable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var first *kgo.ErrFirstReadEOF
	if errors.As(err, &first) {
		return false
	}
	var ne net.Error
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || errors.As(err, &op) || errors.As(err, &ne) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// UnreachableCause says in a few words why a cluster could not be
// reached ("connection refused", "no such host", "timed out"), for a
// message that names the brokers; "" when err is not Unreachable.
func UnreachableCause(err error) string {
	if !Unreachable(err) {
		return ""
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "no such host"
	case errors.As(err, &dns):
		return "the name does not resolve: " + dns.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return "the connection failed"
}
