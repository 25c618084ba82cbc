package api

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// recoverPanics turns a panic in next into a 500 with a JSON error body (when
// nothing has been written yet) and logs it with its stack; the panic value
// never reaches the client. http.ErrAbortHandler keeps its meaning.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recordingWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("api: panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if rw.wrote {
				// Too late for a status code: cut the response short.
				panic(http.ErrAbortHandler)
			}
			writeError(w, http.StatusInternalServerError, "Internal server error: the worker's log has the details")
		}()
		next.ServeHTTP(rw, r)
	})
}

// recordingWriter notes whether the response has started.
type recordingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *recordingWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
