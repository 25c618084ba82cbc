package converters

import "strconv"

// JSONWriter appends JSON text value by value: it is the lang/expr Emitter
// with which a source writes the result of an expression (Program.EvalTo)
// straight to the bytes the json converter would make of it, without
// building maps and lists first. Given map entries in ascending key order,
// as EvalTo gives them, it writes exactly what AppendJSON writes for the
// same value.
type JSONWriter struct {
	// B is the text written so far; the writer appends to it.
	B     []byte
	comma bool // a value was written at this level: the next needs a comma
	err   error
}

// Reset makes the writer append a new value to b, forgetting any error.
func (w *JSONWriter) Reset(b []byte) {
	w.B, w.comma, w.err = b, false, nil
}

// Err returns the first value that could not be written (NaN or an
// infinity, as AppendJSON); the text written since is not valid JSON.
func (w *JSONWriter) Err() error { return w.err }

func (w *JSONWriter) sep() {
	if w.comma {
		w.B = append(w.B, ',')
	}
}

// BeginMap starts an object.
func (w *JSONWriter) BeginMap() {
	w.sep()
	w.B, w.comma = append(w.B, '{'), false
}

// Key writes the key of the object's next entry.
func (w *JSONWriter) Key(k string) {
	w.sep()
	w.B = append(appendString(w.B, k), ':')
	w.comma = false
}

// EndMap ends an object.
func (w *JSONWriter) EndMap() { w.B, w.comma = append(w.B, '}'), true }

// BeginList starts an array.
func (w *JSONWriter) BeginList() {
	w.sep()
	w.B, w.comma = append(w.B, '['), false
}

// EndList ends an array.
func (w *JSONWriter) EndList() { w.B, w.comma = append(w.B, ']'), true }

// Null writes null.
func (w *JSONWriter) Null() {
	w.sep()
	w.B, w.comma = append(w.B, "null"...), true
}

// Bool writes true or false.
func (w *JSONWriter) Bool(b bool) {
	w.sep()
	w.B, w.comma = strconv.AppendBool(w.B, b), true
}

// Int writes an integer.
func (w *JSONWriter) Int(i int64) {
	w.sep()
	w.B, w.comma = strconv.AppendInt(w.B, i, 10), true
}

// Double writes a float as AppendJSON does (always with a fraction or an
// exponent); NaN and infinities set Err.
func (w *JSONWriter) Double(f float64) {
	w.sep()
	b, err := appendFloat(w.B, f)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.B, w.comma = b, true
}

// String writes a string as AppendJSON does.
func (w *JSONWriter) String(s string) {
	w.sep()
	w.B, w.comma = appendString(w.B, s), true
}
