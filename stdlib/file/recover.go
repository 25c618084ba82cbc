package file

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pipectl/pipectl/runtime/connector"
)

// The flush mark is a small file beside the sink's output, .NAME.flushed,
// that holds the output's length, inode and a checksum of its last bytes at
// the last Flush (the inode alone does not tell a file replaced by hand:
// inode numbers are reused). The worker
// commits the consumed offsets only after Flush returns, so the records
// beyond the mark were written after the last commit: after a crash they
// are consumed and written again, and Open cuts them first. A crash between
// a Flush and its commit still writes the records of that one interval
// twice (at-least-once).
//
// The mark is one fixed-width line rewritten in place (a write this small
// lands whole) and fsynced.
const markFormat = "pipectl file sink flushed size=%020d inode=%020d tail=%08x\n"

// markTail is how many bytes before the mark the checksum covers.
const markTail = 64

// markPath is the flush mark of an output file.
func markPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".flushed")
}

// recover makes the output hold only what was flushed before the last
// commit, and opens the flush mark. For an output that is not a regular
// file (/dev/null, a pipe) it does nothing. Without a mark that fits the
// file (the first run, a file replaced or truncated by hand) it cuts only a
// torn last line: a worker killed in the middle of a write can leave part
// of a line behind.
func (s *writer) recover() error {
	st, err := s.f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return err
	}
	// One writer a file: another one (a task of another fleet, or of
	// another configuration, with the same path) would interleave its
	// records and cut them at its recovery. Retriable: a task that moved
	// here may start while its old owner still closes the file.
	if locked, err := lock(s.f); err != nil || locked {
		if locked {
			err = connector.Retriable(errors.New("another task writes this file (it holds its lock); give each sink its own path"))
		}
		return err
	}
	s.size = st.Size()
	m, ok, err := readMark(markPath(s.path))
	if err != nil {
		return err
	}
	fits := ok && m.ino == inode(st) && m.size <= s.size
	if fits {
		sum, err := s.tailSum(m.size)
		if err != nil {
			return err
		}
		fits = sum == m.tail
	}
	switch {
	case fits:
		size := m.size
		if size < s.size {
			if err := s.truncate(size, "the records written after the last commit"); err != nil {
				return err
			}
		}
	default:
		if err := s.cutTornTail(); err != nil {
			return err
		}
	}
	s.mark, err = os.OpenFile(markPath(s.path), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return s.writeMark()
}

type mark struct {
	size, ino int64
	tail      uint32
}

// readMark reads a flush mark; ok is false when there is none or it is not
// one (then it is rewritten).
func readMark(path string) (m mark, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if _, err := fmt.Sscanf(string(b), markFormat, &m.size, &m.ino, &m.tail); err != nil {
		return m, false, nil
	}
	return m, true, nil
}

// tailSum is the checksum of the markTail bytes of the output before size.
func (s *writer) tailSum(size int64) (uint32, error) {
	b := make([]byte, min(size, markTail))
	if _, err := s.f.ReadAt(b, size-int64(len(b))); err != nil {
		return 0, err
	}
	return crc32.ChecksumIEEE(b), nil
}

// writeMark records the output's length and inode (after an fsync of the
// output). The length is the file's own, not the count of bytes written:
// the file may have been truncated under the sink (logrotate's
// copytruncate), and writes in append mode go on at its new end.
func (s *writer) writeMark() error {
	if s.mark == nil {
		return nil
	}
	st, err := s.f.Stat()
	if err != nil {
		return err
	}
	s.size = st.Size()
	sum, err := s.tailSum(s.size)
	if err != nil {
		return err
	}
	if _, err := s.mark.WriteAt(fmt.Appendf(nil, markFormat, s.size, inode(st), sum), 0); err != nil {
		return err
	}
	return s.mark.Sync()
}

// cutTornTail truncates a file that does not end with a newline after its
// last newline. It reads the file backwards a block at a time.
func (s *writer) cutTornTail() error {
	block := make([]byte, 64<<10)
	end := s.size
	for end > 0 {
		start := max(end-int64(len(block)), 0)
		b := block[:end-start]
		if _, err := s.f.ReadAt(b, start); err != nil {
			return err
		}
		if end == s.size && b[len(b)-1] == '\n' {
			return nil // whole lines only
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return s.truncate(start+int64(i)+1, "a torn last line")
		}
		end = start
	}
	return s.truncate(0, "a torn last line")
}

// truncate cuts the output to size bytes; nothing to cut (a new, empty
// file) is not worth a warning.
func (s *writer) truncate(size int64, what string) error {
	if size >= s.size {
		return nil
	}
	if err := s.f.Truncate(size); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	s.log.Warn("cut what a stopped worker left in the file after its last flush; those records are written again",
		"path", s.path, "cut", what, "bytes", s.size-size)
	s.size = size
	return nil
}
