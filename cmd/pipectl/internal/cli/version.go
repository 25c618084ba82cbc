package cli

import (
	"runtime"
	"runtime/debug"

	"github.com/pipectl/pipectl/cmd/pipectl/internal/views"
)

var versionCommand = &command{
	name:     "version",
	synopsis: "Print the pipectl version",
	usage: `Usage: pipectl version [options]

  Prints the version of pipectl, the Go release it was built with, and the
  versions of the main libraries built into it.

Options:

  -json  Print the version information as JSON.
`,
	run: runVersion,
}

// reportedModules are the libraries whose versions `pipectl version` shows:
// the ones whose behaviour a user may need to know when reporting a bug.
var reportedModules = []string{
	"github.com/hashicorp/hcl/v2",
	"github.com/google/cel-go",
	"github.com/twmb/franz-go",
}

func runVersion(m *meta, cmd *command, args []string) int {
	fs := m.newFlagSet(cmd)
	jsonOut := fs.Bool("json", false, "")
	positional, code, ok := m.parse(cmd, fs, args)
	if !ok {
		return code
	}
	if len(positional) > 0 {
		m.view().UsageError("Too many command-line arguments", "version takes no arguments.", cmd.usage)
		return exitError
	}
	views.NewVersion(*jsonOut, m.view()).Show(versionInfo())
	return exitOK
}

func versionInfo() views.VersionInfo {
	info := views.VersionInfo{
		Version:   Version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "_" + runtime.GOARCH,
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	for _, path := range reportedModules {
		for _, dep := range bi.Deps {
			if dep.Path != path {
				continue
			}
			version := dep.Version
			if dep.Replace != nil {
				version = dep.Replace.Version
				if version == "" {
					version = "(replaced by " + dep.Replace.Path + ")"
				}
			}
			info.Modules = append(info.Modules, views.ModuleVersion{Path: path, Version: version})
		}
	}
	return info
}
