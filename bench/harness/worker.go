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
	const tasks = 6
	fleet := e.fleetName(i)
	topic := "bench.failover." + strconv.Itoa(i)
	if err := e.broker.createTopic(ctx, topic, tasks); err != nil {
		return 0, err
	}
	defer e.broker.deleteTopics(context.WithoutCancel(ctx), topic)
	ctl, err := e.broker.controlOf(ctx, fleet)
	if err != nil {
		return 0, err
	}
	defer ctl.Close()
	fc, err := loadConfig(e.dir, fleet, fmt.Sprintf("source \"generator\" \"bench\" {\n  topic = %q\n  rate  = 600\n  tasks = %d\n  value = \"{'id': seq}\"\n}\n", topic, tasks))
	if err != nil {
		return 0, err
	}
	if err := apply(ctx, ctl, fc); err != nil {
		return 0, err
	}
	var workers []*workerProc
	defer func() {
		for _, w := range workers {
			if exited, _ := w.exited(); !exited {
				w.stop(30 * time.Second)
			}
		}
	}()
	for range 3 {
		w, err := e.startWorker(ctx, fleet)
		if err != nil {
			return 0, err
		}
		workers = append(workers, w)
	}
	ids := func(ws []*workerProc) []string {
		out := make([]string, len(ws))
		for i, w := range ws {
			out[i] = w.id
		}
		return out
	}
	// owners returns the worker of each task once all run on members of
	// live.
	owners := func(w *workerProc, live []string) ([]string, bool) {
		st, err := w.statuses(ctx)
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
		return out, len(out) == tasks
	}
	// Wait for the spread.
	var victim *workerProc
	deadline := time.Now().Add(90 * time.Second)
	for victim == nil {
		if o, ok := owners(workers[0], ids(workers)); ok {
			for _, w := range workers[1:] {
				if slices.Contains(o, w.id) {
					victim = w
					break
				}
			}
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the 6 tasks did not spread over the 3 workers within 90s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	victim.kill()
	killed := time.Now()
	var live []*workerProc
	for _, w := range workers {
		if w != victim {
			live = append(live, w)
		}
	}
	for {
		if _, ok := owners(workers[0], ids(live)); ok {
			return time.Since(killed), nil
		}
		if time.Since(killed) > 2*time.Minute {
			return 0, errors.New("the dead worker's tasks did not run elsewhere within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
