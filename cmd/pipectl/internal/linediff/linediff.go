package linediff

import (
	"fmt"
	"strings"
)

// Context is the number of unchanged lines shown around each change.
const Context = 3

// Op is what an edit does with a line.
type Op int

// The edit operations.
const (
	Equal Op = iota
	Delete
	Insert
)

// Edit is one line of an edit script: a line kept, deleted from the old
// text or inserted from the new one. Line includes its "\n" when it had one.
type Edit struct {
	Op   Op
	Line string
}

// Lines splits text into lines, each keeping its "\n"; a last line without
// one is kept as it is.
func Lines(text string) []string {
	var lines []string
	for text != "" {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			lines = append(lines, text)
			break
		}
		lines = append(lines, text[:i+1])
		text = text[i+1:]
	}
	return lines
}

// Diff returns a shortest edit script that turns the lines a into b.
func Diff(a, b []string) []Edit {
	// Common prefix and suffix are kept out of the O(ND) search.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	edits := make([]Edit, 0, len(a)+len(b))
	for _, l := range a[:pre] {
		edits = append(edits, Edit{Equal, l})
	}
	edits = append(edits, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		edits = append(edits, Edit{Equal, l})
	}
	return edits
}

// myers is Myers' greedy algorithm with a saved frontier per step for the
// backtrack: memory O(D·(N+M)), fine for the files pipectl formats.
func myers(a, b []string) []Edit {
	n, m := len(a), len(b)
	maxD := n + m
	if maxD == 0 {
		return nil
	}
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
search:
	for d := 0; d <= maxD; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				break search
			}
		}
	}

	// Walk back from (n, m), collecting the edits in reverse.
	var rev []Edit
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d]
		k := x - y
		var pk int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := v[off+pk]
		py := px - pk
		for x > px && y > py {
			rev = append(rev, Edit{Equal, a[x-1]})
			x--
			y--
		}
		if d > 0 {
			if x == px {
				rev = append(rev, Edit{Insert, b[py]})
			} else {
				rev = append(rev, Edit{Delete, a[px]})
			}
		}
		x, y = px, py
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// Unified returns the unified diff (`diff -u` format, Context lines of
// context) that turns oldText, labelled oldName, into newText, labelled
// newName; "" when the texts are equal.
func Unified(oldName, newName, oldText, newText string) string {
	if oldText == newText {
		return ""
	}
	edits := Diff(Lines(oldText), Lines(newText))
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	for _, h := range hunks(edits) {
		h.write(&sb, edits)
	}
	return sb.String()
}

// hunk is a run of edits [from, to) and where it starts in each text
// (0-based line indexes).
type hunk struct {
	from, to       int
	aStart, bStart int
}

func hunks(edits []Edit) []hunk {
	var hs []hunk
	aLine, bLine := 0, 0
	// aAt and bAt give the line positions before edit i.
	aAt := make([]int, len(edits)+1)
	bAt := make([]int, len(edits)+1)
	for i, e := range edits {
		aAt[i], bAt[i] = aLine, bLine
		if e.Op != Insert {
			aLine++
		}
		if e.Op != Delete {
			bLine++
		}
	}
	aAt[len(edits)], bAt[len(edits)] = aLine, bLine

	for i := 0; i < len(edits); {
		if edits[i].Op == Equal {
			i++
			continue
		}
		// A change at i: open a hunk with up to Context lines before it,
		// then extend it while the next change is near enough to share
		// context.
		start := max(i-Context, 0)
		if len(hs) > 0 && start < hs[len(hs)-1].to {
			start = hs[len(hs)-1].to
		}
		end := i
		for {
			for end < len(edits) && edits[end].Op != Equal {
				end++
			}
			next := end
			for next < len(edits) && edits[next].Op == Equal {
				next++
			}
			if next < len(edits) && next-end <= 2*Context {
				end = next
				continue
			}
			end = min(end+Context, len(edits))
			break
		}
		hs = append(hs, hunk{from: start, to: end, aStart: aAt[start], bStart: bAt[start]})
		i = end
	}
	return hs
}

func (h hunk) write(sb *strings.Builder, edits []Edit) {
	aCount, bCount := 0, 0
	for _, e := range edits[h.from:h.to] {
		if e.Op != Insert {
			aCount++
		}
		if e.Op != Delete {
			bCount++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", span(h.aStart, aCount), span(h.bStart, bCount))
	for _, e := range edits[h.from:h.to] {
		switch e.Op {
		case Equal:
			sb.WriteByte(' ')
		case Delete:
			sb.WriteByte('-')
		case Insert:
			sb.WriteByte('+')
		}
		sb.WriteString(e.Line)
		if !strings.HasSuffix(e.Line, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// span renders a hunk range as diff -u does: "3" for one line, "3,4" for
// several, "2,0" (the line before) for none.
func span(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
