package configschema

import (
	"path/filepath"
	"strconv"
	"strings"
)

// TaskPath returns the path task `task` of `tasks` uses for an attribute
// marked PerTaskPath: path itself for a single task, else NAME-N.EXT
// (out/orders.jsonl → out/orders-2.jsonl; out/orders → out/orders-2).
func TaskPath(path string, task, tasks int) string {
	if tasks <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	if strings.ContainsRune(ext, filepath.Separator) {
		ext = ""
	}
	return strings.TrimSuffix(path, ext) + "-" + strconv.Itoa(task) + ext
}
