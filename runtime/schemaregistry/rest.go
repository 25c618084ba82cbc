package schemaregistry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/runtime/connector"
)

// ContentType is the content type of the registry's answers.
const ContentType = "application/vnd.schemaregistry.v1+json"

// maxBody bounds a request body: a schema with its references.
const maxBody = 8 << 20

// Prefixes are the path prefixes the REST API answers under; a caller
// mounting Handler beside other routes routes these to it.
var Prefixes = []string{"/subjects", "/schemas", "/config", "/mode", "/compatibility"}

// requestTimeout bounds every request: one that has not been answered by
// then (waiting for the topic) is 50002.
var requestTimeout = 30 * time.Second

// Handler serves Confluent Schema Registry's REST API over r. log
// receives store errors; nil discards them.
func Handler(r *Registry, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &rest{r: r, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /schemas/types", h.types)
	mux.HandleFunc("GET /schemas/ids/{id}", h.byID)
	mux.HandleFunc("GET /schemas/ids/{id}/schema", h.byIDRaw)
	mux.HandleFunc("GET /schemas/ids/{id}/versions", h.idVersions)
	mux.HandleFunc("GET /schemas/ids/{id}/subjects", h.idSubjects)
	mux.HandleFunc("GET /subjects", h.subjects)
	mux.HandleFunc("GET /subjects/{subject}/versions", h.versions)
	mux.HandleFunc("POST /subjects/{subject}/versions", h.register)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}", h.version)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", h.versionRaw)
	mux.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", h.referencedBy)
	mux.HandleFunc("DELETE /subjects/{subject}/versions/{version}", h.deleteVersion)
	mux.HandleFunc("POST /subjects/{subject}", h.lookup)
	mux.HandleFunc("DELETE /subjects/{subject}", h.deleteSubject)
	mux.HandleFunc("GET /config", h.getConfig)
	mux.HandleFunc("PUT /config", h.putConfig)
	mux.HandleFunc("DELETE /config", h.deleteConfig)
	mux.HandleFunc("GET /config/{subject}", h.getConfig)
	mux.HandleFunc("PUT /config/{subject}", h.putConfig)
	mux.HandleFunc("DELETE /config/{subject}", h.deleteConfig)
	mux.HandleFunc("GET /mode", h.getMode)
	mux.HandleFunc("PUT /mode", h.putMode)
	mux.HandleFunc("DELETE /mode", h.deleteMode)
	mux.HandleFunc("GET /mode/{subject}", h.getMode)
	mux.HandleFunc("PUT /mode/{subject}", h.putMode)
	mux.HandleFunc("DELETE /mode/{subject}", h.deleteMode)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions", h.compatibility)
	mux.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", h.compatibility)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, pattern := mux.Handler(req); pattern == "" {
			var allow []string
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
				other := req.Clone(req.Context())
				other.Method = m
				if _, p := mux.Handler(other); p != "" {
					allow = append(allow, m)
				}
			}
			if len(allow) > 0 {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, fmt.Sprintf("HTTP 405 Method Not Allowed: %s %s", req.Method, req.URL.Path))
				return
			}
			writeError(w, http.StatusNotFound, http.StatusNotFound, fmt.Sprintf("HTTP %d Not Found: no route for %s %s", http.StatusNotFound, req.Method, req.URL.Path))
			return
		}
		if !r.Ready() {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, CodeNotReady, "The schema registry is still reading its topic; retry shortly.")
			return
		}
		ctx, cancel := context.WithTimeout(withFresh(req.Context()), requestTimeout)
		defer cancel()
		mux.ServeHTTP(w, req.WithContext(ctx))
	})
}

type rest struct {
	r   *Registry
	log *slog.Logger
}

// errorBody is Confluent's error body.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, errorBody{ErrorCode: code, Message: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *rest) fail(w http.ResponseWriter, req *http.Request, err error) {
	if code(err) >= 50000 {
		h.log.Error("schema registry: request failed", "method", req.Method, "path", req.URL.Path, "error", err)
	}
	var e *Error
	if !errors.As(err, &e) {
		e = storeError(err)
	}
	writeError(w, e.Status(), e.Code, e.Message)
}

// schemaBody is a registration, lookup or compatibility request, and the
// answer of GET /schemas/ids/{id}.
type schemaBody struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []reference `json:"references,omitempty"`
}

// subjectSchemaBody is a subject's version as the REST API shows it.
type subjectSchemaBody struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

func schemaJSON(s connector.RegistrySchema) schemaBody {
	b := schemaBody{Schema: s.Schema}
	if t, _ := normType(s.Type); t != connector.RegistryAvro {
		b.SchemaType = string(t)
	}
	for _, r := range s.References {
		b.References = append(b.References, reference(r))
	}
	return b
}

func subjectSchemaJSON(s connector.SubjectSchema) subjectSchemaBody {
	b := schemaJSON(s.RegistrySchema)
	return subjectSchemaBody{Subject: s.Subject, Version: s.Version, ID: s.ID, SchemaType: b.SchemaType, References: b.References, Schema: s.Schema}
}

// readSchema reads a request's schema body.
func readSchema(w http.ResponseWriter, req *http.Request) (connector.RegistrySchema, error) {
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return connector.RegistrySchema{}, errorf(http.StatusUnsupportedMediaType, nil, "HTTP 415 Unsupported Media Type: %q", ct)
		case mt == "application/json", mt == "application/octet-stream", mt == ContentType,
			mt == "application/vnd.schemaregistry+json", mt == "text/plain":
		default:
			return connector.RegistrySchema{}, errorf(http.StatusUnsupportedMediaType, nil, "HTTP 415 Unsupported Media Type: %q", ct)
		}
	}
	return parseSchemaBody(http.MaxBytesReader(w, req.Body, maxBody))
}

// parseSchemaBody decodes a schema request body.
func parseSchemaBody(r io.Reader) (connector.RegistrySchema, error) {
	var b schemaBody
	if err := decodeStrict(r, &b); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return connector.RegistrySchema{}, errorf(http.StatusRequestEntityTooLarge, nil, "The request body is larger than %d bytes.", mbe.Limit)
		}
		return connector.RegistrySchema{}, errorf(CodeInvalidSchema, connector.ErrInvalidSchema, "Invalid request body: %v", err)
	}
	t, ok := normType(connector.RegistryType(b.SchemaType))
	if !ok {
		return connector.RegistrySchema{}, invalidSchema("Invalid schema type %q: the types are AVRO, PROTOBUF and JSON.", b.SchemaType)
	}
	s := connector.RegistrySchema{Type: t, Schema: b.Schema}
	for _, ref := range b.References {
		s.References = append(s.References, connector.SchemaReference(ref))
	}
	return s, nil
}

// parseVersion reads a version path segment: "latest" and -1 are -1.
func parseVersion(s string) (int, error) {
	if s == "latest" {
		return -1, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v == 0 || v < -1 || v > math.MaxInt32 {
		return 0, errorf(CodeInvalidVersion, nil, "The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s)
	}
	return v, nil
}

func parseID(s string) (int, error) {
	id, err := strconv.Atoi(s)
	if err != nil || id < 1 || id > math.MaxInt32 {
		return 0, schemaNotFound("Schema %s not found.", s)
	}
	return id, nil
}

func flag(req *http.Request, name string) bool {
	v, _ := strconv.ParseBool(req.URL.Query().Get(name))
	return v
}

func (h *rest) types(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, []string{"JSON", "PROTOBUF", "AVRO"})
}

func (h *rest) byID(w http.ResponseWriter, req *http.Request) {
	id, err := parseID(req.PathValue("id"))
	var s connector.RegistrySchema
	if err == nil {
		s, err = h.r.SchemaByID(req.Context(), id)
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, schemaJSON(s))
}

func (h *rest) byIDRaw(w http.ResponseWriter, req *http.Request) {
	id, err := parseID(req.PathValue("id"))
	var s connector.RegistrySchema
	if err == nil {
		s, err = h.r.SchemaByID(req.Context(), id)
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeRaw(w, s)
}

// writeRaw answers a schema's own text, as Confluent's .../schema routes
// do.
func writeRaw(w http.ResponseWriter, s connector.RegistrySchema) {
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, s.Schema)
}

func (h *rest) idVersions(w http.ResponseWriter, req *http.Request) {
	id, err := parseID(req.PathValue("id"))
	var out []SubjectVersion
	if err == nil {
		out, err = h.r.IDVersions(req.Context(), id, flag(req, "deleted"))
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *rest) idSubjects(w http.ResponseWriter, req *http.Request) {
	id, err := parseID(req.PathValue("id"))
	var svs []SubjectVersion
	if err == nil {
		svs, err = h.r.IDVersions(req.Context(), id, flag(req, "deleted"))
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	out := []string{}
	for _, sv := range svs {
		if len(out) == 0 || out[len(out)-1] != sv.Subject {
			out = append(out, sv.Subject)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *rest) subjects(w http.ResponseWriter, req *http.Request) {
	out, err := h.r.Subjects(req.Context(), flag(req, "deleted"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	if prefix := req.URL.Query().Get("subjectPrefix"); prefix != "" && prefix != ":*:" {
		var kept []string
		for _, s := range out {
			if strings.HasPrefix(s, prefix) {
				kept = append(kept, s)
			}
		}
		out = kept
	}
	if out == nil {
		out = []string{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *rest) versions(w http.ResponseWriter, req *http.Request) {
	out, err := h.r.Versions(req.Context(), req.PathValue("subject"), flag(req, "deleted"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *rest) register(w http.ResponseWriter, req *http.Request) {
	s, err := readSchema(w, req)
	var ss connector.SubjectSchema
	if err == nil {
		ss, err = h.r.Register(req.Context(), req.PathValue("subject"), s)
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		ID int `json:"id"`
	}{ss.ID})
}

func (h *rest) subjectVersion(req *http.Request) (connector.SubjectSchema, error) {
	v, err := parseVersion(req.PathValue("version"))
	if err != nil {
		return connector.SubjectSchema{}, err
	}
	return h.r.Version(req.Context(), req.PathValue("subject"), v, flag(req, "deleted"))
}

func (h *rest) version(w http.ResponseWriter, req *http.Request) {
	ss, err := h.subjectVersion(req)
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, subjectSchemaJSON(ss))
}

func (h *rest) versionRaw(w http.ResponseWriter, req *http.Request) {
	ss, err := h.subjectVersion(req)
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeRaw(w, ss.RegistrySchema)
}

func (h *rest) referencedBy(w http.ResponseWriter, req *http.Request) {
	ss, err := h.subjectVersion(req)
	if err != nil {
		h.fail(w, req, err)
		return
	}
	h.r.mu.Lock()
	ids := h.r.st.referencedBy(ss.Subject, ss.Version)
	h.r.mu.Unlock()
	if ids == nil {
		ids = []int{}
	}
	writeJSON(w, http.StatusOK, ids)
}

func (h *rest) deleteVersion(w http.ResponseWriter, req *http.Request) {
	v, err := parseVersion(req.PathValue("version"))
	if err == nil {
		v, err = h.r.DeleteVersion(req.Context(), req.PathValue("subject"), v, flag(req, "permanent"))
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *rest) lookup(w http.ResponseWriter, req *http.Request) {
	s, err := readSchema(w, req)
	var ss connector.SubjectSchema
	if err == nil {
		ss, err = h.r.LookupDeleted(req.Context(), req.PathValue("subject"), s, flag(req, "deleted"))
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, subjectSchemaJSON(ss))
}

func (h *rest) deleteSubject(w http.ResponseWriter, req *http.Request) {
	out, err := h.r.DeleteSubject(req.Context(), req.PathValue("subject"), flag(req, "permanent"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type configBody struct {
	Compatibility string `json:"compatibility"`
}

type configAnswer struct {
	CompatibilityLevel Compatibility `json:"compatibilityLevel"`
}

func (h *rest) getConfig(w http.ResponseWriter, req *http.Request) {
	c, err := h.r.Compatibility(req.Context(), req.PathValue("subject"), flag(req, "defaultToGlobal"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configAnswer{c})
}

func (h *rest) putConfig(w http.ResponseWriter, req *http.Request) {
	var b configBody
	if err := decodeStrict(http.MaxBytesReader(w, req.Body, maxBody), &b); err != nil {
		writeError(w, http.StatusUnprocessableEntity, CodeInvalidCompatibility, "Invalid request body: "+err.Error())
		return
	}
	c, ok := ParseCompatibility(b.Compatibility)
	if !ok {
		c = Compatibility(b.Compatibility)
	}
	if err := h.r.SetCompatibility(req.Context(), req.PathValue("subject"), c); err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configBody{string(c)})
}

func (h *rest) deleteConfig(w http.ResponseWriter, req *http.Request) {
	c, err := h.r.DeleteCompatibility(req.Context(), req.PathValue("subject"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, configAnswer{c})
}

type modeBody struct {
	Mode string `json:"mode"`
}

func (h *rest) getMode(w http.ResponseWriter, req *http.Request) {
	m, err := h.r.Mode(req.Context(), req.PathValue("subject"), flag(req, "defaultToGlobal"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, modeBody{string(m)})
}

func (h *rest) putMode(w http.ResponseWriter, req *http.Request) {
	var b modeBody
	if err := decodeStrict(http.MaxBytesReader(w, req.Body, maxBody), &b); err != nil {
		writeError(w, http.StatusUnprocessableEntity, CodeInvalidMode, "Invalid request body: "+err.Error())
		return
	}
	m, ok := ParseMode(b.Mode)
	if !ok {
		m = Mode(b.Mode)
	}
	if err := h.r.SetMode(req.Context(), req.PathValue("subject"), m); err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, modeBody{string(m)})
}

func (h *rest) deleteMode(w http.ResponseWriter, req *http.Request) {
	m, err := h.r.DeleteMode(req.Context(), req.PathValue("subject"))
	if err != nil {
		h.fail(w, req, err)
		return
	}
	writeJSON(w, http.StatusOK, modeBody{string(m)})
}

type compatibilityAnswer struct {
	IsCompatible bool     `json:"is_compatible"`
	Messages     []string `json:"messages,omitempty"`
}

func (h *rest) compatibility(w http.ResponseWriter, req *http.Request) {
	v := 0 // every version the subject's level compares with
	var err error
	if req.PathValue("version") != "" {
		v, err = parseVersion(req.PathValue("version"))
	}
	var s connector.RegistrySchema
	if err == nil {
		s, err = readSchema(w, req)
	}
	var msgs []string
	if err == nil {
		msgs, err = h.r.CheckCompatibility(req.Context(), req.PathValue("subject"), v, s)
	}
	if err != nil {
		h.fail(w, req, err)
		return
	}
	a := compatibilityAnswer{IsCompatible: len(msgs) == 0}
	if flag(req, "verbose") {
		a.Messages = msgs
	}
	writeJSON(w, http.StatusOK, a)
}
