// Package pluginconf reads the attributes of a plugin's configuration
// (connector.TaskContext.Config, a converter's config map) into Go values
// for the built-in plugins. It accepts every representation the attribute
// may arrive in: the types lang produces (string, int64, float64, bool,
// []string) and the ones a JSON round trip through the fleet's state gives
// back (float64 for integers, json.Number, []any of strings).
//
// It imports nothing of the project.
package pluginconf
