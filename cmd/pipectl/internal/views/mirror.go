package views

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// FailoverRow is one partition of a group that pipectl mirror failover
// moves to the fleet's cluster.
type FailoverRow struct {
	Group       string    `json:"group"`
	State       string    `json:"state"` // the group's state in the fleet's cluster
	Topic       string    `json:"topic"`
	Partition   int32     `json:"partition"`
	SourceTopic string    `json:"source_topic"`
	Upstream    int64     `json:"upstream"`        // the group's offset on the origin
	Commit      int64     `json:"commit"`          // the offset failover commits
	Current     *int64    `json:"current"`         // the group's offset in the fleet's cluster now; null: none
	Checkpoint  time.Time `json:"checkpoint_time"` // when the checkpoint was taken
	Action      string    `json:"action"`          // commit, keep (already there or ahead), refuse (the group is active), failed (the commit failed)
}

// Failover prints what pipectl mirror failover commits: per group and
// partition the translated offset, the group's offset now and the age of
// the checkpoint it comes from.
func (v *View) Failover(address string, rows []FailoverRow, now time.Time, asJSON bool) {
	if asJSON {
		if rows == nil {
			rows = []FailoverRow{}
		}
		v.json(map[string]any{"format_version": "1.0", "pipeline": address, "time": now, "partitions": rows})
		return
	}
	if len(rows) == 0 {
		v.out(fmt.Sprintf("%s has no checkpoints of these groups: nothing to fail over.\n", address))
		return
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tTOPIC\tPARTITION\tORIGIN OFFSET\tCOMMIT\tNOW\tCHECKPOINT AGE\tACTION")
	for _, r := range rows {
		cur := "-"
		if r.Current != nil {
			cur = fmt.Sprint(*r.Current)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s/%d@%d\t%d\t%s\t%s\t%s\n", r.Group, r.Topic, r.Partition, r.SourceTopic, r.Partition, r.Upstream,
			r.Commit, cur, ago(now.Sub(r.Checkpoint)), r.Action)
	}
	tw.Flush()
	v.out(sb.String())
}

// FailoverPrompt asks for approval of a failover.
func (v *View) FailoverPrompt(n int) {
	v.out(fmt.Sprintf("\nFail over: commit %d group offsets in the fleet's cluster?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", n))
}
