// Package baseline holds the hand-written franz-go programs that pipectl is
// measured against in `make bench`, and the benchmark's record shape.
//
// Each baseline is what a competent Go developer would write for the job
// without pipectl: encoding/json into a map, the standard library's sha256,
// kgo with its defaults, and the same batching, flush and commit cadence as
// pipectl's sink loop (runtime/engine): fetches of at most 1 MiB, polls of
// at most 50,000 records (usually everything fetched), a flush of the
// output and a commit of the consumer group's offsets at most every second
// while records arrive, at-least-once. They are deliberately plain: they
// stand for "the naive program", not for the fastest possible one.
//
// The harness (bench/harness) runs each baseline in a process of its own,
// as pipectl's worker runs in its own, so that neither shares a Go runtime,
// a garbage collector or CPU accounting with the harness.
//
// It may import anything (the benchmarks are outside the layering that
// internal/archtest keeps); it imports no pipectl
// package, so that a baseline never benefits from pipectl's code.
package baseline
