// Package retry owns the runtime's backoff: the one description of an
// exponential schedule of waits between attempts (Backoff), built on
// github.com/cenkalti/backoff/v5, whose Retry runs the attempts. Every loop
// of the runtime that waits and tries again takes its schedule here:
//
//   - a task's retries of retriable errors (runtime/engine): from 100ms,
//     doubling up to the pipeline's retry_backoff_max, until its
//     retry_timeout; no jitter, so that a retry_timeout is always the same
//     number of retries, as in Kafka Connect;
//   - a worker rejoining its fleet's group and connecting to the fleet's
//     cluster at start (runtime/worker): with FleetJitter, because every
//     worker of a fleet starts these at once (a coordinator that moved, a
//     cluster that came back) and their attempts should not stay in step;
//   - the automatic restart of a failed task (runtime/worker's restart
//     block): no jitter, because the supervisor works the wait out again
//     from the failure's time and the attempt count at every pass (Wait),
//     and the restart block's backoff is documented as doubling.
//
// It imports nothing of the project.
package retry
