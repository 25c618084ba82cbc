package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/kafka/kafkatest"
)

// TestApplyAsks answers the approval question on a (pretend) terminal:
// anything but "yes" cancels and changes nothing; "yes" applies.
func TestApplyAsks(t *testing.T) {
	b, _ := kafkatest.Start(t)
	dir := t.TempDir()
	src := "fleet {\n  name = \"ask\"\n}\ntopic \"t\" {}\n"
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "PIPECTL_BROKERS" {
			return b.Addr(), true
		}
		return "", false
	}
	defer func(prev func(io.Reader) bool) { stdinIsTerminal = prev }(stdinIsTerminal)
	stdinIsTerminal = func(io.Reader) bool { return true }
	apply := func(answer string) (int, string) {
		var out, errb bytes.Buffer
		code := run([]string{"apply", "-no-color", "-wait=false", dir}, strings.NewReader(answer), &out, &errb, env)
		return code, out.String() + errb.String()
	}
	for _, answer := range []string{"no\n", "", "Yes\n"} {
		code, out := apply(answer)
		if code != exitError || !strings.Contains(out, "Do you want to perform these actions?") || !strings.Contains(out, "Apply cancelled.") {
			t.Errorf("answer %q: exit %d\n%s", answer, code, out)
		}
	}
	code, out := apply("yes\n")
	if code != exitOK || !strings.Contains(out, "Apply complete! Resources: 1 added, 0 changed, 0 replaced, 0 destroyed.") {
		t.Fatalf("answer yes: exit %d\n%s", code, out)
	}
	// Nothing left to do: no question.
	code, out = apply("")
	if code != exitOK || strings.Contains(out, "Do you want") || !strings.Contains(out, "No changes.") {
		t.Errorf("second apply: exit %d\n%s", code, out)
	}
}
