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
