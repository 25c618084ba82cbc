package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
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
  -sasl-user NAME:PASSWORD
                     Require SASL: NAME may log in with PASSWORD by PLAIN,
                     SCRAM-SHA-256 or SCRAM-SHA-512. Repeatable. The
                     password may also be env:VAR, read from the
                     environment variable VAR, to keep it out of ps.
  -tls-dir DIR       Listen with TLS only, with the broker certificate in
                     DIR (broker.pem, broker-key.pem); when DIR has none,
                     a development CA (ca.pem: what clients trust, e.g. a
                     fleet's tls { ca_file }) and a certificate for the
                     -listen host and localhost are generated there.
  -no-color          Print errors without colour.

  SASL and TLS are for developing and testing secured fleets: every user
  is a superuser (there are no ACLs) and the generated CA is not kept.
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
	var users saslUsers
	fs.Var(&users, "sasl-user", "")
	tlsDir := fs.String("tls-dir", "", "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	v := m.view()
	if len(positional) > 0 {
		v.UsageError("Too many command-line arguments", "broker takes no arguments.", cmd.usage)
		return exitError
	}
	cfg := kafka.BrokerConfig{
		Listen:  *listen,
		DataDir: *dataDir,
		Logger:  v.Logger(slog.LevelWarn),
	}
	for _, u := range users {
		pass := u.pass
		if name, ok := strings.CutPrefix(pass, "env:"); ok {
			if pass, ok = m.lookupEnv(name); !ok || pass == "" {
				v.Error("Missing SASL password", fmt.Sprintf("The password of SASL user %s is read from the environment variable %s, which is not set.", u.name, name))
				return exitError
			}
		}
		for _, mech := range kafka.Mechanisms {
			cfg.Users = append(cfg.Users, kafka.SASL{Mechanism: mech, Username: u.name, Password: pass})
		}
	}
	if *tlsDir != "" {
		host, _, _ := net.SplitHostPort(*listen)
		tc, err := kafka.DevTLS(*tlsDir, []string{host, "localhost", "127.0.0.1"})
		if err != nil {
			v.Error("Failed to start the broker", fmt.Sprintf("TLS: %v.", err))
			return exitError
		}
		cfg.TLS = tc
	}
	b, err := kafka.StartBroker(cfg)
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

// saslUser is one -sasl-user NAME:PASSWORD.
type saslUser struct{ name, pass string }

// saslUsers is the repeatable -sasl-user flag. It never prints the
// passwords.
type saslUsers []saslUser

func (u *saslUsers) String() string { return "" }

func (u *saslUsers) Set(s string) error {
	name, pass, ok := strings.Cut(s, ":")
	if !ok || name == "" || pass == "" {
		return errors.New("want NAME:PASSWORD (or NAME:env:VAR)")
	}
	*u = append(*u, saslUser{name, pass})
	return nil
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
