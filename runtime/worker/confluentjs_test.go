package worker_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
)

const confluentJSScript = `
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
const [url, goID] = process.argv.slice(1);
const registry = new SchemaRegistry({ host: url });
const schema = JSON.stringify({ type: 'record', name: 'Payment', namespace: 'js', fields: [
  { name: 'id', type: 'long' }, { name: 'note', type: 'string', default: '' } ] });
(async () => {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject: 'payments-value' });
  const again = await registry.register({ type: SchemaType.AVRO, schema }, { subject: 'payments-value' });
  const latest = await registry.getLatestSchemaId('payments-value');
  const encoded = await registry.encode(id, { id: 7, note: 'from kafkajs' });
  // A fresh client has no cache: decode reads the schema by id.
  const decoded = await new SchemaRegistry({ host: url }).decode(encoded);
  // A schema that pipectl's client side registered, read by id.
  const goSchema = await registry.getSchema(Number(goID));
  const goBytes = await registry.encode(Number(goID), { id: 9 });
  const goDecoded = await new SchemaRegistry({ host: url }).decode(goBytes);
  console.log(JSON.stringify({ id, again: again.id, latest, encoded: encoded.toString('hex'), decoded, goName: goSchema.name, goDecoded }));
})().catch((e) => { console.error(e); process.exit(1); });
`

// TestConfluentSchemaRegistryJS checks interop with npm's
// @kafkajs/confluent-schema-registry: it registers an Avro schema in a
// worker's registry, encodes and decodes a record with it (reading the
// schema back by id), and reads a schema registered by another client.
func TestConfluentSchemaRegistryJS(t *testing.T) {
	node, err := exec.LookPath("node")
	dir := os.Getenv("PIPECTL_KAFKAJS_DIR")
	if err != nil || dir == "" {
		t.Skip("node or PIPECTL_KAFKAJS_DIR is missing (.ci/run installs @kafkajs/confluent-schema-registry with npm and sets it)")
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@kafkajs", "confluent-schema-registry")); err != nil {
		t.Fatalf("PIPECTL_KAFKAJS_DIR is set but @kafkajs/confluent-schema-registry is not installed in %s: %v", dir, err)
	}
	f := newFixture(t, "srjs")
	url, _ := f.startWorker()
	waitRegistry(t, url)
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	eventually(t, 30*time.Second, "the registry answers", func() (bool, string) {
		_, err := cl.Subjects(ctx)
		return err == nil, ""
	})
	goSS, err := cl.CreateSchema(ctx, "go-value", sr.Schema{Schema: `{"type":"record","name":"FromGo","fields":[{"name":"id","type":"long"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "-e", confluentJSScript, url, strconv.Itoa(goSS.ID))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("node: %v\n%s%s", err, out, stderr)
	}
	var got struct {
		ID, Again, Latest int
		Encoded           string
		Decoded           struct {
			ID   int    `json:"id"`
			Note string `json:"note"`
		}
		GoName    string
		GoDecoded struct {
			ID int `json:"id"`
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	ss, err := cl.SchemaByVersion(ctx, "payments-value", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != ss.ID || got.Again != ss.ID || got.Latest != ss.ID || got.ID == goSS.ID {
		t.Errorf("ids: js register %d, again %d, latest %d; pipectl's registry says %d (and %d for go-value)", got.ID, got.Again, got.Latest, ss.ID, goSS.ID)
	}
	b, err := hex.DecodeString(got.Encoded)
	if err != nil || len(b) < 5 || b[0] != 0 || int(binary.BigEndian.Uint32(b[1:5])) != ss.ID {
		t.Errorf("encoded %q: want magic byte 0 and id %d", got.Encoded, ss.ID)
	}
	if got.Decoded.ID != 7 || got.Decoded.Note != "from kafkajs" || got.GoName != "FromGo" || got.GoDecoded.ID != 9 {
		t.Errorf("decoded %+v, go schema %q, go decoded %+v", got.Decoded, got.GoName, got.GoDecoded)
	}
}
