package kafka

import (
	"context"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"
)

// kgoLogger writes franz-go's own log to a slog.Logger, and only when that
// logger is at debug: franz-go logs every connection, request and group
// step, far too much below debug. Every line, whatever franz-go's level
// for it, is a debug line marked client=franz-go, with franz-go's level as
// client_level (a failed dial is WARN there).
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	if k.l.Enabled(context.Background(), slog.LevelDebug) {
		return kgo.LogLevelDebug
	}
	return kgo.LogLevelNone
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	args := make([]any, 0, len(keyvals)+4)
	args = append(args, "client", "franz-go", "client_level", level.String())
	k.l.Log(context.Background(), slog.LevelDebug, msg, append(args, keyvals...)...)
}
