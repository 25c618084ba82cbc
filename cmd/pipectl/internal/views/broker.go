package views

import "log/slog"

// BrokerListening says that `pipectl broker` is ready for clients. Scripts
// wait for this line, so it is the same whatever the flags.
func (v *View) BrokerListening(addr string) {
	v.out("broker listening on " + addr + "\n")
}

// Logger returns a logger that writes the messages of long-running
// machinery (the embedded broker) at level and above to stderr, as text.
func (v *View) Logger(level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(v.streams.Stderr, &slog.HandlerOptions{Level: level}))
}
