package worker

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/metrics"
	"github.com/pipectl/pipectl/runtime/retry"
)

// taskKey names one task of one pipeline.
type taskKey struct {
	pipeline string
	task     int
}

// task is one running task.
type task struct {
	key      taskKey
	hash     string // the resource hash it runs
	started  time.Time
	cancel   context.CancelFunc
	done     chan struct{}
	counters *engine.Counters
	metrics  *metrics.TaskMetrics
	synced   [4]int64 // counts last added to metrics
	dropped  int64    // Dropped last added to metrics
	reported [4]int64 // counts last written to status
	failure  string   // set when it exited on its own with an error
	// outAtStart is the out count it started from (counts run since the
	// pipeline was created), for its rate; reportedProblem the problem
	// last written to status.
	outAtStart      int64
	reportedProblem string
	// sourceLag is what the source last said of its lag (nil: it says
	// nothing), reportedLag what the status last carried; under
	// supervisor.mu.
	sourceLag, reportedLag *sourceLag
	// secrets are the secret() references its configuration holds, and
	// secretsDigest the digest of the values it started with.
	secrets       []engine.ProviderSecret
	secretsDigest [sha256.Size]byte
	// opened is set once its plugin opened (engine.TaskArgs.OnRunning):
	// only then is it reported RUNNING.
	opened atomic.Bool
	// topics are the topics it used (engine.TaskArgs.OnTopic), with when
	// each was last written to the status topic (zero: not yet); under
	// supervisor.mu.
	topics map[string]time.Time

	// statusMu orders the task's status writes; once final is set (the
	// task stopped or failed and said so) no RUNNING report may follow.
	statusMu sync.Mutex
	final    bool
}

// failure remembers a task that failed, so that it is not restarted
// until asked to or until its configuration changes.
type failure struct {
	hash  string
	trace string
	at    time.Time
}

// supervisor starts and stops the tasks this worker is assigned. It does
// not know how the assignment was made: today a worker is assigned every
// task of the fleet; the fleet's group protocol will narrow it.
type supervisor struct {
	w *Worker

	mu       sync.Mutex
	tasks    map[taskKey]*task
	failed   map[taskKey]failure
	restart  map[taskKey]bool
	reported map[taskKey]control.TaskState
	lag      map[taskKey]int64 // sink tasks' consumer lag, from measureLag
	wg       sync.WaitGroup

	// carry holds the counts of tasks that stopped here, for their next
	// start (health.go).
	carry map[taskKey][4]int64

	// The group's word: which tasks this worker runs (nil until the first
	// assignment), in which generation, and the tasks it must wait for
	// another worker to release.
	assigned   map[taskKey]bool
	generation int32
	joining    bool // a rebalance is under way: start nothing until it ends
	release    map[taskKey]pendingRelease
	handled    map[taskKey]time.Time // restart requests already acted on
	attempts   map[taskKey]int       // automatic restarts since the last configuration change
	wakeups    map[taskKey]bool      // automatic restarts with a timer set

	status *statusWriter
}

// pendingRelease is a task assigned here that another live worker still
// runs: it starts once that worker reports it stopped, or after deadline.
type pendingRelease struct {
	from       string
	generation int32
	deadline   time.Time
}

func newSupervisor(w *Worker) *supervisor {
	return &supervisor{w: w, tasks: map[taskKey]*task{}, failed: map[taskKey]failure{},
		restart: map[taskKey]bool{}, reported: map[taskKey]control.TaskState{},
		release: map[taskKey]pendingRelease{}, handled: map[taskKey]time.Time{},
		attempts: map[taskKey]int{}, wakeups: map[taskKey]bool{}, carry: map[taskKey][4]int64{}, status: newStatusWriter(w.ctl)}
}

// run reconciles the running tasks with the state until ctx ends, then
// stops them all.
func (s *supervisor) run(ctx context.Context) error {
	tick := time.NewTicker(s.w.cfg.StatusInterval)
	defer tick.Stop()
	secretTick := time.NewTicker(s.w.cfg.SecretCheckInterval)
	defer secretTick.Stop()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.heartbeats(ctx)
	}()
	for {
		select {
		case <-ctx.Done():
			s.stopAll()
			return nil
		case <-s.w.kick:
			s.reconcile(ctx)
		case <-secretTick.C:
			s.checkSecrets(ctx)
			s.reconcile(ctx)
		case <-tick.C:
			s.measureSourceLag()
			s.report()
			s.measureLag()
			s.reconcile(ctx)
		}
	}
}

// desiredTask is what the state says about one task.
type desiredTask struct {
	res  *control.Resource
	hash string
	// target is Running, or Paused or Stopped: the task does not run
	// and reports that state.
	target control.TaskState
}

// halted reports whether the task is paused or stopped.
func (d desiredTask) halted() bool { return d.target == control.Paused || d.target == control.Stopped }

func (s *supervisor) desired() (map[taskKey]desiredTask, int64, bool) {
	st, sv, hashes := s.w.snapshotHashes()
	if st == nil || sv == nil {
		return nil, 0, false
	}
	s.mu.Lock()
	assigned := s.assigned
	s.mu.Unlock()
	out := map[taskKey]desiredTask{}
	for addr, res := range st.Resources {
		if res.Kind != control.KindPipeline || res.Pipeline == nil {
			continue
		}
		target := control.Desired(res, sv)
		hash := hashes[addr]
		for i := range max(res.Pipeline.Tasks, 1) {
			if key := (taskKey{addr, i}); assigned[key] {
				out[key] = desiredTask{res: res, hash: hash, target: target}
			}
		}
	}
	return out, st.Serial, true
}

// universe lists every task of the state, for the group's leader.
func (s *supervisor) universe() ([]TaskRef, int64) {
	st, _ := s.w.snapshot()
	if st == nil {
		return nil, control.NoSerial
	}
	var out []TaskRef
	for addr, res := range st.Resources {
		if res.Kind == control.KindPipeline && res.Pipeline != nil {
			for i := range max(res.Pipeline.Tasks, 1) {
				out = append(out, TaskRef{addr, i})
			}
		}
	}
	return out, st.Serial
}

// running lists the tasks this worker runs, for its group metadata.
func (s *supervisor) running() []TaskRef {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TaskRef, 0, len(s.tasks))
	for key := range s.tasks {
		out = append(out, TaskRef{key.pipeline, key.task})
	}
	return out
}

// joinStarted says a rebalance began: no task starts until assign.
func (s *supervisor) joinStarted() {
	s.mu.Lock()
	s.joining = true
	s.mu.Unlock()
}

func (s *supervisor) isJoining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joining
}

// assign takes the group's assignment for a generation.
func (s *supervisor) assign(generation int32, a memberAssignment) {
	live := map[string]bool{}
	for _, id := range a.Live {
		live[id] = true
	}
	s.mu.Lock()
	s.joining = false
	s.generation = generation
	s.assigned = map[taskKey]bool{}
	for _, t := range a.Tasks {
		key := t.key()
		s.assigned[key] = true
		from := a.From[refString(t)]
		if _, runs := s.tasks[key]; !runs && from != "" && from != s.w.id && live[from] {
			s.release[key] = pendingRelease{from: from, generation: generation, deadline: time.Now().Add(s.w.cfg.RebalanceTimeout + 15*time.Second)}
		}
	}
	for key := range s.release {
		if !s.assigned[key] {
			delete(s.release, key)
		}
	}
	s.mu.Unlock()
	s.w.log.Info("assignment", "generation", generation, "tasks", len(a.Tasks))
	s.w.poke()
}

// lose drops every task at once: the worker is no longer a member of the
// group, so another may already run them.
func (s *supervisor) lose(generation int32) {
	s.mu.Lock()
	s.assigned = map[taskKey]bool{}
	s.joining = false
	s.mu.Unlock()
	s.w.log.Warn("lost the group membership: stopping every task", "generation", generation)
	s.w.poke()
}

// released says whether another worker still runs a task assigned here.
func (s *supervisor) released(key taskKey, sv *control.StatusView) bool {
	s.mu.Lock()
	pr, waiting := s.release[key]
	s.mu.Unlock()
	if !waiting {
		return true
	}
	// Released means: the previous owner itself reported the task stopped
	// in this generation or later. Anything else (a record of another
	// worker, an older one) may be a view that lags behind.
	rec, ok := sv.Tasks[key.pipeline][key.task]
	if ok && rec.WorkerID == pr.from && rec.State != control.Running && !rec.Starting && rec.Generation >= int64(pr.generation) || time.Now().After(pr.deadline) {
		s.mu.Lock()
		delete(s.release, key)
		s.mu.Unlock()
		return true
	}
	return false
}

// reconcile stops what must not run and starts what must.
func (s *supervisor) reconcile(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	want, serial, ok := s.desired()
	if !ok {
		return
	}
	_, sv := s.w.snapshot()
	s.takeRestartRequests(sv)
	all, _ := s.universe()
	exists := make(map[taskKey]bool, len(all))
	for _, r := range all {
		exists[r.key()] = true
	}
	s.mu.Lock()
	var stops []*task
	var stopState []control.TaskState
	for key, t := range s.tasks {
		d, keep := want[key]
		select {
		case <-t.done:
			// It exited by itself: a failure, already reported.
			delete(s.tasks, key)
			if t.failure != "" {
				s.failed[key] = failure{hash: t.hash, trace: t.failure, at: time.Now()}
			}
			continue
		default:
		}
		switch {
		case !keep && exists[key]:
			// Assigned to another worker: it waits for this UNASSIGNED.
			stops, stopState = append(stops, t), append(stopState, control.Unassigned)
			delete(s.tasks, key)
		case !keep:
			stops, stopState = append(stops, t), append(stopState, "")
			delete(s.tasks, key)
		case d.halted():
			stops, stopState = append(stops, t), append(stopState, d.target)
			delete(s.tasks, key)
		case d.hash != t.hash || s.restart[key]:
			stops, stopState = append(stops, t), append(stopState, control.Unassigned)
			delete(s.tasks, key)
		}
	}
	s.mu.Unlock()
	s.stop(stops, stopState)

	keys := make([]taskKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pipeline != keys[j].pipeline {
			return keys[i].pipeline < keys[j].pipeline
		}
		return keys[i].task < keys[j].task
	})
	for _, key := range keys {
		d := want[key]
		s.mu.Lock()
		_, running := s.tasks[key]
		f, failed := s.failed[key]
		restart := s.restart[key]
		delete(s.restart, key)
		if failed && (f.hash != d.hash || restart) {
			delete(s.failed, key)
			delete(s.attempts, key) // a new configuration or a restart by hand starts the count again
			failed = false
		}
		if failed && s.autoRestart(key, f, d) {
			failed = false
		}
		reported := s.reported[key]
		s.mu.Unlock()
		switch {
		case running:
		case d.halted():
			if reported != d.target {
				s.putStatus(key, d.target, "", serial, nil)
			}
		case failed:
		case s.isJoining():
			// The leader is assigning from what each worker said it runs
			// when it joined: starting a task now could hide it.
		case !s.released(key, sv):
			// Another worker still runs it: wait for its release.
		default:
			s.start(ctx, key, d, serial)
		}
	}
	// Forget failures and restart requests of tasks that no longer exist.
	s.mu.Lock()
	for key := range s.failed {
		if _, ok := want[key]; !ok {
			delete(s.failed, key)
		}
	}
	for key := range s.attempts {
		if _, ok := want[key]; !ok {
			delete(s.attempts, key)
			delete(s.wakeups, key)
		}
	}
	for key := range s.restart {
		if _, ok := want[key]; !ok {
			delete(s.restart, key)
		}
	}
	// The status of a task this worker reported and that no longer exists
	// (its pipeline was deleted or shrank) is deleted; a task that moved
	// to another worker keeps its status, which that worker now writes.
	var gone []taskKey
	for key := range s.carry {
		if _, ok := want[key]; !ok {
			delete(s.carry, key)
		}
	}
	for key := range s.reported {
		if _, ok := want[key]; ok {
			continue
		}
		delete(s.reported, key)
		if !exists[key] {
			gone = append(gone, key)
		}
	}
	s.mu.Unlock()
	for _, key := range gone {
		if err := s.status.write(key, nil); err != nil {
			s.w.log.Warn("cannot delete the status of a removed task yet; retrying", "pipeline", key.pipeline, "task", key.task, "error", err)
		}
	}
}

// start compiles and starts one task, or reports it FAILED when it does
// not compile. The task is reported RUNNING once its plugin opened (as
// Kafka Connect does once a task started), FAILED when it fails before.
// Nothing is written in between: the task's last status stands (none for a
// new task, which shows as UNASSIGNED). An UNASSIGNED record written here
// could tell a worker that waits for this one to release the task, after
// a rebalance that this start raced with, that it may start it too.
func (s *supervisor) start(ctx context.Context, key taskKey, d desiredTask, serial int64) {
	log := s.w.log.With("pipeline", key.pipeline, "task", key.task)
	p, err := engine.Compile(key.pipeline, d.res.Pipeline, s.w.cfg.Registry, s.w.cfg.Keys, s.w.cfg.LookupEnv,
		engine.WithSchemaRegistry(s.w.schemas.Registry))
	if err != nil {
		s.cannotStart(log, key, d, serial, err)
		return
	}
	producerOpts, consumerOpts, producer, err := s.clientOverrides(d.res.Pipeline)
	if err != nil {
		s.cannotStart(log, key, d, serial, err)
		return
	}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	base := s.baseCounts(key)
	t := &task{key: key, hash: d.hash, started: time.Now(), cancel: cancel, done: make(chan struct{}),
		counters: &engine.Counters{}, metrics: s.w.metrics.Task(key.pipeline, key.task),
		synced: base, reported: base, outAtStart: base[1], secrets: p.ProviderSecrets(), secretsDigest: p.SecretsDigest()}
	t.counters.Seed(base[0], base[1], base[2], base[3])
	s.mu.Lock()
	s.tasks[key] = t
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(t.done)
		if producer != s.w.producer {
			defer producer.Close()
		}
		err := engine.Run(tctx, engine.TaskArgs{
			Pipeline: p,
			Task:     key.task,
			Fleet:    s.w.cfg.Fleet,
			Producer: producer,
			NewConsumer: func(opts ...kgo.Opt) (*kgo.Client, error) {
				// A static member per task: when the task moves (its
				// worker died or left), the next worker rejoins under the
				// same instance id and takes its partitions at once,
				// without a second session timeout.
				base := []kgo.Opt{
					kgo.InstanceID(control.TaskID(s.w.cfg.Fleet, key.pipeline, key.task)),
					kgo.SessionTimeout(s.w.cfg.SessionTimeout),
					kgo.HeartbeatInterval(s.w.cfg.SessionTimeout / 10),
				}
				return kafka.NewClient(s.w.cfg.Kafka, append(append(base, opts...), consumerOpts...)...)
			},
			NewTransactionalProducer: func() (*kgo.Client, error) {
				return kafka.NewClient(s.w.cfg.Kafka, append([]kgo.Opt{
					kgo.TransactionalID(control.TaskID(s.w.cfg.Fleet, key.pipeline, key.task)),
					kgo.TransactionTimeout(30 * time.Second),
					kgo.RecordPartitioner(engine.Partitioner(nil))}, producerOpts...)...)
			},
			Admin:        s.w.admin,
			Cluster:      fleetCluster(s.w.cfg.Kafka),
			Offsets:      offsetStore{s.w.ctl.Offsets(), s.w.log, s.w.levels},
			Counters:     t.counters,
			Logger:       s.w.log, // the engine adds the pipeline and task
			ObserveBatch: t.metrics.ObserveBatch,
			StopTimeout:  5 * time.Second,
			OnRunning: func() {
				t.opened.Store(true)
				s.taskStatus(t, control.Running, "", serial, false)
			},
			OnTopic: func(topic string) {
				s.mu.Lock()
				if t.topics == nil {
					t.topics = map[string]time.Time{}
				}
				if _, ok := t.topics[topic]; !ok {
					t.topics[topic] = time.Time{}
				}
				s.mu.Unlock()
			},
		})
		if err == nil || tctx.Err() != nil {
			if err != nil {
				log.Warn("task stopped with an error", "error", err)
			}
			return
		}
		trace := err.Error()
		var te *engine.TaskError
		if errors.As(err, &te) && te.Trace != "" {
			trace = te.Trace
		}
		log.Error("task failed", "error", err)
		s.mu.Lock()
		t.failure = trace
		s.mu.Unlock()
		s.syncMetrics(t)
		s.taskStatus(t, control.Failed, trace, serial, true)
		s.w.poke()
	}()
}

// cannotStart reports a task that cannot start (its secrets, its
// configuration or its clients) FAILED with the reason.
func (s *supervisor) cannotStart(log *slog.Logger, key taskKey, d desiredTask, serial int64, err error) {
	log.Error("task cannot start", "error", err)
	s.mu.Lock()
	s.failed[key] = failure{hash: d.hash, trace: err.Error(), at: time.Now()}
	s.mu.Unlock()
	s.putStatus(key, control.Failed, err.Error(), serial, nil)
}

// clientOverrides maps a pipeline's kafka block onto franz-go options of
// its producer and its consumers, and returns the producer its records go
// through: the worker's own, or one of the task's own when the pipeline
// overrides producer properties (the caller closes it after the task). An
// exactly-once source's transactional producer takes the options too.
func (s *supervisor) clientOverrides(spec *control.PipelineSpec) (producerOpts, consumerOpts []kgo.Opt, producer *kgo.Client, err error) {
	producer = s.w.producer
	if spec.Kafka == nil {
		return nil, nil, producer, nil
	}
	if producerOpts, err = kafka.ClientOverrides(spec.Kafka.Producer); err != nil {
		return nil, nil, nil, err
	}
	if consumerOpts, err = kafka.ClientOverrides(spec.Kafka.Consumer); err != nil {
		return nil, nil, nil, err
	}
	if len(producerOpts) > 0 && spec.Delivery != "exactly_once" {
		producer, err = kafka.NewClient(s.w.cfg.Kafka, append(workerProducerOpts(), producerOpts...)...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("the pipeline's producer: %w", err)
		}
	}
	return producerOpts, consumerOpts, producer, nil
}

// checkSecrets asks again for the secret() values of the running tasks
// and marks for restart those whose values changed: only they restart.
// A value that cannot be had now keeps the task running as it is.
func (s *supervisor) checkSecrets(ctx context.Context) {
	s.mu.Lock()
	var tasks []*task
	for _, t := range s.tasks {
		if len(t.secrets) > 0 {
			tasks = append(tasks, t)
		}
	}
	s.mu.Unlock()
	for _, t := range tasks {
		d, err := engine.SecretsDigest(ctx, s.w.cfg.Registry, t.secrets)
		if err != nil {
			s.w.log.Warn("cannot check the task's secrets; it keeps the values it has", "pipeline", t.key.pipeline, "task", t.key.task, "error", err)
			continue
		}
		if d == t.secretsDigest {
			continue
		}
		s.w.log.Info("a secret of the task changed; restarting it", "pipeline", t.key.pipeline, "task", t.key.task)
		s.mu.Lock()
		if s.tasks[t.key] == t {
			s.restart[t.key] = true
		}
		s.mu.Unlock()
	}
}

// stop stops tasks in parallel and reports each in its new state ("" for
// a task that no longer exists, whose status reconcile deletes).
func (s *supervisor) stop(tasks []*task, states []control.TaskState) {
	for _, t := range tasks {
		t.cancel()
	}
	deadline := time.After(15 * time.Second) // for all of them together
	for i, t := range tasks {
		select {
		case <-t.done:
			s.stopped(t, states[i])
		case <-deadline:
			// Say nothing until it has really stopped: another worker
			// waits for this report before it starts the task.
			s.w.log.Error("task did not stop in 15 s; it is reported stopped once it exits", "pipeline", t.key.pipeline, "task", t.key.task)
			go func(t *task, state control.TaskState) {
				<-t.done
				s.stopped(t, state)
			}(t, states[i])
		}
	}
}

// stopped reports a task that exited in its final state ("" for a task
// that no longer exists).
func (s *supervisor) stopped(t *task, state control.TaskState) {
	s.syncMetrics(t)
	s.mu.Lock()
	s.carry[t.key] = counts(t.counters)
	s.mu.Unlock()
	if state == "" {
		t.statusMu.Lock()
		t.final = true
		t.statusMu.Unlock()
		return
	}
	st, _ := s.w.snapshot()
	serial := control.NoSerial
	if st != nil {
		serial = st.Serial
	}
	s.taskStatus(t, state, "", serial, true)
}

// stopAll stops every task on the way out and reports them UNASSIGNED.
func (s *supervisor) stopAll() {
	s.mu.Lock()
	var tasks []*task
	var states []control.TaskState
	for key, t := range s.tasks {
		tasks = append(tasks, t)
		states = append(states, control.Unassigned)
		delete(s.tasks, key)
	}
	s.mu.Unlock()
	s.stop(tasks, states)
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		// stop already gave them 15 s.
		s.w.log.Error("tasks still running 20 s after the stop; exiting without them")
	}
}

func counts(c *engine.Counters) [4]int64 {
	return [4]int64{c.In.Load(), c.Out.Load(), c.Filtered.Load(), c.Failed.Load()}
}

// syncMetrics adds what a task counted since the last call to the metrics.
func (s *supervisor) syncMetrics(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := counts(t.counters)
	d := [4]int64{now[0] - t.synced[0], now[1] - t.synced[1], now[2] - t.synced[2], now[3] - t.synced[3]}
	t.synced = now
	t.metrics.AddIn(d[0])
	t.metrics.AddOut(d[1])
	t.metrics.AddFiltered(d[2])
	t.metrics.AddFailed(d[3])
	dropped := t.counters.Dropped.Load()
	t.metrics.AddDropped(dropped - t.dropped)
	t.dropped = dropped
}

// owns says whether the group assigned the task to this worker (any task
// before the first assignment).
func (s *supervisor) owns(key taskKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assigned == nil || s.assigned[key]
}

// report writes the counts of running tasks whose counts moved.
func (s *supervisor) report() {
	if n := s.status.retry(s.owns); n > 0 {
		s.w.log.Warn("task status records still waiting for the broker", "records", n)
	}
	st, sv := s.w.snapshot()
	s.mu.Lock()
	var moved, starting []*task
	for key, t := range s.tasks {
		problem := problemOf(t)
		if !t.opened.Load() {
			// It says RUNNING once it opened; meanwhile what keeps it
			// from opening (a cluster it cannot reach) is written as it
			// changes.
			if problem != t.reportedProblem {
				starting = append(starting, t)
			}
			continue
		}
		// Also when the status topic says otherwise (a slow previous
		// owner wrote after this worker started the task).
		stale := false
		if sv != nil {
			rec, ok := sv.Tasks[key.pipeline][key.task]
			stale = !ok || rec.WorkerID != s.w.id || rec.State != control.Running
		}
		if counts(t.counters) != t.reported || stale || problem != t.reportedProblem || t.sourceLag.differs(t.reportedLag) {
			moved = append(moved, t)
		}
	}
	uses := s.topicUses(sv)
	s.mu.Unlock()
	s.writeTopicUses(uses)
	serial := control.NoSerial
	if st != nil {
		serial = st.Serial
	}
	for _, t := range starting {
		s.taskStarting(t, serial)
	}
	for _, t := range moved {
		s.syncMetrics(t)
		serial := control.NoSerial
		if st != nil {
			serial = st.Serial
		}
		s.taskStatus(t, control.Running, "", serial, false)
	}
}

// topicRewrite is how long a topic record this worker wrote may be
// missing from its view of the status topic before it writes it again:
// long enough for its own write to come back, short enough that a topic
// still in use shows again soon after PUT .../topics/reset.
const topicRewrite = 10 * time.Second

// topicUse is a topic record to write for a task.
type topicUse struct {
	t     *task
	topic string
}

// topicUses lists the topics the running tasks used that the status
// topic does not record (KIP-558). It runs with s.mu held.
func (s *supervisor) topicUses(sv *control.StatusView) []topicUse {
	if sv == nil {
		return nil
	}
	now := time.Now()
	var out []topicUse
	for key, t := range s.tasks {
		for topic, written := range t.topics {
			if _, ok := sv.Topics[key.pipeline][topic]; ok || now.Sub(written) < topicRewrite {
				continue
			}
			t.topics[topic] = now
			out = append(out, topicUse{t, topic})
		}
	}
	return out
}

func (s *supervisor) writeTopicUses(uses []topicUse) {
	for _, u := range uses {
		ctx, cancel := context.WithTimeout(context.Background(), statusWriteTimeout)
		err := s.w.ctl.PutTopicUse(ctx, u.t.key.pipeline, control.TopicUse{Topic: u.topic, Task: u.t.key.task})
		cancel()
		if err != nil {
			s.w.log.Warn("could not record a topic the pipeline uses", "pipeline", u.t.key.pipeline, "topic", u.topic, "error", err)
			s.mu.Lock()
			u.t.topics[u.topic] = time.Time{}
			s.mu.Unlock()
		}
	}
}

// taskStatus writes a running task's status unless it already wrote its
// final one; final marks this write as the last.
func (s *supervisor) taskStatus(t *task, state control.TaskState, trace string, serial int64, final bool) {
	t.statusMu.Lock()
	defer t.statusMu.Unlock()
	if t.final {
		return
	}
	t.final = final
	s.putStatus(t.key, state, trace, serial, t)
}

// putStatus records a task's state in the status topic.
func (s *supervisor) putStatus(key taskKey, state control.TaskState, trace string, serial int64, t *task) {
	s.mu.Lock()
	gen := s.generation
	s.mu.Unlock()
	ts := control.TaskStatus{Pipeline: key.pipeline, Task: key.task, State: state, WorkerID: s.w.id, Trace: trace, Serial: serial, Generation: int64(gen)}
	if t != nil {
		c := counts(t.counters)
		ts.In, ts.Out, ts.Filtered, ts.Failed = c[0], c[1], c[2], c[3]
		ts.Started, ts.OutAtStart = t.started, t.outAtStart
		// A non-final UNASSIGNED of a task that has not opened says that
		// it is starting (taskStarting), with what keeps it from opening.
		ts.Starting = state == control.Unassigned && !t.final && !t.opened.Load()
		if state == control.Running || ts.Starting {
			if p, ok := t.counters.Problem(); ok {
				ts.Problem, ts.ProblemSince = p.String(), p.Since
			}
		}
		s.mu.Lock()
		t.reported = c
		t.reportedProblem = ts.Problem
		if state == control.Running {
			t.reportedLag = t.sourceLag
			if sl := t.sourceLag; sl != nil {
				records := sl.records
				ts.Lag, ts.LagSeconds = &records, sl.latency.Seconds()
			}
		}
		s.mu.Unlock()
	}
	if err := s.status.write(key, &ts); err != nil {
		s.w.log.Warn("cannot write task status yet; retrying", "pipeline", key.pipeline, "task", key.task, "state", state, "error", err)
		return
	}
	s.mu.Lock()
	s.reported[key] = state
	s.mu.Unlock()
}

// lags returns the consumer lag of the sink tasks this worker runs, as
// last measured by measureLag.
func (s *supervisor) lags() []metrics.Lag {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]metrics.Lag, 0, len(s.lag))
	for key, n := range s.lag {
		out = append(out, metrics.Lag{Pipeline: key.pipeline, Task: key.task, Records: n})
	}
	return out
}

// measureLag computes each local sink task's lag from its group: the
// partitions of the member whose instance id is the task's.
func (s *supervisor) measureLag() {
	s.mu.Lock()
	groups := map[string]bool{}
	for key := range s.tasks {
		if st, _ := s.w.snapshot(); st != nil {
			if r := st.Resources[key.pipeline]; r != nil && r.Pipeline != nil && r.Pipeline.Kind == configschema.Sink {
				groups[key.pipeline] = true
			}
		}
	}
	s.mu.Unlock()
	if len(groups) == 0 {
		return
	}
	names := make([]string, 0, len(groups))
	byGroup := map[string]string{}
	for p := range groups {
		g := control.SinkGroup(s.w.cfg.Fleet, p)
		names = append(names, g)
		byGroup[g] = p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lags, err := s.w.admin.Lag(ctx, names...)
	if err != nil {
		return
	}
	found := map[taskKey]int64{}
	for _, gl := range lags {
		pipeline := byGroup[gl.Group]
		for task, n := range taskLags(s.w.cfg.Fleet, pipeline, gl) {
			if task != unowned {
				found[taskKey{pipeline, task}] += n
			}
		}
	}
	s.mu.Lock()
	s.lag = found
	s.mu.Unlock()
}

// takeRestartRequests turns the fleet's restart requests (from REST or
// pipectl restart, through the status topic) into local restarts of the
// tasks this worker runs or ran, each request once.
func (s *supervisor) takeRestartRequests(sv *control.StatusView) {
	if sv == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	consider := func(key taskKey, started time.Time, failed bool) {
		for _, task := range []int{key.task, -1} {
			req, ok := sv.Restarts[key.pipeline][task]
			if !ok || !req.Time.After(started) || !req.Time.After(s.handled[key]) || req.OnlyFailed && !failed {
				continue
			}
			s.handled[key] = req.Time
			s.restart[key] = true
		}
	}
	for key, t := range s.tasks {
		consider(key, t.started, false)
	}
	for key, f := range s.failed {
		consider(key, f.at, true)
	}
}

// maxRestartBackoff caps the doubling wait between automatic restarts.
const maxRestartBackoff = 10 * time.Minute

// autoRestart applies a pipeline's restart block to a failed task (the
// caller holds s.mu): once its wait has passed it forgets the failure, so
// that the task starts again, and counts the attempt; before that it sets
// a timer that wakes the supervisor. It reports whether the task may start.
func (s *supervisor) autoRestart(key taskKey, f failure, d desiredTask) bool {
	policy := d.res.Pipeline.Restart
	if policy == nil || s.attempts[key] >= policy.MaxAttempts {
		return false
	}
	first, err := time.ParseDuration(policy.Backoff)
	if err != nil || first <= 0 {
		first = 10 * time.Second
	}
	// Worked out again at every pass from the attempts made: no jitter.
	backoff := retry.Backoff{Initial: first, Max: maxRestartBackoff}.Wait(s.attempts[key])
	wait := time.Until(f.at.Add(backoff))
	if wait > 0 {
		if !s.wakeups[key] {
			s.wakeups[key] = true
			time.AfterFunc(wait, s.w.poke)
		}
		return false
	}
	delete(s.wakeups, key)
	delete(s.failed, key)
	s.attempts[key]++
	s.w.log.Info("restarting a failed task automatically", "pipeline", key.pipeline, "task", key.task,
		"attempt", s.attempts[key], "of", policy.MaxAttempts)
	return true
}
