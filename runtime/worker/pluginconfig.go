package worker

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/api"
)

// pluginConfigs answers /connector-plugins/{plugin}/config (KIP-769) and
// .../config/validate from the registered plugins' schemas.
type pluginConfigs struct {
	registry interface {
		Schema(kind configschema.Kind, typ string) (*configschema.Schema, bool)
	}
}

var _ api.PluginConfigs = pluginConfigs{}

// The groups of a validation, as Kafka Connect names its own.
const (
	groupCommon  = "Common"
	groupErrors  = "Error Handling"
	groupRestart = "Restart"
)

func (pc pluginConfigs) schema(plugin string) (*configschema.Schema, error) {
	kind, typ, _ := strings.Cut(plugin, ".")
	if pc.registry != nil {
		if s, ok := pc.registry.Schema(configschema.Kind(kind), typ); ok {
			return s, nil
		}
	}
	return nil, api.Errorf(api.ErrNotFound, "No plugin %s: GET /connector-plugins?connectorsOnly=false lists them (KIND.TYPE, e.g. sink.file)", plugin)
}

func (pc pluginConfigs) PluginConfig(plugin string) ([]api.ConfigKeyInfo, error) {
	s, err := pc.schema(plugin)
	if err != nil {
		return nil, err
	}
	var out []api.ConfigKeyInfo
	for _, d := range definitions(s.Address(), "", s.Attributes, s.Blocks) {
		out = append(out, d.key)
	}
	if out == nil {
		out = []api.ConfigKeyInfo{}
	}
	return out, nil
}

// definition is one attribute of a validation.
type definition struct {
	key  api.ConfigKeyInfo
	attr *configschema.Attribute
}

// definitions describes attributes and the attributes of nested blocks
// (as BLOCK.NAME) in group, in their schema's order.
func definitions(group, prefix string, attrs []configschema.Attribute, blocks []configschema.Block) []definition {
	var out []definition
	for i := range attrs {
		a := &attrs[i]
		out = append(out, definition{key: keyInfo(group, prefix+a.Name, a), attr: a})
	}
	for _, b := range blocks {
		out = append(out, definitions(group, prefix+b.Name+".", b.Attributes, b.Blocks)...)
	}
	for i := range out {
		out[i].key.Order = i + 1
	}
	return out
}

func keyInfo(group, name string, a *configschema.Attribute) api.ConfigKeyInfo {
	k := api.ConfigKeyInfo{Name: name, Type: connectType(a), Required: a.Required, Importance: "MEDIUM",
		Documentation: a.Description, Group: group, Width: "NONE", DisplayName: name, Dependents: []string{}}
	if a.Required {
		k.Importance = "HIGH"
	}
	if c := a.Constraints(); len(c) > 0 {
		k.Documentation = strings.TrimSpace(k.Documentation + " " + strings.Join(c, " "))
	}
	if a.Default != nil {
		d := shown(a.Default)
		k.DefaultValue = &d
	}
	return k
}

// connectType is the ConfigDef type Connect would give the attribute.
func connectType(a *configschema.Attribute) string {
	if a.Sensitive {
		return "PASSWORD"
	}
	switch a.Type {
	case configschema.Int:
		return "LONG"
	case configschema.Number:
		return "DOUBLE"
	case configschema.Bool:
		return "BOOLEAN"
	case configschema.ListOfString, configschema.ListOfReference:
		return "LIST"
	case configschema.String, configschema.Duration, configschema.Expression, configschema.Reference, configschema.MapOfString:
	}
	return "STRING"
}

// shown renders a value as Connect shows values: a string as it is, a
// list comma-separated, anything else as JSON.
func shown(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, ",")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = shown(e)
		}
		return strings.Join(parts, ",")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// connectAliases are Kafka Connect's keys that GET .../config shows for
// pipectl's attributes, so that a configuration read there validates as
// it is.
var connectAliases = map[string]string{
	"tasks.max":                           "tasks",
	"topics.regex":                        "topics_regex",
	"consumer.override.auto.offset.reset": "start_from",
	"key.converter":                       "key_converter",
	"value.converter":                     "value_converter",
	"errors.deadletterqueue.topic.name":   "errors.dead_letter_topic",
	"errors.retry.timeout":                "errors.retry_timeout",
	"errors.retry.delay.max.ms":           "errors.retry_backoff_max",
}

// ignored reports the keys of a Connect configuration that a validation
// passes over: the plugin is the path's, and transforms, predicates and
// converter settings are blocks of their own in pipectl, which one
// pipeline's configuration cannot check.
func ignored(key string) bool {
	if key == "connector.class" || key == "name" {
		return true
	}
	for _, p := range []string{"transforms.", "predicates.", "key.converter.", "value.converter."} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return key == "predicates"
}

func (pc pluginConfigs) ValidateConfig(plugin string, config map[string]any) (api.ConfigInfos, error) {
	s, err := pc.schema(plugin)
	if err != nil {
		return api.ConfigInfos{}, err
	}
	out := api.ConfigInfos{Name: s.Address(), Groups: []string{}, Configs: []api.ConfigInfo{}}
	var defs []definition
	var common *configschema.Schema
	isPipeline := s.Kind == configschema.Source || s.Kind == configschema.Sink
	if isPipeline {
		common = lang.CommonSchema(s.Kind)
		var errBlock, restartBlock []configschema.Block
		var otherBlocks []configschema.Block
		for _, b := range common.Blocks {
			switch b.Name {
			case "errors":
				errBlock = append(errBlock, b)
			case "restart":
				restartBlock = append(restartBlock, b)
			default:
				otherBlocks = append(otherBlocks, b)
			}
		}
		defs = append(defs, definitions(groupCommon, "", common.Attributes, otherBlocks)...)
		defs = append(defs, definitions(groupErrors, "", nil, errBlock)...)
		defs = append(defs, definitions(groupRestart, "", nil, restartBlock)...)
		out.Groups = append(out.Groups, groupCommon, groupErrors, groupRestart)
	}
	defs = append(defs, definitions(s.Address(), "", s.Attributes, s.Blocks)...)
	out.Groups = append(out.Groups, s.Address())

	byName := map[string]*definition{}
	for i := range defs {
		byName[defs[i].key.Name] = &defs[i]
	}
	// The configuration, flat and normalized: blocks given as objects in
	// dotted keys, Connect's keys as pipectl's, a comma-separated string
	// as a list, Connect's milliseconds as a duration.
	flat := map[string]any{}
	for k, v := range config {
		if m, ok := v.(map[string]any); ok && isBlock(common, s, k) {
			for mk, mv := range m {
				flat[k+"."+mk] = mv
			}
			continue
		}
		if ignored(k) {
			continue
		}
		name, alias := connectAliases[k]
		if !alias {
			name = k
		}
		d, known := byName[name]
		str, isStr := v.(string)
		switch {
		case !known || !isStr:
		case d.attr.Type == configschema.ListOfString || d.attr.Type == configschema.ListOfReference:
			v = splitList(str)
		case alias && d.attr.Type == configschema.Duration && isMillis(str):
			ms, _ := strconv.ParseInt(str, 10, 64)
			v = (time.Duration(ms) * time.Millisecond).String()
		case alias && (name == "key_converter" || name == "value_converter"):
			v = strings.TrimPrefix(str, "converter.")
		}
		flat[name] = v
	}
	pluginVals, commonVals := map[string]any{}, map[string]any{}
	for k, v := range flat {
		if d, ok := byName[k]; ok && d.attr.Sensitive && v != nil {
			v = configschema.Sensitive{Value: v} // never quoted in an error
		}
		dst := pluginVals
		if top, _, _ := strings.Cut(k, "."); common != nil && inSchema(common, top) {
			dst = commonVals
		}
		dst[k] = v
	}
	var errs []*configschema.Error
	if common != nil {
		_, e := common.Coerce(nest(commonVals))
		errs = append(errs, e...)
	}
	_, e := s.Coerce(nest(pluginVals))
	errs = append(errs, e...)

	byAttr := map[string][]string{}
	for _, e := range errs {
		byAttr[e.Attribute] = append(byAttr[e.Attribute], e.Detail)
	}
	for _, d := range defs {
		v := api.ConfigValueInfo{Name: d.key.Name, RecommendedValues: append([]string{}, d.attr.Enum...), Errors: []string{}, Visible: true}
		if raw, ok := flat[d.key.Name]; ok && raw != nil {
			str := shown(raw)
			if d.attr.Sensitive {
				str = api.SensitiveValue
			}
			v.Value = &str
		} else if d.key.DefaultValue != nil {
			def := *d.key.DefaultValue
			v.Value = &def
		}
		v.Errors = append(v.Errors, byAttr[d.key.Name]...)
		delete(byAttr, d.key.Name)
		out.Configs = append(out.Configs, api.ConfigInfo{Definition: d.key, Value: v})
	}
	// Errors of no attribute of the definitions: unknown attributes, and
	// the configuration as a whole (a group none of whose attributes is
	// set), each as a config of its own, as Connect reports a key it
	// does not know.
	rest := make([]string, 0, len(byAttr))
	for k := range byAttr {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		name := k
		if name == "" {
			name = s.Address()
		}
		// The value of an unknown key is not shown: it may be a secret
		// under a misspelt name.
		v := api.ConfigValueInfo{Name: name, RecommendedValues: []string{}, Errors: byAttr[k], Visible: true}
		out.Configs = append(out.Configs, api.ConfigInfo{
			Definition: api.ConfigKeyInfo{Name: name, Type: "STRING", Importance: "LOW", Group: s.Address(), Width: "NONE", DisplayName: name, Dependents: []string{}},
			Value:      v,
		})
	}
	for _, c := range out.Configs {
		out.ErrorCount += len(c.Value.Errors)
	}
	return out, nil
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return []string{}
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func isMillis(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// nest turns dotted keys (errors.tolerance) into nested objects.
func nest(flat map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range flat {
		block, attr, dotted := strings.Cut(k, ".")
		if !dotted {
			out[k] = v
			continue
		}
		sub, _ := out[block].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
		}
		sub[attr] = v
		out[block] = sub
	}
	return out
}

// isBlock reports whether name is a nested block of the plugin's schema
// or the language's.
func isBlock(common, s *configschema.Schema, name string) bool {
	if _, ok := s.Block(name); ok {
		return true
	}
	if common == nil {
		return false
	}
	_, ok := common.Block(name)
	return ok
}

func inSchema(s *configschema.Schema, name string) bool {
	if _, ok := s.Attribute(name); ok {
		return true
	}
	_, ok := s.Block(name)
	return ok
}
