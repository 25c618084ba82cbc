package worker

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pipectl/pipectl/runtime/api"
	"github.com/pipectl/pipectl/runtime/control"
)

// The worker's named loggers (Kafka Connect's /admin/loggers, KIP-495):
// a log line belongs to the logger of its pipeline's address
// (sink.file.out), or to "pipectl" (the worker's own lines, its Kafka
// clients'). Names are a dotted hierarchy, as log4j's: a level set on
// "sink" holds for every sink pipeline without a level of its own, and
// "root" holds for everything else.

// RootLogger is the name of the logger above all others.
const RootLogger = "root"

// workerLogger is the logger of the lines of no pipeline.
const workerLogger = "pipectl"

// LowestLevel is the lowest level a worker logs (log4j's TRACE): give
// Config.Logger a handler that takes it, and the root level in
// Config.LogLevel, so that /admin/loggers can lower a level at run time.
const LowestLevel = levelTrace

// levelTrace, levelFatal and levelOff are the log4j levels that slog has
// no name for.
const (
	levelTrace = slog.LevelDebug - 4
	levelFatal = slog.LevelError + 4
	levelOff   = slog.LevelError + 8
)

var levelNames = []struct {
	name  string
	level slog.Level
}{{"TRACE", levelTrace}, {"DEBUG", slog.LevelDebug}, {"INFO", slog.LevelInfo}, {"WARN", slog.LevelWarn},
	{"ERROR", slog.LevelError}, {"FATAL", levelFatal}, {"OFF", levelOff}}

// parseLevel reads a log4j level name, in any case.
func parseLevel(s string) (slog.Level, bool) {
	for _, l := range levelNames {
		if strings.EqualFold(s, l.name) {
			return l.level, true
		}
	}
	return 0, false
}

func levelName(l slog.Level) string {
	name := levelNames[0].name
	for _, n := range levelNames {
		if l >= n.level {
			name = n.name
		}
	}
	return name
}

// loggerLevel is a level set on a named logger.
type loggerLevel struct {
	level    slog.Level
	modified time.Time // zero for root's level at start
}

// logLevels holds the levels of the worker's named loggers.
type logLevels struct {
	mu     sync.RWMutex
	levels map[string]loggerLevel // root always present
	// cluster is when each logger's newest cluster-scoped level that
	// this worker applied was requested.
	cluster map[string]time.Time
}

func newLogLevels(root slog.Level) *logLevels {
	return &logLevels{levels: map[string]loggerLevel{RootLogger: {level: root}}, cluster: map[string]time.Time{}}
}

// effective is the level of a logger: its own or its nearest ancestor's.
func (l *logLevels) effective(name string) slog.Level {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for n := name; n != ""; {
		if ll, ok := l.levels[n]; ok {
			return ll.level
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return l.levels[RootLogger].level
}

// set gives a logger and every logger below it that has a level the
// new level, and returns their names, sorted (KIP-495's answer).
func (l *logLevels) set(name string, level slog.Level, at time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []string{name}
	for n := range l.levels {
		if n != name && (name == RootLogger || strings.HasPrefix(n, name+".")) {
			out = append(out, n)
		}
	}
	for _, n := range out {
		l.levels[n] = loggerLevel{level: level, modified: at}
	}
	slices.Sort(out)
	return out
}

// applyCluster applies the cluster-scoped levels (KIP-976) this worker
// has not applied yet, oldest first.
func (l *logLevels) applyCluster(reqs map[string]control.LoggerLevel) {
	var todo []control.LoggerLevel
	l.mu.RLock()
	for name, r := range reqs {
		if r.Time.After(l.cluster[name]) {
			todo = append(todo, r)
		}
	}
	l.mu.RUnlock()
	slices.SortFunc(todo, func(a, b control.LoggerLevel) int { return a.Time.Compare(b.Time) })
	for _, r := range todo {
		level, ok := parseLevel(r.Level)
		if !ok {
			continue
		}
		l.set(r.Logger, level, r.Time)
		l.mu.Lock()
		l.cluster[r.Logger] = r.Time
		l.mu.Unlock()
	}
}

// levelHandler drops the records below the level of their logger and
// passes the others to the worker's handler.
type levelHandler struct {
	levels *logLevels
	name   string
	inner  slog.Handler
}

func (h *levelHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.levels.effective(h.name) && h.inner.Enabled(ctx, level)
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	name := h.name
	for _, a := range attrs {
		if a.Key == "pipeline" && a.Value.Kind() == slog.KindString {
			name = a.Value.String()
		}
	}
	return &levelHandler{levels: h.levels, name: name, inner: h.inner.WithAttrs(attrs)}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{levels: h.levels, name: h.name, inner: h.inner.WithGroup(name)}
}

// lowestLevel is the lowest level a handler takes: the root level a
// worker starts with, when Config.LogLevel does not set one.
func lowestLevel(h slog.Handler) slog.Level {
	for _, l := range levelNames {
		if h.Enabled(context.Background(), l.level) {
			return l.level
		}
	}
	return levelOff
}

// loggers is the worker's api.Loggers.
type loggers struct {
	w *Worker
}

var _ api.Loggers = loggers{}

func (lg loggers) Loggers() map[string]api.LoggerLevel {
	l := lg.w.levels
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make(map[string]api.LoggerLevel, len(l.levels))
	for name, ll := range l.levels {
		out[name] = apiLevel(ll)
	}
	return out
}

func apiLevel(ll loggerLevel) api.LoggerLevel {
	out := api.LoggerLevel{Level: levelName(ll.level)}
	if !ll.modified.IsZero() {
		ms := ll.modified.UnixMilli()
		out.LastModified = &ms
	}
	return out
}

func (lg loggers) Logger(name string) api.LoggerLevel {
	return api.LoggerLevel{Level: levelName(lg.w.levels.effective(name))}
}

func (lg loggers) SetLevel(name, level string) ([]string, error) {
	l, err := checkLevel(name, level)
	if err != nil {
		return nil, err
	}
	names := lg.w.levels.set(name, l, time.Now())
	lg.w.log.Info("log level changed", "logger", name, "level", levelName(l), "loggers", len(names))
	return names, nil
}

func (lg loggers) SetClusterLevel(ctx context.Context, name, level string) error {
	l, err := checkLevel(name, level)
	if err != nil {
		return err
	}
	return lg.w.ctl.PutLoggerLevel(ctx, control.LoggerLevel{Logger: name, Level: levelName(l), By: "rest:" + lg.w.id})
}

func checkLevel(name, level string) (slog.Level, error) {
	if strings.TrimSpace(name) == "" {
		return 0, api.Errorf(api.ErrBadRequest, "A logger name is required")
	}
	l, ok := parseLevel(level)
	if !ok {
		names := make([]string, len(levelNames))
		for i, n := range levelNames {
			names[i] = n.name
		}
		return 0, api.Errorf(api.ErrBadRequest, "Invalid log level %q: the levels are %s", level, strings.Join(names, ", "))
	}
	return l, nil
}
