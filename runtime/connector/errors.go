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

// recordFailed is the failure of one record of a Write.
type recordFailed struct {
	index   int
	err     error
	headers []Header
}

func (e recordFailed) Error() string     { return e.err.Error() }
func (e recordFailed) Unwrap() error     { return e.err }
func (e recordFailed) FailedRecord() int { return e.index }

// DeadLetterHeaders returns the headers the sink added to the failure.
func (e recordFailed) DeadLetterHeaders() []Header { return e.headers }

// RecordFailed says that the record at index in the batch given to a
// Sink's Write failed on its own (a row the database rejected, a value the
// format cannot hold) while the others were written. Join several with
// errors.Join; the worker then applies errors.tolerance to each such record
// (the dead-letter topic, or the task fails naming it), as it does to a
// converter's failure. A Write error made of anything else fails the whole
// batch (retried when retriable).
func RecordFailed(index int, err error) error {
	return recordFailed{index: index, err: err}
}

// RecordRejected is RecordFailed with headers that the record's
// dead-letter copy carries besides its own and the pipectl.error.*
// headers: what the outside system answered (an HTTP sink puts the
// response's status and body there).
func RecordRejected(index int, err error, headers ...Header) error {
	return recordFailed{index: index, err: err, headers: headers}
}
