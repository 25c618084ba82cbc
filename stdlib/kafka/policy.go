package kafka

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

// OriginHeader is the header a kafka source adds to every record it
// mirrors from another cluster: the cluster id of the cluster the record
// was first written to. A record that already has one keeps it, so that a
// chain of mirrors (A to B to C) keeps the first origin. A record whose
// origin is the fleet's own cluster is not mirrored: it came from there.
const OriginHeader = "pipectl.mirror.origin"

// ReplicationPolicy says how a kafka source names its target topics, as
// MirrorMaker 2's ReplicationPolicy does.
type ReplicationPolicy uint8

// The replication policies.
const (
	// PolicyPrefix: topic_prefix + the source topic, or the fixed topic.
	PolicyPrefix ReplicationPolicy = iota
	// PolicyDefault: <source_alias>.<topic>, MirrorMaker 2's
	// DefaultReplicationPolicy with its default separator.
	PolicyDefault
	// PolicyIdentity: the source topic's own name, MirrorMaker 2's
	// IdentityReplicationPolicy.
	PolicyIdentity
)

var policyNames = [...]string{PolicyPrefix: "prefix", PolicyDefault: "default", PolicyIdentity: "identity"}

func (p ReplicationPolicy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("ReplicationPolicy(%d)", p)
}

// parsePolicy returns the policy of its name ("" is the default, prefix).
func parsePolicy(name string) (ReplicationPolicy, bool) {
	if name == "" {
		return PolicyPrefix, true
	}
	for p, n := range policyNames {
		if n == name {
			return ReplicationPolicy(p), true
		}
	}
	return 0, false
}

// separator joins a cluster alias and a topic under PolicyDefault.
const separator = "."

// aliasPattern is what a cluster alias may hold: it goes into topic names,
// before the separator.
var aliasPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// replication is one task's replication policy: how it names target
// topics, which source topics it leaves out, and the provenance of its
// records.
type replication struct {
	policy                   ReplicationPolicy
	fixed, prefix            string // PolicyPrefix
	sourceAlias, targetAlias string // PolicyDefault
	// origin is the source cluster's id, the OriginHeader of records that
	// have none; nil when the source is the fleet's own cluster (records
	// then pass unchanged, as a topic-to-topic copy).
	origin []byte
	// fleet is the fleet's cluster id: a record whose OriginHeader holds
	// it is skipped. nil when unknown (a task run without a worker) or
	// when the source is the fleet's own cluster.
	fleet []byte
	// fleetName is the fleet's name, for fleetTopic.
	fleetName string
}

// newReplication reads the policy of cfg and, for a source on another
// cluster (brokers), the cluster ids of the source (reached with opts) and
// of the fleet. The identity policy needs both, and refuses a source that
// is the fleet's own cluster: every record would go back to its topic.
func newReplication(ctx context.Context, cfg SourceConfig, opts []kgo.Opt, fleet *connector.Cluster) (replication, error) {
	policy, ok := parsePolicy(cfg.ReplicationPolicy)
	if !ok {
		return replication{}, fmt.Errorf("unknown replication_policy %q", cfg.ReplicationPolicy)
	}
	r := replication{policy: policy, fixed: cfg.Topic, prefix: cfg.TopicPrefix, sourceAlias: cfg.SourceAlias, targetAlias: cfg.TargetAlias}
	if len(cfg.Brokers) == 0 {
		if policy != PolicyPrefix {
			return r, fmt.Errorf("replication_policy %q needs brokers", policy)
		}
		return r, nil
	}
	source, err := clusterID(ctx, opts)
	if err != nil {
		return r, classify(fmt.Errorf("reading the source cluster's id: %w", err))
	}
	var target string
	if fleet != nil && len(fleet.Brokers) > 0 {
		fopts, err := fleetOpts(fleet)
		if err != nil {
			return r, err
		}
		if target, err = clusterID(ctx, fopts); err != nil {
			return r, classify(fmt.Errorf("reading the fleet cluster's id: %w", err))
		}
	}
	switch {
	case source != "" && source == target:
		if policy == PolicyIdentity {
			return r, fmt.Errorf("brokers reach the fleet's own cluster (cluster id %s): under replication_policy \"identity\" every record would go back to its own topic", source)
		}
		return r, nil // a copy within the fleet's cluster
	case policy == PolicyIdentity && (source == "" || target == ""):
		return r, errors.New("replication_policy \"identity\" tells mirrored records apart by cluster id: the source cluster and the fleet's cluster must both have one")
	}
	if source != "" {
		r.origin = []byte(source)
	}
	if target != "" && cfg.SkipOwnRecords {
		r.fleet = []byte(target)
	}
	return r, nil
}

// clusterID returns the id of the cluster opts reach ("" for a cluster
// that has none).
func clusterID(ctx context.Context, opts []kgo.Opt) (string, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	m, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		return "", err
	}
	return m.Cluster, nil
}

// topic returns the target topic of a source topic.
func (r *replication) topic(source string) string {
	switch r.policy {
	case PolicyDefault:
		return r.sourceAlias + separator + source
	case PolicyIdentity:
		return source
	case PolicyPrefix:
		if r.fixed != "" {
			return r.fixed
		}
	}
	return r.prefix + source
}

// leaveOut deletes from counts the source topics that came from the
// fleet's cluster by their name (cycle), and those whose target would be
// one of the fleet's internal topics or a mirror's own (fleetTopic).
func (r *replication) leaveOut(counts map[string]int32) {
	for t := range counts {
		if r.cycle(t) || fleetTopic(r.fleetName, r.topic(t)) {
			delete(counts, t)
		}
	}
}

// fleetTopic reports whether topic is one of the internal topics of the
// fleet (<fleet>.configs, .offsets, .status) or of a mirror: a mirror
// never writes into them, whatever it reads (an origin that is another
// fleet's cluster has topics of the same names).
func fleetTopic(fleet, topic string) bool {
	if mirrorInternal(topic) {
		return true
	}
	if fleet == "" {
		return false
	}
	role, ok := strings.CutPrefix(topic, fleet+".")
	return ok && (role == "configs" || role == "offsets" || role == "status")
}

// cycle reports whether a source topic came from the fleet's cluster by
// its name: under PolicyDefault with a target alias, one of the aliases
// before its last separator is the target's. This is MirrorMaker 2's
// isCycle: "B.orders" and "C.B.orders" are cycles for target B.
func (r *replication) cycle(topic string) bool {
	if r.policy != PolicyDefault || r.targetAlias == "" {
		return false
	}
	for {
		alias, rest, ok := strings.Cut(topic, separator)
		if !ok {
			return false
		}
		if alias == r.targetAlias {
			return true
		}
		topic = rest
	}
}

// slab returns an empty slab with room for the headers (provenance
// included) of every record of fetches, so that headers never grows it.
func (r *replication) slab(fetches kgo.Fetches) []connector.Header {
	n := 0
	fetches.EachRecord(func(rec *kgo.Record) {
		n += len(rec.Headers)
		if r.origin != nil {
			n++
		}
	})
	return make([]connector.Header, 0, n)
}

// headers returns the headers of the mirrored record of rec, appended to
// slab (one array for all the records of a Poll, so that no record
// allocates its own), with OriginHeader added when rec has none. skip is
// true when rec's first OriginHeader is the fleet's cluster: it came from
// there and must not go back; Poll hands it on as its position only
// (Record.Skip), so that its offset is saved all the same.
func (r *replication) headers(rec *kgo.Record, slab *[]connector.Header) (hs []connector.Header, skip bool) {
	start := len(*slab)
	origin := false
	for _, h := range rec.Headers {
		if h.Key == OriginHeader && !origin && r.origin != nil {
			if r.fleet != nil && bytes.Equal(h.Value, r.fleet) {
				*slab = (*slab)[:start]
				return nil, true
			}
			origin = true
		}
		*slab = append(*slab, connector.Header{Key: h.Key, Value: h.Value})
	}
	if !origin && r.origin != nil {
		*slab = append(*slab, connector.Header{Key: OriginHeader, Value: r.origin})
	}
	end := len(*slab)
	if end == start {
		return nil, false
	}
	return (*slab)[start:end:end], false
}

// checkMirror is the Check of SourceSchema: checkSource and checkPolicy.
func checkMirror(values map[string]any) []*configschema.Error {
	return append(checkSource(values), checkPolicy(values)...)
}

// checkPolicy checks the attributes of the replication policy together:
// "default" needs source_alias, the aliases are for "default" only, look
// like aliases and differ, and no listed topic came from the target by its
// name. The schema's groups say the rest: topic and topic_prefix are for
// "prefix" only, the other policies need brokers.
func checkPolicy(values map[string]any) []*configschema.Error {
	str := func(name string) (s string, shown string) {
		a := configschema.Attribute{Name: name, Type: configschema.String}
		v, err := a.Coerce(values[name])
		if err != nil {
			return "", "" // the attribute's own check says what is wrong
		}
		s, _ = v.(string)
		if _, hidden := values[name].(configschema.Sensitive); hidden {
			return s, configschema.Redacted
		}
		return s, fmt.Sprintf("%q", s)
	}
	name, _ := str("replication_policy")
	policy, ok := parsePolicy(name)
	if !ok {
		return nil // the enum says what is wrong
	}
	source, sourceShown := str("source_alias")
	target, targetShown := str("target_alias")
	var errs []*configschema.Error
	fail := func(attr, summary, format string, args ...any) {
		errs = append(errs, &configschema.Error{Rule: configschema.RuleCheck, Attribute: attr, Summary: summary, Detail: fmt.Sprintf(format, args...)})
	}
	if policy == PolicyDefault && source == "" {
		fail("replication_policy", "Missing required argument",
			`The replication policy "default" names target topics <source_alias>.<topic>: set source_alias to the alias of the cluster this source reads.`)
	}
	for _, a := range []struct{ name, value, shown string }{{"source_alias", source, sourceShown}, {"target_alias", target, targetShown}} {
		switch {
		case a.value == "":
		case policy != PolicyDefault:
			fail(a.name, "Unused argument", `The attribute %q names topics under replication_policy = "default" only, and the policy is %q: remove it, or set replication_policy = "default".`, a.name, policy)
		case !aliasPattern.MatchString(a.value):
			fail(a.name, "Invalid cluster alias", `Cluster alias %s goes into topic names before a "%s": use letters, digits, "_" and "-" only.`, a.shown, separator)
		}
	}
	if policy != PolicyDefault || target == "" {
		return errs
	}
	if target == source {
		fail("target_alias", "Same alias for both clusters", "The fleet's cluster and the source cluster are both %s: give each cluster its own alias.", targetShown)
	}
	topicsAttr := configschema.Attribute{Name: "topics", Type: configschema.ListOfString}
	topics, err := topicsAttr.Coerce(values["topics"])
	if err != nil {
		return errs
	}
	r := replication{policy: PolicyDefault, targetAlias: target}
	list, _ := topics.([]string)
	_, hidden := values["topics"].(configschema.Sensitive)
	for _, t := range list {
		if !r.cycle(t) {
			continue
		}
		shown := fmt.Sprintf("%q", t)
		if hidden {
			shown = configschema.Redacted
		}
		fail("topics", "Mirror back", "Topic %s is, by its name, a copy of a topic of the fleet's cluster (target_alias %s): mirroring it back would loop. Leave it out of topics.", shown, targetShown)
	}
	return errs
}
