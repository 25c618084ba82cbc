package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pipectl/pipectl/planner/plan"
	"github.com/pipectl/pipectl/runtime/control"
)

// Format names the file format; FormatVersion is its version. Readers
// refuse files of a newer version.
const (
	Format        = "pipectl-plan"
	FormatVersion = 1
)

// File is the content of a plan file.
type File struct {
	// PipectlVersion is the version of pipectl that wrote the file.
	PipectlVersion string
	Created        time.Time
	Kafka          Kafka
	Plan           *plan.Plan
}

// Kafka is how the plan reached the fleet's cluster.
type Kafka struct {
	Brokers []string `json:"brokers"`
	SASL    *SASL    `json:"sasl,omitempty"`
	TLS     *TLS     `json:"tls,omitempty"`
}

// SASL is the SASL login, its password sealed.
type SASL struct {
	Mechanism string          `json:"mechanism"`
	Username  string          `json:"username"`
	Password  *control.Secret `json:"password"`
}

// UnmarshalJSON reads the sealed password back: control.Secret writes
// itself as {"$secret": {...}} and control.SecretOf reads that form.
func (s *SASL) UnmarshalJSON(b []byte) error {
	var raw struct {
		Mechanism string `json:"mechanism"`
		Username  string `json:"username"`
		Password  any    `json:"password"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	pw, ok := control.SecretOf(raw.Password)
	if !ok {
		return errors.New("the SASL password of the plan file is not a sealed secret")
	}
	*s = SASL{Mechanism: raw.Mechanism, Username: raw.Username, Password: pw}
	return nil
}

// TLS is the TLS settings (file names, not their contents).
type TLS struct {
	CAFile             string `json:"ca_file,omitempty"`
	CertFile           string `json:"cert_file,omitempty"`
	KeyFile            string `json:"key_file,omitempty"`
	ServerName         string `json:"server_name,omitempty"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
}

// document is the file as written, without its checksum.
type document struct {
	Format         string     `json:"format"`
	FormatVersion  int        `json:"format_version"`
	PipectlVersion string     `json:"pipectl_version"`
	Created        time.Time  `json:"created"`
	Kafka          Kafka      `json:"kafka"`
	Plan           *plan.Plan `json:"plan"`
}

// rawDocument is document with its members kept as they were written.
type rawDocument struct {
	Format         json.RawMessage `json:"format"`
	FormatVersion  json.RawMessage `json:"format_version"`
	PipectlVersion json.RawMessage `json:"pipectl_version"`
	Created        json.RawMessage `json:"created"`
	Kafka          json.RawMessage `json:"kafka"`
	Plan           json.RawMessage `json:"plan"`
}

// header is what is read first, to check the format before the rest.
type header struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	Checksum      string `json:"checksum"`
}

// ErrNotPlanFile means the file is not a pipectl plan file.
var ErrNotPlanFile = errors.New("not a pipectl plan file")

// Marshal encodes f.
func Marshal(f *File) ([]byte, error) {
	if f.Plan == nil {
		return nil, errors.New("planfile: no plan")
	}
	doc := document{Format: Format, FormatVersion: FormatVersion, PipectlVersion: f.PipectlVersion,
		Created: f.Created.UTC(), Kafka: f.Kafka, Plan: f.Plan}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("planfile: %w", err)
	}
	sum := sha256.Sum256(body)
	// The checksum is the last member, over the document without it.
	var buf bytes.Buffer
	buf.Write(body[:len(body)-1])
	fmt.Fprintf(&buf, `,"checksum":"sha256:%s"}`, hex.EncodeToString(sum[:]))
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("planfile: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Unmarshal decodes a plan file, refusing another format, a newer
// version and a damaged file.
func Unmarshal(b []byte) (*File, error) {
	var h header
	if err := json.Unmarshal(b, &h); err != nil || h.Format != Format {
		return nil, ErrNotPlanFile
	}
	if h.FormatVersion > FormatVersion || h.FormatVersion < 1 {
		return nil, fmt.Errorf("the plan file has format version %d, which this pipectl does not read (it reads version %d): plan again with this pipectl", h.FormatVersion, FormatVersion)
	}
	// The checksum covers the document as Marshal encoded it, compact
	// and without the checksum: re-encoding the raw members gives those
	// bytes back whatever the indentation.
	var raw rawDocument
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("the plan file is damaged: %w", err)
	}
	body, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("the plan file is damaged: %w", err)
	}
	sum := sha256.Sum256(body)
	if h.Checksum != "sha256:"+hex.EncodeToString(sum[:]) {
		return nil, errors.New("the plan file was changed after it was written (its checksum does not match): plan again")
	}
	var doc document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("the plan file is damaged: %w", err)
	}
	if doc.Plan == nil {
		return nil, errors.New("the plan file is damaged: it holds no plan")
	}
	return &File{PipectlVersion: doc.PipectlVersion, Created: doc.Created, Kafka: doc.Kafka, Plan: doc.Plan}, nil
}

// Write writes f to path, readable only by its owner.
func Write(path string, f *File) error {
	b, err := Marshal(f)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Read reads the plan file at path.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Unmarshal(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}
