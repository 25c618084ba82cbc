package views

// Fmt shows the result of `pipectl fmt`. It has no JSON form (fmt takes no
// -json); its output is file names, diffs and formatted text.
type Fmt struct {
	*View
	list bool
}

// NewFmt returns the view; list says whether changed files are listed
// (-list).
func NewFmt(v *View, list bool) *Fmt { return &Fmt{View: v, list: list} }

// Changed reports a file that was (or, with -check, would be) reformatted.
func (v *Fmt) Changed(name string) {
	if v.list {
		v.out(name + "\n")
	}
}

// Diff shows a unified diff of a file's reformatting.
func (v *Fmt) Diff(unified string) { v.out(unified) }

// Formatted prints formatted source (the result of formatting stdin).
func (v *Fmt) Formatted(src []byte) { v.streams.Stdout.Write(src) }
