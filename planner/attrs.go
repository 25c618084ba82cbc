package planner

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// leaf is one displayed attribute of a resource: a scalar or a list, at
// a display path, with the JSON path of the value in the resource spec.
type leaf struct {
	path  string
	json  []string
	rank  int
	value *plan.Value
}

// tree returns the spec of a resource as plain JSON values: what state
// holds, with numbers as float64, lists as []any and objects as
// map[string]any.
func tree(r *control.Resource) map[string]any {
	var out map[string]any
	if err := json.Unmarshal(specJSON(r), &out); err != nil {
		panic(fmt.Sprintf("planner: resource %s does not unmarshal: %v", r.Address, err))
	}
	return out
}

// specJSON is the canonical encoding of a resource's spec: two resources
// with equal encodings need no change.
func specJSON(r *control.Resource) []byte {
	var spec any = r.Topic
	if r.Kind == control.KindPipeline {
		spec = r.Pipeline
	}
	b, err := json.Marshal(spec)
	if err != nil {
		panic(fmt.Sprintf("planner: resource %s does not marshal: %v", r.Address, err))
	}
	return b
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// key renders one map key of a display path: .name or ["retention.ms"].
func key(k string) string {
	if identRE.MatchString(k) {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// secretValue recognizes a sealed secret and returns its display value.
func secretValue(v any) (*plan.Value, bool) {
	s, ok := control.SecretOf(v)
	if !ok {
		return nil, false
	}
	digest := s.HMAC
	if s.Ref != "" {
		digest = "ref:" + s.Ref
	}
	return &plan.Value{Sensitive: true, Digest: digest}, true
}

// flattenInto adds the leaves of v under path: maps are flattened by key,
// everything else is one leaf.
func flattenInto(out []leaf, path string, jsonPath []string, rank int, v any) []leaf {
	if sv, ok := secretValue(v); ok {
		return append(out, leaf{path: path, json: jsonPath, rank: rank, value: sv})
	}
	if m, ok := v.(map[string]any); ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = flattenInto(out, path+key(k), append(append([]string(nil), jsonPath...), k), rank, m[k])
		}
		return out
	}
	return append(out, leaf{path: path, json: jsonPath, rank: rank, value: &plan.Value{V: v}})
}

// Display ranks: the order attributes are shown in.
var topicRanks = map[string]int{"name": 0, "partitions": 1, "replication_factor": 2, "config": 3}

const (
	rankTasks = iota
	rankState
	rankPlugin
	rankTopics
	rankTopicsRegex
	rankStartFrom
	rankCommitInterval
	rankKeyConverter
	rankValueConverter
	rankTransforms
	rankTransformOps
	rankErrors
	rankOther
)

// knownPipelineKeys are the keys of a pipeline spec that leaves shows in
// its own way (or, for kind and type, in the block header).
var knownPipelineKeys = map[string]bool{
	"kind": true, "type": true, "tasks": true, "paused": true, "stopped": true, "config": true, "topics": true, "topics_regex": true,
	"start_from": true, "commit_interval": true, "key_converter": true, "value_converter": true, "transforms": true, "errors": true,
}

// leaves lists the displayed attributes of a resource, in display order.
func leaves(r *control.Resource) []leaf {
	t := tree(r)
	var out []leaf
	if r.Kind == control.KindTopic {
		for _, k := range []string{"name", "partitions", "replication_factor"} {
			out = append(out, leaf{path: k, json: []string{k}, rank: topicRanks[k], value: &plan.Value{V: t[k]}})
		}
		if cfg, ok := t["config"].(map[string]any); ok {
			for _, k := range sortedKeys(cfg) {
				out = append(out, leaf{path: "config[" + strconv.Quote(k) + "]", json: []string{"config", k}, rank: topicRanks["config"], value: &plan.Value{V: cfg[k]}})
			}
		}
		return out
	}
	out = append(out, leaf{path: "tasks", json: []string{"tasks"}, rank: rankTasks, value: &plan.Value{V: t["tasks"]}})
	// The HCL state attribute; stored as the paused and stopped keys.
	state := "running"
	if paused, _ := t["paused"].(bool); paused {
		state = "paused"
	}
	if stopped, _ := t["stopped"].(bool); stopped {
		state = "stopped"
	}
	out = append(out, leaf{path: "state", json: []string{"state"}, rank: rankState, value: &plan.Value{V: state}})
	if cfg, ok := t["config"].(map[string]any); ok {
		for _, k := range sortedKeys(cfg) {
			out = flattenInto(out, k, []string{"config", k}, rankPlugin, cfg[k])
		}
	}
	for _, s := range []struct {
		k    string
		rank int
	}{{"topics", rankTopics}, {"topics_regex", rankTopicsRegex}, {"start_from", rankStartFrom}, {"commit_interval", rankCommitInterval}} {
		if v, ok := t[s.k]; ok {
			out = append(out, leaf{path: s.k, json: []string{s.k}, rank: s.rank, value: &plan.Value{V: v}})
		}
	}
	out = converterLeaves(out, "key_converter", rankKeyConverter, t["key_converter"])
	out = converterLeaves(out, "value_converter", rankValueConverter, t["value_converter"])
	if list, ok := t["transforms"].([]any); ok {
		names := make([]any, 0, len(list))
		seen := map[string]bool{}
		for _, e := range list {
			m, _ := e.(map[string]any)
			name, _ := m["name"].(string)
			names = append(names, "transform."+name)
			if seen[name] {
				continue
			}
			seen[name] = true
			out = transformLeaves(out, "transform."+name, m)
		}
		out = append(out, leaf{path: "transforms", json: []string{"transforms"}, rank: rankTransforms, value: &plan.Value{V: names}})
	}
	out = flattenInto(out, "errors", []string{"errors"}, rankErrors, t["errors"])
	// Attributes this planner does not know by name (added to the spec
	// later) are still shown, after the others.
	for _, k := range sortedKeys(t) {
		if !knownPipelineKeys[k] {
			out = flattenInto(out, k, []string{k}, rankOther, t[k])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank < out[j].rank })
	return out
}

func converterLeaves(out []leaf, path string, rank int, v any) []leaf {
	m, _ := v.(map[string]any)
	name, _ := m["name"].(string)
	typ, _ := m["type"].(string)
	shown := typ
	if name != "" {
		shown = "converter." + name
	}
	out = append(out, leaf{path: path, json: []string{path}, rank: rank, value: &plan.Value{V: shown}})
	if name != "" {
		out = append(out, leaf{path: path + ".type", json: []string{path, "type"}, rank: rank, value: &plan.Value{V: typ}})
		if cfg, ok := m["config"].(map[string]any); ok {
			for _, k := range sortedKeys(cfg) {
				out = flattenInto(out, path+key(k), []string{path, "config", k}, rank, cfg[k])
			}
		}
	}
	return out
}

// transformLeaves flattens one transform's operations: transform.x.filter,
// transform.x.set["value.email"], transform.x.when.expr, ...
func transformLeaves(out []leaf, prefix string, m map[string]any) []leaf {
	jp := []string{"transforms"}
	for _, op := range []string{"when", "unless"} {
		if c, ok := m[op].(map[string]any); ok {
			out = flattenInto(out, prefix+"."+op, jp, rankTransformOps, c)
		}
	}
	for _, op := range []string{"filter", "key", "topic"} {
		if s, ok := m[op].(string); ok && s != "" {
			out = append(out, leaf{path: prefix + "." + op, json: jp, rank: rankTransformOps, value: &plan.Value{V: s}})
		}
	}
	keyed := func(op, keyField, valueField string) {
		list, _ := m[op].([]any)
		for _, e := range list {
			em, _ := e.(map[string]any)
			k, _ := em[keyField].(string)
			out = append(out, leaf{path: prefix + "." + op + "[" + strconv.Quote(k) + "]", json: jp, rank: rankTransformOps, value: &plan.Value{V: em[valueField]}})
		}
	}
	keyed("set", "path", "expr")
	keyed("rename", "from", "to")
	if d, ok := m["drop"].([]any); ok {
		out = append(out, leaf{path: prefix + ".drop", json: jp, rank: rankTransformOps, value: &plan.Value{V: d}})
	}
	keyed("headers", "name", "expr")
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// diffAttrs compares the attributes of two resources (either may be nil)
// and returns what to show: every attribute for a creation or deletion,
// otherwise the changed ones plus identifying ones, and how many it
// hides. forces reports, by JSON path head, the attributes whose change
// forces a replacement.
func diffAttrs(before, after *control.Resource, forces func(jsonPath []string) bool) (attrs []plan.Attr, hidden int, replacePaths [][]string) {
	var bl, al []leaf
	if before != nil {
		bl = leaves(before)
	}
	if after != nil {
		al = leaves(after)
	}
	type pair struct {
		b, a *leaf
	}
	byPath := map[string]*pair{}
	var order []*leaf
	for i := range bl {
		byPath[bl[i].path] = &pair{b: &bl[i]}
		order = append(order, &bl[i])
	}
	for i := range al {
		if p, ok := byPath[al[i].path]; ok {
			p.a = &al[i]
			continue
		}
		byPath[al[i].path] = &pair{a: &al[i]}
		order = append(order, &al[i])
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].rank != order[j].rank {
			return order[i].rank < order[j].rank
		}
		return order[i].path < order[j].path
	})
	whole := before == nil || after == nil
	seenReplace := map[string]bool{}
	for _, l := range order {
		p := byPath[l.path]
		a := plan.Attr{Path: l.path}
		if p.b != nil {
			a.Before = p.b.value
		}
		if p.a != nil {
			a.After = p.a.value
		}
		changed := a.Changed()
		if !whole && changed && forces != nil && forces(l.json) {
			a.ForcesReplacement = true
			if k := strings.Join(l.json, "\x00"); !seenReplace[k] {
				seenReplace[k] = true
				replacePaths = append(replacePaths, append([]string(nil), l.json...))
			}
		}
		switch {
		case whole, changed, identifying(before, l.path):
			attrs = append(attrs, a)
		default:
			hidden++
		}
	}
	return attrs, hidden, replacePaths
}

// identifying reports whether an attribute is shown in an update even when
// it does not change: a topic's Kafka name.
func identifying(r *control.Resource, path string) bool {
	return r != nil && r.Kind == control.KindTopic && path == "name"
}

// Describe returns a resource as a change without an action that shows
// every attribute, for pipectl show.
func Describe(r *control.Resource) *plan.Change {
	kind, typ, name := kindOf(r)
	attrs, _, _ := diffAttrs(nil, r, nil)
	return &plan.Change{Address: r.Address, Kind: kind, Type: typ, Name: name, Action: plan.NoOp, After: r, Attrs: attrs}
}
