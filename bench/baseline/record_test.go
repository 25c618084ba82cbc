package baseline

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecord(t *testing.T) {
	var total, kept int
	const n = 10_000
	for seq := range int64(n) {
		v := Value(seq)
		total += len(v)
		if Kept(seq) {
			kept++
		}
		var back Record
		if err := json.Unmarshal(v, &back); err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		if diff := cmp.Diff(NewRecord(seq), back); diff != "" {
			t.Fatalf("record %d does not round-trip (-want +got):\n%s", seq, diff)
		}
	}
	if avg := total / n; avg < 180 || avg > 220 {
		t.Errorf("records average %d bytes, want about 200", avg)
	}
	if kept != n*9/10 {
		t.Errorf("the filter keeps %d of %d records, want 90%%", kept, n)
	}
	want := `{"amount":20.46,"country":"NL","email":"customer1234@example.com","id":1234,"items":[{"price":34.99,"qty":5,"sku":"SKU-234"},{"price":3.75,"qty":1,"sku":"SKU-70"}],"ts":"2023-11-14T22:33:54Z"}`
	if got := string(Value(1234)); got != want {
		t.Errorf("Value(1234) =\n%s\nwant\n%s", got, want)
	}
}

func TestRunUnknown(t *testing.T) {
	if err := Run(t.Context(), "nope", Args{}); err == nil {
		t.Error("Run of an unknown baseline: no error")
	}
}
