package worker

import (
	"slices"

	"github.com/pipectl/pipectl/runtime/connector"
	"github.com/pipectl/pipectl/runtime/kafka"
)

// fleetCluster is the fleet's cluster as tasks see it
// (connector.TaskContext.Cluster): the worker's own brokers, SASL and TLS
// settings, as plain data.
func fleetCluster(c kafka.Config) *connector.Cluster {
	out := &connector.Cluster{Brokers: slices.Clone(c.Brokers)}
	if c.SASL != nil {
		out.SASL = &connector.ClusterSASL{Mechanism: c.SASL.Mechanism, Username: c.SASL.Username, Password: c.SASL.Password}
	}
	if t := c.TLS; t != nil {
		out.TLS = &connector.ClusterTLS{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName, InsecureSkipVerify: t.InsecureSkipVerify}
	}
	return out
}
