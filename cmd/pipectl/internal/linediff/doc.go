// Package linediff computes line-based differences between two texts and
// renders them as unified diffs, for `pipectl fmt -diff` (and, later, for
// showing configuration changes in plans).
//
// It owns only the algorithm (Myers' O(ND) diff) and the unified format. It
// imports nothing but the standard library and nothing of the project.
package linediff
