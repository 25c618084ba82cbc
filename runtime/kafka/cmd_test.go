package kafka_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
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

// TestBrokerCommand runs `pipectl broker` as a process: it prints its
// address, a second broker on that address fails with exit code 1 and a
// clear error, SIGTERM stops it with exit code 0 after saving the data
// directory, and a restart (stopped with SIGINT) serves the records again.
func TestBrokerCommand(t *testing.T) {
	bin := buildPipectl(t)
	dir := t.TempDir()
	p := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)

	second := exec.Command(bin, "broker", "-listen", p.Addr)
	var stdout, stderr bytes.Buffer
	second.Stdout, second.Stderr = &stdout, &stderr
	err := second.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("second broker on %s: %v; want exit status 1", p.Addr, err)
	}
	if want := "Cannot listen on " + p.Addr + ": the address is already in use."; !strings.Contains(stderr.String(), want) {
		t.Errorf("second broker stderr:\n%s\nwant it to contain %q", stderr.String(), want)
	}
	if stdout.Len() != 0 {
		t.Errorf("second broker stdout: %q; want nothing", stdout.String())
	}

	cfg := kafka.Config{Brokers: []string{p.Addr}}
	cl := newClient(t, cfg)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "kept", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "kept", 50)
	cl.Close()
	if code := p.Stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d; want 0\n%s", code, p.Stderr())
	}
	if got := p.Stdout(); got != "broker listening on "+p.Addr+"\n" {
		t.Errorf("stdout %q; want only the listening line", got)
	}

	p2 := kafkatest.StartProcess(t, bin, "-listen", "127.0.0.1:0", "-data-dir", dir)
	consumeN(t, kafka.Config{Brokers: []string{p2.Addr}}, "kept", 50)
	if code := p2.Stop(t, os.Interrupt); code != 0 {
		t.Fatalf("SIGINT: exit code %d; want 0\n%s", code, p2.Stderr())
	}
}
