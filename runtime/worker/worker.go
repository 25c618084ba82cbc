package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/engine"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/metrics"
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
	// Token, when set, is required as a bearer token by the REST API.
	Token string
	// TLSCert and TLSKey, when set, serve the REST API over TLS.
	TLSCert, TLSKey string
	// Keys decrypt sensitive values of state; nil when no state key is set.
	Keys *control.Keys
	// LookupEnv resolves env: secret references; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	Logger    *slog.Logger
	Version   string
	// Ready, when set, is called once the worker serves its API and has
	// read the state, with its ID and REST URL.
	Ready func(id, url string)
	// StatusInterval is how often running tasks report their counts;
	// 0 means 5 s.
	StatusInterval time.Duration
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
}

// DefaultHTTP is the REST API's default listen address.
const DefaultHTTP = "127.0.0.1:8083"

// Worker runs a fleet's tasks. Create it with New and run it with Run.
type Worker struct {
	cfg      Config
	id       string
	url      string
	log      *slog.Logger
	ln       net.Listener
	ctl      *control.Control
	producer *kgo.Client
	groupCl  *kgo.Client
	admin    *kadm.Client
	member   *membership
	metrics  *metrics.Metrics
	sup      *supervisor

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
		w.id = addr
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	w.url = scheme + "://" + addr
	w.log = cfg.Logger.With("worker", w.id)
	opts, err := cfg.Kafka.Opts()
	if err != nil {
		ln.Close()
		return nil, err
	}
	if w.ctl, err = control.New(cfg.Fleet, opts...); err != nil {
		ln.Close()
		return nil, err
	}
	w.producer, err = kafka.NewClient(cfg.Kafka, kgo.RecordPartitioner(engine.Partitioner(nil)), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		w.ctl.Close()
		ln.Close()
		return nil, err
	}
	w.admin = kadm.NewClient(w.producer)
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
	w.producer.Close()
	w.ctl.Close()
	w.ln.Close()
	if w.metrics != nil {
		_ = w.metrics.Shutdown(context.Background())
	}
}

// Run creates the fleet's control topics if missing, then runs the
// fleet's pipelines until ctx ends. On the way out it stops every task
// (flushing and committing), reports them UNASSIGNED and closes its
// clients.
func (w *Worker) Run(ctx context.Context) error {
	defer w.close()
	if err := w.ctl.EnsureTopics(ctx); err != nil {
		return err
	}
	handler := api.NewHandler(workerFleet(w), w.metrics, api.Options{Token: w.cfg.Token, Version: w.cfg.Version, Logger: w.log})
	w.metrics.ObserveLag(w.sup.lags)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return w.ctl.WatchState(gctx, func(st *control.State) {
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
			w.poke()
		})
	})
	g.Go(func() error { return api.Serve(gctx, w.ln, handler, w.cfg.TLSCert, w.cfg.TLSKey) })
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
	return c
}

// Counts is a pipeline's record counts on this worker since its tasks
// started.
type Counts struct {
	Tasks                     int
	In, Out, Filtered, Failed int64
}

// Counts returns the counts of the pipelines this worker runs.
func (w *Worker) Counts() map[string]Counts {
	w.sup.mu.Lock()
	defer w.sup.mu.Unlock()
	out := map[string]Counts{}
	for key, t := range w.sup.tasks {
		c := out[key.pipeline]
		n := counts(t.counters)
		c.Tasks++
		c.In += n[0]
		c.Out += n[1]
		c.Filtered += n[2]
		c.Failed += n[3]
		out[key.pipeline] = c
	}
	return out
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

// advertised is the HOST:PORT others reach the REST listener at: the
// listener's address, with this machine's host name in place of an
// unspecified host (0.0.0.0, ::), so that two workers listening on
// -http :8083 on two machines get distinct ids and usable URLs.
func advertised(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}
