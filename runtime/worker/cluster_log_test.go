package worker_test

import (
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestWorkerLogsItsCluster checks that a worker says at start, at info,
// which cluster it joined: the brokers it was given and the cluster's id,
// so that a worker pointed at the wrong cluster is seen at once.
func TestWorkerLogsItsCluster(t *testing.T) {
	f := newFixture(t, "clusterlog")
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.kcfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	meta, err := kadm.NewClient(cl).BrokerMetadata(ctxFor(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Cluster == "" {
		t.Fatal("the broker reports no cluster id")
	}
	logged := logWorker(t, f, slog.LevelInfo)
	want := regexp.MustCompile(`level=INFO msg="joined the fleet's Kafka cluster" .*brokers=` + regexp.QuoteMeta(strings.Join(f.kcfg.Brokers, ",")) +
		` cluster_id=` + regexp.QuoteMeta(meta.Cluster) + ` `)
	eventually(t, 30*time.Second, "the line that names the cluster", func() (bool, string) {
		return want.MatchString(logged.String()), logged.String()
	})
}
