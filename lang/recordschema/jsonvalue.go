package recordschema

// JSONForm returns the JSON form of v, a value of s (the form defaults have
// in the schema's JSON, json.go), as a value encoding/json writes: bytes in
// base64, dates, times and timestamps as text, decimals as their text.
// Converters whose wire format is JSON (json_schema) write values so.
func (s *Schema) JSONForm(v any) (any, error) {
	out, err := s.valueJSON("", v, 0)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FromJSONForm reads a value of s from its JSON form as encoding/json
// decodes it with UseNumber, the reverse of JSONForm; the error is an
// *Error saying where the value does not fit.
func (s *Schema) FromJSONForm(j any) (any, error) {
	v, err := s.valueFromJSON("", j, 0)
	if err != nil {
		return nil, err
	}
	return v, nil
}
