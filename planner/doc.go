// Package planner computes and applies plans: it compares a loaded
// configuration (lang) with the fleet's state and with what the cluster
// says (runtime/control, the admin API through runtime/kafka's clients),
// decides an action per resource (create, update in place, replace,
// delete), and applies a plan: topics through the admin API, the state
// through control's fenced commit, pipelines' offsets and pause targets
// around it, then waits for the changed pipelines to run.
//
// The plan itself is plain data in planner/plan; planner/planfile saves
// it. planner imports lang, runtime/control and runtime/kafka of the
// project, and nothing else (docs/design.md): never the worker, never
// the command line.
package planner
