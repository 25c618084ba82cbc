package worker

import (
	"sort"
	"strconv"
)

// TaskRef names one task in the group protocol's metadata and assignments.
type TaskRef struct {
	Pipeline string `json:"p"`
	Task     int    `json:"t"`
}

func (r TaskRef) key() taskKey { return taskKey{r.Pipeline, r.Task} }

// memberMeta is what a worker tells the group when it joins: who it is,
// where its REST API is, how much work it takes (Weight, default 1) and the
// tasks it runs now, so that the leader keeps them where they are.
type memberMeta struct {
	V        int       `json:"v"`
	WorkerID string    `json:"worker_id"`
	URL      string    `json:"url"`
	Weight   int       `json:"weight"`
	Serial   int64     `json:"serial"` // the state serial the worker has read
	Tasks    []TaskRef `json:"tasks"`
}

// memberAssignment is what the leader hands one member: its tasks, and for
// each task that moves from another live worker, that worker's id, so that
// the new owner waits until the old one has released it.
type memberAssignment struct {
	V      int               `json:"v"`
	Serial int64             `json:"serial"` // the state serial the leader assigned from
	Tasks  []TaskRef         `json:"tasks"`
	From   map[string]string `json:"from,omitempty"` // "pipeline#task" → worker id
	Live   []string          `json:"live"`           // worker ids of this generation
}

// groupMember is one member as the leader sees it.
type groupMember struct {
	ID   string
	Meta memberMeta
}

// assign distributes tasks over members: balanced by weight, sticky (a
// task stays with the live worker that runs it unless balance requires a
// move) and spread (a pipeline's tasks go to different workers where they
// can). It returns each member's tasks and, for moved tasks, where they
// came from. It is deterministic.
func assign(members []groupMember, tasks []TaskRef) map[string]memberAssignment {
	out := map[string]memberAssignment{}
	if len(members) == 0 {
		return out
	}
	members = append([]groupMember(nil), members...)
	sort.Slice(members, func(i, j int) bool {
		if members[i].Meta.WorkerID != members[j].Meta.WorkerID {
			return members[i].Meta.WorkerID < members[j].Meta.WorkerID
		}
		return members[i].ID < members[j].ID
	})
	tasks = append([]TaskRef(nil), tasks...)
	sort.Slice(tasks, func(i, j int) bool {
		if tasks[i].Pipeline != tasks[j].Pipeline {
			return tasks[i].Pipeline < tasks[j].Pipeline
		}
		return tasks[i].Task < tasks[j].Task
	})
	wanted := map[taskKey]bool{}
	perPipeline := map[string]int{}
	for _, t := range tasks {
		wanted[t.key()] = true
		perPipeline[t.Pipeline]++
	}

	// Who runs what now; a task claimed twice goes to the first claimant.
	owner := map[taskKey]int{}
	prevCount := make([]int, len(members))
	for i, m := range members {
		for _, t := range m.Meta.Tasks {
			if _, claimed := owner[t.key()]; !claimed && wanted[t.key()] {
				owner[t.key()] = i
				prevCount[i]++
			}
		}
	}

	// Quotas proportional to weight; the remainder goes to the members
	// that run the most now, so that fewer tasks move.
	weight := func(m groupMember) int { return max(m.Meta.Weight, 1) }
	total := 0
	for _, m := range members {
		total += weight(m)
	}
	quota := make([]int, len(members))
	given := 0
	for i, m := range members {
		quota[i] = len(tasks) * weight(m) / total
		given += quota[i]
	}
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return prevCount[order[a]] > prevCount[order[b]] })
	for k := 0; given < len(tasks); k++ {
		quota[order[k%len(order)]]++
		given++
	}

	count := make([]int, len(members))
	pipeCount := make([]map[string]int, len(members))
	for i := range pipeCount {
		pipeCount[i] = map[string]int{}
	}
	spreadCap := func(p string) int { return (perPipeline[p] + len(members) - 1) / len(members) }
	assigned := map[taskKey]int{}
	// Keep what can stay.
	for _, t := range tasks {
		i, ok := owner[t.key()]
		if !ok || count[i] >= quota[i] || pipeCount[i][t.Pipeline] >= spreadCap(t.Pipeline) {
			continue
		}
		assigned[t.key()] = i
		count[i]++
		pipeCount[i][t.Pipeline]++
	}
	// Place the rest where there is room, spreading each pipeline.
	for _, t := range tasks {
		if _, done := assigned[t.key()]; done {
			continue
		}
		best := -1
		for i := range members {
			if count[i] >= quota[i] {
				continue
			}
			if best < 0 || pipeCount[i][t.Pipeline] < pipeCount[best][t.Pipeline] ||
				pipeCount[i][t.Pipeline] == pipeCount[best][t.Pipeline] && count[i] < count[best] {
				best = i
			}
		}
		if best < 0 {
			best = 0
			for i := range members {
				if count[i] < count[best] {
					best = i
				}
			}
		}
		assigned[t.key()] = best
		count[best]++
		pipeCount[best][t.Pipeline]++
	}

	live := make([]string, len(members))
	for i, m := range members {
		live[i] = m.Meta.WorkerID
		out[m.ID] = memberAssignment{V: 1, Tasks: []TaskRef{}, Live: live}
	}
	for _, t := range tasks {
		i := assigned[t.key()]
		a := out[members[i].ID]
		a.Tasks = append(a.Tasks, t)
		if prev, ok := owner[t.key()]; ok && prev != i {
			if a.From == nil {
				a.From = map[string]string{}
			}
			a.From[refString(t)] = members[prev].Meta.WorkerID
		}
		out[members[i].ID] = a
	}
	return out
}

func refString(t TaskRef) string { return t.Pipeline + "#" + strconv.Itoa(t.Task) }

func refStrings(ts []TaskRef) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = refString(t)
	}
	return out
}
