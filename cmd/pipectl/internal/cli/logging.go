package cli

import (
	"log/slog"
	"strings"
)

func ptrTo[T any](v T) *T { return &v }

// logLevel reads PIPECTL_LOG (debug, info, warn, error) for the log of
// long-running commands; def when unset or unknown.
func logLevel(m *meta, def slog.Level) slog.Level {
	s, _ := m.lookupEnv("PIPECTL_LOG")
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return def
}
