package schemas

// TestPath is where the schema of `pipectl test -json` is written.
const TestPath = "schemas/test.schema.json"

// testSchema describes the output of `pipectl test -json`: the contract of
// that view, which changes only together with this schema (and
// format_version). Its diagnostics are those of `pipectl validate -json`.
func testSchema() map[string]any {
	count := map[string]any{"type": "integer", "minimum": 0}
	diags := map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/diagnostic"}}
	records := map[string]any{
		"type":        []string{"array", "object"},
		"description": "Records (a list), or the one record an assertion failed on (an object), with the fields compared.",
	}
	failure := map[string]any{
		"type":        "object",
		"description": "An expectation that did not hold: a diagnostic pointing at it in the test file, with the records compared when it concerns them.",
		"properties": map[string]any{
			"severity": map[string]any{"const": "error"},
			"summary":  map[string]any{"type": "string"},
			"detail":   map[string]any{"type": "string"},
			"range":    map[string]any{"$ref": "#/$defs/range"},
			"snippet":  map[string]any{"$ref": "#/$defs/snippet"},
			"want":     records,
			"got":      records,
		},
		"required":             []string{"severity", "summary", "detail"},
		"additionalProperties": false,
	}
	run := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":          map[string]any{"type": "string"},
			"status":        map[string]any{"enum": []string{"pass", "fail", "error"}, "description": "error: the run could not run (its configuration or pipeline does not load); see diagnostics."},
			"outputs":       count,
			"filtered":      count,
			"dead_lettered": count,
			"failures":      map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/failure"}},
			"diagnostics":   diags,
		},
		"required":             []string{"name", "status", "outputs", "filtered", "dead_lettered", "failures", "diagnostics"},
		"additionalProperties": false,
	}
	file := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"name":   map[string]any{"type": "string", "description": "The test file, relative to the configuration directory."},
			"status": map[string]any{"enum": []string{"pass", "fail"}},
			"runs":   map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/run"}},
		},
		"required":             []string{"name", "status", "runs"},
		"additionalProperties": false,
	}
	defs := diagnosticsSchema()["$defs"].(map[string]any)
	defs["failure"], defs["run"], defs["file"] = failure, run, file
	return map[string]any{
		"$schema":     draft,
		"$id":         BaseURL + TestPath,
		"$comment":    generatedComment,
		"title":       "pipectl test -json",
		"description": "The result of `pipectl test -json`: every run of every test file, and the problems of the test files themselves.",
		"type":        "object",
		"properties": map[string]any{
			"format_version": map[string]any{"const": "1.0"},
			"status":         map[string]any{"enum": []string{"pass", "fail"}},
			"passed":         count,
			"failed":         count,
			"files":          map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/file"}},
			"diagnostics":    diags,
		},
		"required":             []string{"format_version", "status", "passed", "failed", "files", "diagnostics"},
		"additionalProperties": false,
		"$defs":                defs,
	}
}
