package worker_test

import (
	"bufio"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// TestWorkerWaitsForBroker starts a worker process while no broker
// listens on its -brokers address: it waits, saying so, and comes up once
// a broker starts on that address; SIGTERM then stops it cleanly.
func TestWorkerWaitsForBroker(t *testing.T) {
	bin := pipectlBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	cmd := exec.Command(bin, "worker", "-brokers", addr, "-fleet", "late", "-http", "127.0.0.1:0")
	cmd.Env = append(cmd.Environ(), "PIPECTL_LOG=info")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stderr strings.Builder
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return stderr.Write(b)
	})
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		return stderr.String()
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("worker stderr:\n%s", logged())
		}
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatal("the worker printed no listening line")
	}
	m := listening.FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("the worker printed %q, want its listening line", lines.Text())
	}
	url := m[2]

	eventually(t, 30*time.Second, "the worker saying it waits for the cluster", func() (bool, string) {
		return strings.Contains(logged(), `msg="waiting for the fleet's Kafka cluster"`) && strings.Contains(logged(), "brokers="+addr), ""
	})
	select {
	case err := <-done:
		t.Fatalf("the worker exited while waiting: %v", err)
	default:
	}
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	eventually(t, 60*time.Second, "the worker healthy once the broker listens", func() (bool, string) {
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the worker exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop within 30 s of SIGTERM")
	}
}
