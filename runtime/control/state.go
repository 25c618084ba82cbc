package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrStaleState means the state moved since the caller read it: another
// apply committed first. Plan again.
var ErrStaleState = errors.New("the fleet's state changed since it was read")

// NoSerial is the serial of a fleet that was never applied.
const NoSerial int64 = -1

// State is the committed content of the configs topic.
type State struct {
	// Serial is the offset of the last commit record; NoSerial when the
	// fleet was never applied.
	Serial    int64
	Commit    *CommitInfo
	Resources map[string]*Resource
}

// Sorted returns the resources sorted by address.
func (s *State) Sorted() []*Resource {
	out := make([]*Resource, 0, len(s.Resources))
	for _, r := range s.Resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func newState() *State { return &State{Serial: NoSerial, Resources: map[string]*Resource{}} }

// apply folds one configs record into the state; it reports whether the
// record was a commit record.
func (s *State) apply(r *kgo.Record) (commit bool, err error) {
	k, err := parseKey(r.Key)
	if err != nil {
		return false, err
	}
	if k.V > FormatVersion {
		return false, fmt.Errorf("configs record at offset %d has format version %d, newer than this pipectl understands (%d): upgrade pipectl", r.Offset, k.V, FormatVersion)
	}
	switch k.Kind {
	case "resource":
		if r.Value == nil {
			delete(s.Resources, k.Address)
			return false, nil
		}
		var v resourceValue
		if err := json.Unmarshal(r.Value, &v); err != nil || v.Resource == nil {
			return false, fmt.Errorf("configs record %s at offset %d is malformed", k.Address, r.Offset)
		}
		s.Resources[k.Address] = v.Resource
	case "commit":
		var info CommitInfo
		if err := json.Unmarshal(r.Value, &info); err != nil {
			return false, fmt.Errorf("commit record at offset %d is malformed", r.Offset)
		}
		s.Serial = r.Offset
		s.Commit = &info
		return true, nil
	}
	return false, nil
}

// ReadState reads the committed state.
func (c *Control) ReadState(ctx context.Context) (*State, error) {
	st := newState()
	var ferr error
	err := c.readToEnd(ctx, c.ConfigsTopic(), nil, true, func(r *kgo.Record) {
		if _, err := st.apply(r); err != nil && ferr == nil {
			ferr = err
		}
	})
	if err != nil {
		return nil, err
	}
	return st, ferr
}

// Change is one resource to write (Resource set) or delete (nil).
type Change struct {
	Address  string
	Resource *Resource
}

// Commit writes changes and a commit record in one Kafka transaction with
// the fleet's fixed transactional id, so that an apply lands whole or not
// at all, and a newer apply fences an older one. It checks, inside the
// fence, that the state serial is still expected; if not it aborts with
// ErrStaleState. It returns the new serial.
func (c *Control) Commit(ctx context.Context, changes []Change, expected int64, info CommitInfo) (int64, error) {
	opts := append(append([]kgo.Opt(nil), c.opts...),
		kgo.TransactionalID(ApplyTransactionalID(c.fleet)),
		kgo.TransactionTimeout(10*time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("control: %w", err)
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return 0, fmt.Errorf("control: begin transaction: %w", err)
	}
	abort := func(cause error) (int64, error) {
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = cl.AbortBufferedRecords(actx)
		_ = cl.EndTransaction(actx, kgo.TryAbort)
		if fenced(cause) {
			return 0, fmt.Errorf("%w: another apply started while this one ran", ErrStaleState)
		}
		return 0, cause
	}
	records := make([]*kgo.Record, 0, len(changes)+1)
	for _, ch := range changes {
		r := &kgo.Record{Topic: c.ConfigsTopic(), Key: recordKey{V: FormatVersion, Kind: "resource", Address: ch.Address}.bytes()}
		if ch.Resource != nil {
			b, err := json.Marshal(resourceValue{V: FormatVersion, Resource: ch.Resource, Hash: ch.Resource.Hash()})
			if err != nil {
				return abort(fmt.Errorf("control: encode %s: %w", ch.Address, err))
			}
			r.Value = b
		}
		records = append(records, r)
		info.Changed = append(info.Changed, ch.Address)
	}
	// The first write registers this transaction with the coordinator,
	// which fences any older apply and aborts what it left open. Only
	// after that is the serial check meaningful.
	fence := &kgo.Record{Topic: c.ConfigsTopic(), Key: recordKey{V: FormatVersion, Kind: "fence"}.bytes(), Value: []byte(`{"v":1}`)}
	if err := cl.ProduceSync(ctx, fence).FirstErr(); err != nil {
		return abort(fmt.Errorf("control: write to %s: %w", c.ConfigsTopic(), err))
	}
	st, err := c.ReadState(ctx)
	if err != nil {
		return abort(err)
	}
	if st.Serial != expected {
		return abort(fmt.Errorf("%w: expected serial %d, found %d", ErrStaleState, expected, st.Serial))
	}
	applied := len(st.Resources)
	for _, ch := range changes {
		_, had := st.Resources[ch.Address]
		switch {
		case ch.Resource != nil && !had:
			applied++
		case ch.Resource == nil && had:
			applied--
		}
	}
	info.V = FormatVersion
	info.Previous = st.Serial
	info.Resources = applied
	if info.Time.IsZero() {
		info.Time = time.Now().UTC()
	}
	cb, err := json.Marshal(info)
	if err != nil {
		return abort(err)
	}
	commit := &kgo.Record{Topic: c.ConfigsTopic(), Key: recordKey{V: FormatVersion, Kind: "commit"}.bytes(), Value: cb}
	res := cl.ProduceSync(ctx, append(records, commit)...)
	if err := res.FirstErr(); err != nil {
		return abort(fmt.Errorf("control: write to %s: %w", c.ConfigsTopic(), err))
	}
	serial := res[len(res)-1].Record.Offset
	if err := endTransaction(ctx, cl); err != nil {
		if !fenced(err) {
			return 0, fmt.Errorf("control: commit transaction: %w", err)
		}
		// franz-go retries an EndTxn whose answer was lost; if another
		// apply fenced this one in between, the retry is refused although
		// the first attempt committed. The state says which.
		if st, rerr := c.ReadState(ctx); rerr == nil && st.Serial == serial {
			return serial, nil
		}
		return 0, fmt.Errorf("%w: another apply started while this one ran", ErrStaleState)
	}
	return serial, nil
}

// endTransaction commits an apply's transaction; tests replace it.
var endTransaction = func(ctx context.Context, cl *kgo.Client) error {
	return cl.EndTransaction(ctx, kgo.TryCommit)
}

// WatchState calls fn with the committed state once it has read up to the
// end, and again after every commit, until ctx ends. fn runs on the
// caller's goroutine and must not keep the State it is given past the call
// if it mutates it.
func (c *Control) WatchState(ctx context.Context, fn func(*State)) error {
	st, err := c.ReadState(ctx)
	if err != nil {
		return err
	}
	fn(st)
	next := st.Serial + 1
	if st.Serial == NoSerial {
		next = 0
	}
	from := map[int32]kgo.Offset{0: kgo.NewOffset().At(next)}
	return c.tail(ctx, c.ConfigsTopic(), from, true, func(fetches kgo.Fetches) error {
		var ferr error
		fetches.EachRecord(func(r *kgo.Record) {
			commit, err := st.apply(r)
			if err != nil && ferr == nil {
				ferr = err
			}
			if commit {
				fn(st)
			}
		})
		return ferr
	})
}

// fenced reports whether err says that a newer apply, with the same
// transactional id, took over: the coordinator bumped the producer epoch
// and aborted this apply's transaction. A commit that comes after that
// is refused with PRODUCER_FENCED or INVALID_PRODUCER_EPOCH, or, from a
// coordinator that implements KIP-890's retry detection (EndTxn v5+), with
// INVALID_TXN_STATE: to it the commit looks like a retry of the abort that
// ended the transaction. Each means this apply's transaction did not
// commit.
func fenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.InvalidTxnState)
}
