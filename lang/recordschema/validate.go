package recordschema

// Validate reports the first problem of s as an *Error whose Path says
// where: an unknown type or logical type, a logical type on another
// physical type, a decimal whose scale is negative or exceeds its
// precision or MaxDecimalDigits, precision or scale on a non-decimal, an array without Items,
// a map without Keys or Values or with keys that are not strings, integers
// or booleans, a struct field without a name, two fields of one name, a
// field without a schema, an attribute of another type (Items on a
// struct), a negative version, or a default that is not a value of the
// schema.
func (s *Schema) Validate() error {
	if err := s.validate("", 0); err != nil {
		return err
	}
	return nil
}

func (s *Schema) validate(path string, depth int) *Error {
	if s == nil {
		return errorf(path, "no schema")
	}
	if depth > maxDepth {
		return errorf(path, "nested more than %d levels deep", maxDepth)
	}
	if !s.Type.Known() {
		if s.Type == "" {
			return errorf(path, "the schema has no type")
		}
		return errorf(path, "unknown type %q; the types are boolean, int8, int16, int32, int64, float32, float64, string, bytes, array, map and struct", s.Type)
	}
	if s.Logical != "" {
		phys := s.Logical.Physical()
		if phys == "" {
			return errorf(path, "unknown logical type %q; the logical types are decimal, date, time-millis, time-micros, timestamp-millis, timestamp-micros, uuid and json", s.Logical)
		}
		if s.Type != phys {
			return errorf(path, "the logical type %s is carried by %s, not %s", s.Logical, phys, s.Type)
		}
	}
	if s.Logical == Decimal {
		switch {
		case s.Scale < 0:
			return errorf(path, "the decimal scale %d is negative", s.Scale)
		case s.Precision < 0:
			return errorf(path, "the decimal precision %d is negative", s.Precision)
		case s.Precision > 0 && s.Scale > s.Precision:
			return errorf(path, "the decimal scale %d exceeds its precision %d", s.Scale, s.Precision)
		case s.Precision > MaxDecimalDigits || s.Scale > MaxDecimalDigits:
			return errorf(path, "a decimal has at most %d digits, and this one's precision is %d and scale %d", MaxDecimalDigits, s.Precision, s.Scale)
		}
	} else if s.Precision != 0 || s.Scale != 0 {
		return errorf(path, "precision and scale belong to decimals, and this is %s", s.Type)
	}
	if s.Version < 0 {
		return errorf(path, "the version %d is negative", s.Version)
	}
	if s.Type != Array && s.Items != nil {
		return errorf(path, "items belong to arrays, and this is %s", s.Type)
	}
	if s.Type != Map && (s.Keys != nil || s.Values != nil) {
		return errorf(path, "keys and values belong to maps, and this is %s", s.Type)
	}
	if s.Type != Struct && s.Fields != nil {
		return errorf(path, "fields belong to structs, and this is %s", s.Type)
	}
	switch s.Type {
	case Array:
		if s.Items == nil {
			return errorf(path, "an array needs the schema of its items")
		}
		if err := s.Items.validate(path+"[]", depth+1); err != nil {
			return err
		}
	case Map:
		if s.Keys == nil || s.Values == nil {
			return errorf(path, "a map needs the schemas of its keys and values")
		}
		if err := s.Keys.validate(path+"{key}", depth+1); err != nil {
			return err
		}
		switch {
		case s.Keys.Type == String && (s.Keys.Logical == "" || s.Keys.Logical == UUID),
			s.Keys.Type == Boolean, s.Keys.Type.Integer() && s.Keys.Logical == "":
		default:
			return errorf(path+"{key}", "map keys are strings, integers or booleans, not %s", s.Keys)
		}
		if err := s.Values.validate(path+"{}", depth+1); err != nil {
			return err
		}
	case Struct:
		seen := make(map[string]bool, len(s.Fields))
		for i, f := range s.Fields {
			if f.Name == "" {
				return errorf(path, "field %d has no name", i+1)
			}
			at := fieldPath(path, f.Name)
			if seen[f.Name] {
				return errorf(at, "the struct has two fields named %q", f.Name)
			}
			seen[f.Name] = true
			if f.Schema == nil {
				return errorf(at, "the field has no schema")
			}
			if err := f.Schema.validate(at, depth+1); err != nil {
				return err
			}
		}
	}
	if s.Default != nil {
		if err := s.check("", s.Default, depth); err != nil {
			return errorf(path, "the default does not fit the schema: %v", err)
		}
	}
	return nil
}
