package kafkatest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// BrokerProcess is a `pipectl broker` child process: a broker that a test
// can kill -9 and start again on the same port and data directory.
type BrokerProcess struct {
	// Addr is the address the broker printed in its listening line.
	Addr string

	cmd    *exec.Cmd
	stdout *lineWriter
	stderr *lineWriter
	done   chan struct{}
	err    error // of Wait, once done is closed
}

var listeningLine = regexp.MustCompile(`^broker listening on (127\.0\.0\.1:[0-9]+)$`)

// StartProcess runs `BIN broker ARGS...` (bin is a built pipectl) and
// waits for its "broker listening on" line. t.Cleanup kills it.
func StartProcess(t testing.TB, bin string, args ...string) *BrokerProcess {
	t.Helper()
	p := &BrokerProcess{
		cmd:    exec.Command(bin, append([]string{"broker"}, args...)...),
		stdout: newLineWriter(),
		stderr: newLineWriter(),
		done:   make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	select {
	case line := <-p.stdout.first:
		m := listeningLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("first line %q; want %q", line, listeningLine)
		}
		p.Addr = m[1]
	case <-p.done:
		t.Fatalf("pipectl broker %s exited before listening: %v\n%s", strings.Join(args, " "), p.err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("pipectl broker %s printed no line in 60s", strings.Join(args, " "))
	}
	return p
}

// Stop sends sig and waits for the process to exit, returning its exit
// code (-1 when a signal ended it).
func (p *BrokerProcess) Stop(t testing.TB, sig os.Signal) int {
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

// Stdout is what the broker printed on its standard output so far.
func (p *BrokerProcess) Stdout() string { return p.stdout.String() }

// Stderr is what the broker printed on its standard error so far.
func (p *BrokerProcess) Stderr() string { return p.stderr.String() }

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
