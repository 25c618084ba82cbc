package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a process the harness started: the broker, a worker or a
// baseline. Its stdout is scanned for a line; its stderr goes to a log
// file of the work directory.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	started time.Time
	done    chan struct{}
	err     error // set before done is closed

	mu    sync.Mutex
	lines []string // stdout lines, the last few
}

// startProc starts argv with its stderr in logPath.
func startProc(name string, argv []string, env []string, logPath string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			if len(p.lines) > 100 {
				p.lines = p.lines[len(p.lines)-100:]
			}
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, out)
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// waitLine waits for a stdout line that re matches and returns its
// submatches.
func (p *proc) waitLine(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	seen := 0
	for {
		p.mu.Lock()
		lines := p.lines
		p.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m[1:], nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before printing %q: %v%s", p.name, re, p.err, p.stderrTail())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s printed no line matching %q within %s%s", p.name, re, timeout, p.stderrTail())
		}
	}
}

// exited reports whether the process ended, and its error.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits up to timeout, then kills. It returns the CPU
// time the process used (user + system).
func (p *proc) stop(timeout time.Duration) (time.Duration, error) {
	if p.cmd.Process == nil {
		return 0, nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case <-p.done:
		err = p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		err = fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.Sys().(syscall.WaitStatus).Signaled() {
		err = nil // ended by our SIGTERM
	}
	return p.cpu(), err
}

// kill sends SIGKILL and waits.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cpu is the user + system CPU time of an exited process.
func (p *proc) cpu() time.Duration {
	if p.cmd.ProcessState == nil {
		return 0
	}
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// faults is how many page faults without I/O (minor faults) an exited
// process took: each is a page of memory touched for the first time,
// costly on a virtual machine. It tells a larger heap from a slower loop.
func (p *proc) faults() int64 {
	if p.cmd.ProcessState == nil {
		return 0
	}
	if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Minflt
	}
	return 0
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// stderrTail returns the end of the process's log, for an error message.
func (p *proc) stderrTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	s := string(b)
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return "\n--- " + p.name + " stderr (" + p.logPath + ") ---\n" + strings.TrimRight(s, "\n")
}

// vmRSS reads VmRSS of a process from /proc, in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(b))
}

// parseVmRSS finds "VmRSS:  1234 kB" in the text of /proc/PID/status.
func parseVmRSS(status string) (int64, error) {
	for line := range strings.Lines(status) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected VmRSS line %q", strings.TrimSpace(line))
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected VmRSS line %q", strings.TrimSpace(line))
		}
		return kb << 10, nil
	}
	return 0, errors.New("no VmRSS line in /proc/PID/status")
}
