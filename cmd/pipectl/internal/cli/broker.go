package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pipectl/pipectl/runtime/kafka"
)

var brokerCommand = &command{
	name:     "broker",
	synopsis: "Run an embedded Kafka-protocol broker for development",
	usage: `Usage: pipectl broker [options]

  Runs one Kafka-protocol broker (franz-go's kfake) in this process until it
  is interrupted (Ctrl-C or SIGTERM), for development and tests. It prints
  "broker listening on HOST:PORT" once clients can connect.

  The broker never creates a topic on use: create topics first (pipectl
  apply does). With -data-dir, topics, records, consumer group offsets and
  transactions survive a restart, a kill -9 included; without it, they are
  lost when the broker stops.

Options:

  -listen HOST:PORT  The address to listen on, which is also the address
                     the broker gives clients. Default 127.0.0.1:9092;
                     port 0 picks a free port.
  -data-dir DIR      Keep the broker's data in DIR (created if missing).
  -no-color          Print errors without colour.
`,
	run: runBroker,
}

func runBroker(m *meta, cmd *command, args []string) int {
	// Catch the signals first, so that one sent as soon as the broker is
	// up stops it cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fs := m.newFlagSet(cmd)
	listen := fs.String("listen", kafka.DefaultListen, "")
	dataDir := fs.String("data-dir", "", "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	v := m.view()
	if len(positional) > 0 {
		v.UsageError("Too many command-line arguments", "broker takes no arguments.", cmd.usage)
		return exitError
	}
	b, err := kafka.StartBroker(kafka.BrokerConfig{
		Listen:  *listen,
		DataDir: *dataDir,
		Logger:  v.Logger(slog.LevelWarn),
	})
	if err != nil {
		v.Error("Failed to start the broker", brokerStartDetail(err))
		return exitError
	}
	v.BrokerListening(b.Addr())
	<-ctx.Done()
	stop() // a second Ctrl-C while the state is saved ends the process at once
	b.Close()
	return exitOK
}

func brokerStartDetail(err error) string {
	var le *kafka.ListenError
	switch {
	case errors.As(err, &le) && errors.Is(err, syscall.EADDRINUSE):
		return fmt.Sprintf("Cannot listen on %s: the address is already in use. Stop the program that uses it, or give another address with -listen (port 0 picks a free one).", le.Addr)
	case errors.As(err, &le):
		return fmt.Sprintf("Cannot listen on %s: %v. Give -listen as HOST:PORT, with a host of this machine.", le.Addr, le.Err)
	}
	return fmt.Sprintf("The broker did not start: %v.", err)
}
