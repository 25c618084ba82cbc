package planner

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pipectl/pipectl/lang/configschema"
	"github.com/pipectl/pipectl/planner/plan"
)

// taskPaths shows, beside each path attribute of which every task of the
// pipeline uses its own variant (configschema.Attribute.PerTaskPath, the
// file sink's path), the paths the tasks use when there are more than
// one: the plan shows what will be written. When the number of tasks
// changes, the attribute is shown even though it does not change.
func (pl *planner) taskPaths(c *plan.Change) {
	if c.IsTopic() || c.Action == plan.Delete || c.After == nil || c.After.Pipeline == nil || pl.in.Plugins == nil {
		return
	}
	spec := c.After.Pipeline
	tasks := max(spec.Tasks, 1)
	before := tasks
	if c.Before != nil && c.Before.Pipeline != nil {
		before = max(c.Before.Pipeline.Tasks, 1)
	}
	if tasks == 1 && before == 1 {
		return
	}
	schema, ok := pl.in.Plugins.Schema(configschema.Kind(spec.Kind), spec.Type)
	if !ok {
		return
	}
	for _, a := range schema.Attributes {
		path, isString := spec.Config[a.Name].(string)
		if !a.PerTaskPath || !isString {
			continue
		}
		i := slices.IndexFunc(c.Attrs, func(x plan.Attr) bool { return x.Path == a.Name })
		if i < 0 {
			if before == tasks {
				continue
			}
			// Unchanged, but what it means changes with the tasks: shown
			// after the tasks attribute.
			at := slices.IndexFunc(c.Attrs, func(x plan.Attr) bool { return x.Path == "tasks" }) + 1
			v := &plan.Value{V: path}
			c.Attrs = slices.Insert(c.Attrs, at, plan.Attr{Path: a.Name, Before: v, After: v})
			c.Hidden = max(c.Hidden-1, 0)
			i = at
		}
		c.Attrs[i].Note = taskPathNote(path, tasks, before)
	}
}

// taskPathNote says which files the tasks use.
func taskPathNote(path string, tasks, before int) string {
	if tasks == 1 {
		return fmt.Sprintf("the one task uses this path itself (each of the %d tasks used its own: %s)", before, taskPathList(path, before))
	}
	return fmt.Sprintf("each of the %d tasks uses its own path: %s", tasks, taskPathList(path, tasks))
}

// taskPathList names the paths of n tasks by their base names, the first
// and the last when there are more than four.
func taskPathList(path string, n int) string {
	name := func(task int) string { return filepath.Base(configschema.TaskPath(path, task, n)) }
	if n > 4 {
		return name(0) + ", " + name(1) + " … " + name(n-1)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = name(i)
	}
	return strings.Join(names, ", ")
}
