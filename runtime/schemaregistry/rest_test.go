package schemaregistry_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/runtime/schemaregistry"
)

// TestREST walks the REST API's routes in order, checking each answer's
// status and body (error codes are Confluent's).
func TestREST(t *testing.T) {
	srv := httptest.NewServer(schemaregistry.Handler(schemaregistry.NewMemory(), nil))
	defer srv.Close()
	const money = `{"schema":"{\"type\":\"record\",\"name\":\"Money\",\"fields\":[{\"name\":\"cents\",\"type\":\"long\"}]}"}`
	const order = `{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"total\",\"type\":\"Money\"}]}","references":[{"name":"Money","subject":"money","version":1}]}`
	for _, step := range []struct {
		method, path, body string
		status             int
		want               string // the body, or a part of it with a leading ~
	}{
		{"GET", "/subjects", "", 200, "[]"},
		{"GET", "/schemas/types", "", 200, `["JSON","PROTOBUF","AVRO"]`},
		{"GET", "/config", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"GET", "/mode", "", 200, `{"mode":"READWRITE"}`},
		{"POST", "/subjects/money/versions", money, 200, `{"id":1}`},
		{"POST", "/subjects/orders/versions", order, 200, `{"id":2}`},
		{"GET", "/subjects/orders/versions/latest", "", 200, `~"references":[{"name":"Money","subject":"money","version":1}]`},
		{"GET", "/subjects/money/versions/1/referencedby", "", 200, `[2]`},
		{"GET", "/subjects/money/versions/1/schema", "", 200, `{"type":"record","name":"Money","fields":[{"name":"cents","type":"long"}]}`},
		{"GET", "/schemas/ids/1/subjects", "", 200, `["money"]`},
		{"GET", "/schemas/ids/1/versions", "", 200, `[{"subject":"money","version":1}]`},
		{"GET", "/schemas/ids/x", "", 404, `~"error_code":40403`},
		{"GET", "/subjects/nope/versions", "", 404, `~"error_code":40401`},
		{"GET", "/subjects/money/versions/0", "", 422, `~"error_code":42202`},
		{"GET", "/subjects/money/versions/2", "", 404, `~"error_code":40402`},
		{"POST", "/subjects/money/versions", `{"schema":"{"}`, 422, `~"error_code":42201`},
		{"POST", "/subjects/money/versions", `{"schema":"\"int\"","schemaType":"XML"}`, 422, `~"error_code":42201`},
		{"POST", "/subjects/money/versions", `not json`, 422, `~"error_code":42201`},
		{"POST", "/subjects/money/versions", `{"schema":"\"int\""}`, 409, `~"error_code":409`},
		{"POST", "/compatibility/subjects/money/versions/latest?verbose=true", `{"schema":"\"int\""}`, 200, `~"is_compatible":false,"messages":[`},
		{"POST", "/compatibility/subjects/empty/versions", `{"schema":"\"int\""}`, 200, `{"is_compatible":true}`},
		{"GET", "/config/money", "", 404, `~"error_code":40408`},
		{"GET", "/config/money?defaultToGlobal=true", "", 200, `{"compatibilityLevel":"BACKWARD"}`},
		{"PUT", "/config/money", `{"compatibility":"full"}`, 200, `{"compatibility":"FULL"}`},
		{"PUT", "/config/money", `{"compatibility":"SIDEWAYS"}`, 422, `~"error_code":42203`},
		{"DELETE", "/config/money", "", 200, `{"compatibilityLevel":"FULL"}`},
		{"PUT", "/mode", `{"mode":"IMPORT"}`, 422, `~"error_code":42204`},
		{"PUT", "/mode/money", `{"mode":"READONLY"}`, 200, `{"mode":"READONLY"}`},
		{"DELETE", "/subjects/money/versions/1", "", 422, `~"error_code":42205`},
		{"DELETE", "/mode/money", "", 200, `{"mode":"READONLY"}`},
		{"DELETE", "/subjects/money/versions/1", "", 422, `~"error_code":42206`},
		{"DELETE", "/subjects/orders", "", 200, `[1]`},
		{"DELETE", "/subjects/orders", "", 404, `~"error_code":40404`},
		{"GET", "/subjects?deleted=true", "", 200, `["money","orders"]`},
		{"POST", "/subjects/orders?deleted=true", order, 200, `~"version":1`},
		{"POST", "/subjects/orders", order, 404, `~"error_code":40401`},
		{"DELETE", "/subjects/orders?permanent=true", "", 200, `[1]`},
		{"GET", "/subjects/orders/versions?deleted=true", "", 404, `~"error_code":40401`},
		{"GET", "/schemas/ids/2", "", 404, `~"error_code":40403`},
		{"DELETE", "/subjects/money/versions/latest", "", 200, `1`},
		{"DELETE", "/subjects/money/versions/1?permanent=true", "", 200, `1`},
		{"POST", "/subjects/money/versions", money, 200, `{"id":1}`},
		{"GET", "/subjects/money/versions", "", 200, `[2]`},
		{"GET", "/subjects/money/nothing", "", 404, `~"error_code":404`},
		{"PUT", "/subjects/money/versions", "", 405, `~"error_code":405`},
	} {
		req, err := http.NewRequest(step.method, srv.URL+step.path, strings.NewReader(step.body))
		if err != nil {
			t.Fatal(err)
		}
		if step.body != "" {
			req.Header.Set("Content-Type", schemaregistry.ContentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := strings.TrimSpace(string(b))
		ok := got == step.want
		if part, found := strings.CutPrefix(step.want, "~"); found {
			ok = strings.Contains(got, part)
		}
		if resp.StatusCode != step.status || !ok {
			t.Errorf("%s %s: %d %s\nwant %d %s", step.method, step.path, resp.StatusCode, got, step.status, step.want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != schemaregistry.ContentType {
			t.Errorf("%s %s: content type %q", step.method, step.path, ct)
		}
	}
}
