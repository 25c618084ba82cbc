// Package kafka is the built-in "kafka" source (mirroring another cluster
// into the fleet's) and sink (writing to topics of another cluster).
//
// It imports the plugin SDK, lang/configschema and franz-go.
package kafka
