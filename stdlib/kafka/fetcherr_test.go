package kafka_test

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/kafka"
)

// TestSourceFetchErrorFails: a broker that refuses the fetches of a
// partition (no READ ACL) fails the task with that error, not retriable.
// TestSourceFetchErrors covers the same error beside records.
func TestSourceFetchErrorFails(t *testing.T) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	src := &cluster{addrs: fake.ListenAddrs()}
	if src.cl, err = kgo.NewClient(kgo.SeedBrokers(src.addrs...)); err != nil {
		t.Fatal(err)
	}
	defer src.cl.Close()
	src.createTopic(t, "ok", 1)
	src.createTopic(t, "denied", 1)
	ok, denied := fake.LeaderFor("ok", 0), fake.LeaderFor("denied", 0)
	if ok == denied {
		other := map[int32]int32{0: 1, 1: 0}[ok]
		if err := fake.MoveTopicPartition("denied", 0, other); err != nil {
			t.Fatal(err)
		}
		denied = other
	}
	src.produce(t, &kgo.Record{Topic: "ok", Value: []byte("a")}, &kgo.Record{Topic: "denied", Value: []byte("b")})
	const polls = 100

	// The broker that leads "denied" refuses its fetches, as one without
	// the READ ACL does.
	fake.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		fake.KeepControl()
		if fake.CurrentNode() != denied {
			return nil, nil, false
		}
		fr := req.(*kmsg.FetchRequest)
		resp := fr.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range fr.Topics {
			t := kmsg.NewFetchResponseTopic()
			t.Topic, t.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				p := kmsg.NewFetchResponseTopicPartition()
				p.Partition = rp.Partition
				p.ErrorCode = kerr.TopicAuthorizationFailed.Code
				t.Partitions = append(t.Partitions, p)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp, nil, true
	})

	s := openSource(t, map[string]any{"brokers": src.addrs, "topics": []string{"ok", "denied"}}, 0, 1, nil)
	got := 0
	for range polls {
		recs, err := s.Poll(context.Background())
		got += len(recs)
		if err != nil {
			if connector.IsRetriable(err) || !errors.Is(err, kerr.TopicAuthorizationFailed) {
				t.Fatalf("Poll: %v (retriable %v); want the authorization error, not retriable", err, connector.IsRetriable(err))
			}
			return
		}
	}
	t.Fatalf("%d Polls brought %d records and no error; want TOPIC_AUTHORIZATION_FAILED", polls, got)
}

// TestSourceFetchErrors: the errors of a fetch are sorted the same way
// whether or not other partitions brought records. Before, an error beside
// records was only logged, so a partition the task may not read went
// unmirrored while the task looked healthy.
func TestSourceFetchErrors(t *testing.T) {
	src := newCluster(t, map[string]int32{"ok": 1, "denied": 1})
	s := openSource(t, map[string]any{"brokers": src.addrs, "topics": []string{"ok", "denied"}}, 0, 1, nil)
	records := kgo.FetchTopic{Topic: "ok", Partitions: []kgo.FetchPartition{{Partition: 0,
		Records: []*kgo.Record{{Topic: "ok", Value: []byte("a")}, {Topic: "ok", Value: []byte("b"), Offset: 1}}}}}
	failed := func(err error) kgo.FetchTopic {
		return kgo.FetchTopic{Topic: "denied", Partitions: []kgo.FetchPartition{{Partition: 0, Err: err}}}
	}
	lost := &kgo.ErrDataLoss{Topic: "denied", ConsumedTo: 9, ResetTo: 5}
	for _, c := range []struct {
		name      string
		topics    []kgo.FetchTopic
		records   int
		wantErr   error
		retriable bool
	}{
		{"not retriable, beside records", []kgo.FetchTopic{records, failed(kerr.TopicAuthorizationFailed)}, 0, kerr.TopicAuthorizationFailed, false},
		{"not retriable, alone", []kgo.FetchTopic{failed(kerr.TopicAuthorizationFailed)}, 0, kerr.TopicAuthorizationFailed, false},
		{"retriable, beside records", []kgo.FetchTopic{records, failed(kerr.NotLeaderForPartition)}, 2, nil, false},
		{"retriable, alone", []kgo.FetchTopic{failed(kerr.NotLeaderForPartition)}, 0, kerr.NotLeaderForPartition, true},
		{"data loss, beside records", []kgo.FetchTopic{records, failed(lost)}, 2, nil, false},
		{"data loss, alone", []kgo.FetchTopic{failed(lost)}, 0, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, err := kafka.Take(s, kgo.Fetches{{Topics: c.topics}})
			if len(recs) != c.records {
				t.Errorf("%d records, want %d", len(recs), c.records)
			}
			switch {
			case c.wantErr == nil && err != nil:
				t.Errorf("error %v, want none", err)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Errorf("error %v, want %v", err, c.wantErr)
			case err != nil && connector.IsRetriable(err) != c.retriable:
				t.Errorf("error %v: retriable %v, want %v", err, connector.IsRetriable(err), c.retriable)
			}
		})
	}
}
