package connector

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// RESTExtension is a worker plugin that wraps the worker's REST API, as
// Kafka Connect's ConnectRestExtension does: it may authenticate and
// authorize requests, audit them, or serve routes of its own before it
// hands a request on to next. Register it with
// Registry.RegisterRESTExtension in a custom main; extensions wrap the API
// in the order they were registered, the first outermost.
type RESTExtension interface {
	// Name names the extension in logs and errors.
	Name() string
	// Wrap returns the handler that serves requests in front of next.
	Wrap(next http.Handler, env RESTEnv) (http.Handler, error)
}

// RESTEnv is what a worker offers its REST extensions.
type RESTEnv struct {
	// Worker is the worker's id.
	Worker string
	// Logger is the worker's structured log (an audit trail belongs
	// there).
	Logger *slog.Logger
}

// RESTCaller is who made a request, as the extension that authenticated
// it says: a name and a role. Extensions further in read it with
// CallerOf.
type RESTCaller struct {
	Name string
	Role string
}

type callerKey struct{}

// WithCaller returns r carrying c.
func WithCaller(r *http.Request, c RESTCaller) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
}

// CallerOf returns who made r, if an extension said so.
func CallerOf(r *http.Request) (RESTCaller, bool) {
	c, ok := r.Context().Value(callerKey{}).(RESTCaller)
	return c, ok
}

// RegisterRESTExtension adds a REST extension. Two with one name are
// refused.
func (r *Registry) RegisterRESTExtension(e RESTExtension) error {
	if e == nil || e.Name() == "" {
		return errors.New("register REST extension: it has no name")
	}
	for _, have := range r.rest {
		if have.Name() == e.Name() {
			return errors.New("register REST extension: " + e.Name() + " is already registered")
		}
	}
	r.rest = append(r.rest, e)
	return nil
}

// RESTExtensions returns the REST extensions in registration order.
func (r *Registry) RESTExtensions() []RESTExtension {
	return append([]RESTExtension(nil), r.rest...)
}
