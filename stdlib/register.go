package stdlib

import (
	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/stdlib/configprovider"
	"github.com/pipectl/pipectl/stdlib/converters"
	"github.com/pipectl/pipectl/stdlib/file"
	"github.com/pipectl/pipectl/stdlib/generator"
	"github.com/pipectl/pipectl/stdlib/httpconn"
	"github.com/pipectl/pipectl/stdlib/kafka"
	"github.com/pipectl/pipectl/stdlib/postgrescdc"
	"github.com/pipectl/pipectl/stdlib/schemaconv"
	"github.com/pipectl/pipectl/stdlib/sqlconn"
	"github.com/pipectl/pipectl/stdlib/syslog"
)

// Plugins lists every built-in plugin.
func Plugins() []connector.Plugin {
	var ps []connector.Plugin
	ps = append(ps, generator.Source())
	ps = append(ps, file.Source(), file.Sink())
	ps = append(ps, kafka.Source(), kafka.Sink())
	ps = append(ps, syslog.Source())
	ps = append(ps, sqlconn.Source(), sqlconn.Sink())
	ps = append(ps, postgrescdc.Source())
	ps = append(ps, httpconn.Source(), httpconn.PollSource(), httpconn.Sink())
	ps = append(ps, converters.Plugins()...)
	ps = append(ps, schemaconv.Plugins()...)
	return ps
}

// Register adds every built-in plugin to r, and the built-in config
// providers.
func Register(r *connector.Registry) error {
	for _, p := range Plugins() {
		if err := r.Register(p); err != nil {
			return err
		}
	}
	return r.RegisterConfigProvider(configprovider.Directory{})
}
