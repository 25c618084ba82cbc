package httpconn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

// The headers of a rejected record's dead-letter copy.
const (
	HeaderStatus = "pipectl.http.status"
	HeaderBody   = "pipectl.http.response_body"
)

// maxHeaderBody bounds the response body a dead-letter header carries.
const maxHeaderBody = 4096

var recordVars = []configschema.ExprVar{
	{Name: "topic", Type: "string", Description: "The record's topic."},
	{Name: "partition", Type: "int", Description: "The record's partition."},
	{Name: "key", Type: "dyn", Description: "The record's key."},
	{Name: "value", Type: "dyn", Description: "The record's value."},
	{Name: "headers", Type: "dyn", Description: "The record's headers, a map of strings (the last value of a repeated header)."},
}

// SinkSchema is the configuration of sink "http".
var SinkSchema = configschema.Schema{
	Kind:        configschema.Sink,
	Type:        "http",
	Description: "POSTs records in batches (a JSON array or NDJSON) to a URL given by an expression over each record; retries 5xx, 429 and 408 with backoff (honouring Retry-After); 3xx, 401, 403, 404, 405, 407, 501 and 505 refuse the whole batch and fail the task with the status (a wrong url or token); a record the endpoint refuses with another status (400, 409, 413, 422 and other 4xx) goes to the dead-letter topic with the response's status and body. Offsets are committed after the endpoint accepted the records.",
	Attributes: []configschema.Attribute{
		{Name: "url", Type: configschema.Expression, Required: true, ExprVars: recordVars, Description: "CEL expression over the record giving the URL it is POSTed to (records are batched per URL); a constant is a CEL string literal: \"'https://example.com/hook'\"."},
		{Name: "format", Type: configschema.String, Default: "json", Enum: []string{"json", "ndjson"}, Description: "json: a batch is a JSON array of the records' values (Content-Type application/json). ndjson: one value a line (application/x-ndjson)."},
		{Name: "batch_size", Type: configschema.Int, Default: int64(500), Min: i64(1), Max: i64(100000), Description: "Most records in one request."},
		{Name: "headers", Type: configschema.MapOfString, Description: "Request headers to send; shown in plans and state: put API keys in sensitive_headers."},
		{Name: "sensitive_headers", Type: configschema.MapOfString, Sensitive: true, Description: "Request headers to send whose values are secret (X-Api-Key): the map is sensitive, never shown in plans, state, logs or errors. They win over headers of the same name."},
		{Name: "bearer_token", Type: configschema.String, Sensitive: true, Description: "Sent as Authorization: Bearer TOKEN."},
		{Name: "basic_username", Type: configschema.String, Description: "User name of HTTP basic authentication."},
		{Name: "basic_password", Type: configschema.String, Sensitive: true, Description: "Password of HTTP basic authentication."},
		{Name: "timeout", Type: configschema.Duration, Default: "30s", MinDuration: "10ms", Description: "Time limit of one request."},
		{Name: "max_retries", Type: configschema.Int, Default: int64(10), Min: i64(0), Description: "Retries of a request that got 5xx, 429, 408 or no answer, with exponential backoff (or the Retry-After the endpoint sent). When they run out the batch fails as retriable: the pipeline's retry_timeout applies, and records already delivered by that batch are POSTed again (at least once)."},
		{Name: "retry_backoff_max", Type: configschema.Duration, Default: "30s", MinDuration: "1ms", Description: "Longest wait between two retries, Retry-After included."},
	},
	ConflictsWith: [][]string{{"bearer_token", "basic_username"}},
	RequiredWith:  []configschema.Requirement{{Attribute: "basic_password", Requires: []string{"basic_username"}}},
}

// SinkConfig is the configuration of sink "http".
type SinkConfig struct {
	URL              connector.Expr    `pipectl:"url"`
	Format           string            `pipectl:"format"`
	BatchSize        int               `pipectl:"batch_size"`
	Headers          map[string]string `pipectl:"headers"`
	SensitiveHeaders map[string]string `pipectl:"sensitive_headers"`
	BearerToken      string            `pipectl:"bearer_token"`
	BasicUsername    string            `pipectl:"basic_username"`
	BasicPassword    string            `pipectl:"basic_password"`
	Timeout          time.Duration     `pipectl:"timeout"`
	MaxRetries       int               `pipectl:"max_retries"`
	RetryBackoffMax  time.Duration     `pipectl:"retry_backoff_max"`
}

// Sink returns the plugin registration of sink "http".
func Sink() connector.Plugin {
	return connector.Plugin{Schema: SinkSchema, Config: (*SinkConfig)(nil), NewSink: func() connector.Sink { return new(sink) }}
}

// sink is one task of an http sink. Write delivers everything it is given
// before it returns, so Flush has nothing left to do.
type sink struct {
	connector.UnimplementedSink

	cfg    SinkConfig
	log    *slog.Logger
	client *http.Client
	vars   map[string]any
}

func (s *sink) Open(_ context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&SinkSchema, &s.cfg); err != nil {
		return fmt.Errorf("sink http: %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.client = &http.Client{Timeout: s.cfg.Timeout,
		// A redirect would turn the POST into a GET (301, 302, 303) or
		// send the records to a URL the pipeline does not name: the 3xx
		// is the answer, a refusal.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	s.vars = map[string]any{}
	return nil
}

// rejected is a record the endpoint refused.
type rejected struct {
	status int
	body   string
}

func (e *rejected) Error() string {
	return fmt.Sprintf("the endpoint refused the record: %d %s", e.status, http.StatusText(e.status))
}

// group is the records of one URL, as indexes into the batch.
type group struct {
	url  string
	idxs []int
}

func (s *sink) Write(ctx context.Context, records []connector.Record) error {
	var failed []error
	var groups []*group
	byURL := map[string]*group{}
	values := make([][]byte, len(records))
	for i := range records {
		r := &records[i]
		u, err := s.url(r)
		if err != nil {
			failed = append(failed, connector.RecordFailed(i, err))
			continue
		}
		if values[i], err = encodeValue(r.Value); err != nil {
			failed = append(failed, connector.RecordFailed(i, fmt.Errorf("value: %w", err)))
			continue
		}
		g := byURL[u]
		if g == nil {
			g = &group{url: u}
			byURL[u] = g
			groups = append(groups, g)
		}
		g.idxs = append(g.idxs, i)
	}
	for _, g := range groups {
		for start := 0; start < len(g.idxs); start += s.cfg.BatchSize {
			idxs := g.idxs[start:min(start+s.cfg.BatchSize, len(g.idxs))]
			if err := s.deliver(ctx, g.url, idxs, values, &failed); err != nil {
				return err
			}
		}
	}
	return errors.Join(failed...)
}

func (s *sink) Flush(context.Context) error { return nil }

func (s *sink) Close() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	return nil
}

// url evaluates the url expression for a record.
func (s *sink) url(r *connector.Record) (string, error) {
	vars := s.vars
	vars["topic"], vars["partition"] = r.Topic, int64(r.Partition)
	vars["key"], vars["value"] = r.Key, r.Value
	headers := make(map[string]any, len(r.Headers))
	for _, h := range r.Headers {
		headers[h.Key] = string(h.Value)
	}
	vars["headers"] = headers
	v, err := s.cfg.URL.Eval(vars)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	u, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("url: the expression gave a %T, not a string", v)
	}
	if err := checkURL(u); err != nil {
		return "", fmt.Errorf("url: the expression's URL %w", err)
	}
	return u, nil
}

// encodeValue is a record value's JSON text: JSON bytes as they are,
// other bytes as a JSON string, structured values as the json converter
// writes them.
func encodeValue(v any) ([]byte, error) {
	if b, ok := v.([]byte); ok {
		if json.Valid(b) {
			return b, nil
		}
		v = string(b)
	}
	return converters.AppendJSON(nil, v)
}

// deliver POSTs the records idxs to u. A record-level refusal (a status
// neither 2xx, retryable nor a batchRefusal) of several records is split
// in halves until the refused records are alone; those are added to
// failed. A batchRefusal fails the whole Write. An error is the whole batch's
// (retriable when the endpoint kept failing).
func (s *sink) deliver(ctx context.Context, u string, idxs []int, values [][]byte, failed *[]error) error {
	status, body, err := s.post(ctx, u, idxs, values)
	if err != nil {
		return err
	}
	if status/100 == 2 {
		return nil
	}
	if batchRefusal(status) {
		// No record is to blame: the URL, the credentials or the
		// endpoint is wrong, and every record would go to the
		// dead-letter topic. The task fails, nothing is committed.
		return &batchRefused{status: status, body: snippet(body), records: len(idxs)}
	}
	if len(idxs) == 1 {
		if len(body) > maxHeaderBody {
			body = body[:maxHeaderBody]
		}
		*failed = append(*failed, connector.RecordRejected(idxs[0], &rejected{status: status, body: string(body)},
			connector.Header{Key: HeaderStatus, Value: []byte(strconv.Itoa(status))},
			connector.Header{Key: HeaderBody, Value: body}))
		return nil
	}
	half := len(idxs) / 2
	if err := s.deliver(ctx, u, idxs[:half], values, failed); err != nil {
		return err
	}
	return s.deliver(ctx, u, idxs[half:], values, failed)
}

// batchRefusal says whether a status refuses a request for what it is
// sent to or with (a redirect, the credentials, the URL, the method, the
// protocol), not for the records it carries: the whole batch fails.
func batchRefusal(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusProxyAuthRequired, http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return true
	}
	return status/100 == 3
}

// batchRefused is the error of a batch the endpoint refused whole.
type batchRefused struct {
	status, records int
	body            string
}

func (e *batchRefused) Error() string {
	return fmt.Sprintf("sink http: the endpoint refused a batch of %d records with %d %s (%s): the url, the credentials or the endpoint is wrong, not the records; nothing was sent to the dead-letter topic or committed",
		e.records, e.status, http.StatusText(e.status), e.body)
}

// retryable says whether a status is worth trying again: 5xx but 501 Not
// Implemented and 505 HTTP Version Not Supported, which no retry
// changes; 429 and 408.
func retryable(status int) bool {
	switch status {
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// post sends one request, retrying what is worth it; it returns a 2xx or
// a refusal's status and body, or an error when the retries ran out.
func (s *sink) post(ctx context.Context, u string, idxs []int, values [][]byte) (int, []byte, error) {
	var buf bytes.Buffer
	contentType := "application/json"
	if s.cfg.Format == "ndjson" {
		contentType = "application/x-ndjson"
		for _, i := range idxs {
			buf.Write(values[i])
			buf.WriteByte('\n')
		}
	} else {
		buf.WriteByte('[')
		for n, i := range idxs {
			if n > 0 {
				buf.WriteByte(',')
			}
			buf.Write(values[i])
		}
		buf.WriteByte(']')
	}
	body := buf.Bytes()
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = 100 * time.Millisecond
	bo.MaxInterval = s.cfg.RetryBackoffMax
	for try := 0; ; try++ {
		status, answer, wait, err := s.postOnce(ctx, u, contentType, body, len(idxs))
		if err == nil {
			return status, answer, nil
		}
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		if try >= s.cfg.MaxRetries {
			return 0, nil, connector.Retriable(fmt.Errorf("sink http: %d retries: %w", try, err))
		}
		if wait < 0 {
			wait = bo.NextBackOff()
		}
		wait = min(wait, s.cfg.RetryBackoffMax)
		s.log.Warn("retrying a POST", "records", len(idxs), "in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, nil, ctx.Err()
		}
	}
}

// postOnce sends one request. err says it is worth trying again, after
// wait when the endpoint said how long (Retry-After), else wait is -1.
func (s *sink) postOnce(ctx context.Context, u, contentType string, body []byte, n int) (status int, answer []byte, wait time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, -1, errors.New("building the request failed: check the url expression")
	}
	req.Header.Set("Content-Type", contentType)
	authorize(req, s.cfg.Headers, s.cfg.SensitiveHeaders, s.cfg.BearerToken, s.cfg.BasicUsername, s.cfg.BasicPassword)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, -1, fmt.Errorf("posting %d records: %w", n, withoutURL(err))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return 0, nil, -1, fmt.Errorf("reading the answer: %w", err)
	}
	if retryable(resp.StatusCode) {
		wait = -1
		if d, ok := retryAfterOf(resp.Header.Get("Retry-After")); ok {
			wait = d
		}
		return 0, nil, wait, fmt.Errorf("the endpoint answered %s: %s", resp.Status, snippet(b))
	}
	return resp.StatusCode, b, 0, nil
}

// snippet is the start of a response body for an error message, on one
// line.
func snippet(b []byte) string {
	if len(b) > 4096 {
		b = b[:4096]
	}
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if len(s) > 256 {
		s = s[:256] + "…"
	}
	return s
}

// retryAfterOf reads a Retry-After header: seconds or an HTTP date.
func retryAfterOf(h string) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(min(n, 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
