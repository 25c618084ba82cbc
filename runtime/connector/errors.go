package connector

import "errors"

// retriable marks an error that may succeed when tried again.
type retriable struct{ err error }

func (r retriable) Error() string { return r.err.Error() }
func (r retriable) Unwrap() error { return r.err }

// Retriable wraps err to say that the operation may succeed when tried
// again (a timeout, a connection refused, a broker that is not leader). The
// worker retries it with backoff up to the pipeline's retry_timeout.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return retriable{err}
}

// IsRetriable reports whether err, or an error it wraps, was marked with
// Retriable.
func IsRetriable(err error) bool {
	var r retriable
	return errors.As(err, &r)
}
