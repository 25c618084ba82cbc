package schemaregistry

import (
	"encoding/json"
	"slices"
	"sort"

	"github.com/pipectl/pipectl/runtime/connector"
)

// The kinds of record of the schemas topic, the "kind" of its key.
const (
	kindClaim   = "claim"   // a registration: a version and id claimed for a schema
	kindVersion = "version" // the deletion state of one version of a subject
	kindConfig  = "config"  // a compatibility level, global or of a subject
	kindMode    = "mode"    // a mode, global or of a subject
)

// recordKey is the key of a record of the schemas topic, as JSON. A claim's
// key holds a random nonce, so that compaction never replaces one claim
// by another; the other kinds are keyed by what they set, so that
// compaction keeps the last setting.
type recordKey struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject,omitempty"`
	Version int    `json:"version,omitempty"`
	Nonce   string `json:"nonce,omitempty"`
}

// claimValue is the value of a claim record; a writer that lost withdraws
// its claim with an empty one ({}), which never wins.
type claimValue struct {
	Subject     string                 `json:"subject"`
	Version     int                    `json:"version"`
	ID          int                    `json:"id"`
	Type        connector.RegistryType `json:"schemaType,omitempty"`
	Schema      string                 `json:"schema"`
	References  []reference            `json:"references,omitempty"`
	Fingerprint string                 `json:"fingerprint"`
}

// reference is a connector.SchemaReference as JSON, in Confluent's names.
type reference struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// versionValue is the value of a version record: a soft or a hard
// (permanent) delete.
type versionValue struct {
	Deleted   bool `json:"deleted"`
	Permanent bool `json:"permanent,omitempty"`
}

// configValue is the value of a config record; an empty level removes
// the setting.
type configValue struct {
	Compatibility Compatibility `json:"compatibilityLevel"`
}

// modeValue is the value of a mode record; an empty mode removes it.
type modeValue struct {
	Mode Mode `json:"mode"`
}

// stored is one schema by its id.
type stored struct {
	id     int
	schema connector.RegistrySchema
	fp     string
	uses   int // versions (live or soft-deleted) that hold it
}

// version is one version of a subject.
type version struct {
	version   int
	id        int
	claim     string // the nonce of the claim that won it
	deleted   bool   // soft-deleted
	permanent bool   // hard-deleted: gone but for its number
}

// subject is a subject's versions, in version order.
type subject struct {
	versions []*version
	max      int // the highest version ever claimed, deleted or not
}

func (s *subject) find(v int) *version {
	i, ok := slices.BinarySearchFunc(s.versions, v, func(x *version, v int) int { return x.version - v })
	if !ok {
		return nil
	}
	return s.versions[i]
}

// live is the subject's versions that are neither hard-deleted nor, unless
// deleted, soft-deleted.
func (s *subject) live(deleted bool) []*version {
	var out []*version
	for _, v := range s.versions {
		if v.permanent || (v.deleted && !deleted) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// state is the registry's state machine: what the records of the schemas
// topic, applied in their order, make. Its rules depend only on the
// records (never on the time, the worker or this code's schema parsing),
// so that every worker, and every later version of pipectl, builds the
// same state from the same log.
type state struct {
	subjects map[string]*subject
	ids      map[int]*stored
	byFP     map[string]int // fingerprint → its id, for ever
	maxID    int
	config   map[string]Compatibility // "" is the global level
	mode     map[string]Mode          // "" is the global mode
	next     int64                    // the offset after the last applied record

	parsed map[int]*parsed // a cache of the schemas compared with, by id (not state)
}

func newState() *state {
	return &state{subjects: map[string]*subject{}, ids: map[int]*stored{}, byFP: map[string]int{},
		config: map[string]Compatibility{}, mode: map[string]Mode{}, parsed: map[int]*parsed{}}
}

// apply applies the record at offset. A record it cannot read is skipped:
// the log is written only by registries, and skipping the same record on
// every worker keeps them equal.
func (st *state) apply(offset int64, key, value []byte) {
	if offset >= st.next {
		st.next = offset + 1
	}
	var k recordKey
	if json.Unmarshal(key, &k) != nil {
		return
	}
	switch k.Kind {
	case kindClaim:
		var c claimValue
		if value == nil || json.Unmarshal(value, &c) != nil {
			return // unreadable
		}
		st.applyClaim(k.Nonce, c)
	case kindVersion:
		var v versionValue
		if value == nil || json.Unmarshal(value, &v) != nil {
			return
		}
		st.applyVersion(k.Subject, k.Version, v)
	case kindConfig:
		var c configValue
		if value == nil || json.Unmarshal(value, &c) != nil || c.Compatibility == "" {
			delete(st.config, k.Subject)
			return
		}
		st.config[k.Subject] = c.Compatibility
	case kindMode:
		var m modeValue
		if value == nil || json.Unmarshal(value, &m) != nil || m.Mode == "" {
			delete(st.mode, k.Subject)
			return
		}
		st.mode[k.Subject] = m.Mode
	}
}

// claimWins says whether claim c wins in the state before it. It wins when
// its version is the subject's next (one above every version ever
// claimed, so versions are dense and never reused) and its id is the
// schema's id if the schema has one, else the next id (one above every id
// ever given). Any two claims of the same version or id cannot both win:
// the first in the log moves the subject's next version and the next id.
//
// It reads only what earlier claims set. Claims have keys of their own
// that compaction never drops, while version records share a key per
// version, so compaction can drop a soft delete or move it after later
// claims (a hard delete replaces it); a rule that read deletions would
// judge the compacted log differently. So "the subject already holds this
// schema" is only the writer's check (prepare): a racing duplicate gets a
// second version with the same id, which is harmless.
func (st *state) claimWins(c claimValue) bool {
	if c.Subject == "" || c.Fingerprint == "" {
		return false
	}
	maxV := 0
	if sub := st.subjects[c.Subject]; sub != nil {
		maxV = sub.max
	}
	if c.Version != maxV+1 {
		return false
	}
	if id, ok := st.byFP[c.Fingerprint]; ok {
		return c.ID == id
	}
	return c.ID == st.maxID+1
}

func (st *state) applyClaim(nonce string, c claimValue) {
	if !st.claimWins(c) {
		return
	}
	sub := st.subjects[c.Subject]
	if sub == nil {
		sub = &subject{}
		st.subjects[c.Subject] = sub
	}
	sub.max = c.Version
	sub.versions = append(sub.versions, &version{version: c.Version, id: c.ID, claim: nonce})
	s := st.ids[c.ID]
	if s == nil {
		refs := make([]connector.SchemaReference, len(c.References))
		for i, r := range c.References {
			refs[i] = connector.SchemaReference{Name: r.Name, Subject: r.Subject, Version: r.Version}
		}
		s = &stored{id: c.ID, fp: c.Fingerprint, schema: connector.RegistrySchema{Type: c.Type, Schema: c.Schema, References: refs}}
		st.ids[c.ID] = s
		st.byFP[c.Fingerprint] = c.ID
		st.maxID = max(st.maxID, c.ID)
	}
	s.uses++
}

// applyVersion soft- or hard-deletes a version; a change to a
// hard-deleted one is ignored. A hard delete does not need the soft one
// before it in the log (the writer checked that it was soft-deleted
// first): both have the version's key, so compaction keeps only the hard
// one.
func (st *state) applyVersion(subj string, ver int, v versionValue) {
	sub := st.subjects[subj]
	if sub == nil {
		return
	}
	x := sub.find(ver)
	if x == nil || x.permanent {
		return
	}
	switch {
	case v.Permanent:
		x.deleted, x.permanent = true, true
		if s := st.ids[x.id]; s != nil {
			s.uses--
		}
	case v.Deleted:
		x.deleted = true
	}
}

// subjectNames is the subjects with a version, soft-deleted ones too when
// deleted, sorted.
func (st *state) subjectNames(deleted bool) []string {
	var out []string
	for name, sub := range st.subjects {
		if len(sub.live(deleted)) > 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// schema returns the schema with id, if a version still holds it.
func (st *state) schema(id int) *stored {
	s := st.ids[id]
	if s == nil || s.uses <= 0 {
		return nil
	}
	return s
}

// compatibility is subject's level: its own, else the global one, else
// BACKWARD.
func (st *state) compatibility(subj string) Compatibility {
	if c, ok := st.config[subj]; ok && subj != "" {
		return c
	}
	if c, ok := st.config[""]; ok {
		return c
	}
	return Backward
}

// modeOf is subject's mode: its own, else the global one, else READWRITE.
func (st *state) modeOf(subj string) Mode {
	if m, ok := st.mode[subj]; ok && subj != "" {
		return m
	}
	if m, ok := st.mode[""]; ok {
		return m
	}
	return ReadWrite
}
