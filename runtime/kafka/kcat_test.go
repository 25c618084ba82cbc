package kafka_test

import (
	"bytes"
	"fmt"
	"os/exec"
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
