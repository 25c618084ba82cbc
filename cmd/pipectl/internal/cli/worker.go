package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/metrics"
	"github.com/pipectl/pipectl/runtime/worker"
	"github.com/pipectl/pipectl/stdlib/restauth"
)

var workerCommand = &command{
	name:     "worker",
	synopsis: "Run a worker of a fleet",
	usage: `Usage: pipectl worker [options] [DIR]

  Runs a worker: it reads the fleet's state from <fleet>.configs, runs its
  pipelines, reports their status to <fleet>.status and serves the REST API
  until it is interrupted (Ctrl-C or SIGTERM), when it stops its tasks
  cleanly (flush, commit, status UNASSIGNED) and leaves the group; a stop
  that cannot finish in 30 s (the cluster is gone) ends the process anyway,
  and a second Ctrl-C ends it at once. It prints
  "worker ID listening on http://HOST:PORT" once it serves.

  A worker started before its Kafka cluster answers waits for it, retrying
  with backoff (at most 5 s apart) and logging the brokers it tries and how
  long it has waited, for at most -startup-timeout; its REST API answers
  503 meanwhile.

  With DIR, the fleet name, brokers and SASL/TLS settings come from the
  configuration's fleet block; flags override them.

Options:

  -brokers LIST      Bootstrap brokers, comma-separated (or PIPECTL_BROKERS).
  -fleet NAME        The fleet to join (required without DIR).
  -http HOST:PORT    REST API address. Default 127.0.0.1:8083.
  -id ID             Worker id, unique in the fleet: a worker restarted
                     with the same id takes its tasks back at once, and of
                     two running with one id the older is fenced and exits.
                     Default: the REST address HOST:PORT.
  -startup-timeout D How long to wait for the Kafka cluster at start before
                     exiting with status 1; 0 waits forever. Default 5m.
  -http-token TOKEN  Require this bearer token on the REST API
                     (or PIPECTL_HTTP_TOKEN); it has the role admin.
  -http-tokens FILE  Require one of the tokens of FILE, each with a role:
                     lines of ROLE NAME SHA256 (read: GET routes; operate:
                     also pause, resume, stop, restart and offsets; admin:
                     everything), the SHA-256 of the token in hex. The file
                     is read again when it changes. Every operation is
                     logged as an "audit" line (who, what, pipeline,
                     status).
  -http-public PATHS Paths answered without a token, comma-separated.
                     Default /health,/healthz (for probes); /metrics needs
                     a token unless listed.
  -tls-cert FILE     Serve the REST API over TLS with this certificate...
  -tls-key FILE      ...and this key.
  -var 'NAME=VALUE'  Set a variable of DIR's configuration. Repeatable.
  -var-file=FILE     Read variable values of DIR's configuration.
  -no-color          Print without colour.

  Sensitive values stored encrypted in state need PIPECTL_STATE_KEY, the
  key the apply used.
`,
	run: runWorker,
}

// fleetFlags are the flags that say how to reach a fleet.
type fleetFlags struct {
	brokers, fleet string
}

// kafkaConfig resolves the fleet name and Kafka settings from the flags,
// the environment and, when dir is set, the configuration's fleet block.
func (m *meta) kafkaConfig(ff fleetFlags, dir string, vars varFlags) (string, kafka.Config, bool) {
	v := m.view()
	brokers := ff.brokers
	if brokers == "" {
		brokers, _ = m.lookupEnv("PIPECTL_BROKERS")
	}
	var override []string
	if brokers != "" {
		override = strings.Split(brokers, ",")
	}
	name := ff.fleet
	if dir == "" && name == "" {
		// Like plan and apply: the configuration in the current
		// directory names the fleet.
		if files, _ := filepath.Glob("*.hcl"); len(files) > 0 {
			dir = "."
		}
	}
	var cfg kafka.Config
	var err error
	if dir != "" {
		lc, diags, ok := m.loadConfig(dir, vars.args)
		if !ok {
			return "", cfg, false
		}
		if diags.HasErrors() {
			v.Diagnostics(diags, lc.Files)
			return "", cfg, false
		}
		if name == "" && lc.Fleet != nil {
			name = lc.Fleet.Name
		}
		cfg, err = kafka.ConfigFromFleet(lc.Fleet, override, m.lookupEnv)
	} else {
		cfg, err = kafka.ConfigFromFleet(nil, override, m.lookupEnv)
	}
	if err != nil {
		v.Error("Cannot reach the fleet's Kafka cluster", err.Error())
		return "", cfg, false
	}
	m.brokers = cfg.Brokers
	if name == "" {
		v.Error("No fleet name", "Name the fleet with -fleet NAME, or give the configuration directory whose fleet block names it.")
		return "", cfg, false
	}
	return name, cfg, true
}

func runWorker(m *meta, cmd *command, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fs := m.newFlagSet(cmd)
	var ff fleetFlags
	fs.StringVar(&ff.brokers, "brokers", "", "")
	fs.StringVar(&ff.fleet, "fleet", "", "")
	httpAddr := fs.String("http", worker.DefaultHTTP, "")
	id := fs.String("id", "", "")
	token := fs.String("http-token", "", "")
	tokensFile := fs.String("http-tokens", "", "")
	public := fs.String("http-public", strings.Join(restauth.DefaultPublic, ","), "")
	cert := fs.String("tls-cert", "", "")
	key := fs.String("tls-key", "", "")
	startup := fs.Duration("startup-timeout", defaultStartupTimeout, "")
	var vars varFlags
	vars.register(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	v := m.view()
	dir := ""
	switch len(positional) {
	case 0:
	case 1:
		dir = positional[0]
	default:
		v.UsageError("Too many command-line arguments", "worker takes at most one configuration directory.", cmd.usage)
		return exitError
	}
	fleetName, kcfg, ok := m.kafkaConfig(ff, dir, vars)
	if !ok {
		return exitError
	}
	if *token == "" {
		*token, _ = m.lookupEnv("PIPECTL_HTTP_TOKEN")
	}
	keys, err := control.KeysFromEnv(m.lookupEnv)
	if err != nil {
		v.Error("Invalid state key", err.Error())
		return exitError
	}
	reg, err := m.registry()
	if err != nil {
		v.Error("Cannot register the plugins", err.Error())
		return exitError
	}
	if *token != "" || *tokensFile != "" {
		var paths []string
		for _, p := range strings.Split(*public, ",") {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
		ext, err := restauth.New(restauth.Config{Token: *token, TokensFile: *tokensFile, Public: paths})
		if err == nil {
			err = reg.RegisterRESTExtension(ext)
		}
		if err != nil {
			v.Error("Cannot secure the REST API", err.Error())
			return exitError
		}
	}
	w, flush, ok := m.newWorker(ctx, v, worker.Config{
		Fleet: fleetName, Kafka: kcfg, Registry: reg, HTTP: *httpAddr, ID: *id,
		TLSCert: *cert, TLSKey: *key, Keys: keys, LookupEnv: m.lookupEnv,
		Logger: v.Logger(worker.LowestLevel), LogLevel: ptrTo(logLevel(m, slog.LevelInfo)), Version: Version, StartupTimeout: *startup,
	}, false)
	if !ok {
		return exitError
	}
	defer flush()
	if path, ok := m.lookupEnv("PIPECTL_CPUPROFILE"); ok && path != "" {
		// For performance work (docs/performance.md): a CPU profile of
		// the whole run, written when the worker stops.
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
		}
	}
	v.WorkerListening(w.ID(), w.URL())
	go exitIfStuck(ctx, stop, v)
	if err := w.Run(ctx); err != nil {
		switch {
		case errors.Is(err, worker.ErrNoCluster):
			v.Error("Cannot reach the fleet's Kafka cluster", err.Error()+". Check -brokers (or PIPECTL_BROKERS, or the fleet block), or wait longer with -startup-timeout.")
		case errors.Is(err, worker.ErrFenced):
			v.Error("Another worker took this worker's id", err.Error())
		default:
			v.Error("The worker stopped", err.Error())
		}
		return exitError
	}
	return exitOK
}

// defaultStartupTimeout is how long a worker waits for its Kafka cluster
// at start: long enough for a cluster started at the same time (a compose
// file, a pod's neighbours), short enough that a wrong address ends in an
// exit an orchestrator reports.
const defaultStartupTimeout = 5 * time.Minute

// newWorker builds a worker and sets up tracing for it; flush sends the
// spans still buffered (for at most 5 seconds) when the worker is done.
// With anyPort, a taken REST address falls back to a free port.
func (m *meta) newWorker(ctx context.Context, v *views.View, cfg worker.Config, anyPort bool) (w *worker.Worker, flush func(), ok bool) {
	w, err := worker.New(cfg)
	if err != nil && anyPort && errors.Is(err, syscall.EADDRINUSE) {
		cfg.HTTP = "127.0.0.1:0"
		w, err = worker.New(cfg)
	}
	if err != nil {
		v.Error("Cannot start the worker", err.Error())
		return nil, nil, false
	}
	shutdown, err := metrics.SetupTracing(ctx, m.lookupEnv, w.ID(), Version)
	if err != nil {
		v.Error("Cannot set up tracing", err.Error())
		return nil, nil, false
	}
	return w, func() {
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(fctx)
	}, true
}

// StopGrace bounds a worker's clean stop: tasks get their own budget
// inside it, and a worker whose cluster is gone cannot flush anyway. A
// container's termination grace period must be longer (deploy/).
const StopGrace = 30 * time.Second

// exitIfStuck ends the process when a clean stop takes longer than
// StopGrace, and lets a second Ctrl-C or SIGTERM end it at once.
func exitIfStuck(ctx context.Context, stopSignals func(), v *views.View) {
	<-ctx.Done()
	stopSignals() // the next signal terminates the process
	time.Sleep(StopGrace)
	v.Error("The clean stop took too long",
		"Tasks could not flush or commit within "+StopGrace.String()+" (is the Kafka cluster reachable?). pipectl exits without them: what they did not commit is processed again after a restart.")
	os.Exit(exitError)
}
