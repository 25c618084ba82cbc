package httpconn

import (
	"errors"
	"net/http"
	"net/url"
)

// authorize sets what the sink and http_poll send with every request:
// the configured headers (a sensitive one wins over a plain one of the
// same name) and bearer or basic authentication.
func authorize(req *http.Request, headers, sensitive map[string]string, bearer, user, password string) {
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	for k, v := range sensitive {
		req.Header.Set(k, v)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
}

// withoutURL drops the URL net/http's client puts in its errors: it may
// hold credentials.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
