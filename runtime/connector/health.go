package connector

// Waiting says why the task has nothing to do although nothing failed, so
// that status and the REST API show it while the connector keeps trying:
// a file source whose globs match no file says "no file matches
// /var/log/app/*.log". "" says the reason is over. Errors are not
// reasons: return them (connector.Retriable for those that may pass). It
// may be called from any goroutine; a TaskContext without OnWaiting (a
// test) ignores it.
func (tc *TaskContext) Waiting(reason string) {
	if tc != nil && tc.OnWaiting != nil {
		tc.OnWaiting(reason)
	}
}

// Dropped counts n records that the source lost before it could hand them
// over, because the outside system pushes them faster than the pipeline
// takes them and cannot be held back (a UDP listener whose queue is
// full). The worker adds them to the task's
// pipectl_records_dropped_total in /metrics; a source also logs what it
// drops. Records that fail are not dropped: they go through Record.Err. It
// may be called from any goroutine; a TaskContext without OnDropped (a
// test) ignores it.
func (tc *TaskContext) Dropped(n int64) {
	if tc != nil && tc.OnDropped != nil && n > 0 {
		tc.OnDropped(n)
	}
}
