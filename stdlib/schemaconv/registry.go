package schemaconv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/pipectl/pipectl/runtime/connector"
)

// remote is a Schema Registry reached over Confluent's REST API with
// franz-go's sr client.
type remote struct {
	cl *sr.Client
}

// newRemote builds the client of a registry block. Its errors never
// quote the password or token.
func newRemote(cfg *RegistryConfig) (*remote, error) {
	opts := []sr.ClientOpt{sr.URLs(cfg.URL), sr.UserAgent("pipectl")}
	if cfg.Username != "" || cfg.Password != "" {
		opts = append(opts, sr.BasicAuth(cfg.Username, cfg.Password))
	}
	if cfg.BearerToken != "" {
		opts = append(opts, sr.BearerToken(cfg.BearerToken))
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("registry ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("registry ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, sr.HTTPClient(&http.Client{Transport: tr}))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return &remote{cl: cl}, nil
}

func toSR(s connector.RegistrySchema) sr.Schema {
	out := sr.Schema{Schema: s.Schema}
	switch s.Type {
	case connector.RegistryProtobuf:
		out.Type = sr.TypeProtobuf
	case connector.RegistryJSONSchema:
		out.Type = sr.TypeJSON
	}
	for _, r := range s.References {
		out.References = append(out.References, sr.SchemaReference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	return out
}

func fromSR(s sr.Schema) connector.RegistrySchema {
	out := connector.RegistrySchema{Schema: s.Schema, Type: connector.RegistryAvro}
	switch s.Type {
	case sr.TypeProtobuf:
		out.Type = connector.RegistryProtobuf
	case sr.TypeJSON:
		out.Type = connector.RegistryJSONSchema
	}
	for _, r := range s.References {
		out.References = append(out.References, connector.SchemaReference{Name: r.Name, Subject: r.Subject, Version: r.Version})
	}
	return out
}

func fromSubject(s sr.SubjectSchema) connector.SubjectSchema {
	return connector.SubjectSchema{Subject: s.Subject, Version: s.Version, ID: s.ID, RegistrySchema: fromSR(s.Schema)}
}

// srError maps the registry's error codes to the SDK's errors.
func srError(err error) error {
	var re *sr.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	switch {
	case re.ErrorCode == 40401 || re.ErrorCode == 40402 || re.ErrorCode == 40403 || re.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s", connector.ErrSchemaNotFound, re.Message)
	case re.StatusCode == http.StatusConflict:
		return fmt.Errorf("%w: %s", connector.ErrIncompatibleSchema, re.Message)
	case re.ErrorCode == 42201:
		return fmt.Errorf("%w: %s", connector.ErrInvalidSchema, re.Message)
	}
	return fmt.Errorf("schema registry: %s (HTTP %d, code %d)", re.Message, re.StatusCode, re.ErrorCode)
}

func (r *remote) Register(ctx context.Context, subject string, s connector.RegistrySchema) (connector.SubjectSchema, error) {
	out, err := r.cl.CreateSchema(ctx, subject, toSR(s))
	if err != nil {
		return connector.SubjectSchema{}, srError(err)
	}
	return fromSubject(out), nil
}

func (r *remote) Lookup(ctx context.Context, subject string, s connector.RegistrySchema) (connector.SubjectSchema, error) {
	out, err := r.cl.LookupSchema(ctx, subject, toSR(s))
	if err != nil {
		return connector.SubjectSchema{}, srError(err)
	}
	return fromSubject(out), nil
}

func (r *remote) SchemaByID(ctx context.Context, id int) (connector.RegistrySchema, error) {
	out, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		return connector.RegistrySchema{}, srError(err)
	}
	return fromSR(out), nil
}

func (r *remote) Latest(ctx context.Context, subject string) (connector.SubjectSchema, error) {
	out, err := r.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		return connector.SubjectSchema{}, srError(err)
	}
	return fromSubject(out), nil
}
