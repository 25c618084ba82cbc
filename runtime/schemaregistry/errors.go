package schemaregistry

import (
	"errors"
	"fmt"

	"github.com/pipectl/pipectl/runtime/connector"
)

// Error is a registry error with Confluent's error code; it wraps the SDK's
// error of its kind (connector.ErrSchemaNotFound, ErrIncompatibleSchema,
// ErrInvalidSchema) where there is one, so converters tell them apart
// with errors.Is.
type Error struct {
	Code    int
	Message string
	kind    error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.kind }

// Status is the HTTP status of the error: the first three digits of its
// code (409 is its own code).
func (e *Error) Status() int {
	if e.Code < 1000 {
		return e.Code
	}
	s := e.Code
	for s >= 1000 {
		s /= 10
	}
	return s
}

// Confluent Schema Registry's error codes.
const (
	CodeSubjectNotFound       = 40401
	CodeVersionNotFound       = 40402
	CodeSchemaNotFound        = 40403
	CodeSubjectSoftDeleted    = 40404
	CodeSubjectNotSoftDeleted = 40405
	CodeVersionSoftDeleted    = 40406
	CodeVersionNotSoftDeleted = 40407
	CodeSubjectConfigNotFound = 40408
	CodeSubjectModeNotFound   = 40409
	CodeIncompatible          = 409
	CodeInvalidSchema         = 42201
	CodeInvalidVersion        = 42202
	CodeInvalidCompatibility  = 42203
	CodeInvalidMode           = 42204
	CodeOperationNotPermitted = 42205
	CodeReferenceExists       = 42206
	CodeStoreError            = 50001
	CodeOperationTimeout      = 50002
	CodeNotReady              = 50003 // the registry has not read its topic yet
)

func errorf(code int, kind error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), kind: kind}
}

func subjectNotFound(s string) *Error {
	return errorf(CodeSubjectNotFound, connector.ErrSchemaNotFound, "Subject '%s' not found.", s)
}

func versionNotFound(s string, v int) *Error {
	return errorf(CodeVersionNotFound, connector.ErrSchemaNotFound, "Version %d not found for subject '%s'.", v, s)
}

func schemaNotFound(format string, args ...any) *Error {
	return errorf(CodeSchemaNotFound, connector.ErrSchemaNotFound, format, args...)
}

func invalidSchema(format string, args ...any) *Error {
	return errorf(CodeInvalidSchema, connector.ErrInvalidSchema, format, args...)
}

func storeError(err error) *Error {
	return errorf(CodeStoreError, nil, "Error in the backend data store: %v", err)
}

// code is err's Confluent code, 50001 for an error that is not an *Error.
func code(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeStoreError
}
