package schemaregistry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/pipectl/pipectl/runtime/connector"
)

// log is where a registry's records go and come from: the schemas topic,
// or memory.
type log interface {
	// append writes a record (a nil value is a tombstone) and returns
	// its offset once it is durable. The record reaches the registry's
	// apply in offset order, in memory before append returns.
	append(ctx context.Context, key, value []byte) (int64, error)
	// end is the offset after the log's last record.
	end(ctx context.Context) (int64, error)
}

// maxClaimAttempts bounds how often one registration claims again after
// losing to a concurrent one.
const maxClaimAttempts = 100

// Registry is the fleet's Schema Registry on one worker: its copy of the
// state and the log it writes to. It implements connector.SchemaRegistry;
// Handler serves it over Confluent's REST API. It is safe for concurrent
// use.
type Registry struct {
	log log

	mu      sync.Mutex
	st      *state
	applied chan struct{} // closed and replaced at every applied record

	ready     chan struct{} // closed once the state holds the log as it was at start
	readyOnce sync.Once

	wmu sync.Mutex // one write of this worker at a time
}

var _ connector.SchemaRegistry = (*Registry)(nil)

func newRegistry(l log) *Registry {
	return &Registry{log: l, st: newState(), applied: make(chan struct{}), ready: make(chan struct{})}
}

// markReady says that the state has caught up with the log.
func (r *Registry) markReady() { r.readyOnce.Do(func() { close(r.ready) }) }

// Ready reports whether the registry has read its log up to where it
// ended when the registry started; until then Handler answers 503.
func (r *Registry) Ready() bool {
	select {
	case <-r.ready:
		return true
	default:
		return false
	}
}

// NewMemory returns a registry whose log is in memory: for offline runs
// and tests. Its state is lost with it.
func NewMemory() *Registry {
	m := &memLog{}
	r := newRegistry(m)
	m.r = r
	r.markReady()
	return r
}

type memLog struct {
	mu   sync.Mutex
	next int64
	r    *Registry
}

func (m *memLog) append(_ context.Context, key, value []byte) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	off := m.next
	m.next++
	m.r.apply(off, key, value)
	return off, nil
}

func (m *memLog) end(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next, nil
}

// apply applies one record of the log.
func (r *Registry) apply(offset int64, key, value []byte) {
	r.mu.Lock()
	r.st.apply(offset, key, value)
	close(r.applied)
	r.applied = make(chan struct{})
	r.mu.Unlock()
}

// waitApplied waits until the record at offset end-1 is applied.
func (r *Registry) waitApplied(ctx context.Context, end int64) error {
	for {
		r.mu.Lock()
		done, ch := r.st.next >= end, r.applied
		r.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return errorf(CodeOperationTimeout, nil, "Timed out reading the schemas log: %v", ctx.Err())
		}
	}
}

// sync waits until this copy holds every record written before the call.
func (r *Registry) sync(ctx context.Context) error {
	end, err := r.log.end(ctx)
	if err != nil {
		return storeError(err)
	}
	return r.waitApplied(ctx, end)
}

// read runs fn on the state; when fn fails with a not-found error it
// reads the log to its end and runs fn again, so that what another worker
// has just written is found. It is for answers that change only by a
// delete (a schema by id, a given version, a lookup): Go callers (the
// converters, on every record) take the copy's answer, which may still
// show a version another worker has just deleted. A request of the REST
// API (its context marked by withFresh) reads the log to its end first,
// so that it sees every write, deletes included, that finished before it.
func (r *Registry) read(ctx context.Context, fn func(st *state) error) error {
	if ctx.Value(freshKey{}) != nil {
		return r.readFresh(ctx, fn)
	}
	r.mu.Lock()
	err := fn(r.st)
	r.mu.Unlock()
	if err == nil || !errors.Is(err, connector.ErrSchemaNotFound) {
		return err
	}
	if serr := r.sync(ctx); serr != nil {
		return serr
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return fn(r.st)
}

type freshKey struct{}

// withFresh marks ctx so that every read catches up with the log first.
func withFresh(ctx context.Context) context.Context { return context.WithValue(ctx, freshKey{}, true) }

// readFresh reads the log to its end, then runs fn on the state: for
// answers that change as versions are added (lists, the latest version).
func (r *Registry) readFresh(ctx context.Context, fn func(st *state) error) error {
	if err := r.sync(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return fn(r.st)
}

// write appends a record and waits until this copy has applied it. It
// never writes a tombstone: compaction keeps the last record of every key,
// so without tombstones the record before the topic's end offset is never
// removed, and a reader that waits for it (sync) always finds it.
func (r *Registry) write(ctx context.Context, key recordKey, value any) (int64, error) {
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	off, err := r.log.append(ctx, k, v)
	if err != nil {
		return 0, storeError(err)
	}
	if err := r.waitApplied(ctx, off+1); err != nil {
		return 0, err
	}
	return off, nil
}

func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// deps returns the references of refs, transitively, in dependency order,
// each with the name it is referred to by.
func (st *state) deps(refs []connector.SchemaReference) ([]named, error) {
	var out []named
	seen := map[string]bool{}
	var walk func(refs []connector.SchemaReference, depth int) error
	walk = func(refs []connector.SchemaReference, depth int) error {
		if depth > maxRefDepth {
			return invalidSchema("Invalid schema: its references nest more than %d deep.", maxRefDepth)
		}
		for _, ref := range refs {
			if ref.Name == "" || ref.Subject == "" {
				return invalidSchema("Invalid schema: a reference needs a name and a subject.")
			}
			sub := st.subjects[ref.Subject]
			var v *version
			if sub != nil {
				if ref.Version == -1 {
					if l := sub.live(false); len(l) > 0 {
						v = l[len(l)-1]
					}
				} else {
					v = sub.find(ref.Version)
				}
			}
			if v == nil || v.permanent {
				return invalidSchema("Invalid schema: its reference %q names version %d of subject '%s', which is not registered.", ref.Name, ref.Version, ref.Subject)
			}
			key := fmt.Sprintf("%s\x00%d", ref.Subject, v.version)
			if seen[key] {
				continue
			}
			seen[key] = true
			s := st.ids[v.id]
			if err := walk(s.schema.References, depth+1); err != nil {
				return err
			}
			out = append(out, named{name: ref.Name, schema: s.schema})
		}
		return nil
	}
	return out, walk(refs, 0)
}

// parseIn parses s with its references as the state resolves them.
func (st *state) parseIn(s connector.RegistrySchema) (*parsed, error) {
	deps, err := st.deps(s.References)
	if err != nil {
		return nil, err
	}
	return parse(s, deps)
}

// previous parses the subject's live versions, oldest first.
func (st *state) previous(subj string) ([]*parsed, error) {
	sub := st.subjects[subj]
	if sub == nil {
		return nil, nil
	}
	var out []*parsed
	for _, v := range sub.live(false) {
		p := st.parsed[v.id]
		if p == nil {
			var err error
			if p, err = st.parseIn(st.ids[v.id].schema); err != nil {
				return nil, fmt.Errorf("version %d of subject '%s' does not parse any more: %w", v.version, subj, err)
			}
			// An id's schema and the versions it refers to never
			// change, so neither does what it parses to.
			st.parsed[v.id] = p
		}
		out = append(out, p)
	}
	return out, nil
}

func normalize(s connector.RegistrySchema) connector.RegistrySchema {
	t, _ := normType(s.Type)
	s.Type = t
	return s
}

func (st *state) subjectSchema(subj string, v *version) connector.SubjectSchema {
	return connector.SubjectSchema{Subject: subj, Version: v.version, ID: v.id, RegistrySchema: st.ids[v.id].schema}
}

// Register registers s under subject (see connector.SchemaRegistry).
func (r *Registry) Register(ctx context.Context, subj string, s connector.RegistrySchema) (connector.SubjectSchema, error) {
	if subj == "" {
		return connector.SubjectSchema{}, invalidSchema("Invalid subject: it is empty.")
	}
	s = normalize(s)
	fp := fingerprint(s)
	r.wmu.Lock()
	defer r.wmu.Unlock()
	for attempt := 0; attempt < maxClaimAttempts; attempt++ {
		if err := r.sync(ctx); err != nil {
			return connector.SubjectSchema{}, err
		}
		r.mu.Lock()
		claim, found, err := r.prepare(subj, s, fp)
		r.mu.Unlock()
		if err != nil || found != nil {
			if found != nil {
				return *found, nil
			}
			return connector.SubjectSchema{}, err
		}
		n := nonce()
		key := recordKey{Kind: kindClaim, Nonce: n}
		if _, err := r.write(ctx, key, claim); err != nil {
			return connector.SubjectSchema{}, err
		}
		r.mu.Lock()
		var won *connector.SubjectSchema
		if sub := r.st.subjects[subj]; sub != nil {
			if v := sub.find(claim.Version); v != nil && v.claim == n {
				ss := r.st.subjectSchema(subj, v)
				won = &ss
			}
		}
		r.mu.Unlock()
		if won != nil {
			return *won, nil
		}
		// Lost to a concurrent claim: withdraw this one (an empty
		// claim under its key, which compaction keeps instead of it; not
		// a tombstone, see write) and claim again.
		if _, err := r.write(ctx, key, struct{}{}); err != nil {
			return connector.SubjectSchema{}, err
		}
	}
	return connector.SubjectSchema{}, errorf(CodeOperationTimeout, nil, "Registering under subject '%s' lost to concurrent registrations %d times.", subj, maxClaimAttempts)
}

// prepare checks a registration in the current state and returns the
// claim to write, or the version that already holds the schema.
func (r *Registry) prepare(subj string, s connector.RegistrySchema, fp string) (claimValue, *connector.SubjectSchema, error) {
	st := r.st
	if sub := st.subjects[subj]; sub != nil {
		for _, v := range sub.live(false) {
			if st.ids[v.id].fp == fp {
				ss := st.subjectSchema(subj, v)
				return claimValue{}, &ss, nil
			}
		}
	}
	if m := st.modeOf(subj); m != ReadWrite {
		return claimValue{}, nil, errorf(CodeOperationNotPermitted, nil, "Subject '%s' is in %s mode: it takes no registrations.", subj, m)
	}
	p, err := st.parseIn(s)
	if err != nil {
		return claimValue{}, nil, err
	}
	prev, err := st.previous(subj)
	if err != nil {
		return claimValue{}, nil, storeError(err)
	}
	if msgs := checkLevel(st.compatibility(subj), p, prev); len(msgs) > 0 {
		return claimValue{}, nil, incompatible(subj, st.compatibility(subj), msgs)
	}
	c := claimValue{Subject: subj, Type: s.Type, Schema: s.Schema, Fingerprint: fp, Version: 1, ID: st.maxID + 1}
	if sub := st.subjects[subj]; sub != nil {
		c.Version = sub.max + 1
	}
	if id, ok := st.byFP[fp]; ok {
		c.ID = id
	}
	for _, ref := range s.References {
		c.References = append(c.References, reference(ref))
	}
	return c, nil, nil
}

func incompatible(subj string, level Compatibility, msgs []string) *Error {
	e := errorf(CodeIncompatible, connector.ErrIncompatibleSchema,
		"Schema being registered is incompatible with an earlier schema for subject '%s' under %s: %s", subj, level, msgs[0])
	if len(msgs) > 1 {
		e.Message += fmt.Sprintf(" (and %d more)", len(msgs)-1)
	}
	return e
}

// Lookup finds s under subject (see connector.SchemaRegistry).
func (r *Registry) Lookup(ctx context.Context, subj string, s connector.RegistrySchema) (connector.SubjectSchema, error) {
	return r.LookupDeleted(ctx, subj, s, false)
}

// LookupDeleted is Lookup that also finds soft-deleted versions when
// deleted is true.
func (r *Registry) LookupDeleted(ctx context.Context, subj string, s connector.RegistrySchema, deleted bool) (connector.SubjectSchema, error) {
	fp := fingerprint(normalize(s))
	var out connector.SubjectSchema
	err := r.read(ctx, func(st *state) error {
		sub := st.subjects[subj]
		if sub == nil || len(sub.live(deleted)) == 0 {
			return subjectNotFound(subj)
		}
		l := sub.live(deleted)
		for i := len(l) - 1; i >= 0; i-- {
			if st.ids[l[i].id].fp == fp {
				out = st.subjectSchema(subj, l[i])
				return nil
			}
		}
		return schemaNotFound("Schema not found under subject '%s'.", subj)
	})
	return out, err
}

// SchemaByID returns the schema with id (see connector.SchemaRegistry).
func (r *Registry) SchemaByID(ctx context.Context, id int) (connector.RegistrySchema, error) {
	var out connector.RegistrySchema
	err := r.read(ctx, func(st *state) error {
		s := st.schema(id)
		if s == nil {
			return schemaNotFound("Schema %d not found.", id)
		}
		out = s.schema
		return nil
	})
	return out, err
}

// Latest returns subject's latest live version (see
// connector.SchemaRegistry).
func (r *Registry) Latest(ctx context.Context, subj string) (connector.SubjectSchema, error) {
	return r.Version(ctx, subj, -1, false)
}

// Version returns version v of subject, its latest live one when v is -1;
// soft-deleted versions too when deleted.
func (r *Registry) Version(ctx context.Context, subj string, v int, deleted bool) (connector.SubjectSchema, error) {
	var out connector.SubjectSchema
	read := r.read
	if v == -1 {
		read = r.readFresh
	}
	err := read(ctx, func(st *state) error {
		sub := st.subjects[subj]
		if sub == nil || len(sub.live(true)) == 0 {
			return subjectNotFound(subj)
		}
		if v == -1 {
			l := sub.live(deleted)
			if len(l) == 0 {
				return subjectNotFound(subj)
			}
			out = st.subjectSchema(subj, l[len(l)-1])
			return nil
		}
		x := sub.find(v)
		if x == nil || x.permanent || (x.deleted && !deleted) {
			return versionNotFound(subj, v)
		}
		out = st.subjectSchema(subj, x)
		return nil
	})
	return out, err
}

// Subjects lists the subjects, soft-deleted ones too when deleted.
func (r *Registry) Subjects(ctx context.Context, deleted bool) ([]string, error) {
	if err := r.sync(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.subjectNames(deleted), nil
}

// Versions lists subject's version numbers.
func (r *Registry) Versions(ctx context.Context, subj string, deleted bool) ([]int, error) {
	var out []int
	err := r.readFresh(ctx, func(st *state) error {
		out = nil
		sub := st.subjects[subj]
		if sub == nil {
			return subjectNotFound(subj)
		}
		for _, v := range sub.live(deleted) {
			out = append(out, v.version)
		}
		if len(out) == 0 {
			return subjectNotFound(subj)
		}
		return nil
	})
	return out, err
}

// SubjectVersion is a subject and one of its versions.
type SubjectVersion struct {
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

// IDVersions lists the subject versions that hold the schema with id.
func (r *Registry) IDVersions(ctx context.Context, id int, deleted bool) ([]SubjectVersion, error) {
	var out []SubjectVersion
	err := r.readFresh(ctx, func(st *state) error {
		out = []SubjectVersion{}
		if st.schema(id) == nil {
			return schemaNotFound("Schema %d not found.", id)
		}
		for _, name := range st.subjectNames(true) {
			for _, v := range st.subjects[name].live(deleted) {
				if v.id == id {
					out = append(out, SubjectVersion{name, v.version})
				}
			}
		}
		return nil
	})
	return out, err
}

// referencedBy lists the ids of the live schemas that refer to version v
// of subject.
func (st *state) referencedBy(subj string, v int) []int {
	var out []int
	for _, name := range st.subjectNames(false) {
		for _, x := range st.subjects[name].live(true) {
			for _, ref := range st.ids[x.id].schema.References {
				if ref.Subject == subj && ref.Version == v && !slices.Contains(out, x.id) {
					out = append(out, x.id)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// DeleteVersion soft-deletes version v of subject (-1: its latest), or
// hard-deletes it when permanent (it must be soft-deleted first), and
// returns its number.
func (r *Registry) DeleteVersion(ctx context.Context, subj string, v int, permanent bool) (int, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.sync(ctx); err != nil {
		return 0, err
	}
	r.mu.Lock()
	st := r.st
	sub := st.subjects[subj]
	var x *version
	var err error
	switch {
	case sub == nil || len(sub.live(true)) == 0:
		err = subjectNotFound(subj)
	case v == -1:
		l := sub.live(permanent)
		if len(l) == 0 {
			err = subjectNotFound(subj)
		} else {
			x = l[len(l)-1]
		}
	default:
		if x = sub.find(v); x == nil || x.permanent {
			err = versionNotFound(subj, v)
		}
	}
	if err == nil {
		switch {
		case st.modeOf(subj) != ReadWrite:
			err = errorf(CodeOperationNotPermitted, nil, "Subject '%s' is in %s mode.", subj, st.modeOf(subj))
		case permanent && !x.deleted:
			err = errorf(CodeVersionNotSoftDeleted, nil, "Subject '%s' Version %d was not deleted first before being permanently deleted", subj, x.version)
		case !permanent && x.deleted:
			err = errorf(CodeVersionSoftDeleted, nil, "Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subj, x.version)
		default:
			if refs := st.referencedBy(subj, x.version); len(refs) > 0 {
				err = errorf(CodeReferenceExists, nil, "One or more references exist to the schema {subject=%s,version=%d}: schemas %v.", subj, x.version, refs)
			}
		}
	}
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if _, err := r.write(ctx, recordKey{Kind: kindVersion, Subject: subj, Version: x.version}, versionValue{Deleted: true, Permanent: permanent}); err != nil {
		return 0, err
	}
	return x.version, nil
}

// DeleteSubject soft-deletes every version of subject, or hard-deletes
// them when permanent (the subject must be soft-deleted first), and
// returns their numbers. A permanent delete also removes the subject's
// compatibility and mode settings.
func (r *Registry) DeleteSubject(ctx context.Context, subj string, permanent bool) ([]int, error) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if err := r.sync(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	st := r.st
	sub := st.subjects[subj]
	var todo []int
	var err error
	switch {
	case sub == nil || len(sub.live(true)) == 0:
		err = subjectNotFound(subj)
	case st.modeOf(subj) != ReadWrite:
		err = errorf(CodeOperationNotPermitted, nil, "Subject '%s' is in %s mode.", subj, st.modeOf(subj))
	case permanent && len(sub.live(false)) > 0:
		err = errorf(CodeSubjectNotSoftDeleted, nil, "Subject '%s' was not deleted first before being permanently deleted", subj)
	case !permanent && len(sub.live(false)) == 0:
		err = errorf(CodeSubjectSoftDeleted, nil, "Subject '%s' was soft deleted. Set permanent=true to delete permanently", subj)
	default:
		for _, v := range sub.live(permanent) {
			if refs := st.referencedBy(subj, v.version); len(refs) > 0 {
				err = errorf(CodeReferenceExists, nil, "One or more references exist to the schema {subject=%s,version=%d}: schemas %v.", subj, v.version, refs)
				break
			}
			todo = append(todo, v.version)
		}
	}
	_, hasConfig := st.config[subj]
	_, hasMode := st.mode[subj]
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for _, v := range todo {
		if _, err := r.write(ctx, recordKey{Kind: kindVersion, Subject: subj, Version: v}, versionValue{Deleted: true, Permanent: permanent}); err != nil {
			return nil, err
		}
	}
	if permanent && hasConfig {
		if _, err := r.write(ctx, recordKey{Kind: kindConfig, Subject: subj}, configValue{}); err != nil {
			return nil, err
		}
	}
	if permanent && hasMode {
		if _, err := r.write(ctx, recordKey{Kind: kindMode, Subject: subj}, modeValue{}); err != nil {
			return nil, err
		}
	}
	return todo, nil
}

// Compatibility returns subject's compatibility level ("" is the global
// one). With defaultToGlobal false, a subject without its own level is an
// error (40408).
func (r *Registry) Compatibility(ctx context.Context, subj string, defaultToGlobal bool) (Compatibility, error) {
	var out Compatibility
	err := r.readFresh(ctx, func(st *state) error {
		if _, ok := st.config[subj]; subj != "" && !ok && !defaultToGlobal {
			return errorf(CodeSubjectConfigNotFound, connector.ErrSchemaNotFound, "Subject '%s' does not have subject-level compatibility configured", subj)
		}
		out = st.compatibility(subj)
		return nil
	})
	return out, err
}

// SetCompatibility sets subject's level ("" is the global one).
func (r *Registry) SetCompatibility(ctx context.Context, subj string, c Compatibility) error {
	if _, ok := ParseCompatibility(string(c)); !ok {
		return errorf(CodeInvalidCompatibility, nil, "Invalid compatibility level %q: the levels are BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE and NONE.", c)
	}
	_, err := r.write(ctx, recordKey{Kind: kindConfig, Subject: subj}, configValue{Compatibility: c})
	return err
}

// DeleteCompatibility removes subject's level ("" resets the global one to
// BACKWARD) and returns the level it had.
func (r *Registry) DeleteCompatibility(ctx context.Context, subj string) (Compatibility, error) {
	prev, err := r.Compatibility(ctx, subj, subj == "")
	if err != nil {
		return "", err
	}
	_, err = r.write(ctx, recordKey{Kind: kindConfig, Subject: subj}, configValue{})
	return prev, err
}

// Mode returns subject's mode ("" is the global one). With
// defaultToGlobal false, a subject without its own mode is an error
// (40409).
func (r *Registry) Mode(ctx context.Context, subj string, defaultToGlobal bool) (Mode, error) {
	var out Mode
	err := r.readFresh(ctx, func(st *state) error {
		if _, ok := st.mode[subj]; subj != "" && !ok && !defaultToGlobal {
			return errorf(CodeSubjectModeNotFound, connector.ErrSchemaNotFound, "Subject '%s' does not have subject-level mode configured", subj)
		}
		out = st.modeOf(subj)
		return nil
	})
	return out, err
}

// SetMode sets subject's mode ("" is the global one).
func (r *Registry) SetMode(ctx context.Context, subj string, m Mode) error {
	if _, ok := ParseMode(string(m)); !ok {
		return errorf(CodeInvalidMode, nil, "Invalid mode %q: the modes are READWRITE, READONLY and READONLY_OVERRIDE (IMPORT is not supported).", m)
	}
	_, err := r.write(ctx, recordKey{Kind: kindMode, Subject: subj}, modeValue{Mode: m})
	return err
}

// DeleteMode removes subject's mode and returns the mode it had.
func (r *Registry) DeleteMode(ctx context.Context, subj string) (Mode, error) {
	prev, err := r.Mode(ctx, subj, subj == "")
	if err != nil {
		return "", err
	}
	_, err = r.write(ctx, recordKey{Kind: kindMode, Subject: subj}, modeValue{})
	return prev, err
}

// CheckCompatibility checks s against subject without registering it:
// against version v (-1: the latest), or, with v 0, against the versions
// that subject's level compares with (the latest, or all of them when
// transitive). It returns why s is incompatible, nil when it is
// compatible; a malformed s is an error wrapping
// connector.ErrInvalidSchema. A subject without versions takes anything.
func (r *Registry) CheckCompatibility(ctx context.Context, subj string, v int, s connector.RegistrySchema) ([]string, error) {
	if err := r.sync(ctx); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.st
	s = normalize(s)
	p, err := st.parseIn(s)
	if err != nil {
		return nil, err
	}
	level := st.compatibility(subj)
	sub := st.subjects[subj]
	if v != 0 {
		if sub == nil || len(sub.live(true)) == 0 {
			return nil, subjectNotFound(subj)
		}
		var x *version
		if v == -1 {
			if l := sub.live(false); len(l) > 0 {
				x = l[len(l)-1]
			}
		} else if x = sub.find(v); x != nil && (x.permanent || x.deleted) {
			x = nil
		}
		if x == nil {
			return nil, versionNotFound(subj, v)
		}
		old, err := st.parseIn(st.ids[x.id].schema)
		if err != nil {
			return nil, storeError(err)
		}
		if level.transitive() {
			level = map[Compatibility]Compatibility{BackwardTransitive: Backward, ForwardTransitive: Forward, FullTransitive: Full}[level]
		}
		return checkLevel(level, p, []*parsed{old}), nil
	}
	prev, err := st.previous(subj)
	if err != nil {
		return nil, storeError(err)
	}
	return checkLevel(level, p, prev), nil
}

// Validate parses s with its references as the registry holds them: nil
// when it is a valid schema, else an error wrapping
// connector.ErrInvalidSchema.
func (r *Registry) Validate(ctx context.Context, s connector.RegistrySchema) error {
	if err := r.sync(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.st.parseIn(normalize(s))
	return err
}
