//go:build long

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// childEnv, when set, makes the test binary run one sink task (childSpec,
// as JSON) instead of the tests: TestLongCommitterKill9 starts it so that
// it can kill it with SIGKILL.
const childEnv = "PIPECTL_ENGINE_TEST_SINK_TASK"

// childSpec is the sink task a child process runs: a batchSink writing
// units to Dir, against the broker at Brokers.
type childSpec struct {
	Brokers       []string
	Dir, Run      string
	N             int
	Delay         time.Duration
	FlushInterval time.Duration
}

// dirStore writes each unit as a file of a directory, durably: a
// temporary file, fsync, rename, fsync of the directory. A kill -9 leaves
// whole files and temporary files, never a torn unit.
type dirStore struct {
	dir, run string
}

func (d dirStore) put(u unit) error {
	u.Run = d.run
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d-%s-%d-%d.json", d.run, u.Task, u.Topic, u.Partition, u.Offsets[0])
	tmp := filepath.Join(d.dir, name+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(d.dir, name)); err != nil {
		return err
	}
	dir, err := os.Open(d.dir)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// readUnits reads the units of a dirStore directory.
func readUnits(t *testing.T, dir string) []unit {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []unit
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var u unit
		if err := json.Unmarshal(b, &u); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, u)
	}
	return out
}

func TestMain(m *testing.M) {
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(runChild(raw))
	}
	os.Exit(m.Run())
}

// killPipeline is the pipeline of TestLongCommitterKill9.
var killPipeline = &control.PipelineSpec{Kind: "sink", Type: "test", Topics: []string{"in"}}

// killConsumer builds the consumer of the task of TestLongCommitterKill9,
// a static member as the worker's are, so that the next run takes the
// killed one's place at once.
func killConsumer(cfg kafka.Config) func(opts ...kgo.Opt) (*kgo.Client, error) {
	return func(opts ...kgo.Opt) (*kgo.Client, error) {
		base := []kgo.Opt{kgo.InstanceID("fleet.sink.test.files.0"), kgo.SessionTimeout(10 * time.Second),
			kgo.FetchMaxWait(200 * time.Millisecond), kgo.FetchMaxPartitionBytes(4096)}
		return kafka.NewClient(cfg, append(base, opts...)...)
	}
}

// runChild runs the task of a childSpec until SIGTERM (or SIGKILL) and
// returns the exit code; it prints "running" once the task opened.
func runChild(raw string) int {
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var v violations
	reg, err := newTestRegistry(nil, func() connector.Sink {
		s := newBatchSink(spec.N, dirStore{dir: spec.Dir, run: spec.Run}, &v)
		s.delay = spec.Delay
		return s
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	p, err := Compile("sink.test.files", killPipeline, reg, nil, func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = Run(ctx, TaskArgs{Pipeline: p, Fleet: "fleet", NewConsumer: killConsumer(kafka.Config{Brokers: spec.Brokers}),
		FlushInterval: spec.FlushInterval, OnRunning: func() { fmt.Println("running") }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if len(v.list) > 0 {
		fmt.Fprintln(os.Stderr, strings.Join(v.list, "\n"))
		return 1
	}
	return 0
}

// TestLongCommitterKill9 kills with SIGKILL a process that runs a sink task
// whose sink makes records durable in files of 20 records (written with
// fsync and rename), in the middle of the stream, then runs the task again
// on the same directory until every record is in a file. Nothing is lost;
// the records written twice are exactly those the killed run had made
// durable past the offsets it had committed (its next run starts there).
func TestLongCommitterKill9(t *testing.T) {
	const parts, n, perPart = 3, 20, 2000
	c := startCluster(t)
	c.createTopic(t, "in", parts)
	// Small batches of 7: the sink holds records of each partition that
	// are not in a file yet whenever the task commits.
	for i := 0; i < perPart; i += 7 {
		c.producePartitions(t, "in", parts, i, min(i+7, perPart))
	}
	dir := t.TempDir()

	spec, err := json.Marshal(childSpec{Brokers: c.cfg.Brokers, Dir: dir, Run: "killed", N: n,
		Delay: 3 * time.Millisecond, FlushInterval: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	units := func() int {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		return len(names)
	}
	total := parts * perPart / n
	waitFor(t, "a third of the files", func() bool {
		select {
		case err := <-done:
			t.Fatalf("the child exited before it was killed: %v\n%s", err, stderr.String())
		default:
		}
		return units() >= total/3
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
	done <- nil // for the cleanup
	killed := readUnits(t, dir)
	if len(killed) >= total {
		t.Fatalf("the child wrote all %d files before it was killed", len(killed))
	}
	atKill := c.committedOffsets(t, "fleet.sink.test.files", "in")

	// The next run, in this process, on the same directory.
	var v violations
	reg := testRegistry(t, nil, func() connector.Sink { return newBatchSink(n, dirStore{dir: dir, run: "next"}, &v) })
	a := sinkArgs(c, mustCompile(t, "sink.test.files", killPipeline, reg))
	a.NewConsumer = killConsumer(c.cfg)
	r := runTask(t, a)
	waitFor(t, "every record in a file", func() bool { return complete(readUnits(t, dir), "in", parts, perPart) })
	if _, err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	v.check(t)

	all := readUnits(t, dir)
	if !complete(all, "in", parts, perPart) {
		t.Fatal("records lost")
	}
	// The next run starts each partition at the committed offset: its
	// first file there.
	start := map[int32]int64{}
	for _, u := range all {
		if s, ok := start[u.Partition]; u.Run == "next" && (!ok || u.Offsets[0] < s) {
			start[u.Partition] = u.Offsets[0]
		}
	}
	for p := range int32(parts) {
		if s, ok := start[p]; atKill[p] < perPart && (!ok || s != atKill[p]) {
			t.Errorf("partition %d: the next run started at %d (written: %v), not at the offset committed at the kill, %d", p, s, ok, atKill[p])
		}
	}
	var want, got []string
	for _, u := range killed {
		for _, o := range u.Offsets {
			if o >= atKill[u.Partition] {
				want = append(want, fmt.Sprintf("%d/%d", u.Partition, o))
			}
		}
	}
	for tp, offs := range durableCounts(all) {
		for o, k := range offs {
			if k > 1 {
				got = append(got, fmt.Sprintf("%d/%d", tp.Partition, o))
			}
			if k > 2 {
				t.Errorf("%d/%d is in %d files", tp.Partition, o, k)
			}
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records written twice (-want: durable past the commit at the kill, +got):\n%s", diff)
	}
	t.Logf("killed after %d of %d files; committed then %v; %d records written twice (durable, not committed yet)",
		len(killed), total, atKill, len(got))
}
