package lang

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/pipectl/pipectl/lang/configschema"
)

// mark is a cty mark that lang puts on values.
type mark string

// markSensitive marks a value that must never be shown or stored in clear.
const markSensitive mark = "sensitive"

// envRef and fileRef mark values returned by env() and file(), so that a
// sensitive value that is exactly one of them can be stored as a reference.
type (
	envRef      string
	fileRef     string
	providerRef string // a whole reference, "provider:NAME:PATH:KEY"
)

// ProviderRef is the stored reference of secret(name, path, key): the
// worker resolves it with the config provider registered as name. Path
// and key are escaped, so that ParseProviderRef reads them back whatever
// they hold.
func ProviderRef(name, path, key string) string {
	return "provider:" + name + ":" + url.QueryEscape(path) + ":" + url.QueryEscape(key)
}

// ParseProviderRef reads a ProviderRef back; ok is false for any other
// string.
func ParseProviderRef(ref string) (name, path, key string, ok bool) {
	rest, ok := strings.CutPrefix(ref, "provider:")
	if !ok {
		return "", "", "", false
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", "", "", false
	}
	path, err1 := url.QueryUnescape(parts[1])
	key, err2 := url.QueryUnescape(parts[2])
	if err1 != nil || err2 != nil {
		return "", "", "", false
	}
	return parts[0], path, key, true
}

// providerPlaceholder is what secret() evaluates to in the configuration:
// the value is only known on the worker. It is sensitive, so never shown.
func providerPlaceholder(ref string) string { return "(" + ref + ")" }

var providerNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// functions returns the function table of HCL expressions: HCL's and cty's
// standard library plus env, file and sensitive.
func functions(dir string, lookupEnv func(string) (string, bool)) map[string]function.Function {
	fns := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "signum": stdlib.SignumFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "replace": stdlib.ReplaceFunc,
		"split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimsuffix": stdlib.TrimSuffixFunc, "trimspace": stdlib.TrimSpaceFunc, "upper": stdlib.UpperFunc,
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"index": stdlib.IndexFunc, "keys": stdlib.KeysFunc, "length": stdlib.LengthFunc,
		"lookup": stdlib.LookupFunc, "merge": stdlib.MergeFunc, "range": stdlib.RangeFunc,
		"reverse": stdlib.ReverseListFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setproduct": stdlib.SetProductFunc, "setsubtract": stdlib.SetSubtractFunc,
		"setunion": stdlib.SetUnionFunc, "slice": stdlib.SliceFunc, "sort": stdlib.SortFunc,
		"values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		"jsonencode": stdlib.JSONEncodeFunc, "jsondecode": stdlib.JSONDecodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool),
		"tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset":  stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
		"tomap":  stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"try":    tryfunc.TryFunc, "can": tryfunc.CanFunc,
	}
	fns["sensitive"] = function.New(&function.Spec{
		Description: "Marks a value as sensitive: it is never printed and is stored encrypted or as a reference.",
		Params: []function.Parameter{{
			Name: "value", Type: cty.DynamicPseudoType,
			AllowMarked: true, AllowNull: true, AllowUnknown: true, AllowDynamicType: true,
		}},
		Type:         func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b },
		Impl:         func(args []cty.Value, _ cty.Type) (cty.Value, error) { return args[0].Mark(markSensitive), nil },
	})
	fns["env"] = function.New(&function.Spec{
		Description: "Reads an environment variable; the optional second argument is used when it is unset.",
		Params:      []function.Parameter{{Name: "name", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "default", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if len(args) > 2 {
				return cty.NilVal, function.NewArgErrorf(2, "env takes a name and at most one default")
			}
			name := args[0].AsString()
			if v, ok := lookupEnv(name); ok {
				return cty.StringVal(v).Mark(envRef(name)), nil
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return cty.NilVal, function.NewArgErrorf(0, "the environment variable %s is not set; set it, or give env a default as its second argument", name)
		},
	})
	fns["secret"] = function.New(&function.Spec{
		Description: "A secret kept outside pipectl: the worker asks the config provider registered as the first argument (directory, or a plugin's) for the key under the path when a task starts. The value is sensitive and never stored; only the reference is.",
		Params:      []function.Parameter{{Name: "provider", Type: cty.String}, {Name: "path", Type: cty.String}, {Name: "key", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			name, path, key := args[0].AsString(), args[1].AsString(), args[2].AsString()
			if !providerNameRE.MatchString(name) {
				return cty.NilVal, function.NewArgErrorf(0, "%q is not a config provider name (lower-case letters, digits, _ and -)", name)
			}
			if key == "" {
				return cty.NilVal, function.NewArgErrorf(2, "the key is empty")
			}
			ref := ProviderRef(name, path, key)
			return cty.StringVal(providerPlaceholder(ref)).Mark(markSensitive).Mark(providerRef(ref)), nil
		},
	})
	fns["file"] = function.New(&function.Spec{
		Description: "Reads a file, relative to the configuration directory, as a UTF-8 string.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := configschema.AbsPath(dir, args[0].AsString())
			b, err := os.ReadFile(p)
			if err != nil {
				return cty.NilVal, function.NewArgErrorf(0, "cannot read %s: %s", args[0].AsString(), unwrapPathError(err))
			}
			return cty.StringVal(string(b)).Mark(fileRef(p)), nil
		},
	})
	return fns
}

func unwrapPathError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return fmt.Sprint(err)
}
