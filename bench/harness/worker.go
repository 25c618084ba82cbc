package harness

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/control"
)

// The scenarios of this file measure a `pipectl worker` process itself:
// its start, its memory and (with the fleet) its failover.

const mib = 1 << 20

// firstRecord consumes topic from its start in the background and sends
// the time its first record arrived (closing the channel without one after
// timeout). It returns once the consumer has reached the partition, so
// that its own start is not counted.
func (e *env) firstRecord(ctx context.Context, topic string, timeout time.Duration) (<-chan time.Time, func(), error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.broker.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(20*time.Millisecond))
	if err != nil {
		return nil, nil, err
	}
	got := make(chan time.Time, 1)
	pollCtx, cancel := context.WithTimeout(ctx, timeout)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(got)
		for pollCtx.Err() == nil {
			if f := cl.PollRecords(pollCtx, 1); len(f.Records()) > 0 {
				got <- time.Now()
				return
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
	return got, func() { cancel(); <-done; cl.Close() }, nil
}

// generatorHCL is a small generator pipeline writing to topic.
func generatorHCL(name, topic string) string {
	return fmt.Sprintf("source \"generator\" %q {\n  topic = %q\n  count = 1000\n  value = \"{'id': seq}\"\n}\n\n", name, topic)
}

// runStartup measures `pipectl worker` start → the first record of a
// generator pipeline applied before the worker started, as a consumer
// sees it; and then, with that worker running, apply of a second
// generator → its first record (apply_seconds).
func runStartup(ctx context.Context, e *env) (*Result, error) {
	var first, listening, applied []float64
	for i := range e.cfg.Runs {
		fleet := e.fleetName(i)
		topics := []string{"bench.startup." + strconv.Itoa(i), "bench.startup." + strconv.Itoa(i) + ".applied"}
		for _, t := range topics {
			if err := e.broker.createTopic(ctx, t, 1); err != nil {
				return nil, err
			}
		}
		ctl, err := e.broker.controlOf(ctx, fleet)
		if err != nil {
			return nil, err
		}
		defer ctl.Close()
		fc, err := loadConfig(e.dir, fleet, generatorHCL("bench", topics[0]))
		if err == nil {
			err = apply(ctx, ctl, fc)
		}
		if err != nil {
			return nil, err
		}
		got, stopConsumer, err := e.firstRecord(ctx, topics[0], time.Minute)
		if err != nil {
			return nil, err
		}
		w, err := e.launchWorker(ctx, fleet)
		if err != nil {
			stopConsumer()
			return nil, err
		}
		listened := time.Since(w.started)
		at, ok := <-got
		stopConsumer()
		if !ok {
			w.kill()
			return nil, fmt.Errorf("no record in %s within a minute of the worker's start%s", topics[0], w.stderrTail())
		}
		d := at.Sub(w.started)

		// Apply to the running worker.
		fc, err = loadConfig(e.dir, fleet, generatorHCL("bench", topics[0])+generatorHCL("applied", topics[1]))
		if err != nil {
			w.kill()
			return nil, err
		}
		got, stopConsumer, err = e.firstRecord(ctx, topics[1], time.Minute)
		if err != nil {
			w.kill()
			return nil, err
		}
		start := time.Now()
		err = apply(ctx, ctl, fc)
		at2, ok := <-got
		stopConsumer()
		if _, stopErr := w.stop(30 * time.Second); stopErr != nil {
			e.logf("stopping the worker: %v", stopErr)
		}
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no record in %s within a minute of the apply%s", topics[1], w.stderrTail())
		}
		a := at2.Sub(start)
		e.logf("run %d: first record %s after the worker's start (REST API up after %s); %s after an apply to the running worker",
			i+1, d.Round(time.Millisecond), listened.Round(time.Millisecond), a.Round(time.Millisecond))
		first, listening, applied = append(first, d.Seconds()), append(listening, listened.Seconds()), append(applied, a.Seconds())
		if err := e.broker.deleteTopics(ctx, topics...); err != nil {
			return nil, err
		}
	}
	res := &Result{Unit: "s", Metrics: []Metric{
		NewMetric("pipectl", first...),
		NewMetric("apply_seconds", applied...),
		detail(NewMetric("listening_seconds", listening...)),
	}}
	met := res.Metrics[0].Median < 1
	res.Met = &met
	return res, nil
}

// runRSS measures VmRSS of a `pipectl worker` with no pipeline, and again
// with IdlePipelines file sinks each waiting on an empty topic of its own.
func runRSS(ctx context.Context, e *env) (*Result, error) {
	n := e.cfg.IdlePipelines
	var idle, loaded, per []float64
	for i := range e.cfg.Runs {
		fleet := e.fleetName(i)
		ctl, err := e.broker.controlOf(ctx, fleet)
		if err != nil {
			return nil, err
		}
		w, err := e.startWorker(ctx, fleet)
		if err != nil {
			ctl.Close()
			return nil, err
		}
		measure := func() (int64, error) {
			time.Sleep(3 * time.Second) // let the start settle (GC, group joins)
			return vmRSS(w.pid())
		}
		before, err := measure()
		var after int64
		var topics []string
		if err == nil {
			var sb strings.Builder
			for k := range n {
				topic := fmt.Sprintf("bench.rss.%d.%d", i, k)
				topics = append(topics, topic)
				if err = e.broker.createTopic(ctx, topic, 1); err != nil {
					break
				}
				fmt.Fprintf(&sb, "sink \"file\" \"idle%d\" {\n  topics = [%q]\n  path   = %q\n}\n\n", k, topic,
					filepath.Join(e.dir, "rss", fleet, topic+".jsonl"))
			}
			var fc *fleetConfig
			if err == nil {
				fc, err = loadConfig(e.dir, fleet, sb.String())
			}
			if err == nil {
				err = apply(ctx, ctl, fc)
			}
			if err == nil {
				_, err = waitFor(ctx, 2*time.Minute, func() (int64, bool, error) {
					st, err := w.statuses(ctx)
					if err != nil {
						return 0, false, nil
					}
					r := running(st)
					return int64(r), r == n, nil
				}, func() error { return w.healthy(ctx) })
			}
			if err == nil {
				after, err = measure()
			}
		}
		ctl.Close()
		if _, stopErr := w.stop(30 * time.Second); stopErr != nil {
			e.logf("stopping the worker: %v", stopErr)
		}
		if err != nil {
			return nil, fmt.Errorf("%w%s", err, w.stderrTail())
		}
		if len(topics) > 0 {
			if err := e.broker.deleteTopics(ctx, topics...); err != nil {
				return nil, err
			}
		}
		b, a := float64(before)/mib, float64(after)/mib
		e.logf("run %d: idle %.1f MiB, with %d idle pipelines %.1f MiB (%.2f MiB each)", i+1, b, n, a, (a-b)/float64(n))
		idle, loaded, per = append(idle, b), append(loaded, a), append(per, (a-b)/float64(n))
	}
	res := &Result{Unit: "MiB", Metrics: []Metric{
		NewMetric("idle", idle...),
		NewMetric("per_pipeline", per...),
		NewMetric("with_"+strconv.Itoa(n), loaded...),
	}}
	met := res.Metrics[0].Median < 50 && res.Metrics[1].Median < 1
	res.Met = &met
	return res, nil
}

// sessionTimeout is the fleet's default session timeout (issue 6), the
// failover scenario's baseline.
const sessionTimeout = 10 * time.Second

// fleetPresent reports whether pipectl has fleet membership: the
// `pipectl workers` command of issue 6 exists.
func fleetPresent(pipectl string) bool {
	return exec.Command(pipectl, "workers", "-h").Run() == nil
}

// runFailover runs three workers of one fleet sharing a 6-task generator,
// kills one with SIGKILL, and measures until every task is RUNNING on a
// survivor, as the status topic (through a survivor's REST API) shows.
func runFailover(ctx context.Context, e *env) (*Result, error) {
	if !fleetPresent(e.cfg.Pipectl) {
		return &Result{Skipped: "fleet membership not present (no `pipectl workers` command yet, issue 6)"}, nil
	}
	var took []float64
	for i := range e.cfg.Runs {
		d, err := e.failoverRun(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		e.logf("run %d: tasks moved %s after the kill", i+1, d.Round(10*time.Millisecond))
		took = append(took, d.Seconds())
	}
	res := &Result{Unit: "s", Metrics: []Metric{
		NewMetric("pipectl", took...),
		NewMetric("session_timeout", sessionTimeout.Seconds()),
	}}
	met := res.Metrics[0].Median <= (sessionTimeout + 5*time.Second).Seconds()
	res.Met = &met
	return res, nil
}

func (e *env) failoverRun(ctx context.Context, i int) (time.Duration, error) {
	f, err := e.startFleetOfThree(ctx, "failover", i, false)
	if err != nil {
		return 0, err
	}
	defer f.close()
	f.victim.kill()
	killed := time.Now()
	var live []*workerProc
	for _, w := range f.workers {
		if w != f.victim {
			live = append(live, w)
		}
	}
	for {
		if _, ok := f.owners(ctx, ids(live)); ok {
			return time.Since(killed), nil
		}
		if time.Since(killed) > 2*time.Minute {
			return 0, errors.New("the dead worker's tasks did not run elsewhere within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleetTasks is how many tasks the fleet scenarios' generator has.
const fleetTasks = 6

// fleetOfThree is three workers of one fleet sharing a 6-task generator.
type fleetOfThree struct {
	e       *env
	topic   string
	ctl     *control.Control
	workers []*workerProc
	victim  *workerProc // a worker that runs tasks, not the first
}

// startFleetOfThree applies a 6-task generator to a new fleet, starts three
// workers (with -id NAME-RUN-K when withIDs is set, else the default id)
// and waits until the tasks run spread over them.
func (e *env) startFleetOfThree(ctx context.Context, name string, i int, withIDs bool) (*fleetOfThree, error) {
	fleet := e.fleetName(i)
	f := &fleetOfThree{e: e, topic: "bench." + name + "." + strconv.Itoa(i)}
	if err := e.broker.createTopic(ctx, f.topic, fleetTasks); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			f.close()
		}
	}()
	var err error
	if f.ctl, err = e.broker.controlOf(ctx, fleet); err != nil {
		return nil, err
	}
	fc, err := loadConfig(e.dir, fleet, fmt.Sprintf("source \"generator\" \"bench\" {\n  topic = %q\n  rate  = 600\n  tasks = %d\n  value = \"{'id': seq}\"\n}\n", f.topic, fleetTasks))
	if err != nil {
		return nil, err
	}
	if err := apply(ctx, f.ctl, fc); err != nil {
		return nil, err
	}
	for k := range 3 {
		var args []string
		if withIDs {
			args = []string{"-id", fmt.Sprintf("%s-%d-%d", name, i, k)}
		}
		w, err := e.startWorker(ctx, fleet, args...)
		if err != nil {
			return nil, err
		}
		f.workers = append(f.workers, w)
	}
	deadline := time.Now().Add(90 * time.Second)
	for f.victim == nil {
		if o, ok := f.owners(ctx, ids(f.workers)); ok {
			for _, w := range f.workers[1:] {
				if slices.Contains(o, w.id) {
					f.victim = w
					break
				}
			}
		}
		if time.Now().After(deadline) {
			return nil, errors.New("the 6 tasks did not spread over the 3 workers within 90s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ok = true
	return f, nil
}

// owners returns the worker of each task once all run on members of live,
// as the first worker's REST API shows the status topic.
func (f *fleetOfThree) owners(ctx context.Context, live []string) ([]string, bool) {
	st, err := f.workers[0].statuses(ctx)
	if err != nil {
		return nil, false
	}
	var out []string
	for _, s := range st {
		for _, t := range s.Tasks {
			if t.State == "RUNNING" && slices.Contains(live, t.WorkerID) {
				out = append(out, t.WorkerID)
			}
		}
	}
	return out, len(out) == fleetTasks
}

func (f *fleetOfThree) close() {
	for _, w := range f.workers {
		if exited, _ := w.exited(); !exited {
			w.stop(30 * time.Second)
		}
	}
	if f.ctl != nil {
		f.ctl.Close()
	}
	f.e.broker.deleteTopics(context.Background(), f.topic)
}

func ids(ws []*workerProc) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.id
	}
	return out
}

// runRestart runs three workers of one fleet with fixed ids sharing a
// 6-task generator, kills one with SIGKILL and starts it again at once
// with the same id, and measures from the kill until every task it ran
// runs again on it (a new run of each, as the status topic shows); its
// static membership replaces the dead member instead of waiting for the
// session timeout.
func runRestart(ctx context.Context, e *env) (*Result, error) {
	if !fleetPresent(e.cfg.Pipectl) {
		return &Result{Skipped: "fleet membership not present (no `pipectl workers` command yet, issue 6)"}, nil
	}
	var took, listened []float64
	for i := range e.cfg.Runs {
		d, l, err := e.restartRun(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i+1, err)
		}
		e.logf("run %d: the restarted worker ran its tasks again %s after the kill (it listened after %s)",
			i+1, d.Round(10*time.Millisecond), l.Round(10*time.Millisecond))
		took, listened = append(took, d.Seconds()), append(listened, l.Seconds())
	}
	res := &Result{Unit: "s", Metrics: []Metric{
		NewMetric("pipectl", took...),
		NewMetric("session_timeout", sessionTimeout.Seconds()),
		detail(NewMetric("listening_seconds", listened...)),
	}}
	met := res.Metrics[0].Median <= 3
	res.Met = &met
	return res, nil
}

// restartRun is one run of restart: the time from the kill until the
// victim's tasks run again on its new process, and until that process
// printed its listening line.
func (e *env) restartRun(ctx context.Context, i int) (time.Duration, time.Duration, error) {
	f, err := e.startFleetOfThree(ctx, "restart", i, true)
	if err != nil {
		return 0, 0, err
	}
	defer f.close()
	sv, err := f.ctl.ReadStatus(ctx)
	if err != nil {
		return 0, 0, err
	}
	var mine []int // the victim's tasks
	for task, ts := range sv.Tasks[bench] {
		if ts.WorkerID == f.victim.id && ts.State == control.Running {
			mine = append(mine, task)
		}
	}
	if len(mine) == 0 {
		return 0, 0, fmt.Errorf("the status topic shows no task of %s running", f.victim.id)
	}
	f.victim.kill()
	killed := time.Now()
	again, err := e.launchWorker(ctx, e.fleetName(i), "-id", f.victim.id)
	if err != nil {
		return 0, 0, err
	}
	listened := time.Since(killed)
	f.workers = append(f.workers, again)
	for {
		sv, err := f.ctl.ReadStatus(ctx)
		if err == nil {
			n := 0
			for _, task := range mine {
				ts := sv.Tasks[bench][task]
				if ts.WorkerID == again.id && ts.State == control.Running && ts.Started.After(killed) {
					n++
				}
			}
			if n == len(mine) {
				return time.Since(killed), listened, nil
			}
		}
		if exited, err := again.exited(); exited {
			return 0, 0, fmt.Errorf("the restarted worker exited: %v%s", err, again.stderrTail())
		}
		if time.Since(killed) > 2*time.Minute {
			return 0, 0, errors.New("the restarted worker's tasks did not run again within 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bench is the address of the fleet scenarios' generator.
const bench = "source.generator.bench"
