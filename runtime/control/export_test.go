package control

// SetBeforeEnd sets the hook that runs between an apply's last write and
// the end of its transaction, until the test ends.
func SetBeforeEnd(cleanup func(func()), fn func()) {
	beforeEnd = fn
	cleanup(func() { beforeEnd = nil })
}
