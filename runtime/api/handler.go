package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/runtime/metrics"
)

// Options configure the handler.
type Options struct {
	// Version and Commit are what GET / reports of this build.
	Version string
	Commit  string
	// Logger receives panics and server errors; nil means slog.Default().
	Logger *slog.Logger
	// Loggers serves /admin/loggers; nil: those routes answer 404.
	Loggers Loggers
	// Plugins serves /connector-plugins/{plugin}/config and
	// .../config/validate; nil: those routes answer 404.
	Plugins PluginConfigs
	// SchemaRegistry serves Confluent Schema Registry's routes (every
	// path under one of SchemaRegistryPrefixes); nil: they answer 404.
	SchemaRegistry http.Handler
	// SchemaRegistryPrefixes are the path prefixes SchemaRegistry
	// answers, none of them a Kafka Connect route.
	SchemaRegistryPrefixes []string
}

// maxBodyBytes bounds a request body (PATCH .../offsets is the only one
// read): 1 MiB holds the offsets of some ten thousand partitions.
const maxBodyBytes = 1 << 20

// Messages of the routes that Kafka Connect uses to change configuration.
const (
	msgApply   = "Pipelines are created and updated by configuration: edit the HCL files and run `pipectl apply`."
	msgDestroy = "Pipelines are deleted by configuration: remove the block and run `pipectl apply`, or run `pipectl destroy`."
)

// NewHandler returns the worker's API over f. m serves GET /metrics; with a
// nil m that route answers 404.
func NewHandler(f Fleet, m *metrics.Metrics, opts Options) http.Handler {
	s := &server{fleet: f, opts: opts, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	r := &router{mux: http.NewServeMux(), allow: map[string][]string{}, allowHdr: map[string]string{}}

	r.handle("GET /{$}", s.root)
	r.handle("GET /connectors", s.listConnectors)
	r.handle("GET /connectors/{$}", s.listConnectors)
	r.refuse("POST /connectors", msgApply)
	r.refuse("PUT /connectors", msgApply)
	r.handle("GET /connectors/{address}", s.pipeline(s.connectorInfo))
	r.refuse("DELETE /connectors/{address}", msgDestroy)
	r.handle("GET /connectors/{address}/config", s.pipeline(s.connectorConfig))
	r.refuse("PUT /connectors/{address}/config", msgApply)
	r.refuse("PATCH /connectors/{address}/config", msgApply)
	r.handle("GET /connectors/{address}/status", s.pipeline(s.connectorStatus))
	r.handle("GET /connectors/{address}/tasks", s.pipeline(s.tasks))
	r.handle("GET /connectors/{address}/tasks/{task}/status", s.pipeline(s.taskStatus))
	r.handle("POST /connectors/{address}/tasks/{task}/restart", s.pipeline(s.restartTask))
	r.handle("PUT /connectors/{address}/pause", s.pipeline(s.pause))
	r.handle("PUT /connectors/{address}/stop", s.pipeline(s.stop))
	r.handle("PUT /connectors/{address}/resume", s.pipeline(s.resume))
	r.handle("POST /connectors/{address}/restart", s.pipeline(s.restart))
	r.handle("GET /connectors/{address}/offsets", s.pipeline(s.offsets))
	r.handle("PATCH /connectors/{address}/offsets", s.pipeline(s.alterOffsets))
	r.handle("DELETE /connectors/{address}/offsets", s.pipeline(s.resetOffsets))
	r.handle("GET /connectors/{address}/topics", s.pipeline(s.topics))
	r.handle("PUT /connectors/{address}/topics/reset", s.pipeline(s.resetTopics))
	r.handle("GET /connector-plugins", s.plugins)
	if opts.Plugins != nil {
		r.handle("GET /connector-plugins/{plugin}/config", s.pluginConfig)
		r.handle("PUT /connector-plugins/{plugin}/config/validate", s.validateConfig)
	}
	if opts.Loggers != nil {
		r.handle("GET /admin/loggers", s.listLoggers)
		r.handle("GET /admin/loggers/{$}", s.listLoggers)
		r.handle("GET /admin/loggers/{name}", s.getLogger)
		r.handle("PUT /admin/loggers/{name}", s.setLogger)
	}
	r.handle("GET /healthz", s.health)
	r.handle("GET /health", s.health)
	if m != nil {
		r.handle("GET /metrics", m.Handler().ServeHTTP)
	}
	if opts.SchemaRegistry != nil {
		for _, p := range opts.SchemaRegistryPrefixes {
			r.mux.Handle(p, opts.SchemaRegistry)
			r.mux.Handle(p+"/", opts.SchemaRegistry)
		}
	}
	r.finish()

	return recoverPanics(s.log, r.mux)
}

// router registers method patterns on a ServeMux and, for each path, a
// method-less pattern that answers 405 with the methods that path allows,
// since ServeMux's own 404 and 405 answers are plain text.
type router struct {
	mux      *http.ServeMux
	allow    map[string][]string // path pattern → methods it allows
	allowHdr map[string]string   // path pattern → its Allow header, set by finish
	paths    []string            // in registration order
}

func (r *router) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	r.mux.HandleFunc(pattern, h)
	if _, ok := r.allow[path]; !ok {
		r.paths = append(r.paths, path)
	}
	r.allow[path] = append(r.allow[path], method)
}

// refuse answers pattern with 405 and msg: a route of Kafka Connect that
// pipectl serves differently. The method is not added to Allow.
func (r *router) refuse(pattern, msg string) {
	_, path, _ := strings.Cut(pattern, " ")
	r.mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", r.allowHdr[path])
		writeError(w, http.StatusMethodNotAllowed, msg)
	})
}

// finish registers the 405 and 404 answers; the router takes no more
// routes.
func (r *router) finish() {
	for _, path := range r.paths {
		allow := r.allow[path]
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead) // ServeMux serves HEAD with GET
		}
		hdr := strings.Join(allow, ", ")
		r.allowHdr[path] = hdr
		r.mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Allow", hdr)
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s is not allowed on %s", req.Method, req.URL.Path))
		})
	}
	r.mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("No route for %s %s", req.Method, req.URL.Path))
	})
}

type server struct {
	fleet Fleet
	opts  Options
	log   *slog.Logger
}

// pipeline resolves the {address} of the request to a pipeline and answers
// 404 when the fleet has none.
func (s *server) pipeline(h func(http.ResponseWriter, *http.Request, PipelineInfo)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		addr := r.PathValue("address")
		p, ok, err := s.fleet.Pipeline(r.Context(), addr)
		if err != nil {
			s.fleetError(w, r, err)
			return
		}
		if !ok {
			writeError(w, http.StatusNotFound, notFound(addr))
			return
		}
		h(w, r, p)
	}
}

func notFound(addr string) string { return fmt.Sprintf("Pipeline %s not found", addr) }

// serverInfo is GET /'s body (Kafka Connect's ServerInfo).
type serverInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

func (s *server) root(w http.ResponseWriter, r *http.Request) {
	id, err := s.fleet.ClusterID(r.Context())
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serverInfo{Version: s.opts.Version, Commit: s.opts.Commit, KafkaClusterID: id})
}

// connectorInfo is Kafka Connect's ConnectorInfo.
type connectorInfo struct {
	Name   string         `json:"name"`
	Config map[string]any `json:"config"`
	Tasks  []taskID       `json:"tasks"`
	Type   PipelineType   `json:"type"`
}

// taskID is Kafka Connect's ConnectorTaskId.
type taskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// taskInfo is Kafka Connect's TaskInfo.
type taskInfo struct {
	ID     taskID         `json:"id"`
	Config map[string]any `json:"config"`
}

func infoOf(p PipelineInfo) connectorInfo {
	tasks := make([]taskID, p.Tasks)
	for i := range tasks {
		tasks[i] = taskID{Connector: p.Address, Task: i}
	}
	return connectorInfo{Name: p.Address, Config: configOf(p), Tasks: tasks, Type: p.Type}
}

// configOf is p's config with the two keys Kafka Connect always shows added
// when absent. p.Config is not modified.
func configOf(p PipelineInfo) map[string]any {
	c := make(map[string]any, len(p.Config)+2)
	c["connector.class"] = p.Class()
	c["name"] = p.Address
	maps.Copy(c, p.Config)
	return c
}

func (s *server) listConnectors(w http.ResponseWriter, r *http.Request) {
	ps, err := s.fleet.Pipelines(r.Context())
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	slices.SortFunc(ps, func(a, b PipelineInfo) int { return cmp.Compare(a.Address, b.Address) })
	// expand[] too: the form JavaScript clients built on axios send a
	// list in (npm's kafka-connect-client does).
	q := r.URL.Query()
	expand := append(q["expand"], q["expand[]"]...)
	if len(expand) == 0 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Address
		}
		writeJSON(w, http.StatusOK, names)
		return
	}
	// As Kafka Connect: unknown expansions are ignored, and a pipeline
	// deleted while this runs is left out.
	out := make(map[string]map[string]any, len(ps))
	for _, p := range ps {
		e := map[string]any{}
		for _, x := range expand {
			switch x {
			case "info":
				e["info"] = infoOf(p)
			case "status":
				st, ok, err := s.fleet.Status(r.Context(), p.Address)
				if err != nil {
					s.fleetError(w, r, err)
					return
				}
				if !ok {
					continue
				}
				e["status"] = normalize(st)
			}
		}
		out[p.Address] = e
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) connectorInfo(w http.ResponseWriter, _ *http.Request, p PipelineInfo) {
	writeJSON(w, http.StatusOK, infoOf(p))
}

func (s *server) connectorConfig(w http.ResponseWriter, _ *http.Request, p PipelineInfo) {
	writeJSON(w, http.StatusOK, configOf(p))
}

func (s *server) tasks(w http.ResponseWriter, _ *http.Request, p PipelineInfo) {
	config := configOf(p)
	out := make([]taskInfo, p.Tasks)
	for i := range out {
		out[i] = taskInfo{ID: taskID{Connector: p.Address, Task: i}, Config: config}
	}
	writeJSON(w, http.StatusOK, out)
}

// status fetches p's status and answers 404 when it has gone.
func (s *server) status(w http.ResponseWriter, r *http.Request, p PipelineInfo) (Status, bool) {
	st, ok, err := s.fleet.Status(r.Context(), p.Address)
	if err != nil {
		s.fleetError(w, r, err)
		return Status{}, false
	}
	if !ok {
		writeError(w, http.StatusNotFound, notFound(p.Address))
		return Status{}, false
	}
	return normalize(st), true
}

// normalize makes the JSON of st Kafka Connect's: tasks is a list, never
// null.
func normalize(st Status) Status {
	if st.Tasks == nil {
		st.Tasks = []TaskStatus{}
	}
	return st
}

func (s *server) connectorStatus(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if st, ok := s.status(w, r, p); ok {
		writeJSON(w, http.StatusOK, st)
	}
}

// task parses the {task} of the request: 400 when it is not a task index,
// 404 when p has no such task.
func task(w http.ResponseWriter, r *http.Request, p PipelineInfo) (int, bool) {
	raw := r.PathValue("task")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Task index %q is not a non-negative integer", raw))
		return 0, false
	}
	if n >= p.Tasks {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Task %d of pipeline %s not found: it has %d tasks", n, p.Address, p.Tasks))
		return 0, false
	}
	return n, true
}

func (s *server) taskStatus(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	n, ok := task(w, r, p)
	if !ok {
		return
	}
	st, ok := s.status(w, r, p)
	if !ok {
		return
	}
	for _, t := range st.Tasks {
		if t.ID == n {
			writeJSON(w, http.StatusOK, t)
			return
		}
	}
	writeError(w, http.StatusNotFound, fmt.Sprintf("Task %d of pipeline %s has no status yet", n, p.Address))
}

func (s *server) restartTask(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	n, ok := task(w, r, p)
	if !ok {
		return
	}
	if err := s.fleet.RestartTask(r.Context(), p.Address, n); err != nil {
		s.fleetError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) pause(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if err := s.fleet.Pause(r.Context(), p.Address); err != nil {
		s.fleetError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// stop is KIP-875's: the pipeline's tasks stop and it shows as STOPPED
// with no tasks until a resume.
func (s *server) stop(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if err := s.fleet.Stop(r.Context(), p.Address); err != nil {
		s.fleetError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (s *server) resume(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if err := s.fleet.Resume(r.Context(), p.Address); err != nil {
		s.fleetError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// restart follows KIP-745: with includeTasks or onlyFailed set it answers 202
// and the status showing what restarts; with neither, the old behaviour,
// 204.
func (s *server) restart(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	var opts RestartOptions
	q := r.URL.Query()
	for _, param := range []struct {
		name string
		dst  *bool
	}{{"includeTasks", &opts.IncludeTasks}, {"onlyFailed", &opts.OnlyFailed}} {
		if v := q.Get(param.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Query parameter %s must be true or false, not %q", param.name, v))
				return
			}
			*param.dst = b
		}
	}
	st, err := s.fleet.Restart(r.Context(), p.Address, opts)
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	if !opts.IncludeTasks && !opts.OnlyFailed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusAccepted, normalize(st))
}

func (s *server) offsets(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	o, err := s.fleet.Offsets(r.Context(), p.Address)
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	if o.Offsets == nil {
		o.Offsets = []PartitionOffset{}
	}
	writeJSON(w, http.StatusOK, o)
}

// message is the body of KIP-875's successful offset changes.
type message struct {
	Message string `json:"message"`
}

func (s *server) alterOffsets(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	var o Offsets
	if !readJSON(w, r, &o) {
		return
	}
	if len(o.Offsets) == 0 {
		writeError(w, http.StatusBadRequest, `Partitions / offsets need to be provided for an alter offsets request: {"offsets": [{"partition": {...}, "offset": {...}}]}`)
		return
	}
	for i, po := range o.Offsets {
		if po.Partition == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Offset %d has no partition", i))
			return
		}
	}
	if err := s.fleet.AlterOffsets(r.Context(), p.Address, o); err != nil {
		s.fleetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, message{"The offsets for this pipeline have been altered successfully"})
}

func (s *server) resetOffsets(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if err := s.fleet.ResetOffsets(r.Context(), p.Address); err != nil {
		s.fleetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, message{"The offsets for this pipeline have been reset successfully"})
}

// activeTopics is the body of GET .../topics (KIP-558).
type activeTopics struct {
	Topics []string `json:"topics"`
}

func (s *server) topics(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	ts, err := s.fleet.Topics(r.Context(), p.Address)
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	if ts == nil {
		ts = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]activeTopics{p.Address: {ts}})
}

func (s *server) resetTopics(w http.ResponseWriter, r *http.Request, p PipelineInfo) {
	if err := s.fleet.ResetTopics(r.Context(), p.Address); err != nil {
		s.fleetError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// plugins answers GET /connector-plugins; as in Kafka Connect, only
// connectors unless connectorsOnly=false.
func (s *server) plugins(w http.ResponseWriter, r *http.Request) {
	only := true
	if v := r.URL.Query().Get("connectorsOnly"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Query parameter connectorsOnly must be true or false, not %q", v))
			return
		}
		only = b
	}
	out := []PluginInfo{}
	for _, pl := range s.fleet.Plugins() {
		if !only || pl.Type == string(TypeSource) || pl.Type == string(TypeSink) {
			out = append(out, pl)
		}
	}
	slices.SortFunc(out, func(a, b PluginInfo) int { return cmp.Compare(a.Class, b.Class) })
	writeJSON(w, http.StatusOK, out)
}

func (s *server) listLoggers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.opts.Loggers.Loggers())
}

// getLogger answers KIP-495's {"level": ...}; every name has one (its
// nearest ancestor's, or root's).
func (s *server) getLogger(w http.ResponseWriter, r *http.Request) {
	l := s.opts.Loggers.Logger(r.PathValue("name"))
	writeJSON(w, http.StatusOK, map[string]string{"level": l.Level})
}

// setLogger sets a level on this worker (200 with the loggers it set) or,
// with scope=cluster, on every worker (204), as KIP-976.
func (s *server) setLogger(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Level string `json:"level"`
	}
	if !readJSON(w, r, &body) {
		return
	}
	if body.Level == "" {
		writeError(w, http.StatusBadRequest, `The request body must be {"level": LEVEL}`)
		return
	}
	name := r.PathValue("name")
	scope := r.URL.Query().Get("scope")
	switch strings.ToLower(scope) {
	case "", "worker":
		names, err := s.opts.Loggers.SetLevel(name, body.Level)
		if err != nil {
			s.fleetError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, names)
	case "cluster":
		if err := s.opts.Loggers.SetClusterLevel(r.Context(), name, body.Level); err != nil {
			s.fleetError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		// As Kafka Connect: an unknown scope is the worker's.
		s.log.Warn("api: unknown scope for a log level, using scope=worker", "scope", scope)
		names, err := s.opts.Loggers.SetLevel(name, body.Level)
		if err != nil {
			s.fleetError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, names)
	}
}

// health is KIP-1017's shape.
type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	if err := s.fleet.Health(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, health{"unhealthy", err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, health{"healthy", "Worker is ready to serve requests"})
}

// errorBody is Kafka Connect's ErrorMessage.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{ErrorCode: code, Message: msg})
}

// fleetError answers with the status code that err's kind picks and err's
// text as the message.
func (s *server) fleetError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		code = http.StatusBadRequest
	case errors.Is(err, ErrConflict):
		code = http.StatusConflict
	case errors.Is(err, ErrUnavailable):
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusInternalServerError {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, code, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every body is one of this package's types; this is a bug.
		panic(fmt.Sprintf("api: encode %T: %v", v, err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// readJSON decodes the request body, one JSON value, into v; it answers 400
// (413 when too large) and returns false when it cannot. A body whose
// Content-Length is over the limit is refused before a byte of it is read
// (net/http then closes the connection rather than drain it); one of
// unknown length (chunked) is decoded as it streams in and refused once it
// passes the limit, so that no more than the limit is ever held.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.ContentLength > maxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", maxBodyBytes))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("unexpected data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	var badType *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body is larger than %d bytes", tooBig.Limit))
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, "Request body is empty: a JSON object is required")
	case errors.As(err, &badType):
		at := "the body"
		if badType.Field != "" {
			at = strconv.Quote(badType.Field)
		}
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Request body does not have the expected shape: %s is a JSON %s", at, badType.Value))
	default:
		writeError(w, http.StatusBadRequest, "Request body is not valid JSON: "+err.Error())
	}
	return false
}
