package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts. No write timeout: a scrape of /metrics on a busy worker
// may take a while, and every other answer is small.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Serve serves h on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish for up to 10 seconds, closes
// what is left, and returns nil (or, when requests outlived the 10 seconds,
// the shutdown's error). With tlsCert and tlsKey (PEM files; both or
// neither) it serves HTTPS. It returns early with the error when serving
// fails. Serve closes ln.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, tlsCert, tlsKey string) error {
	if (tlsCert == "") != (tlsKey == "") {
		ln.Close()
		return errors.New("api: TLS needs both a certificate and a key file")
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if tlsCert != "" {
			errc <- srv.ServeTLS(ln, tlsCert, tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err // never http.ErrServerClosed: only Shutdown below closes srv
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
