package schemaregistry

import "strings"

// Compatibility is a compatibility level, as Confluent names it.
type Compatibility string

// The compatibility levels. BACKWARD: the new schema reads data written
// with the latest; FORWARD: the latest reads data written with the new;
// FULL: both; _TRANSITIVE: against every live version, not only the
// latest; NONE: no check.
const (
	Backward           Compatibility = "BACKWARD"
	BackwardTransitive Compatibility = "BACKWARD_TRANSITIVE"
	Forward            Compatibility = "FORWARD"
	ForwardTransitive  Compatibility = "FORWARD_TRANSITIVE"
	Full               Compatibility = "FULL"
	FullTransitive     Compatibility = "FULL_TRANSITIVE"
	None               Compatibility = "NONE"
)

// ParseCompatibility reads a level, in any case.
func ParseCompatibility(s string) (Compatibility, bool) {
	c := Compatibility(strings.ToUpper(strings.TrimSpace(s)))
	switch c {
	case Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None:
		return c, true
	}
	return "", false
}

func (c Compatibility) backward() bool {
	return c == Backward || c == BackwardTransitive || c == Full || c == FullTransitive
}

func (c Compatibility) forward() bool {
	return c == Forward || c == ForwardTransitive || c == Full || c == FullTransitive
}

func (c Compatibility) transitive() bool {
	return c == BackwardTransitive || c == ForwardTransitive || c == FullTransitive
}

// Mode is a registry mode. READWRITE takes registrations; READONLY and
// READONLY_OVERRIDE refuse them (42205). Confluent's IMPORT mode (which
// registers with given ids) is not supported.
type Mode string

// The modes.
const (
	ReadWrite        Mode = "READWRITE"
	ReadOnly         Mode = "READONLY"
	ReadOnlyOverride Mode = "READONLY_OVERRIDE"
)

// ParseMode reads a mode, in any case.
func ParseMode(s string) (Mode, bool) {
	m := Mode(strings.ToUpper(strings.TrimSpace(s)))
	switch m {
	case ReadWrite, ReadOnly, ReadOnlyOverride:
		return m, true
	}
	return "", false
}
