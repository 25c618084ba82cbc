package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/metrics"
	"github.com/pipectl/pipectl/runtime/retry"
	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

// Config configures a worker.
type Config struct {
	Fleet    string
	Kafka    kafka.Config
	Registry *connector.Registry
	// HTTP is the REST listener address, HOST:PORT; "" takes 127.0.0.1:8083.
	HTTP string
	// Listener, when set, is used instead of listening on HTTP.
	Listener net.Listener
	// ID names the worker; "" takes the REST listener's HOST:PORT.
	ID string
	// TLSCert and TLSKey, when set, serve the REST API over TLS.
	TLSCert, TLSKey string
	// Keys decrypt sensitive values of state; nil when no state key is set.
	Keys *control.Keys
	// LookupEnv resolves env: secret references; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Logger receives the worker's log; its handler should take every
	// level, since LogLevel and /admin/loggers decide what is logged.
	Logger *slog.Logger
	// LogLevel is the root logger's level at start (see /admin/loggers);
	// nil: the lowest level Logger's handler takes.
	LogLevel *slog.Level
	Version  string
	// Ready, when set, is called once the worker serves its API and has
	// read the state, with its ID and REST URL.
	Ready func(id, url string)
	// StatusInterval is how often running tasks report their counts;
	// 0 means 5 s.
	StatusInterval time.Duration
	// SecretCheckInterval is how often the values of secret() references
	// (config providers) that running tasks use are asked for again; a
	// task whose values changed restarts. Default 30 s.
	SecretCheckInterval time.Duration
	// SessionTimeout is the session timeout of the worker group and of
	// sink consumers: a worker that stops heartbeating for this long is
	// dead and its tasks move; 0 means 10 s.
	SessionTimeout time.Duration
	// RebalanceTimeout bounds how long a rebalance waits for members to
	// rejoin; 0 means 15 s.
	RebalanceTimeout time.Duration
	// Weight is this worker's share of the work relative to the others
	// (default 1).
	Weight int
	// StartupTimeout bounds how long Run waits for the fleet's Kafka
	// cluster to answer when it starts, retrying with backoff; 0 waits
	// until Run's context ends.
	StartupTimeout time.Duration
}

// ErrNoCluster is returned by Run when the fleet's Kafka cluster did not
// answer within Config.StartupTimeout.
var ErrNoCluster = errors.New("the fleet's Kafka cluster did not answer")

// DefaultHTTP is the REST API's default listen address.
const DefaultHTTP = "127.0.0.1:8083"

// Worker runs a fleet's tasks. Create it with New and run it with Run.
type Worker struct {
	cfg      Config
	id       string
	url      string
	log      *slog.Logger
	levels   *logLevels // of the named loggers (/admin/loggers)
	ln       net.Listener
	ctl      *control.Control
	producer *kgo.Client
	groupCl  *kgo.Client
	admin    *kadm.Client
	member   *membership
	metrics  *metrics.Metrics
	sup      *supervisor
	schemas  *schemaregistry.Kafka // the fleet's Schema Registry, served and used by this worker

	connected atomic.Bool // the cluster answered and the control topics exist
	clusterID string      // the cluster's id, once connected

	mu     sync.Mutex
	state  *control.State
	hashes map[string]string // of the state's pipelines, by address
	status *control.StatusView
	kick   chan struct{}
}

// New connects to the fleet's cluster and listens for the REST API; Run
// does the rest.
func New(cfg Config) (*Worker, error) {
	if cfg.Fleet == "" {
		return nil, errors.New("worker: no fleet name")
	}
	if cfg.LookupEnv == nil {
		cfg.LookupEnv = os.LookupEnv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SecretCheckInterval == 0 {
		cfg.SecretCheckInterval = 30 * time.Second
	}
	if cfg.StatusInterval == 0 {
		cfg.StatusInterval = 5 * time.Second
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 10 * time.Second
	}
	if cfg.RebalanceTimeout == 0 {
		cfg.RebalanceTimeout = 15 * time.Second
	}
	ln := cfg.Listener
	if ln == nil {
		addr := cfg.HTTP
		if addr == "" {
			addr = DefaultHTTP
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("listen for the REST API on %s: %w", addr, err)
		}
	}
	w := &Worker{cfg: cfg, ln: ln, kick: make(chan struct{}, 1)}
	addr := advertised(ln.Addr())
	w.id = cfg.ID
	if w.id == "" {
		w.id = defaultID(ln.Addr())
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	w.url = scheme + "://" + addr
	root := lowestLevel(cfg.Logger.Handler())
	if cfg.LogLevel != nil {
		root = *cfg.LogLevel
	}
	w.levels = newLogLevels(root)
	w.log = slog.New(&levelHandler{levels: w.levels, name: workerLogger, inner: cfg.Logger.Handler()}).With("worker", w.id)
	if cfg.Kafka.Logger == nil {
		// Every client of the worker and its tasks logs its
		// connections, requests and group steps at debug.
		cfg.Kafka.Logger = w.log
		w.cfg.Kafka = cfg.Kafka
	}
	opts, err := cfg.Kafka.Opts()
	if err != nil {
		ln.Close()
		return nil, err
	}
	if w.ctl, err = control.New(cfg.Fleet, opts...); err != nil {
		ln.Close()
		return nil, err
	}
	w.producer, err = kafka.NewClient(cfg.Kafka, workerProducerOpts()...)
	if err != nil {
		w.ctl.Close()
		ln.Close()
		return nil, err
	}
	w.admin = kadm.NewClient(w.producer)
	if w.schemas, err = schemaregistry.NewKafka(cfg.Fleet, opts...); err != nil {
		w.close()
		return nil, err
	}
	if w.groupCl, err = kafka.NewClient(cfg.Kafka); err != nil {
		w.close()
		return nil, err
	}
	if w.metrics, err = metrics.New(metrics.Options{WorkerID: w.id, Version: cfg.Version}); err != nil {
		w.close()
		return nil, err
	}
	w.sup = newSupervisor(w)
	w.member = newMembership(w, w.groupCl)
	return w, nil
}

// ID is the worker's id; URL its REST API.
func (w *Worker) ID() string { return w.id }

// URL is the worker's REST API base URL.
func (w *Worker) URL() string { return w.url }

func (w *Worker) close() {
	if w.groupCl != nil {
		w.groupCl.Close()
	}
	if w.schemas != nil {
		w.schemas.Close()
	}
	w.producer.Close()
	w.ctl.Close()
	w.ln.Close()
	if w.metrics != nil {
		_ = w.metrics.Shutdown(context.Background())
	}
}

// Run serves the REST API, waits for the fleet's Kafka cluster (see
// Config.StartupTimeout) and creates the fleet's control topics if
// missing, then runs the fleet's pipelines until ctx ends. On the way out
// it stops every task (flushing and committing), reports them UNASSIGNED
// and closes its clients.
func (w *Worker) Run(ctx context.Context) error {
	defer w.close()
	var handler http.Handler = api.NewHandler(workerFleet(w), w.metrics, api.Options{Version: w.cfg.Version, Logger: w.log, Loggers: loggers{w}, Plugins: pluginConfigs{w.cfg.Registry},
		SchemaRegistry: schemaregistry.Handler(w.schemas.Registry, w.log), SchemaRegistryPrefixes: schemaregistry.Prefixes})
	// REST extensions wrap the API, the first registered outermost.
	exts := w.cfg.Registry.RESTExtensions()
	for i := len(exts) - 1; i >= 0; i-- {
		h, err := exts[i].Wrap(handler, connector.RESTEnv{Worker: w.id, Logger: w.log})
		if err != nil {
			return fmt.Errorf("REST extension %s: %w", exts[i].Name(), err)
		}
		handler = h
	}
	w.metrics.ObserveLag(w.sup.lags)
	w.metrics.ObserveSourceLag(w.sup.sourceLags)
	w.metrics.ObserveHealth(w.sup.health)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	// The API answers while the worker waits for the cluster (503 with
	// what it waits for), so that a health check sees it alive.
	g.Go(func() error { return api.Serve(gctx, w.ln, handler, w.cfg.TLSCert, w.cfg.TLSKey) })
	if err := w.connect(gctx); err != nil {
		cancel()
		serveErr := g.Wait()
		switch {
		case ctx.Err() != nil:
			return nil // stopped while waiting: not a failure
		case serveErr != nil:
			return serveErr
		}
		return err
	}
	g.Go(func() error { return w.schemas.Run(gctx) })
	g.Go(func() error {
		return w.ctl.WatchState(gctx, func(st *control.State) {
			w.log.Debug("read the fleet's state", "serial", st.Serial, "resources", len(st.Resources))
			c, hashes := cloneState(st)
			w.mu.Lock()
			w.state, w.hashes = c, hashes
			w.mu.Unlock()
			w.poke()
			w.member.stateChanged()
		})
	})
	g.Go(func() error {
		return w.ctl.WatchStatus(gctx, func(v *control.StatusView) {
			w.mu.Lock()
			w.status = cloneStatus(v)
			w.mu.Unlock()
			w.levels.applyCluster(v.Loggers)
			w.poke()
		})
	})
	// The membership outlives the supervisor's stop: the worker keeps
	// heartbeating while its tasks stop, so that the group does not hand
	// them to others before they are released.
	memberCtx, stopMember := context.WithCancel(context.WithoutCancel(gctx))
	defer stopMember()
	g.Go(func() error {
		err := w.sup.run(gctx)
		stopMember()
		return err
	})
	g.Go(func() error { return w.member.run(memberCtx) })
	err := g.Wait()
	// The tasks are stopped (flushed, committed, UNASSIGNED): leaving now
	// lets the other workers take them at once.
	w.member.leave()
	if ctx.Err() != nil {
		// A requested stop: whatever the goroutines said on the way out
		// is not a failure.
		return nil
	}
	return err
}

// connectBackoff spaces a starting worker's attempts to reach its fleet's
// cluster, with jitter: a fleet's workers often start, or wait for a
// cluster that comes back, together.
var connectBackoff = retry.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second, Jitter: retry.FleetJitter}

// connect waits until the fleet's cluster answers and its control topics
// exist, retrying with backoff (at most 5 s apart) for at most
// Config.StartupTimeout, and logging each failed attempt with the brokers
// it tries and how long it has waited. An answer that refuses (a SASL
// login or an ACL denied, say) fails at once: waiting cannot change it.
func (w *Worker) connect(ctx context.Context) error {
	brokers := strings.Join(w.cfg.Kafka.Brokers, ",")
	tryCtx := ctx
	if w.cfg.StartupTimeout > 0 {
		var cancel context.CancelFunc
		tryCtx, cancel = context.WithTimeout(ctx, w.cfg.StartupTimeout)
		defer cancel()
	}
	start := time.Now()
	var last error
	var warned time.Time
	_, err := backoff.Retry(tryCtx, func() (struct{}, error) {
		w.log.Debug("connecting to the fleet's Kafka cluster", "brokers", brokers)
		meta, err := w.admin.BrokerMetadata(tryCtx)
		if err == nil {
			w.clusterID = meta.Cluster
			err = w.ctl.EnsureTopics(tryCtx)
		}
		if err != nil && tryCtx.Err() == nil {
			last = err
			if !unreachable(err) {
				return struct{}{}, backoff.Permanent(err)
			}
		}
		return struct{}{}, err
	}, backoff.WithBackOff(connectBackoff.New()), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		// A warning at the first failure and then every 5 s or so; each
		// attempt at debug.
		level := slog.LevelDebug
		if warned.IsZero() || time.Since(warned) >= 5*time.Second {
			level, warned = slog.LevelWarn, time.Now()
		}
		w.log.Log(ctx, level, "waiting for the fleet's Kafka cluster", "brokers", brokers,
			"waited", time.Since(start).Round(100*time.Millisecond).String(), "next_try_in", next.Round(10*time.Millisecond).String(), "error", err)
	}))
	switch {
	case err == nil:
		w.connected.Store(true)
		// At info, so that a worker pointed at the wrong cluster is seen
		// at once.
		w.log.Info("joined the fleet's Kafka cluster", "brokers", brokers, "cluster_id", w.clusterID,
			"waited", time.Since(start).Round(time.Millisecond).String())
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case tryCtx.Err() != nil:
		if last == nil {
			last = err
		}
		return fmt.Errorf("%w within %s (brokers %s): %w", ErrNoCluster, w.cfg.StartupTimeout, brokers, last)
	}
	return err
}

// unreachable says whether err is one that waiting may cure: the cluster
// cannot be reached (a refused or timed-out connection, a name that does
// not resolve yet, a connection closed), or it answered with a retriable
// error or with too few brokers for the control topics' replication (a
// cluster still starting).
func unreachable(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable || errors.Is(err, kerr.InvalidReplicationFactor)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// poke wakes the supervisor after state, status or a request changed.
func (w *Worker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// snapshot returns the latest state and status; nil until read.
func (w *Worker) snapshot() (*control.State, *control.StatusView) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state, w.status
}

// snapshotHashes is snapshot with the hash of each pipeline of the state.
func (w *Worker) snapshotHashes() (*control.State, *control.StatusView, map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state, w.status, w.hashes
}

// cloneState copies a state and hashes its pipelines, once per commit
// rather than at every reconcile (a status record from any worker
// triggers one).
func cloneState(st *control.State) (*control.State, map[string]string) {
	c := &control.State{Serial: st.Serial, Commit: st.Commit, Resources: make(map[string]*control.Resource, len(st.Resources))}
	hashes := map[string]string{}
	for k, v := range st.Resources {
		c.Resources[k] = v
		if v.Kind == control.KindPipeline {
			hashes[k] = v.Hash()
		}
	}
	return c, hashes
}

func cloneStatus(v *control.StatusView) *control.StatusView {
	c := &control.StatusView{Tasks: map[string]map[int]control.TaskStatus{}, Targets: map[string]control.Target{},
		Restarts: map[string]map[int]control.RestartRequest{}}
	for p, rs := range v.Restarts {
		m := make(map[int]control.RestartRequest, len(rs))
		for i, r := range rs {
			m[i] = r
		}
		c.Restarts[p] = m
	}
	for p, ts := range v.Tasks {
		m := make(map[int]control.TaskStatus, len(ts))
		for i, s := range ts {
			m[i] = s
		}
		c.Tasks[p] = m
	}
	for p, t := range v.Targets {
		c.Targets[p] = t
	}
	c.Workers = maps.Clone(v.Workers)
	c.Loggers = maps.Clone(v.Loggers)
	c.Topics = make(map[string]map[string]control.TopicUse, len(v.Topics))
	for p, ts := range v.Topics {
		c.Topics[p] = maps.Clone(ts)
	}
	return c
}

// Status returns the fleet-wide status of every pipeline in the state, as
// the REST API shows it.
func (w *Worker) Status() []api.Status {
	f := workerFleet(w)
	st, sv, err := f.state(context.Background())
	if err != nil {
		return nil
	}
	var out []api.Status
	for _, res := range st.Sorted() {
		if res.Kind == control.KindPipeline {
			out = append(out, f.status(res, sv))
		}
	}
	return out
}

// workerProducerOpts are the options of the producer sources write
// through (pipelines with producer overrides get one of their own, with
// these first).
func workerProducerOpts() []kgo.Opt {
	return []kgo.Opt{kgo.RecordPartitioner(engine.Partitioner(nil)), kgo.ProducerLinger(5 * time.Millisecond)}
}

// advertised is the HOST:PORT others reach the REST listener at: the
// listener's address, with this machine's host name in place of an
// unspecified host (0.0.0.0, ::), so that two workers listening on
// -http :8083 on two machines get usable URLs.
func advertised(a net.Addr) string {
	return withHostname(a, net.IP.IsUnspecified)
}

// defaultID is a worker's id when -id is not given: HOST:PORT of its REST
// listener, with the machine's host name for a loopback or unspecified
// host. Ids are the worker group's instance ids, so two workers with one
// id fence each other: 127.0.0.1:8083 (the default listener) on every
// machine of a fleet would.
func defaultID(a net.Addr) string {
	return withHostname(a, func(ip net.IP) bool { return ip.IsLoopback() || ip.IsUnspecified() })
}

// withHostname is a's HOST:PORT with this machine's host name in place of
// a host that replace picks.
func withHostname(a net.Addr, replace func(net.IP) bool) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && replace(ip) {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}
