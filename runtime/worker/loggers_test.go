package worker_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pipectl/pipectl/runtime/worker"
)

// levelWorker runs a worker whose handler takes every level, at root
// level INFO, and returns its URL and log.
func levelWorker(t *testing.T, f *fixture) (string, *syncBuffer) {
	t.Helper()
	var buf syncBuffer
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	info := slog.LevelInfo
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys,
		StatusInterval: 500 * time.Millisecond, LogLevel: &info,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: worker.LowestLevel}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w.URL(), &buf
}

func put(t *testing.T, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type loggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// TestLoggers changes log levels at run time (KIP-495): on one worker, a
// level shows in /admin/loggers and lets its debug lines through; with
// scope=cluster (KIP-976) every worker of the fleet takes it, a worker
// that starts later too, and a pipeline's debug lines follow the level
// of its address's loggers.
func TestLoggers(t *testing.T) {
	f := newFixture(t, "loggers")
	f.apply(`
topic "t" {}
source "generator" "g" {
  topic = topic.t.name
  rate  = 50
  value = "{'id': seq}"
}
`)
	a, logA := levelWorker(t, f)
	eventually(t, 30*time.Second, "the worker runs the generator", func() (bool, string) {
		st := pipelineState(t, a, "source.generator.g")
		return st == "RUNNING", st
	})
	var all map[string]loggerLevel
	getJSON(t, a+"/admin/loggers", &all)
	if diff := cmp.Diff(map[string]loggerLevel{"root": {Level: "INFO"}}, all); diff != "" {
		t.Errorf("loggers at start (-want +got):\n%s", diff)
	}
	if strings.Contains(logA.String(), "level=DEBUG") {
		t.Fatalf("a debug line at root level INFO:\n%s", logA)
	}

	code, body := put(t, a+"/admin/loggers/pipectl", `{"level":"debug"}`)
	if code != http.StatusOK || body != "[\"pipectl\"]\n" {
		t.Fatalf("PUT /admin/loggers/pipectl: %d %s, want 200 [\"pipectl\"]", code, body)
	}
	var one map[string]string
	getJSON(t, a+"/admin/loggers/pipectl", &one)
	if one["level"] != "DEBUG" {
		t.Errorf("pipectl's level: %v, want DEBUG", one)
	}
	getJSON(t, a+"/admin/loggers/source.generator.g", &one)
	if one["level"] != "INFO" {
		t.Errorf("a pipeline's level: %v, want root's INFO", one)
	}
	if code, body := put(t, a+"/admin/loggers/pipectl", `{"level":"LOUD"}`); code != http.StatusBadRequest || !strings.Contains(body, "TRACE, DEBUG, INFO") {
		t.Errorf("a bad level: %d %s, want 400 naming the levels", code, body)
	}

	// A second worker joins: the first logs its rejoin at debug; the
	// second, whose level was not changed, does not.
	b, logB := levelWorker(t, f)
	eventually(t, 30*time.Second, "the first worker's debug lines", func() (bool, string) {
		return strings.Contains(logA.String(), `level=DEBUG msg="joined the worker group"`), ""
	})
	getJSON(t, b+"/admin/loggers/pipectl", &one)
	if one["level"] != "INFO" || strings.Contains(logB.String(), "level=DEBUG") {
		t.Errorf("the second worker: pipectl at %v, debug lines: %v; want INFO and none", one, strings.Contains(logB.String(), "level=DEBUG"))
	}

	// scope=cluster: every worker takes the level, through the status
	// topic.
	if code, body := put(t, b+"/admin/loggers/source?scope=cluster", `{"level":"DEBUG"}`); code != http.StatusNoContent {
		t.Fatalf("PUT scope=cluster: %d %s, want 204", code, body)
	}
	for _, url := range []string{a, b} {
		eventually(t, 30*time.Second, "the cluster level on "+url, func() (bool, string) {
			getJSON(t, url+"/admin/loggers/source.generator.g", &one)
			return one["level"] == "DEBUG", one["level"]
		})
	}
	getJSON(t, b+"/admin/loggers", &all)
	if l, ok := all["source"]; !ok || l.Level != "DEBUG" || l.LastModified == nil {
		t.Errorf("loggers after the cluster change: %+v, want source at DEBUG with last_modified", all)
	}
	eventually(t, 30*time.Second, "the generator's debug lines", func() (bool, string) {
		return strings.Contains(logA.String()+logB.String(), `level=DEBUG msg="saved source offsets" worker=`), ""
	})
	c, _ := levelWorker(t, f)
	eventually(t, 30*time.Second, "a worker that starts later takes the cluster level", func() (bool, string) {
		var got map[string]loggerLevel
		getJSON(t, c+"/admin/loggers", &got)
		b, _ := json.Marshal(got)
		return got["source"].Level == "DEBUG", string(b)
	})
}
