package kafka_test

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestKcatInterop checks the embedded broker with librdkafka (kcat): kcat
// produces and a kgo client reads, then kgo produces and kcat reads.
func TestKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH (apt-get install kcat; .ci/run installs it): skipping the librdkafka interop test")
	}
	b, cfg := kafkatest.Start(t)
	cl := newClient(t, cfg)
	const n = 100
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl),
		kafka.Topic{Name: "from-kcat", Partitions: 3},
		kafka.Topic{Name: "to-kcat", Partitions: 3}); err != nil {
		t.Fatal(err)
	}

	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "v%d\n", i)
	}
	runKcat(t, kcat, strings.NewReader(in.String()), "-P", "-b", b.Addr(), "-t", "from-kcat")
	consumeN(t, cfg, "from-kcat", n)

	produceN(t, cl, "to-kcat", n)
	out := runKcat(t, kcat, nil, "-C", "-b", b.Addr(), "-t", "to-kcat", "-e", "-o", "beginning", "-q", "-f", "%s\n")
	got := strings.Fields(out)
	want := make([]string, n)
	for i := range want {
		want[i] = "v" + strconv.Itoa(i)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("kcat read %d records %v; want v0..v%d, each once", len(got), got, n-1)
	}
}

func runKcat(t *testing.T, kcat string, stdin *strings.Reader, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(testCtx(t), kcat, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// TestKcatSASL checks that librdkafka (kcat) logs in to the embedded broker
// with SASL, as franz-go does: SCRAM-SHA-512 over TLS with the generated
// CA, and PLAIN and SCRAM-SHA-256 in the clear; it produces what a kgo
// client with the same credentials reads, and a wrong password fails.
func TestKcatSASL(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not on PATH (apt-get install kcat; .ci/run installs it): skipping the librdkafka SASL test")
	}
	dir := t.TempDir()
	tc, err := kafka.DevTLS(dir, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(dir, kafka.DevCAFile)
	for _, tt := range []struct {
		mech     string
		tls      bool
		protocol string
	}{
		{kafka.MechanismScramSHA512, true, "SASL_SSL"},
		{kafka.MechanismScramSHA256, false, "SASL_PLAINTEXT"},
		{kafka.MechanismPlain, false, "SASL_PLAINTEXT"},
	} {
		t.Run(tt.mech, func(t *testing.T) {
			user := kafka.SASL{Mechanism: tt.mech, Username: "pipectl", Password: "s3cret"}
			bc := kafka.BrokerConfig{Listen: "127.0.0.1:0", Users: []kafka.SASL{user}}
			cfg := kafka.Config{SASL: &user}
			if tt.tls {
				bc.TLS = tc
				cfg.TLS = &kafka.TLS{CAFile: ca}
			}
			b, err := kafka.StartBroker(bc)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			cfg.Brokers = []string{b.Addr()}
			cl := newClient(t, cfg)
			if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "secured", Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			login := func(pass string) []string {
				a := []string{"-b", b.Addr(), "-X", "security.protocol=" + tt.protocol, "-X", "sasl.mechanisms=" + tt.mech,
					"-X", "sasl.username=pipectl", "-X", "sasl.password=" + pass}
				if tt.tls {
					a = append(a, "-X", "ssl.ca.location="+ca)
				}
				return a
			}
			runKcat(t, kcat, strings.NewReader("v0\nv1\nv2\n"), append(login("s3cret"), "-P", "-t", "secured")...)
			consumeN(t, cfg, "secured", 3)
			out := runKcat(t, kcat, nil, append(login("s3cret"), "-C", "-t", "secured", "-e", "-o", "beginning", "-q", "-f", "%s\n")...)
			if got := strings.Fields(out); !slices.Equal(got, []string{"v0", "v1", "v2"}) {
				t.Errorf("kcat read %v; want v0 v1 v2", got)
			}
			if !tt.tls {
				return // one wrong-password check is enough: it waits out kcat's timeout
			}
			cmd := exec.CommandContext(testCtx(t), kcat, append(login("wrong"), "-L", "-m", "5")...)
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("kcat with a wrong password listed metadata:\n%s", out)
			}
		})
	}
}
