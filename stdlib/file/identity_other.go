//go:build !unix

package file

import "os"

// inode returns 0 where inode numbers are not available: rotation is then
// detected only when a file shrinks.
func inode(os.FileInfo) int64 { return 0 }

// lock takes no lock where flock is not available.
func lock(*os.File) (locked bool, err error) { return false, nil }
