package harness

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/bench/baseline"
)

// describeMachine gathers what a report's figures depend on.
func describeMachine(cfg Config) Machine {
	m := Machine{
		CPUs:       runtime.NumCPU(),
		GoVersion:  runtime.Version(),
		Broker:     "kfake (pipectl broker), one process on the same machine",
		Runs:       cfg.Runs,
		RecordSize: len(baseline.Value(cfg.Records / 2)),
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) == 2 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMiB = kb >> 10
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go" {
				m.FranzGo = d.Version
			}
		}
	}
	if cfg.Src != "" {
		if out, err := gitOutput(cfg.Src, "rev-parse", "--short", "HEAD"); err == nil {
			m.Commit = out
			if st, err := gitOutput(cfg.Src, "status", "--porcelain", "--untracked-files=no"); err == nil && st != "" {
				m.Commit += "+dirty"
			}
		}
	}
	return m
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(bytes.TrimSpace(out)), err
}
