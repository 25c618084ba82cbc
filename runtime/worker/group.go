package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/retry"
)

// The worker group's protocol, as Kafka Connect's worker coordinator does
// it: classic JoinGroup/SyncGroup/Heartbeat/LeaveGroup with pipectl's own
// protocol type and member metadata; the elected leader assigns tasks.
const (
	protocolType = "pipectl"
	protocolName = "pipectl-v1"
)

// membership keeps this worker in the fleet's group <fleet>.workers and
// hands each assignment to the supervisor.
//
// The worker is a static member (KIP-345): its id is its group instance
// id, so that a worker killed and started again with the same id replaces
// its old member at once instead of waiting for the coordinator to expire
// it after the session timeout. The old member, should its process still
// be alive, is fenced (FENCED_INSTANCE_ID) and stops.
type membership struct {
	w          *Worker
	cl         *kgo.Client
	group      string
	instanceID string

	memberID   string
	generation int32
	leader     bool
	universe   map[taskKey]bool // the tasks the last assignment covered (leader)
	changed    chan struct{}    // the state changed: the leader checks its tasks
}

func newMembership(w *Worker, cl *kgo.Client) *membership {
	return &membership{w: w, cl: cl, group: control.WorkersGroup(w.cfg.Fleet), instanceID: w.id, changed: make(chan struct{}, 1)}
}

// stateChanged tells the membership that the state changed: a leader
// waiting for a state to assign from assigns at once, and the heartbeat
// loop rebalances at once when the set of tasks changed instead of at its
// next heartbeat.
func (m *membership) stateChanged() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// rejoinBackoff spaces a worker's attempts to join its fleet's group, with
// jitter: when the coordinator moves, every worker of the fleet rejoins at
// once.
var rejoinBackoff = retry.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Jitter: retry.FleetJitter}

// run joins the group and keeps the membership until ctx ends; leave
// leaves it afterwards. It returns an error only when another worker with
// the same id took this one's place in the group (ErrFenced).
func (m *membership) run(ctx context.Context) error {
	for ctx.Err() == nil {
		// Each round of joining starts its schedule again.
		a, err := backoff.Retry(ctx, func() (memberAssignment, error) {
			a, err := m.joinAndSync(ctx)
			switch {
			case err == nil, ctx.Err() != nil:
			case errors.Is(err, kerr.FencedInstanceID):
				return a, backoff.Permanent(err)
			default:
				m.w.log.Warn("joining the worker group", "group", m.group, "error", err)
				if lost(err) {
					m.w.sup.lose(m.generation)
				}
			}
			return a, err
		}, backoff.WithBackOff(rejoinBackoff.New()), backoff.WithMaxElapsedTime(0))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// With no time limit, Retry gives up only on the
			// permanent error: this worker was fenced.
			return m.fenced(err)
		}
		m.w.sup.assign(m.generation, a)
		if err := m.heartbeat(ctx); err != nil && ctx.Err() == nil {
			if errors.Is(err, kerr.FencedInstanceID) {
				return m.fenced(err)
			}
			m.w.log.Info("rebalancing the worker group", "reason", err, "generation", m.generation)
			if lost(err) {
				m.w.sup.lose(m.generation)
			}
		}
	}
	return nil
}

// ErrFenced is returned by Run when another worker joined the fleet's
// group with this worker's id: worker ids must be unique in a fleet. The
// newer worker keeps the id; this one has stopped its tasks.
var ErrFenced = errors.New("another worker joined the fleet with this worker's id")

// fenced stops every task at once and gives the membership up for good:
// the group's member with this instance id is now another process, whose
// membership a LeaveGroup would end.
func (m *membership) fenced(err error) error {
	m.w.log.Error("another worker joined the fleet's group with this worker's id: stopping every task and exiting (worker ids must be unique in a fleet, see -id)",
		"group", m.group, "instance_id", m.instanceID, "generation", m.generation, "error", err)
	m.w.sup.lose(m.generation)
	m.memberID = ""
	return fmt.Errorf("worker %s: %w (worker ids must be unique in a fleet; this one has stopped its tasks): %w", m.instanceID, ErrFenced, err)
}

// lost reports whether err means this member is no longer part of the
// group: it must stop its tasks at once.
func lost(err error) bool {
	return errors.Is(err, kerr.UnknownMemberID) || errors.Is(err, kerr.IllegalGeneration) ||
		errors.Is(err, kerr.FencedInstanceID) || errors.Is(err, errSessionLost)
}

var errSessionLost = errors.New("no successful heartbeat within the session timeout")

func (m *membership) metadata() []byte {
	st, _ := m.w.snapshot()
	serial := int64(-1)
	if st != nil {
		serial = st.Serial
	}
	meta := memberMeta{V: 1, WorkerID: m.w.id, URL: m.w.url, Weight: m.w.cfg.Weight, Serial: serial, Tasks: m.w.sup.running()}
	b, _ := json.Marshal(meta)
	return b
}

// joinAndSync runs one JoinGroup + SyncGroup round and returns this
// member's assignment.
func (m *membership) joinAndSync(ctx context.Context) (memberAssignment, error) {
	m.w.sup.joinStarted()
	session := m.w.cfg.SessionTimeout
	rebalance := m.w.cfg.RebalanceTimeout
	for attempt := 0; ; attempt++ {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Group = m.group
		req.SessionTimeoutMillis = int32(session / time.Millisecond)
		req.RebalanceTimeoutMillis = int32(rebalance / time.Millisecond)
		req.MemberID = m.memberID
		req.InstanceID = &m.instanceID
		req.ProtocolType = protocolType
		proto := kmsg.NewJoinGroupRequestProtocol()
		proto.Name = protocolName
		proto.Metadata = m.metadata()
		req.Protocols = append(req.Protocols, proto)
		m.w.log.Debug("joining the worker group", "group", m.group, "member_id", m.memberID, "instance_id", m.instanceID)
		jctx, cancel := context.WithTimeout(ctx, rebalance+session)
		resp, err := req.RequestWith(jctx, m.cl)
		cancel()
		if err != nil {
			return memberAssignment{}, fmt.Errorf("join: %w", err)
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			switch {
			case errors.Is(err, kerr.MemberIDRequired) && attempt == 0:
				m.memberID = resp.MemberID
				continue
			case errors.Is(err, kerr.UnknownMemberID):
				m.memberID = ""
			}
			return memberAssignment{}, fmt.Errorf("join: %w", err)
		}
		m.memberID, m.generation = resp.MemberID, resp.Generation
		m.leader = resp.LeaderID == resp.MemberID
		m.w.log.Debug("joined the worker group", "group", m.group, "generation", m.generation, "member_id", m.memberID,
			"leader", m.leader, "members", len(resp.Members), "skip_assignment", resp.SkipAssignment)
		var groupAssignments []kmsg.SyncGroupRequestGroupAssignment
		switch {
		case m.leader && resp.SkipAssignment:
			// A static leader that replaced its old member in a stable
			// group (KIP-814): the group keeps its assignment, which
			// this process did not compute; an unknown universe makes
			// it rebalance at its first heartbeat if the state has tasks.
			m.universe = nil
		case m.leader:
			groupAssignments = m.assignAll(ctx, resp.Members)
		}
		sreq := kmsg.NewPtrSyncGroupRequest()
		sreq.Group = m.group
		sreq.Generation = m.generation
		sreq.MemberID = m.memberID
		sreq.InstanceID = &m.instanceID
		pt, pn := protocolType, protocolName
		sreq.ProtocolType, sreq.Protocol = &pt, &pn
		sreq.GroupAssignment = groupAssignments
		sctx, cancel := context.WithTimeout(ctx, rebalance+session)
		sresp, err := sreq.RequestWith(sctx, m.cl)
		cancel()
		if err != nil {
			return memberAssignment{}, fmt.Errorf("sync: %w", err)
		}
		if err := kerr.ErrorForCode(sresp.ErrorCode); err != nil {
			return memberAssignment{}, fmt.Errorf("sync: %w", err)
		}
		var a memberAssignment
		if len(sresp.MemberAssignment) > 0 {
			if err := json.Unmarshal(sresp.MemberAssignment, &a); err != nil {
				return memberAssignment{}, fmt.Errorf("sync: malformed assignment: %w", err)
			}
		}
		m.w.log.Debug("worker group assignment", "group", m.group, "generation", m.generation, "tasks", refStrings(a.Tasks), "live", a.Live)
		return a, nil
	}
}

// assignAll is the leader's work: every task of the state over the
// members.
func (m *membership) assignAll(ctx context.Context, joined []kmsg.JoinGroupResponseMember) []kmsg.SyncGroupRequestGroupAssignment {
	members := make([]groupMember, 0, len(joined))
	newest := int64(-1)
	for _, jm := range joined {
		var meta memberMeta
		if err := json.Unmarshal(jm.ProtocolMetadata, &meta); err != nil || meta.WorkerID == "" {
			meta = memberMeta{WorkerID: jm.MemberID}
		}
		newest = max(newest, meta.Serial)
		members = append(members, groupMember{ID: jm.MemberID, Meta: meta})
	}
	// Assign from a state at least as new as any member's.
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
wait:
	for {
		st, _ := m.w.snapshot()
		if st != nil && st.Serial >= newest {
			break
		}
		select {
		case <-m.changed: // a newer state; the heartbeat loop has not started
		case <-timeout.C:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	tasks, serial := m.w.sup.universe()
	m.universe = map[taskKey]bool{}
	for _, t := range tasks {
		m.universe[t.key()] = true
	}
	plan := assign(members, tasks)
	out := make([]kmsg.SyncGroupRequestGroupAssignment, 0, len(members))
	for _, gm := range members {
		a := plan[gm.ID]
		a.Serial = serial
		b, _ := json.Marshal(a)
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID = gm.ID
		ga.MemberAssignment = b
		out = append(out, ga)
	}
	m.w.log.Info("assigned tasks", "generation", m.generation, "members", len(members), "tasks", len(tasks))
	return out
}

// heartbeat keeps the membership alive until a rebalance is needed (it
// returns the reason) or ctx ends.
func (m *membership) heartbeat(ctx context.Context) error {
	interval := m.w.cfg.SessionTimeout / 10
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-m.changed:
			if m.leader && m.universeChanged() {
				return errors.New("the set of tasks changed")
			}
			continue
		case <-tick.C:
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = m.group, m.generation, m.memberID
		req.InstanceID = &m.instanceID
		hctx, cancel := context.WithTimeout(ctx, 2*interval)
		resp, err := req.RequestWith(hctx, m.cl)
		cancel()
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		switch {
		case err == nil:
			lastOK = time.Now()
		case errors.Is(err, kerr.RebalanceInProgress):
			return err
		case lost(err):
			return err
		default:
			// Give the tasks up before the coordinator can expire this
			// member and hand them to others.
			if time.Since(lastOK) > m.w.cfg.SessionTimeout*7/10 {
				return fmt.Errorf("%w: %v", errSessionLost, err)
			}
		}
		if m.leader && m.universeChanged() {
			return errors.New("the set of tasks changed")
		}
	}
}

// universeChanged tells the leader whether the state's tasks differ from
// those it assigned.
func (m *membership) universeChanged() bool {
	tasks, _ := m.w.sup.universe()
	if len(tasks) != len(m.universe) {
		return true
	}
	for _, t := range tasks {
		if !m.universe[t.key()] {
			return true
		}
	}
	return false
}

// leave leaves the group so that the others take this worker's tasks at
// once; the caller has stopped them first. A static member does not leave
// when its process is killed (it comes back within the session timeout
// or is expired), but a worker stopped on purpose hands its tasks over at
// once: the request names its instance id, which removes it for good.
func (m *membership) leave() {
	if m.memberID == "" {
		return
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = m.group
	req.MemberID = m.memberID
	member := kmsg.NewLeaveGroupRequestMember()
	member.MemberID = m.memberID
	member.InstanceID = &m.instanceID
	reason := "worker stopping"
	member.Reason = &reason
	req.Members = append(req.Members, member)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := req.RequestWith(ctx, m.cl); err != nil {
		m.w.log.Warn("leaving the worker group", "error", err)
	}
}
