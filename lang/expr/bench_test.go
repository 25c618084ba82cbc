package expr

import "testing"

// BenchmarkTransformProgram measures one evaluation of the transforms of the
// quickstart example (examples/pipelines/quickstart) over a record that the
// converter has already decoded.
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

// counter is an Emitter that only counts what it receives.
type counter struct{ n int }

func (c *counter) BeginMap()      { c.n++ }
func (c *counter) Key(string)     { c.n++ }
func (c *counter) EndMap()        {}
func (c *counter) BeginList()     { c.n++ }
func (c *counter) EndList()       {}
func (c *counter) Null()          { c.n++ }
func (c *counter) Bool(bool)      { c.n++ }
func (c *counter) Int(int64)      { c.n++ }
func (c *counter) Double(float64) { c.n++ }
func (c *counter) String(string)  { c.n++ }

// BenchmarkGeneratorValue measures the bench's generator expression: Eval
// (cel-go, the result converted to Go maps) against EvalTo (the direct
// evaluator, the result handed to an Emitter).
func BenchmarkGeneratorValue(b *testing.B) {
	p := mustCompile(b, directEnv(b), generatorExpr, Dyn)
	vars := map[string]any{"seq": int64(0)}
	b.Run("eval", func(b *testing.B) {
		b.ReportAllocs()
		for i := int64(0); b.Loop(); i++ {
			vars["seq"] = i
			if _, err := p.Eval(vars); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		var c counter
		for i := int64(0); b.Loop(); i++ {
			vars["seq"] = i
			if !p.EvalTo(vars, &c) {
				b.Fatalf("EvalTo gave up for seq %d", i)
			}
		}
	})
}
