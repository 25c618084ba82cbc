package views

import "fmt"

// VersionInfo is what `pipectl version` reports.
type VersionInfo struct {
	Version   string          `json:"pipectl_version"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"` // GOOS_GOARCH, as Terraform writes it
	Modules   []ModuleVersion `json:"modules"`
}

// ModuleVersion is one library module built into the binary.
type ModuleVersion struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

// Version shows the version of pipectl.
type Version interface {
	Show(VersionInfo)
}

// NewVersion returns the JSON form of the view when json is set, else the
// human form.
func NewVersion(json bool, v *View) Version {
	if json {
		return &versionJSON{v}
	}
	return &versionHuman{v}
}

type versionHuman struct{ *View }

func (v *versionHuman) Show(info VersionInfo) {
	s := fmt.Sprintf("pipectl %s\non %s, built with %s\n", info.Version, info.Platform, info.GoVersion)
	for _, m := range info.Modules {
		s += fmt.Sprintf("+ %s %s\n", m.Path, m.Version)
	}
	v.out(s)
}

type versionJSON struct{ *View }

func (v *versionJSON) Show(info VersionInfo) {
	if info.Modules == nil {
		info.Modules = []ModuleVersion{}
	}
	v.json(struct {
		FormatVersion string `json:"format_version"`
		VersionInfo
	}{jsonFormatVersion, info})
}
