package expr

import "testing"

// BenchmarkTransformProgram measures one evaluation of the transforms of
// DESIGN.md over a record that the converter has already decoded.
func BenchmarkTransformProgram(b *testing.B) {
	record := map[string]any{
		"key":       "u42",
		"value":     map[string]any{"id": int64(42), "email": "u42@example.com", "amount": float64(42), "card": "4111"},
		"headers":   map[string]string{"source": "generator"},
		"topic":     "shop.dev.orders",
		"partition": int64(3),
		"offset":    int64(1234),
	}
	for _, bm := range []struct {
		name string
		src  string
		want Type
		out  any
	}{
		{"filter", "value.amount >= 10", Bool, true},
		{"sha256", "sha256(value.email)", String, hexSHA256("u42@example.com")},
	} {
		b.Run(bm.name, func(b *testing.B) {
			p := mustCompile(b, RecordEnv(), bm.src, bm.want)
			b.ReportAllocs()
			for b.Loop() {
				out, err := p.Eval(record)
				if err != nil || out != bm.out {
					b.Fatalf("Eval = %v, %v; want %v", out, err, bm.out)
				}
			}
		})
	}
}
