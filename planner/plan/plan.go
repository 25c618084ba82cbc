package plan

import (
	"fmt"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/control"
)

// Action is what a plan does to one resource.
type Action uint8

// The actions. Replace destroys the resource and creates it again.
const (
	NoOp Action = iota
	Create
	Update
	Replace
	Delete
)

var actionNames = [...]string{NoOp: "no-op", Create: "create", Update: "update", Replace: "replace", Delete: "delete"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", a)
}

// Symbol is the action's mark in a plan: "+", "~", "-/+", "-", or " "
// for no change.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	}
	return " "
}

// Actions is the action as Terraform's JSON action list: ["create"],
// ["update"], ["delete","create"], ["delete"] or ["no-op"].
func (a Action) Actions() []string {
	switch a {
	case Create:
		return []string{"create"}
	case Update:
		return []string{"update"}
	case Replace:
		return []string{"delete", "create"}
	case Delete:
		return []string{"delete"}
	}
	return []string{"no-op"}
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an action's name.
func (a *Action) UnmarshalText(b []byte) error {
	for i, n := range actionNames {
		if n == string(b) {
			*a = Action(i)
			return nil
		}
	}
	return fmt.Errorf("unknown plan action %q", b)
}

// Reason says why a resource is replaced or deleted, with Terraform's
// names for action_reason.
type Reason string

// The reasons.
const (
	ReasonNone         Reason = ""
	ReasonCannotUpdate Reason = "replace_because_cannot_update"
	ReasonByRequest    Reason = "replace_by_request"
	ReasonNoConfig     Reason = "delete_because_no_resource_config"
)

// Offsets says what happens to a pipeline's offsets (source offsets, or a
// sink's consumer group offsets).
type Offsets string

// What happens to offsets.
const (
	OffsetsNone    Offsets = ""        // not a pipeline, or a new one
	OffsetsKept    Offsets = "kept"    // updated in place
	OffsetsMoved   Offsets = "moved"   // moved to the new address with the pipeline
	OffsetsReset   Offsets = "reset"   // replaced: the new pipeline starts over
	OffsetsDeleted Offsets = "deleted" // deleted with the pipeline
	// OffsetsImported: a new sink starts from another consumer group's
	// committed offsets (an import block with consumer_group; OffsetsFrom).
	OffsetsImported Offsets = "imported"
)

// Plan is the result of planning: the changes that bring the fleet to the
// configuration, in the order apply makes them.
type Plan struct {
	// Fleet names the fleet planned for.
	Fleet string `json:"fleet"`
	// Serial is the state serial planned against: apply refuses the
	// plan when the state has moved since.
	Serial int64 `json:"serial"`
	// ConfigHash identifies the configuration files planned from.
	ConfigHash string `json:"config_hash"`
	// Destroy is set for a destroy plan (plan -destroy, pipectl destroy).
	Destroy bool `json:"destroy,omitempty"`
	// Refreshed says live objects (topics, pipeline status) were read;
	// false with -refresh=false.
	Refreshed bool     `json:"refreshed"`
	Targets   []string `json:"targets,omitempty"`
	Replace   []string `json:"replace,omitempty"`
	// Changes holds one entry per resource of the configuration or the
	// state, no-ops included, in apply order: topics that are created,
	// updated or replaced; then pipelines, deletions first; then the
	// topics that are deleted.
	Changes []*Change `json:"changes"`
	// Drift is what changed outside pipectl since the last apply: the
	// state's view (Before) against the live one (After).
	Drift []*Change `json:"drift,omitempty"`
	Notes []Note    `json:"notes,omitempty"`
}

// Change is the plan for one resource.
type Change struct {
	Address string `json:"address"`
	// PrevAddress is set when a moved block moves the resource here.
	PrevAddress string `json:"previous_address,omitempty"`
	Kind        string `json:"kind"` // KindTopic, or a pipeline's configschema.Kind: "source" or "sink"
	Type        string `json:"type,omitempty"`
	Name        string `json:"name"`
	Action      Action `json:"action"`
	Reason      Reason `json:"reason,omitempty"`
	// ImportID is set when the resource adopts an existing topic.
	ImportID string `json:"import_id,omitempty"`
	// Before and After are the resource in state and as it will be;
	// nil where it does not exist. Sensitive values are sealed.
	Before *control.Resource `json:"before,omitempty"`
	After  *control.Resource `json:"after,omitempty"`
	// Attrs are the attributes to show: all of them for a creation or
	// deletion; for an update or replacement, those that change plus
	// the identifying ones.
	Attrs []Attr `json:"attrs,omitempty"`
	// Hidden counts the unchanged attributes Attrs leaves out.
	Hidden int `json:"hidden,omitempty"`
	// ReplacePaths are the JSON paths (in Before/After) of the
	// attributes that force the replacement.
	ReplacePaths [][]string `json:"replace_paths,omitempty"`
	Offsets      Offsets    `json:"offsets,omitempty"`
	// OffsetsFrom is set with OffsetsImported: the consumer group whose
	// offsets apply copies to the new sink's group before it starts.
	OffsetsFrom *GroupOffsets `json:"offsets_from,omitempty"`
	// ConnectOffsetsFrom is set with OffsetsImported on a new source: the
	// Kafka Connect offsets apply copies to it before it starts.
	ConnectOffsetsFrom *ConnectOffsets `json:"connect_offsets_from,omitempty"`
	Warnings           []string        `json:"warnings,omitempty"`
}

// GroupOffsets are the committed offsets of a consumer group, as plan read
// them (Partitions is nil when plan could not read them: -refresh=false).
type GroupOffsets struct {
	Group      string            `json:"group"`
	Partitions []PartitionOffset `json:"partitions,omitempty"`
}

// ConnectOffsets are the source offsets a Kafka Connect connector saved in
// Connect's offsets topic, mapped to the pipectl source's (Offsets is nil
// when plan did not read them: -refresh=false).
type ConnectOffsets struct {
	Topic     string                 `json:"topic"`
	Connector string                 `json:"connector"`
	Offsets   []control.SourceOffset `json:"offsets,omitempty"`
}

// PartitionOffset is a consumer group's committed offset in one partition:
// the next record it reads.
type PartitionOffset struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
}

// Moved reports whether a moved block moves the resource.
func (c *Change) Moved() bool { return c.PrevAddress != "" }

// Importing reports whether the resource adopts an existing topic.
func (c *Change) Importing() bool { return c.ImportID != "" }

// Pending reports whether apply has anything to do for the resource: an
// action, a move or an import (which write the state).
func (c *Change) Pending() bool { return c.Action != NoOp || c.Moved() || c.Importing() }

// KindTopic is the Kind of a topic's change.
const KindTopic = "topic"

// IsTopic reports whether the resource is a topic.
func (c *Change) IsTopic() bool { return c.Kind == KindTopic }

// PipelineKind is the kind of a pipeline's change: configschema.Source or
// configschema.Sink. It is "" for a topic.
func (c *Change) PipelineKind() configschema.Kind {
	if c.IsTopic() {
		return ""
	}
	return configschema.Kind(c.Kind)
}

// Attr is one attribute of a change, by its display path: partitions,
// config["retention.ms"], rate, transform.mask_pii.filter.
type Attr struct {
	Path   string `json:"path"`
	Before *Value `json:"before,omitempty"` // nil: absent
	After  *Value `json:"after,omitempty"`  // nil: absent
	// ForcesReplacement marks the attributes that force a replacement.
	ForcesReplacement bool `json:"forces_replacement,omitempty"`
	// Note says what the value means where that is not the value itself
	// (the files the tasks of a file sink write); "" when nothing.
	Note string `json:"note,omitempty"`
}

// Changed reports whether the attribute's value changes.
func (a Attr) Changed() bool { return !a.Before.Equal(a.After) }

// Value is an attribute's value: a plain JSON value (string, float64,
// bool, []any, map[string]any), or a sensitive value, which carries only
// the fact that it is sensitive and a digest to compare it with
// (the HMAC or reference of its sealed form), never the value.
type Value struct {
	V         any    `json:"value,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
	Digest    string `json:"digest,omitempty"`
}

// Equal compares two values; nil means absent.
func (v *Value) Equal(o *Value) bool {
	switch {
	case v == nil || o == nil:
		return v == nil && o == nil
	case v.Sensitive || o.Sensitive:
		return v.Sensitive && o.Sensitive && v.Digest == o.Digest
	}
	return equalJSON(v.V, o.V)
}

func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], bl[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(a) != len(bm) {
			return false
		}
		for k, av := range a {
			bv, ok := bm[k]
			if !ok || !equalJSON(av, bv) {
				return false
			}
		}
		return true
	}
	return a == b
}

// NoteKind classifies a note.
type NoteKind string

// The notes a plan carries. None of them is a change.
const (
	NotePaused    NoteKind = "paused"    // an operational pause (pipectl pause)
	NoteStopped   NoteKind = "stopped"   // an operational stop (pipectl stop)
	NoteFailed    NoteKind = "failed"    // a task of an unchanged pipeline is FAILED
	NoteTargeting NoteKind = "targeting" // -target: the plan may be partial
	NoteNoRefresh NoteKind = "no_refresh"
	NoteAdopted   NoteKind = "adopted" // a topic an interrupted apply created
	NoteMoved     NoteKind = "moved"   // a moved block that does nothing
	// NoteDeadLetter: a dead-letter topic that no topic block declares
	// is created or adopted as a resource of its own.
	NoteDeadLetter NoteKind = "dead_letter"
	// NoteImportIgnored: an import block with consumer_group into a sink
	// that already exists does nothing.
	NoteImportIgnored NoteKind = "import_ignored"
)

// Note is something a reviewer should know that is not a change.
type Note struct {
	Kind    NoteKind `json:"kind"`
	Address string   `json:"address,omitempty"`
	Message string   `json:"message"`
}

// Summary counts a plan's actions as its last line does.
type Summary struct {
	Add, Change, Replace, Destroy int
	// Move and Import count moves and imports without another action.
	Move, Import int
}

// Summary counts the plan's actions.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Replace:
			s.Replace++
		case Delete:
			s.Destroy++
		case NoOp:
			if c.Moved() {
				s.Move++
			}
			if c.Importing() {
				s.Import++
			}
		}
	}
	return s
}

// HasChanges reports whether applying the plan would change anything.
// Drift and notes alone are not changes.
func (p *Plan) HasChanges() bool {
	for _, c := range p.Changes {
		if c.Pending() {
			return true
		}
	}
	return false
}

// Pending returns the changes apply carries out, in order.
func (p *Plan) Pending() []*Change {
	var out []*Change
	for _, c := range p.Changes {
		if c.Pending() {
			out = append(out, c)
		}
	}
	return out
}

// Op is one operation apply makes outside the state, which its progress
// reports.
type Op uint8

// The operations.
const (
	OpCreate  Op = iota // create a topic
	OpModify            // add partitions to a topic or change its configs
	OpDestroy           // delete a topic
)
