package kafka_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// buildPipectl builds the pipectl binary into a temporary directory.
func buildPipectl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pipectl")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/pipectl/pipectl/cmd/pipectl").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// brokerProc is a running `pipectl broker` child process.
type brokerProc struct {
	cmd    *exec.Cmd
	addr   string
	stdout *lineWriter
	stderr *bytes.Buffer
	done   chan struct{}
	err    error // of Wait, once done is closed
}

var listeningLine = regexp.MustCompile(`^broker listening on (127\.0\.0\.1:[0-9]+)$`)

// startBrokerProc runs `pipectl broker ARGS...` and waits for its
// "broker listening on" line.
func startBrokerProc(t *testing.T, bin string, args ...string) *brokerProc {
	t.Helper()
	p := &brokerProc{
		cmd:    exec.Command(bin, append([]string{"broker"}, args...)...),
		stdout: newLineWriter(),
		stderr: new(bytes.Buffer),
		done:   make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case line := <-p.stdout.first:
		m := listeningLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q; want %q", line, listeningLine)
		}
		p.addr = m[1]
	case <-p.done:
		t.Fatalf("pipectl broker %s exited before listening: %v\n%s", strings.Join(args, " "), p.err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("pipectl broker %s printed no line in 60s", strings.Join(args, " "))
	}
	return p
}

// stop sends sig and waits for the process to exit, returning its exit
// code (-1 when a signal ended it).
func (p *brokerProc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("pipectl broker did not exit in 60s after %v", sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// lineWriter collects output and hands over its first line.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	sent  bool
	first chan string
}

func newLineWriter() *lineWriter { return &lineWriter{first: make(chan string, 1)} }

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	if line, _, ok := strings.Cut(w.buf.String(), "\n"); ok && !w.sent {
		w.sent = true
		w.first <- line
	}
	return len(b), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestBrokerCommand runs `pipectl broker` as a process: it prints its
// address, a second broker on that address fails with exit code 1 and a
// clear error, SIGTERM stops it with exit code 0 after saving the data
// directory, and a restart (stopped with SIGINT) serves the records again.
func TestBrokerCommand(t *testing.T) {
	bin := buildPipectl(t)
	dir := t.TempDir()
	p := startBrokerProc(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)

	second := exec.Command(bin, "broker", "-listen", p.addr)
	var stdout, stderr bytes.Buffer
	second.Stdout, second.Stderr = &stdout, &stderr
	err := second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("second broker on %s: %v; want exit status 1", p.addr, err)
	}
	if want := "Cannot listen on " + p.addr + ": the address is already in use."; !strings.Contains(stderr.String(), want) {
		t.Errorf("second broker stderr:\n%s\nwant it to contain %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("second broker stdout: %q; want nothing", stdout.String())
	}

	cfg := kafka.Config{Brokers: []string{p.addr}}
	cl := newClient(t, cfg)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "kept", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "kept", 50)
	cl.Close()
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d; want 0\n%s", code, p.stderr)
	}
	if got := p.stdout.String(); got != "broker listening on "+p.addr+"\n" {
		t.Errorf("stdout %q; want only the listening line", got)
	}

	p2 := startBrokerProc(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)
	consumeN(t, kafka.Config{Brokers: []string{p2.addr}}, "kept", 50)
	if code := p2.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("SIGINT: exit code %d; want 0\n%s", code, p2.stderr)
	}
}
