package httpconn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/converters"
)

var responseVars = []configschema.ExprVar{
	{Name: "body", Type: "dyn", Description: "The response body, decoded as JSON (numbers as the json converter decodes them)."},
	{Name: "headers", Type: "dyn", Description: "The response headers, a map of lower-case names to strings (repeated headers joined with \", \")."},
	{Name: "status", Type: "int", Description: "The response status code."},
	{Name: "url", Type: "string", Description: "The URL that was fetched."},
}

var itemVars = []configschema.ExprVar{
	{Name: "item", Type: "dyn", Description: "One element of the list that records gave."},
}

// PollSchema is the configuration of source "http_poll".
var PollSchema = configschema.Schema{
	Kind:        configschema.Source,
	Type:        "http_poll",
	Description: "Polls a REST endpoint every interval and produces a record of each element of the JSON response that records selects, following cursor pagination by a CEL expression; where it got to is kept in the offsets topic. One task per pipeline.",
	Attributes: []configschema.Attribute{
		{Name: "url", Type: configschema.String, Required: true, NonEmpty: true, Description: "URL of the first page (http:// or https://)."},
		{Name: "method", Type: configschema.String, Default: "GET", Enum: []string{"GET", "POST"}, Description: "Request method."},
		{Name: "body", Type: configschema.String, Description: "Request body of a POST (sent as application/json)."},
		{Name: "topic", Type: configschema.String, Required: true, NonEmpty: true, Description: "Topic the records are written to."},
		{Name: "interval", Type: configschema.Duration, Default: "1m", MinDuration: "10ms", Description: "How long to wait after a run of pages ended (next gave nothing) or a page held no record, before polling again."},
		{Name: "records", Type: configschema.Expression, Default: "body", ExprVars: responseVars, Description: "CEL expression over the response giving the list of records' values, such as \"body.items\"; null is an empty list."},
		{Name: "next", Type: configschema.Expression, ExprVars: responseVars, Description: "CEL expression over the response giving where the next page is: a URL (absolute or relative to url), or with cursor_param a cursor value; null or \"\" ends the run of pages, and the next run starts again at url after interval. Without next, every poll fetches url."},
		{Name: "cursor_param", Type: configschema.String, Description: "When set, next gives a cursor (a string or number) that is sent as this query parameter of url, instead of a URL."},
		{Name: "key", Type: configschema.Expression, ExprVars: itemVars, Description: "CEL expression over item giving each record's key, such as \"item.id\"; no key when absent."},
		{Name: "headers", Type: configschema.MapOfString, Description: "Request headers to send; shown in plans and state: put API keys in sensitive_headers."},
		{Name: "sensitive_headers", Type: configschema.MapOfString, Sensitive: true, Description: "Request headers to send whose values are secret (X-Api-Key): the map is sensitive, never shown in plans, state, logs or errors. They win over headers of the same name."},
		{Name: "bearer_token", Type: configschema.String, Sensitive: true, Description: "Sent as Authorization: Bearer TOKEN."},
		{Name: "basic_username", Type: configschema.String, Description: "User name of HTTP basic authentication."},
		{Name: "basic_password", Type: configschema.String, Sensitive: true, Description: "Password of HTTP basic authentication."},
		{Name: "timeout", Type: configschema.Duration, Default: "30s", MinDuration: "10ms", Description: "Time limit of one request, the body read included."},
		{Name: "max_response_bytes", Type: configschema.Int, Default: int64(16 << 20), Min: i64(1), Max: i64(1 << 30), Description: "Largest response body read; a larger one fails the task (narrow the page size of the request). Redirects are not followed: a 3xx fails the task with its status."},
	},
	ConflictsWith: [][]string{{"bearer_token", "basic_username"}},
	RequiredWith:  []configschema.Requirement{{Attribute: "basic_password", Requires: []string{"basic_username"}}},
	Check:         checkPoll,
}

// PollConfig is the configuration of source "http_poll".
type PollConfig struct {
	URL           string            `pipectl:"url"`
	Method        string            `pipectl:"method"`
	Body          string            `pipectl:"body"`
	Topic         string            `pipectl:"topic"`
	Interval      time.Duration     `pipectl:"interval"`
	Records       connector.Expr    `pipectl:"records"`
	Next          connector.Expr    `pipectl:"next"`
	CursorParam   string            `pipectl:"cursor_param"`
	Key           connector.Expr    `pipectl:"key"`
	Headers       map[string]string `pipectl:"headers"`
	SensHeaders   map[string]string `pipectl:"sensitive_headers"`
	BearerToken   string            `pipectl:"bearer_token"`
	BasicUsername string            `pipectl:"basic_username"`
	BasicPassword string            `pipectl:"basic_password"`
	Timeout       time.Duration     `pipectl:"timeout"`
	MaxResponse   int64             `pipectl:"max_response_bytes"`
}

// PollSource returns the plugin registration of source "http_poll".
func PollSource() connector.Plugin {
	return connector.Plugin{Schema: PollSchema, Config: (*PollConfig)(nil), NewSource: func() connector.Source { return new(pollSource) }}
}

func checkPoll(values map[string]any) []*configschema.Error {
	var errs []*configschema.Error
	if u := str(values, "url"); u != "" {
		if err := checkURL(u); err != nil {
			errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "url", Summary: "Invalid URL", Detail: fmt.Sprintf("The url %s: write http://HOST/PATH or https://HOST/PATH.", err)})
		}
	}
	a := configschema.Attribute{Name: "tasks", Type: configschema.Int}
	if v, err := a.Coerce(values["tasks"]); err == nil {
		if n, _ := v.(int64); n > 1 {
			errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: "tasks", Summary: "Too many tasks", Detail: "An http_poll source polls one endpoint with one task: remove tasks or set it to 1."})
		}
	}
	return errs
}

// checkURL says what is wrong with an http(s) URL, without quoting it (it
// may hold credentials).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("does not parse")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("is not http:// or https://")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// pollSource is the one task of an http_poll source.
type pollSource struct {
	connector.UnimplementedSource

	cfg       PollConfig
	log       *slog.Logger
	client    *http.Client
	json      connector.Converter
	partition map[string]any
	cur       string    // the URL of the next request
	due       time.Time // when the next request may go
}

func (s *pollSource) Open(_ context.Context, tc *connector.TaskContext) error {
	if err := tc.DecodeConfig(&PollSchema, &s.cfg); err != nil {
		return fmt.Errorf("source http_poll: %w", err)
	}
	if tc.Tasks > 1 {
		return fmt.Errorf("source http_poll: it runs one task, not %d", tc.Tasks)
	}
	if err := checkURL(s.cfg.URL); err != nil {
		return fmt.Errorf("source http_poll: the url %w", err)
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.json, err = converters.NewJSON(nil); err != nil {
		return fmt.Errorf("source http_poll: %w", err)
	}
	// A redirect would take the configured headers and credentials to
	// wherever the endpoint points: the 3xx is the answer.
	s.client = &http.Client{Timeout: s.cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// The partition names the url by its digest: the url may hold
	// credentials (?api_key=), and the offsets topic is readable.
	sum := sha256.Sum256([]byte(s.cfg.URL))
	s.partition = map[string]any{"url_sha256": hex.EncodeToString(sum[:])}
	s.cur = s.cfg.URL
	if tc.Offset != nil {
		off := tc.Offset(s.partition)
		if off == nil {
			// Saved by an earlier version, under the url itself.
			off = tc.Offset(map[string]any{"url": s.cfg.URL})
		}
		if u, ok := off["url"].(string); ok && u != "" {
			s.cur = u
			s.log.Info("http_poll resumes from its saved position")
		}
	}
	return nil
}

// fetched is one response.
type fetched struct {
	status  int
	headers map[string]any
	body    any
}

// errStatus is a response status that is not 2xx; its message holds the
// status and the start of the body, never the URL or request headers.
func errStatus(resp *http.Response, body []byte) error {
	err := fmt.Errorf("the endpoint answered %s: %s", resp.Status, snippet(body))
	if retryable(resp.StatusCode) {
		return connector.Retriable(err)
	}
	return err
}

func (s *pollSource) fetch(ctx context.Context, u string) (*fetched, error) {
	var body io.Reader
	if s.cfg.Body != "" {
		body = strings.NewReader(s.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, u, body)
	if err != nil {
		return nil, errors.New("building the request failed: check url and next")
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	authorize(req, s.cfg.Headers, s.cfg.SensHeaders, s.cfg.BearerToken, s.cfg.BasicUsername, s.cfg.BasicPassword)
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, connector.Retriable(fmt.Errorf("polling the endpoint: %w", withoutURL(err)))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxResponse+1))
	if err != nil {
		return nil, connector.Retriable(fmt.Errorf("reading the response: %w", err))
	}
	if int64(len(b)) > s.cfg.MaxResponse {
		return nil, fmt.Errorf("the response is over max_response_bytes (%d): ask for smaller pages or raise it", s.cfg.MaxResponse)
	}
	if resp.StatusCode/100 != 2 {
		return nil, errStatus(resp, b)
	}
	f := &fetched{status: resp.StatusCode, headers: map[string]any{}}
	for k, vs := range resp.Header {
		f.headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if f.body, err = s.json.Decode(b); err != nil {
			return nil, connector.Retriable(fmt.Errorf("the response is not JSON: %w", err))
		}
	}
	return f, nil
}

func (s *pollSource) Poll(ctx context.Context) ([]connector.Record, error) {
	if wait := time.Until(s.due); wait > 0 {
		t := time.NewTimer(min(wait, time.Second))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if time.Now().Before(s.due) {
			return nil, nil
		}
	}
	f, err := s.fetch(ctx, s.cur)
	if err != nil {
		return nil, fmt.Errorf("source http_poll: %w", err)
	}
	vars := map[string]any{"body": f.body, "headers": f.headers, "status": int64(f.status), "url": s.cur}
	v, err := s.cfg.Records.Eval(vars)
	if err != nil {
		return nil, fmt.Errorf("source http_poll: records: %w", err)
	}
	var items []any
	switch x := v.(type) {
	case nil:
	case []any:
		items = x
	default:
		return nil, fmt.Errorf("source http_poll: records gave a %T, not a list", v)
	}
	next := ""
	if s.cfg.Next != nil {
		nv, err := s.cfg.Next.Eval(vars)
		if err != nil {
			return nil, fmt.Errorf("source http_poll: next: %w", err)
		}
		if next, err = s.nextURL(nv); err != nil {
			return nil, fmt.Errorf("source http_poll: next: %w", err)
		}
	}
	recs := make([]connector.Record, 0, len(items)+1)
	now := time.Now()
	for i, it := range items {
		var key any
		if s.cfg.Key != nil {
			if key, err = s.cfg.Key.Eval(map[string]any{"item": it}); err != nil {
				return nil, fmt.Errorf("source http_poll: key of record %d: %w", i, err)
			}
		}
		recs = append(recs, connector.Record{Key: key, Value: it, Topic: s.cfg.Topic, Partition: -1, Timestamp: now, SourcePartition: s.partition})
	}
	// Where the next request goes, saved with the page's last record.
	cur, due := next, time.Time{}
	switch {
	case next == "":
		cur, due = s.cfg.URL, now.Add(s.cfg.Interval) // the run of pages ended
	case len(items) == 0 || next == s.cur:
		// Caught up, the cursor stays; or the endpoint pointed back at
		// the same page, which fetching at once would repeat for ever.
		due = now.Add(s.cfg.Interval)
	}
	off := map[string]any{"url": cur}
	if cur == s.cfg.URL {
		off = map[string]any{"url": ""}
	}
	if len(recs) == 0 {
		recs = append(recs, connector.Record{Skip: true, Topic: s.cfg.Topic, Partition: -1, SourcePartition: s.partition})
	}
	recs[len(recs)-1].SourceOffset = off
	s.cur, s.due = cur, due
	return recs, nil
}

// nextURL turns next's result into the URL of the next page; "" ends the
// run of pages.
func (s *pollSource) nextURL(v any) (string, error) {
	var c string
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		c = x
	case int64:
		c = strconv.FormatInt(x, 10)
	case uint64:
		c = strconv.FormatUint(x, 10)
	case float64:
		c = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return "", fmt.Errorf("gave a %T, not a string", v)
	}
	if c == "" {
		return "", nil
	}
	baseURL := s.cur // a relative next is relative to the page it came from
	if s.cfg.CursorParam != "" {
		baseURL = s.cfg.URL
	}
	base, err := url.Parse(baseURL)
	if err != nil {
		return "", errors.New("the url does not parse")
	}
	if s.cfg.CursorParam != "" {
		q := base.Query()
		q.Set(s.cfg.CursorParam, c)
		base.RawQuery = q.Encode()
		return base.String(), nil
	}
	ref, err := url.Parse(c)
	if err != nil {
		return "", errors.New("gave a string that is not a URL") // not quoted: it may hold credentials
	}
	u := base.ResolveReference(ref).String()
	if checkURL(u) != nil {
		return "", errors.New("gave a URL that is not http(s) with a host")
	}
	return u, nil
}

func (s *pollSource) Close() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	return nil
}
