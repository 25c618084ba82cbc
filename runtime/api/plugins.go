package api

import (
	"net/http"
)

// ConfigKeyInfo is the definition of one configuration attribute in Kafka
// Connect's shape (KIP-769's GET /connector-plugins/{plugin}/config and the
// "definition" of a validation).
type ConfigKeyInfo struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"` // STRING, INT, LONG, DOUBLE, BOOLEAN, LIST, PASSWORD
	Required      bool     `json:"required"`
	DefaultValue  *string  `json:"default_value"`
	Importance    string   `json:"importance"` // HIGH, MEDIUM, LOW
	Documentation string   `json:"documentation"`
	Group         string   `json:"group"`
	Order         int      `json:"order"`
	Width         string   `json:"width"`
	DisplayName   string   `json:"display_name"`
	Dependents    []string `json:"dependents"`
}

// ConfigValueInfo is the validated value of one attribute.
type ConfigValueInfo struct {
	Name              string   `json:"name"`
	Value             *string  `json:"value"`
	RecommendedValues []string `json:"recommended_values"`
	Errors            []string `json:"errors"`
	Visible           bool     `json:"visible"`
}

// ConfigInfo is one attribute of a validation: its definition and value.
type ConfigInfo struct {
	Definition ConfigKeyInfo   `json:"definition"`
	Value      ConfigValueInfo `json:"value"`
}

// ConfigInfos is Kafka Connect's answer to PUT
// /connector-plugins/{plugin}/config/validate.
type ConfigInfos struct {
	Name       string       `json:"name"` // the plugin class
	ErrorCount int          `json:"error_count"`
	Groups     []string     `json:"groups"`
	Configs    []ConfigInfo `json:"configs"`
}

// PluginConfigs are the plugins' configuration definitions and their
// validation. Unknown plugins are errors that Is [ErrNotFound].
type PluginConfigs interface {
	// PluginConfig lists the attributes of a plugin (source.file,
	// converter.json): its own, not those every pipeline takes.
	PluginConfig(plugin string) ([]ConfigKeyInfo, error)
	// ValidateConfig checks a pipeline's configuration (pipectl's
	// attribute names, JSON values) with the plugin's schema and the
	// language's attributes of every pipeline.
	ValidateConfig(plugin string, config map[string]any) (ConfigInfos, error)
}

func (s *server) pluginConfig(w http.ResponseWriter, r *http.Request) {
	defs, err := s.opts.Plugins.PluginConfig(r.PathValue("plugin"))
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, defs)
}

// validateConfig answers for a pipectl configuration in Connect's shape;
// it changes nothing, as in Connect.
func (s *server) validateConfig(w http.ResponseWriter, r *http.Request) {
	var cfg map[string]any
	if !readJSON(w, r, &cfg) {
		return
	}
	if cfg == nil {
		writeError(w, http.StatusBadRequest, "The request body must be a JSON object: the configuration of a pipeline")
		return
	}
	plugin := r.PathValue("plugin")
	if c, ok := cfg["connector.class"].(string); ok && c != plugin {
		writeError(w, http.StatusBadRequest, "Included connector type "+c+" does not match request type "+plugin)
		return
	}
	infos, err := s.opts.Plugins.ValidateConfig(plugin, cfg)
	if err != nil {
		s.fleetError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, infos)
}
