// Pipectl-bench is the benchmark harness of `make bench`: it runs issue
// 7's scenarios against a pipectl binary and the hand-written baselines of
// bench/baseline, prints one line per scenario and writes
// bench/results.json. See bench/README.md.
//
//	pipectl-bench [-pipectl bin/pipectl] [-bench NAME,...] [-records N] [-runs N] [-out FILE]
//	pipectl-bench baseline -name NAME -brokers LIST ...   (run by the harness itself)
package main
