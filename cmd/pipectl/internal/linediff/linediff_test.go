package linediff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{name: "equal", old: "a\nb\n", new: "a\nb\n", want: ""},
		{
			name: "one line changed",
			old:  "fleet {\nname=\"x\"\n}\n",
			new:  "fleet {\n  name = \"x\"\n}\n",
			want: "--- old\n+++ new\n@@ -1,3 +1,3 @@\n fleet {\n-name=\"x\"\n+  name = \"x\"\n }\n",
		},
		{
			name: "from empty",
			old:  "",
			new:  "a\nb\n",
			want: "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n",
		},
		{
			name: "to empty",
			old:  "a\n",
			new:  "",
			want: "--- old\n+++ new\n@@ -1 +0,0 @@\n-a\n",
		},
		{
			name: "missing newline at end",
			old:  "a\nb",
			new:  "a\nb\n",
			want: "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
		{
			name: "two distant changes make two hunks",
			old:  "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			new:  "1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\nELEVEN\n12\n",
			want: "--- old\n+++ new\n" +
				"@@ -1,5 +1,5 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n" +
				"@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+ELEVEN\n 12\n",
		},
		{
			name: "near changes share a hunk",
			old:  "1\n2\n3\n4\n5\n6\n7\n8\n",
			new:  "1\nTWO\n3\n4\n5\n6\n7\nEIGHT\n",
			want: "--- old\n+++ new\n@@ -1,8 +1,8 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n 6\n 7\n-8\n+EIGHT\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unified("old", "new", tt.old, tt.new)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unified mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffIsMinimalAndCorrect checks on random texts that the edit script
// turns a into b and is no longer than an LCS-based one.
func TestDiffIsMinimalAndCorrect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func() []string {
		n := r.IntN(12)
		ls := make([]string, n)
		for i := range ls {
			ls[i] = strconv.Itoa(r.IntN(4)) + "\n"
		}
		return ls
	}
	for i := range 2000 {
		a, b := gen(), gen()
		edits := Diff(a, b)
		var gotA, gotB []string
		changes := 0
		for _, e := range edits {
			if e.Op != Insert {
				gotA = append(gotA, e.Line)
			}
			if e.Op != Delete {
				gotB = append(gotB, e.Line)
			}
			if e.Op != Equal {
				changes++
			}
		}
		if !cmp.Equal(a, gotA, cmp.Comparer(func(x, y []string) bool { return strings.Join(x, "") == strings.Join(y, "") })) ||
			strings.Join(gotB, "") != strings.Join(b, "") {
			t.Fatalf("case %d: edits do not reproduce the texts: a=%q b=%q edits=%v", i, a, b, edits)
		}
		if want := len(a) + len(b) - 2*lcs(a, b); changes != want {
			t.Fatalf("case %d: %d changes, want %d: a=%q b=%q", i, changes, want, a, b)
		}
		// The unified diff applies back to the new text.
		if got := apply(t, strings.Join(a, ""), Unified("a", "b", strings.Join(a, ""), strings.Join(b, ""))); got != strings.Join(b, "") {
			t.Fatalf("case %d: patch gives %q, want %q", i, got, strings.Join(b, ""))
		}
	}
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// apply is a minimal unified-diff applier for full-line texts.
func apply(t *testing.T, old, patch string) string {
	t.Helper()
	if patch == "" {
		return old
	}
	src := Lines(old)
	var out []string
	pos := 0
	for _, l := range Lines(patch)[2:] {
		switch {
		case strings.HasPrefix(l, "@@"):
			var as, ac, bs, bc int
			if _, err := fmt.Sscanf(norm(l), "@@ -%d,%d +%d,%d @@", &as, &ac, &bs, &bc); err != nil {
				t.Fatalf("bad hunk header %q: %v", l, err)
			}
			start := as - 1
			if ac == 0 {
				start = as
			}
			out = append(out, src[pos:start]...)
			pos = start
		case strings.HasPrefix(l, " "):
			out = append(out, src[pos])
			pos++
		case strings.HasPrefix(l, "-"):
			pos++
		case strings.HasPrefix(l, "+"):
			out = append(out, l[1:])
		}
	}
	return strings.Join(append(out, src[pos:]...), "")
}

// norm turns "@@ -3 +3 @@" into "@@ -3,1 +3,1 @@".
func norm(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2; i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ")
}
