// Package harness is `make bench`: it runs pipectl and the hand-written
// baselines of bench/baseline scenario by scenario, each on a broker of its
// own, and reports the median of several runs as one line per scenario and
// as JSON (bench/results.json).
//
// Every process that is measured runs apart from the harness: the broker
// (`pipectl broker -listen 127.0.0.1:0`), pipectl's worker (`pipectl
// worker`) and each baseline (the harness binary again, in its baseline
// mode). The harness only seeds the input topic before the timed part,
// applies configurations through runtime/control, and watches end offsets,
// files and the worker's REST API.
//
// Throughput scenarios alternate pipectl and baseline runs on the same
// broker and report, besides each side's median, the median of the per-run
// ratios pipectl/baseline: a run and its baseline are taken back to back,
// so that the ratio holds up on a noisy machine where absolute figures do
// not. Nothing here asserts a time: it measures and reports, as the
// project's tests never assert speed.
//
// It may import anything: the benchmarks are outside the layering that
// internal/archtest keeps.
package harness
