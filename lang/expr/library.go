package expr

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// LibraryVersion is the version of the function library: pipectl's own
// functions and the cel-go extensions at the versions below. A change to
// any of them (a new function, a new extension version) is a new
// LibraryVersion, so that a configuration written for one version keeps its
// meaning.
const LibraryVersion = 2

// The versions of cel-go's extensions in library version 1: the latest each
// had in cel-go v0.31.0. They are pinned so that upgrading cel-go does not
// change the library unnoticed.
const (
	stringsExtVersion  = 5
	encodersExtVersion = 1
	mathExtVersion     = 3
	listsExtVersion    = 3
)

// What library version 2 adds: regular-expression replacement and
// extraction (Kafka Connect's RegexRouter), which needs cel-go's optional
// types, and two-variable comprehensions (transformMap: keep the entries
// of a map, as ReplaceField's include does). The regex and comprehensions
// extensions are at their only version in cel-go v0.31.0.
const (
	regexExtVersion          = 0
	comprehensionsExtVersion = 0
	optionalTypesVersion     = 2
)

// FunctionDoc documents a function of the library, for generated docs.
type FunctionDoc struct{ Name, Signature, Description string }

// functionDocs documents pipectl's own functions, one entry an overload.
var functionDocs = []FunctionDoc{
	{"sha256", "sha256(string) -> string", "The SHA-256 digest of the string's UTF-8 bytes, as lowercase hex."},
	{"sha256", "sha256(bytes) -> string", "The SHA-256 digest of the bytes, as lowercase hex."},
	{"uuid", "uuid() -> string", "A random (version 4) UUID in its 36-character text form; a new one on every call."},
	{"now", "now() -> google.protobuf.Timestamp", "The current time, read anew on every call."},
}

// extensions are the cel-go extensions of the library, each with its doc
// line. The Description lists every function and macro the extension
// declares (a test checks it), so that the generated docs are complete.
var extensions = []struct {
	doc FunctionDoc
	opt cel.EnvOption
}{
	{
		FunctionDoc{"ext.strings", "cel-go strings extension, version 5",
			"charAt, format, indexOf, join, lastIndexOf, lowerAscii, replace, reverse, split, strings.quote, substring, trim, upperAscii."},
		ext.Strings(ext.StringsVersion(stringsExtVersion)),
	},
	{
		FunctionDoc{"ext.encoders", "cel-go encoders extension, version 1",
			"base64.decode, base64.encode, json.encode."},
		ext.Encoders(ext.EncodersVersion(encodersExtVersion)),
	},
	{
		FunctionDoc{"ext.math", "cel-go math extension, version 3",
			"math.abs, math.bitAnd, math.bitNot, math.bitOr, math.bitShiftLeft, math.bitShiftRight, math.bitXor, math.ceil, math.floor, math.greatest, math.isFinite, math.isInf, math.isNaN, math.least, math.round, math.sign, math.sqrt, math.trunc."},
		ext.Math(ext.MathVersion(mathExtVersion)),
	},
	{
		FunctionDoc{"ext.lists", "cel-go lists extension, version 3",
			"distinct, flatten, lists.range, reverse, slice, sort, sortBy."},
		ext.Lists(ext.ListsVersion(listsExtVersion), ext.ListsMaxRangeSize(ListsMaxRangeSize)),
	},
	{
		FunctionDoc{"ext.regex", "cel-go regex extension, version 0, with the optional types it needs, version 2 (since library version 2)",
			"_?._, _[?_], _[_], first, hasValue, last, optFlatMap, optMap, optional.none, optional.of, optional.ofNonZeroValue, optional.unwrap, or, orValue, regex.extract, regex.extractAll, regex.replace, unwrapOpt, value."},
		both(cel.OptionalTypes(cel.OptionalTypesVersion(optionalTypesVersion)), ext.Regex(ext.RegexVersion(regexExtVersion))),
	},
	{
		FunctionDoc{"ext.comprehensions", "cel-go two-variable comprehensions, version 0 (since library version 2)",
			"all, exists, existsOne, exists_one, transformList, transformMap, transformMapEntry."},
		ext.TwoVarComprehensions(ext.TwoVarComprehensionsVersion(comprehensionsExtVersion)),
	},
}

// both is an option that applies a and then b.
func both(a, b cel.EnvOption) cel.EnvOption {
	return func(e *cel.Env) (*cel.Env, error) {
		e, err := a(e)
		if err != nil {
			return nil, err
		}
		return b(e)
	}
}

// Functions documents every pipectl function and names each cel-go
// extension the library enables (Name "ext.<name>").
func Functions() []FunctionDoc {
	out := make([]FunctionDoc, 0, len(functionDocs)+len(extensions))
	out = append(out, functionDocs...)
	for _, e := range extensions {
		out = append(out, e.doc)
	}
	return out
}

// library is the function library, version LibraryVersion, as a cel.Lib.
type library struct{}

// LibraryName makes the library a singleton: adding it twice is harmless.
func (library) LibraryName() string { return "pipectl.expr.library" }

func (library) CompileOptions() []cel.EnvOption {
	opts := make([]cel.EnvOption, 0, len(extensions)+3)
	for _, e := range extensions {
		opts = append(opts, e.opt)
	}
	return append(opts,
		cel.Function("sha256",
			cel.Overload("sha256_string", []*cel.Type{cel.StringType}, cel.StringType,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return sha256Hex([]byte(v.(types.String))) })),
			cel.Overload("sha256_bytes", []*cel.Type{cel.BytesType}, cel.StringType,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return sha256Hex(v.(types.Bytes)) })),
		),
		// uuid and now are not pure. cel.OptOptimize folds only literals,
		// type conversions of constants and `in` over constant lists, never
		// a call, so each evaluation calls them; a test checks it. Do not
		// add cel-go's constant-folding optimizer without excluding them.
		cel.Function("uuid",
			cel.Overload("uuid", nil, cel.StringType,
				cel.FunctionBinding(func(...ref.Val) ref.Val { return uuidV4() })),
		),
		cel.Function("now",
			cel.Overload("now", nil, cel.TimestampType,
				cel.FunctionBinding(func(...ref.Val) ref.Val { return types.Timestamp{Time: time.Now().UTC()} })),
		),
	)
}

// ProgramOptions adds nothing: Compile decides per program whether it
// needs run-time cost tracking (see costOptions).
func (library) ProgramOptions() []cel.ProgramOption { return nil }

// costOptions returns the program options that bound an expression's cost.
// A program whose static cost estimate, with every record string, bytes,
// list or map at most MaxRecordValueSize long, stays under CostLimit cannot
// exceed it and runs without run-time cost tracking, which costs more
// than most expressions themselves (about half of a simple filter's
// evaluation); the others are tracked and stopped at CostLimit. The
// tracker makes hashing cost in proportion to its input, like cel-go's
// string functions; it goes by function name, since with a dyn argument
// (value.email) the overload is only chosen at run time.
func costOptions(env *cel.Env, checked *cel.Ast) []cel.ProgramOption {
	est, err := env.EstimateCost(checked, sizeEstimator{})
	if err == nil && est.Max <= CostLimit {
		return nil
	}
	return []cel.ProgramOption{cel.CostTracking(costEstimator{}), cel.CostLimit(CostLimit)}
}

// sizeEstimator bounds what a record may hold for the static estimate.
type sizeEstimator struct{}

func (sizeEstimator) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: MaxRecordValueSize}
}

func (sizeEstimator) EstimateCallCost(function, _ string, _ *checker.AstNode, args []checker.AstNode) *checker.CallEstimate {
	if function != "sha256" || len(args) != 1 {
		return nil
	}
	maxCost := 1 + uint64(math.Ceil(float64(MaxRecordValueSize)*common.StringTraversalCostFactor))
	return &checker.CallEstimate{CostEstimate: checker.CostEstimate{Min: 1, Max: maxCost}}
}

type costEstimator struct{}

func (costEstimator) CallCost(function, _ string, args []ref.Val, _ ref.Val) *uint64 {
	if function != "sha256" || len(args) != 1 {
		return nil
	}
	var n int
	switch v := args[0].(type) {
	case types.String:
		n = len(v)
	case types.Bytes:
		n = len(v)
	}
	cost := 1 + uint64(math.Ceil(float64(n)*common.StringTraversalCostFactor))
	return &cost
}

func sha256Hex(b []byte) ref.Val {
	sum := sha256.Sum256(b)
	return types.String(hex.EncodeToString(sum[:]))
}

func uuidV4() ref.Val {
	var u [16]byte
	// crypto/rand.Read never returns an error (Go 1.24+): it crashes the
	// program irrecoverably instead, should the system's source fail.
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return types.String(s[:])
}
