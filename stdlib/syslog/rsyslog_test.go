package syslog

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// TestRsyslogForwards runs a private rsyslogd of the test's own that
// receives RFC 3164 messages from logger over TCP and forwards them to two syslog
// sources: RFC 5424 over TCP with octet counting, and RFC 3164 (rsyslog's
// traditional forward format) over UDP. Every message arrives at both as
// a structured record.
func TestRsyslogForwards(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		rsyslogd, err = exec.LookPath("/usr/sbin/rsyslogd") // not on a user's PATH
	}
	if err != nil {
		t.Skip("rsyslogd is not installed (Debian package rsyslog; .ci/run installs it)")
	}
	tcp := open(t, map[string]any{"protocol": "tcp"})
	udp := open(t, map[string]any{"protocol": "udp"})
	dir := t.TempDir()
	in := freePort(t)
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port=%q)
action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port=%q protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
`, dir, in, tcp.port(), udp.port())
	confFile := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", in))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd does not listen on %s: %v", in, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	logger(t, "disk full on /var\nbackup finished\n", "--rfc3164", "--tcp", "-n", "127.0.0.1", "-P", in, "-t", "backupd", "-p", "daemon.crit")

	for name, s := range map[string]*testSource{"tcp rfc5424": tcp, "udp rfc3164": udp} {
		recs := s.collect(t, 2, true)
		var msgs []string
		for _, r := range recs {
			v := value(t, r)
			if v[fieldAppName] != "backupd" || v[fieldFacility] != int64(3) || v[fieldSeverity] != int64(2) || v[fieldTimestamp] == nil || v[fieldHostname] == nil {
				t.Errorf("%s: record %v, want app backupd, facility 3 (daemon), severity 2 (crit), a timestamp and a host", name, v)
			}
			wantFormat := "rfc5424"
			if s == udp {
				wantFormat = "rfc3164"
			}
			if v[fieldFormat] != wantFormat {
				t.Errorf("%s: format %v, want %s", name, v[fieldFormat], wantFormat)
			}
			m, _ := v[fieldMessage].(string)
			msgs = append(msgs, strings.TrimSpace(m))
		}
		sort.Strings(msgs)
		if got := strings.Join(msgs, "|"); got != "backup finished|disk full on /var" {
			t.Errorf("%s: messages %q", name, got)
		}
	}
}
