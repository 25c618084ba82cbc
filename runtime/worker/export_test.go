package worker

// DropMembership makes the worker's group membership die as a process's
// does under kill -9: its group client is closed, so it neither heartbeats
// nor leaves, and its member stays in the fleet's group until the session
// timeout expires it or a worker with the same id replaces it.
func (w *Worker) DropMembership() { w.groupCl.Close() }
