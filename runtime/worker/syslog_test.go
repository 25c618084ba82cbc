package worker_test

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestSyslogDropsInMetrics runs a UDP syslog source with a queue of one
// message on a worker and sends it a burst of datagrams: those that find
// the queue full are dropped, and /metrics counts them in
// pipectl_records_dropped_total beside the records that went in.
func TestSyslogDropsInMetrics(t *testing.T) {
	probe, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.LocalAddr().String()
	probe.Close()
	f := newFixture(t, "syslogdrops")
	f.apply(fmt.Sprintf(`
topic "logs" {}
source "syslog" "udp" {
  listen     = %q
  topic      = topic.logs.name
  queue_size = 1
}
`, addr))
	base, _ := f.startWorker()
	eventually(t, 60*time.Second, "the syslog source running", func() (bool, string) {
		var st status
		getJSON(t, base+"/connectors/source.syslog.udp/status", &st)
		return len(st.Tasks) == 1 && st.Tasks[0].State == "RUNNING", fmt.Sprintf("%+v", st)
	})
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const sent = 100
	for i := range sent {
		if _, err := fmt.Fprintf(c, "<13>1 - h app - - - burst %d", i); err != nil {
			t.Fatal(err)
		}
	}
	counter := func(m, name string) (int64, bool) {
		re := regexp.MustCompile(`(?m)^` + name + `\{pipeline="source\.syslog\.udp",task="0"\} (\d+)$`)
		if sm := re.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.ParseInt(sm[1], 10, 64)
			return n, true
		}
		return 0, false
	}
	eventually(t, 60*time.Second, "dropped datagrams counted in /metrics", func() (bool, string) {
		m := metricsText(t, base)
		dropped, okD := counter(m, "pipectl_records_dropped_total")
		in, okI := counter(m, "pipectl_records_in_total")
		if !okD || !okI {
			return false, "no dropped or in counter of the source"
		}
		if in+dropped > sent {
			t.Fatalf("in %d + dropped %d > %d datagrams sent", in, dropped, sent)
		}
		// The kernel may drop some datagrams itself; those pipectl
		// never saw. Most of a burst finds the queue of one full.
		return dropped > 0 && in > 0 && in+dropped >= sent/2, fmt.Sprintf("in %d dropped %d", in, dropped)
	})
}
