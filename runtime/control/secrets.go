package control

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/pipectl/pipectl/lang"
)

// StateKeyEnv names the environment variable that holds the state key: 32
// random bytes in standard base64 (`head -c32 /dev/urandom | base64`).
const StateKeyEnv = "PIPECTL_STATE_KEY"

// ErrNoStateKey means a sensitive value needs encrypting or decrypting but
// no state key is set.
var ErrNoStateKey = errors.New("no state key: set " + StateKeyEnv + " to 32 random bytes in base64 (head -c32 /dev/urandom | base64) on every machine that applies or runs the fleet")

// Keys encrypts and decrypts the sensitive values kept in state.
type Keys struct {
	aead   cipher.AEAD
	macKey []byte
}

// KeysFromEnv reads the state key from PIPECTL_STATE_KEY; it returns nil
// keys without error when the variable is unset.
func KeysFromEnv(lookupEnv func(string) (string, bool)) (*Keys, error) {
	s, ok := lookupEnv(StateKeyEnv)
	if !ok || strings.TrimSpace(s) == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%s must be 32 bytes in standard base64 (head -c32 /dev/urandom | base64)", StateKeyEnv)
	}
	return NewKeys(raw)
}

// NewKeys builds Keys from a 32-byte key.
func NewKeys(key []byte) (*Keys, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("a state key has 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("pipectl state hmac v1"))
	return &Keys{aead: aead, macKey: mac.Sum(nil)}, nil
}

// Secret is a sensitive value as state keeps it: a reference the worker
// resolves (env:NAME, file:PATH), or the value encrypted with AES-256-GCM
// bound to its attribute, with an HMAC to compare values without the key.
// It marshals as {"$secret": {...}} so that it stands out in state.
type Secret struct {
	Ref        string `json:"ref,omitempty"`
	Ciphertext string `json:"ciphertext,omitempty"`
	HMAC       string `json:"hmac,omitempty"`
}

type secretJSON struct {
	Secret *secretFields `json:"$secret"`
}

type secretFields Secret

// MarshalJSON wraps the secret in {"$secret": ...}.
func (s *Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(secretJSON{Secret: (*secretFields)(s)})
}

// SecretOf recognizes a secret in a value decoded from JSON.
func SecretOf(v any) (*Secret, bool) {
	switch v := v.(type) {
	case *Secret:
		return v, true
	case map[string]any:
		inner, ok := v["$secret"].(map[string]any)
		if !ok || len(v) != 1 {
			return nil, false
		}
		s := &Secret{}
		s.Ref, _ = inner["ref"].(string)
		s.Ciphertext, _ = inner["ciphertext"].(string)
		s.HMAC, _ = inner["hmac"].(string)
		return s, true
	}
	return nil, false
}

// Seal turns a sensitive value into its stored form. where names the
// attribute ("source.kafka.in.sasl_password") and binds the ciphertext to
// it. Encryption is deterministic (the nonce is derived from the value),
// so that the same value gives the same state and plans show no change.
func (k *Keys) Seal(where string, s lang.Secret) (*Secret, error) {
	if s.Ref != "" {
		return &Secret{Ref: s.Ref}, nil
	}
	if k == nil {
		return nil, fmt.Errorf("%s is sensitive and not an env() or file() reference, so state must keep it encrypted: %w", where, ErrNoStateKey)
	}
	plain, err := json.Marshal(s.Value)
	if err != nil {
		return nil, fmt.Errorf("%s: sensitive value does not encode", where)
	}
	sum := k.mac(where, plain)
	nonce := sum[:k.aead.NonceSize()]
	sealed := k.aead.Seal(append([]byte(nil), nonce...), nonce, plain, []byte(where))
	return &Secret{Ciphertext: base64.StdEncoding.EncodeToString(sealed), HMAC: hex.EncodeToString(sum)}, nil
}

func (k *Keys) mac(where string, plain []byte) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte(where))
	m.Write([]byte{0})
	m.Write(plain)
	return m.Sum(nil)
}

// Open resolves a stored secret to its clear value: a reference through the
// environment or the file system of this machine, a ciphertext with the
// keys. Errors name the attribute, never the value.
func (k *Keys) Open(where string, s *Secret, lookupEnv func(string) (string, bool)) (any, error) {
	switch {
	case strings.HasPrefix(s.Ref, "env:"):
		name := strings.TrimPrefix(s.Ref, "env:")
		v, ok := lookupEnv(name)
		if !ok {
			return nil, fmt.Errorf("%s refers to the environment variable %s, which is not set on this worker", where, name)
		}
		return v, nil
	case strings.HasPrefix(s.Ref, "file:"):
		path := strings.TrimPrefix(s.Ref, "file:")
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s refers to the file %s, which cannot be read on this worker: %v", where, path, unwrapPath(err))
		}
		return string(b), nil
	case s.Ref != "":
		return nil, fmt.Errorf("%s has an unknown secret reference kind", where)
	}
	if k == nil {
		return nil, fmt.Errorf("%s is encrypted in state: %w", where, ErrNoStateKey)
	}
	raw, err := base64.StdEncoding.DecodeString(s.Ciphertext)
	n := k.aead.NonceSize()
	if err != nil || len(raw) < n {
		return nil, fmt.Errorf("%s: the stored secret is malformed", where)
	}
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(where))
	if err != nil {
		return nil, fmt.Errorf("%s cannot be decrypted: the state key differs from the one that applied it", where)
	}
	var v any
	if err := json.Unmarshal(plain, &v); err != nil {
		return nil, fmt.Errorf("%s: the decrypted secret is malformed", where)
	}
	return v, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
