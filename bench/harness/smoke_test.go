package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// baselineEnv makes the test binary run BaselineMain (see TestMain), so
// that the smoke test needs no second binary for its baselines.
const baselineEnv = "PIPECTL_BENCH_BASELINE"

func TestMain(m *testing.M) {
	if os.Getenv(baselineEnv) == "1" {
		os.Exit(BaselineMain(os.Args[1:], os.Stderr))
	}
	os.Exit(m.Run())
}

// buildPipectl builds the pipectl binary under test.
func buildPipectl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pipectl")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/pipectl/pipectl/cmd/pipectl")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build pipectl: %v\n%s", err, out)
	}
	return bin
}

// TestSmoke runs the kafka → kafka scenarios (the mirror's two brokers
// included) and the file scenario once on a few thousand records, checking
// that pipectl and the baselines write the same records and that the
// report has the documented form. It measures nothing: the figures of a run
// this small mean little.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker, workers and baselines")
	}
	pipectl := buildPipectl(t)
	var out, log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	scenarios := []string{"transform", "generator", "file_sink", "mirror", "syslog_tcp", "http_source", "avro_transform", "startup"}
	rep, err := Run(ctx, Config{
		Pipectl:     pipectl,
		Baseline:    []string{os.Args[0]},
		BaselineEnv: []string{baselineEnv + "=1"},
		Records:     3000,
		Runs:        1,
		Scenarios:   scenarios,
		Verify:      true,
		WorkDir:     t.TempDir(),
		Out:         &out,
		Log:         &log,
	})
	t.Logf("output:\n%s\nprogress:\n%s", out.String(), log.String())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(scenarios) {
		t.Fatalf("%d lines, want one per scenario (%d)", len(lines), len(scenarios))
	}
	num := `[0-9]+(\.[0-9]+)?`
	for i, name := range scenarios {
		re := regexp.MustCompile(fmt.Sprintf(`^%s pipectl=%s baseline=%s ratio=[0-9]+\.[0-9]{2} unit=rec/s target="[^"]+" met=(true|false)$`, name, num, num))
		switch name {
		case "mirror":
			re = regexp.MustCompile(fmt.Sprintf(`^mirror pipectl=%s baseline=%s ratio=[0-9]+\.[0-9]{2} pipectl_mb_per_s=%s baseline_mb_per_s=%s unit=rec/s target="ratio >= 0.9" met=(true|false)$`, num, num, num, num))
		case "startup":
			re = regexp.MustCompile(`^startup pipectl=` + num + ` apply_seconds=` + num + ` unit=s target="< 1 s" met=(true|false)$`)
		}
		if !re.MatchString(lines[i]) {
			t.Errorf("line %d = %q, want it to match %s", i+1, lines[i], re)
		}
	}
	if len(rep.Scenarios) != len(scenarios) {
		t.Fatalf("report has %d scenarios, want %d", len(rep.Scenarios), len(scenarios))
	}
	for _, r := range rep.Scenarios {
		for _, m := range r.Metrics {
			if len(m.Runs) != 1 || !(m.Median > 0) {
				t.Errorf("%s %s: runs %v, median %v; want one positive run", r.Name, m.Name, m.Runs, m.Median)
			}
		}
		if want := int64(3000); r.Name != "startup" && r.Records != want {
			t.Errorf("%s: records = %d, want %d", r.Name, r.Records, want)
		}
	}
	if rep.Machine.CPUs < 1 || rep.Machine.RecordSize < 150 || rep.Machine.RecordSize > 250 {
		t.Errorf("machine = %+v; want CPUs and a record of about 200 bytes", rep.Machine)
	}
}

func TestRunUnknownScenario(t *testing.T) {
	_, err := Run(context.Background(), Config{Scenarios: []string{"transfrom"}})
	if err == nil || !strings.Contains(err.Error(), `no scenario "transfrom"`) {
		t.Errorf("Run with an unknown scenario: %v, want an error naming it", err)
	}
}
