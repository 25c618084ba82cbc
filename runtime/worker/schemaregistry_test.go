package worker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

const (
	orderV1 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"}]}`
	orderV2 = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"note","type":"string","default":""}]}`
	// orderBad adds a field without a default: BACKWARD refuses it.
	orderBad = `{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"long"},{"name":"qty","type":"int"}]}`
)

func srCode(err error) int {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return 0
}

// waitRegistry waits until the worker's registry has read its topic: until
// then its routes answer 503 with error code 50003.
func waitRegistry(t *testing.T, url string) {
	t.Helper()
	eventually(t, 30*time.Second, "the registry is ready", func() (bool, string) {
		resp, err := http.Get(url + "/subjects")
		if err != nil {
			return false, err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && !strings.Contains(string(b), "50003") {
			t.Fatalf("503 without 50003: %s", b)
		}
		return resp.StatusCode == http.StatusOK, string(b)
	})
}

// TestSchemaRegistryWithFranzGoClient drives two workers' Schema Registry
// with franz-go's sr client: what one worker registers the other serves.
func TestSchemaRegistryWithFranzGoClient(t *testing.T) {
	f := newFixture(t, "srfleet")
	urlA, _ := f.startWorker()
	urlB, _ := f.startWorker()
	waitRegistry(t, urlA)
	waitRegistry(t, urlB)
	a, err := sr.NewClient(sr.URLs(urlA))
	if err != nil {
		t.Fatal(err)
	}
	b, err := sr.NewClient(sr.URLs(urlB))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The workers serve the registry once they have joined the cluster.
	eventually(t, 30*time.Second, "the registry answers", func() (bool, string) {
		_, err := a.Subjects(ctx)
		return err == nil, ""
	})

	types, err := a.SupportedTypes(ctx)
	if err != nil || len(types) != 3 {
		t.Fatalf("SupportedTypes = %v, %v", types, err)
	}
	ss, err := a.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV1})
	if err != nil {
		t.Fatal(err)
	}
	if ss.Version != 1 || ss.ID != 1 {
		t.Fatalf("CreateSchema = %+v", ss)
	}
	// Worker B reads what A registered.
	got, err := b.SchemaByID(ctx, ss.ID)
	if err != nil || got.Schema != orderV1 {
		t.Fatalf("B SchemaByID = %+v, %v", got, err)
	}
	text, err := b.SchemaTextByID(ctx, ss.ID)
	if err != nil || text != orderV1 {
		t.Fatalf("B SchemaTextByID = %q, %v", text, err)
	}
	look, err := b.LookupSchema(ctx, "orders-value", sr.Schema{Schema: orderV1})
	if err != nil || look.ID != 1 || look.Version != 1 {
		t.Fatalf("B LookupSchema = %+v, %v", look, err)
	}
	if _, err := b.LookupSchema(ctx, "orders-value", sr.Schema{Schema: orderV2}); srCode(err) != 40403 {
		t.Errorf("lookup of an unregistered schema: %v", err)
	}
	if _, err := b.LookupSchema(ctx, "nope", sr.Schema{Schema: orderV2}); srCode(err) != 40401 {
		t.Errorf("lookup in an unknown subject: %v", err)
	}

	// A compatible version on B, an incompatible one refused with 409.
	ss2, err := b.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV2})
	if err != nil || ss2.Version != 2 || ss2.ID != 2 {
		t.Fatalf("CreateSchema v2 = %+v, %v", ss2, err)
	}
	if _, err := a.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderBad}); srCode(err) != 409 {
		t.Fatalf("incompatible schema: %v, want 409", err)
	}
	res, err := a.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), "orders-value", -1, sr.Schema{Schema: orderBad})
	if err != nil || res.Is || len(res.Messages) == 0 {
		t.Errorf("CheckCompatibility = %+v, %v", res, err)
	}
	res, err = a.CheckCompatibility(ctx, "orders-value", -2, sr.Schema{Schema: orderV2})
	if err != nil || !res.Is {
		t.Errorf("CheckCompatibility against all = %+v, %v", res, err)
	}
	if _, err := a.CreateSchema(ctx, "orders-value", sr.Schema{Schema: `{"type":"record"`}); srCode(err) != 42201 {
		t.Errorf("invalid schema: %v, want 42201", err)
	}
	vs, err := a.SubjectVersions(ctx, "orders-value")
	if err != nil || !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("SubjectVersions = %v, %v", vs, err)
	}
	latest, err := a.SchemaByVersion(ctx, "orders-value", -1)
	if err != nil || latest.Version != 2 || latest.Schema.Schema != orderV2 {
		t.Errorf("latest = %+v, %v", latest, err)
	}
	if _, err := a.SchemaByVersion(ctx, "orders-value", 7); srCode(err) != 40402 {
		t.Errorf("missing version: %v", err)
	}

	// Config: per subject and global.
	for _, r := range a.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "orders-value") {
		if r.Err != nil || r.Level != sr.CompatNone {
			t.Fatalf("SetCompatibility = %+v", r)
		}
	}
	for _, r := range b.Compatibility(ctx, "orders-value") {
		if r.Err != nil || r.Level != sr.CompatNone {
			t.Errorf("B Compatibility(orders-value) = %+v", r)
		}
	}
	for _, r := range b.Compatibility(ctx) {
		if r.Err != nil || r.Level != sr.CompatBackward {
			t.Errorf("B global Compatibility = %+v", r)
		}
	}
	ss3, err := a.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderBad})
	if err != nil || ss3.Version != 3 {
		t.Fatalf("under NONE: %+v, %v", ss3, err)
	}
	for _, r := range a.ResetCompatibility(ctx, "orders-value") {
		if r.Err != nil {
			t.Errorf("ResetCompatibility = %+v", r)
		}
	}
	for _, r := range a.SetMode(ctx, sr.ModeReadOnly, "orders-value") {
		if r.Err != nil {
			t.Fatalf("SetMode = %+v", r)
		}
	}
	if _, err := b.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV1 + " "}); err != nil {
		// orderV1 is registered: a READONLY subject still answers it.
		t.Errorf("re-registering in READONLY: %v", err)
	}
	if _, err := b.CreateSchema(ctx, "orders-value", sr.Schema{Schema: `"string"`}); srCode(err) != 42205 {
		t.Errorf("registering in READONLY: %v", err)
	}
	for _, r := range b.Mode(ctx, "orders-value") {
		if r.Err != nil || r.Mode != sr.ModeReadOnly {
			t.Errorf("B Mode = %+v", r)
		}
	}
	for _, r := range a.SetMode(ctx, sr.ModeReadWrite, "orders-value") {
		if r.Err != nil {
			t.Fatalf("SetMode = %+v", r)
		}
	}

	// Deletes: soft, then hard; soft-deleted versions show with ?deleted.
	if err := a.DeleteSchema(ctx, "orders-value", 3, sr.HardDelete); srCode(err) != 40407 {
		t.Errorf("hard delete before soft: %v", err)
	}
	if err := a.DeleteSchema(ctx, "orders-value", 3, sr.SoftDelete); err != nil {
		t.Fatal(err)
	}
	if vs, _ := b.SubjectVersions(ctx, "orders-value"); !slices.Equal(vs, []int{1, 2}) {
		t.Errorf("versions after a soft delete: %v", vs)
	}
	if vs, _ := b.SubjectVersions(sr.WithParams(ctx, sr.ShowDeleted), "orders-value"); !slices.Equal(vs, []int{1, 2, 3}) {
		t.Errorf("versions with deleted: %v", vs)
	}
	if err := a.DeleteSchema(ctx, "orders-value", 3, sr.HardDelete); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SchemaByID(ctx, ss3.ID); srCode(err) != 40403 {
		t.Errorf("schema of a hard-deleted version: %v", err)
	}
	if _, err := a.DeleteSubject(ctx, "orders-value", sr.HardDelete); srCode(err) != 40405 {
		t.Errorf("hard subject delete before soft: %v", err)
	}
	if del, err := a.DeleteSubject(ctx, "orders-value", sr.SoftDelete); err != nil || !slices.Equal(del, []int{1, 2}) {
		t.Errorf("DeleteSubject = %v, %v", del, err)
	}
	if subs, err := b.Subjects(ctx); err != nil || len(subs) != 0 {
		t.Errorf("subjects after the delete: %v, %v", subs, err)
	}
	if subs, err := b.Subjects(sr.WithParams(ctx, sr.ShowDeleted)); err != nil || !slices.Equal(subs, []string{"orders-value"}) {
		t.Errorf("subjects with deleted: %v, %v", subs, err)
	}
	// A new version after the subject's deletion takes the next number.
	ss4, err := a.CreateSchema(ctx, "orders-value", sr.Schema{Schema: orderV1})
	if err != nil || ss4.Version != 4 || ss4.ID != 1 {
		t.Errorf("re-registration after a delete: %+v, %v", ss4, err)
	}

	// Plain HTTP: content type, an error body, a Connect route beside.
	resp, err := http.Get(urlA + "/schemas/ids/999")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/vnd.schemaregistry.v1+json" || !strings.Contains(string(body), `"error_code":40403`) {
		t.Errorf("GET /schemas/ids/999: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, err = http.Post(urlA+"/subjects/x/versions", "application/json", strings.NewReader(`{"schema":"\"string\""}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":`) {
		t.Errorf("register with application/json: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Post(urlA+"/subjects/x/versions", "text/html", strings.NewReader(`{"schema":"\"string\""}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("register with text/html: %d", resp.StatusCode)
	}
	var connectors []string
	if code := getJSON(t, urlB+"/connectors", &connectors); code != 200 {
		t.Errorf("GET /connectors beside the registry: %d", code)
	}
}
