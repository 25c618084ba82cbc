package kafka_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicACLs lists the ACLs of the topic resources of c as
// "topic principal host operation permission", sorted.
func topicACLs(t *testing.T, c *cluster) []string {
	t.Helper()
	res, err := kadm.NewClient(c.cl).DescribeACLs(context.Background(),
		kadm.NewACLs().Topics().Allow().AllowHosts().Deny().DenyHosts().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, d := range r.Described {
			out = append(out, strings.Join([]string{d.Name, d.Principal, d.Host, d.Operation.String(), d.Permission.String()}, " "))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func addACL(t *testing.T, c *cluster, b *kadm.ACLBuilder) {
	t.Helper()
	res, err := kadm.NewClient(c.cl).CreateACLs(context.Background(), b)
	if err == nil {
		for _, r := range res {
			if r.Err != nil {
				err = r.Err
			}
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestSourceCopiesTopicACLs: with sync_topic_acls, the ACLs that allow
// access to a mirrored topic are copied to its target as MirrorMaker 2
// does (WRITE left out, ALL as READ); ACLs of topics not mirrored, DENY
// ones and prefixed ones are not; none are copied when it is off.
func TestSourceCopiesTopicACLs(t *testing.T) {
	for _, on := range []bool{true, false} {
		src := newCluster(t, map[string]int32{"orders": 1, "private": 1})
		addACL(t, src, kadm.NewACLs().Topics("orders").Allow("User:app").AllowHosts("*").Operations(kadm.OpRead, kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral))
		addACL(t, src, kadm.NewACLs().Topics("orders").Allow("User:admin").AllowHosts("10.0.0.1").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternLiteral))
		addACL(t, src, kadm.NewACLs().Topics("orders").Deny("User:evil").DenyHosts("*").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
		addACL(t, src, kadm.NewACLs().Topics("ord").Allow("User:prefix").AllowHosts("*").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternPrefixed))
		addACL(t, src, kadm.NewACLs().Topics("private").Allow("User:other").AllowHosts("*").Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
		fleet := newCluster(t, nil)
		s := openOnFleet(t, map[string]any{"brokers": src.addrs, "topics": []string{"orders"}, "topic_prefix": "copy.",
			"refresh_interval": "200ms", "sync_topic_acls": on}, 0, 1, fleet)
		src.produce(t, &kgo.Record{Topic: "orders", Value: []byte("v")})
		want := []string{"copy.orders User:admin 10.0.0.1 READ ALLOW", "copy.orders User:app * READ ALLOW"}
		if !on {
			pollUntil(t, total(1), s)
			if got := topicACLs(t, fleet); len(got) > 0 {
				t.Errorf("sync_topic_acls = false, yet the fleet's cluster has ACLs %q", got)
			}
			continue
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := topicACLs(t, fleet)
			if cmp.Equal(want, got) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ACLs on the fleet's cluster (-want +got):\n%s", cmp.Diff(want, got))
			}
			if _, err := s.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
}
