package lang

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/pipectl/pipectl/lang/configschema"
)

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"}, {Name: "default"}, {Name: "description"}, {Name: "sensitive"}, {Name: "nullable"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

// varDecl is a decoded variable block.
type varDecl struct {
	n           *node
	typ         cty.Type
	defaults    *typeexpr.Defaults
	def         cty.Value // cty.NilVal without a default
	desc        string
	sensitive   bool
	nullable    bool
	validations []*hcl.Block
	badDefault  bool // the default had an error, already reported
}

// assigned is a value given to a variable from outside the configuration.
type assigned struct {
	val  cty.Value // set for values from files
	raw  string    // set for -var and PIPECTL_VAR_ values
	from string    // where it came from, for messages
	rng  *hcl.Range
}

// resolveVariables gives every variable its value, in Terraform's
// precedence order (lowest first): default, PIPECTL_VAR_name,
// *.auto.pipevars files in lexical order, then -var and -var-file in the
// order given.
func (l *loader) resolveVariables() {
	decls := map[string]*varDecl{}
	var order []*varDecl
	for _, n := range l.byKind("variable") {
		if d := l.decodeVariable(n); d != nil {
			decls[n.name] = d
			order = append(order, d)
		}
	}
	given := map[string]assigned{}
	for _, d := range order {
		if v, ok := l.opts.LookupEnv("PIPECTL_VAR_" + d.n.name); ok {
			given[d.n.name] = assigned{raw: v, from: "the environment variable PIPECTL_VAR_" + d.n.name}
		}
	}
	var autoFiles []string
	for _, pattern := range []string{"*.auto.pipevars", "*.auto.pipevars.json"} {
		m, _ := filepath.Glob(filepath.Join(l.dir, pattern))
		autoFiles = append(autoFiles, m...)
	}
	sort.Strings(autoFiles)
	for _, f := range autoFiles {
		l.readVarFile(f, decls, given)
	}
	for _, a := range l.opts.Vars {
		if a.File != "" {
			l.readVarFile(a.File, decls, given)
			continue
		}
		if a.Name != "" {
			if _, ok := decls[a.Name]; !ok {
				l.diags = append(l.diags, errorf(a.Range, "Value for undeclared variable",
					"A variable named %q is set in %s but is not declared in the configuration.%s", a.Name, a.From, configschema.DidYouMean(a.Name, l.names("variable"))))
				continue
			}
			given[a.Name] = assigned{val: a.Value, from: a.From, rng: a.Range}
			continue
		}
		name, raw, ok := strings.Cut(a.Raw, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.diags = append(l.diags, errorf(nil, "Invalid -var option",
				"The option -var %q is not of the form NAME=VALUE. To give a variable an empty string, write -var %s=.", a.Raw, a.Raw))
			continue
		}
		if _, ok := decls[name]; !ok {
			l.diags = append(l.diags, errorf(nil, "Value for undeclared variable",
				"A variable named %q was given with -var but is not declared in the configuration.%s", name, configschema.DidYouMean(name, l.names("variable"))))
			continue
		}
		given[name] = assigned{raw: raw, from: "the -var option"}
	}
	for _, d := range order {
		l.assignVariable(d, given)
	}
}

func (l *loader) decodeVariable(n *node) *varDecl {
	content, diags := n.block.Body.Content(variableSchema)
	l.diags = append(l.diags, diags...)
	d := &varDecl{n: n, typ: cty.DynamicPseudoType, def: cty.NilVal, nullable: true, validations: nil}
	if a, ok := content.Attributes["type"]; ok {
		t, defaults, diags := typeexpr.TypeConstraintWithDefaults(a.Expr)
		l.diags = append(l.diags, diags...)
		if !diags.HasErrors() {
			d.typ, d.defaults = t, defaults
		}
	}
	lit := func(name string, want cty.Type) (cty.Value, bool) {
		a, ok := content.Attributes[name]
		if !ok {
			return cty.NilVal, false
		}
		if len(a.Expr.Variables()) > 0 {
			d.badDefault = d.badDefault || name == "default"
			l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Variables not allowed",
				"The %s of a variable cannot refer to other objects; write a literal value.", name))
			return cty.NilVal, false
		}
		v, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.fns})
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			d.badDefault = d.badDefault || name == "default"
			return cty.NilVal, false
		}
		if want != cty.DynamicPseudoType {
			cv, err := convert.Convert(v, want)
			if err != nil || cv.IsNull() {
				l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Invalid "+name, "The %s of a variable must be a %s.", name, want.FriendlyName()))
				return cty.NilVal, false
			}
			v = cv
		}
		return v, true
	}
	if v, ok := lit("description", cty.String); ok {
		d.desc = v.AsString()
	}
	if v, ok := lit("sensitive", cty.Bool); ok {
		d.sensitive = v.True()
	}
	if v, ok := lit("nullable", cty.Bool); ok {
		d.nullable = v.True()
	}
	if v, ok := lit("default", cty.DynamicPseudoType); ok {
		if cv, err := l.convertVar(d, v); err != nil {
			a := content.Attributes["default"]
			l.diags = append(l.diags, errorf(ptr(a.Expr.Range()), "Invalid default value for variable",
				"This default value is not compatible with the variable's type constraint: %s.", err))
			d.badDefault = true
		} else {
			d.def = cv
		}
	}
	for _, b := range content.Blocks {
		d.validations = append(d.validations, b)
	}
	return d
}

func (l *loader) convertVar(d *varDecl, v cty.Value) (cty.Value, error) {
	if d.defaults != nil {
		v = d.defaults.Apply(v)
	}
	return convert.Convert(v, d.typ)
}

// readVarFile reads an HCL or JSON (*.json) file of variable values.
func (l *loader) readVarFile(path string, decls map[string]*varDecl, given map[string]assigned) {
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(path, ".json") {
		f, diags = l.parser.ParseJSONFile(path)
	} else {
		f, diags = l.parser.ParseHCLFile(path)
	}
	l.diags = append(l.diags, diags...)
	if f == nil || diags.HasErrors() {
		return
	}
	attrs, diags := f.Body.JustAttributes()
	l.diags = append(l.diags, diags...)
	for name, a := range attrs {
		if _, ok := decls[name]; !ok {
			l.diags = append(l.diags, warnf(ptr(a.NameRange), "Value for undeclared variable",
				"The file %s gives a value to %q, which the configuration does not declare; the value is ignored.%s",
				path, name, configschema.DidYouMean(name, l.names("variable"))))
			continue
		}
		v, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.fns})
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			continue
		}
		given[name] = assigned{val: v, from: path, rng: ptr(a.Expr.Range())}
	}
}

func (l *loader) assignVariable(d *varDecl, given map[string]assigned) {
	n := d.n
	val := d.def
	if a, ok := given[n.name]; ok {
		v, ok := l.givenValue(d, a)
		if !ok {
			l.values[n.addr] = cty.DynamicVal
			return
		}
		if v.IsNull() && !d.nullable {
			if d.def == cty.NilVal {
				l.diags = append(l.diags, errorf(a.rng, "Invalid value for input variable",
					"The variable %q is not nullable, but %s sets it to null. Give it a value.", n.name, a.from))
				l.values[n.addr] = cty.DynamicVal
				return
			}
		} else {
			val = v
		}
	}
	if val == cty.NilVal && d.badDefault {
		l.values[n.addr] = cty.DynamicVal
		return
	}
	if val == cty.NilVal {
		l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "No value for required variable",
			"The variable %q has no default and no value was given. Set it with -var %s=VALUE, a -var-file, a *.auto.pipevars file or the environment variable PIPECTL_VAR_%s.",
			n.name, n.name, n.name))
		l.values[n.addr] = cty.DynamicVal
		return
	}
	if val.IsNull() && !d.nullable {
		l.diags = append(l.diags, errorf(ptr(n.block.DefRange), "Invalid value for input variable",
			"The variable %q is not nullable, but its value is null.", n.name))
	}
	if d.sensitive {
		val = val.Mark(markSensitive)
	}
	l.values[n.addr] = val
	if !l.checkValidations(d, val) {
		l.values[n.addr] = cty.DynamicVal
	}
	l.cfg.Variables = append(l.cfg.Variables, &Variable{
		Name: n.name, Description: d.desc, Sensitive: d.sensitive, Value: val, DeclRange: n.block.DefRange,
	})
}

// givenValue converts a value given from outside to the variable's type.
func (l *loader) givenValue(d *varDecl, a assigned) (cty.Value, bool) {
	v := a.val
	if v == cty.NilVal {
		if d.typ.IsPrimitiveType() || d.typ == cty.DynamicPseudoType {
			v = cty.StringVal(a.raw)
		} else {
			e, diags := hclsyntax.ParseExpression([]byte(a.raw), "<value for var."+d.n.name+">", hcl.InitialPos)
			if !diags.HasErrors() {
				var more hcl.Diagnostics
				v, more = e.Value(&hcl.EvalContext{Functions: l.fns})
				diags = append(diags, more...)
			}
			if diags.HasErrors() {
				l.diags = append(l.diags, errorf(nil, "Invalid value for input variable",
					"The value of %q from %s is not a valid expression for a %s: %s.",
					d.n.name, a.from, typeexpr.TypeString(d.typ), diags[0].Detail))
				return cty.NilVal, false
			}
		}
	}
	cv, err := l.convertVar(d, v)
	if err != nil {
		detail := "The value of %q from %s is not a %s: %s."
		if d.sensitive {
			// The conversion error may quote the value.
			l.diags = append(l.diags, errorf(a.rng, "Invalid value for input variable",
				"The value of %q from %s is not a %s.", d.n.name, a.from, typeexpr.TypeString(d.typ)))
		} else {
			l.diags = append(l.diags, errorf(a.rng, "Invalid value for input variable", detail, d.n.name, a.from, typeexpr.TypeString(d.typ), err))
		}
		return cty.NilVal, false
	}
	return cv, true
}

// checkValidations runs the variable's validation blocks.
func (l *loader) checkValidations(d *varDecl, val cty.Value) bool {
	ok := true
	for _, b := range d.validations {
		content, diags := b.Body.Content(validationSchema)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			ok = false
			continue
		}
		cond := content.Attributes["condition"]
		self := false
		for _, t := range cond.Expr.Variables() {
			name, _ := stepName(t, 1)
			if t.RootName() != "var" || name != d.n.name {
				rng := t.SourceRange()
				l.diags = append(l.diags, errorf(&rng, "Invalid reference in variable validation",
					"The condition of a validation can only refer to the variable itself, var.%s.", d.n.name))
				ok = false
				continue
			}
			self = true
		}
		if !self && ok {
			l.diags = append(l.diags, errorf(ptr(cond.Expr.Range()), "Invalid variable validation condition",
				"The condition must refer to var.%s, the variable being validated.", d.n.name))
			ok = false
		}
		if !ok {
			continue
		}
		ctx := &hcl.EvalContext{Functions: l.fns, Variables: map[string]cty.Value{
			"var": cty.ObjectVal(map[string]cty.Value{d.n.name: val}),
		}}
		res, diags := cond.Expr.Value(ctx)
		l.diags = append(l.diags, diags...)
		if diags.HasErrors() {
			ok = false
			continue
		}
		res, _ = res.Unmark()
		if !res.IsKnown() {
			continue
		}
		if res.IsNull() || res.Type() != cty.Bool {
			l.diags = append(l.diags, errorf(ptr(cond.Expr.Range()), "Invalid variable validation result",
				"The condition must return true or false, not %s.", friendly(res)))
			ok = false
			continue
		}
		if res.True() {
			continue
		}
		msg := "(no error message)"
		mv, diags := content.Attributes["error_message"].Expr.Value(ctx)
		if !diags.HasErrors() {
			if mv.IsMarked() {
				msg = "The error message refers to a sensitive value, so it is not shown."
			} else if s, err := convert.Convert(mv, cty.String); err == nil && s.IsKnown() && !s.IsNull() {
				msg = s.AsString()
			}
		}
		l.diags = append(l.diags, errorf(ptr(d.n.block.DefRange), "Invalid value for variable",
			"%s\n\nThis was checked by the validation rule at %s.", msg, at(cond.Expr.Range())))
		ok = false
	}
	return ok
}

func friendly(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	return fmt.Sprintf("a %s", v.Type().FriendlyName())
}
