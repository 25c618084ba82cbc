package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/pipectl/pipectl/runtime/kafka"
)

// exampleDeadline bounds how long a script waits for an example's records:
// generous, to catch a hang, never a measure of speed.
const exampleDeadline = 90 * time.Second

// exampleCmd copies examples/pipelines/NAME into the script's work
// directory as NAME, without what a local run left (out/):
//
//	example quickstart
func exampleCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: example NAME")
	}
	src := filepath.Join("..", "..", "examples", "pipelines", args[0])
	dst := ts.MkAbs(args[0])
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if rel == "out" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	ts.Check(err)
}

// recordsCmd waits until a topic of the script's cluster holds at least N
// records (its end offsets; the topic may not exist yet):
//
//	records backup.orders.eu 10
func recordsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: records TOPIC N")
	}
	want, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	cl, err := kafka.NewClient(kafka.Config{Brokers: strings.Split(ts.Getenv("PIPECTL_BROKERS"), ",")})
	ts.Check(err)
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var have int64
	waitFor(ts, "topic "+args[0]+" to hold "+args[1]+" records", func(ctx context.Context) bool {
		ends, err := adm.ListEndOffsets(ctx, args[0])
		if err != nil {
			return false
		}
		have = 0
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil {
				have += o.Offset
			}
		})
		return have >= want
	}, func() string { return strconv.FormatInt(have, 10) + " records" })
}

// linesCmd waits until a file holds at least N lines:
//
//	lines out/orders.jsonl 20
func linesCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lines FILE N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	have := 0
	waitFor(ts, args[0]+" to hold "+args[1]+" lines", func(context.Context) bool {
		b, err := os.ReadFile(ts.MkAbs(args[0]))
		if err != nil {
			return false
		}
		have = 0
		for sc := bufio.NewScanner(bytes.NewReader(b)); sc.Scan(); {
			have++
		}
		return have >= want
	}, func() string { return strconv.Itoa(have) + " lines" })
}

// waitFor polls cond until it holds, failing the script after
// exampleDeadline with what it saw last.
func waitFor(ts *testscript.TestScript, what string, cond func(context.Context) bool, saw func() string) {
	ctx, cancel := context.WithTimeout(context.Background(), exampleDeadline)
	defer cancel()
	for !cond(ctx) {
		select {
		case <-ctx.Done():
			ts.Fatalf("waited %s for %s; saw %s", exampleDeadline, what, saw())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// docexampleCmd prints the Nth (from 1) ```hcl block of docs/FILE, to
// run a documented example as it is written:
//
//	docexample testing.md 1
func docexampleCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: docexample FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", args[0]))
	ts.Check(err)
	var block []string
	in, found := false, 0
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case !in && strings.TrimSpace(l) == "```hcl":
			in, found = true, found+1
		case in && strings.TrimSpace(l) == "```":
			in = false
			if found == n {
				_, err := ts.Stdout().Write([]byte(strings.Join(block, "\n") + "\n"))
				ts.Check(err)
				return
			}
		case in && found == n:
			block = append(block, l)
		}
	}
	ts.Fatalf("docs/%s has no hcl block %d", args[0], n)
}
