package worker

import (
	"net"
	"os"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func refs(pipeline string, n int) []TaskRef {
	out := make([]TaskRef, n)
	for i := range out {
		out[i] = TaskRef{pipeline, i}
	}
	return out
}

func members(runs map[string][]TaskRef, ids ...string) []groupMember {
	var out []groupMember
	for _, id := range ids {
		out = append(out, groupMember{ID: "m-" + id, Meta: memberMeta{WorkerID: id, Tasks: runs[id]}})
	}
	return out
}

// layout renders an assignment as worker → "pipeline#task" lists.
func layout(a map[string]memberAssignment) map[string][]string {
	out := map[string][]string{}
	for id, ma := range a {
		for _, t := range ma.Tasks {
			out[id[2:]] = append(out[id[2:]], refString(t))
		}
		sort.Strings(out[id[2:]])
	}
	return out
}

func TestAssign(t *testing.T) {
	six := refs("p", 6)
	for _, tc := range []struct {
		name    string
		members []groupMember
		tasks   []TaskRef
		want    map[string][]string
		moves   int
	}{
		{
			name:    "spread over three",
			members: members(nil, "a", "b", "c"),
			tasks:   six,
			want:    map[string][]string{"a": {"p#0", "p#3"}, "b": {"p#1", "p#4"}, "c": {"p#2", "p#5"}},
		},
		{
			name:    "a fourth joins: one task moves",
			members: members(map[string][]TaskRef{"a": {six[0], six[3]}, "b": {six[1], six[4]}, "c": {six[2], six[5]}}, "a", "b", "c", "d"),
			tasks:   six,
			want:    map[string][]string{"a": {"p#0", "p#3"}, "b": {"p#1", "p#4"}, "c": {"p#2"}, "d": {"p#5"}},
			moves:   1,
		},
		{
			name:    "one dies: its tasks go to the others, nothing else moves",
			members: members(map[string][]TaskRef{"a": {six[0], six[3]}, "c": {six[2], six[5]}}, "a", "c"),
			tasks:   six,
			want:    map[string][]string{"a": {"p#0", "p#1", "p#3"}, "c": {"p#2", "p#4", "p#5"}},
		},
		{
			name:    "two pipelines spread across workers",
			members: members(nil, "a", "b"),
			tasks:   append(refs("p", 2), refs("q", 2)...),
			want:    map[string][]string{"a": {"p#0", "q#0"}, "b": {"p#1", "q#1"}},
		},
		{
			name:    "a task claimed twice stays with one",
			members: members(map[string][]TaskRef{"a": {six[0]}, "b": {six[0]}}, "a", "b"),
			tasks:   refs("p", 2),
			want:    map[string][]string{"a": {"p#0"}, "b": {"p#1"}},
		},
		{
			name:    "deleted tasks are dropped",
			members: members(map[string][]TaskRef{"a": {{"gone", 0}}}, "a"),
			tasks:   refs("p", 1),
			want:    map[string][]string{"a": {"p#0"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := assign(tc.members, tc.tasks)
			got := layout(a)
			for _, m := range tc.members {
				if got[m.Meta.WorkerID] == nil {
					got[m.Meta.WorkerID] = nil
				}
			}
			want := tc.want
			for k := range got {
				if _, ok := want[k]; !ok {
					want[k] = nil
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("assignment (-want +got):\n%s", diff)
			}
			moves := 0
			for _, ma := range a {
				moves += len(ma.From)
			}
			if moves != tc.moves {
				t.Errorf("%d tasks move from a live worker, want %d", moves, tc.moves)
			}
		})
	}
}

// TestAssignBalance checks balance and stickiness over many layouts.
func TestAssignBalance(t *testing.T) {
	for n := 1; n <= 5; n++ {
		for tasks := 0; tasks <= 13; tasks++ {
			ids := []string{"w1", "w2", "w3", "w4", "w5"}[:n]
			a := assign(members(nil, ids...), refs("p", tasks))
			total := 0
			for _, ma := range a {
				if len(ma.Tasks) < tasks/n || len(ma.Tasks) > (tasks+n-1)/n {
					t.Errorf("%d workers, %d tasks: a worker got %d", n, tasks, len(ma.Tasks))
				}
				total += len(ma.Tasks)
			}
			if total != tasks {
				t.Errorf("%d workers, %d tasks: %d assigned", n, tasks, total)
			}
			// Assigning again from that layout moves nothing.
			runs := map[string][]TaskRef{}
			for id, ma := range a {
				runs[id[2:]] = ma.Tasks
			}
			again := assign(members(runs, ids...), refs("p", tasks))
			if diff := cmp.Diff(layout(a), layout(again)); diff != "" {
				t.Errorf("%d workers, %d tasks: a stable layout moved:\n%s", n, tasks, diff)
			}
		}
	}
}

func TestAdvertised(t *testing.T) {
	host, _ := os.Hostname()
	for addr, want := range map[string]string{
		"127.0.0.1:8083": "127.0.0.1:8083",
		"0.0.0.0:8083":   net.JoinHostPort(host, "8083"),
		"[::]:9000":      net.JoinHostPort(host, "9000"),
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertised(tcp); got != want {
			t.Errorf("advertised(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestDefaultID: a worker's default id names its machine when it listens
// on loopback (or on every address), so that workers of one fleet on
// several machines, all on the default listener, do not share an id (and
// fence each other as one static group member).
func TestDefaultID(t *testing.T) {
	host, _ := os.Hostname()
	for addr, want := range map[string]string{
		"127.0.0.1:8083":  net.JoinHostPort(host, "8083"),
		"[::1]:8083":      net.JoinHostPort(host, "8083"),
		"0.0.0.0:8083":    net.JoinHostPort(host, "8083"),
		"10.1.2.3:8083":   "10.1.2.3:8083",
		"192.0.2.10:9000": "192.0.2.10:9000",
	} {
		tcp, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultID(tcp); got != want {
			t.Errorf("defaultID(%s) = %s, want %s", addr, got, want)
		}
	}
}
