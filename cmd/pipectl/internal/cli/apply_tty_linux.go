//go:build linux

package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminalInput reports whether r is a terminal: a file that answers the
// terminal ioctl (a character device like /dev/null does not).
func isTerminalInput(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
