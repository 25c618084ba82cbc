package schemaregistry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bufbuild/protocompile"
	"github.com/hamba/avro/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pipectl/pipectl/runtime/connector"
)

// maxRefDepth bounds how deep references may nest.
const maxRefDepth = 32

// normType is t with "" read as AVRO; ok is false for an unknown type.
func normType(t connector.RegistryType) (connector.RegistryType, bool) {
	switch strings.ToUpper(string(t)) {
	case "", string(connector.RegistryAvro):
		return connector.RegistryAvro, true
	case string(connector.RegistryProtobuf):
		return connector.RegistryProtobuf, true
	case string(connector.RegistryJSONSchema):
		return connector.RegistryJSONSchema, true
	}
	return t, false
}

// fingerprint identifies a schema for "is it already registered": its
// type, its text (JSON compacted, so that whitespace does not count) and
// its references. Writers compute it and store it in their claims, so the
// state machine never computes it and a later change here cannot change
// what an old log means.
func fingerprint(s connector.RegistrySchema) string {
	t, _ := normType(s.Type)
	text := strings.TrimSpace(s.Schema)
	if t != connector.RegistryProtobuf {
		var b bytes.Buffer
		if json.Compact(&b, []byte(text)) == nil {
			text = b.String()
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%s", t, len(text), text)
	for _, r := range s.References {
		fmt.Fprintf(h, "\x00%d\x00%s\x00%d\x00%s\x00%d", len(r.Name), r.Name, len(r.Subject), r.Subject, r.Version)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// named is a schema with the name it is referred to by.
type named struct {
	name   string
	schema connector.RegistrySchema
}

// parsed is a schema that compiled, in its language's model.
type parsed struct {
	typ   connector.RegistryType
	avro  avro.Schema
	proto protoreflect.FileDescriptor
	json  any // the decoded JSON Schema document
}

// parse compiles s with its references (deps, in dependency order: each
// before the schemas that refer to it). Any failure is an *Error with code
// 42201.
func parse(s connector.RegistrySchema, deps []named) (p *parsed, err error) {
	defer func() {
		// The schema libraries are not known to panic, but a user's
		// schema must never crash a worker.
		if v := recover(); v != nil {
			p, err = nil, invalidSchema("Invalid schema: the parser failed: %v", v)
		}
	}()
	t, ok := normType(s.Type)
	if !ok {
		return nil, invalidSchema("Invalid schema type %q: the types are AVRO, PROTOBUF and JSON.", s.Type)
	}
	if strings.TrimSpace(s.Schema) == "" {
		return nil, invalidSchema("Invalid schema: it is empty.")
	}
	switch t {
	case connector.RegistryAvro:
		cache := &avro.SchemaCache{}
		for _, d := range deps {
			if _, err := avro.ParseWithCache(d.schema.Schema, "", cache); err != nil {
				return nil, invalidSchema("Invalid schema: its reference %q does not parse: %v", d.name, err)
			}
		}
		a, err := avro.ParseWithCache(s.Schema, "", cache)
		if err != nil {
			return nil, invalidSchema("Invalid Avro schema: %v", err)
		}
		return &parsed{typ: t, avro: a}, nil
	case connector.RegistryProtobuf:
		files := map[string]string{"input.proto": s.Schema}
		for _, d := range deps {
			files[d.name] = d.schema.Schema
		}
		c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{Accessor: protocompile.SourceAccessorFromMap(files)})}
		out, err := c.Compile(context.Background(), "input.proto")
		if err != nil {
			return nil, invalidSchema("Invalid Protobuf schema: %v", err)
		}
		return &parsed{typ: t, proto: out[0]}, nil
	default:
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(s.Schema))
		if err != nil {
			return nil, invalidSchema("Invalid JSON schema: %v", err)
		}
		c := jsonschema.NewCompiler()
		c.UseLoader(noLoader{})
		const root = "mem:///schema.json"
		if err := c.AddResource(root, doc); err != nil {
			return nil, invalidSchema("Invalid JSON schema: %v", err)
		}
		for _, d := range deps {
			rdoc, err := jsonschema.UnmarshalJSON(strings.NewReader(d.schema.Schema))
			if err == nil {
				err = c.AddResource(refURL(d.name), rdoc)
			}
			if err != nil {
				return nil, invalidSchema("Invalid JSON schema: its reference %q: %v", d.name, err)
			}
		}
		if _, err := c.Compile(root); err != nil {
			return nil, invalidSchema("Invalid JSON schema: %v", err)
		}
		var plain any // float64 numbers, for the compatibility rules
		if err := json.Unmarshal([]byte(s.Schema), &plain); err != nil {
			return nil, invalidSchema("Invalid JSON schema: %v", err)
		}
		return &parsed{typ: t, json: plain}, nil
	}
}

// refURL is where a JSON Schema reference named name is found: name
// itself when it is an absolute URL, else beside the schema.
func refURL(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	return "mem:///" + strings.TrimPrefix(name, "/")
}

// noLoader refuses every URL a JSON Schema refers to that is not one of
// its references: a registry never reads files or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not one of the schema's references", url)
}

// decodeStrict decodes JSON into v, refusing trailing data.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
