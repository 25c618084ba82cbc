//go:build unix

package file

import (
	"os"
	"syscall"
)

// inode returns the file's inode number, its identity across renames.
func inode(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Ino)
	}
	return 0
}
