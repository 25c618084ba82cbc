package cli

var graphCommand = &command{
	name:     "graph",
	synopsis: "Print the dependency graph in Graphviz DOT",
	usage: `Usage: pipectl graph [options] [DIR]

  Prints the dependency graph of the configuration in DIR (the current
  directory by default) in the DOT language: one node per variable, local,
  topic, predicate, transform, converter and pipeline, and an edge from
  each object to what it refers to. Render it with Graphviz:

      pipectl graph | dot -Tsvg > graph.svg

Options:

  -var 'NAME=VALUE'  Set a variable. Repeatable; later values win.
  -var-file=FILE     Read variable values from FILE (*.pipevars).
  -no-color          Print diagnostics without colour.
`,
	run: runGraph,
}

func runGraph(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	var vars varFlags
	vars.register(fs)
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	dir, code, ok := m.dirArg(cmd, positional)
	if !ok {
		return code
	}
	cfg, diags, ok := m.loadConfig(dir, vars.args)
	if !ok {
		return exitError
	}
	v := m.view()
	v.Diagnostics(diags, cfg.Files)
	if diags.HasErrors() {
		return exitError
	}
	v.Graph(cfg.Graph)
	return exitOK
}
