package expr

import (
	"errors"
	"fmt"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"
)

// ErrCostLimit is wrapped by the EvalError of an evaluation that exceeded
// CostLimit.
var ErrCostLimit = errors.New("expression evaluation cost limit exceeded")

// EvalError is an error evaluating a program: a missing key, a wrong type
// in a dyn value, an overflow, the cost limit.
type EvalError struct {
	Message string
	// Offset and End are the byte range in the program's source of the
	// sub-expression that failed, like Issue; -1 when not known.
	Offset, End int

	err error
}

func (e *EvalError) Error() string { return e.Message }

// Unwrap returns the cause: ErrCostLimit, or cel-go's error.
func (e *EvalError) Unwrap() error { return e.err }

// activation lets cel-go read the variables straight from the caller's map,
// without copying it.
type activation map[string]any

func (a activation) ResolveName(name string) (any, bool) {
	v, ok := a[name]
	return v, ok
}

func (a activation) Parent() interpreter.Activation { return nil }

// Eval runs the program with the given variables (Go values:
// map[string]any, []any, string, int64, float64, bool, []byte, nil,
// time.Time, map[string]string) and returns the result as plain Go: map ->
// map[string]any (non-string keys formatted with fmt), list -> []any, int ->
// int64, uint -> uint64, double -> float64, string, bool, bytes -> []byte,
// null -> nil, timestamp -> time.Time, duration -> time.Duration. Errors are
// *EvalError; one wraps ErrCostLimit when the cost limit was exceeded. Eval
// is safe for concurrent use.
func (p *Program) Eval(vars map[string]any) (any, error) {
	out, _, err := p.prg.Eval(activation(vars))
	if err != nil {
		return nil, p.evalError(err)
	}
	if p.checkWant && !hasType(out, p.want) {
		start, end := wholeSpan(p.src)
		return nil, &EvalError{
			Message: fmt.Sprintf("expression must return %s, but it returned %s", p.want, out.Type().TypeName()),
			Offset:  start,
			End:     end,
		}
	}
	v, err := toGo(out)
	if err != nil {
		return nil, &EvalError{Message: err.Error(), Offset: -1, End: -1, err: err}
	}
	return v, nil
}

// hasType reports whether a result is of the wanted type.
func hasType(v ref.Val, want Type) bool {
	switch want {
	case Bool:
		_, ok := v.(types.Bool)
		return ok
	case String:
		_, ok := v.(types.String)
		return ok
	default:
		return true
	}
}

func (p *Program) evalError(err error) *EvalError {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return &EvalError{
			Message: fmt.Sprintf("expression evaluation cost exceeded the limit of %d", CostLimit),
			Offset:  -1,
			End:     -1,
			err:     ErrCostLimit,
		}
	}
	e := &EvalError{Message: err.Error(), Offset: -1, End: -1, err: err}
	var celErr *types.Err
	if errors.As(err, &celErr) && celErr.NodeID() > 0 && p.info != nil {
		if r, ok := p.info.GetOffsetRange(celErr.NodeID()); ok {
			if off := codePointOffset(p.src, int(r.Start)); off >= 0 {
				e.Offset = off
				e.End = nodeEnd(p.src, p.info, celErr.NodeID(), off)
				e.Offset, e.End = refine(p.src, e.Offset, e.End, e.Message)
			}
		}
	}
	return e
}

// toGo converts a CEL value to plain Go.
func toGo(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		return float64(v), nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return []byte(v), nil
	case types.Null:
		return nil, nil
	case types.Timestamp:
		return v.Time, nil
	case types.Duration:
		return v.Duration, nil
	case *types.Optional:
		if !v.HasValue() {
			return nil, nil
		}
		return toGo(v.GetValue())
	case *types.Err:
		return nil, v
	case ref.Type:
		return v.TypeName(), nil
	case traits.Mapper:
		if raw, ok := v.Value().(map[ref.Val]ref.Val); ok {
			// A map built by the expression: read it directly, without
			// the iterator and a lookup per key.
			m := make(map[string]any, len(raw))
			for k, e := range raw {
				gv, err := toGo(e)
				if err != nil {
					return nil, err
				}
				if s, ok := k.(types.String); ok {
					m[string(s)] = gv
					continue
				}
				gk, err := toGo(k)
				if err != nil {
					return nil, err
				}
				m[fmt.Sprint(gk)] = gv
			}
			return m, nil
		}
		m := make(map[string]any, sizeOf(v))
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			gk, err := toGo(k)
			if err != nil {
				return nil, err
			}
			gv, err := toGo(v.Get(k))
			if err != nil {
				return nil, err
			}
			if s, ok := gk.(string); ok {
				m[s] = gv
			} else {
				m[fmt.Sprint(gk)] = gv
			}
		}
		return m, nil
	case traits.Lister:
		if raw, ok := v.Value().([]ref.Val); ok {
			l := make([]any, len(raw))
			for i, e := range raw {
				gv, err := toGo(e)
				if err != nil {
					return nil, err
				}
				l[i] = gv
			}
			return l, nil
		}
		n := sizeOf(v)
		l := make([]any, 0, n)
		for it := v.Iterator(); it.HasNext() == types.True; {
			gv, err := toGo(it.Next())
			if err != nil {
				return nil, err
			}
			l = append(l, gv)
		}
		return l, nil
	}
	return nil, fmt.Errorf("expression returned a value of type %s, which cannot be used as data", v.Type().TypeName())
}

func sizeOf(v traits.Sizer) int {
	if n, ok := v.Size().(types.Int); ok && n > 0 {
		return int(n)
	}
	return 0
}
