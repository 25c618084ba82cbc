package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/stdlib"
)

// fleetConfig is a configuration of one fleet, loaded and turned into the
// resources of state, ready to apply.
type fleetConfig struct {
	fleet     string
	resources []*control.Resource
}

// loadConfig writes body, after a fleet block naming fleet, to
// dir/FLEET/main.hcl and loads it as pipectl would.
func loadConfig(dir, fleet, body string) (*fleetConfig, error) {
	d := filepath.Join(dir, fleet)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	src := fmt.Sprintf("fleet {\n  name = %q\n}\n\n%s", fleet, body)
	if err := os.WriteFile(filepath.Join(d, "main.hcl"), []byte(src), 0o644); err != nil {
		return nil, err
	}
	reg := connector.NewRegistry()
	if err := stdlib.Register(reg); err != nil {
		return nil, err
	}
	cfg, diags := lang.Load(d, lang.Options{Plugins: reg})
	if diags.HasErrors() {
		return nil, fmt.Errorf("the benchmark's configuration %s/main.hcl is invalid: %s", d, diags.Error())
	}
	res, err := control.Resources(cfg, nil)
	if err != nil {
		return nil, err
	}
	return &fleetConfig{fleet: fleet, resources: res}, nil
}

// controlOf returns the control plane of a fleet, its internal topics
// created.
func (b *broker) controlOf(ctx context.Context, fleet string) (*control.Control, error) {
	ctl, err := control.New(fleet, kgo.SeedBrokers(b.addr))
	if err != nil {
		return nil, err
	}
	if err := ctl.EnsureTopics(ctx); err != nil {
		ctl.Close()
		return nil, err
	}
	return ctl, nil
}

// apply creates the configuration's topics and commits it to the fleet's
// state: the apply of `pipectl dev` (runtime/control's Sync).
//
// TODO(planner): once planner/ has an apply that replaces Sync, use it.
func apply(ctx context.Context, ctl *control.Control, fc *fleetConfig) error {
	if err := ctl.EnsureTopicResources(ctx, fc.resources); err != nil {
		return err
	}
	_, _, err := ctl.Sync(ctx, fc.resources, control.CommitInfo{By: "pipectl-bench"})
	return err
}

// workerLine is the line `pipectl worker` prints once it serves.
var workerLine = regexp.MustCompile(`^worker (\S+) listening on (\S+)$`)

// workerProc is a `pipectl worker` process.
type workerProc struct {
	*proc
	id, url string
}

// launchWorker starts `pipectl worker` for fleet and returns once it
// printed its REST URL.
func (e *env) launchWorker(ctx context.Context, fleet string, args ...string) (*workerProc, error) {
	argv := append([]string{e.cfg.Pipectl, "worker", "-brokers", e.fleetBroker().addr, "-fleet", fleet, "-http", "127.0.0.1:0"}, args...)
	e.workers++ // a log of its own for each worker process
	p, err := startProc("worker "+fleet, argv, nil, e.logPath(fmt.Sprintf("worker-%s-%d", fleet, e.workers)))
	if err != nil {
		return nil, err
	}
	m, err := p.waitLine(ctx, workerLine, 60*time.Second)
	if err != nil {
		p.kill()
		return nil, err
	}
	return &workerProc{proc: p, id: m[0], url: m[1]}, nil
}

// startWorker starts `pipectl worker` for fleet and waits until its REST
// API answers with the fleet's pipelines (it has read the state).
func (e *env) startWorker(ctx context.Context, fleet string, args ...string) (*workerProc, error) {
	w, err := e.launchWorker(ctx, fleet, args...)
	if err != nil {
		return nil, err
	}
	p := w.proc
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := w.statuses(ctx); err == nil {
			return w, nil
		} else if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("worker %s: its REST API did not answer within 60s: %w%s", fleet, err, p.stderrTail())
		}
		if exited, err := p.exited(); exited {
			return nil, fmt.Errorf("worker %s exited: %v%s", fleet, err, p.stderrTail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pipelineStatus is the REST API's status of a pipeline (Kafka Connect's
// shape).
type pipelineStatus struct {
	Name      string `json:"name"`
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
		Trace    string `json:"trace"`
	} `json:"connector"`
	Tasks []taskStatus `json:"tasks"`
}

type taskStatus struct {
	ID       int    `json:"id"`
	State    string `json:"state"`
	WorkerID string `json:"worker_id"`
	Trace    string `json:"trace"`
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// statuses returns the status of every pipeline of the fleet, from
// GET /connectors?expand=status.
func (w *workerProc) statuses(ctx context.Context) (map[string]pipelineStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/connectors?expand=status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /connectors?expand=status: %s", resp.Status)
	}
	var body map[string]struct {
		Status *pipelineStatus `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /connectors?expand=status: %w", err)
	}
	out := make(map[string]pipelineStatus, len(body))
	for name, e := range body {
		if e.Status != nil {
			out[name] = *e.Status
		}
	}
	return out, nil
}

// healthy returns an error when the worker exited or a task of it failed;
// it is waitFor's check.
func (w *workerProc) healthy(ctx context.Context) error {
	if exited, err := w.exited(); exited {
		return fmt.Errorf("worker exited: %v%s", err, w.stderrTail())
	}
	st, err := w.statuses(ctx)
	if err != nil {
		return nil // a slow answer is not a failure
	}
	var failed []string
	for name, s := range st {
		for _, t := range s.Tasks {
			if t.State == "FAILED" {
				failed = append(failed, fmt.Sprintf("%s task %d: %s", name, t.ID, firstLine(t.Trace)))
			}
		}
	}
	if len(failed) > 0 {
		return errors.New("pipectl task failed: " + strings.Join(failed, "; "))
	}
	return nil
}

// running counts the tasks in state RUNNING.
func running(st map[string]pipelineStatus) (n int) {
	for _, s := range st {
		for _, t := range s.Tasks {
			if t.State == "RUNNING" {
				n++
			}
		}
	}
	return n
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
