package kafka_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// testCtx is a generous deadline that only catches hangs.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newClient(t *testing.T, cfg kafka.Config, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kafka.NewClient(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// TestEnsureTopics creates compacted topics like a fleet's internal ones
// from four clients at once and then once more, and checks that every call
// succeeds and that the topics have the partitions and configs asked for.
func TestEnsureTopics(t *testing.T) {
	ctx := testCtx(t)
	_, cfg := kafkatest.Start(t)
	compact := func() map[string]string { return map[string]string{"cleanup.policy": "compact"} }
	topics := []kafka.Topic{
		{Name: "fleet.configs", Partitions: 1, ReplicationFactor: -1, Configs: compact()},
		{Name: "fleet.offsets", Partitions: 25, ReplicationFactor: -1, Configs: compact()},
		{Name: "fleet.status", Partitions: 5, ReplicationFactor: -1, Configs: compact()},
	}

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		adm := kadm.NewClient(newClient(t, cfg))
		wg.Go(func() { errs[i] = kafka.EnsureTopics(ctx, adm, topics...) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureTopics #%d: %v", i, err)
		}
	}
	adm := kadm.NewClient(newClient(t, cfg))
	if err := kafka.EnsureTopics(ctx, adm, topics...); err != nil {
		t.Errorf("EnsureTopics again: %v", err)
	}

	names := make([]string, len(topics))
	for i, tp := range topics {
		names[i] = tp.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range topics {
		d, ok := details[tp.Name]
		if !ok || d.Err != nil {
			t.Errorf("topic %s: missing (%v)", tp.Name, d.Err)
			continue
		}
		if got := int32(len(d.Partitions)); got != tp.Partitions {
			t.Errorf("topic %s: %d partitions; want %d", tp.Name, got, tp.Partitions)
		}
		rc, err := rcs.On(tp.Name, nil)
		if err != nil {
			t.Errorf("topic %s configs: %v", tp.Name, err)
			continue
		}
		policy := ""
		for _, c := range rc.Configs {
			if c.Key == "cleanup.policy" {
				policy = c.MaybeValue()
			}
		}
		if policy != "compact" {
			t.Errorf("topic %s: cleanup.policy %q; want compact", tp.Name, policy)
		}
	}
}

func TestEnsureTopicsError(t *testing.T) {
	_, cfg := kafkatest.Start(t)
	adm := kadm.NewClient(newClient(t, cfg))
	err := kafka.EnsureTopics(testCtx(t), adm,
		kafka.Topic{Name: "good", Partitions: 2},
		kafka.Topic{Name: "bad", Partitions: 1, ReplicationFactor: 3}) // one broker
	var te *kafka.TopicError
	if !errors.As(err, &te) {
		t.Fatalf("error %v; want a *TopicError", err)
	}
	if te.Topic != "bad" || !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Errorf("error %v; want INVALID_REPLICATION_FACTOR for topic bad", err)
	}
	if !strings.HasPrefix(err.Error(), `create topic "bad": INVALID_REPLICATION_FACTOR`) {
		t.Errorf("error %q does not name the topic and the cause", err)
	}
	details, err := adm.ListTopics(testCtx(t), "good")
	if err != nil || !details.Has("good") || details["good"].Err != nil {
		t.Errorf("topic good was not created beside the bad one: %v %v", err, details)
	}
}

// produceN produces n records, value "v<i>", key "k<i>", and waits for them.
func produceN(t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("v" + strconv.Itoa(i))}
	}
	if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// consumeN reads topic from the start until it has n records, and checks
// they are v0..v<n-1>, each once.
func consumeN(t *testing.T, cfg kafka.Config, topic string, n int) {
	t.Helper()
	cl := newClient(t, cfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx := testCtx(t)
	seen := make(map[string]int)
	total := 0
	for total < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records before the deadline", total, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			total++
		})
	}
	for i := range n {
		if v := "v" + strconv.Itoa(i); seen[v] != 1 {
			t.Errorf("record %s seen %d times; want 1", v, seen[v])
		}
	}
	if total != n {
		t.Errorf("consumed %d records; want %d", total, n)
	}
}

func TestProduceConsume(t *testing.T) {
	_, cfg := kafkatest.Start(t)
	cl := newClient(t, cfg)
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "orders", Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "orders", 500)
	consumeN(t, cfg, "orders", 500)
}

// TestProducesUncompressed checks that clients made from a Config send
// batches uncompressed, as Kafka's producer does by default, even when
// the batch would compress well, and that many clients made at once from
// the same options work (with -race, that they share no mutable option).
func TestProducesUncompressed(t *testing.T) {
	_, cfg := kafkatest.Start(t)
	opts, err := cfg.Opts()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	clients := make([]*kgo.Client, 4)
	errs := make([]error, len(clients))
	for i := range clients {
		wg.Go(func() { clients[i], errs[i] = kgo.NewClient(opts...) })
	}
	wg.Wait()
	for i, cl := range clients {
		if cl != nil {
			t.Cleanup(cl.Close)
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	cl := clients[0]
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "plain", Partitions: 1}); err != nil {
		t.Fatal(err)
	}
	value := []byte(strings.Repeat("compress me ", 1000))
	if err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: "plain", Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	consumer := newClient(t, cfg, kgo.ConsumeTopics("plain"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := consumer.PollFetches(testCtx(t))
	if err := fs.Err0(); err != nil {
		t.Fatal(err)
	}
	recs := fs.Records()
	if len(recs) != 1 || string(recs[0].Value) != string(value) {
		t.Fatalf("consumed %d records, want the one produced", len(recs))
	}
	if c := recs[0].Attrs.CompressionType(); c != 0 {
		t.Errorf("the batch was compressed with codec %d, want 0 (none)", c)
	}
}

// TestBrokerNoAutoCreate checks that a metadata request asking for topic
// auto-creation gets UNKNOWN_TOPIC_OR_PARTITION: topics are only created
// explicitly.
func TestBrokerNoAutoCreate(t *testing.T) {
	_, cfg := kafkatest.Start(t)
	cl := newClient(t, cfg)
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = true
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("never-created")
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Errorf("metadata for an unknown topic: %+v; want UNKNOWN_TOPIC_OR_PARTITION", resp.Topics)
	}
	if len(resp.Brokers) != 1 {
		t.Errorf("%d brokers; want 1", len(resp.Brokers))
	}
}

func TestBrokerAddr(t *testing.T) {
	b, err := kafka.StartBroker(kafka.BrokerConfig{}) // "" is 127.0.0.1:0
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	host, port, err := net.SplitHostPort(b.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Errorf("Addr() = %q; want 127.0.0.1 and the port picked", b.Addr())
	}
	b.Close() // twice is fine
}

func TestBrokerListenErrors(t *testing.T) {
	b, _ := kafkatest.Start(t)
	_, err := kafka.StartBroker(kafka.BrokerConfig{Listen: b.Addr()})
	var le *kafka.ListenError
	if !errors.As(err, &le) || le.Addr != b.Addr() || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second broker on %s: %v; want a ListenError with EADDRINUSE", b.Addr(), err)
	}
	if want := "listen on " + b.Addr() + ": bind: address already in use"; err == nil || err.Error() != want {
		t.Errorf("error %v; want %s", err, want)
	}
	for _, addr := range []string{"no-port", "127.0.0.1:99999"} {
		if _, err := kafka.StartBroker(kafka.BrokerConfig{Listen: addr}); !errors.As(err, &le) {
			t.Errorf("listen %q: %v; want a ListenError", addr, err)
		}
	}
}

// TestBrokerDataDir stops a persisting broker cleanly and starts another on
// the same directory (and another port): the topic and its records are
// there.
func TestBrokerDataDir(t *testing.T) {
	dir := t.TempDir()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := kafka.Config{Brokers: []string{b.Addr()}}
	cl, err := kafka.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: "kept", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	produceN(t, cl, "kept", 200)
	cl.Close()
	b.Close()

	b2, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	consumeN(t, kafka.Config{Brokers: []string{b2.Addr()}}, "kept", 200)
}

func TestBrokerSASL(t *testing.T) {
	users := []kafka.SASL{
		{Mechanism: kafka.MechanismPlain, Username: "pat", Password: "plain-pass"},
		{Mechanism: kafka.MechanismScramSHA256, Username: "sam", Password: "scram256-pass"},
		{Mechanism: kafka.MechanismScramSHA512, Username: "sue", Password: "scram512-pass"},
	}
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0", Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	for _, u := range users {
		t.Run(u.Mechanism, func(t *testing.T) {
			cfg := kafka.Config{Brokers: []string{b.Addr()}, SASL: &u}
			cl := newClient(t, cfg)
			topic := "t-" + u.Username
			if err := kafka.EnsureTopics(testCtx(t), kadm.NewClient(cl), kafka.Topic{Name: topic, Partitions: 1}); err != nil {
				t.Fatal(err)
			}
			produceN(t, cl, topic, 10)
			consumeN(t, cfg, topic, 10)

			// The same bare client with the right password gets in, so
			// that the wrong one failing says something. (kfake drops the
			// connection instead of answering SASL_AUTHENTICATION_FAILED.)
			if err := ping(t, cfg); err != nil {
				t.Fatalf("ping with the right password: %v", err)
			}
			wrong := u
			wrong.Password = "wrong"
			if err := ping(t, kafka.Config{Brokers: []string{b.Addr()}, SASL: &wrong}); err == nil {
				t.Error("a wrong password logged in")
			}
		})
	}
	if err := ping(t, kafka.Config{Brokers: []string{b.Addr()}}); err == nil {
		t.Error("a client without SASL got in")
	}
}

// ping asks the cluster for its metadata once, without retries.
func ping(t *testing.T, cfg kafka.Config) error {
	cl := newClient(t, cfg, kgo.RequestRetries(0), kgo.RetryTimeout(time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	return err
}
