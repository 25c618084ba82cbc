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

// lock takes an exclusive advisory lock on f (flock), held until f is
// closed; locked is true when another open file holds it.
func lock(f *os.File) (locked bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return true, nil
	}
	return false, err
}
