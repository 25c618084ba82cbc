package worker_test

import (
	"bufio"
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
