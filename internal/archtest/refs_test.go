package archtest

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// outside are the names of files that are not part of the repository and
// that nothing in it may refer to: a reader has only the repository, whose
// own design page is docs/design.md. Built from parts so that this file
// does not name them itself.
var outside = []string{
	"DESIGN" + ".md", "NOTES" + ".md", "STYLE" + ".md", "../" + "shared/",
}

// outsideRefs lists "path:line: reference" for each line of the given
// files that names a file outside the repository.
func outsideRefs(files map[string][]byte) []string {
	var out []string
	for name, b := range files {
		for i, line := range bytes.Split(b, []byte("\n")) {
			for _, ref := range outside {
				if bytes.Contains(line, []byte(ref)) {
					out = append(out, name+":"+strconv.Itoa(i+1)+": "+ref)
				}
			}
		}
	}
	return out
}

// TestNoReferencesOutsideTheRepository reads every file git tracks (and the
// untracked ones it does not ignore).
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	_, root, _ := loadPackages(t)
	cmd := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	list, err := cmd.Output()
	if err != nil {
		t.Skipf("git ls-files: %v (not a git checkout)", err)
	}
	files := map[string][]byte{}
	for _, name := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		b, err := os.ReadFile(root + "/" + name)
		if err != nil || bytes.IndexByte(b, 0) >= 0 {
			continue // deleted in the working tree, or binary
		}
		files[name] = b
	}
	for _, v := range outsideRefs(files) {
		t.Errorf("%s: the repository must not refer to files outside it (docs/design.md is the project's design page)", v)
	}
}

func TestOutsideRefs(t *testing.T) {
	got := outsideRefs(map[string][]byte{"README.md": []byte("ok\nsee ../" + "shared/" + "DESIGN" + ".md\n")})
	if len(got) != 2 {
		t.Fatalf("outsideRefs found %q, want the two references on line 2", got)
	}
}
