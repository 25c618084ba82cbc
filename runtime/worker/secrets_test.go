package worker_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/worker"
)

// echoSchema is a source that writes its sensitive token as records, so
// that a test sees which value a task runs with.
var echoSchema = configschema.Schema{Kind: configschema.Source, Type: "secretecho", Attributes: []configschema.Attribute{
	{Name: "token", Type: configschema.String, Required: true, Sensitive: true},
	{Name: "topic", Type: configschema.String, Required: true},
}}

type echoConfig struct {
	Token string `pipectl:"token"`
	Topic string `pipectl:"topic"`
}

type echoSource struct {
	connector.UnimplementedSource
	cfg   echoConfig
	opens *sync.Map // pipeline address → number of opens
}

func (s *echoSource) Open(_ context.Context, tc *connector.TaskContext) error {
	v, _ := s.opens.LoadOrStore(tc.Pipeline, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return tc.DecodeConfig(&echoSchema, &s.cfg)
}

func (s *echoSource) Poll(ctx context.Context) ([]connector.Record, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(50 * time.Millisecond):
	}
	return []connector.Record{{Topic: s.cfg.Topic, Partition: -1, Value: map[string]any{"token": s.cfg.Token}}}, nil
}

func (s *echoSource) Close() error { return nil }

// TestSecretRotation runs two pipelines of a source whose token is
// sensitive: one reads it with secret("directory", …) from a mounted
// directory, one has it in its configuration. The first runs with the
// file's value; when the file is rewritten, its task restarts with the new
// value within the check interval, and the other pipeline's task does not
// restart.
func TestSecretRotation(t *testing.T) {
	f := newFixture(t, "shop")
	var opens sync.Map
	if err := f.reg.Register(connector.Plugin{Schema: echoSchema, Config: (*echoConfig)(nil),
		NewSource: func() connector.Source { return &echoSource{opens: &opens} }}); err != nil {
		t.Fatal(err)
	}
	secrets := t.TempDir()
	if err := os.WriteFile(filepath.Join(secrets, "token"), []byte("first-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.apply(fmt.Sprintf(`
topic "rotated" {}
topic "fixed" {}
source "secretecho" "rotated" {
  token = secret("directory", %q, "token")
  topic = topic.rotated.name
}
source "secretecho" "fixed" {
  token = "in-state"
  topic = topic.fixed.name
}
`, secrets))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(worker.Config{Fleet: f.fleet, Kafka: f.kcfg, Registry: f.reg, Listener: ln, Keys: f.keys,
		StatusInterval: 500 * time.Millisecond, SecretCheckInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()

	cl, err := kafka.NewClient(f.kcfg, kgo.ConsumeTopics("rotated"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			pctx, pcancel := context.WithTimeout(context.Background(), time.Second)
			fs := cl.PollFetches(pctx)
			pcancel()
			found := false
			fs.EachRecord(func(r *kgo.Record) { found = found || strings.Contains(string(r.Value), want) })
			if found {
				return
			}
		}
		t.Fatalf("no record with %s in 60s", want)
	}
	waitFor(`"first-value"`)
	count := func(addr string) int {
		v, ok := opens.Load(addr)
		if !ok {
			return 0
		}
		return int(v.(*atomic.Int64).Load())
	}
	eventually(t, 30*time.Second, "both pipelines opened once", func() (bool, string) {
		return count("source.secretecho.rotated") == 1 && count("source.secretecho.fixed") == 1,
			fmt.Sprintf("rotated %d, fixed %d", count("source.secretecho.rotated"), count("source.secretecho.fixed"))
	})
	if err := os.WriteFile(filepath.Join(secrets, "token.tmp"), []byte("second-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(secrets, "token.tmp"), filepath.Join(secrets, "token")); err != nil {
		t.Fatal(err)
	}
	waitFor(`"second-value"`)
	if n := count("source.secretecho.rotated"); n != 2 {
		t.Errorf("the rotated pipeline opened %d times; want 2", n)
	}
	if n := count("source.secretecho.fixed"); n != 1 {
		t.Errorf("the pipeline without provider secrets opened %d times; want 1 (it must not restart)", n)
	}
}
