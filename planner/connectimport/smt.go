package connectimport

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// smt is one single message transform of a connector: transforms.ALIAS.*.
type smt struct {
	cv    *conv
	alias string
	class string
	props map[string]string // without the transforms.ALIAS. prefix
	// root is "value" or "key": the $Value or $Key variant.
	root string
	name string // the transform block's name
	// when and unless come from the SMT's predicate.
	when, unless string
}

func (s *smt) key(p string) string { return "transforms." + s.alias + "." + p }

func (s *smt) get(p string) (string, bool) {
	v, ok := s.props[p]
	if ok {
		s.cv.use(s.key(p))
	}
	return v, ok
}

// smtMapping maps one SMT class (without the $Key/$Value suffix) to
// transform blocks; it reports false when it cannot.
type smtMapping func(s *smt) ([]*block, bool)

const smtPackage = "org.apache.kafka.connect.transforms."

// smts maps every single message transform of Apache Kafka. Adding one is
// a row.
var smts = map[string]smtMapping{
	"InsertField":        insertField,
	"ReplaceField":       replaceField,
	"MaskField":          maskField,
	"ValueToKey":         valueToKey,
	"ExtractField":       extractField,
	"HoistField":         hoistField,
	"Cast":               castField,
	"Flatten":            flatten,
	"RegexRouter":        regexRouter,
	"TimestampRouter":    timestampRouter,
	"TimestampConverter": timestampConverter,
	"Filter":             filterSMT,
	"InsertHeader":       insertHeader,
	"DropHeaders":        dropHeaders,
	"HeaderFrom":         headerFrom,
	"SetSchemaMetadata":  setSchemaMetadata,
}

// transformChain maps transforms and predicates.
func (cv *conv) transformChain() {
	preds := cv.predicates()
	v, ok := cv.get("transforms")
	if !ok {
		return
	}
	cv.use("transforms")
	for _, alias := range splitList(v) {
		s := &smt{cv: cv, alias: alias, props: map[string]string{}, name: cv.blockName(alias)}
		prefix := "transforms." + alias + "."
		for k, val := range cv.c.Config {
			if strings.HasPrefix(k, prefix) {
				s.props[strings.TrimPrefix(k, prefix)] = val
			}
		}
		class, _ := s.get("type")
		s.class = class
		short := strings.TrimPrefix(class, smtPackage)
		s.root = "value"
		if base, variant, ok := strings.Cut(short, "$"); ok {
			short = base
			switch variant {
			case "Key":
				s.root = "key"
			case "Value":
			default:
				short = ""
			}
		}
		mapping := smts[short]
		if !strings.HasPrefix(class, smtPackage) || mapping == nil {
			cv.warn(s.key("type"), "Transform not supported", "The transform %s (%s) is not one of Apache Kafka's single message transforms, which pipectl import maps; it is left out of the pipeline and kept in a comment.", alias, class)
			cv.unmapSMT(s)
			continue
		}
		if p, ok := s.get("predicate"); ok {
			pred := preds[p]
			if pred == "" {
				cv.warn(s.key("predicate"), "Unknown predicate", "The transform %s uses the predicate %q, which predicates does not declare (or which could not be imported); the transform is left out.", alias, p)
				cv.unmapSMT(s)
				continue
			}
			neg, _ := s.get("negate")
			if neg == "true" {
				s.unless = "predicate." + pred
			} else {
				s.when = "predicate." + pred
			}
		}
		blocks, ok := mapping(s)
		if !ok {
			cv.unmapSMT(s)
			continue
		}
		for i, b := range blocks {
			if i == 0 {
				b.comments = append([]string{fmt.Sprintf("Kafka Connect transform %q: %s.", alias, strings.TrimPrefix(class, smtPackage))}, b.comments...)
			}
			cv.pre = append(cv.pre, b)
			cv.transforms = append(cv.transforms, "transform."+typeLabel(b))
		}
		// Whatever the mapping did not read stays a warning and a comment.
		for _, p := range sortedKeys(s.props) {
			if !cv.used[s.key(p)] {
				cv.warn(s.key(p), "Transform setting not imported", "The setting %s of the transform %s is not carried over.", p, alias)
				blocks[len(blocks)-1].trailer = append(blocks[len(blocks)-1].trailer, "Not imported: "+settingText(s.key(p), s.props[p]))
				cv.use(s.key(p))
			}
		}
	}
}

// typeLabel is the name of a transform block from its header.
func typeLabel(b *block) string {
	parts := strings.SplitN(b.header, " ", 2)
	n, _ := strconv.Unquote(parts[1])
	return n
}

// unmapSMT marks a transform's settings as not imported (warned and kept
// in comments by unmapped).
func (cv *conv) unmapSMT(s *smt) {
	for p := range s.props {
		cv.used[s.key(p)] = false
	}
}

// predicates maps predicates and returns the predicate block name of each
// alias that could be mapped.
func (cv *conv) predicates() map[string]string {
	out := map[string]string{}
	v, ok := cv.get("predicates")
	if !ok {
		return out
	}
	cv.use("predicates")
	for _, alias := range splitList(v) {
		prefix := "predicates." + alias + "."
		class := cv.c.Config[prefix+"type"]
		var expr string
		keys := []string{prefix + "type"}
		switch strings.TrimPrefix(class, "org.apache.kafka.connect.transforms.predicates.") {
		case "TopicNameMatches":
			pat := cv.c.Config[prefix+"pattern"]
			keys = append(keys, prefix+"pattern")
			if _, err := regexp.Compile(pat); err != nil || pat == "" {
				cv.warn(prefix+"pattern", "Regular expression not RE2", "The pattern %q of the predicate %s is not a regular expression RE2 accepts.", pat, alias)
				continue
			}
			// Connect matches the whole topic name.
			expr = "topic.matches(" + celString("^(?:"+pat+")$") + ")"
		case "HasHeaderKey":
			name := cv.c.Config[prefix+"name"]
			keys = append(keys, prefix+"name")
			expr = celString(name) + " in headers"
		case "RecordIsTombstone":
			expr = "value == null"
		default:
			cv.warn(prefix+"type", "Predicate not supported", "The predicate %s (%s) is not one of Apache Kafka's predicates; the transforms that use it are left out.", alias, class)
			continue
		}
		cv.use(keys...)
		name := cv.blockName(alias)
		b := &block{header: "predicate " + quote(name), comments: []string{fmt.Sprintf("Kafka Connect predicate %q: %s.", alias, shortClass(class))}}
		b.set("expr", quote(expr))
		cv.pre = append(cv.pre, b)
		out[alias] = name
	}
	return out
}

// newBlock starts a transform block with the SMT's condition; guard is a
// CEL condition under which Connect passes the record unchanged (a
// tombstone, for most field transforms), "" for none.
func (s *smt) newBlock(suffix, guard string) *block {
	b := &block{header: "transform " + quote(s.name+suffix)}
	if s.when != "" {
		b.set("when", s.when)
	}
	if s.unless != "" {
		b.set("unless", s.unless)
	}
	if guard != "" {
		switch {
		case s.unless == "":
			b.set("unless", quote(guard))
		case s.when == "":
			b.set("when", quote("!("+guard+")"))
		}
	}
	return b
}

// tombstone is the guard of a transform that passes records whose key or
// value (its root) is null.
func (s *smt) tombstone() string { return s.root + " == null" }

// field strips the ! and ? suffixes old Connect versions allowed.
func field(f string) string { return strings.TrimRight(strings.TrimSpace(f), "!?") }

// path is the transform path of a top-level field; ok is false for a name
// a path cannot hold.
func (s *smt) path(f string) (string, bool) {
	if f == "" || strings.Contains(f, ".") {
		s.cv.warn(s.key("type"), "Field name not supported", "The field name %q of the transform %s holds a dot (or is empty), which a pipectl path cannot name.", f, s.alias)
		return "", false
	}
	return s.root + "." + f, true
}

func (s *smt) setMap(b *block, keys []string, vals map[string]string) {
	if len(keys) > 0 {
		b.set("set", object(keys, vals))
	}
}

func insertField(s *smt) ([]*block, bool) {
	var keys []string
	vals := map[string]string{}
	add := func(prop, expr string) bool {
		f, ok := s.get(prop)
		if !ok || field(f) == "" {
			return true
		}
		p, ok := s.path(field(f))
		if !ok {
			return false
		}
		keys = append(keys, p)
		vals[p] = quote(expr)
		return true
	}
	ok := add("topic.field", "topic") && add("partition.field", "partition")
	if _, has := s.props["offset.field"]; has && s.cv.kind == "source" {
		s.cv.warn(s.key("offset.field"), "Offset of a source record", "InsertField's offset.field only applies to sink records; on a source Kafka Connect fails the record.")
		s.cv.use(s.key("offset.field"))
	} else {
		ok = ok && add("offset.field", "offset")
	}
	// Schemaless, Connect inserts the timestamp as epoch milliseconds.
	ok = ok && add("timestamp.field", "int(timestamp) * 1000 + timestamp.getMilliseconds()")
	if f, has := s.get("static.field"); has && field(f) != "" {
		v, _ := s.get("static.value")
		p, good := s.path(field(f))
		ok = ok && good
		keys = append(keys, p)
		vals[p] = quote(celString(v))
	}
	if !ok || len(keys) == 0 {
		return nil, false
	}
	b := s.newBlock("", s.tombstone())
	s.setMap(b, keys, vals)
	return []*block{b}, true
}

func replaceField(s *smt) ([]*block, bool) {
	get := func(names ...string) []string {
		var out []string
		for _, n := range names {
			if v, ok := s.get(n); ok {
				out = append(out, splitList(v)...)
			}
		}
		return out
	}
	exclude := get("exclude", "blacklist")
	include := get("include", "whitelist")
	var renames [][2]string
	if v, ok := s.get("renames"); ok {
		for _, pair := range splitList(v) {
			from, to, good := strings.Cut(pair, ":")
			if !good || from == "" || to == "" {
				s.cv.warn(s.key("renames"), "Invalid setting", "The renames entry %q of the transform %s is not FROM:TO.", pair, s.alias)
				return nil, false
			}
			renames = append(renames, [2]string{from, to})
		}
	}
	var blocks []*block
	// Connect filters (exclude, include) on the original names first,
	// then renames: one block each, in that order.
	if len(exclude) > 0 || len(include) > 0 {
		b := s.newBlock("", s.tombstone())
		var drops []string
		for _, f := range exclude {
			p, ok := s.path(f)
			if !ok {
				return nil, false
			}
			drops = append(drops, p)
		}
		if len(include) > 0 {
			keep := fmt.Sprintf("%s.transformMap(k, v, k in %s, v)", s.root, celList(include))
			b.set("set", object([]string{s.root}, map[string]string{s.root: quote(keep)}))
		}
		if len(drops) > 0 {
			b.set("drop", list(drops))
		}
		blocks = append(blocks, b)
	}
	if len(renames) > 0 {
		suffix := ""
		if len(blocks) > 0 {
			suffix = "_rename"
		}
		b := s.newBlock(suffix, s.tombstone())
		var keys []string
		vals := map[string]string{}
		for _, r := range renames {
			from, ok1 := s.path(r[0])
			to, ok2 := s.path(r[1])
			if !ok1 || !ok2 {
				return nil, false
			}
			keys = append(keys, from)
			vals[from] = quote(to)
		}
		b.set("rename", object(keys, vals))
		blocks = append(blocks, b)
	}
	return blocks, len(blocks) > 0
}

// maskedExpr is the CEL of MaskField's masked value of x: the empty value
// of its type, or the replacement converted to it.
func maskedExpr(x, replacement string, hasRepl bool) string {
	if !hasRepl {
		return fmt.Sprintf("type(%[1]s) == string ? dyn('') : type(%[1]s) == bool ? dyn(false) : type(%[1]s) == int ? dyn(0) : type(%[1]s) == uint ? dyn(0u) : type(%[1]s) == double ? dyn(0.0) : type(%[1]s) == list ? dyn([]) : type(%[1]s) == map ? dyn({}) : null", x)
	}
	num := "null"
	if n, err := strconv.ParseInt(replacement, 10, 64); err == nil {
		num = fmt.Sprintf("type(%s) == int ? dyn(%d) : dyn(%d.0)", x, n, n)
	} else if f, err := strconv.ParseFloat(replacement, 64); err == nil {
		num = strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(num, ".e") {
			num += ".0"
		}
	}
	return fmt.Sprintf("type(%[1]s) == string ? dyn(%[2]s) : type(%[1]s) == int || type(%[1]s) == double ? dyn(%[3]s) : dyn(%[2]s)", x, celString(replacement), num)
}

func maskField(s *smt) ([]*block, bool) {
	fields, _ := s.get("fields")
	repl, hasRepl := s.get("replacement")
	var keys []string
	vals := map[string]string{}
	for _, f := range splitList(fields) {
		p, ok := s.path(f)
		if !ok {
			return nil, false
		}
		x := celField(s.root, f)
		keys = append(keys, p)
		// A field the record lacks becomes null, as Connect puts it.
		vals[p] = quote(fmt.Sprintf("%s ? dyn(%s) : null", presence(s.root, f), maskedExpr(x, repl, hasRepl)))
	}
	if len(keys) == 0 {
		return nil, false
	}
	b := s.newBlock("", s.tombstone())
	s.setMap(b, keys, vals)
	return []*block{b}, true
}

// presence is the CEL test that root has field f with a non-null value.
func presence(root, f string) string {
	return fmt.Sprintf("%s in %s && %s != null", celString(f), root, celField(root, f))
}

func valueToKey(s *smt) ([]*block, bool) {
	fields, _ := s.get("fields")
	var parts []string
	for _, f := range splitList(fields) {
		parts = append(parts, celString(f)+": "+celOptField("value", f))
	}
	if len(parts) == 0 {
		return nil, false
	}
	if s.root == "key" {
		return nil, false // ValueToKey has no $Key variant
	}
	b := s.newBlock("", "")
	b.set("key", quote("{"+strings.Join(parts, ", ")+"}"))
	return []*block{b}, true
}

func extractField(s *smt) ([]*block, bool) {
	f, ok := s.get("field")
	if !ok || f == "" {
		return nil, false
	}
	expr := s.root
	steps := []string{f}
	if v, _ := s.get("field.syntax.version"); strings.EqualFold(v, "V2") {
		steps = strings.Split(f, ".")
	}
	for _, st := range steps {
		if celIdentRE.MatchString(st) && !celReserved[st] {
			expr += ".?" + st
		} else {
			expr += "[?" + celString(st) + "]"
		}
	}
	expr = "dyn(" + expr + ".orValue(null))"
	b := s.newBlock("", s.tombstone())
	b.set("set", object([]string{s.root}, map[string]string{s.root: quote(expr)}))
	return []*block{b}, true
}

func hoistField(s *smt) ([]*block, bool) {
	f, ok := s.get("field")
	if !ok || f == "" {
		return nil, false
	}
	b := s.newBlock("", "")
	b.set("set", object([]string{s.root}, map[string]string{s.root: quote("{" + celString(f) + ": " + s.root + "}")}))
	return []*block{b}, true
}

// castExpr is the CEL of Cast's conversion of x to a Connect type.
func castExpr(x, typ string) (string, bool) {
	switch typ {
	case "int8", "int16", "int32", "int64":
		return fmt.Sprintf("type(%[1]s) == bool ? (%[1]s ? 1 : 0) : int(%[1]s)", x), true
	case "float32", "float64":
		return fmt.Sprintf("type(%[1]s) == bool ? (%[1]s ? 1.0 : 0.0) : double(%[1]s)", x), true
	case "boolean":
		return fmt.Sprintf("type(%[1]s) == bool ? dyn(%[1]s) : type(%[1]s) == string ? dyn(bool(%[1]s)) : dyn(%[1]s != 0)", x), true
	case "string":
		return fmt.Sprintf("type(%[1]s) == string ? dyn(%[1]s) : dyn(string(%[1]s))", x), true
	}
	return "", false
}

func castField(s *smt) ([]*block, bool) {
	spec, _ := s.get("spec")
	var keys []string
	vals := map[string]string{}
	for _, item := range splitList(spec) {
		f, typ, hasField := strings.Cut(item, ":")
		if !hasField {
			// The whole key or value.
			e, ok := castExpr(s.root, strings.TrimSpace(f))
			if !ok {
				s.cv.warn(s.key("spec"), "Cast type not supported", "The transform %s casts to %q, which is not a Kafka Connect primitive type.", s.alias, f)
				return nil, false
			}
			keys = append(keys, s.root)
			vals[s.root] = quote(e)
			continue
		}
		f, typ = strings.TrimSpace(f), strings.TrimSpace(typ)
		p, ok := s.path(f)
		if !ok {
			return nil, false
		}
		e, ok := castExpr(celField(s.root, f), typ)
		if !ok {
			s.cv.warn(s.key("spec"), "Cast type not supported", "The transform %s casts %s to %q, which is not a Kafka Connect primitive type.", s.alias, f, typ)
			return nil, false
		}
		keys = append(keys, p)
		vals[p] = quote(fmt.Sprintf("%s ? dyn(%s) : null", presence(s.root, f), e))
	}
	if len(keys) == 0 {
		return nil, false
	}
	b := s.newBlock("", s.tombstone())
	s.setMap(b, keys, vals)
	return []*block{b}, true
}

// flattenDepth is how deep the imported Flatten goes: maps nested deeper
// stay maps under their flattened name.
const flattenDepth = 6

// flattenExpr is the CEL that flattens the map x: a list of [name, value]
// pairs, one a leaf, built level by level (a CEL expression cannot
// recurse), then made a map.
func flattenExpr(x, delim string) string {
	var pairs func(m, prefix string, d int) string
	pairs = func(m, prefix string, d int) string {
		k, v := fmt.Sprintf("k%d", d), fmt.Sprintf("v%d", d)
		name := k
		if prefix != "" {
			name = prefix + " + " + celString(delim) + " + " + k
		}
		leaf := fmt.Sprintf("[[%s, %s]]", name, v)
		if d == flattenDepth {
			return fmt.Sprintf("%s.transformList(%s, %s, %s).flatten()", m, k, v, leaf)
		}
		return fmt.Sprintf("%s.transformList(%s, %s, type(%s) == map ? %s : %s).flatten()", m, k, v, v, pairs(v, name, d+1), leaf)
	}
	return pairs(x, "", 1) + ".transformMapEntry(i, p, {p[0]: p[1]})"
}

func flatten(s *smt) ([]*block, bool) {
	delim, ok := s.get("delimiter")
	if !ok {
		delim = "."
	}
	b := s.newBlock("", s.tombstone())
	b.comments = append(b.comments, fmt.Sprintf("Maps nested deeper than %d levels stay maps under their flattened name.", flattenDepth))
	b.set("set", object([]string{s.root}, map[string]string{s.root: quote(fmt.Sprintf("type(%[1]s) == map ? %[2]s : %[1]s", s.root, flattenExpr(s.root, delim)))}))
	return []*block{b}, true
}

func setSchemaMetadata(s *smt) ([]*block, bool) {
	s.cv.warn(s.key("type"), "Transform not supported", "SetSchemaMetadata (transform %s) renames the record's Connect schema; pipectl's schemas come from schema blocks and converters, so it is left out.", s.alias)
	return nil, false
}

// javaReplacement turns a java.util.regex replacement ($1, \$) into RE2's
// as cel-go's regex.replace reads it (\1).
func javaReplacement(r string) (string, bool) {
	var sb strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '\\' {
				sb.WriteString(`\\`)
			} else {
				sb.WriteByte(r[i])
			}
		case c == '$':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				j++
			}
			if j == i+1 {
				return "", false // ${name} or a lone $
			}
			sb.WriteString(`\` + r[i+1:j])
			i = j - 1
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String(), true
}

func regexRouter(s *smt) ([]*block, bool) {
	re, _ := s.get("regex")
	repl, _ := s.get("replacement")
	if _, err := regexp.Compile(re); err != nil || re == "" {
		s.cv.warn(s.key("regex"), "Regular expression not RE2", "The regex %q of the transform %s is not a regular expression RE2 accepts.", re, s.alias)
		return nil, false
	}
	r, ok := javaReplacement(repl)
	if !ok {
		s.cv.warn(s.key("replacement"), "Replacement not supported", "The replacement %q of the transform %s uses named groups or a lone $.", repl, s.alias)
		return nil, false
	}
	b := s.newBlock("", "")
	// Connect renames only a topic the regex matches as a whole.
	b.set("topic", quote(fmt.Sprintf("regex.replace(topic, %s, %s)", celString("^(?:"+re+")$"), celString(r))))
	return []*block{b}, true
}

// dateFormat turns a java.text.SimpleDateFormat pattern into a CEL string
// expression over the timestamp expression ts, in UTC.
func dateFormat(pattern, ts string) (string, bool) {
	var parts []string
	lit := ""
	flush := func() {
		if lit != "" {
			parts = append(parts, celString(lit))
			lit = ""
		}
	}
	pad := func(e string, n int) string {
		if n <= 1 {
			return "string(" + e + ")"
		}
		zeros := strings.Repeat("0", n)
		return fmt.Sprintf("(%s + string(%s)).substring(size(string(%s)))", celString(zeros), e, e)
	}
	for i := 0; i < len(pattern); {
		c := pattern[i]
		j := i
		for j < len(pattern) && pattern[j] == c {
			j++
		}
		n := j - i
		switch {
		case c == '\'':
			if n == 2 {
				lit += "'"
				i += 2
				continue
			}
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				return "", false
			}
			lit += pattern[i+1 : i+1+end]
			i += end + 2
			continue
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			flush()
			var e string
			switch c {
			case 'y':
				if n == 2 {
					e = pad(ts+".getFullYear() % 100", 2)
				} else {
					e = pad(ts+".getFullYear()", n)
				}
			case 'M':
				if n > 2 {
					return "", false // month names
				}
				e = pad(ts+".getMonth() + 1", n)
			case 'd':
				e = pad(ts+".getDate()", n)
			case 'H':
				e = pad(ts+".getHours()", n)
			case 'm':
				e = pad(ts+".getMinutes()", n)
			case 's':
				e = pad(ts+".getSeconds()", n)
			case 'S':
				e = pad(ts+".getMilliseconds()", n)
			case 'D':
				e = pad(ts+".getDayOfYear() + 1", n)
			default:
				return "", false
			}
			parts = append(parts, e)
		default:
			lit += pattern[i:j]
		}
		i = j
	}
	flush()
	if len(parts) == 0 {
		return "''", true
	}
	return strings.Join(parts, " + "), true
}

func timestampRouter(s *smt) ([]*block, bool) {
	topicFormat, ok := s.get("topic.format")
	if !ok {
		topicFormat = "${topic}-${timestamp}"
	}
	tsFormat, ok := s.get("timestamp.format")
	if !ok {
		tsFormat = "yyyyMMdd"
	}
	ts, good := dateFormat(tsFormat, "timestamp")
	if !good {
		s.cv.warn(s.key("timestamp.format"), "Date format not supported", "The timestamp.format %q of the transform %s uses letters other than y, M, d, D, H, m, s and S.", tsFormat, s.alias)
		return nil, false
	}
	var parts []string
	rest := topicFormat
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			parts = append(parts, celString(rest))
			break
		}
		if i > 0 {
			parts = append(parts, celString(rest[:i]))
		}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, "${topic}"):
			parts = append(parts, "topic")
			rest = rest[len("${topic}"):]
		case strings.HasPrefix(rest, "${timestamp}"):
			parts = append(parts, "("+ts+")")
			rest = rest[len("${timestamp}"):]
		default:
			parts = append(parts, celString(rest[:2]))
			rest = rest[2:]
		}
	}
	b := s.newBlock("", "")
	b.set("topic", quote(strings.Join(parts, " + ")))
	return []*block{b}, true
}

// isoFormats are SimpleDateFormat patterns whose text CEL's timestamp()
// reads (RFC 3339).
var isoFormats = map[string]bool{
	"yyyy-MM-dd'T'HH:mm:ss'Z'": true, "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'": true,
	"yyyy-MM-dd'T'HH:mm:ssXXX": true, "yyyy-MM-dd'T'HH:mm:ss.SSSXXX": true,
}

func timestampConverter(s *smt) ([]*block, bool) {
	target, _ := s.get("target.type")
	f, _ := s.get("field")
	format, hasFormat := s.get("format")
	precision, ok := s.get("unix.precision")
	if !ok {
		precision = "milliseconds"
	}
	per := map[string]int64{"seconds": 1, "milliseconds": 1000, "microseconds": 1000000, "nanoseconds": 1000000000}[precision]
	if per == 0 {
		s.cv.warn(s.key("unix.precision"), "Invalid setting", "unix.precision %q is not seconds, milliseconds, microseconds or nanoseconds.", precision)
		return nil, false
	}
	x := s.root
	dest := s.root
	if f != "" {
		p, ok := s.path(f)
		if !ok {
			return nil, false
		}
		x, dest = celField(s.root, f), p
	}
	// The input as a timestamp: a number is Unix time at unix.precision;
	// a string is RFC 3339 (the formats of isoFormats).
	unitDur := map[int64]string{1: "s", 1000: "ms", 1000000: "us", 1000000000: "ns"}[per]
	asTS := fmt.Sprintf("(type(%[1]s) == google.protobuf.Timestamp ? %[1]s : type(%[1]s) == string ? timestamp(%[1]s) : timestamp(int(%[1]s) / %[2]d) + duration(string(int(%[1]s) %% %[2]d) + '%[3]s'))", x, per, unitDur)
	if hasFormat && !isoFormats[format] && target != "string" {
		s.cv.warn(s.key("format"), "Date format not supported", "The transform %s reads strings in the format %q; pipectl reads RFC 3339 strings only (yyyy-MM-dd'T'HH:mm:ss[.SSS]'Z').", s.alias, format)
		return nil, false
	}
	var out string
	switch target {
	case "unix":
		switch per {
		case 1:
			out = fmt.Sprintf("int(%s)", asTS)
		case 1000:
			out = fmt.Sprintf("int(%[1]s) * 1000 + %[1]s.getMilliseconds()", asTS)
		default:
			out = fmt.Sprintf("int(%[1]s) * %[2]d + %[1]s.getMilliseconds() * %[3]d", asTS, per, per/1000)
		}
	case "string":
		if !hasFormat {
			s.cv.warn(s.key("format"), "Missing setting", "TimestampConverter to string needs format.")
			return nil, false
		}
		e, good := dateFormat(format, asTS)
		if !good {
			s.cv.warn(s.key("format"), "Date format not supported", "The format %q of the transform %s uses letters other than y, M, d, D, H, m, s and S.", format, s.alias)
			return nil, false
		}
		out = e
	case "Timestamp":
		out = asTS
	default:
		s.cv.warn(s.key("target.type"), "Target type not supported", "TimestampConverter to %q is not mapped: pipectl has timestamps (Timestamp), Unix time (unix) and strings, not separate Date and Time types.", target)
		return nil, false
	}
	b := s.newBlock("", "")
	guard := x + " == null"
	if f != "" {
		guard = "!(" + presence(s.root, f) + ")"
	}
	if s.unless == "" {
		b.set("unless", quote(guard))
	} else if s.when == "" {
		b.set("when", quote("!("+guard+")"))
	}
	b.set("set", object([]string{dest}, map[string]string{dest: quote(out)}))
	return []*block{b}, true
}

func filterSMT(s *smt) ([]*block, bool) {
	if s.root == "key" || strings.Contains(s.class, "$") {
		return nil, false
	}
	b := s.newBlock("", "")
	if s.when == "" && s.unless == "" {
		s.cv.warn(s.key("type"), "Filter drops every record", "The transform %s is a Filter without a predicate: Kafka Connect drops every record, and so does the imported transform.", s.alias)
	}
	// Connect's Filter drops the records it applies to (those its
	// predicate selects); a pipectl filter keeps the records where it is
	// true. So: apply the block where Connect would, and keep none.
	b.set("filter", quote("false"), "Kafka Connect's Filter drops the records its predicate matches; pipectl's filter keeps those where it is true.")
	return []*block{b}, true
}

func insertHeader(s *smt) ([]*block, bool) {
	h, _ := s.get("header")
	v, _ := s.get("value.literal")
	if h == "" {
		return nil, false
	}
	b := s.newBlock("", "")
	b.set("headers", object([]string{h}, map[string]string{h: quote(celString(v))}))
	return []*block{b}, true
}

func dropHeaders(s *smt) ([]*block, bool) {
	hs, _ := s.get("headers")
	var paths []string
	for _, h := range splitList(hs) {
		paths = append(paths, "headers."+h)
	}
	if len(paths) == 0 {
		return nil, false
	}
	b := s.newBlock("", "")
	b.set("drop", list(paths))
	return []*block{b}, true
}

func headerFrom(s *smt) ([]*block, bool) {
	fs, _ := s.get("fields")
	hs, _ := s.get("headers")
	op, ok := s.get("operation")
	if !ok {
		op = "copy"
	}
	fields, headers := splitList(fs), splitList(hs)
	if len(fields) == 0 || len(fields) != len(headers) || (op != "copy" && op != "move") {
		s.cv.warn(s.key("fields"), "Invalid setting", "HeaderFrom %s needs as many fields as headers and operation copy or move.", s.alias)
		return nil, false
	}
	var keys, drops []string
	vals := map[string]string{}
	for i, f := range fields {
		x := celOptField(s.root, f)
		keys = append(keys, headers[i])
		vals[headers[i]] = quote(fmt.Sprintf("type(%[1]s) == string ? %[1]s : json.encode(%[1]s)", x))
		if op == "move" {
			p, ok := s.path(f)
			if !ok {
				return nil, false
			}
			drops = append(drops, p)
		}
	}
	b := s.newBlock("", s.tombstone())
	b.set("headers", object(keys, vals))
	blocks := []*block{b}
	if len(drops) > 0 {
		// headers run after drop inside one block: move drops in a
		// second block.
		d := s.newBlock("_move", s.tombstone())
		d.set("drop", list(drops))
		blocks = append(blocks, d)
	}
	return blocks, true
}
