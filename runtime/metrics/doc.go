// Package metrics owns a worker's metrics: the OpenTelemetry SDK
// MeterProvider, its instruments, and their exposition in the Prometheus
// text format through the OpenTelemetry Prometheus exporter on a registry of
// this package's own (never Prometheus's global one).
//
// Instruments, as Prometheus names them:
//
//	pipectl_records_in_total{pipeline,task}        counter: records a task read (polled or fetched)
//	pipectl_records_out_total{pipeline,task}       counter: records a task delivered (produced or written)
//	pipectl_records_filtered_total{pipeline,task}  counter: records a transform's filter dropped
//	pipectl_records_failed_total{pipeline,task}    counter: records that failed (to the DLQ or failing the task)
//	pipectl_records_dropped_total{pipeline,task}   counter: records a source lost because the task could not keep up (a UDP listener's full queue)
//	pipectl_batch_seconds{pipeline,task}           histogram: time to process one batch
//	pipectl_consumer_lag{pipeline,task}            gauge: records behind the end of the log (sink tasks)
//	pipectl_source_lag{pipeline,task,partition}    gauge: records the outside system holds past the last one polled (sources that report it)
//	pipectl_source_latency_seconds{pipeline,task,partition}  gauge: age of the last record polled when polled; 0 when caught up
//	pipectl_task_healthy{pipeline,task}            gauge: 1 while RUNNING with nothing retried or waited for, else 0
//
// plus the Go runtime and process collectors, and target_info carrying the
// worker's identity (service.name, service.instance.id, service.version).
//
// The task engine calls the hot-path methods of [TaskMetrics], which do not
// allocate: the record counters are atomic integers of the task that the
// collection reads at each scrape (observable counters), and the histogram
// uses an attribute set built once per task. A nil *Metrics and a
// nil *TaskMetrics are valid and record nothing, so code under test may run
// without metrics.
//
// Traces (OTLP) are not this package's concern.
//
// It imports no project package, and never planner.
package metrics
