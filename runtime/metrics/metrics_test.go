package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// sample is one series of a scraped family: its labels and value (the
// sample count for a histogram).
type sample struct {
	Labels map[string]string
	Value  float64
	Sum    float64 // histograms only
}

type family struct {
	Type    string
	Samples []sample
}

// scrape GETs h and parses the Prometheus text it serves.
func scrape(t *testing.T, h http.Handler) map[string]family {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, rec.Body)
	}
	out := map[string]family{}
	for name, f := range fams {
		fam := family{Type: f.GetType().String()}
		for _, m := range f.GetMetric() {
			s := sample{Labels: map[string]string{}}
			for _, l := range m.GetLabel() {
				s.Labels[l.GetName()] = l.GetValue()
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				s.Value = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				s.Value = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				s.Value = float64(m.GetHistogram().GetSampleCount())
				s.Sum = m.GetHistogram().GetSampleSum()
			default:
				s.Value = m.GetUntyped().GetValue()
			}
			fam.Samples = append(fam.Samples, s)
		}
		out[name] = fam
	}
	return out
}

func labels(pipeline, task string) map[string]string {
	return map[string]string{"pipeline": pipeline, "task": task}
}

func TestExposition(t *testing.T) {
	m, err := New(Options{WorkerID: "127.0.0.1:8083", Version: "v0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())

	const mirror = `source.kafka.mirror["eu"]`
	src := m.Task(mirror, 0)
	src.AddIn(3)
	src.AddIn(4)
	src.AddOut(6)
	src.AddFiltered(1)
	src.AddDropped(8)
	src.ObserveBatch(250 * time.Millisecond)
	snk := m.Task("sink.file.out", 1)
	snk.AddIn(5)
	snk.AddFailed(2)
	m.ObserveLag(func() []Lag {
		return []Lag{{Pipeline: "sink.file.out", Task: 1, Records: 42}}
	})

	got := scrape(t, m.Handler())
	want := map[string]family{
		"pipectl_records_in_total": {Type: "COUNTER", Samples: []sample{
			// The registry sorts series by label values.
			{Labels: labels("sink.file.out", "1"), Value: 5},
			{Labels: labels(mirror, "0"), Value: 7},
		}},
		// Every task that started reports every counter, zeros included.
		"pipectl_records_out_total": {Type: "COUNTER", Samples: []sample{
			{Labels: labels("sink.file.out", "1"), Value: 0},
			{Labels: labels(mirror, "0"), Value: 6},
		}},
		"pipectl_records_filtered_total": {Type: "COUNTER", Samples: []sample{
			{Labels: labels("sink.file.out", "1"), Value: 0},
			{Labels: labels(mirror, "0"), Value: 1},
		}},
		"pipectl_records_failed_total": {Type: "COUNTER", Samples: []sample{
			{Labels: labels("sink.file.out", "1"), Value: 2},
			{Labels: labels(mirror, "0"), Value: 0},
		}},
		"pipectl_records_dropped_total": {Type: "COUNTER", Samples: []sample{
			{Labels: labels("sink.file.out", "1"), Value: 0},
			{Labels: labels(mirror, "0"), Value: 8},
		}},
		"pipectl_batch_seconds": {Type: "HISTOGRAM", Samples: []sample{{Labels: labels(mirror, "0"), Value: 1, Sum: 0.25}}},
		"pipectl_consumer_lag":  {Type: "GAUGE", Samples: []sample{{Labels: labels("sink.file.out", "1"), Value: 42}}},
	}
	pipectl := map[string]family{}
	for name, f := range got {
		if strings.HasPrefix(name, "pipectl_") {
			pipectl[name] = f
		}
	}
	if d := cmp.Diff(want, pipectl); d != "" {
		t.Errorf("pipectl families (-want +got):\n%s", d)
	}

	ti, ok := got["target_info"]
	if !ok || len(ti.Samples) != 1 {
		t.Fatalf("target_info = %+v, want one sample", ti)
	}
	for k, v := range map[string]string{"service_name": "pipectl", "service_instance_id": "127.0.0.1:8083", "service_version": "v0.1.0"} {
		if ti.Samples[0].Labels[k] != v {
			t.Errorf("target_info label %s = %q, want %q", k, ti.Samples[0].Labels[k], v)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := got[name]; !ok {
			t.Errorf("%s missing: the Go and process collectors are not registered", name)
		}
	}
}

func TestObserveLagReplacedAndRemoved(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	m.ObserveLag(func() []Lag { return []Lag{{Pipeline: "sink.file.a", Records: 1}} })
	m.ObserveLag(func() []Lag { return []Lag{{Pipeline: "sink.file.b", Records: 2}} })
	want := []sample{{Labels: labels("sink.file.b", "0"), Value: 2}}
	if d := cmp.Diff(want, scrape(t, m.Handler())["pipectl_consumer_lag"].Samples); d != "" {
		t.Errorf("lag after replacing the callback (-want +got):\n%s", d)
	}
	m.ObserveLag(nil)
	if f, ok := scrape(t, m.Handler())["pipectl_consumer_lag"]; ok {
		t.Errorf("lag after removing the callback = %+v, want no family", f)
	}
}

func TestOwnRegistry(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	m.Task("source.file.a", 0).AddIn(1)
	if _, ok := scrape(t, m.Handler())["pipectl_records_in_total"]; !ok {
		t.Fatal("pipectl_records_in_total missing from the package's own handler")
	}
	for name := range scrape(t, promHandler()) {
		if strings.HasPrefix(name, "pipectl_") {
			t.Errorf("%s leaked into Prometheus's global registry", name)
		}
	}
}

func promHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fams, err := prometheus.DefaultGatherer.Gather()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	})
}

func TestTaskIsCached(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	if a, b := m.Task("source.file.a", 0), m.Task("source.file.a", 0); a != b {
		t.Error("Task returned two values for the same pipeline and task")
	}
	if a, b := m.Task("source.file.a", 0), m.Task("source.file.a", 1); a == b {
		t.Error("Task returned one value for two tasks")
	}
}

func TestNilIsNoOp(t *testing.T) {
	var m *Metrics
	tm := m.Task("source.file.a", 0)
	if tm != nil {
		t.Fatalf("nil Metrics: Task = %v, want nil", tm)
	}
	tm.AddIn(1)
	tm.AddOut(1)
	tm.AddFiltered(1)
	tm.AddFailed(1)
	tm.ObserveBatch(time.Second)
	m.ObserveLag(func() []Lag { return nil })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics: handler status = %d, want 404", rec.Code)
	}
	if err := m.Shutdown(t.Context()); err != nil {
		t.Errorf("nil Metrics: Shutdown = %v", err)
	}
}

// TestHotPathDoesNotAllocate guards the promise of TaskMetrics' methods (rule
// 14): counting a batch costs no allocation once the series exists.
func TestHotPathDoesNotAllocate(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	tm := m.Task("source.file.a", 0)
	for name, f := range map[string]func(){
		"AddIn":        func() { tm.AddIn(1) },
		"AddOut":       func() { tm.AddOut(1) },
		"AddFiltered":  func() { tm.AddFiltered(1) },
		"AddFailed":    func() { tm.AddFailed(1) },
		"ObserveBatch": func() { tm.ObserveBatch(time.Millisecond) },
	} {
		f() // create the series
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s allocates %v times per call, want 0", name, n)
		}
	}
}

func BenchmarkTaskMetrics(b *testing.B) {
	m, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Shutdown(b.Context())
	tm := m.Task(`source.kafka.mirror["eu"]`, 0)
	b.Run("AddIn", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tm.AddIn(1)
		}
	})
	b.Run("ObserveBatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			tm.ObserveBatch(3 * time.Millisecond)
		}
	})
	b.Run("Batch", func(b *testing.B) {
		// What a task does per batch: in, out, filtered, failed and the timing.
		b.ReportAllocs()
		for b.Loop() {
			tm.AddIn(500)
			tm.AddOut(490)
			tm.AddFiltered(9)
			tm.AddFailed(1)
			tm.ObserveBatch(3 * time.Millisecond)
		}
	})
	b.Run("AddInParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				tm.AddIn(1)
			}
		})
	})
}

func TestObserveSourceLag(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(t.Context())
	m.ObserveSourceLag(func() []SourceLag {
		return []SourceLag{
			{Pipeline: "source.kafka.dr", Task: 1, Partition: "orders/0", Records: 12, Latency: 2500 * time.Millisecond},
			{Pipeline: "source.kafka.dr", Task: 1, Partition: "orders/1"},
		}
	})
	part := func(p string) map[string]string {
		l := labels("source.kafka.dr", "1")
		l["partition"] = p
		return l
	}
	got := scrape(t, m.Handler())
	want := map[string]family{
		"pipectl_source_lag": {Type: "GAUGE", Samples: []sample{
			{Labels: part("orders/0"), Value: 12}, {Labels: part("orders/1"), Value: 0}}},
		"pipectl_source_latency_seconds": {Type: "GAUGE", Samples: []sample{
			{Labels: part("orders/0"), Value: 2.5}, {Labels: part("orders/1"), Value: 0}}},
	}
	for name, w := range want {
		if d := cmp.Diff(w, got[name]); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	m.ObserveSourceLag(nil)
	if f, ok := scrape(t, m.Handler())["pipectl_source_lag"]; ok {
		t.Errorf("source lag after removing the callback = %+v, want no family", f)
	}
}
