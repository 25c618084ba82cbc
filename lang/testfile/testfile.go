package testfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/pipectl/pipectl/lang"
	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/lang/expr"
)

// Suite is every test file of a configuration directory.
type Suite struct {
	Files []*File
	// Sources holds every parsed file by the name its diagnostics use,
	// so that views can print source snippets.
	Sources map[string]*hcl.File
}

// File is one test file.
type File struct {
	// Name is the file's path as found: DIR/orders.pipetest.hcl or
	// DIR/tests/orders.pipetest.hcl.
	Name string
	// Variables is the file's variables block: values for every run,
	// which a run's own variables override.
	Variables []lang.VarArg
	Runs      []*Run
}

// Run is one run block.
type Run struct {
	Name string
	// Pipeline is the address of the pipeline under test
	// (source.generator.orders, sink.file.out, source.kafka.m["eu"]); ""
	// when Transforms is set.
	Pipeline string
	// Transforms names the transform blocks of a chain under test, in
	// order, when Pipeline is "".
	Transforms []string
	// Target is the range of the pipeline or transforms attribute.
	Target hcl.Range
	// Variables are the file's variables and then the run's own (later
	// ones win).
	Variables []lang.VarArg
	Records   []*Record
	Expect    *Expect // nil without an expect block
	Asserts   []*Assert
	DeclRange hcl.Range
}

// Field is a key or a value: structured (Value, decoded through the
// pipeline's converter) or raw bytes (Raw). Set says the attribute was
// given at all (a null value is set).
type Field struct {
	Set   bool
	IsRaw bool
	Value any
	Raw   []byte
}

// Record is one input record.
type Record struct {
	Key, Value Field
	Headers    []Header // sorted by name
	Topic      string   // "" for the pipeline's own
	Timestamp  time.Time
	Partition  *int64
	Offset     *int64
	DeclRange  hcl.Range
}

// Header is one record header.
type Header struct{ Name, Value string }

// Expect is the expect block.
type Expect struct {
	// Records are the exact records that must come out, in order; nil
	// when not given (HasRecords false).
	Records    []*WantRecord
	HasRecords bool
	// Filtered is how many records filters must drop; nil when not
	// given.
	Filtered *int64
	// DeadLetters are the records that must fail, in order. Without the
	// attribute no record may fail.
	DeadLetters []*WantFailure
	DeclRange   hcl.Range
}

// empty reports an expect block that gives no expectation.
func (e *Expect) empty() bool {
	return !e.HasRecords && e.Filtered == nil && len(e.DeadLetters) == 0
}

// WantRecord is one expected output record: only the fields given are
// compared.
type WantRecord struct {
	Key, Value Field
	Headers    []Header
	HasHeaders bool
	Topic      *string
	Timestamp  *time.Time
	Range      hcl.Range
}

// WantFailure is one expected failed (dead-lettered) record. Message, when
// given, must be a part of the error message.
type WantFailure struct {
	Stage, Class, Message string
	Range                 hcl.Range
}

// Assert is an assert block: a CEL condition that must hold for every
// output record.
type Assert struct {
	Condition    *lang.Expr
	ErrorMessage string
	DeclRange    hcl.Range
}

// Stages are the values of a dead-letter record's stage.
var Stages = []string{"converter", "transform", "source", "sink"}

// Load reads the test files of dir: *.pipetest.hcl in dir itself, then in
// dir/tests, each sorted by name. A directory without test files is no
// error: the suite is empty.
func Load(dir string) (*Suite, hcl.Diagnostics) {
	var names []string
	var diags hcl.Diagnostics
	for i, d := range []string{dir, filepath.Join(dir, "tests")} {
		entries, err := os.ReadDir(d)
		if err != nil {
			if i == 0 {
				diags = append(diags, errorf(nil, "Cannot read configuration directory",
					"The directory %s cannot be read: %s. Point pipectl at a directory of pipeline files.", dir, pathErr(err)))
				return &Suite{Sources: map[string]*hcl.File{}}, diags
			}
			continue
		}
		var in []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), lang.TestFileSuffix) && !strings.HasPrefix(e.Name(), ".") {
				in = append(in, filepath.Join(d, e.Name()))
			}
		}
		sort.Strings(in)
		names = append(names, in...)
	}
	s := &Suite{Sources: map[string]*hcl.File{}}
	p := hclparse.NewParser()
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, errorf(nil, "Cannot read test file", "The test file %s cannot be read: %s.", name, err))
			continue
		}
		f, hf, more := parse(p, src, name)
		diags = append(diags, more...)
		if hf != nil {
			s.Sources[name] = hf
		}
		if f != nil {
			s.Files = append(s.Files, f)
		}
	}
	return s, diags
}

// Parse parses and checks one test file's source.
func Parse(src []byte, filename string) (*File, hcl.Diagnostics) {
	f, _, diags := parse(hclparse.NewParser(), src, filename)
	return f, diags
}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variables"},
	{Type: "run", LabelNames: []string{"name"}},
}}

var runSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "pipeline"}, {Name: "transforms"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variables"}, {Type: "record"}, {Type: "expect"}, {Type: "assert"},
	},
}

var recordSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "key"}, {Name: "value"}, {Name: "key_raw"}, {Name: "value_raw"},
	{Name: "headers"}, {Name: "topic"}, {Name: "timestamp"}, {Name: "partition"}, {Name: "offset"},
}}

var expectSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "records"}, {Name: "filtered"}, {Name: "dead_letters"},
}}

var assertSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

// wantRecordFields and wantFailureFields are the attributes of the
// objects of expect's records and dead_letters lists.
var (
	wantRecordFields  = []string{"key", "value", "key_raw", "value_raw", "headers", "topic", "timestamp"}
	wantFailureFields = []string{"stage", "class", "message"}
)

// evalCtx is what test file expressions may use: literals and a few of
// HCL's standard functions, no references.
var evalCtx = &hcl.EvalContext{Functions: map[string]function.Function{
	"jsonencode": stdlib.JSONEncodeFunc,
	"jsondecode": stdlib.JSONDecodeFunc,
	"format":     stdlib.FormatFunc,
	"upper":      stdlib.UpperFunc,
	"lower":      stdlib.LowerFunc,
}}

type parser struct {
	src   []byte
	diags hcl.Diagnostics
}

func parse(p *hclparse.Parser, src []byte, filename string) (*File, *hcl.File, hcl.Diagnostics) {
	hf, diags := p.ParseHCL(src, filename)
	if hf == nil || diags.HasErrors() {
		return nil, hf, diags
	}
	ps := &parser{src: src, diags: diags}
	content, more := hf.Body.Content(fileSchema)
	ps.diags = append(ps.diags, more...)
	f := &File{Name: filename}
	seenVars := false
	for _, b := range content.Blocks {
		if b.Type != "variables" {
			continue
		}
		if seenVars {
			ps.diags = append(ps.diags, errorf(&b.DefRange, "Duplicate variables block",
				"A test file has at most one top-level variables block; merge this one into the first."))
			continue
		}
		seenVars = true
		f.Variables = ps.variables(b, "the variables block of "+filename)
	}
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		if b.Type != "run" {
			continue
		}
		name := b.Labels[0]
		if prev, dup := seen[name]; dup {
			ps.diags = append(ps.diags, errorf(&b.LabelRanges[0], "Duplicate run block",
				"A run named %q is already declared at %s:%d,%d; give each run of a file its own name.", name, prev.Filename, prev.Start.Line, prev.Start.Column))
			continue
		}
		seen[name] = b.DefRange
		if r := ps.run(b, f.Variables); r != nil {
			f.Runs = append(f.Runs, r)
		}
	}
	if len(f.Runs) == 0 && !ps.diags.HasErrors() {
		rng := hf.Body.MissingItemRange()
		ps.diags = append(ps.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "No run blocks",
			Detail: fmt.Sprintf("The test file %s has no run blocks, so it tests nothing. Add one: run \"NAME\" { ... }.", filename), Subject: &rng})
	}
	if ps.diags.HasErrors() {
		return nil, hf, ps.diags
	}
	return f, hf, ps.diags
}

func (ps *parser) variables(b *hcl.Block, from string) []lang.VarArg {
	attrs, diags := b.Body.JustAttributes()
	ps.diags = append(ps.diags, diags...)
	var out []lang.VarArg
	for _, name := range sortedNames(attrs) {
		a := attrs[name]
		v, diags := a.Expr.Value(evalCtx)
		ps.diags = append(ps.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		rng := a.Expr.Range()
		out = append(out, lang.VarArg{Name: name, Value: v, From: from, Range: &rng})
	}
	return out
}

func (ps *parser) run(b *hcl.Block, fileVars []lang.VarArg) *Run {
	content, diags := b.Body.Content(runSchema)
	ps.diags = append(ps.diags, diags...)
	n := len(ps.diags.Errs())
	r := &Run{Name: b.Labels[0], DeclRange: b.DefRange}
	r.Variables = append(r.Variables, fileVars...)
	pa, ta := content.Attributes["pipeline"], content.Attributes["transforms"]
	switch {
	case pa != nil && ta != nil:
		ps.diags = append(ps.diags, errorf(&ta.NameRange, "Conflicting test targets",
			"A run tests either a pipeline or a chain of transforms; remove pipeline or transforms."))
	case pa != nil:
		r.Target = pa.Expr.Range()
		r.Pipeline = ps.pipelineAddr(pa)
	case ta != nil:
		r.Target = ta.Expr.Range()
		r.Transforms = ps.transformNames(ta)
	default:
		ps.diags = append(ps.diags, errorf(&b.DefRange, "Missing test target",
			"The run %q needs the pipeline under test, like pipeline = source.generator.orders, or a chain of transforms, like transforms = [transform.clean, transform.mask].", r.Name))
	}
	var expects int
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "variables":
			r.Variables = append(r.Variables, ps.variables(blk, fmt.Sprintf("the variables block of run %q", r.Name))...)
		case "record":
			if rec := ps.record(blk); rec != nil {
				r.Records = append(r.Records, rec)
			}
		case "expect":
			expects++
			if expects > 1 {
				ps.diags = append(ps.diags, errorf(&blk.DefRange, "Duplicate expect block",
					"A run has at most one expect block; merge this one into the first."))
				continue
			}
			r.Expect = ps.expect(blk)
		case "assert":
			if a := ps.assert(blk, r.Name); a != nil {
				r.Asserts = append(r.Asserts, a)
			}
		}
	}
	if (r.Expect == nil || r.Expect.empty()) && len(r.Asserts) == 0 && len(ps.diags.Errs()) == n {
		ps.diags = append(ps.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Run without expectations",
			Detail: fmt.Sprintf("The run %q has no assert block and no expectation in an expect block: it passes unless a record fails. Say what must come out.", r.Name), Subject: &b.DefRange})
	}
	if len(ps.diags.Errs()) > n {
		return nil
	}
	return r
}

// pipelineAddr reads pipeline = source.TYPE.NAME or sink.TYPE.NAME, with
// an index for a for_each instance.
func (ps *parser) pipelineAddr(a *hcl.Attribute) string {
	t, diags := hcl.AbsTraversalForExpr(a.Expr)
	rng := a.Expr.Range()
	bad := func() string {
		ps.diags = append(ps.diags, errorf(&rng, "Invalid pipeline reference",
			"The pipeline attribute names a source or sink block, like source.generator.orders or sink.file.out (with [\"KEY\"] for a for_each instance)."))
		return ""
	}
	if diags.HasErrors() || len(t) < 3 || len(t) > 4 {
		return bad()
	}
	root := t.RootName()
	if root != "source" && root != "sink" {
		return bad()
	}
	parts := []string{root}
	for _, step := range t[1:3] {
		at, ok := step.(hcl.TraverseAttr)
		if !ok {
			return bad()
		}
		parts = append(parts, at.Name)
	}
	addr := strings.Join(parts, ".")
	if len(t) == 4 {
		ix, ok := t[3].(hcl.TraverseIndex)
		if !ok || ix.Key.Type() != cty.String {
			return bad()
		}
		addr += fmt.Sprintf("[%q]", ix.Key.AsString())
	}
	return addr
}

func (ps *parser) transformNames(a *hcl.Attribute) []string {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() || len(exprs) == 0 {
		rng := a.Expr.Range()
		ps.diags = append(ps.diags, errorf(&rng, "Invalid transforms list",
			"The transforms attribute is a non-empty list of references, like [transform.clean, transform.mask]."))
		return nil
	}
	var out []string
	for _, e := range exprs {
		t, diags := hcl.AbsTraversalForExpr(e)
		if diags.HasErrors() || len(t) != 2 || t.RootName() != "transform" {
			rng := e.Range()
			ps.diags = append(ps.diags, errorf(&rng, "Invalid transform reference",
				"Each element of transforms names a transform block, like transform.mask_pii."))
			continue
		}
		at, ok := t[1].(hcl.TraverseAttr)
		if !ok {
			rng := e.Range()
			ps.diags = append(ps.diags, errorf(&rng, "Invalid transform reference",
				"Each element of transforms names a transform block, like transform.mask_pii."))
			continue
		}
		out = append(out, at.Name)
	}
	return out
}

func (ps *parser) value(a *hcl.Attribute) (cty.Value, bool) {
	v, diags := a.Expr.Value(evalCtx)
	ps.diags = append(ps.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if !v.IsWhollyKnown() {
		rng := a.Expr.Range()
		ps.diags = append(ps.diags, errorf(&rng, "Invalid value", "The %s must be known when the test file is read.", a.Name))
		return cty.NilVal, false
	}
	return v, true
}

func (ps *parser) record(b *hcl.Block) *Record {
	content, diags := b.Body.Content(recordSchema)
	ps.diags = append(ps.diags, diags...)
	rec := &Record{DeclRange: b.DefRange}
	vals := map[string]cty.Value{}
	ranges := map[string]hcl.Range{}
	for name, a := range content.Attributes {
		if v, ok := ps.value(a); ok {
			vals[name], ranges[name] = v, a.Expr.Range()
		}
	}
	rec.Key = ps.field(vals, ranges, "key")
	rec.Value = ps.field(vals, ranges, "value")
	rec.Headers = ps.headers(vals, ranges, "headers")
	rec.Topic = ps.str(vals, ranges, "topic")
	if ts := ps.timestamp(vals, ranges, "timestamp"); ts != nil {
		rec.Timestamp = *ts
	}
	rec.Partition = ps.int(vals, ranges, "partition")
	if rec.Partition != nil && *rec.Partition > math.MaxInt32 {
		r := ranges["partition"]
		ps.diags = append(ps.diags, errorf(&r, "Invalid partition",
			"The partition %d is out of range: Kafka partitions go from 0 to %d.", *rec.Partition, math.MaxInt32))
		rec.Partition = nil
	}
	rec.Offset = ps.int(vals, ranges, "offset")
	return rec
}

// field reads NAME or NAME_raw (a string whose bytes are the raw key or
// value); not both.
func (ps *parser) field(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) Field {
	v, ok := vals[name]
	raw, rawOK := vals[name+"_raw"]
	switch {
	case ok && rawOK:
		r := ranges[name+"_raw"]
		ps.diags = append(ps.diags, errorf(&r, "Conflicting attributes",
			"Give the %s either as a value (%s) or as raw bytes (%s_raw), not both.", name, name, name))
	case ok:
		return Field{Set: true, Value: goValue(v)}
	case rawOK:
		if raw.IsNull() {
			return Field{Set: true, IsRaw: true}
		}
		if raw.Type() != cty.String {
			r := ranges[name+"_raw"]
			ps.diags = append(ps.diags, errorf(&r, "Invalid raw value",
				"The %s_raw attribute is a string whose bytes are the record's %s, like jsonencode({id = 1}).", name, name))
			return Field{}
		}
		return Field{Set: true, IsRaw: true, Raw: []byte(raw.AsString())}
	}
	return Field{}
}

func (ps *parser) headers(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) []Header {
	v, ok := vals[name]
	if !ok || v.IsNull() {
		return nil
	}
	r := ranges[name]
	t := v.Type()
	if !t.IsObjectType() && !t.IsMapType() {
		ps.diags = append(ps.diags, errorf(&r, "Invalid headers", "The headers are a map of strings, like { trace = \"abc\" }."))
		return nil
	}
	out := []Header{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() || e.Type() != cty.String {
			ps.diags = append(ps.diags, errorf(&r, "Invalid headers", "The header %q is not a string; header values are strings.", k.AsString()))
			continue
		}
		out = append(out, Header{Name: k.AsString(), Value: e.AsString()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (ps *parser) str(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) string {
	s := ps.optStr(vals, ranges, name)
	if s == nil {
		return ""
	}
	return *s
}

func (ps *parser) optStr(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) *string {
	v, ok := vals[name]
	if !ok || v.IsNull() {
		return nil
	}
	if v.Type() != cty.String {
		r := ranges[name]
		ps.diags = append(ps.diags, errorf(&r, "Invalid "+name, "The %s is a string.", name))
		return nil
	}
	s := v.AsString()
	return &s
}

func (ps *parser) timestamp(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) *time.Time {
	s := ps.optStr(vals, ranges, name)
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		r := ranges[name]
		ps.diags = append(ps.diags, errorf(&r, "Invalid timestamp",
			"The timestamp %q is not in RFC 3339 format, like \"2026-01-02T15:04:05Z\".", *s))
		return nil
	}
	return &t
}

func (ps *parser) int(vals map[string]cty.Value, ranges map[string]hcl.Range, name string) *int64 {
	v, ok := vals[name]
	if !ok || v.IsNull() {
		return nil
	}
	r := ranges[name]
	if v.Type() != cty.Number {
		ps.diags = append(ps.diags, errorf(&r, "Invalid "+name, "The %s is a whole number.", name))
		return nil
	}
	i, acc := v.AsBigFloat().Int64()
	if acc != big.Exact || i < 0 {
		ps.diags = append(ps.diags, errorf(&r, "Invalid "+name, "The %s is a whole number, 0 or more.", name))
		return nil
	}
	return &i
}

func (ps *parser) expect(b *hcl.Block) *Expect {
	content, diags := b.Body.Content(expectSchema)
	ps.diags = append(ps.diags, diags...)
	e := &Expect{DeclRange: b.DefRange}
	if a := content.Attributes["records"]; a != nil {
		e.HasRecords = true
		e.Records = []*WantRecord{}
		for _, el := range ps.objects(a, "records", "{ key = \"1\", value = { id = 1 } }") {
			if w := ps.wantRecord(el); w != nil {
				e.Records = append(e.Records, w)
			}
		}
	}
	if a := content.Attributes["filtered"]; a != nil {
		if v, ok := ps.value(a); ok {
			if v.IsNull() {
				rng := a.Expr.Range()
				ps.diags = append(ps.diags, errorf(&rng, "Invalid filtered",
					"An expectation cannot be null: it would check nothing. Remove filtered, or give a number."))
			} else {
				e.Filtered = ps.int(map[string]cty.Value{"filtered": v}, map[string]hcl.Range{"filtered": a.Expr.Range()}, "filtered")
			}
		}
	}
	if a := content.Attributes["dead_letters"]; a != nil {
		for _, el := range ps.objects(a, "dead_letters", "{ stage = \"converter\", class = \"converters.Error\" }") {
			if w := ps.wantFailure(el); w != nil {
				e.DeadLetters = append(e.DeadLetters, w)
			}
		}
	}
	return e
}

// element is one object of a list attribute.
type element struct {
	fields map[string]cty.Value
	ranges map[string]hcl.Range // of each field's value, where known
	// keyRanges are the ranges of each field's name, where known.
	keyRanges map[string]hcl.Range
	rng       hcl.Range
}

// fieldRanges are the ranges of the values of an object literal's fields
// (the whole element's range for a field of another kind of expression).
// and of their names (only for an object literal).
func fieldRanges(e hcl.Expression, fields map[string]cty.Value) (values, keys map[string]hcl.Range) {
	values, keys = map[string]hcl.Range{}, map[string]hcl.Range{}
	for k := range fields {
		values[k] = e.Range()
	}
	oc, ok := e.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return values, keys
	}
	for _, item := range oc.Items {
		k, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || k.IsNull() || !k.IsKnown() || k.Type() != cty.String {
			continue
		}
		values[k.AsString()] = item.ValueExpr.Range()
		keys[k.AsString()] = item.KeyExpr.Range()
	}
	return values, keys
}

// objects reads a list of objects, each element with its own range.
func (ps *parser) objects(a *hcl.Attribute, what, example string) []element {
	exprs, diags := hcl.ExprList(a.Expr)
	if diags.HasErrors() {
		rng := a.Expr.Range()
		ps.diags = append(ps.diags, errorf(&rng, "Invalid "+what, "The %s attribute is a list of objects, like [%s].", what, example))
		return nil
	}
	var out []element
	for _, ex := range exprs {
		rng := ex.Range()
		v, diags := ex.Value(evalCtx)
		ps.diags = append(ps.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		v, _ = v.UnmarkDeep()
		if v.IsNull() || !v.IsWhollyKnown() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			ps.diags = append(ps.diags, errorf(&rng, "Invalid "+what, "Each element of %s is an object, like %s.", what, example))
			continue
		}
		el := element{fields: map[string]cty.Value{}, rng: rng}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			el.fields[k.AsString()] = e
		}
		el.ranges, el.keyRanges = fieldRanges(ex, el.fields)
		out = append(out, el)
	}
	return out
}

func (ps *parser) unknownFields(el element, allowed []string, what string) bool {
	ok := true
	for _, k := range sortedNames(el.fields) {
		if !contains(allowed, k) {
			rng := el.rng
			if r, ok := el.keyRanges[k]; ok {
				rng = r
			}
			ps.diags = append(ps.diags, errorf(&rng, "Unsupported attribute",
				"An element of %s has no attribute %q; it may have %s.%s", what, k, strings.Join(allowed, ", "), configschema.DidYouMean(k, allowed)))
			ok = false
		}
	}
	return ok
}

func (ps *parser) wantRecord(el element) *WantRecord {
	if !ps.unknownFields(el, wantRecordFields, "records") {
		return nil
	}
	ranges := el.ranges
	n := len(ps.diags.Errs())
	if len(el.fields) == 0 {
		ps.diags = append(ps.diags, errorf(&el.rng, "Empty expected record",
			"An expected record gives the fields to compare, like { key = \"1\", value = { id = 1 } }; an empty one compares nothing."))
		return nil
	}
	for _, name := range []string{"topic", "timestamp", "headers"} {
		if v, ok := el.fields[name]; ok && v.IsNull() {
			r := ranges[name]
			ps.diags = append(ps.diags, errorf(&r, "Invalid "+name,
				"An expectation cannot be null: it would check nothing. Remove %s, or give a value.", name))
		}
	}
	if len(ps.diags.Errs()) > n {
		return nil
	}
	w := &WantRecord{Range: el.rng}
	w.Key = ps.field(el.fields, ranges, "key")
	w.Value = ps.field(el.fields, ranges, "value")
	if _, ok := el.fields["headers"]; ok {
		w.HasHeaders = true
		w.Headers = ps.headers(el.fields, ranges, "headers")
		if w.Headers == nil {
			w.Headers = []Header{}
		}
	}
	w.Topic = ps.optStr(el.fields, ranges, "topic")
	w.Timestamp = ps.timestamp(el.fields, ranges, "timestamp")
	if len(ps.diags.Errs()) > n {
		return nil
	}
	return w
}

func (ps *parser) wantFailure(el element) *WantFailure {
	if !ps.unknownFields(el, wantFailureFields, "dead_letters") {
		return nil
	}
	ranges := el.ranges
	n := len(ps.diags.Errs())
	w := &WantFailure{Range: el.rng}
	w.Stage = ps.str(el.fields, ranges, "stage")
	w.Class = ps.str(el.fields, ranges, "class")
	w.Message = ps.str(el.fields, ranges, "message")
	if w.Stage == "" {
		ps.diags = append(ps.diags, errorf(&el.rng, "Missing stage",
			"Each element of dead_letters names the stage the record failed in: one of %s.", strings.Join(Stages, ", ")))
	} else if !contains(Stages, w.Stage) {
		r := ranges["stage"]
		ps.diags = append(ps.diags, errorf(&r, "Invalid stage",
			"The stage %q is not one of %s.%s", w.Stage, strings.Join(Stages, ", "), configschema.DidYouMean(w.Stage, Stages)))
	}
	if len(ps.diags.Errs()) > n {
		return nil
	}
	return w
}

func (ps *parser) assert(b *hcl.Block, run string) *Assert {
	content, diags := b.Body.Content(assertSchema)
	ps.diags = append(ps.diags, diags...)
	if diags.HasErrors() {
		return nil
	}
	ca, ma := content.Attributes["condition"], content.Attributes["error_message"]
	cv, ok1 := ps.value(ca)
	mv, ok2 := ps.value(ma)
	if !ok1 || !ok2 {
		return nil
	}
	if cv.IsNull() || cv.Type() != cty.String {
		r := ca.Expr.Range()
		ps.diags = append(ps.diags, errorf(&r, "Invalid condition",
			"The condition is a CEL expression in a string, like \"value.amount >= 10\"."))
		return nil
	}
	if mv.IsNull() || mv.Type() != cty.String {
		r := ma.Expr.Range()
		ps.diags = append(ps.diags, errorf(&r, "Invalid error_message", "The error_message is a string."))
		return nil
	}
	e, diags := lang.CompileCEL(expr.RecordEnv(), expr.Bool, ps.src, ca.Expr, cv.AsString(), evalCtx, fmt.Sprintf("an assert of run %q", run))
	ps.diags = append(ps.diags, diags...)
	if e == nil {
		return nil
	}
	return &Assert{Condition: e, ErrorMessage: mv.AsString(), DeclRange: b.DefRange}
}

// goValue turns an HCL value into the plain Go value a converter
// produces: string, int64 (a whole number that fits) or float64, bool,
// nil, []any and map[string]any.
func goValue(v cty.Value) any {
	if v.IsNull() {
		return nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return v.AsString()
	case t == cty.Bool:
		return v.True()
	case t == cty.Number:
		bf := v.AsBigFloat()
		if i, acc := bf.Int64(); acc == big.Exact {
			return i
		}
		f, _ := bf.Float64()
		return f
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = goValue(e)
		}
		return out
	case t.IsTupleType() || t.IsListType() || t.IsSetType():
		out := []any{}
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, goValue(e))
		}
		return out
	}
	return nil
}

// pathErr is the cause of a file system error, without the path the
// message already names.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func errorf(rng *hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: rng}
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
