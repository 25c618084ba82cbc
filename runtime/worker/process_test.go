package worker_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/control"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
	binDir    string
)

// pipectlBinary builds cmd/pipectl once per test binary.
func pipectlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "pipectl")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, "github.com/pipectl/pipectl/cmd/pipectl").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

var listening = regexp.MustCompile(`^worker (\S+) listening on (http://\S+)$`)

// workerProcess is a `pipectl worker` child process.
type workerProcess struct {
	cmd  *exec.Cmd
	id   string
	url  string
	done chan error
	mu   sync.Mutex
	errb strings.Builder
}

// startWorkerProcess runs `pipectl worker` for the fixture's fleet and
// waits for its listening line.
func (f *fixture) startWorkerProcess(args ...string) *workerProcess {
	f.t.Helper()
	bin := pipectlBinary(f.t)
	all := append([]string{"worker", "-brokers", f.kcfg.Brokers[0], "-fleet", f.fleet, "-http", "127.0.0.1:0"}, args...)
	cmd := exec.Command(bin, all...)
	cmd.Env = append(cmd.Environ(), "PIPECTL_STATE_KEY="+stateKeyB64, "PIPECTL_LOG=info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	p := &workerProcess{cmd: cmd, done: make(chan error, 1)}
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.errb.Write(b)
		return len(b), nil
	})
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if f.t.Failed() {
			f.t.Logf("worker %s stderr:\n%s", p.id, p.stderr())
		}
	})
	lines := bufio.NewScanner(stdout)
	first := make(chan string, 1)
	go func() {
		if lines.Scan() {
			first <- lines.Text()
		}
		close(first)
		_, _ = io.Copy(io.Discard, stdout)
		p.done <- cmd.Wait()
	}()
	select {
	case line := <-first:
		m := listening.FindStringSubmatch(line)
		if m == nil {
			f.t.Fatalf("worker printed %q, want its listening line; stderr:\n%s", line, p.stderr())
		}
		p.id, p.url = m[1], m[2]
	case <-time.After(30 * time.Second):
		f.t.Fatalf("the worker did not start; stderr:\n%s", p.stderr())
	}
	return p
}

func (p *workerProcess) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.errb.String()
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

// TestWorkerSIGTERM stops a worker process with SIGTERM while records
// flow: it exits 0, well within the deadline that catches a hang, and
// reports its tasks UNASSIGNED.
func TestWorkerSIGTERM(t *testing.T) {
	f := newFixture(t, "term")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 500
  value = "{'id': seq}"
  tasks = 2
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`)
	p := f.startWorkerProcess()
	out := filepath.Join(f.dir, "out.jsonl")
	eventually(t, 30*time.Second, "records flowing", func() (bool, string) { return len(readLines(out)) > 50, "" })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("worker exited with %v; stderr:\n%s", err, p.stderr())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not exit after SIGTERM")
	}
	p.done <- nil // for the cleanup
	v, err := f.ctl.ReadStatus(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"source.generator.g", "sink.file.out"} {
		for i, ts := range v.Tasks[addr] {
			if ts.State != control.Unassigned || ts.WorkerID != p.id {
				t.Errorf("%s task %d: %s on %s, want UNASSIGNED on %s", addr, i, ts.State, ts.WorkerID, p.id)
			}
		}
	}
	if len(v.Tasks["source.generator.g"]) != 2 {
		t.Errorf("status of %d generator tasks, want 2", len(v.Tasks["source.generator.g"]))
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// pipectl runs the binary against the fixture's fleet and returns stdout.
func (f *fixture) pipectl(args ...string) (string, error) {
	f.t.Helper()
	cmd := exec.Command(pipectlBinary(f.t), append(args, "-brokers", f.kcfg.Brokers[0], "-fleet", f.fleet)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%v: %s", err, stderr.String())
	}
	return stdout.String(), nil
}

// TestOpsCommands drives a worker process through pipectl status, workers,
// pause, resume, restart and offsets, as an operator would.
func TestOpsCommands(t *testing.T) {
	f := newFixture(t, "opsfleet")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 100
  value = "{'id': seq}"
}
sink "file" "out" {
  topics = [topic.t.name]
  path   = "out.jsonl"
}
`)
	p := f.startWorkerProcess()
	type report struct {
		Pipelines []struct {
			Address, State string
			Tasks          []struct {
				State    string
				WorkerID string `json:"worker_id"`
				Out      int64  `json:"records_out"`
			}
		}
	}
	state := func(addr string) string {
		out, err := f.pipectl("status", "-json")
		if err != nil {
			return err.Error()
		}
		var r report
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			return err.Error()
		}
		for _, pl := range r.Pipelines {
			if pl.Address == addr {
				return pl.State
			}
		}
		return "missing"
	}
	eventually(t, 30*time.Second, "RUNNING in pipectl status", func() (bool, string) {
		s := state("source.generator.g")
		return s == "RUNNING", s
	})
	out, err := f.pipectl("workers", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var ws struct {
		Workers []struct{ WorkerID, URL string }
	}
	if err := json.Unmarshal([]byte(out), &ws); err != nil || len(ws.Workers) != 1 || ws.Workers[0].URL != p.url {
		t.Fatalf("pipectl workers: %s (%v)", out, err)
	}
	if _, err := f.pipectl("pause", "source.generator.g"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "PAUSED", func() (bool, string) {
		s := state("source.generator.g")
		return s == "PAUSED", s
	})
	if out, err := f.pipectl("offsets", "source.generator.g", "-json"); err != nil || !strings.Contains(out, `"seq"`) {
		t.Errorf("pipectl offsets: %s %v", out, err)
	}
	if _, err := f.pipectl("offsets", "sink.file.out", "-reset", "earliest"); err == nil {
		t.Error("resetting the offsets of a running sink was accepted")
	}
	if _, err := f.pipectl("resume", "source.generator.g"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "RUNNING again", func() (bool, string) {
		s := state("source.generator.g")
		return s == "RUNNING", s
	})
	if _, err := f.pipectl("restart", "sink.file.out"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pipectl("pause", "source.generator.nope"); err == nil {
		t.Error("pausing an unknown pipeline succeeded")
	}

	// A paused sink's offsets can be reset: its static consumers are
	// removed from the group first, and every partition must succeed.
	if _, err := f.pipectl("pause", "sink.file.out"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the sink PAUSED", func() (bool, string) {
		s := state("sink.file.out")
		return s == "PAUSED", s
	})
	if out, err := f.pipectl("offsets", "sink.file.out", "-json"); err != nil || !strings.Contains(out, "kafka_offset") {
		t.Fatalf("sink offsets before the reset: %s %v", out, err)
	}
	if _, err := f.pipectl("offsets", "sink.file.out", "-reset", "earliest"); err != nil {
		t.Fatalf("resetting a paused sink: %v", err)
	}
	if out, err := f.pipectl("offsets", "sink.file.out", "-json"); err != nil || strings.Contains(out, "kafka_offset") {
		t.Errorf("sink offsets after the reset: %s %v", out, err)
	}
}
