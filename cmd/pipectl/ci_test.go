package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.yaml.in/yaml/v3"
)

// cibrokerCmd starts `pipectl broker -listen 127.0.0.1:0` as a process of
// its own, waits for its "broker listening on HOST:PORT" line and points
// PIPECTL_BROKERS at it; the broker stops with the script:
//
//	cibroker
func cibrokerCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: cibroker")
	}
	path, err := exec.LookPath("pipectl")
	if p := ts.Getenv("PATH"); p != "" {
		// The script's PATH, which holds the pipectl the scripts run.
		for _, dir := range filepath.SplitList(p) {
			if c := filepath.Join(dir, "pipectl"); fileExists(c) {
				path, err = c, nil
				break
			}
		}
	}
	ts.Check(err)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, "broker", "-listen", "127.0.0.1:0")
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	ts.Defer(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "broker listening on "); ok {
				select {
				case addr <- a:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		ts.Setenv("PIPECTL_BROKERS", a)
	case <-time.After(exampleDeadline):
		ts.Fatalf("pipectl broker printed no address in %s", exampleDeadline)
	}
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// cicommandsCmd prints, one a line, the pipectl commands of jobs of a CI
// template of examples/ci: the lines of a GitHub Actions job's steps' run
// or of a GitLab CI job's script that start with "pipectl ". The steps that
// talk to the forge (checkout, comments, artifacts) cannot run here and
// are left out; a line that runs pipectl elsewhere than at its start would
// be left out silently, so it fails the script.
//
//	cicommands github-actions.yml plan
func cicommandsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: cicommands TEMPLATE JOB...")
	}
	doc := ciTemplate(ts, args[0])
	var lines []string
	for _, job := range args[1:] {
		j := ciJob(ts, doc, args[0], job)
		var scripts []string
		if steps, ok := j["steps"].([]any); ok {
			for _, s := range steps {
				if m, ok := s.(map[string]any); ok {
					if run, ok := m["run"].(string); ok {
						scripts = append(scripts, run)
					}
				}
			}
		}
		if script, ok := j["script"].([]any); ok {
			for _, s := range script {
				if str, ok := s.(string); ok {
					scripts = append(scripts, str)
				}
			}
		}
		n := len(lines)
		for _, s := range scripts {
			for _, l := range strings.Split(s, "\n") {
				l = strings.TrimSpace(l)
				switch {
				case strings.HasPrefix(l, "pipectl "):
					lines = append(lines, l)
				case pipectlCall.MatchString(l):
					ts.Fatalf("the job %q of %s runs pipectl elsewhere than at the start of a line, which this test cannot run: %s", job, args[0], l)
				}
			}
		}
		if len(lines) == n {
			ts.Fatalf("the job %q of %s runs no pipectl command", job, args[0])
		}
	}
	_, err := ts.Stdout().Write([]byte(strings.Join(lines, "\n") + "\n"))
	ts.Check(err)
}

// pipectlCall is a pipectl command anywhere in a shell line.
var pipectlCall = regexp.MustCompile(`(^|[\s;&|({$` + "`" + `])pipectl\s`)

// cistepCmd prints the run script of the step of a GitHub Actions job
// named NAME, to run it with stand-ins for the forge's tools:
//
//	cistep github-actions.yml plan 'Comment the plan on the pull request'
func cistepCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: cistep TEMPLATE JOB NAME")
	}
	j := ciJob(ts, ciTemplate(ts, args[0]), args[0], args[1])
	steps, _ := j["steps"].([]any)
	for _, s := range steps {
		if m, ok := s.(map[string]any); ok && m["name"] == args[2] {
			run, ok := m["run"].(string)
			if !ok {
				ts.Fatalf("the step %q of the job %q of %s runs no script", args[2], args[1], args[0])
			}
			_, err := ts.Stdout().Write([]byte(run))
			ts.Check(err)
			return
		}
	}
	ts.Fatalf("the job %q of %s has no step %q", args[1], args[0], args[2])
}

func ciTemplate(ts *testscript.TestScript, name string) map[string]any {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "ci", name))
	ts.Check(err)
	var doc map[string]any
	ts.Check(yaml.Unmarshal(b, &doc))
	return doc
}

// ciJob is a job of a GitHub Actions workflow or a GitLab CI file.
func ciJob(ts *testscript.TestScript, doc map[string]any, template, job string) map[string]any {
	var j map[string]any
	if jobs, ok := doc["jobs"].(map[string]any); ok { // GitHub Actions
		j, _ = jobs[job].(map[string]any)
	} else { // GitLab CI
		j, _ = doc[job].(map[string]any)
	}
	if j == nil {
		ts.Fatalf("%s has no job %q", template, job)
	}
	return j
}

func TestPipectlCall(t *testing.T) {
	for l, want := range map[string]bool{
		`pipectl plan -out p "$PIPECTL_DIR"`:                     true,
		`cd dir && pipectl apply p`:                              true,
		`x=$(pipectl show -json p)`:                              true,
		`echo '<!-- pipectl-plan -->' > plan.md`:                 false,
		`go install "github.com/pipectl/pipectl/cmd/pipectl@v1"`: false,
		`gh run download "$run" --name pipectl-plan`:             false,
	} {
		if got := pipectlCall.MatchString(l); got != want {
			t.Errorf("pipectlCall.MatchString(%q) = %v, want %v", l, got, want)
		}
	}
}
