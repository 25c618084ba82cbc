package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// Input is what Plan compares.
type Input struct {
	// Config is the loaded configuration, without errors.
	Config *lang.Config
	// Plugins give the schemas that say which attributes force a
	// replacement.
	Plugins lang.PluginSchemas
	// Keys seal sensitive values; nil without PIPECTL_STATE_KEY.
	Keys *control.Keys
	// State is the fleet's committed state.
	State *control.State
	// Live is what Kafka says now; nil with -refresh=false.
	Live *Live

	Destroy bool     // plan -destroy: every resource goes
	Replace []string // -replace=ADDRESS
	Targets []string // -target=ADDRESS
}

// Live is what the cluster says about the resources, read by Refresh.
type Live struct {
	// Topics holds the existing topics among those asked for, by name.
	Topics map[string]LiveTopic
	// Status is the fleet's status topic; nil when it does not exist.
	Status *control.StatusView
	// Intents are topics that applies were about to create, with the
	// serial each planned against (control.ReadIntents).
	Intents map[string]int64
	// GroupOffsets are the committed offsets of the consumer groups that
	// import blocks name, by group; a group without offsets is absent.
	GroupOffsets map[string][]plan.PartitionOffset
	// ConnectOffsets are the source offsets Kafka Connect connectors
	// saved, as import blocks name them, by connectKey.
	ConnectOffsets map[string][]control.SourceOffset
}

// LiveTopic is a topic as Kafka describes it.
type LiveTopic struct {
	Partitions        int32
	ReplicationFactor int16
	// Config holds the configs set on the topic itself (not the
	// broker's defaults).
	Config map[string]string
}

// decl is what the configuration declares about one resource.
type decl struct {
	rng       hcl.Range
	lifecycle lang.Lifecycle
	kind      string
	typ       string
	name      string
}

type planner struct {
	in      Input
	p       *plan.Plan
	diags   hcl.Diagnostics
	decls   map[string]decl
	desired map[string]*control.Resource
	prior   map[string]*control.Resource
	prev    map[string]string            // new address → the state address it moved from
	imports map[string]string            // address → adopted topic name
	gone    map[string]*control.Resource // state topics deleted outside pipectl
}

// Plan compares the configuration with the state and, unless Live is nil,
// with the cluster, and returns the plan with every problem found. The
// plan is nil when there are errors.
func Plan(in Input) (*plan.Plan, hcl.Diagnostics) {
	pl := &planner{
		in: in,
		p: &plan.Plan{
			Fleet:      in.Config.Fleet.Name,
			Serial:     in.State.Serial,
			ConfigHash: ConfigHash(in.Config),
			Destroy:    in.Destroy,
			Refreshed:  in.Live != nil,
			Targets:    in.Targets,
			Replace:    in.Replace,
		},
		decls:   map[string]decl{},
		desired: map[string]*control.Resource{},
		prior:   map[string]*control.Resource{},
		prev:    map[string]string{},
		imports: map[string]string{},
		gone:    map[string]*control.Resource{},
	}
	pl.run()
	if pl.diags.HasErrors() {
		return nil, pl.diags
	}
	return pl.p, pl.diags
}

func (pl *planner) errorf(rng *hcl.Range, summary, detail string, args ...any) {
	pl.diags = append(pl.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng})
}

func (pl *planner) note(kind plan.NoteKind, addr, format string, args ...any) {
	pl.p.Notes = append(pl.p.Notes, plan.Note{Kind: kind, Address: addr, Message: fmt.Sprintf(format, args...)})
}

func (pl *planner) declRange(addr string) *hcl.Range {
	if d, ok := pl.decls[addr]; ok {
		r := d.rng
		return &r
	}
	return nil
}

func (pl *planner) run() {
	cfg := pl.in.Config
	for _, t := range cfg.Topics {
		pl.decls[t.Address] = decl{rng: t.DeclRange, lifecycle: t.Lifecycle, kind: plan.KindTopic, name: t.Name}
	}
	for _, p := range cfg.Pipelines {
		pl.decls[p.Address] = decl{rng: p.DeclRange, lifecycle: p.Lifecycle, kind: string(p.Kind), typ: p.Type, name: p.Name}
	}
	if !pl.in.Destroy {
		res, err := control.Resources(cfg, pl.in.Keys)
		if err != nil {
			pl.errorf(nil, "Cannot store a sensitive value", "%s.", err)
			return
		}
		for _, r := range res {
			pl.desired[r.Address] = r
		}
		pl.checkReserved()
		pl.reservedDeadLetters()
	}
	for addr, r := range pl.in.State.Resources {
		pl.prior[addr] = r
	}
	pl.move()
	pl.refresh()
	if !pl.in.Destroy {
		pl.importTopics()
		pl.deadLetters()
		pl.adopt()
		pl.ignoreChanges()
	}
	pl.checkAddresses()
	if pl.diags.HasErrors() {
		return
	}
	pl.diff()
	if !pl.in.Destroy {
		pl.groupImports()
	}
	pl.target()
	pl.statusNotes()
	if !pl.p.Refreshed {
		pl.note(plan.NoteNoRefresh, "", "Live objects were not read (-refresh=false): changes made outside pipectl and existing topics unknown to the state are not detected.")
	}
	sort.SliceStable(pl.p.Changes, func(i, j int) bool {
		a, b := pl.p.Changes[i], pl.p.Changes[j]
		if pa, pb := phase(a), phase(b); pa != pb {
			return pa < pb
		}
		return a.Address < b.Address
	})
}

// phase orders changes as apply makes them: topics that are created,
// updated or replaced; pipelines, deletions first; deleted topics.
func phase(c *plan.Change) int {
	switch {
	case c.IsTopic() && c.Action != plan.Delete:
		return 0
	case !c.IsTopic() && c.Action == plan.Delete:
		return 1
	case !c.IsTopic():
		return 2
	}
	return 3
}

// checkReserved refuses topics that would clash with the fleet's own.
func (pl *planner) checkReserved() {
	fleet := pl.in.Config.Fleet.Name
	for _, t := range pl.in.Config.Topics {
		if role, ok := control.InternalTopic(fleet, t.Name); ok {
			pl.errorf(ptr(t.DeclRange), "Reserved topic name",
				"%s names the topic %q, which is the fleet's own %s topic. Choose another name.", t.Address, t.Name, role)
		}
	}
}

func ptr(r hcl.Range) *hcl.Range { return &r }

// move renames state resources as the moved blocks say, following chains.
func (pl *planner) move() {
	for range len(pl.in.Config.Moved) + 1 {
		progress := false
		for _, m := range pl.in.Config.Moved {
			r, has := pl.prior[m.From]
			if !has {
				continue
			}
			if _, taken := pl.prior[m.To]; taken {
				continue
			}
			moved := *r
			moved.Address = m.To
			delete(pl.prior, m.From)
			pl.prior[m.To] = &moved
			orig := m.From
			if p, ok := pl.prev[m.From]; ok {
				orig = p
				delete(pl.prev, m.From)
			}
			pl.prev[m.To] = orig
			progress = true
		}
		if !progress {
			break
		}
	}
	for _, m := range pl.in.Config.Moved {
		_, from := pl.prior[m.From]
		_, to := pl.prior[m.To]
		if from && to {
			pl.note(plan.NoteMoved, m.To, "The moved block from %s to %s does nothing: the state holds both addresses. Remove the moved block, or destroy one of them first.", m.From, m.To)
		}
	}
}

// refresh compares the topics of the state with what Kafka says and
// records the differences as drift; the prior state becomes what is live.
func (pl *planner) refresh() {
	live := pl.in.Live
	if live == nil {
		return
	}
	for _, addr := range sortedKeys(pl.prior) {
		r := pl.prior[addr]
		if r.Kind != control.KindTopic || r.Topic == nil {
			continue
		}
		lt, ok := live.Topics[r.Topic.Name]
		if !ok {
			c := pl.newChange(addr, r, nil)
			c.Action = plan.Delete
			c.Attrs, c.Hidden, _ = diffAttrs(r, nil, nil)
			pl.p.Drift = append(pl.p.Drift, c)
			delete(pl.prior, addr)
			pl.gone[addr] = r
			continue
		}
		now := liveResource(addr, r.Topic.Name, lt, r.Topic.ReplicationFactor == -1)
		if bytes.Equal(specJSON(r), specJSON(now)) {
			continue
		}
		c := pl.newChange(addr, r, now)
		c.Action = plan.Update
		c.Attrs, c.Hidden, _ = diffAttrs(r, now, nil)
		pl.p.Drift = append(pl.p.Drift, c)
		pl.prior[addr] = now
	}
}

// liveResource is a topic resource as Kafka describes it. defaultRF keeps
// the replication factor at -1 (the broker's default), which a live topic
// does not say.
func liveResource(addr, name string, lt LiveTopic, defaultRF bool) *control.Resource {
	rf := lt.ReplicationFactor
	if defaultRF {
		rf = -1
	}
	var cfg map[string]string
	if len(lt.Config) > 0 {
		cfg = lt.Config
	}
	return &control.Resource{Address: addr, Kind: control.KindTopic, Topic: &control.TopicSpec{
		Name: name, Partitions: lt.Partitions, ReplicationFactor: rf, Config: cfg,
	}}
}

// importTopics adopts the existing topics that import blocks name.
func (pl *planner) importTopics() {
	for _, imp := range pl.in.Config.Imports {
		if imp.ConsumerGroup != "" || imp.ConnectOffsetsTopic != "" {
			continue // a pipeline's offsets: groupImports
		}
		if _, managed := pl.prior[imp.To]; managed {
			continue // already in state: the import block has done its work
		}
		rng := ptr(imp.DeclRange)
		if pl.in.Live == nil {
			pl.errorf(rng, "Cannot import without refreshing",
				"Importing %s reads the topic %q from Kafka, which -refresh=false forbids. Plan without -refresh=false.", imp.To, imp.ID)
			continue
		}
		lt, ok := pl.in.Live.Topics[imp.ID]
		if !ok {
			pl.errorf(rng, "Cannot import non-existent topic",
				"The topic %q does not exist in Kafka, so %s cannot adopt it. Remove the import block: plan then creates the topic.", imp.ID, imp.To)
			continue
		}
		if owner := pl.topicOwner(imp.ID); plan.IsDeadLetterAddress(owner) {
			// A dead-letter topic of its own: the topic block takes it
			// over (deadLetters); the import block has nothing to do.
			continue
		} else if owner != "" {
			pl.errorf(rng, "Topic already managed",
				"The topic %q is already managed as %s. Remove the import block, or use a moved block to give %s a new address.", imp.ID, owner, owner)
			continue
		}
		d := pl.desired[imp.To]
		pl.prior[imp.To] = liveResource(imp.To, imp.ID, lt, d != nil && d.Topic.ReplicationFactor == -1)
		pl.imports[imp.To] = imp.ID
	}
}

// topicOwner returns the address of the prior topic resource that manages
// the Kafka topic name, or "".
func (pl *planner) topicOwner(name string) string {
	for _, addr := range sortedKeys(pl.prior) {
		if r := pl.prior[addr]; r.Kind == control.KindTopic && r.Topic != nil && r.Topic.Name == name {
			return addr
		}
	}
	return ""
}

// adopt takes over the topics that an apply created before it was
// interrupted: nothing was committed since, so the state does not know
// them, but they are pipectl's own.
func (pl *planner) adopt() {
	live := pl.in.Live
	if live == nil {
		return
	}
	for _, addr := range sortedKeys(pl.desired) {
		d := pl.desired[addr]
		if d.Kind != control.KindTopic {
			continue
		}
		if _, known := pl.prior[addr]; known {
			continue
		}
		lt, exists := live.Topics[d.Topic.Name]
		serial, intended := live.Intents[d.Topic.Name]
		if !exists || !intended || serial != pl.in.State.Serial || pl.topicOwner(d.Topic.Name) != "" {
			continue
		}
		pl.prior[addr] = liveResource(addr, d.Topic.Name, lt, d.Topic.ReplicationFactor == -1)
		pl.imports[addr] = d.Topic.Name
		pl.note(plan.NoteAdopted, addr, "The topic %q was created by an apply that was interrupted before it committed; %s adopts it.", d.Topic.Name, addr)
	}
}

// ignoreChanges keeps the prior value of the attributes a lifecycle block
// ignores.
func (pl *planner) ignoreChanges() {
	for addr, d := range pl.desired {
		lc := pl.decls[addr].lifecycle
		prior, ok := pl.prior[addr]
		if !ok || (!lc.IgnoreAll && len(lc.IgnoreChanges) == 0) || prior.Kind != d.Kind {
			continue
		}
		if lc.IgnoreAll {
			kept := *prior
			kept.Address = addr
			pl.desired[addr] = &kept
			continue
		}
		pl.desired[addr] = withIgnored(d, prior, lc.IgnoreChanges)
	}
}

// withIgnored returns a copy of d with the ignored attributes taken from
// prior.
func withIgnored(d, prior *control.Resource, ignored []string) *control.Resource {
	out := *d
	if d.Kind == control.KindTopic {
		t, pt := *d.Topic, prior.Topic
		for _, path := range ignored {
			name, mapKey, hasKey := splitIgnored(path)
			switch name {
			case "name":
				t.Name = pt.Name
			case "partitions":
				t.Partitions = pt.Partitions
			case "replication_factor":
				t.ReplicationFactor = pt.ReplicationFactor
			case "config":
				if !hasKey {
					t.Config = pt.Config
					continue
				}
				cfg := map[string]string{}
				for k, v := range t.Config {
					cfg[k] = v
				}
				if v, ok := pt.Config[mapKey]; ok {
					cfg[mapKey] = v
				} else {
					delete(cfg, mapKey)
				}
				t.Config = cfg
			}
		}
		out.Topic = &t
		return &out
	}
	p, pp := *d.Pipeline, prior.Pipeline
	p.Config = map[string]any{}
	for k, v := range d.Pipeline.Config {
		p.Config[k] = v
	}
	for _, path := range ignored {
		name, mapKey, hasKey := splitIgnored(path)
		switch name {
		case "tasks":
			p.Tasks = pp.Tasks
		case "state", "paused":
			p.Paused, p.Stopped = pp.Paused, pp.Stopped
		case "delivery":
			p.Delivery = pp.Delivery
		case "transforms":
			p.Transforms = pp.Transforms
		case "key_converter":
			p.KeyConverter = pp.KeyConverter
		case "value_converter":
			p.ValueConverter = pp.ValueConverter
		case "errors":
			p.Errors = pp.Errors
		case "topics":
			p.Topics = pp.Topics
		case "topics_regex":
			p.TopicsRegex = pp.TopicsRegex
		case "start_from":
			p.StartFrom = pp.StartFrom
		case "commit_interval":
			p.CommitInterval = pp.CommitInterval
		default:
			pv, had := pp.Config[name]
			switch {
			case hasKey:
				m := map[string]any{}
				if cur, ok := p.Config[name].(map[string]string); ok {
					for k, v := range cur {
						m[k] = v
					}
				} else if cur, ok := p.Config[name].(map[string]any); ok {
					for k, v := range cur {
						m[k] = v
					}
				}
				if pm, ok := pv.(map[string]any); ok && pm[mapKey] != nil {
					m[mapKey] = pm[mapKey]
				} else {
					delete(m, mapKey)
				}
				p.Config[name] = m
			case had:
				p.Config[name] = pv
			default:
				delete(p.Config, name)
			}
		}
	}
	out.Pipeline = &p
	return &out
}

// splitIgnored splits config["retention.ms"] into config and the key.
func splitIgnored(path string) (name, key string, hasKey bool) {
	i := strings.IndexByte(path, '[')
	if i < 0 {
		return path, "", false
	}
	k, err := strconv.Unquote(strings.TrimSuffix(path[i+1:], "]"))
	if err != nil {
		return path[:i], "", false
	}
	return path[:i], k, true
}

// matches reports whether an address is, or is an instance of, the
// address given on the command line.
func matches(addr, arg string) bool {
	return addr == arg || blockAddr(addr) == arg
}

func blockAddr(addr string) string {
	if i := strings.IndexByte(addr, '['); i >= 0 {
		return addr[:i]
	}
	return addr
}

// checkAddresses checks -replace and -target.
func (pl *planner) checkAddresses() {
	known := func(arg string) bool {
		for addr := range pl.desired {
			if matches(addr, arg) {
				return true
			}
		}
		for addr := range pl.prior {
			if matches(addr, arg) {
				return true
			}
		}
		for addr := range pl.decls {
			if matches(addr, arg) {
				return true
			}
		}
		return false
	}
	all := append(sortedKeys(pl.decls), sortedKeys(pl.prior)...)
	for _, arg := range pl.in.Targets {
		if !known(arg) {
			pl.errorf(nil, "No such resource", "-target=%s names no resource of the configuration or the state.%s", arg, configschema.DidYouMean(arg, all))
		}
	}
	if pl.in.Destroy {
		return
	}
	for _, arg := range pl.in.Replace {
		found := false
		for addr := range pl.desired {
			if addr == arg {
				found = true
				if _, exists := pl.prior[addr]; !exists {
					pl.errorf(pl.declRange(addr), "Nothing to replace", "-replace=%s names a resource that does not exist yet: plan creates it anyway.", arg)
				}
			}
		}
		if !found {
			pl.errorf(nil, "No such resource", "-replace=%s names no resource of the configuration; give the address of one instance, e.g. topic.orders or source.file.logs[\"eu\"].%s", arg, configschema.DidYouMean(arg, all))
		}
	}
}

func (pl *planner) newChange(addr string, before, after *control.Resource) *plan.Change {
	c := &plan.Change{Address: addr, Before: before, After: after}
	r := after
	if r == nil {
		r = before
	}
	if d, ok := pl.decls[addr]; ok {
		c.Kind, c.Type, c.Name = d.kind, d.typ, d.name
		if c.IsTopic() {
			c.Name = topicLabel(addr)
		}
		return c
	}
	c.Kind, c.Type, c.Name = kindOf(r)
	return c
}

// kindOf reads kind, type and name from a resource and its address.
func kindOf(r *control.Resource) (kind, typ, name string) {
	base := blockAddr(r.Address)
	if r.Kind == control.KindTopic && plan.IsDeadLetterAddress(r.Address) && r.Topic != nil {
		return "topic", "", r.Topic.Name
	}
	if r.Kind == control.KindTopic {
		return plan.KindTopic, "", topicLabel(r.Address)
	}
	parts := strings.SplitN(base, ".", 3)
	if len(parts) == 3 {
		return parts[0], parts[1], parts[2]
	}
	return string(r.Pipeline.Kind), r.Pipeline.Type, base
}

func topicLabel(addr string) string { return strings.TrimPrefix(blockAddr(addr), "topic.") }

// diff decides the action of every resource.
func (pl *planner) diff() {
	addrs := map[string]bool{}
	for a := range pl.desired {
		addrs[a] = true
	}
	for a := range pl.prior {
		addrs[a] = true
	}
	for a := range pl.gone {
		addrs[a] = true
	}
	replace := map[string]bool{}
	for _, a := range pl.in.Replace {
		replace[a] = true
	}
	for _, addr := range sortedKeys(addrs) {
		d, pr := pl.desired[addr], pl.prior[addr]
		c := pl.newChange(addr, pr, d)
		c.PrevAddress = pl.prev[addr]
		c.ImportID = pl.imports[addr]
		switch {
		case pr == nil && d == nil:
			// Deleted outside pipectl and no longer wanted: only the
			// state forgets it.
			gone := pl.gone[addr]
			c.Before = gone
			c.Action = plan.Delete
			if !pl.in.Destroy {
				c.Reason = plan.ReasonNoConfig
			}
			c.Attrs, c.Hidden, _ = diffAttrs(gone, nil, nil)
			c.Warnings = append(c.Warnings, fmt.Sprintf("The Kafka topic %q was already deleted outside pipectl; apply removes %s from the state.", gone.Topic.Name, addr))
		case pr == nil:
			c.Action = plan.Create
			c.Attrs, c.Hidden, _ = diffAttrs(nil, d, nil)
			pl.checkCreate(c, d)
		case d == nil:
			c.Action = plan.Delete
			if !pl.in.Destroy {
				c.Reason = plan.ReasonNoConfig
			}
			c.Attrs, c.Hidden, _ = diffAttrs(pr, nil, nil)
			if c.IsTopic() {
				c.Warnings = append(c.Warnings, fmt.Sprintf("Destroying %s deletes the Kafka topic %q and every record in it.", addr, pr.Topic.Name))
			} else {
				c.Offsets = plan.OffsetsDeleted
			}
			pl.checkPreventDestroy(c)
		case pr.Kind != d.Kind:
			c.Action = plan.Replace
			c.Reason = plan.ReasonCannotUpdate
			c.Attrs, c.Hidden, c.ReplacePaths = diffAttrs(pr, d, func([]string) bool { return true })
		default:
			pr = pl.withNewDefaults(pr, d)
			pl.update(c, pr, d, replace[addr])
			if c.Action == plan.NoOp && (c.Moved() || c.Importing()) {
				c.Attrs, c.Hidden, _ = diffAttrs(pr, d, nil)
			}
		}
		pl.taskPaths(c)
		if !c.IsTopic() {
			switch {
			case c.Action == plan.Replace:
				c.Offsets = plan.OffsetsReset
			case c.Action == plan.Create || c.Action == plan.Delete:
			case c.Moved():
				c.Offsets = plan.OffsetsMoved
			case c.Action == plan.Update:
				c.Offsets = plan.OffsetsKept
			}
		}
		pl.p.Changes = append(pl.p.Changes, c)
	}
}

// withNewDefaults returns pr, a pipeline of the state, with the
// attributes its plugin and converters gained since it was stored filled
// in, where the configuration d leaves them at their defaults: a pipectl
// that adds an attribute with a default does not show every pipeline of its
// type as changed, nor restart their tasks.
func (pl *planner) withNewDefaults(pr, d *control.Resource) *control.Resource {
	if pr.Kind != control.KindPipeline || pr.Pipeline == nil || d.Pipeline == nil || pl.in.Plugins == nil {
		return pr
	}
	p, dp := *pr.Pipeline, d.Pipeline
	changed := false
	fill := func(kind configschema.Kind, typ string, old, now map[string]any) map[string]any {
		schema, ok := pl.in.Plugins.Schema(kind, typ)
		if !ok {
			return old
		}
		var out map[string]any
		for _, a := range schema.Attributes {
			v, set := now[a.Name]
			if _, had := old[a.Name]; had || !set || a.Default == nil || !jsonEqual(v, a.Default) {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(old)+1)
				maps.Copy(out, old)
			}
			out[a.Name] = v
		}
		if out == nil {
			return old
		}
		changed = true
		return out
	}
	if p.Type == dp.Type {
		p.Config = fill(p.Kind, p.Type, p.Config, dp.Config)
	}
	for _, c := range []struct{ old, now *control.ConverterSpec }{{&p.KeyConverter, &dp.KeyConverter}, {&p.ValueConverter, &dp.ValueConverter}} {
		if c.old.Type == c.now.Type && c.old.Type != "" {
			c.old.Config = fill(configschema.Converter, c.old.Type, c.old.Config, c.now.Config)
		}
	}
	if !changed {
		return pr
	}
	out := *pr
	out.Pipeline = &p
	return &out
}

// jsonEqual reports whether two values encode to the same JSON: a stored
// value (a float64 from JSON) and a schema default (an int64) alike.
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// update compares a resource that exists in both.
func (pl *planner) update(c *plan.Change, pr, d *control.Resource, byRequest bool) {
	same := bytes.Equal(specJSON(pr), specJSON(d))
	if same && !byRequest {
		c.Action = plan.NoOp
		return
	}
	forces := pl.forces(pr, d)
	c.Attrs, c.Hidden, c.ReplacePaths = diffAttrs(pr, d, forces)
	switch {
	case len(c.ReplacePaths) > 0:
		c.Action, c.Reason = plan.Replace, plan.ReasonCannotUpdate
	case byRequest:
		c.Action, c.Reason = plan.Replace, plan.ReasonByRequest
	default:
		// The specs differ, so the state changes even in the unlikely
		// case that no displayed attribute does.
		c.Action = plan.Update
	}
	if c.IsTopic() {
		if c.Action == plan.Replace {
			if pr.Topic.Name != d.Topic.Name {
				c.Warnings = append(c.Warnings, fmt.Sprintf("Renaming a topic replaces it: the Kafka topic %q and every record in it are deleted, and %q is created empty.", pr.Topic.Name, d.Topic.Name))
				pl.checkCreate(c, d)
			} else {
				c.Warnings = append(c.Warnings, fmt.Sprintf("Replacing %s deletes the Kafka topic %q and every record in it, then creates it again, empty.", c.Address, d.Topic.Name))
			}
		} else if d.Topic.Partitions < pr.Topic.Partitions {
			where := "the state"
			if pl.p.Refreshed {
				where = "Kafka"
			}
			pl.errorf(pl.declRange(c.Address), "Cannot reduce partitions",
				"%s has %d partitions in %s and the configuration asks for %d, but Kafka can only add partitions. Set partitions = %d, or replace the topic, which deletes its records, with -replace=%s.",
				c.Address, pr.Topic.Partitions, where, d.Topic.Partitions, pr.Topic.Partitions, c.Address)
		}
	}
	if c.Action == plan.Replace {
		pl.checkPreventDestroy(c)
	}
}

// forces returns the function that says which changed attributes force a
// replacement: a topic's name, its replication factor (which Kafka cannot
// change in place), and pipeline attributes that their plugin's schema
// marks.
func (pl *planner) forces(pr, d *control.Resource) func([]string) bool {
	if d.Kind == control.KindTopic {
		return func(path []string) bool {
			switch path[0] {
			case "name":
				return true
			case "replication_factor":
				return pl.rfForces(pr.Topic, d.Topic)
			}
			return false
		}
	}
	var schema *configschema.Schema
	if pl.in.Plugins != nil {
		schema, _ = pl.in.Plugins.Schema(d.Pipeline.Kind, d.Pipeline.Type)
	}
	return func(path []string) bool {
		if schema == nil || len(path) < 2 || path[0] != "config" {
			return false
		}
		for _, a := range schema.Attributes {
			if a.Name == path[1] {
				return a.ForcesReplacement
			}
		}
		return false
	}
}

// rfForces decides whether a replication factor change needs a new topic:
// -1 means the broker's default, so going to -1 changes only the state, and
// going from -1 to the number the topic already has does too.
func (pl *planner) rfForces(pr, d *control.TopicSpec) bool {
	switch {
	case d.ReplicationFactor == -1:
		return false
	case pr.ReplicationFactor == -1:
		if pl.in.Live == nil {
			return true
		}
		lt, ok := pl.in.Live.Topics[pr.Name]
		return !ok || lt.ReplicationFactor != d.ReplicationFactor
	}
	return pr.ReplicationFactor != d.ReplicationFactor
}

// checkCreate refuses to create a topic that exists but that the state
// does not know.
func (pl *planner) checkCreate(c *plan.Change, d *control.Resource) {
	if d.Kind != control.KindTopic || pl.in.Live == nil {
		return
	}
	if _, exists := pl.in.Live.Topics[d.Topic.Name]; !exists {
		return
	}
	if owner := pl.topicOwner(d.Topic.Name); owner != "" && owner != c.Address {
		pl.errorf(pl.declRange(c.Address), "Topic already managed",
			"%s names the topic %q, which %s already manages. Two resources cannot manage one topic.", c.Address, d.Topic.Name, owner)
		return
	}
	if c.IsDeadLetter() {
		pl.errorf(nil, "Topic already exists",
			"The dead-letter topic %q exists in Kafka but pipectl's state does not know it, and no pipeline of the state names it: it is not pipectl's, so %s cannot create it. To manage the existing topic, declare it as a topic block and add an import block:\n\ntopic \"dead_letter\" {\n  name = %q\n}\n\nimport {\n  to = topic.dead_letter\n  id = %q\n}\n\nor choose another dead_letter_topic.",
			d.Topic.Name, c.Address, d.Topic.Name, d.Topic.Name)
		return
	}
	pl.errorf(pl.declRange(c.Address), "Topic already exists",
		"The topic %q exists in Kafka but pipectl's state does not know it, so %s cannot create it. To manage the existing topic, add an import block:\n\nimport {\n  to = %s\n  id = %q\n}\n\nor choose another name.",
		d.Topic.Name, c.Address, c.Address, d.Topic.Name)
}

// checkPreventDestroy refuses to destroy or replace a protected resource.
func (pl *planner) checkPreventDestroy(c *plan.Change) {
	d, ok := pl.decls[c.Address]
	if !ok || !d.lifecycle.PreventDestroy {
		return
	}
	rng := d.lifecycle.DeclRange
	pl.errorf(&rng, "Instance cannot be destroyed",
		"%s has lifecycle.prevent_destroy set, but the plan calls for it to be %s. To continue, disable prevent_destroy, or narrow the plan with -target.",
		c.Address, map[plan.Action]string{plan.Delete: "destroyed", plan.Replace: "replaced"}[c.Action])
}

// target keeps only the changes of the targeted resources and of the
// topics they use.
func (pl *planner) target() {
	if len(pl.in.Targets) == 0 {
		return
	}
	wanted := map[string]bool{}
	for _, c := range pl.p.Changes {
		for _, t := range pl.in.Targets {
			if matches(c.Address, t) || (c.PrevAddress != "" && matches(c.PrevAddress, t)) {
				wanted[c.Address] = true
			}
		}
	}
	// The dead-letter topics of targeted pipelines, which they need.
	for _, c := range pl.p.Changes {
		if wanted[c.Address] {
			for _, dl := range deadLetterOf(c) {
				wanted[dl] = wanted[dl] || pl.desired[dl] != nil
			}
		}
	}
	// Dependencies: what the targeted blocks refer to, transitively.
	blocks := map[string]bool{}
	for addr := range wanted {
		blocks[blockAddr(addr)] = true
	}
	for changed := true; changed; {
		changed = false
		for _, e := range pl.in.Config.Graph.Edges {
			if blocks[e.From] && !blocks[e.To] && isResourceBlock(e.To) {
				blocks[e.To] = true
				changed = true
			}
		}
	}
	var kept []*plan.Change
	for _, c := range pl.p.Changes {
		if wanted[c.Address] || (blocks[blockAddr(c.Address)] && c.Action != plan.Delete) {
			kept = append(kept, c)
		}
	}
	pl.p.Changes = kept
	pl.note(plan.NoteTargeting, "", "Resource targeting is in effect: the plan holds only %s and what they use, so it may not bring the whole fleet to the configuration. Use -target only for exceptional situations, such as recovering from errors.", strings.Join(pl.in.Targets, ", "))
}

func isResourceBlock(addr string) bool {
	return strings.HasPrefix(addr, "topic.") || strings.HasPrefix(addr, "source.") || strings.HasPrefix(addr, "sink.")
}

// statusNotes reports operational pauses and failed tasks.
func (pl *planner) statusNotes() {
	if pl.in.Live == nil || pl.in.Live.Status == nil {
		return
	}
	sv := pl.in.Live.Status
	for _, c := range pl.p.Changes {
		if c.IsTopic() || c.Action == plan.Delete {
			continue
		}
		statusAddr := c.Address
		if c.Moved() {
			statusAddr = c.PrevAddress
		}
		if t, ok := sv.Targets[statusAddr]; ok && t.Paused {
			by := ""
			if t.By != "" {
				by = " by " + t.By
			}
			kind, word, what := plan.NotePaused, "paused", "pause"
			if t.Stopped {
				kind, word, what = plan.NoteStopped, "stopped", "stop"
			}
			pl.note(kind, c.Address, "%s is %s (operational %s since %s%s). Apply keeps it %s; run \"pipectl resume %s\" to resume it.",
				c.Address, word, what, t.Time.UTC().Format("2006-01-02 15:04:05 UTC"), by, word, c.Address)
		}
		if c.Action != plan.NoOp {
			continue
		}
		tasks := sv.Tasks[statusAddr]
		for _, id := range slices.Sorted(maps.Keys(tasks)) {
			if ts := tasks[id]; ts.State == control.Failed {
				trace, _, _ := strings.Cut(ts.Trace, "\n")
				pl.note(plan.NoteFailed, c.Address, "Task %d of %s is FAILED on worker %s: %s", id, c.Address, ts.WorkerID, trace)
			}
		}
	}
}

// ConfigHash identifies a configuration by the names and contents of its
// files: "sha256:" and the hex digest.
func ConfigHash(cfg *lang.Config) string {
	names := make([]string, 0, len(cfg.Files))
	for n := range cfg.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.Base(n), len(cfg.Files[n].Bytes))
		h.Write(cfg.Files[n].Bytes)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// groupImports plans the import blocks with consumer_group: a sink created
// by this plan starts from the group's committed offsets, which apply
// copies to the sink's own group before its tasks start; into a sink that
// exists already the block does nothing, and a note says so.
func (pl *planner) groupImports() {
	changes := map[string]*plan.Change{}
	for _, c := range pl.p.Changes {
		changes[c.Address] = c
	}
	for _, imp := range pl.in.Config.Imports {
		if imp.ConnectOffsetsTopic != "" {
			pl.connectImport(imp, changes[imp.To])
			continue
		}
		if imp.ConsumerGroup == "" {
			continue
		}
		c := changes[imp.To]
		if c == nil || c.PipelineKind() != configschema.Sink {
			continue
		}
		if c.Action != plan.Create {
			pl.note(plan.NoteImportIgnored, imp.To,
				"The import block from consumer group %q does nothing: %s exists, and it keeps its own group's offsets. Remove the import block.", imp.ConsumerGroup, imp.To)
			continue
		}
		c.Offsets = plan.OffsetsImported
		c.OffsetsFrom = &plan.GroupOffsets{Group: imp.ConsumerGroup}
		if pl.in.Live == nil {
			continue // -refresh=false: apply reads them
		}
		c.OffsetsFrom.Partitions = pl.in.Live.GroupOffsets[imp.ConsumerGroup]
		if len(c.OffsetsFrom.Partitions) == 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf("The consumer group %q has no committed offsets: the sink starts at start_from unless it has some when apply runs.", imp.ConsumerGroup))
		}
	}
}

// connectImport plans an import block with connect_offsets_topic: a source
// created by this plan starts from the offsets the Kafka Connect connector
// saved, mapped to its type's (connectOffsetMaps), which apply saves
// before its tasks start.
func (pl *planner) connectImport(imp *lang.Import, c *plan.Change) {
	if c == nil || c.PipelineKind() != configschema.Source {
		return
	}
	if c.Action != plan.Create {
		pl.note(plan.NoteImportIgnored, imp.To,
			"The import block from Kafka Connect's offsets topic %q does nothing: %s exists, and it keeps its own offsets. Remove the import block.", imp.ConnectOffsetsTopic, imp.To)
		return
	}
	if _, ok := connectOffsetMaps[c.Type]; !ok {
		pl.errorf(ptr(imp.DeclRange), "Cannot import Kafka Connect offsets",
			"The offsets of a Kafka Connect connector do not map onto a %q source: only file (FileStreamSource), kafka (MirrorSourceConnector) and postgres_cdc (Debezium's PostgresConnector) sources import them. Remove connect_offsets_topic and connector.", c.Type)
		return
	}
	c.Offsets = plan.OffsetsImported
	c.ConnectOffsetsFrom = &plan.ConnectOffsets{Topic: imp.ConnectOffsetsTopic, Connector: imp.Connector}
	if pl.in.Live == nil {
		return // -refresh=false: apply reads them
	}
	offs, skipped, _ := mapConnectOffsets(c.Type, c.After.Pipeline.Config, pl.in.Live.ConnectOffsets[connectKey(imp.ConnectOffsetsTopic, imp.Connector)])
	c.ConnectOffsetsFrom.Offsets = offs
	if skipped > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%d offsets of the Kafka Connect connector %q do not have the shape a %s source's come from and are left out.", skipped, imp.Connector, c.Type))
	}
	if len(offs) == 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("Kafka Connect's offsets topic %q holds no offsets of the connector %q: the source starts as a new one unless it has some when apply runs.", imp.ConnectOffsetsTopic, imp.Connector))
	}
}
