package engine

import (
	"encoding/json"
	"unsafe"

	"github.com/pipectl/pipectl/runtime/connector"
)

// boxes builds the keys (or the values) of one fetched batch that a
// connector.WireChecker checked: each is the record's bytes as the type
// Check would return, an interface value like Check's result. Boxing a
// slice or a string into an interface allocates its header on the heap,
// once for every key and value; boxes allocates room for the headers of
// the whole batch at once and points the interfaces there instead. The
// room is never reused: a sink may keep the values.
//
// A value a sink keeps keeps the batch's slots alive, as its bytes keep
// the fetched batch they were decompressed into.
type boxes struct {
	n     int      // the batch's size: how many headers to make room for
	size  int      // the sum of the batch's lengths: room for the strings
	bytes [][]byte // headers of []byte and json.RawMessage values
	strs  []string // headers of string values
	text  []byte   // the bytes of the strings, copied
}

// newBoxes makes room for n values of size bytes in all, allocated when
// the first value of a type comes.
func newBoxes(n, size int) *boxes { return &boxes{n: n, size: size} }

// The type words of the interfaces boxes builds.
var (
	bytesType  = typeOf([]byte(nil))
	jsonType   = typeOf(json.RawMessage(nil))
	stringType = typeOf("")
)

// eface is the layout of an interface value: its type and a pointer to
// its value (for a slice or a string, to the header).
type eface struct {
	typ, data unsafe.Pointer
}

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// box returns b (not nil) as type t in an interface: the same value as
// t.Of(b). ok is false for a WireType it does not know.
func (bx *boxes) box(t connector.WireType, b []byte) (v any, ok bool) {
	e := (*eface)(unsafe.Pointer(&v))
	switch t {
	case connector.WireAsString:
		if bx.strs == nil {
			bx.strs, bx.text = make([]string, 0, bx.n), make([]byte, 0, bx.size)
		}
		// A copy, as Check makes: the string must not change with b.
		start := len(bx.text)
		bx.text = append(bx.text, b...)
		bx.strs = append(bx.strs, unsafe.String(unsafe.SliceData(bx.text[start:]), len(b)))
		e.typ, e.data = stringType, unsafe.Pointer(&bx.strs[len(bx.strs)-1])
	case connector.WireAsJSON, connector.WireAsBytes:
		if bx.bytes == nil {
			bx.bytes = make([][]byte, 0, bx.n)
		}
		bx.bytes = append(bx.bytes, b)
		e.typ, e.data = bytesType, unsafe.Pointer(&bx.bytes[len(bx.bytes)-1])
		if t == connector.WireAsJSON {
			e.typ = jsonType
		}
	default:
		return nil, false
	}
	return v, true
}
