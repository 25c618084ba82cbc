package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/control"
	"github.com/pipectl/pipectl/runtime/kafka"
	"github.com/pipectl/pipectl/runtime/worker"
	"github.com/pipectl/pipectl/stdlib"
)

// kafkaCmd gives the scripts a Kafka cluster and a worker in the test
// process, and ways to act on the cluster from outside pipectl:
//
//	kafka start                      start a broker; sets PIPECTL_BROKERS
//	kafka worker FLEET               run a worker of FLEET until the script ends
//	kafka topic NAME PARTITIONS [K=V...]   create a topic outside pipectl
//	kafka alter NAME K=V...          set topic configs outside pipectl
//	kafka exists NAME                fail unless the topic exists (! to negate)
//	kafka pause FLEET ADDRESS        pause a pipeline, as pipectl pause does
//	kafka dump TOPIC FILE            write every record of TOPIC, raw, to FILE
func kafkaCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: kafka start|worker|topic|alter|exists|pause|dump ...")
	}
	if neg && args[0] != "exists" {
		ts.Fatalf("kafka %s does not take !", args[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	switch args[0] {
	case "start":
		b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0"})
		ts.Check(err)
		ts.Defer(b.Close)
		ts.Setenv("PIPECTL_BROKERS", b.Addr())
		return
	case "worker":
		startWorker(ts, args[1:])
		return
	}
	cfg := kafka.Config{Brokers: strings.Split(ts.Getenv("PIPECTL_BROKERS"), ",")}
	cl, err := kafka.NewClient(cfg)
	ts.Check(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	switch args[0] {
	case "topic":
		if len(args) < 3 {
			ts.Fatalf("usage: kafka topic NAME PARTITIONS [K=V...]")
		}
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		configs := map[string]*string{}
		for _, kv := range args[3:] {
			k, v, _ := strings.Cut(kv, "=")
			configs[k] = &v
		}
		_, err = adm.CreateTopic(ctx, int32(n), -1, configs, args[1])
		ts.Check(err)
	case "alter":
		var alters []kadm.AlterConfig
		for _, kv := range args[2:] {
			k, v, _ := strings.Cut(kv, "=")
			alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: &v})
		}
		resp, err := adm.AlterTopicConfigs(ctx, alters, args[1])
		ts.Check(err)
		for _, r := range resp {
			ts.Check(r.Err)
		}
	case "exists":
		td, err := adm.ListTopics(ctx, args[1])
		ts.Check(err)
		d, ok := td[args[1]]
		exists := ok && d.Err == nil
		if exists == neg {
			ts.Fatalf("topic %s exists: %v", args[1], exists)
		}
	case "pause":
		ctl, err := control.New(args[1], kgo.SeedBrokers(cfg.Brokers...))
		ts.Check(err)
		defer ctl.Close()
		ts.Check(ctl.PutTarget(ctx, args[2], control.Target{Paused: true, By: "script"}))
	case "dump":
		ts.Check(dumpTopic(ctx, cfg, args[1], ts.MkAbs(args[2])))
	default:
		ts.Fatalf("unknown kafka subcommand %q", args[0])
	}
}

// startWorker runs a worker of the fleet in this process until the script
// ends, with PIPECTL_STATE_KEY of the script's environment.
func startWorker(ts *testscript.TestScript, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: kafka worker FLEET")
	}
	reg := connector.NewRegistry()
	ts.Check(stdlib.Register(reg))
	lookup := func(k string) (string, bool) {
		v := ts.Getenv(k)
		return v, v != ""
	}
	keys, err := control.KeysFromEnv(lookup)
	ts.Check(err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	w, err := worker.New(worker.Config{Fleet: args[0], Kafka: kafka.Config{Brokers: strings.Split(ts.Getenv("PIPECTL_BROKERS"), ",")},
		Registry: reg, Listener: ln, Keys: keys, LookupEnv: lookup, StatusInterval: 500 * time.Millisecond})
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = w.Run(ctx)
	}()
	ts.Defer(func() {
		cancel()
		wg.Wait()
	})
}

// dumpTopic writes every record of a topic, key and value as they are,
// one record a line.
func dumpTopic(ctx context.Context, cfg kafka.Config, topic, path string) error {
	cl, err := kafka.NewClient(cfg, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("dump %s: %w (still waiting for %v)", topic, err, want)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			fmt.Fprintf(f, "%s\t%s\n", r.Key, r.Value)
			if r.Offset >= want[r.Partition]-1 {
				delete(want, r.Partition)
			}
		})
	}
	return nil
}
