package worker

import (
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/control"
)

// connectConfig is a pipeline's whole configuration as the REST API shows
// it (GET /connectors/{c}, /config, ?expand=info): Kafka Connect's key
// names, with Connect's string values, where Connect has the setting, and
// pipectl's attribute names with their JSON values otherwise. Sensitive
// values are masked. docs/runtime.md lists the mapping.
func connectConfig(res *control.Resource) map[string]any {
	p := res.Pipeline
	c := masked(p.Config)
	c["connector.class"] = string(p.Kind) + "." + p.Type
	c["name"] = res.Address
	c["tasks.max"] = strconv.Itoa(max(p.Tasks, 1))
	c["state"] = string(specState(p))
	if p.Kind == configschema.Source && p.Delivery != "" {
		c["delivery"] = p.Delivery
	}
	if p.Kind == configschema.Sink {
		if len(p.Topics) > 0 {
			c["topics"] = strings.Join(p.Topics, ",")
		}
		if p.TopicsRegex != "" {
			c["topics.regex"] = p.TopicsRegex
		}
		if p.StartFrom != "" {
			c["consumer.override.auto.offset.reset"] = p.StartFrom
		}
		c["commit_interval"] = lang.DefaultCommitInterval.String()
		if p.CommitInterval != "" {
			c["commit_interval"] = p.CommitInterval
		}
	}
	converterConfig(c, "key.converter", p.KeyConverter)
	converterConfig(c, "value.converter", p.ValueConverter)
	transformConfig(c, p.Transforms)
	c["errors.tolerance"] = p.Errors.Tolerance
	if p.Errors.DeadLetterTopic != "" {
		c["errors.deadletterqueue.topic.name"] = p.Errors.DeadLetterTopic
	}
	if ms, ok := millis(p.Errors.RetryTimeout); ok {
		c["errors.retry.timeout"] = ms
	}
	if ms, ok := millis(p.Errors.RetryBackoffMax); ok {
		c["errors.retry.delay.max.ms"] = ms
	}
	if p.Restart != nil {
		c["restart.max_attempts"] = strconv.Itoa(p.Restart.MaxAttempts)
		c["restart.backoff"] = p.Restart.Backoff
	}
	return c
}

// specState is the HCL state attribute of a stored pipeline.
func specState(p *control.PipelineSpec) lang.PipelineState {
	switch {
	case p.Stopped:
		return lang.StateStopped
	case p.Paused:
		return lang.StatePaused
	}
	return lang.StateRunning
}

// millis renders a Go duration as Connect's milliseconds.
func millis(d string) (string, bool) {
	v, err := time.ParseDuration(d)
	if d == "" || err != nil {
		return "", false
	}
	return strconv.FormatInt(v.Milliseconds(), 10), true
}

// converterConfig adds a converter as Connect's key.converter (the
// converter's class, converter.TYPE) and key.converter.SETTING.
func converterConfig(c map[string]any, prefix string, cv control.ConverterSpec) {
	if cv.Type == "" {
		return
	}
	c[prefix] = "converter." + cv.Type
	for k, v := range cv.Config {
		c[prefix+"."+k] = maskValue(v)
	}
}

// transformConfig adds the transforms as Connect's transforms,
// transforms.NAME.*, predicates and predicates.NAME.*: a when or unless
// that names a predicate is Connect's predicate (with negate for unless);
// the operations keep pipectl's names.
func transformConfig(c map[string]any, ts []control.TransformSpec) {
	if len(ts) == 0 {
		return
	}
	var names, preds []string
	seen := map[string]bool{}
	for _, t := range ts {
		names = append(names, t.Name)
		pre := "transforms." + t.Name + "."
		c[pre+"type"] = "transform"
		for _, cond := range []struct {
			name   string
			spec   *control.ConditionSpec
			negate bool
		}{{"when", t.When, false}, {"unless", t.Unless, true}} {
			switch {
			case cond.spec == nil:
			case cond.spec.Predicate != "":
				c[pre+"predicate"] = cond.spec.Predicate
				if cond.negate {
					c[pre+"negate"] = "true"
				}
				if !seen[cond.spec.Predicate] {
					seen[cond.spec.Predicate] = true
					preds = append(preds, cond.spec.Predicate)
					c["predicates."+cond.spec.Predicate+".type"] = "predicate"
					c["predicates."+cond.spec.Predicate+".expr"] = cond.spec.Expr
				}
			default:
				c[pre+cond.name] = cond.spec.Expr
			}
		}
		if t.Filter != "" {
			c[pre+"filter"] = t.Filter
		}
		for _, s := range t.Set {
			c[pre+"set."+s.Path] = s.Expr
		}
		for _, r := range t.Rename {
			c[pre+"rename."+r.From] = r.To
		}
		if len(t.Drop) > 0 {
			c[pre+"drop"] = strings.Join(t.Drop, ",")
		}
		if t.Key != "" {
			c[pre+"key"] = t.Key
		}
		if t.Topic != "" {
			c[pre+"topic"] = t.Topic
		}
		for _, h := range t.Headers {
			c[pre+"headers."+h.Name] = h.Expr
		}
	}
	c["transforms"] = strings.Join(names, ",")
	if len(preds) > 0 {
		c["predicates"] = strings.Join(preds, ",")
	}
}
