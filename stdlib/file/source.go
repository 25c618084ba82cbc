package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/runtime/connector"
)

const (
	// maxBatch is the most records one Poll returns.
	maxBatch = 500
	// maxIdle is how long Poll waits for a line before it returns none.
	maxIdle = time.Second
	// readSize is the size of the read buffer of a file.
	readSize = 64 << 10
	// maxLine is the longest line emitted whole; a longer one is cut into
	// records of maxLine bytes.
	maxLine = 1 << 20
)

// tailer is one task of source "file".
type tailer struct {
	connector.UnimplementedSource

	patterns    []string
	topic       string
	fromEnd     bool
	interval    time.Duration
	task, tasks uint32
	offset      func(map[string]any) map[string]any
	log         *slog.Logger
	waiting     func(reason string) // TaskContext.Waiting

	files     map[string]*tailed // by path
	order     []*tailed          // the same files in a stable order
	next      int                // index in order where the next read starts
	lastCheck time.Time          // last scan for new files and rotation
	backlog   bool               // the last read stopped at maxBatch
	free      [][]byte           // idle read buffers
	now       time.Time          // timestamp of the records being read
}

// tailed is one file being read.
type tailed struct {
	path      string
	partition map[string]any
	f         *os.File
	ino       int64
	pos       int64  // offset after the last emitted line
	buf       []byte // read buffer; nil while carry is empty
	carry     []byte // bytes [pos, pos+len(carry)) read and not yet emitted, in buf
	// rotated: the path names another file now; gone: it names none. The
	// open file is read to its end, then dropped.
	rotated, gone bool
	drained       bool
}

func (s *tailer) Open(_ context.Context, tc *connector.TaskContext) error {
	var cfg SourceConfig
	if err := tc.DecodeConfig(&SourceSchema, &cfg); err != nil {
		return fmt.Errorf("source file: %w", err)
	}
	s.patterns, s.topic, s.interval = cfg.Paths, cfg.Topic, cfg.PollInterval
	s.fromEnd = cfg.ReadFrom == "end"
	s.tasks = uint32(max(tc.Tasks, 1))
	s.task = uint32(tc.Task)
	s.offset = tc.Offset
	if s.offset == nil {
		s.offset = func(map[string]any) map[string]any { return nil }
	}
	s.log = tc.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.waiting = tc.Waiting
	s.files = map[string]*tailed{}
	s.scan(true)
	s.lastCheck = time.Now()
	return nil
}

// owns reports whether this task reads the file at path: files are split
// among tasks by a stable hash of their path.
func (s *tailer) owns(path string) bool {
	if s.tasks == 1 {
		return true
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(path))
	return h.Sum32()%s.tasks == s.task
}

// scan picks up new files that match the patterns and notices files that
// were rotated (the path names another inode), truncated or removed.
func (s *tailer) scan(initial bool) {
	for _, t := range s.order {
		if t.rotated || t.gone {
			continue
		}
		fi, err := os.Stat(t.path)
		switch {
		case err != nil:
			t.gone = true
		case inode(fi) != t.ino:
			t.rotated = true
		case fi.Size() < t.pos+int64(len(t.carry)):
			s.log.Info("file truncated; reading it again from the start", "file", t.path)
			if _, err := t.f.Seek(0, io.SeekStart); err != nil {
				t.gone = true
				continue
			}
			t.pos = 0
			t.carry = t.carry[:0]
		}
	}
	matched := false
	defer func() {
		// Nothing to read is no error, but the user should see it.
		if matched {
			s.waiting("")
		} else {
			s.waiting("no file matches " + strings.Join(s.patterns, ", "))
		}
	}()
	for _, p := range s.patterns {
		matches, _ := filepath.Glob(p) // patterns were checked in Open
		matched = matched || len(matches) > 0
		for _, path := range matches {
			if _, ok := s.files[path]; ok || !s.owns(path) {
				continue
			}
			s.track(path, initial)
		}
	}
}

// track starts reading the file at path: from its saved offset when that
// still belongs to the same file, else from the start (or from the end
// with read_from = "end" for files found when the task opens).
func (s *tailer) track(path string, initial bool) {
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot open file", "file", path, "error", err)
		}
		return
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return
	}
	t := &tailed{path: path, partition: map[string]any{"file": path}, f: f, ino: inode(fi)}
	if saved := s.offset(t.partition); saved != nil {
		pos, okPos := configschema.AsInt64(saved["position"])
		ino, okIno := configschema.AsInt64(saved["inode"])
		// An offset without an inode (imported from Kafka Connect's
		// FileStreamSource, which saves only the position) is trusted
		// while the file is at least that long.
		if okPos && (ino == t.ino && okIno || !hasKey(saved, "inode")) && pos <= fi.Size() {
			t.pos = pos
		} else {
			s.log.Info("file was rotated or truncated since its offset was saved; reading it from the start", "file", path)
		}
	} else if initial && s.fromEnd {
		t.pos = fi.Size()
	}
	if t.pos > 0 {
		if _, err := f.Seek(t.pos, io.SeekStart); err != nil {
			f.Close()
			s.log.Warn("cannot seek in file", "file", path, "error", err)
			return
		}
	}
	s.files[path] = t
	s.order = append(s.order, t)
}

func (s *tailer) Poll(ctx context.Context) ([]connector.Record, error) {
	deadline := time.Now().Add(maxIdle)
	for {
		checkDue := time.Since(s.lastCheck) >= s.interval
		if s.backlog || checkDue {
			if checkDue {
				s.scan(false)
				s.lastCheck = time.Now()
			}
			recs := s.read()
			s.backlog = len(recs) == maxBatch
			if len(recs) > 0 {
				return recs, nil
			}
		}
		now := time.Now()
		if !now.Before(deadline) {
			return nil, nil
		}
		wait := min(s.lastCheck.Add(s.interval).Sub(now), deadline.Sub(now))
		t := time.NewTimer(max(wait, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// read reads complete lines from the files, starting with a different
// file each time so that one busy file does not starve the others.
func (s *tailer) read() []connector.Record {
	var recs []connector.Record
	s.now = time.Now()
	n := len(s.order)
	for i := 0; i < n && len(recs) < maxBatch; i++ {
		recs = s.readFile(s.order[(s.next+i)%n], recs)
	}
	if n > 0 {
		s.next = (s.next + 1) % n
	}
	// Files read to their end after a rotation or removal are replaced or
	// dropped.
	var done []*tailed
	s.order = slices.DeleteFunc(s.order, func(t *tailed) bool {
		if t.drained {
			done = append(done, t)
			return true
		}
		return false
	})
	for _, t := range done {
		t.f.Close()
		s.release(t)
		delete(s.files, t.path)
		if t.rotated && s.owns(t.path) {
			s.log.Info("file rotated; reading the new one from the start", "file", t.path)
			s.track(t.path, false)
		}
	}
	return recs
}

// readFile appends records of complete lines of t to recs, up to maxBatch.
func (s *tailer) readFile(t *tailed, recs []connector.Record) []connector.Record {
	defer s.release(t)
	for len(recs) < maxBatch {
		if i := bytes.IndexByte(t.carry, '\n'); i >= 0 {
			recs = s.emit(t, recs, i, i+1)
			continue
		}
		if len(t.carry) >= maxLine {
			recs = s.emit(t, recs, maxLine, maxLine)
			continue
		}
		// Read more after what is carried, moved to the buffer's start.
		switch {
		case t.buf == nil:
			t.buf = s.buffer()
			t.carry = t.buf[:0]
		case len(t.carry) == len(t.buf):
			grown := make([]byte, min(2*len(t.buf), maxLine))
			t.carry = grown[:copy(grown, t.carry)]
			t.buf = grown
		case len(t.carry) == 0 || &t.carry[0] != &t.buf[0]:
			t.carry = t.buf[:copy(t.buf, t.carry)]
		}
		n, err := t.f.Read(t.buf[len(t.carry):])
		t.carry = t.buf[:len(t.carry)+n]
		if n > 0 {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			s.log.Warn("cannot read file", "file", t.path, "error", err)
		}
		if t.rotated || t.gone {
			// The file will not grow any more: its last line is complete
			// even without a newline.
			if len(t.carry) > 0 {
				recs = s.emit(t, recs, len(t.carry), len(t.carry))
			}
			t.drained = true
		}
		break
	}
	return recs
}

// emit appends the record of the first n bytes of t.carry (without a
// trailing carriage return) and consumes the first consumed bytes.
func (s *tailer) emit(t *tailed, recs []connector.Record, n, consumed int) []connector.Record {
	line := t.carry[:n]
	if n < consumed && n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	t.pos += int64(consumed)
	t.carry = t.carry[consumed:]
	return append(recs, connector.Record{
		Value:           string(line),
		Topic:           s.topic,
		Partition:       -1,
		Timestamp:       s.now,
		SourcePartition: t.partition,
		SourceOffset:    map[string]any{"position": t.pos, "inode": t.ino},
	})
}

// buffer returns an idle read buffer.
func (s *tailer) buffer() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b
	}
	return make([]byte, readSize)
}

// release gives t's buffer back when nothing is carried in it.
func (s *tailer) release(t *tailed) {
	if t.buf == nil || len(t.carry) > 0 {
		return
	}
	if len(t.buf) == readSize {
		s.free = append(s.free, t.buf)
	}
	t.buf, t.carry = nil, nil
}

func (s *tailer) Close() error {
	var errs []error
	for _, t := range s.order {
		errs = append(errs, t.f.Close())
	}
	s.order, s.files = nil, nil
	return errors.Join(errs...)
}

func hasKey(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}
