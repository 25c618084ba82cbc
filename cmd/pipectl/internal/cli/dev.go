package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/planner"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/worker"
)

var devCommand = &command{
	name:     "dev",
	synopsis: "Run a configuration locally: broker, worker and apply in one process",
	usage: `Usage: pipectl dev [options] [DIR]

  Runs the configuration in DIR (the current directory by default) on one
  machine: an embedded Kafka-protocol broker (on a free port unless -listen
  or -brokers is given), a worker, and an apply of DIR. It shows each
  pipeline's record counts as they flow, applies again when a file of DIR
  changes, and stops cleanly on Ctrl-C or after -duration.

Options:

  -listen HOST:PORT  Address of the embedded broker. Default: a free port.
  -brokers LIST      Use this Kafka cluster instead of an embedded broker.
  -data-dir DIR      Keep the embedded broker's data in DIR.
  -http HOST:PORT    REST API address. Default 127.0.0.1:8083, or a free
                     port when that one is taken.
  -duration D        Stop after D (e.g. 30s); default: run until Ctrl-C.
  -var 'NAME=VALUE'  Set a variable. Repeatable.
  -var-file=FILE     Read variable values from FILE.
  -no-color          Print without colour.

  Without PIPECTL_STATE_KEY, sensitive values that are not env()/file()
  references are encrypted with a key made up for this run.
`,
	run: runDev,
}

func runDev(m *meta, cmd *command, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := m.newFlagSet(cmd)
	listen := fs.String("listen", "", "")
	brokers := fs.String("brokers", "", "")
	dataDir := fs.String("data-dir", "", "")
	httpAddr := fs.String("http", "", "")
	duration := fs.Duration("duration", 0, "")
	var vars varFlags
	vars.register(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	dir, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	v := m.view()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	cfg, ok := m.devLoad(dir, vars)
	if !ok {
		return exitError
	}

	embedded := *brokers == ""
	var override []string
	if embedded {
		addr := *listen
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: addr, DataDir: *dataDir, Logger: v.Logger(slog.LevelWarn)})
		if err != nil {
			v.Error("Failed to start the broker", brokerStartDetail(err))
			return exitError
		}
		defer b.Close()
		override = []string{b.Addr()}
	} else {
		override = strings.Split(*brokers, ",")
	}
	kcfg, err := kafka.ConfigFromFleet(cfg.Fleet, override, m.lookupEnv)
	if err != nil {
		v.Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	m.brokers = kcfg.Brokers
	keys, err := devKeys(m)
	if err != nil {
		v.Error("Invalid state key", err.Error())
		return exitError
	}
	opts, err := kcfg.Opts()
	if err != nil {
		v.Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	ctl, err := control.New(cfg.Fleet.Name, opts...)
	if err != nil {
		v.Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return exitError
	}
	defer ctl.Close()
	if err := ctl.EnsureTopics(ctx); err != nil {
		m.kafkaError("Cannot create the fleet's control topics", err)
		return exitError
	}
	clusterID := ""
	if meta, err := ctl.Admin().BrokerMetadata(ctx); err == nil {
		clusterID = meta.Cluster
	}

	reg, err := m.registry()
	if err != nil {
		v.Error("Cannot register the plugins", err.Error())
		return exitError
	}
	wcfg := worker.Config{Fleet: cfg.Fleet.Name, Kafka: kcfg, Registry: reg, HTTP: *httpAddr, Keys: keys,
		LookupEnv: m.lookupEnv, Logger: v.Logger(worker.LowestLevel), LogLevel: ptrTo(logLevel(m, slog.LevelWarn)), Version: Version, StatusInterval: 2 * time.Second}
	if wcfg.HTTP == "" {
		wcfg.HTTP = worker.DefaultHTTP
	}
	w, flush, ok := m.newWorker(ctx, v, wcfg, *httpAddr == "")
	if !ok {
		return exitError
	}
	defer flush()
	v.DevStarted(views.DevInfo{Dir: dir, Brokers: strings.Join(kcfg.Brokers, ","), ClusterID: clusterID, Fleet: cfg.Fleet.Name, URL: w.URL(), Embedded: embedded})
	if !devApply(ctx, v, ctl, cfg, keys, reg) {
		return exitError
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	go exitIfStuck(ctx, stop, v)

	watch := fingerprint(dir)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lines, n := 0, 0
	for {
		select {
		case err := <-done:
			if err != nil {
				v.Error("The worker stopped", err.Error())
				return exitError
			}
			return exitOK
		case <-ctx.Done():
			v.Stopping("pipectl dev")
			if err := <-done; err != nil {
				v.Error("The worker stopped", err.Error())
				return exitError
			}
			return exitOK
		case <-tick.C:
			n++
			if now := fingerprint(dir); now != watch {
				watch = now
				v.Reloading()
				lines = 0
				if cfg, ok := m.devLoad(dir, vars); ok {
					devApply(ctx, v, ctl, cfg, keys, reg)
				}
			}
			// On a terminal the counts are rewritten in place every
			// second; elsewhere a block is printed every 5 seconds.
			if m.streams.StdoutColor || n%5 == 0 {
				v.Counts(devCounts(w), &lines)
			}
		}
	}
}

// devLoad loads the configuration and prints its diagnostics; ok is false
// on errors.
func (m *meta) devLoad(dir string, vars varFlags) (*lang.Config, bool) {
	cfg, diags, ok := m.loadConfig(dir, vars.args)
	if !ok {
		return nil, false
	}
	if len(diags) > 0 {
		m.view().Diagnostics(diags, cfg.Files)
	}
	return cfg, !diags.HasErrors()
}

// devApply plans the configuration against the fleet and applies the plan
// without asking: pipectl dev's apply is the planner's.
func devApply(ctx context.Context, v *views.View, ctl *control.Control, cfg *lang.Config, keys *control.Keys, reg *connector.Registry) bool {
	st, err := planner.ReadState(ctx, ctl)
	var live *planner.Live
	if err == nil {
		live, err = planner.Refresh(ctx, ctl, planner.TopicNames(cfg, st), cfg.Imports...)
	}
	if err != nil {
		v.Error("Cannot apply the configuration", err.Error())
		return false
	}
	p, diags := planner.Plan(planner.Input{Config: cfg, Plugins: reg, Keys: keys, State: st, Live: live})
	if len(diags) > 0 {
		v.Diagnostics(diags, cfg.Files)
	}
	if diags.HasErrors() {
		return false
	}
	res, err := planner.Apply(ctx, planner.ApplyArgs{Plan: p, Control: ctl, By: "pipectl dev", Timeout: 30 * time.Second})
	if err != nil {
		v.Error("Cannot apply the configuration", err.Error())
		return false
	}
	var changed []string
	for _, c := range p.Pending() {
		changed = append(changed, c.Address)
	}
	v.Applied(res.Serial, changed)
	return true
}

// devKeys is PIPECTL_STATE_KEY, or a key made up for this run.
func devKeys(m *meta) (*control.Keys, error) {
	keys, err := control.KeysFromEnv(m.lookupEnv)
	if err != nil || keys != nil {
		return keys, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	return control.NewKeys(raw)
}

func devCounts(w *worker.Worker) map[string]views.PipelineCounts {
	local := w.Counts()
	out := map[string]views.PipelineCounts{}
	for _, s := range w.Status() {
		c := local[s.Name]
		out[s.Name] = views.PipelineCounts{State: string(s.Connector.State), In: c.In, Out: c.Out, Filtered: c.Filtered, Failed: c.Failed, Problem: c.Problem}
	}
	return out
}

// fingerprint summarizes the configuration files of dir, to notice edits.
func fingerprint(dir string) string {
	var sb strings.Builder
	for _, pattern := range []string{"*.hcl", "*.pipevars", "*.pipevars.json"} {
		files, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range files {
			if st, err := os.Stat(f); err == nil {
				fmt.Fprintf(&sb, "%s %d %d\n", f, st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return sb.String()
}
