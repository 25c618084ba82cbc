package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
	"github.com/pipectl/pipectl/planner/connectimport"
)

var importCommand = &command{
	name:     "import",
	synopsis: "Import Kafka Connect connector configurations as pipelines",
	usage: `Usage: pipectl import connect [options] [FILE|DIR|-]...

  Reads Kafka Connect connector configurations and writes them as pipectl
  configuration files. Each FILE is JSON in one of the shapes of Kafka
  Connect's REST API: the body of POST /connectors ({"name", "config"}), a
  bare configuration map, the answer of GET /connectors?expand=info, or an
  array of these. A DIR stands for its *.json files; "-" reads standard
  input. With -url, the connectors of a running Kafka Connect cluster are
  read from its REST API.

  Connector classes become built-in sources and sinks, single message
  transforms become transform and predicate blocks, and a sink's Connect
  consumer group becomes an import block that copies its offsets at apply.
  Whatever cannot be mapped is a warning, and the original setting stays in
  a comment in the file.

  Exit status: 0 on success (warnings included); 1 when an input cannot be
  read or parsed, or a file cannot be written.

Options:

  -out DIR     Write one NAME.hcl file per connector into DIR (created if
               missing), plus fleet.hcl when DIR holds no *.hcl file yet.
               Existing files are never overwritten. Without -out, the files
               are printed to standard output.
  -url URL     Read the connectors of the Kafka Connect cluster at URL
               (http://HOST:8083) with GET /connectors?expand=info.
  -no-color    Print warnings without colour.
`,
	run: runImport,
}

func runImport(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	out := fs.String("out", "", "")
	url := fs.String("url", "", "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	v := m.view()
	if len(positional) == 0 {
		v.UsageError("Missing import source", `pipectl import reads Kafka Connect configurations: run "pipectl import connect".`, cmd.usage)
		return exitError
	}
	if positional[0] != "connect" {
		v.UsageError("Unknown import source", fmt.Sprintf(`pipectl import knows one source, Kafka Connect, not %q: run "pipectl import connect".`, positional[0]), cmd.usage)
		return exitError
	}
	inputs := positional[1:]
	if len(inputs) == 0 && *url == "" {
		v.UsageError("No input", "Give JSON files or directories of Kafka Connect configurations, \"-\" for standard input, or -url.", cmd.usage)
		return exitError
	}
	var conns []connectimport.Connector
	for _, in := range inputs {
		cs, err := m.readConnectInput(in)
		if err != nil {
			v.Error("Cannot read Kafka Connect configuration", err.Error())
			return exitError
		}
		conns = append(conns, cs...)
	}
	if *url != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cs, err := connectimport.Fetch(ctx, nil, *url)
		cancel()
		if err != nil {
			v.Error("Cannot read Kafka Connect's connectors", err.Error()+".")
			return exitError
		}
		conns = append(conns, cs...)
	}
	if len(conns) == 0 {
		v.Error("No connectors", "The inputs hold no Kafka Connect connector.")
		return exitError
	}
	res, err := connectimport.Convert(conns)
	if err != nil {
		v.Error("Import failed", err.Error())
		return exitError
	}
	ws := make([]views.ImportWarning, len(res.Warnings))
	for i, w := range res.Warnings {
		ws[i] = views.ImportWarning{Connector: w.Connector, Key: w.Key, Summary: w.Summary, Detail: w.Detail}
	}
	files := res.Files
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			v.Error("Cannot create the output directory", err.Error()+".")
			return exitError
		}
		existing, _ := filepath.Glob(filepath.Join(*out, "*.hcl"))
		if len(existing) == 0 {
			files = append([]connectimport.File{connectimport.FleetFile}, files...)
		}
		for _, f := range files {
			p := filepath.Join(*out, f.Name)
			if _, err := os.Stat(p); err == nil {
				v.Error("File exists", fmt.Sprintf("%s already exists; pipectl import never overwrites a file. Remove it, or import into another directory.", p))
				return exitError
			}
		}
		v.ImportWarnings(ws)
		for _, f := range files {
			p := filepath.Join(*out, f.Name)
			if err := os.WriteFile(p, f.Src, 0o644); err != nil {
				v.Error("Cannot write file", err.Error()+".")
				return exitError
			}
			v.ImportedFile(p, f.Src, false)
		}
	} else {
		v.ImportWarnings(ws)
		for _, f := range files {
			v.ImportedFile(f.Name, f.Src, true)
		}
	}
	v.ImportSummary(len(conns), len(files), len(ws))
	return exitOK
}

// readConnectInput reads one FILE, DIR (its *.json files) or "-".
func (m *meta) readConnectInput(in string) ([]connectimport.Connector, error) {
	if in == "-" {
		b, err := io.ReadAll(io.LimitReader(m.stdin, 64<<20))
		if err != nil {
			return nil, err
		}
		return connectimport.Parse(b, "stdin")
	}
	st, err := os.Stat(in)
	if err != nil {
		return nil, unwrapOSError(err, in)
	}
	names := []string{in}
	if st.IsDir() {
		names, _ = filepath.Glob(filepath.Join(in, "*.json"))
		sort.Strings(names)
		if len(names) == 0 {
			return nil, fmt.Errorf("the directory %s has no *.json files", in)
		}
	}
	var out []connectimport.Connector
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, unwrapOSError(err, n)
		}
		cs, err := connectimport.Parse(b, n)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func unwrapOSError(err error, name string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot read %s: %s", name, strings.TrimSpace(pe.Err.Error()))
	}
	return err
}
