package connectimport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Connector is one Kafka Connect connector: its name and its configuration
// as Connect's REST API gives it (every value a string).
type Connector struct {
	Name   string
	Config map[string]string
	// Type is "source" or "sink" when the input says so (GET
	// /connectors?expand=info), "" otherwise.
	Type string
	// Origin names where it came from, for messages: a file name or URL.
	Origin string
}

// maxInput bounds what Parse and Fetch read.
const maxInput = 64 << 20

// Parse reads connector configurations from JSON in any of the shapes of
// Kafka Connect's REST API: the body of POST /connectors
// ({"name","config":{...}}), a bare configuration map (with name, or named
// after the file), a GET /connectors?expand=info (or expand=status) dump,
// the answer of GET /connectors/NAME, or a JSON array of any of these.
// origin names the input in errors and is the fallback name.
func Parse(data []byte, origin string) ([]Connector, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: not JSON: %w", origin, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: more than one JSON value; put several connectors in an array", origin)
	}
	var out []Connector
	if err := collect(v, origin, &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no connector configuration found", origin)
	}
	return out, nil
}

func collect(v any, origin string, out *[]Connector) error {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			if err := collect(e, fmt.Sprintf("%s[%d]", origin, i), out); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		return collectObject(t, origin, out)
	default:
		return fmt.Errorf("%s: a connector configuration is a JSON object, not %s", origin, jsonKind(v))
	}
}

func collectObject(m map[string]any, origin string, out *[]Connector) error {
	// {"name": ..., "config": {...}}: POST /connectors, GET /connectors/NAME.
	if cfg, ok := m["config"].(map[string]any); ok {
		outer, _ := m["name"].(string)
		c, err := connectorOf(cfg, origin, outer)
		if err != nil {
			return err
		}
		if t, ok := m["type"].(string); ok {
			c.Type = t
		}
		*out = append(*out, c)
		return nil
	}
	// A bare configuration: it holds connector.class.
	if _, ok := m["connector.class"]; ok {
		c, err := connectorOf(m, origin, "")
		if err != nil {
			return err
		}
		*out = append(*out, c)
		return nil
	}
	// GET /connectors?expand=info: {"NAME": {"info": {...}, "status": {...}}}.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	found := false
	for _, k := range keys {
		e, ok := m[k].(map[string]any)
		if !ok {
			continue
		}
		info, ok := e["info"].(map[string]any)
		if !ok {
			continue
		}
		found = true
		if _, named := info["name"]; !named {
			info["name"] = k
		}
		if err := collectObject(info, origin+": "+k, out); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("%s: no connector.class, config or expand=info entries: this is not a Kafka Connect connector configuration", origin)
	}
	return nil
}

// connectorOf reads a configuration map; name, when not empty, is the
// connector's name from around the map.
func connectorOf(cfg map[string]any, origin, name string) (Connector, error) {
	c := Connector{Config: map[string]string{}, Origin: origin}
	for k, v := range cfg {
		switch t := v.(type) {
		case string:
			c.Config[k] = t
		case json.Number:
			c.Config[k] = t.String()
		case bool:
			c.Config[k] = strconv.FormatBool(t)
		case nil:
			// Connect drops null settings too.
		default:
			return c, fmt.Errorf("%s: the setting %q is %s; Kafka Connect settings are strings, numbers or booleans", origin, k, jsonKind(v))
		}
	}
	c.Name = name
	if c.Name == "" {
		c.Name = c.Config["name"]
	}
	if c.Name == "" {
		base := filepath.Base(origin)
		c.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if c.Config["connector.class"] == "" {
		return c, fmt.Errorf("%s: connector %q has no connector.class", origin, c.Name)
	}
	return c, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// Fetch reads every connector of a running Kafka Connect cluster with GET
// /connectors?expand=info from base, its REST URL (http://host:8083).
func Fetch(ctx context.Context, client *http.Client, base string) ([]Connector, error) {
	if client == nil {
		client = http.DefaultClient
	}
	base = strings.TrimRight(base, "/")
	u := base + "/connectors?expand=info"
	body, err := get(ctx, client, u)
	if err != nil {
		return nil, err
	}
	switch t := bytes.TrimSpace(body); {
	case bytes.Equal(t, []byte("{}")), bytes.Equal(t, []byte("[]")):
		return nil, nil // a cluster without connectors
	case len(t) > 0 && t[0] == '[':
		// Kafka Connect before 2.3 ignores expand and lists names:
		// read each connector.
		var names []string
		if err := json.Unmarshal(t, &names); err != nil {
			return nil, fmt.Errorf("GET %s: not a list of connector names: %w", u, err)
		}
		var out []Connector
		for _, n := range names {
			cu := base + "/connectors/" + url.PathEscape(n)
			b, err := get(ctx, client, cu)
			if err != nil {
				return nil, err
			}
			cs, err := Parse(b, cu)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
		return out, nil
	}
	return Parse(body, u)
}

// get reads a URL of Kafka Connect's REST API; an error answer gives
// Connect's message.
func get(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("invalid Kafka Connect URL %q: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxInput))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil && e.Message != "" {
			return nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, e.Message)
		}
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}
