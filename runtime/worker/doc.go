// Package worker is a pipectl worker process: it reads the fleet's state
// and status from the control topics, runs the tasks assigned to it
// through the task supervisor (which does not know how the assignment was
// made), reports task status, and serves the REST API and metrics.
//
// It imports lang, runtime/control, runtime/kafka, runtime/engine,
// runtime/api, runtime/metrics, runtime/schemaregistry and runtime/connector;
// never planner.
package worker
